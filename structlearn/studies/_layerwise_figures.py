"""Figures of the layerwise_vs_backprop study (kept beside it to keep the study file short)."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.studies._stats import mean_interval
from structlearn.studies.base import SeedRecord


def data_key(name: str) -> str:
    from structlearn.studies.layerwise_vs_backprop import data_key as key

    return key(name)


LABELS = {
    "linear_svm": "linear SVM",
    "rbf_svm": "RBF SVM",
    "r2svm": "R²SVM",
    "redunet": "ReduNet (nearest subspace)",
    "sparse_coding": "sparse-coding stack + linear SVM",
    "mlp_ce": "MLP, cross-entropy",
    "mlp_mcr2": "MLP, MCR² (nearest subspace)",
}


def _panels(n: int, width: float = 4.2, height: float = 3.4):
    import matplotlib.pyplot as plt

    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), constrained_layout=True, squeeze=False
    )
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def _band(v: np.ndarray) -> tuple[float, float, float]:
    if v.size < 2 or np.ptp(v) == 0:
        return float(v.mean()), float(v.mean()), float(v.mean())
    iv = mean_interval(v)
    return iv.mean, iv.low, iv.high


def _curves(records: list[SeedRecord], name: str, method: str) -> np.ndarray:
    return np.array([r.metrics["datasets"][name]["accuracy"][method] for r in records])


def plot_depth(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    names = [data_key(n) for n in config["data"]["datasets"]]
    fig, axes = _panels(len(names))
    for ax, name in zip(axes, names):
        for i, method in enumerate(config["methods"]):
            acc = _curves(records, name, method)
            bands = np.array([_band(acc[:, j]) for j in range(acc.shape[1])])
            if method in ("linear_svm", "rbf_svm"):
                ls = "--" if method == "linear_svm" else ":"
                ax.axhline(bands[0, 0], color=f"C{i}", ls=ls, lw=1.5, label=LABELS[method])
                continue
            depths = (
                config["mlp"]["depths"] if method.startswith("mlp") else range(1, len(bands) + 1)
            )
            ax.plot(list(depths), bands[:, 0], "o-", ms=3, color=f"C{i}", label=LABELS[method])
            ax.fill_between(list(depths), bands[:, 1], bands[:, 2], color=f"C{i}", alpha=0.15)
        ax.set_ylim(top=1.01)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("depth (layers)")
        ax.set_ylabel("test accuracy")
    axes[0].legend(fontsize="x-small", frameon=False)
    return fig


def plot_time(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    names = [data_key(n) for n in config["data"]["datasets"]]
    fig, axes = _panels(len(names))
    for ax, name in zip(axes, names):
        for i, method in enumerate(config["methods"]):
            m, lo, hi = _band(_curves(records, name, method)[:, -1])
            t = np.mean([r.artefacts["cpu_s"][name][method] for r in records])
            ax.errorbar(max(t, 1e-4), m, yerr=[[m - lo], [hi - m]], fmt="o", color=f"C{i}",
                        capsize=3, label=LABELS[method])  # fmt: skip
        ax.set_xscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("training CPU time per fit (s, log scale)")
        ax.set_ylabel("test accuracy at last depth")
    axes[0].legend(fontsize="x-small", frameon=False)
    return fig


def plot_tuned(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    names = [data_key(n) for n in config["data"]["datasets"]]
    fig, ax = plt.subplots(figsize=(6.8, 0.6 * len(names) + 1.4), constrained_layout=True)
    pairs = [("r2svm", "linear", "C0", "R²SVM − linear"), ("r2svm", "rbf", "C1", "R²SVM − RBF"),
             ("rbf", "linear", "0.6", "RBF − linear (premise)")]  # fmt: skip
    for j, (a, b, color, label) in enumerate(pairs):
        for i, name in enumerate(names):
            v = np.array([r.metrics["datasets"][name]["tuned"][a]["accuracy"]
                          - r.metrics["datasets"][name]["tuned"][b]["accuracy"] for r in records])  # fmt: skip
            m, lo, hi = _band(v)
            y = i + (j - 1) * 0.25
            ax.errorbar(m, y, xerr=[[m - lo], [hi - m]], fmt="o", color=color, capsize=3,
                        label=label if i == 0 else None)  # fmt: skip
            ax.plot(v, np.full(v.size, y), ".", color=color, ms=3, alpha=0.6)
    ax.axvline(0, color="k", lw=1)
    gap = config["claims"]["min_gap"]
    ax.axvline(gap, color="0.6", lw=1, ls=":", label=f"premise threshold {gap:g}")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("difference in test accuracy (tuned vs tuned)")
    ax.legend(frameon=False, fontsize="small")
    return fig
