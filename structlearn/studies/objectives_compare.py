r"""Study: one MLP, four objectives. Accuracy, ΔR, information of the last hidden layer, label noise.

The same network ``n_features -> width -> t_dim`` (both layers with the same activation; the
``t_dim`` layer is :math:`T`, the last hidden layer) is trained end to end under

- **cross-entropy** (``ce``): a linear readout ``t_dim -> n_classes`` on :math:`T`;
- **MCR²** (``mcr2``; Yu, Chan, You, Song & Ma 2020, "Learning diverse and discriminative
  representations via the principle of maximal coding rate reduction"): maximise ΔR of :math:`T`
  (projected on the sphere); classified by **nearest class subspace** of the training features;
- **variational IB** (``vib``; Alemi, Fischer, Dillon & Murphy 2017): the Gaussian encoder of
  :class:`~structlearn.objectives.bottleneck.VariationalIB` *is* the ``width -> t_dim`` layer (so
  the network has the same shape), :math:`T` is its mean code, loss CE + β·KL;
- **nonlinear IB** (``nib``; Kolchinsky, Tracey & Wolpert 2019): Gaussian noise of variance
  :math:`\sigma^2` on :math:`T` during training, loss CE + β·Î_KDE(X;T)
  (:class:`~structlearn.objectives.bottleneck.NonlinearIB`).

β weights the compression term (larger β compresses more), the convention of
:mod:`structlearn.objectives.bottleneck`. VIB and NIB classify with their decoders' ``predict``.

Measured on the clean test split (every number in nats):

- test accuracy, and the share of *corrupted* training labels the model reproduces (memorisation);
- ΔR of :math:`T` (:func:`~structlearn.objectives.coding_rate.rate_reduction`, features projected
  on the sphere, true test labels, ε of ``mcr2.eps``);
- :math:`I(X;T)` and :math:`I(T;Y)` of :math:`T`. A deterministic network on distinct inputs has
  :math:`I(X;T) = H(T)`, infinite for continuous :math:`T`; the default estimator makes it finite
  by a stated noise channel, :math:`T + \mathcal N(0, \sigma^2 I)` with the Kolchinsky–Tracey
  pairwise bounds (:func:`structlearn.estimators.kde_mi_bounds`), σ² = ``information.
  noise_variance`` times the mean per-unit variance of :math:`T` (``relative``; scale-free, since
  MCR² ignores the scale of its features) or in absolute units. The test inputs are taken as
  equally likely, so :math:`I(X;T) \le \log n_\mathrm{test}` and :math:`I(T;Y) \le H(Y)`: both
  saturate when σ is small against the distances between points. The bias of :math:`I(T;Y)` is shown
  by its permutation baseline (labels shuffled). ``binning`` (equal-width bins on each layer's range,
  :math:`I(X;T) = H(\mathrm{bins}(T))`) is offered too.

Label noise: a fraction ``p`` of the *training* labels (exactly ``round(p·n)``, chosen uniformly)
is replaced by a different class drawn uniformly; the test labels stay clean.

Claims checked: MCR²'s features are more robust to label noise than cross-entropy's (Yu et al.
2020), MCR² yields a larger ΔR than cross-entropy (Yu et al. 2020), and the IB objectives lower
:math:`I(X;T)` against cross-entropy (Alemi et al. 2017; Kolchinsky et al. 2019). Rule
(:func:`verdicts`): held when the 95% interval over seeds of the paired difference lies in the
claimed direction, not held when its mean does not, undecided (None) otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict
from structlearn.studies.layerwise_vs_backprop import (
    DATASETS,
    Split,
    cpu_settings,
    load_dataset,
    nearest_subspace_predict,
    sphere,
    stratified_split,
    taps_of,
    train_mlp,
)
from structlearn.utils.validation import check_labels, check_random_state, check_scalar

OBJECTIVES = ("ce", "mcr2", "vib", "nib")
LABELS = {
    "ce": "cross-entropy",
    "mcr2": "MCR² (nearest subspace)",
    "vib": "variational IB",
    "nib": "nonlinear IB",
}

SCHEMA = {
    "n_seeds": Field(int, 3, low=1, doc="seeds context.seed, +1, ...: split, init, label noise"),
    "data": {
        "dataset": Field(str, "digits", choices=list(DATASETS)),
        "test_size": Field(float, 0.25, low=0.05, high=0.9, doc="stratified test fraction"),
    },
    "objectives": Field(list, list(OBJECTIVES), item=str, doc=f"subset of {', '.join(OBJECTIVES)}"),
    "label_noise": Field(
        list, [0.0, 0.2, 0.4], item=float, low=0.0, high=0.9, doc="training-label noise rates"
    ),
    "mlp": {
        "width": Field(int, 128, low=1, doc="units of the first hidden layer"),
        "t_dim": Field(int, 32, low=1, doc="units of the last hidden layer T"),
        "activation": Field(str, "tanh", choices=["tanh", "relu", "sigmoid"]),
        "epochs": Field(int, 100, low=1),
        "batch_size": Field(int, 128, low=2, doc="minibatch (capped at the training-set size)"),
        "lr": Field(float, 1e-3, low=1e-8, doc="Adam learning rate"),
    },
    "mcr2": {"eps": Field(float, 0.7071, low=1e-6, doc="ε of MCR² and of the ΔR measured")},
    "vib": {"beta": Field(float, 1e-3, low=0.0, doc="weight of KL (Alemi et al.: 1e-3)")},
    "nib": {
        "beta": Field(float, 0.1, low=0.0, doc="weight of the KDE I(X;T) bound"),
        "noise_variance": Field(float, 1.0, low=1e-8, doc="σ² of the training noise on T"),
    },
    "information": {
        "estimator": Field(str, "kde", choices=["kde", "binning"]),
        "noise": Field(str, "relative", choices=["relative", "absolute"], doc="KDE σ² units"),
        "noise_variance": Field(float, 1.0, low=1e-8, doc="KDE σ² (x mean unit variance if rel.)"),
        "n_bins": Field(int, 30, low=2, doc="bins per unit (binning)"),
        "n_shuffles": Field(int, 5, low=1, doc="label permutations of the I(T;Y) baseline"),
    },
}


# ------------------------------------------------------------------------------- label noise


def corrupt_labels(
    y: np.ndarray, rate: float, n_classes: int, random_state: int | np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Replace exactly ``round(rate * n)`` labels, chosen uniformly, by a different random class.

    Returns the noisy labels (n_samples,) and the boolean mask of corrupted samples.

    >>> y = np.zeros(10, dtype=int)
    >>> noisy, flipped = corrupt_labels(y, 0.3, 3, 0)
    >>> int(flipped.sum()), bool(np.all(noisy[flipped] != 0)), bool(np.all(noisy[~flipped] == 0))
    (3, True, True)
    """
    y = check_labels(y, "y", n_classes=n_classes)
    check_scalar(rate, "rate", low=0.0, high=1.0)
    check_scalar(n_classes, "n_classes", kind=int, low=2)
    rng = check_random_state(random_state)
    flipped = np.zeros(y.size, dtype=bool)
    flipped[rng.choice(y.size, size=round(rate * y.size), replace=False)] = True
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, n_classes, size=flipped.sum())) % n_classes
    return noisy, flipped


# ------------------------------------------------------------------------------------ training


@dataclass
class Trained:
    """Last hidden layer T (train and test, (n, t_dim)) and the class predictions of one model."""

    T_train: np.ndarray
    T_test: np.ndarray
    pred_train: np.ndarray
    pred_test: np.ndarray


def _argmax(logits: Any) -> np.ndarray:
    return logits.detach().argmax(1).numpy()


def _fit_objective(name: str, s: Split, y_train: np.ndarray, cfg: dict, seed: int) -> Trained:
    """Train the shared MLP under objective ``name`` on (X_train, y_train) and read T."""
    import torch

    from structlearn.models.mlp import MLP
    from structlearn.objectives.bottleneck import NonlinearIB, VariationalIB
    from structlearn.objectives.coding_rate import MaximalCodingRateReduction
    from structlearn.objectives.supervised import CrossEntropy

    m, d, k = cfg["mlp"], s.X_train.shape[1], s.n_classes
    act = m["activation"]
    if name == "ce":
        model = MLP([d, m["width"], m["t_dim"], k], act, random_state=seed)
        train_mlp(model, CrossEntropy(), s.X_train, y_train, m, seed)
        (tr, te) = (taps_of(model, X) for X in (s.X_train, s.X_test))
        return Trained(tr[-2], te[-2], tr[-1].argmax(1), te[-1].argmax(1))
    if name == "mcr2":
        model = MLP([d, m["width"], m["t_dim"]], act, output_activation=act, random_state=seed)
        objective = MaximalCodingRateReduction(eps=cfg["mcr2"]["eps"], n_classes=k)
        train_mlp(model, objective, s.X_train, y_train, m, seed)
        T_train, T_test = (taps_of(model, X)[-1] for X in (s.X_train, s.X_test))
        Ztr = sphere(T_train)
        pred = [nearest_subspace_predict(Ztr, y_train, sphere(T)) for T in (T_train, T_test)]
        return Trained(T_train, T_test, *pred)
    if name == "vib":
        model = MLP([d, m["width"]], act, output_activation=act, random_state=seed)
        objective = VariationalIB(
            m["width"], m["t_dim"], k, beta=cfg["vib"]["beta"], random_state=seed
        )
    else:
        model = MLP([d, m["width"], m["t_dim"]], act, output_activation=act, random_state=seed)
        c = cfg["nib"]
        objective = NonlinearIB(
            m["t_dim"], k, beta=c["beta"], noise_variance=c["noise_variance"], random_state=seed
        )
    train_mlp(model, objective, s.X_train, y_train, m, seed)
    model.eval()
    objective.eval()
    out = []
    with torch.no_grad():
        for X in (s.X_train, s.X_test):
            taps = model(torch.as_tensor(X, dtype=torch.float32))
            T = objective.encode(taps[-1])[0] if name == "vib" else taps[-1]
            out.append((T.double().numpy(), _argmax(objective.predict(taps))))
    return Trained(out[0][0], out[1][0], out[0][1], out[1][1])


# ---------------------------------------------------------------------------------- measuring


def kde_variance(T: np.ndarray, info: dict[str, Any]) -> float:
    """σ² of the KDE channel: absolute, or times the mean per-unit variance of T (n, t_dim)."""
    if info["noise"] == "absolute":
        return float(info["noise_variance"])
    unit_var = float(np.mean(np.var(T, axis=0)))
    if unit_var <= 0:
        return float(info["noise_variance"])  # a constant layer: any σ² gives I = 0
    return float(info["noise_variance"] * unit_var)


def layer_information(T: np.ndarray, y: np.ndarray, info: dict[str, Any], seed: int) -> dict:
    """I(X;T) and I(T;Y) (nats) of T (n_samples, n_units) on equally likely inputs, + baselines.

    >>> T = np.repeat(np.eye(2), 50, axis=0) * 10.0
    >>> y = np.repeat([0, 1], 50)
    >>> out = layer_information(T, y, {"estimator": "binning", "n_bins": 2, "n_shuffles": 2}, 0)
    >>> round(out["I_XT_nats"], 4), round(out["I_TY_nats"], 4)
    (0.6931, 0.6931)
    """
    from structlearn.estimators import binning_entropy, kde_mi_bounds, mutual_information

    n = T.shape[0]
    out: dict[str, Any] = {"log_n_test_nats": float(np.log(n))}
    p = np.bincount(y) / n
    out["H_Y_nats"] = float(-np.sum(p[p > 0] * np.log(p[p > 0])))
    if info["estimator"] == "kde":
        var = kde_variance(T, info)
        b = kde_mi_bounds(T, y, var)
        out.update(
            kde_noise_variance=var,
            I_XT_nats=b["I_XT_upper_nats"],
            I_XT_lower_nats=b["I_XT_lower_nats"],
            I_TY_nats=b["I_TY_upper_nats"],
            I_TY_lower_nats=b["I_TY_lower_nats"],
        )
        opts = {"noise_variance": var}
    else:
        out["I_XT_nats"] = binning_entropy(T, n_bins=info["n_bins"])
        opts = {"n_bins": info["n_bins"]}
    est = mutual_information(
        T,
        y,
        info["estimator"],
        return_baseline=True,
        n_shuffles=info["n_shuffles"],
        n_bootstrap=0,
        random_state=seed,
        **opts,
    )
    out.setdefault("I_TY_nats", est.value)
    out["I_TY_null_mean_nats"], out["I_TY_null_sd_nats"] = est.null_mean, est.null_std
    return out


def delta_r(T: np.ndarray, y: np.ndarray, n_classes: int, eps: float) -> float:
    """ΔR (nats) of T (n_samples, n_features) projected on the sphere, with hard labels y."""
    import torch

    from structlearn.objectives.coding_rate import rate_reduction

    out = rate_reduction(
        torch.as_tensor(T, dtype=torch.float64),
        torch.as_tensor(y),
        eps,
        normalize=True,
        n_classes=n_classes,
    )
    return float(out.deltaR)


def _measure(t: Trained, s: Split, y_noisy: np.ndarray, flipped: np.ndarray, cfg, seed) -> dict:
    out = {
        "test_accuracy": float(np.mean(t.pred_test == s.y_test)),
        "train_accuracy_noisy_labels": float(np.mean(t.pred_train == y_noisy)),
        "memorised_corrupted_share": (
            float(np.mean(t.pred_train[flipped] == y_noisy[flipped])) if flipped.any() else None
        ),
        "delta_R_nats": delta_r(t.T_test, s.y_test, s.n_classes, cfg["mcr2"]["eps"]),
    }
    out.update(layer_information(t.T_test, s.y_test, cfg["information"], seed))
    return out


# ------------------------------------------------------------------------------------- the run


def _check_config(config: dict[str, Any]) -> None:
    obj = config["objectives"]
    if not obj or any(o not in OBJECTIVES for o in obj) or len(set(obj)) != len(obj):
        raise ConfigError(
            f"objectives: expected a non-empty subset of {', '.join(OBJECTIVES)} without repeats, "
            f"got {obj!r}"
        )
    rates = config["label_noise"]
    if not rates or len(set(rates)) != len(rates):
        raise ConfigError(f"label_noise: expected distinct rates in [0, 0.9], got {rates!r}")


def _run_seed(
    s: Split, config: dict, seed: int, timings: dict, examples: dict | None = None
) -> dict[str, dict[str, dict]]:
    """Metrics per noise rate (key ``str(p)``) and objective for one split; with ``examples``
    given, the test features T of the first noise rate are kept there (for the figures)."""
    out: dict[str, dict[str, dict]] = {}
    for i, rate in enumerate(config["label_noise"]):
        noise_seed = seed * 1000 + i
        y_noisy, flipped = corrupt_labels(s.y_train, rate, s.n_classes, noise_seed)
        out[str(rate)] = {}
        for name in config["objectives"]:
            t0 = time.process_time()
            trained = _fit_objective(name, s, y_noisy, config, seed)
            timings[f"noise{rate}/{name}/seed{seed}_cpu_s"] = round(time.process_time() - t0, 3)
            out[str(rate)][name] = _measure(trained, s, y_noisy, flipped, config, seed)
            if examples is not None and i == 0:
                examples[name] = (trained.T_test, s.y_test)
    return out


def _aggregate(per_seed: list[dict], config: dict) -> dict[str, dict[str, dict]]:
    """Mean and interval over seeds of every scalar, per noise rate and objective."""
    agg: dict[str, dict[str, dict]] = {}
    for rate in per_seed[0]:
        agg[rate] = {}
        for name in config["objectives"]:
            keys = [k for k, v in per_seed[0][rate][name].items() if isinstance(v, float)]
            agg[rate][name] = {
                k: mean_interval([s[rate][name][k] for s in per_seed]).to_dict()
                for k in keys
                if all(s[rate][name][k] is not None for s in per_seed)
            }
    return agg


def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Train the MLP under each objective at each label-noise rate for ``n_seeds`` splits."""
    from structlearn.utils.progress import progress

    _check_config(config)
    config = {**config, "label_noise": [float(r) for r in config["label_noise"]]}
    X, y = load_dataset(config["data"]["dataset"])
    seeds = [context.seed + i for i in range(config["n_seeds"])]
    per_seed, timings, examples = [], {}, {}
    with cpu_settings():
        for seed in progress(seeds, desc="seeds"):
            s = stratified_split(X, y, config["data"]["test_size"], seed)
            keep = examples if seed == seeds[0] else None
            per_seed.append(_run_seed(s, config, seed, timings, keep))
    agg = _aggregate(per_seed, config)
    metrics = {
        "seeds": seeds,
        "dataset": config["data"]["dataset"],
        "n_test": int(s.y_test.size),
        "per_seed": per_seed,
        "aggregate": agg,
        "paired": paired_comparisons(per_seed, config),
    }
    return StudyOutput(
        metrics=metrics,
        figures=_figures(agg, examples, config),
        summary=_summary(agg),
        verdicts=verdicts(metrics["paired"]),
        captions=_captions(config),
        timings=timings,
    )


# ----------------------------------------------------------------------------------- verdicts


def _paired(per_seed: list[dict], fn) -> dict[str, float] | None:
    try:
        return mean_interval([fn(s) for s in per_seed]).to_dict()
    except KeyError:
        return None


def paired_comparisons(per_seed: list[dict], config: dict[str, Any]) -> dict[str, Any]:
    """Per-seed paired differences behind the verdicts (intervals over seeds)."""
    rates = [str(r) for r in config["label_noise"]]
    clean = str(0.0) if 0.0 in config["label_noise"] else None
    acc = "test_accuracy"
    out: dict[str, Any] = {"robustness": {}}
    if clean is not None:
        for r in rates:
            if r == clean:
                continue

            def drop(s, o, r=r):
                return s[clean][o][acc] - s[r][o][acc]

            out["robustness"][r] = {
                "ce_drop": _paired(per_seed, lambda s, drop=drop: drop(s, "ce")),
                "mcr2_drop": _paired(per_seed, lambda s, drop=drop: drop(s, "mcr2")),
                "ce_minus_mcr2_drop": _paired(
                    per_seed, lambda s, drop=drop: drop(s, "ce") - drop(s, "mcr2")
                ),
                "mcr2_minus_ce_accuracy": _paired(
                    per_seed, lambda s, r=r: s[r]["mcr2"][acc] - s[r]["ce"][acc]
                ),
            }
    ref = clean or rates[0]
    out["reference_noise"] = ref
    out["mcr2_minus_ce_delta_R"] = _paired(
        per_seed, lambda s: s[ref]["mcr2"]["delta_R_nats"] - s[ref]["ce"]["delta_R_nats"]
    )
    for ib in ("vib", "nib"):
        out[f"ce_minus_{ib}_I_XT"] = _paired(
            per_seed, lambda s, ib=ib: s[ref]["ce"]["I_XT_nats"] - s[ref][ib]["I_XT_nats"]
        )
    return out


def decide(diff: dict[str, float] | None) -> bool | None:
    """Held (True) if the interval of a difference claimed positive lies above 0; not held
    (False) if its mean is <= 0; undecided (None) if the mean is > 0 but the interval reaches 0
    (or there is no difference: an objective not run, one seed)."""
    if diff is None:
        return None
    if diff["mean"] <= 1e-12:  # zero up to rounding counts as no difference
        return False
    return True if diff["n"] >= 2 and diff["low"] > 0 else None


def _iv(d: dict[str, float]) -> str:
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def verdicts(paired: dict[str, Any]) -> list[Verdict]:
    """Verdicts from :func:`paired_comparisons`; the rule is :func:`decide`."""
    out = []
    for rate, r in paired.get("robustness", {}).items():
        if r["ce_minus_mcr2_drop"] is None:
            continue
        out.append(
            Verdict(
                claim=f"MCR²-trained features are more robust to label noise than cross-entropy "
                f"(Yu et al. 2020): at {float(rate):.0%} noisy training labels MCR² loses less "
                "test accuracy than CE",
                measured=f"accuracy drop from clean: CE {_iv(r['ce_drop'])}, MCR² "
                f"{_iv(r['mcr2_drop'])}; CE drop − MCR² drop {_iv(r['ce_minus_mcr2_drop'])}; "
                f"MCR² − CE accuracy at this noise {_iv(r['mcr2_minus_ce_accuracy'])}",
                held=decide(r["ce_minus_mcr2_drop"]),
            )
        )
    ref = float(paired["reference_noise"])
    if paired.get("mcr2_minus_ce_delta_R") is not None:
        out.append(
            Verdict(
                claim="MCR² features have a larger rate reduction ΔR than cross-entropy features "
                f"(Yu et al. 2020), test set, {ref:.0%} label noise",
                measured=f"ΔR(MCR²) − ΔR(CE) = {_iv(paired['mcr2_minus_ce_delta_R'])} nats",
                held=decide(paired["mcr2_minus_ce_delta_R"]),
            )
        )
    papers = {"vib": "Alemi et al. 2017", "nib": "Kolchinsky et al. 2019"}
    for ib, paper in papers.items():
        d = paired.get(f"ce_minus_{ib}_I_XT")
        if d is None:
            continue
        out.append(
            Verdict(
                claim=f"The {ib.upper()} objective compresses: its T carries less I(X;T) than "
                f"cross-entropy's ({paper}), {ref:.0%} label noise",
                measured=f"I(X;T) of CE − {ib.upper()} = {_iv(d)} nats",
                held=decide(d),
            )
        )
    return out


# ------------------------------------------------------------------------------------- outputs


def _summary(agg: dict[str, dict[str, dict]]) -> list[dict[str, Any]]:
    rows = []
    for rate, objs in agg.items():
        for name, m in objs.items():
            mem = m.get("memorised_corrupted_share")
            rows.append(
                {
                    "label noise": float(rate),
                    "objective": name,
                    "test accuracy": m["test_accuracy"]["mean"],
                    "95% CI": f"[{m['test_accuracy']['low']:.3f}, {m['test_accuracy']['high']:.3f}]",
                    "ΔR (nats)": m["delta_R_nats"]["mean"],
                    "I(X;T) (nats)": m["I_XT_nats"]["mean"],
                    "I(T;Y) (nats)": m["I_TY_nats"]["mean"],
                    "I(T;Y) null (nats)": m["I_TY_null_mean_nats"]["mean"],
                    "corrupted labels fit": "" if mem is None else round(mem["mean"], 3),
                }
            )
    return rows


def _captions(config: dict[str, Any]) -> dict[str, str]:
    info = config["information"]
    if info["estimator"] == "kde":
        how = f"KDE (Kolchinsky–Tracey upper bound) with σ² = {info['noise_variance']:g}" + (
            " × the layer's mean unit variance" if info["noise"] == "relative" else ""
        )
    else:
        how = f"binning, {info['n_bins']} equal-width bins on each layer's range"
    return {
        "accuracy_vs_noise": "Clean test accuracy against the share of corrupted training labels "
        "(mean over seeds, band: 95% t-interval).",
        "information_plane": f"I(X;T) and I(T;Y) of the last hidden layer T on the test set, {how}"
        "; dashed: the ceilings log n_test and H(Y); crosses: I(T;Y) with shuffled labels "
        "(the estimator's floor). Marker size grows with label noise.",
        "delta_R": "Rate reduction ΔR (nats) of T on the test set (sphere-projected, true labels), "
        "mean and 95% t-interval over seeds.",
        "feature_similarity": "|cos| between test features T, samples sorted by class (first "
        "seed, first noise rate): MCR² aims at orthogonal class subspaces (block diagonal).",
    }


def _figures(agg: dict, examples: dict, config: dict) -> dict[str, Any]:
    return {
        "accuracy_vs_noise": _plot_noise(agg, config),
        "information_plane": _plot_plane(agg, config),
        "delta_R": _plot_delta_r(agg, config),
        "feature_similarity": _plot_similarity(examples),
    }


def _plot_noise(agg: dict, config: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.8), constrained_layout=True)
    rates = [float(r) for r in agg]
    for i, name in enumerate(config["objectives"]):
        m = [agg[r][name]["test_accuracy"] for r in agg]
        ax.plot(rates, [v["mean"] for v in m], "o-", color=f"C{i}", label=LABELS[name])
        low, high = np.clip([v["low"] for v in m], 0, 1), np.clip([v["high"] for v in m], 0, 1)
        ax.fill_between(rates, low, high, color=f"C{i}", alpha=0.15)
    ax.set_xlabel("share of corrupted training labels")
    ax.set_ylabel("test accuracy (clean labels)")
    ax.legend(frameon=False, fontsize="small")
    return fig


def _plot_plane(agg: dict, config: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.2), constrained_layout=True)
    first = next(iter(agg.values()))[config["objectives"][0]]
    ax.axvline(first["log_n_test_nats"]["mean"], color="grey", ls="--", lw=1)
    ax.axhline(first["H_Y_nats"]["mean"], color="grey", ls="--", lw=1)
    for j, rate in enumerate(agg):
        for i, name in enumerate(config["objectives"]):
            m = agg[rate][name]
            x, y = m["I_XT_nats"], m["I_TY_nats"]
            ax.errorbar(
                x["mean"],
                y["mean"],
                xerr=[[x["mean"] - x["low"]], [x["high"] - x["mean"]]],
                fmt="o",
                ms=4 + 3 * j,
                color=f"C{i}",
                alpha=0.85,
                label=LABELS[name] if j == 0 else None,
            )
            ax.plot(x["mean"], m["I_TY_null_mean_nats"]["mean"], "x", color=f"C{i}")
    ax.set_xlabel("I(X;T) (nats)")
    ax.set_ylabel("I(T;Y) (nats)")
    ax.legend(frameon=False, fontsize="small", loc="center left")
    return fig


def _plot_delta_r(agg: dict, config: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.6), constrained_layout=True)
    names = config["objectives"]
    width = 0.8 / len(agg)
    for j, rate in enumerate(agg):
        v = [agg[rate][n]["delta_R_nats"] for n in names]
        x = np.arange(len(names)) + (j - (len(agg) - 1) / 2) * width
        err = [[a["mean"] - a["low"] for a in v], [a["high"] - a["mean"] for a in v]]
        ax.bar(x, [a["mean"] for a in v], width, yerr=err, capsize=2, label=f"noise {rate}")
    ax.set_xticks(range(len(names)), [LABELS[n] for n in names], rotation=15, fontsize="small")
    ax.set_ylabel("ΔR of T (nats)")
    ax.legend(frameon=False, fontsize="small")
    return fig


def _plot_similarity(examples: dict):
    import matplotlib.pyplot as plt

    n = len(examples)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), constrained_layout=True, squeeze=False)
    for ax, (name, (T, y)) in zip(axes[0], examples.items()):
        order = np.argsort(y, kind="stable")
        Z = sphere(T[order])
        im = ax.imshow(np.abs(Z @ Z.T), cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(LABELS[name], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="|cos|")
    return fig


class _ObjectivesCompare:
    name = "objectives_compare"
    summary = "One MLP under CE, MCR², VIB and NIB: accuracy, ΔR, I(X;T), I(T;Y), label noise"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _ObjectivesCompare()
