"""Study: does a network fit then compress? The information plane on the 12-bit task.

Claims tested
-------------
(a) R. Shwartz-Ziv & N. Tishby, "Opening the black box of deep neural networks via information",
    arXiv:1703.00810 (2017): a tanh network 12-10-7-5-4-3-2 trained on their 12-bit task, with
    I(X;T) measured by binning every unit into 30 bins on [-1, 1], first *fits* (I(T;Y) rises) and
    then *compresses* (I(X;T) falls after its peak).
(b) A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018): with
    ReLU hidden layers (bins spanning each layer's range over training) the compression vanishes;
    compression follows the activation (double-sided saturation) and the estimator. The same plane
    is measured on a *noisy* network (Gaussian noise added to every hidden layer during training),
    where I(X;T) is finite and the Kolchinsky--Tracey KDE estimate applies.
(c) Shwartz-Ziv & Tishby: the gradient signal-to-noise ratio ||mean|| / ||std|| of the minibatch
    gradients falls from high (drift) to low (diffusion) around the end of the fitting phase.
(d) Shwartz-Ziv & Tishby: the final layers lie close to the Information Bottleneck bound. The task's
    deterministic labels make that bound the trivial diagonal min(I(X;T), H(Y)), so it is drawn
    for the stochastic-label variant p(y=1|x) = sigmoid(s(x)/T) of the same rule
    (:func:`structlearn.estimators.tishby_joint`), under which the final binned layers are exact
    encoders.

Protocol
--------
The authors' released code (IDNNs) trains with Adam at 4e-4, batch 512, 8000 epochs on 80% of the
4096 inputs and measures on all 4096 at about 270 log-spaced epochs with 30 bins on [-1, 1]; the
paper's text says SGD and 85%. Both are config choices (``training.optimizer``,
``data.train_fraction``; the ``paper_text`` preset); the run's choice is written into the metrics
and the verdicts. Weights start as in IDNNs (truncated normal, std 1/sqrt(fan-in), zero biases) or
PyTorch's default (``network.init``). The output tap is the 2-unit softmax (probabilities lie in
[0, 1], inside the tanh bins).

Compression of a layer is the drop of its I(X;T) from its peak to the last epoch (nats,
:func:`structlearn.analysis.info_plane.compression`), measured per seed and summarised with a
t-interval over seeds; it is never assumed.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict

NETWORKS = ("tanh", "relu", "noisy")
#: how each network is measured: binning (tanh bins on a fixed range, relu on the layer's range)
#: or KDE with the network's own noise variance
ESTIMATOR = {"tanh": "binning", "relu": "binning", "noisy": "kde"}
PAPER_WIDTHS = [12, 10, 7, 5, 4, 3, 2]

SCHEMA = {
    "n_seeds": Field(
        int, 3, low=1, doc="seeds context.seed, context.seed+1, ... (new split, init)"
    ),
    "networks": Field(list, list(NETWORKS), item=str, doc=f"subset of {', '.join(NETWORKS)}"),
    "data": {
        "train_fraction": Field(
            float, 0.8, low=0.05, high=0.95, doc="share of the 4096 inputs trained on (IDNNs 0.8)"
        ),
    },
    "network": {
        "widths": Field(list, PAPER_WIDTHS, item=int, low=1, doc="12 inputs ... 2 outputs"),
        "init": Field(str, "idnns", choices=["idnns", "pytorch"], doc="initial weights"),
    },
    "noisy": {
        "activation": Field(str, "tanh", choices=["tanh", "relu"]),
        "noise_std": Field(
            float, 0.316, low=1e-3, doc="std of the hidden-layer noise (Saxe et al.: var 0.1)"
        ),
    },
    "training": {
        "optimizer": Field(str, "adam", choices=["adam", "sgd"], doc="IDNNs: adam; paper: sgd"),
        "lr": Field(float, 4e-4, low=1e-7),
        "epochs": Field(int, 1500, low=2),
        "batch_size": Field(int, 512, low=2),
        "n_records": Field(int, 60, low=5, doc="log-spaced epochs recorded (IDNNs: ~270)"),
    },
    "binning": {
        "n_bins": Field(int, 30, low=2),
        "tanh_range": Field(list, [-1.0, 1.0], item=float, length=2, doc="bins of tanh layers"),
    },
    "kde": {
        "n_inputs": Field(int, 512, low=16, high=4096, doc="inputs the O(n^2) estimate uses"),
        "n_epochs": Field(int, 20, low=3, doc="recorded epochs it is evaluated at"),
        "bound": Field(str, "upper", choices=["upper", "lower"]),
    },
    "ib": {
        "temperature": Field(float, 0.5, low=1e-3, doc="label noise of the stochastic variant"),
        "n_betas": Field(int, 30, low=3, doc="trade-offs on the IB curve (0.5 to 1000)"),
    },
    "verdict": {
        "compression_tol": Field(float, 0.1, low=0.0, doc="nats a layer must drop by"),
        "min_snr_drop": Field(float, 0.5, low=0.0, doc="decades the SNR level must fall by"),
        "snr_window": Field(
            float, 0.5, low=0.0, doc="decades between SNR transition and end of fitting"
        ),
        "fit_fraction": Field(
            float, 0.9, low=0.1, high=1.0, doc="fitting ends when I(T;Y) reaches this of its max"
        ),
        "ib_gap_fraction": Field(
            float, 0.1, low=0.0, doc="'close to the bound': gap below this share of I(X;Y)"
        ),
    },
}


# ----------------------------------------------------------------------------- config checks
def _check_config(config: dict[str, Any]) -> None:
    nets = config["networks"]
    if not nets or len(set(nets)) != len(nets) or any(n not in NETWORKS for n in nets):
        raise ConfigError(
            f"networks: expected a non-empty subset of {', '.join(NETWORKS)}, got {nets!r}"
        )
    widths = config["network"]["widths"]
    if len(widths) < 3 or widths[0] != 12 or widths[-1] != 2:
        raise ConfigError(
            f"network.widths: expected 12 inputs, at least one hidden layer and 2 outputs "
            f"(the paper: {PAPER_WIDTHS}), got {widths!r}"
        )
    lo, hi = config["binning"]["tanh_range"]
    if not hi > lo:
        raise ConfigError(
            f"binning.tanh_range: expected [low, high] with low < high, got {[lo, hi]}"
        )


# ----------------------------------------------------------------------------- one network
def split_inputs(n_inputs: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and held-out indices: a seeded permutation, the first ``round(f n)`` train.

    >>> tr, te = split_inputs(10, 0.8, 0)
    >>> len(tr), len(te), sorted(np.concatenate([tr, te]).tolist()) == list(range(10))
    (8, 2, True)
    """
    order = np.random.default_rng(seed).permutation(n_inputs)
    k = round(train_fraction * n_inputs)
    return np.sort(order[:k]), np.sort(order[k:])


def idnns_init_(model: Any, seed: int) -> None:
    """IDNNs' initial weights, in place: W ~ truncated normal (std 1/sqrt(fan_in), cut at 2 std),
    b = 0."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.layers:
            std = 1.0 / math.sqrt(layer.in_features)
            torch.nn.init.trunc_normal_(
                layer.weight, 0.0, std, -2.0 * std, 2.0 * std, generator=gen
            )
            if layer.bias is not None:
                layer.bias.zero_()


def _build_model(kind: str, config: dict[str, Any], seed: int) -> Any:
    from structlearn.models.mlp import MLP

    noisy = kind == "noisy"
    model = MLP(
        config["network"]["widths"],
        config["noisy"]["activation"] if noisy else kind,
        noise_std=config["noisy"]["noise_std"] if noisy else 0.0,
        random_state=seed,
    )
    if config["network"]["init"] == "idnns":
        idnns_init_(model, seed)
    return model


def _train(model: Any, task: Any, train_idx: np.ndarray, config: dict[str, Any], seed: int):
    import torch

    from structlearn.objectives.supervised import CrossEntropy
    from structlearn.train import TrainConfig, train

    t = config["training"]
    X = torch.as_tensor(task.X, dtype=torch.float32)
    y = torch.as_tensor(task.y)
    cfg = TrainConfig(
        optimizer=t["optimizer"],
        lr=t["lr"],
        epochs=t["epochs"],
        batch_size=t["batch_size"],
        n_records=t["n_records"],
        activation_dtype="float32",
        record_gradients=True,
        seed=seed,
    )
    idx = torch.as_tensor(train_idx)
    return train(model, CrossEntropy(), (X[idx], y[idx]), eval_data=(X, y), config=cfg)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def analysis_recordings(rec: Any, rows: np.ndarray | None = None, hidden_only: bool = False):
    """The recordings the plane is drawn from: the output tap as softmax probabilities (the
    paper's output layer), optionally only ``rows`` of the inputs and only the hidden layers."""
    from structlearn.analysis.info_plane import recordings_from_arrays

    n = rec.n_layers - 1 if hidden_only else rec.n_layers
    sel = slice(None) if rows is None else rows
    acts = [np.asarray(rec.activations[i][:, sel], dtype=np.float64) for i in range(n)]
    if not hidden_only:
        acts[-1] = _softmax(acts[-1])
    grads = {}
    if rec.gradient_epochs.size:
        grads = dict(
            gradient_mean=rec.gradient_mean[:, :n],
            gradient_std=rec.gradient_std[:, :n],
            gradient_epochs=rec.gradient_epochs,
        )
    return recordings_from_arrays(
        acts, rec.labels[sel], rec.epochs, layer_names=rec.layer_names[:n], **grads
    )


def _analyze(kind: str, rec: Any, model: Any, config: dict[str, Any], seed: int, joint: Any):
    """The plane (with the recorded, deterministic labels, as in the paper) and, for tanh, the
    last epoch's binned layers evaluated exactly under the stochastic-label joint ``joint``."""
    from structlearn.analysis.info_plane import analyze_information_plane

    v = config["verdict"]
    common = dict(compression_tol=v["compression_tol"], min_snr_drop=v["min_snr_drop"])
    if ESTIMATOR[kind] == "binning":
        tanh = kind == "tanh"
        plane_rec = analysis_recordings(rec)
        binning = dict(
            estimator="binning",
            n_bins=config["binning"]["n_bins"],
            value_range=tuple(config["binning"]["tanh_range"]) if tanh else "layer",
        )
        res = analyze_information_plane(plane_rec, **binning, **common)
        if not tanh:
            return res, None
        ib = analyze_information_plane(
            plane_rec,
            **binning,
            epochs=[int(rec.epochs[-1])],
            p_xy=joint,
            ib_betas=np.geomspace(0.5, 1000.0, config["ib"]["n_betas"]),
        )
        return res, ib
    k = config["kde"]
    n_eval = rec.activations[0].shape[1]
    rows = np.sort(np.random.default_rng(seed).choice(n_eval, min(k["n_inputs"], n_eval), False))
    pick = np.unique(np.round(np.linspace(0, rec.epochs.size - 1, k["n_epochs"])).astype(int))
    res = analyze_information_plane(
        analysis_recordings(rec, rows, hidden_only=True),
        estimator="kde",
        noise_variance=list(model.noise_variance),
        kde_bound=k["bound"],
        epochs=rec.epochs[pick],
        **common,
    )
    return res, None


def end_of_fitting(epochs: np.ndarray, i_ty: np.ndarray, fraction: float) -> int:
    """First recorded epoch at which ``i_ty`` reaches ``fraction`` of its maximum.

    >>> end_of_fitting(np.array([0, 10, 100, 1000]), np.array([0.0, 0.3, 0.65, 0.69]), 0.9)
    100
    """
    return int(epochs[np.flatnonzero(i_ty >= fraction * i_ty.max())[0]])


def largest_drop(values: Any) -> float:
    """Largest fall below the running maximum, :math:`\\max_t (\\max_{s \\le t} x_s - x_t)`:
    compression that may be undone later (the peak-to-last drop misses it).

    >>> largest_drop([1.0, 3.0, 2.0, 3.5]), largest_drop([1.0, 2.0, 3.0])
    (1.0, 0.0)
    """
    x = np.asarray(values, dtype=np.float64)
    return float((np.maximum.accumulate(x) - x).max())


def _snr_levels(res: Any) -> tuple[float | None, float | None]:
    """Mean log10 SNR (geometric over layers) before and after the detected transition."""
    if res.transition_epoch is None or res.snr_status != "measured":
        return None, None
    s = np.log10(res.gradient_snr).mean(axis=1)
    late = res.gradient_epochs >= res.transition_epoch
    return float(s[~late].mean()), float(s[late].mean())


def _test_accuracy(model: Any, task: Any, test_idx: np.ndarray) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(task.X[test_idx], dtype=torch.float32))[-1]
    return float((logits.argmax(1).numpy() == task.y[test_idx]).mean())


def _network_metrics(res: Any, ib: Any, model: Any, task: Any, test_idx, fit: dict, cfg) -> dict:
    hidden = [i for i, n in enumerate(res.layer_names) if n != "output"]
    last = hidden[-1]
    fit_end = end_of_fitting(res.epochs, res.I_TY_nats[last], cfg["verdict"]["fit_fraction"])
    early, late = _snr_levels(res)
    m = {
        "estimator": res.estimator,
        "layer_names": res.layer_names,
        "epochs": res.epochs.tolist(),
        "I_XT_nats": res.I_XT_nats.round(6).tolist(),
        "I_TY_nats": res.I_TY_nats.round(6).tolist(),
        "H_X_nats": res.H_X_nats,
        "peak_epoch": res.peak_epoch.tolist(),
        "compression_nats": res.compression_nats.round(6).tolist(),
        "largest_drop_nats": [round(largest_drop(row), 6) for row in res.I_XT_nats],
        "hidden_layers": hidden,
        "fit_gain_nats": float(res.I_TY_nats[last, -1] - res.I_TY_nats[last, 0]),
        "fit_end_epoch": fit_end,
        "gradient_epochs": res.gradient_epochs.tolist(),
        "log10_gradient_snr": np.log10(res.gradient_snr).round(6).tolist(),
        "snr_status": res.snr_status,
        "transition_epoch": res.transition_epoch,
        "transition_epoch_per_layer": res.transition_epoch_per_layer,
        "log10_snr_before": early,
        "log10_snr_after": late,
        "train_accuracy": round(float(fit["train_accuracy"]), 6),
        "test_accuracy": round(_test_accuracy(model, task, test_idx), 6),
    }
    if ib is not None:
        m["ib_points_nats"] = ib.ib_points_nats.round(6).tolist()
        m["ib_gap_nats"] = ib.ib_gap_nats.round(6).tolist()
        m["I_XY_stochastic_nats"] = float(ib.ib.I_XY)
    if res.estimator == "kde":
        m["kde_n_inputs"] = round(math.exp(res.H_X_nats))
    return m


# ----------------------------------------------------------------------------- the study
def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Train every network for every seed, draw its information plane, measure, judge.

    Torch runs on one thread here (the caller's setting is restored): on these tiny networks a
    second thread only adds synchronisation (one check on the 2-core machine: 300 epochs took
    4.4 s of CPU on one thread, 22 s on two; not a benchmark).
    """
    import torch

    _check_config(config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config, context)
    finally:
        torch.set_num_threads(threads)


def _run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    from structlearn.data.tishby import load_tishby_task
    from structlearn.estimators import tishby_joint
    from structlearn.utils.progress import progress

    task = load_tishby_task()
    joint = tishby_joint(config["ib"]["temperature"]) if "tanh" in config["networks"] else None
    per_seed: dict[str, list[dict]] = {k: [] for k in config["networks"]}
    first: dict[str, Any] = {}
    first_ib = None
    timings = {f"{k}_{what}": 0.0 for k in config["networks"] for what in ("train", "analysis")}
    jobs = [(s, k) for s in range(config["n_seeds"]) for k in config["networks"]]
    for s, kind in progress(jobs, desc="networks"):
        seed = context.seed + s
        train_idx, test_idx = split_inputs(task.n_samples, config["data"]["train_fraction"], seed)
        model = _build_model(kind, config, seed)
        t0 = time.perf_counter()
        result = _train(model, task, train_idx, config, seed)
        t1 = time.perf_counter()
        res, ib = _analyze(kind, result.recordings, model, config, seed, joint)
        timings[f"{kind}_train"] += round(t1 - t0, 2)
        timings[f"{kind}_analysis"] += round(time.perf_counter() - t1, 2)
        m = _network_metrics(res, ib, model, task, test_idx, result.final_metrics, config)
        m["seed"] = seed
        m["activation"] = model.activation
        per_seed[kind].append(m)
        if s == 0:
            first[kind] = res
            first_ib = ib if kind == "tanh" else first_ib
    protocol = _protocol(config)
    verdicts = verdicts_from_metrics(per_seed, config["verdict"], protocol)
    return StudyOutput(
        metrics={
            "protocol": protocol,
            "networks": per_seed,
            "summary_by_layer": _by_layer(per_seed),
        },
        figures=_figures(first, first_ib, per_seed, config),
        summary=_summary(per_seed, config["verdict"]["compression_tol"]),
        verdicts=verdicts,
        captions=_captions(config),
        timings=timings,
    )


def _protocol(config: dict[str, Any]) -> dict[str, Any]:
    t = config["training"]
    released = (
        t["optimizer"] == "adam"
        and t["lr"] == 4e-4
        and t["batch_size"] == 512
        and config["data"]["train_fraction"] == 0.8
    )
    text = t["optimizer"] == "sgd" and config["data"]["train_fraction"] == 0.85
    name = "IDNNs release" if released else ("paper's text" if text else "custom")
    if (released or text) and t["epochs"] != 8000:
        name += f" settings, {t['epochs']} epochs (not 8000)"
    return {
        "name": name,
        "optimizer": t["optimizer"],
        "lr": t["lr"],
        "batch_size": t["batch_size"],
        "epochs": t["epochs"],
        "n_records": t["n_records"],
        "train_fraction": config["data"]["train_fraction"],
        "init": config["network"]["init"],
        "n_bins": config["binning"]["n_bins"],
        "line": f"{name}: {t['optimizer']} lr {t['lr']:g}, batch {t['batch_size']}, "
        f"{t['epochs']} epochs, {config['data']['train_fraction']:.0%} of inputs trained on, "
        f"{t['n_records']} log-spaced records, {config['network']['init']} init",
    }


# ----------------------------------------------------------------------------- verdicts
def layer_status(drops: list[float], tol: float) -> str:
    """'compresses' if the t-interval over seeds of the drop lies above ``tol``, 'does not' if it
    lies below, else 'undecided'.

    >>> layer_status([0.5, 0.6, 0.55], 0.1), layer_status([0.0, 0.0], 0.1)
    ('compresses', 'does not')
    """
    iv = mean_interval(drops)
    if iv.low > tol:
        return "compresses"
    if iv.high < tol:
        return "does not"
    return "undecided"


def _layer_table(runs: list[dict], tol: float) -> tuple[list[str], list[str]]:
    """Per hidden layer: status and a 'name: drop [interval]' text."""
    names = runs[0]["layer_names"]
    statuses, texts = [], []
    for i in runs[0]["hidden_layers"]:
        drops = [r["compression_nats"][i] for r in runs]
        statuses.append(layer_status(drops, tol))
        texts.append(f"{names[i]} {mean_interval(drops)}")
    return statuses, texts


def _compression_verdict(runs, tol, claim, expect_compression, fit_required=False) -> Verdict:
    """Three-way rule. Expecting compression: True when at least half of the hidden layers
    compress (and, if ``fit_required``, I(T;Y) of the last hidden layer rose by more than ``tol``
    in every seed); False when fewer than half can. Expecting none: True when every hidden layer
    does not compress, False when any does; None otherwise."""
    statuses, texts = _layer_table(runs, tol)
    n = len(statuses)
    n_yes, n_no = statuses.count("compresses"), statuses.count("does not")
    fit = [r["fit_gain_nats"] for r in runs]
    measured = (
        f"{n_yes} of {n} hidden layers compress, {n_no} do not, {n - n_yes - n_no} undecided "
        "(drop of I(X;T) after its peak, "
        f"nats, mean [95% t-interval] over seeds; a layer compresses when the interval lies above "
        f"{tol:g}): " + "; ".join(texts)
    )
    drops = [
        mean_interval([r["largest_drop_nats"][i] for r in runs]) for i in runs[0]["hidden_layers"]
    ]
    measured += (
        ". Largest transient drop below the running peak (may be undone later): "
        + "; ".join(
            f"{runs[0]['layer_names'][i]} {iv.mean:.3g}"
            for i, iv in zip(runs[0]["hidden_layers"], drops)
        )
    )
    if fit_required:
        measured += f". Fitting: I(T;Y) of the last hidden layer rose by {mean_interval(fit)} nats"
    need = math.ceil(n / 2)
    if expect_compression:
        fitted = all(f > tol for f in fit) if fit_required else True
        held = (
            True if n_yes >= need and fitted else False if n - n_no < need or not fitted else None
        )
    else:
        held = True if n_no == n else False if n_yes > 0 else None
    return Verdict(claim=claim, measured=measured, held=held)


def _snr_verdict(runs: list[dict], window: float, min_drop: float) -> Verdict:
    agree, parts = [], []
    for r in runs:
        t, f = r["transition_epoch"], r["fit_end_epoch"]
        if t is None:
            parts.append(
                f"seed {r['seed']}: no drop of >= {min_drop:g} decades ({r['snr_status']})"
            )
            agree.append(False)
            continue
        gap = abs(math.log10((t + 1) / (f + 1)))
        agree.append(gap <= window)
        parts.append(
            f"seed {r['seed']}: SNR 10^{r['log10_snr_before']:.2f} -> 10^{r['log10_snr_after']:.2f}"
            f" at epoch {t}, fitting ends at epoch {f} ({gap:.2f} decades apart)"
        )
    held = True if all(agree) else False if not any(agree) else None
    return Verdict(
        claim="The gradient SNR falls from high (drift) to low (diffusion) around the end of "
        "fitting (Shwartz-Ziv & Tishby 2017; tanh network; rule: in every seed a one-change-point "
        f"drop of >= {min_drop:g} decades is found within {window:g} decades of the epoch where "
        "I(T;Y) of the last hidden layer reaches its fit fraction)",
        measured="; ".join(parts),
        held=held,
    )


def _ib_verdict(runs: list[dict], frac: float) -> Verdict:
    names = runs[0]["layer_names"]
    hidden = runs[0]["hidden_layers"]
    gaps = {i: mean_interval([r["ib_gap_nats"][i] for r in runs]) for i in range(len(names))}
    i_xy = runs[0]["I_XY_stochastic_nats"]
    last = hidden[-1]
    text = "; ".join(f"{names[i]} {gaps[i]}" for i in gaps)
    return Verdict(
        claim="The final layers lie close to the IB bound (Shwartz-Ziv & Tishby 2017; bound of "
        "the stochastic-label variant; rule: the last hidden layer's gap below the bound is under "
        f"{frac:g} x I(X;Y))",
        measured=f"gap below the bound (nats) per layer at the last epoch, I(X;Y) = {i_xy:.3f}: "
        + text,
        held=bool(gaps[last].mean < frac * i_xy),
    )


def verdicts_from_metrics(
    per_seed: dict[str, list[dict]], v: dict[str, Any], protocol: dict[str, Any]
) -> list[Verdict]:
    """The verdict table from the per-seed metrics (rules in each helper's docstring)."""
    tol = v["compression_tol"]
    out = []
    where = f" [{protocol['line']}]"
    if "tanh" in per_seed:
        out.append(
            _compression_verdict(
                per_seed["tanh"],
                tol,
                "(a) tanh + binning: a fitting phase, then compression (I(X;T) falls after its "
                "peak) -- Shwartz-Ziv & Tishby 2017" + where,
                expect_compression=True,
                fit_required=True,
            )
        )
    if "relu" in per_seed:
        out.append(
            _compression_verdict(
                per_seed["relu"],
                tol,
                "(b) ReLU + binning: the compression vanishes -- Saxe et al. 2018",
                expect_compression=False,
            )
        )
    if "noisy" in per_seed:
        act = per_seed["noisy"][0].get("activation", "tanh")
        out.append(
            _compression_verdict(
                per_seed["noisy"],
                tol,
                f"Noisy {act} network + KDE: compression follows the activation (Saxe et al. "
                f"2018: double-sided saturation compresses, ReLU does not; expected here: "
                f"{'compression' if act == 'tanh' else 'none'})",
                expect_compression=act == "tanh",
            )
        )
    if "tanh" in per_seed:
        out.append(_snr_verdict(per_seed["tanh"], v["snr_window"], v["min_snr_drop"]))
        out.append(_ib_verdict(per_seed["tanh"], v["ib_gap_fraction"]))
    return out


# ----------------------------------------------------------------------------- tables
def _by_layer(per_seed: dict[str, list[dict]]) -> dict[str, Any]:
    out = {}
    for kind, runs in per_seed.items():
        names = runs[0]["layer_names"]
        out[kind] = {
            names[i]: {
                "compression_nats": mean_interval(
                    [r["compression_nats"][i] for r in runs]
                ).to_dict(),
                "final_I_XT_nats": mean_interval([r["I_XT_nats"][i][-1] for r in runs]).to_dict(),
                "final_I_TY_nats": mean_interval([r["I_TY_nats"][i][-1] for r in runs]).to_dict(),
            }
            for i in range(len(names))
        }
    return out


def _summary(per_seed: dict[str, list[dict]], tol: float) -> list[dict[str, Any]]:
    rows = []
    for kind, runs in per_seed.items():
        statuses, _ = _layer_table(runs, tol)
        for j, i in enumerate(runs[0]["hidden_layers"]):
            rows.append(
                {
                    "network": kind,
                    "estimator": runs[0]["estimator"],
                    "layer": runs[0]["layer_names"][i],
                    "peak I(X;T) nats": float(np.mean([max(r["I_XT_nats"][i]) for r in runs])),
                    "final I(X;T) nats": float(np.mean([r["I_XT_nats"][i][-1] for r in runs])),
                    "compression nats": float(np.mean([r["compression_nats"][i] for r in runs])),
                    "largest transient drop nats": float(
                        np.mean([r["largest_drop_nats"][i] for r in runs])
                    ),
                    "status": statuses[j],
                    "test accuracy": float(np.mean([r["test_accuracy"] for r in runs])),
                }
            )
    return rows


# ----------------------------------------------------------------------------- figures
def _figures(first: dict[str, Any], ib: Any, per_seed: dict[str, list[dict]], config) -> dict:
    import matplotlib.pyplot as plt

    kinds = list(first)
    n = len(kinds)
    figs = {}
    fig, axes = plt.subplots(1, n, figsize=(5.6 * n, 4.3), constrained_layout=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        first[kind].plot(ax)
        ax.set_title(f"{kind} ({first[kind].estimator}), seed {per_seed[kind][0]['seed']}")
    figs["information_plane"] = fig

    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.8), constrained_layout=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        first[kind].plot_snr(ax)
        f = per_seed[kind][0]["fit_end_epoch"]
        ax.axvline(f + 1, color="k", ls="--", lw=1, label=f"end of fitting (epoch {f})")
        ax.legend(frameon=False, fontsize="x-small")
        ax.set_title(kind)
    figs["gradient_snr"] = fig

    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.8), constrained_layout=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        runs = per_seed[kind]
        for i, name in enumerate(runs[0]["layer_names"]):
            for j, r in enumerate(runs):
                ax.semilogx(
                    np.asarray(r["epochs"]) + 1,
                    r["I_XT_nats"][i],
                    color=f"C{i}",
                    lw=1.2 if j == 0 else 0.6,
                    alpha=1.0 if j == 0 else 0.45,
                    label=name if j == 0 else None,
                )
        ax.set_xlabel("epoch + 1")
        ax.set_ylabel("I(X;T) [nats]")
        ax.set_title(f"{kind}: I(X;T) per layer (thin: other seeds)", fontsize="small")
        ax.legend(frameon=False, fontsize="x-small")
    figs["ixt_vs_epoch"] = fig

    fig, ax = plt.subplots(figsize=(6.8, 3.8), constrained_layout=True)
    width = 0.8 / n
    tol = config["verdict"]["compression_tol"]
    for k, kind in enumerate(kinds):
        runs = per_seed[kind]
        hidden = runs[0]["hidden_layers"]
        ivs = [mean_interval([r["compression_nats"][i] for r in runs]) for i in hidden]
        x = np.arange(len(hidden)) + (k - (n - 1) / 2) * width
        err = np.array([[iv.mean - iv.low, iv.high - iv.mean] for iv in ivs]).T
        ax.bar(x, [iv.mean for iv in ivs], width, yerr=err, capsize=3, label=kind, color=f"C{k}")
    ax.axhline(tol, color="k", ls=":", lw=1, label=f"tolerance {tol:g} nats")
    ax.set_xticks(np.arange(len(hidden)), [per_seed[kinds[0]][0]["layer_names"][i] for i in hidden])
    ax.set_ylabel("drop of I(X;T) after its peak [nats]")
    ax.legend(frameon=False, fontsize="small")
    figs["compression"] = fig

    if ib is not None:
        figs["ib_bound"] = _ib_figure(ib, first["tanh"].H_Y_nats, per_seed["tanh"])
    return figs


def _ib_figure(res: Any, h_y_labels: float, runs: list[dict]) -> Any:
    import matplotlib.pyplot as plt

    from structlearn.analysis.info_plane import ib_bound_at

    fig, ax = plt.subplots(figsize=(6.0, 4.2), constrained_layout=True)
    xs = np.linspace(0.0, res.H_X_nats, 300)
    ax.plot(xs, ib_bound_at(res.ib, xs), "k-", lw=1.5, label="IB bound (stochastic labels)")
    ax.plot(xs, np.minimum(xs, h_y_labels), color="grey", ls=":", lw=1, label="deterministic")
    for i, name in enumerate(runs[0]["layer_names"]):
        pts = np.array([r["ib_points_nats"][i] for r in runs])
        ax.scatter(pts[:, 0], pts[:, 1], color=f"C{i}", s=28, label=name, zorder=3)
    ax.set_xscale("symlog", linthresh=0.5)
    ax.set_xlabel("I(X;T) [nats] (symlog)")
    ax.set_ylabel("I(T;Y) [nats] under the stochastic labels")
    ax.set_ylim(0, max(h_y_labels, res.ib.I_XY) * 1.1)
    ax.legend(frameon=False, fontsize="x-small", loc="lower right")
    return fig


def _captions(config: dict[str, Any]) -> dict[str, str]:
    b = config["binning"]
    return {
        "information_plane": "Information plane of the first seed: one line per layer, points "
        f"coloured by epoch. tanh: {b['n_bins']} bins on {b['tanh_range']}; relu: {b['n_bins']} "
        "bins over each layer's range during training; noisy: Kolchinsky-Tracey KDE "
        f"({config['kde']['bound']} bound) with the network's noise variance on "
        f"{config['kde']['n_inputs']} inputs. I(T;Y) uses the task's (deterministic) labels.",
        "gradient_snr": "Gradient SNR ||mean|| / ||std|| over the minibatches of an epoch, per "
        "layer; red: the detected drop (one change point in log SNR); dashed: end of fitting.",
        "ixt_vs_epoch": "I(X;T) of every layer vs epoch; compression is a fall after the peak.",
        "compression": "Drop of I(X;T) from its peak to the last epoch per hidden layer, mean and "
        "95% t-interval over seeds.",
        "ib_bound": "Final layers of the tanh network (every seed) as exact encoders under the "
        f"stochastic labels (temperature {config['ib']['temperature']:g}) against the IB bound; "
        "grey: the trivial bound of the deterministic labels.",
    }


class _InformationPlane:
    name = "information_plane"
    summary = "Fitting and compression in the information plane (12-bit task; tanh, ReLU, KDE)"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _InformationPlane()
