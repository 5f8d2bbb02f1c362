"""Study: does a network fit then compress? The information plane on the 12-bit task.

Claims tested
-------------
(a) R. Shwartz-Ziv & N. Tishby, "Opening the black box of deep neural networks via information",
    arXiv:1703.00810 (2017): a tanh network 12-10-7-5-4-3-2 trained on their 12-bit task, with
    I(X;T) measured by binning every unit into 30 bins on [-1, 1], first *fits* (I(T;Y) rises) and
    then *compresses* (I(X;T) falls after its peak).
(b) A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018): with
    ReLU hidden layers (bins spanning each layer's range over training) the compression vanishes;
    compression follows the activation (double-sided saturation). The same plane is measured on a
    *noisy* network (Gaussian noise added to every hidden layer during training), where I(X;T) is
    finite and the Kolchinsky--Tracey KDE estimate applies.
(c) Shwartz-Ziv & Tishby: the gradient signal-to-noise ratio ||mean|| / ||std|| of the minibatch
    gradients falls from high (drift) to low (diffusion) around the end of the fitting phase.
(d) Shwartz-Ziv & Tishby: the final layers lie close to the Information Bottleneck bound, drawn for
    the stochastic-label variant p(y=1|x) = sigmoid(s(x)/T) of the task's rule (with deterministic
    labels the bound is the trivial diagonal), under which the binned layers are exact encoders.

Protocol
--------
The authors' released code (IDNNs) trains with Adam at 4e-4, batch 512, 8000 epochs on 80% of the
4096 inputs and measures on all 4096 at about 270 log-spaced epochs with 30 bins on [-1, 1]; the
paper's text says SGD and 85% (the ``paper_text`` preset). Weights start as in IDNNs (truncated
normal, std 1/sqrt(fan-in), zero biases) or PyTorch's default (``network.init``). The output tap
is the 2-unit softmax. Every seed's networks of one kind are trained in one call
(:meth:`InformationPlaneStudy.measure_seeds`); the analyzer is
:func:`structlearn.analysis.info_plane.analyze_information_plane`, whose declared scalars are
stored verbatim.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.studies._information_plane_figures import all_figures
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    interval_below,
    seeds_where,
)

NETWORKS = ("tanh", "relu", "noisy")
N_INPUTS, N_CLASSES = 12, 2
ST17 = "Shwartz-Ziv & Tishby 2017"
SAXE18 = "Saxe et al. 2018"

SCHEMA = {
    **seeds_fragment(3, high=100),
    "networks": Field(
        list, list(NETWORKS), item=str, subset_of=NETWORKS, unique=True, low=1, doc="trained"
    ),
    "data": {
        "train_fraction": Field(
            float, 0.8, low=0.05, high=0.95, doc="share of the 4096 inputs trained on (IDNNs 0.8)"
        ),
    },
    "network": {
        "hidden": Field(
            list, [10, 7, 5, 4, 3], item=int, low=1, high=1024, doc="hidden widths (12 in, 2 out)"
        ),
        "init": Field(str, "idnns", choices=["idnns", "pytorch"], doc="initial weights"),
    },
    "noisy": {
        "activation": Field(str, "tanh", choices=["tanh", "relu"]),
        "noise_std": Field(
            float, 0.316, low=1e-3, high=10.0, doc="hidden-layer noise (Saxe et al.: var 0.1)"
        ),
    },
    "training": {
        **training_fragment(optimizer="adam", lr=4e-4, epochs=1500, batch_size=512, n_records=60),
    },
    "binning": {
        "n_bins": Field(int, 30, low=2, high=10**4),
        "tanh_range": Field(list, [-1.0, 1.0], item=float, interval=True, doc="tanh layers' bins"),
    },
    "kde": {
        "n_inputs": Field(int, 512, low=16, high=4096, doc="inputs the O(n^2) estimate uses"),
        "n_epochs": Field(int, 20, low=3, high=10**4, doc="recorded epochs it is evaluated at"),
        "bound": Field(str, "upper", choices=["upper", "lower"]),
    },
    "ib": {
        "temperature": Field(float, 0.5, low=1e-3, high=100.0, doc="label noise of the variant"),
        "n_betas": Field(int, 30, low=3, high=1000, doc="trade-offs on the IB curve (0.5-1000)"),
    },
    "verdict": {
        "compression_tol": Field(float, 0.1, low=0.0, high=10.0, doc="nats a layer must drop by"),
        "min_snr_drop": Field(float, 0.5, low=0.0, high=10.0, doc="decades the SNR must fall"),
        "snr_window": Field(
            float, 0.5, low=0.0, high=10.0, doc="decades between SNR drop and end of fitting"
        ),
        "fit_fraction": Field(
            float, 0.9, low=0.1, high=1.0, doc="fitting ends when I(T;Y) reaches this of its max"
        ),
        "ib_gap_fraction": Field(
            float, 0.1, low=0.0, high=1.0, doc="'close to the bound': gap below this x I(X;Y)"
        ),
    },
}


# ----------------------------------------------------------------------------- networks
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


def build_model(kind: str, config: dict[str, Any], seed: int) -> Any:
    """The ``kind`` network of ``seed`` (an :class:`~structlearn.models.mlp.MLP`), untrained."""
    from structlearn.models.mlp import MLP

    noisy = kind == "noisy"
    model = MLP(
        [N_INPUTS, *config["network"]["hidden"], N_CLASSES],
        config["noisy"]["activation"] if noisy else kind,
        noise_std=config["noisy"]["noise_std"] if noisy else 0.0,
        random_state=seed,
    )
    if config["network"]["init"] == "idnns":
        idnns_init_(model, seed)
    return model


def train_networks(kind: str, config: dict[str, Any], seeds: Sequence[int], task: Any) -> list:
    """Train the ``kind`` network of every seed; ``[(model, TrainResult), ...]`` in seed order.

    Each seed has its own split (:func:`split_inputs`), initial weights and minibatch order;
    every network is recorded on all 4096 inputs.
    """
    import torch

    from structlearn.objectives.supervised import CrossEntropy
    from structlearn.train import TrainConfig, train

    X = torch.as_tensor(task.X, dtype=torch.float32)
    y = torch.as_tensor(task.y)
    out = []
    for seed in seeds:
        idx = torch.as_tensor(split_inputs(len(y), config["data"]["train_fraction"], seed)[0])
        model = build_model(kind, config, seed)
        cfg = TrainConfig.from_section(
            config["training"], seed=seed, activation_dtype="float32", record_gradients=True
        )
        out.append(
            (model, train(model, CrossEntropy(), (X[idx], y[idx]), eval_data=(X, y), config=cfg))
        )
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def plane_recordings(rec: Any) -> Any:
    """The recordings with the output tap as softmax probabilities (the paper's output layer)."""
    from structlearn.recordings import Recordings

    acts = list(rec.activations)
    acts[-1] = _softmax(np.asarray(acts[-1], dtype=np.float64))
    return Recordings(**{**vars(rec), "activations": type(rec.activations)(acts, rec.layer_names)})


def _test_accuracy(model: Any, task: Any, test_idx: np.ndarray) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(task.X[test_idx], dtype=torch.float32))[-1]
    return float((logits.argmax(1).numpy() == task.y[test_idx]).mean())


# ----------------------------------------------------------------------------- the study
class InformationPlaneStudy(Study):
    """Fitting and compression in the information plane (12-bit task; tanh, ReLU, noisy KDE)."""

    name = "information_plane"
    summary = "Fitting and compression in the information plane (12-bit task; tanh, ReLU, KDE)"
    schema = SCHEMA
    threads = 1  # tiny networks: a second thread only adds synchronisation
    batch_seeds = True

    def prepare(self, config: dict[str, Any]) -> dict[str, Any]:
        from structlearn.data.tishby import load_tishby_task
        from structlearn.data.tishby_rule import tishby_joint

        nets = config["networks"]
        if "tanh" not in nets:
            raise ConfigError(
                f"networks: the ReLU and noisy claims use the tanh network as their control and "
                f"the IB and SNR claims are about it; include 'tanh', got {nets!r}"
            )
        if not config["network"]["hidden"]:
            raise ConfigError("network.hidden: expected at least one hidden width, got []")
        return {"task": load_tishby_task(), "joint": tishby_joint(config["ib"]["temperature"])}

    # ---- measure every seed ----------------------------------------------------------------

    def measure_seeds(
        self, config: dict[str, Any], seeds: Sequence[int], shared: Any
    ) -> list[SeedResult]:
        task = shared["task"]
        metrics: list[dict[str, Any]] = [{} for _ in seeds]
        artefacts: list[dict[str, Any]] = [{} for _ in seeds]
        for kind in config["networks"]:
            for i, (seed, (model, result)) in enumerate(
                zip(seeds, train_networks(kind, config, seeds, task), strict=True)
            ):
                m, art = self._measure_network(kind, model, result, config, seed, shared)
                metrics[i][kind] = m
                artefacts[i][kind] = art
        return [SeedResult(m, a) for m, a in zip(metrics, artefacts, strict=True)]

    def _measure_network(self, kind, model, result, config, seed, shared) -> tuple[dict, Any]:
        from structlearn.analysis.info_plane import analyze_information_plane

        v = config["verdict"]
        common = dict(
            compression_tol=v["compression_tol"],
            min_snr_drop=v["min_snr_drop"],
            fit_fraction=v["fit_fraction"],
        )
        rec = result.recordings
        if kind == "noisy":
            k = config["kde"]
            rows = np.random.default_rng(seed).choice(rec.labels.size, k["n_inputs"], False)
            pick = np.linspace(0, rec.epochs.size - 1, k["n_epochs"]).round().astype(int)
            sub = rec.subset(
                layers=range(rec.n_layers - 1),
                rows=np.sort(rows),
                epochs=rec.epochs[np.unique(pick)],
            )
            res = analyze_information_plane(
                sub,
                estimator="kde",
                noise_variance=list(model.noise_variance),
                kde_bound=k["bound"],
                **common,
            )
        else:
            res = analyze_information_plane(
                plane_recordings(rec), estimator="binning", **self._binning(kind, config), **common
            )
        split = split_inputs(rec.labels.size, config["data"]["train_fraction"], seed)
        m = {
            **res.summary(),
            "layers": res.layer_summaries(),
            "curves": res.curves(),
            "train_accuracy": float(result.final_metrics["train_accuracy"]),
            "test_accuracy": _test_accuracy(model, shared["task"], split[1]),
        }
        art = {"plane": res}
        if kind == "tanh":
            ib = analyze_information_plane(
                plane_recordings(rec),
                **self._binning(kind, config),
                epochs=[int(rec.epochs[-1])],
                p_xy=shared["joint"],
                ib_betas=np.geomspace(0.5, 1000.0, config["ib"]["n_betas"]),
            )
            m["ib"] = {**ib.summary(), "layers": ib.layer_summaries()}
            art["ib"] = ib
        return m, art

    @staticmethod
    def _binning(kind: str, config: dict[str, Any]) -> dict[str, Any]:
        b = config["binning"]
        return {
            "n_bins": b["n_bins"],
            "value_range": tuple(b["tanh_range"]) if kind == "tanh" else "layer",
        }

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        v = config["verdict"]
        tol = v["compression_tol"]
        hidden = _hidden_names(config)
        out = [_compression_claim("tanh", hidden, tol, True, ST17, "tanh + binning")]
        if "relu" in config["networks"]:
            out.append(_compression_claim("relu", hidden, tol, False, SAXE18, "ReLU + binning"))
        if "noisy" in config["networks"]:
            act = config["noisy"]["activation"]
            out.append(
                _compression_claim(
                    "noisy", hidden, tol, act == "tanh", SAXE18, f"noisy {act} + KDE"
                )
            )
        out.append(_snr_claim(config, hidden))
        out.append(_ib_claim(config, hidden))
        return out

    # ---- table and figures -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        tol = config["verdict"]["compression_tol"]
        for kind in config["networks"]:
            for name in _hidden_names(config):
                key = f"{kind}.layers.{name}"
                drops = per_seed(records, f"{key}.compression_nats")
                rows.append(
                    {
                        "network": kind,
                        "layer": name,
                        "peak I(X;T) nats": seed_summary(
                            per_seed(records, f"{key}.peak_I_XT_nats")
                        ),
                        "final I(X;T) nats": seed_summary(
                            per_seed(records, f"{key}.final_I_XT_nats")
                        ),
                        "drop after peak nats": seed_summary(drops),
                        f"seeds with drop > {tol:g}": f"{int((drops > tol).sum())} of {drops.size}",
                        "train accuracy": seed_summary(per_seed(records, f"{kind}.train_accuracy")),
                    }
                )
        return rows

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"protocol": protocol(config)}

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return all_figures(config, records, _captions(config))


# ----------------------------------------------------------------------------- claims
def _hidden_names(config: dict[str, Any]) -> list[str]:
    return [f"hidden_{i + 1}" for i in range(len(config["network"]["hidden"]))]


def _layer_values(m: dict, kind: str, hidden: list[str], key: str) -> np.ndarray:
    return np.array([m[kind]["layers"][n][key] for n in hidden], dtype=np.float64)


def _share_compressing(kind: str, hidden: list[str], tol: float, key: str) -> Measure:
    return Measure(
        lambda m: float((_layer_values(m, kind, hidden, key) > tol).mean()),
        f"share of {kind}'s hidden layers whose {key.replace('_nats', '')} exceeds {tol:g} nats",
        "fraction",
    )


def _max_drop(kind: str, hidden: list[str], key: str = "compression_nats") -> Measure:
    return Measure(
        lambda m: float(_layer_values(m, kind, hidden, key).max()),
        f"largest {key.replace('_nats', '')} over {kind}'s hidden layers",
        "nats",
    )


def _fit_gain(kind: str, last: str) -> Measure:
    def gain(m: dict) -> float:
        ity = m[kind]["curves"]["I_TY_nats"]
        row = m[kind]["layers"]
        i = list(row).index(last)
        return float(ity[i][-1] - ity[i][0])

    return Measure(gain, f"rise of I(T;Y) of {kind}'s {last}", "nats")


def _frozen_share(kind: str) -> Measure:
    """The untrained network: its weights never change, so its plane is epoch 0's throughout."""
    return Measure(lambda m: 0.0 * m[kind]["H_X_nats"], f"untrained {kind} network", "fraction")


def _compression_claim(kind, hidden, tol, expect, paper, what) -> Claim:
    premise = Premise(
        f"{kind} fits: I(T;Y) of {hidden[-1]} rises by more than {tol:g} nats",
        _fit_gain(kind, hidden[-1]),
        all_above(tol),
    )
    if expect:
        return Claim(
            text=f"{what}: a fitting phase, then compression (at least half of the hidden layers "
            f"lose more than {tol:g} nats of I(X;T) after its peak)",
            paper=paper,
            measurement=_share_compressing(kind, hidden, tol, "compression_nats"),
            rule=seeds_where(lambda v: v >= 0.5, "have at least half of the layers compressing"),
            premise=premise,
            alternatives=[Alternative(_share_compressing(kind, hidden, tol, "largest_drop_nats"))],
            controls=[Control("untrained network", _frozen_share(kind))],
        )
    return Claim(
        text=f"{what}: the compression vanishes (no hidden layer loses more than {tol:g} nats of "
        "I(X;T) after its peak)",
        paper=paper,
        measurement=_max_drop(kind, hidden),
        rule=all_below(tol),
        premise=premise,
        alternatives=[Alternative(_max_drop(kind, hidden, "largest_drop_nats"))],
        controls=[
            Control("tanh network (compresses, Shwartz-Ziv & Tishby)", _max_drop("tanh", hidden))
        ],
    )


def _snr_gap(to: str) -> Measure:
    """Decades between the SNR drop and ``to`` (no drop found: the whole recorded span)."""

    def gap(m: dict) -> float:
        t = m["tanh"]
        epochs = t["curves"]["epochs"]
        last = list(t["layers"])[-2]
        ref = {"fit": t["layers"][last]["fit_end_epoch"], "middle": math.sqrt(epochs[-1] + 1) - 1}
        if t["transition_epoch"] is None:
            return math.log10(epochs[-1] + 1)
        return abs(math.log10((t["transition_epoch"] + 1) / (ref[to] + 1)))

    label = {"fit": "the end of fitting", "middle": "the middle of training (log axis)"}[to]
    return Measure(gap, f"decades between the SNR drop and {label}", "decades")


def _snr_claim(config: dict[str, Any], hidden: list[str]) -> Claim:
    v = config["verdict"]
    return Claim(
        text="The gradient SNR falls from high (drift) to low (diffusion) around the end of "
        f"fitting (tanh network; a one-change-point drop of >= {v['min_snr_drop']:g} decades "
        f"within {v['snr_window']:g} decades of the epoch where I(T;Y) of {hidden[-1]} reaches "
        f"{v['fit_fraction']:g} of its max)",
        paper=ST17,
        measurement=_snr_gap("fit"),
        rule=all_below(v["snr_window"]),
        premise=Premise(
            "gradient statistics were recorded over minibatches (the SNR exists)",
            Measure(lambda m: float(m["tanh"]["curves"]["log10_gradient_snr"] is not None), "SNR"),
            all_above(0.5),
        ),
        alternatives=[Alternative(_snr_gap("fit"))],
        controls=[Control("the middle of training", _snr_gap("middle"))],
    )


def _ib_gap(layer: str) -> Measure:
    return Measure(
        f"tanh.ib.layers.{layer}.ib_gap_nats", f"{layer}'s gap below the IB bound", "nats"
    )


def _ib_claim(config: dict[str, Any], hidden: list[str]) -> Claim:
    from structlearn.data.tishby_rule import tishby_joint
    from structlearn.estimators import mutual_information_of_joint

    i_xy = mutual_information_of_joint(tishby_joint(config["ib"]["temperature"]))
    frac = config["verdict"]["ib_gap_fraction"]
    tol = config["verdict"]["compression_tol"]
    return Claim(
        text=f"The final layers lie close to the IB bound (vertical gap of {hidden[-1]} below "
        f"{frac:g} x I(X;Y) = {frac * i_xy:.3g} nats; stochastic labels, T = "
        f"{config['ib']['temperature']:g})",
        paper=ST17,
        measurement=_ib_gap(hidden[-1]),
        rule=interval_below(frac * i_xy),
        premise=Premise(
            f"tanh fits: I(T;Y) of {hidden[-1]} rises by more than {tol:g} nats",
            _fit_gain("tanh", hidden[-1]),
            all_above(tol),
        ),
        alternatives=[Alternative(_ib_gap("output"))],
        controls=[
            Control(
                "identity encoder T = X",
                Measure("tanh.ib.identity_ib_gap_nats", "the identity encoder's gap", "nats"),
            )
        ],
    )


# ----------------------------------------------------------------------------- protocol, captions
def protocol(config: dict[str, Any]) -> dict[str, Any]:
    """Which protocol ran (IDNNs release, the paper's text, or custom), in one line and fields."""
    t = config["training"]
    frac = config["data"]["train_fraction"]
    released = t["optimizer"] == "adam" and t["lr"] == 4e-4 and t["batch_size"] == 512
    released = released and frac == 0.8
    text = t["optimizer"] == "sgd" and frac == 0.85
    name = "IDNNs release" if released else ("paper's text" if text else "custom")
    if (released or text) and t["epochs"] != 8000:
        name += f" settings, {t['epochs']} epochs (not 8000)"
    return {
        "name": name,
        **{k: t[k] for k in ("optimizer", "lr", "batch_size", "epochs", "n_records")},
        "train_fraction": frac,
        "init": config["network"]["init"],
        "n_bins": config["binning"]["n_bins"],
        "line": f"{name}: {t['optimizer']} lr {t['lr']:g}, batch {t['batch_size']}, "
        f"{t['epochs']} epochs, {frac:.0%} of inputs trained on, {t['n_records']} log-spaced "
        f"records, {config['network']['init']} init",
    }


def _captions(config: dict[str, Any]) -> dict[str, str]:
    b, k = config["binning"], config["kde"]
    return {
        "information_plane": "Information plane of the first seed: one line per layer, points "
        f"coloured by epoch, I in nats. tanh: {b['n_bins']} bins on {b['tanh_range']}; relu: "
        f"{b['n_bins']} bins over each layer's range during training; both bounded by log 4096 "
        f"= 8.32 nats. noisy: Kolchinsky-Tracey KDE ({k['bound']} bound) with the network's noise "
        f"variance on {k['n_inputs']} inputs, bounded by log {k['n_inputs']} = "
        f"{math.log(k['n_inputs']):.2f} nats. I(T;Y) uses the task's (deterministic) labels.",
        "gradient_snr": "Gradient SNR ||mean|| / ||std|| over the minibatches of an epoch, per "
        "layer; red: the detected drop (one change point in log SNR); dashed: end of fitting.",
        "ixt_vs_epoch": "I(X;T) of every layer vs epoch (nats; thick: first seed, thin: others); "
        "compression is a fall after the peak. Binning is bounded by log 4096 = 8.32 nats.",
        "compression": "Drop of I(X;T) from its peak to the last epoch per hidden layer (nats): "
        "mean and 95% t-interval over seeds, every seed as a dot.",
        "ib_bound": "Final layers of the tanh network (every seed) as exact binned encoders under "
        f"the stochastic labels (temperature {config['ib']['temperature']:g}) against the IB "
        "bound (nats); grey: the trivial bound of the deterministic labels.",
    }


STUDY = InformationPlaneStudy()
