"""Figures of the group_sparse_pooling study: units laid out by group, invariance bars."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.studies.base import SeedRecord, per_seed


def group_image(basis: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """One row per group (units side by side), groups in two columns, 1-px separators (nan)."""
    ids = np.unique(groups)
    per = max(int(np.sum(groups == i)) for i in ids)
    cols = 2 if len(ids) > 1 else 1
    rows = int(np.ceil(len(ids) / cols))
    cell = size + 1
    img = np.full((rows * cell, cols * (per * cell + 2)), np.nan)
    scale = np.abs(basis).max(axis=1, keepdims=True)
    W = np.divide(basis, scale, out=np.zeros_like(basis), where=scale > 0)
    for gi, gid in enumerate(ids):
        r, c = divmod(gi, cols)
        for j, w in enumerate(W[groups == gid]):
            x0 = c * (per * cell + 2) + j * cell
            img[r * cell : r * cell + size, x0 : x0 + size] = w.reshape(size, size)
    return img


def group_image_panels(artefacts: dict[str, dict], size: int) -> Any:
    import matplotlib.pyplot as plt

    names = list(artefacts)
    fig, axes = plt.subplots(
        1, len(names), figsize=(5.2 * len(names), 6.0), constrained_layout=True, squeeze=False
    )
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.75")
    for ax, name in zip(axes[0], names):
        a = artefacts[name]
        img = np.ma.masked_invalid(group_image(a["basis"], a["groups"], size))
        ax.imshow(img, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name, fontsize="small")
    return fig


def bars(records: list[SeedRecord], learners: list[str], shifts: list[int]) -> Any:
    import matplotlib.pyplot as plt

    kinds = ("single", "pooled", "pooled_regrouped")
    fig, axes = plt.subplots(
        1,
        len(shifts),
        figsize=(3.2 + 1.4 * len(learners) * len(shifts), 3.8),
        constrained_layout=True,
        squeeze=False,
    )
    for ax, s in zip(axes[0], shifts):
        x = np.arange(len(learners))
        for j, kind in enumerate(kinds):
            vals = [per_seed(records, f"{n}.invariance.{s}.{kind}") for n in learners]
            pos = x + (j - 1) * 0.27
            ax.bar(pos, [v.mean() for v in vals], 0.27, color=f"C{j}", alpha=0.8, label=kind)
            for p, v in zip(pos, vals):
                ax.plot(np.full(v.size, p), v, "k.", ms=3)
        ax.set_xticks(x, learners)
        ax.set_title(f"shift {s} px", fontsize="small")
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("correlation: code of patch vs shifted patch")
    axes[0, -1].legend(frameon=False, fontsize="x-small")
    return fig
