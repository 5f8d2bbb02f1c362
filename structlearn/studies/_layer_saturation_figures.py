"""Figures of the layer_saturation study: probe curves by layer, per seed, with the controls."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.studies.base import SeedRecord, per_seed

_CURVES = (
    ("linear.accuracy", "linear probe, trained", "C0", "-"),
    ("knn.accuracy", "kNN probe, trained", "C1", "--"),
    ("untrained.accuracy", "linear probe, untrained", "C7", ":"),
    ("shuffled.accuracy", "linear probe, shuffled-label net", "C3", ":"),
)


def probe_curves(config: dict[str, Any], records: list[SeedRecord]) -> tuple[Any, str]:
    """Held-out probe accuracy against layer (a line per seed and curve), the network's own
    held-out accuracy and each seed's saturation layer."""
    import matplotlib.pyplot as plt

    names = records[0].metrics["layers"]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    for key, label, colour, style in _CURVES:
        for j, values in enumerate(per_seed(records, key)):
            ax.plot(x, values, style, marker="o", ms=3, color=colour, alpha=0.8,
                    label=label if j == 0 else None)  # fmt: skip
    net = per_seed(records, "test_accuracy")
    ax.axhline(float(net.mean()), color="k", lw=1, label="network's own head (mean)")
    ks = per_seed(records, "linear.saturation").astype(int)
    for k in np.unique(ks):
        ax.axvline(k, color="C0", lw=6, alpha=0.12)
        ax.text(k, ax.get_ylim()[0], f" k={k}: {int((ks == k).sum())} of {len(ks)} seeds",
                rotation=90, va="bottom", fontsize="small", color="C0")  # fmt: skip
    ax.set_xticks(x, names)
    ax.set_ylabel("held-out accuracy")
    ax.legend(frameon=False, fontsize="small", loc="lower left", bbox_to_anchor=(0.06, 0.0))
    caption = (
        "Probe accuracy on the held-out split at the input and every hidden layer (Alain & Bengio "
        "2016), one line per seed: linear and kNN probes of the trained networks, linear probes of "
        "the untrained and shuffled-label controls; black: the trained network's own held-out "
        f"accuracy. Shaded: the saturation layer k (first layer within "
        f"{config['probe']['tolerance']:g} of the best), seed counts beside it."
    )
    return fig, caption
