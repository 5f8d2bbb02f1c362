"""Study: does the entropy of random-network features predict linear accuracy on them?

Claim (the random-weight line of work the project's seeds follow: Jarrett, Kavukcuoglu, Ranzato &
LeCun 2009, "What is the best multi-stage architecture for object recognition?"; Saxe, Koh, Chen,
Bhand, Suresh & Ng 2011, "On random weights and unsupervised feature learning"; read through the
InfoMax principle of Linsker 1988): among networks with random, untrained weights, those whose
features carry more entropy give a linear classifier more to work with, so entropy and held-out
linear accuracy are positively rank-correlated.

Per seed, ``networks.n_networks`` random fully connected networks are drawn (depth, width,
activation, weight and bias scale from the config) and applied to standardised digits (or MNIST
images read from ``data.directory``); :func:`structlearn.analysis.random_networks.
analyze_random_networks` gives each network's feature entropy (Gaussian, log-determinant, after
per-unit standardisation, in nats) and the held-out accuracy of a logistic regression on them,
and Spearman's rho with a bootstrap interval over networks. Wider networks have both more entropy
(more units) and more linear capacity, so the same correlation is also reported with the entropy
per unit, which removes the width from the entropy side.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict

MEASURES = ("gaussian", "marginal", "total_correlation")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")

SCHEMA = {
    "n_seeds": Field(int, 3, low=1, doc="seeds context.seed, +1, ...: new networks and split"),
    "data": {
        "directory": Field(
            str, "", doc="folder with MNIST IDX files; empty: scikit-learn's bundled digits"
        ),
        "n_samples": Field(int, 5000, low=20, doc="samples used at most (a seeded subset)"),
    },
    "networks": {
        "n_networks": Field(int, 40, low=3, doc="random networks per seed"),
        "depth": Field(list, [1, 2, 3], item=int, low=1, doc="choices, drawn uniformly"),
        "width": Field(list, [16, 32, 64, 128], item=int, low=1, doc="choices, drawn uniformly"),
        "activation": Field(list, ["relu", "tanh", "sigmoid"], item=str, doc="choices"),
        "weight_scale": Field(
            list, [0.1, 10.0], item=float, length=2, low=1e-6, doc="log-uniform range"
        ),
        "bias_scale": Field(list, [0.0, 0.5], item=float, length=2, low=0.0, doc="uniform range"),
    },
    "entropy": {"measure": Field(str, "gaussian", choices=list(MEASURES))},
    "probe": {
        "test_size": Field(float, 0.25, low=0.05, high=0.9),
        "C": Field(float, 1.0, low=1e-6, doc="inverse L2 strength of the logistic regression"),
    },
    "bootstrap": {
        "n_bootstrap": Field(int, 1000, low=10, doc="resamples of the networks for rho"),
        "confidence": Field(float, 0.95, low=0.5, high=0.999),
    },
}


def _check_config(config: dict[str, Any]) -> None:
    net = config["networks"]
    bad = [a for a in net["activation"] if a not in ACTIVATIONS]
    if bad or not net["activation"]:
        raise ConfigError(
            f"networks.activation: expected a non-empty list from {', '.join(ACTIVATIONS)}, "
            f"got {net['activation']!r}"
        )
    for key in ("depth", "width"):
        if not net[key]:
            raise ConfigError(f"networks.{key}: expected a non-empty list of choices, got []")
    for key in ("weight_scale", "bias_scale"):
        lo, hi = net[key]
        if hi < lo:
            raise ConfigError(
                f"networks.{key}: expected [low, high] with low <= high, got {net[key]}"
            )


def load_data(config: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Images (n_samples, n_pixels) in [0, 1], labels and the data set's name; a seeded subset of
    at most ``data.n_samples``. MNIST's training split when ``data.directory`` is set."""
    from structlearn.data.vision import load_digits_data, load_mnist

    directory = config["data"]["directory"]
    if directory:
        try:
            data = load_mnist(directory, "train", dtype=np.float32)
        except ValueError as exc:
            raise ConfigError(f"data.directory: could not read MNIST there ({exc})") from None
    else:
        data = load_digits_data()
    n = min(config["data"]["n_samples"], data.X.shape[0])
    rows = np.sort(np.random.default_rng(seed).choice(data.X.shape[0], n, replace=False))
    return np.asarray(data.X[rows], dtype=np.float64), data.y[rows], data.name


def _per_unit(res: Any, n_bootstrap: int, confidence: float, seed: int) -> Any:
    """The same networks with entropy per (non-constant) unit: a RandomNetworks with its rho."""
    from structlearn.analysis.random_networks import spearman_interval

    ent = res.entropy_nats / np.maximum(res.n_dims, 1)
    ok = np.isfinite(ent)
    rho, lo, hi = spearman_interval(
        ent[ok],
        res.test_accuracy[ok],
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        random_state=seed,
    )
    return dataclasses.replace(
        res, entropy_nats=ent, per_unit=True, spearman=rho, spearman_interval=[lo, hi]
    )


def _seed_metrics(res: Any) -> dict[str, Any]:
    ent = [None if not np.isfinite(e) else round(float(e), 6) for e in res.entropy_nats]
    return {
        "spearman": round(float(res.spearman), 6),
        "spearman_interval": [round(float(v), 6) for v in res.spearman_interval],
        "entropy_nats": ent,
    }


def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Draw random networks per seed, measure entropy and linear accuracy, correlate."""
    from structlearn.analysis.random_networks import analyze_random_networks
    from structlearn.utils.progress import progress

    _check_config(config)
    net = {k: v for k, v in config["networks"].items() if k != "n_networks"}
    b = config["bootstrap"]
    per_seed, first, timings = [], {}, {"analysis": 0.0}
    for s in progress(range(config["n_seeds"]), desc="seeds"):
        seed = context.seed + s
        X, y, name = load_data(config, seed)
        t0 = time.perf_counter()
        res = analyze_random_networks(
            X,
            y,
            net,
            n_networks=config["networks"]["n_networks"],
            entropy=config["entropy"]["measure"],
            test_size=config["probe"]["test_size"],
            C=config["probe"]["C"],
            n_bootstrap=b["n_bootstrap"],
            confidence=b["confidence"],
            random_state=seed,
        )
        unit = _per_unit(res, b["n_bootstrap"], b["confidence"], seed)
        timings["analysis"] += round(time.perf_counter() - t0, 2)
        per_seed.append(
            {
                "seed": seed,
                "data": name,
                "n_samples": len(y),
                "n_train": res.n_train,
                "n_test": res.n_test,
                "chance_accuracy": res.chance_accuracy,
                "architectures": res.architectures,
                "n_dims": res.n_dims.tolist(),
                "test_accuracy": res.test_accuracy.round(6).tolist(),
                "train_accuracy": res.train_accuracy.round(6).tolist(),
                "total": _seed_metrics(res),
                "per_unit": _seed_metrics(unit),
            }
        )
        if s == 0:
            first = {"total": res, "per_unit": unit}
    verdicts = verdicts_from_metrics(per_seed, config["entropy"]["measure"], b["confidence"])
    return StudyOutput(
        metrics={"per_seed": per_seed, "entropy_estimator": first["total"].entropy_estimator},
        figures=_figures(first, per_seed),
        summary=_summary(per_seed),
        verdicts=verdicts,
        captions=_captions(config),
        timings=timings,
    )


# ----------------------------------------------------------------------------- verdicts
def correlation_verdict(per_seed: list[dict], key: str, claim: str, conf: float) -> Verdict:
    """Rule: held when every seed's bootstrap interval of rho lies above 0 (positive), False
    when any lies below 0, None otherwise (some interval holds 0: not decided)."""
    rhos = [p[key]["spearman"] for p in per_seed]
    ivs = [p[key]["spearman_interval"] for p in per_seed]
    above = [lo > 0 for lo, _ in ivs]
    below = [hi < 0 for _, hi in ivs]
    parts = [
        f"seed {p['seed']}: rho {r:.3f} [{lo:.3f}, {hi:.3f}]"
        for p, r, (lo, hi) in zip(per_seed, rhos, ivs, strict=True)
    ]
    excl = sum(a or b for a, b in zip(above, below, strict=True))
    measured = (
        f"Spearman rho over {len(per_seed[0]['test_accuracy'])} networks per seed, "
        f"{conf:.0%} bootstrap interval over networks: "
        + "; ".join(parts)
        + f". Mean over seeds {mean_interval(rhos)}; the interval excludes 0 in {excl} of "
        f"{len(ivs)} seeds"
    )
    held = True if all(above) else False if any(below) else None
    return Verdict(claim=claim, measured=measured, held=held)


def verdicts_from_metrics(per_seed: list[dict], measure: str, conf: float) -> list[Verdict]:
    """Total entropy and entropy per unit, each against held-out linear accuracy."""
    data = per_seed[0]["data"]
    base = (
        "Random networks whose features have higher entropy give higher linear-probe accuracy "
        f"(positive rank correlation; random-weight features, Jarrett et al. 2009, Saxe et al. "
        f"2011, read through InfoMax) on {data}"
    )
    return [
        correlation_verdict(per_seed, "total", f"{base}: {measure} entropy of the features", conf),
        correlation_verdict(
            per_seed,
            "per_unit",
            f"{base}: {measure} entropy per unit (width removed from the entropy side)",
            conf,
        ),
    ]


def _summary(per_seed: list[dict]) -> list[dict[str, Any]]:
    rows = []
    for key, label in (("total", "entropy"), ("per_unit", "entropy per unit")):
        rhos = [p[key]["spearman"] for p in per_seed]
        iv = mean_interval(rhos)
        rows.append(
            {
                "x": label,
                "y": "held-out linear accuracy",
                "rho (mean over seeds)": iv.mean,
                "t-interval low": iv.low,
                "t-interval high": iv.high,
                "seeds whose bootstrap interval > 0": sum(
                    p[key]["spearman_interval"][0] > 0 for p in per_seed
                ),
                "seeds": len(per_seed),
            }
        )
    return rows


# ----------------------------------------------------------------------------- figures
def _figures(first: dict[str, Any], per_seed: list[dict]) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    figs = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    first["total"].plot(axes[0])
    first["per_unit"].plot(axes[1])
    axes[0].set_title("total entropy; " + axes[0].get_title(), fontsize="small")
    axes[1].set_title("entropy per unit; " + axes[1].get_title(), fontsize="small")
    figs["entropy_vs_accuracy"] = fig

    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    for k, (key, label) in enumerate((("total", "entropy"), ("per_unit", "entropy per unit"))):
        x = np.arange(len(per_seed)) + (k - 0.5) * 0.25
        rho = np.array([p[key]["spearman"] for p in per_seed])
        iv = np.array([p[key]["spearman_interval"] for p in per_seed])
        ax.errorbar(x, rho, yerr=[rho - iv[:, 0], iv[:, 1] - rho], fmt="o", capsize=4, label=label)
    ax.axhline(0.0, color="k", lw=1)
    ax.set_xticks(np.arange(len(per_seed)), [f"seed {p['seed']}" for p in per_seed])
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("Spearman rho (entropy, accuracy)")
    ax.legend(frameon=False, fontsize="small")
    figs["rho_by_seed"] = fig

    fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    p = per_seed[0]
    widths = np.array([a["width"] for a in p["architectures"]])
    for i, w in enumerate(sorted(set(widths.tolist()))):
        sel = widths == w
        ent = np.array([np.nan if e is None else e for e in p["total"]["entropy_nats"]])[sel]
        ax.scatter(ent, np.asarray(p["test_accuracy"])[sel], s=18, color=f"C{i}", label=f"{w}")
    ax.set_xlabel("feature entropy [nats]")
    ax.set_ylabel("linear held-out accuracy")
    ax.legend(title="width", frameon=False, fontsize="small")
    figs["by_width"] = fig
    return figs


def _captions(config: dict[str, Any]) -> dict[str, str]:
    m = config["entropy"]["measure"]
    return {
        "entropy_vs_accuracy": f"One point per random network (first seed): {m} entropy of its "
        "features (nats; left: total, right: per non-constant unit) against the held-out "
        "accuracy of a logistic regression on them.",
        "rho_by_seed": "Spearman rho per seed with its bootstrap interval over networks.",
        "by_width": "The first seed's networks coloured by width: total entropy grows with the "
        "number of units, and so does linear capacity.",
    }


class _RandomNetworks:
    name = "random_networks"
    summary = "Entropy of random-network features vs linear accuracy (digits or MNIST)"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _RandomNetworks()
