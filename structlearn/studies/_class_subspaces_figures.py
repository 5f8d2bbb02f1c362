"""Figures of the class_subspaces study: |cos| heat maps and paired per-seed geometry."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.studies.base import SeedRecord, per_seed

_NAMES = {"ce": "cross-entropy", "mcr2": "MCR²"}


def plot_heat_maps(artefacts: dict[str, Any]) -> Any:
    """|Z Zᵀ| of test features sorted by class for CE and MCR², and both class-cosine matrices."""
    import matplotlib.pyplot as plt

    order = np.argsort(artefacts["y_test"], kind="stable")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
    for ax, name in zip(axes[:2], ("ce", "mcr2"), strict=True):
        Z = artefacts[name]["Z_test"][order]
        im = ax.imshow(np.abs(Z @ Z.T), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set(title=f"{_NAMES[name]}: |cos| of test features", xticks=[], yticks=[])
    fig.colorbar(im, ax=axes[1], shrink=0.8)
    ce, mc = artefacts["ce"]["cosines"], artefacts["mcr2"]["cosines"]
    upper = np.triu(np.ones_like(ce, dtype=bool), 1)
    both = np.where(upper, mc, ce)
    np.fill_diagonal(both, np.nan)
    im = axes[2].imshow(both, cmap="magma", vmin=0, vmax=1)
    axes[2].set(title="class-pair cosine: MCR² (upper), CE (lower)", xlabel="class", ylabel="class")
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    return fig


def plot_paired(records: list[SeedRecord]) -> Any:
    """Per-seed mean cosine (true and shuffled labels) and per-class effective rank, CE vs MCR²."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), constrained_layout=True)
    for ax, key, label in (
        (axes[0], "geometry.mean_cosine", "mean largest cosine (true labels)"),
        (axes[1], "shuffled.mean_cosine", "mean largest cosine (shuffled labels)"),
    ):
        vals = np.array([per_seed(records, f"{n}.{key}") for n in ("ce", "mcr2")])
        ax.plot([0, 1], vals, "-o", color="0.5", alpha=0.7)
        ax.set(xticks=[0, 1], xticklabels=[_NAMES["ce"], _NAMES["mcr2"]], ylabel=label,
               ylim=(0, 1.05), xlim=(-0.3, 1.3))  # fmt: skip
    for i, name in enumerate(("ce", "mcr2")):
        ranks = np.concatenate([r.artefacts[name]["ranks"] for r in records])
        axes[2].scatter(np.full(ranks.size, i) + np.linspace(-0.1, 0.1, ranks.size), ranks, s=9)
    axes[2].set(xticks=[0, 1], xticklabels=[_NAMES["ce"], _NAMES["mcr2"]],
                ylabel="effective rank of a class (test)", xlim=(-0.3, 1.3))  # fmt: skip
    return fig
