"""Figures of the redunet_layers study: ΔR by layer, and invariance to circular shifts."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.studies.base import SeedRecord

_PANELS = (
    ("vector", "vector ReduNet, training features"),
    ("vector_test", "vector ReduNet, held-out features"),
    ("vector_alt_eps", "vector ReduNet, alternative ε"),
    ("circulant", "shift-invariant ReduNet (all shifts)"),
    ("scrambled", "control: scrambled operators"),
    ("shuffled", "built from shuffled labels (no control)"),
)


def plot_delta_R(records: list[SeedRecord]) -> Any:
    """ΔR against the layer, one panel per measurement, one line per seed."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.4), constrained_layout=True)
    for ax, (key, title) in zip(axes.ravel(), _PANELS, strict=True):
        for r in records:
            dR = np.asarray(r.metrics["layers"][key]["delta_R_nats"])
            n_down = r.metrics["layers"][key]["n_decreasing"]
            ax.plot(np.arange(dR.size), dR, "-", lw=1.2, label=f"seed {r.seed}: {n_down} down")
        ax.set(title=title, xlabel="layer (0 = input)", ylabel="ΔR (nats)")
        ax.legend(fontsize=7)
    return fig


def plot_invariance(records: list[SeedRecord]) -> Any:
    """Agreement and cosines against the shift (first seed) and one held-out signal."""
    import matplotlib.pyplot as plt

    art = records[0].artefacts
    shifts = np.asarray(art["shifts"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9), constrained_layout=True)
    styles = {"vector": ("C1", "vector ReduNet"), "circulant": ("C0", "shift-invariant ReduNet")}
    for name, (color, label) in styles.items():
        a = art[name]
        axes[0].plot(shifts, a["agreement"], "o-", color=color, label=label)
        axes[1].plot(shifts, a["cosine"], "o--", color=color, label=f"{label}: cos(f(Sx), f(x))")
        axes[1].plot(shifts, a["aligned"], "s-", color=color, label=f"{label}: aligned")
    axes[0].set(
        xlabel="circular shift (samples)",
        ylabel="unchanged predictions",
        ylim=(-0.05, 1.05),
        title="nearest-subspace class of shifted signals",
    )
    axes[1].set(
        xlabel="circular shift (samples)",
        ylabel="mean cosine",
        ylim=(-0.05, 1.05),
        title="features of x and of its shift",
    )
    for ax in axes[:2]:
        ax.legend(fontsize=7)
    ex = art["example"]
    im = axes[2].imshow(ex["signal"], aspect="auto", cmap="gray", interpolation="nearest")
    axes[2].set(
        title=f"a held-out signal (class {ex['label']})", xlabel="angle (sample)", ylabel="ring"
    )
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    return fig
