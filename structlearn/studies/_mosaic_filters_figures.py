"""Figures of the mosaic_filters study: filter grids, locality histogram, objectives, examples."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.filters import plot_filter_grid
from structlearn.data.mosaic import Mosaic
from structlearn.studies.base import SeedRecord, per_seed


def filter_grids(filters: dict[str, np.ndarray], mosaic: Mosaic) -> Any:
    import matplotlib.pyplot as plt

    n = len(filters)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.4 * cols, 4.7 * rows), constrained_layout=True, squeeze=False
    )
    for ax, (name, W) in zip(axes.ravel(), filters.items()):
        plot_filter_grid(W, mosaic.image_shape, ax=ax, n_max=256)
        ax.set_title(name, fontsize=10)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig


def locality_histogram(fractions: dict[str, np.ndarray], n_tiles: int, thr: float) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.8, 4.2), constrained_layout=True)
    bins = np.linspace(0, 1, 41)
    for i, (name, frac) in enumerate(fractions.items()):
        ax.hist(frac, bins=bins, histtype="step", lw=1.8, color=f"C{i}", label=name)
    ax.axvline(1 / n_tiles, color="k", ls="--", lw=1, label=f"chance 1/n_tiles = {1 / n_tiles:.2f}")
    ax.axvline(thr, color="grey", ls=":", lw=1, label=f"threshold {thr:g}")
    ax.set_xlabel("fraction of filter energy inside its best tile")
    ax.set_ylabel("number of filters")
    ax.legend(frameon=False, fontsize="small")
    return fig


def objective_bars(methods: list[str], records: list[SeedRecord], n_tiles: int) -> Any:
    import matplotlib.pyplot as plt

    from structlearn.studies._stats import mean_interval

    fig, ax = plt.subplots(figsize=(6.8, 3.8), constrained_layout=True)
    x = np.arange(len(methods))
    keys = [
        ("median_locality_fraction", "median best-tile fraction"),
        ("locality", "pruned support local"),
        ("conv_likeness", "conv-likeness"),
    ]
    for j, (key, label) in enumerate(keys):
        vals = [per_seed(records, f"methods.{m}.{key}") for m in methods]
        means = [v.mean() for v in vals]
        err = [(iv.mean - iv.low) if (iv := mean_interval(v)).n > 1 else 0.0 for v in vals]
        pos = x + (j - 1) * 0.27
        ax.bar(pos, means, 0.27, yerr=err, capsize=2, label=label, color=f"C{j}")
        for p, v in zip(pos, vals):
            ax.plot(np.full(v.size, p), v, "k.", ms=3)
    ax.set_xticks(x, methods, rotation=20)
    ax.set_ylim(0, 1)
    ax.axhline(1 / n_tiles, color="grey", lw=0.8, ls=":", label=f"chance 1/{n_tiles}")
    ax.legend(frameon=False, fontsize="small", ncols=2, loc="lower left", bbox_to_anchor=(0, 1.0))
    return fig


def mosaic_examples(mosaic: Mosaic) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(8, 4.2), constrained_layout=True)
    for ax, img in zip(axes.ravel(), mosaic.images()):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("example mosaics (before preprocessing): tiles from independent photographs")
    return fig
