"""Figures of the information_plane study (read from the per-seed records; nats throughout)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from structlearn.studies._stats import mean_interval
from structlearn.studies.base import SeedRecord, per_seed


def all_figures(config: dict[str, Any], records: list[SeedRecord]) -> dict[str, tuple[Any, str]]:
    """``name -> (Figure, caption)`` for every figure the study draws."""
    captions = _captions(config)
    kinds = list(config["networks"])
    hidden = [f"hidden_{i + 1}" for i in range(len(config["network"]["hidden"]))]
    figs = {
        "information_plane": planes(records, kinds),
        "gradient_snr": snr(records, kinds),
        "ixt_vs_epoch": ixt_vs_epoch(records, kinds),
        "compression": compression_bars(records, kinds, hidden, config),
        "ib_bound": ib_bound(records),
    }
    return {k: (fig, captions[k]) for k, fig in figs.items()}


def _row(n: int, width: float, height: float) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, n, figsize=(width * n, height), constrained_layout=True, squeeze=False
    )
    return fig, axes[0]


def planes(records: list[SeedRecord], kinds: list[str]) -> Any:
    fig, axes = _row(len(kinds), 5.6, 4.3)
    for ax, kind in zip(axes, kinds, strict=True):
        res = records[0].artefacts[kind]["plane"]
        res.plot(ax)
        ax.set_title(f"{kind} ({res.estimator}), seed {records[0].seed}", fontsize="small")
    return fig


def snr(records: list[SeedRecord], kinds: list[str]) -> Any:
    fig, axes = _row(len(kinds), 5.2, 3.8)
    for ax, kind in zip(axes, kinds, strict=True):
        res = records[0].artefacts[kind]["plane"]
        res.plot_snr(ax)
        hidden = [n for n in res.layer_names if n != "output"]
        f = records[0].metrics[kind]["layers"][hidden[-1]]["fit_end_epoch"]
        ax.axvline(f + 1, color="k", ls="--", lw=1, label=f"end of fitting (epoch {f})")
        ax.legend(frameon=False, fontsize="x-small")
        ax.set_title(kind, fontsize="small")
    return fig


def ixt_vs_epoch(records: list[SeedRecord], kinds: list[str]) -> Any:
    fig, axes = _row(len(kinds), 5.2, 3.8)
    for ax, kind in zip(axes, kinds, strict=True):
        names = list(records[0].metrics[kind]["layers"])
        for j, r in enumerate(records):
            curves = r.metrics[kind]["curves"]
            ep = np.asarray(curves["epochs"]) + 1
            for i, row in enumerate(curves["I_XT_nats"]):
                ax.semilogx(
                    ep,
                    row,
                    color=f"C{i}",
                    lw=1.2 if j == 0 else 0.6,
                    alpha=1.0 if j == 0 else 0.45,
                    label=names[i] if j == 0 else None,
                )
        ax.axhline(records[0].metrics[kind]["H_X_nats"], color="k", ls=":", lw=0.8)
        ax.set_xlabel("epoch + 1")
        ax.set_ylabel("I(X;T) [nats]")
        ax.set_title(f"{kind}: I(X;T) per layer (thin: other seeds)", fontsize="small")
        ax.legend(frameon=False, fontsize="x-small")
    return fig


def compression_bars(
    records: list[SeedRecord], kinds: list[str], hidden: list[str], config: dict[str, Any]
) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.8, 3.8), constrained_layout=True)
    width = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        x = np.arange(len(hidden)) + (k - (len(kinds) - 1) / 2) * width
        vals = [per_seed(records, f"{kind}.layers.{n}.compression_nats") for n in hidden]
        means = [v.mean() for v in vals]
        err = [(iv.mean - iv.low) if (iv := mean_interval(v)).n > 1 else 0.0 for v in vals]
        ax.bar(x, means, width, yerr=err, capsize=3, label=kind, color=f"C{k}")
        for p, v in zip(x, vals, strict=True):
            ax.plot(np.full(v.size, p), v, "k.", ms=3)
    tol = config["verdict"]["compression_tol"]
    ax.axhline(tol, color="k", ls=":", lw=1, label=f"tolerance {tol:g} nats")
    ax.set_xticks(np.arange(len(hidden)), hidden)
    ax.set_ylabel("drop of I(X;T) after its peak [nats]")
    ax.legend(frameon=False, fontsize="small")
    return fig


def ib_bound(records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    from structlearn.analysis.info_plane import ib_bound_at

    res = records[0].artefacts["tanh"]["ib"]
    h_y = records[0].metrics["tanh"]["H_Y_nats"]
    fig, ax = plt.subplots(figsize=(6.0, 4.2), constrained_layout=True)
    xs = np.linspace(0.0, res.H_X_nats, 300)
    ax.plot(xs, ib_bound_at(res.ib, xs), "k-", lw=1.5, label="IB bound (stochastic labels)")
    ax.plot(xs, np.minimum(xs, h_y), color="grey", ls=":", lw=1, label="deterministic labels")
    for i, name in enumerate(res.layer_names):
        layer = [r.metrics["tanh"]["ib"]["layers"][name] for r in records]
        pts = np.array([[p["ib_I_XT_nats"], p["ib_I_TY_nats"]] for p in layer])
        ax.scatter(pts[:, 0], pts[:, 1], color=f"C{i}", s=28, label=name, zorder=3)
        lefts = pts[:, 0] - np.array([p["ib_excess_nats"] for p in layer])
        ax.hlines(pts[:, 1], lefts, pts[:, 0], color=f"C{i}", lw=0.8, alpha=0.6)
    i_xy = res.ib.I_XY
    ax.scatter([res.H_X_nats], [i_xy], marker="*", s=90, color="k", zorder=4, label="T = X")
    ax.set_xscale("symlog", linthresh=0.5)
    ax.set_xlabel("I(X;T) [nats] (symlog)")
    ax.set_ylabel("I(T;Y) [nats] under the stochastic labels")
    ax.set_ylim(0, max(h_y, res.ib.I_XY) * 1.1)
    ax.legend(frameon=False, fontsize="x-small", loc="lower right")
    return fig


def _captions(config: dict[str, Any]) -> dict[str, str]:
    b, k = config["binning"], config["kde"]
    return {
        "information_plane": "Information plane of the first seed: one line per layer, points "
        f"coloured by epoch, I in nats. tanh: {b['n_bins']} equal bins on {b['tanh_range']} (IDNNs "
        f"cuts [-1, 1] at {b['n_bins']} edges, {b['n_bins'] - 1} bins: the alternative); relu: "
        f"{b['n_bins']} bins over each layer's range during training (Saxe et al.: 100, the "
        "alternative); both bounded by log 4096 = 8.32 nats (KDE with noise variance "
        f"{config['alternatives']['kde_noise_variance']:g} on {k['n_inputs']} inputs: the other "
        f"alternative). noisy: Kolchinsky-Tracey KDE ({k['bound']} bound) with the network's noise "
        f"variance on {k['n_inputs']} inputs, bounded by log {k['n_inputs']} = "
        f"{math.log(k['n_inputs']):.2f} nats. I(T;Y) uses the task's (deterministic) labels.",
        "gradient_snr": "Gradient SNR ||mean|| / ||std|| over the minibatches of an epoch, per "
        "layer; red: the detected drop (one change point in log SNR); dashed: end of fitting.",
        "ixt_vs_epoch": "I(X;T) of every layer vs epoch (nats; thick: first seed, thin: others); "
        "compression is a fall after the peak. Binning is bounded by log 4096 = 8.32 nats.",
        "compression": "Drop of I(X;T) from its peak to the last epoch per hidden layer (nats; "
        "binning for tanh and relu, KDE for noisy): mean and 95% t-interval over seeds, every "
        "seed as a dot. A layer whose I(X;T) stays within "
        f"{config['verdict']['ceiling_margin']:g} nats of its ceiling log n all run cannot "
        "register a larger drop and is not judged.",
        "ib_bound": "Every layer of the tanh network at the last epoch (every seed) as an exact "
        f"binned encoder ({config['binning']['n_bins']} bins on {config['binning']['tanh_range']}) "
        f"under the stochastic labels (temperature {config['ib']['temperature']:g}) against the "
        "IB curve (nats); the horizontal segment from each point is its excess I(X;T) beyond the "
        "least any encoder needs for its I(T;Y); star: the identity encoder T = X (vertical gap "
        "0, the largest excess); grey: the trivial bound of the deterministic labels. I(X;T) is "
        "bounded by log 4096 = 8.32 nats.",
    }
