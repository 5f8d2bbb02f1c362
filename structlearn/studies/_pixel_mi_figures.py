"""Figures of the pixel_mi study (kept beside it to keep the study file short)."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.pixel_mi import analyze_pixel_mi, disc_offsets
from structlearn.studies.base import SeedRecord, per_seed

LN2 = float(np.log(2.0))
#: The issue's numbers (bits, 64 equal-population bins)
PAPER_BITS = {"natural_1px": 2.66, "natural_128px": 0.52}


def figures(config: dict[str, Any], records: list[SeedRecord]) -> dict[str, tuple[Any, str]]:
    """The study's three figures with their captions."""
    import matplotlib.pyplot as plt

    first = records[0]
    fig, ax = plt.subplots(figsize=(5.6, 3.8), constrained_layout=True)
    first.artefacts["mosaic"].plot(ax)
    ax.set_title(f"mosaics: same tile vs across tiles (seed {first.seed})", fontsize="small")
    mi_map = analyze_pixel_mi(
        first.artefacts["images"],
        offsets=disc_offsets(config["mi"]["map_distance"]),
        n_bins=config["mi"]["n_bins"],
        random_state=first.seed,
    )
    fig2, ax2 = plt.subplots(figsize=(5.0, 4.2), constrained_layout=True)
    mi_map.plot_map(ax2)
    return {
        "mi_vs_distance": (
            _curves(config, records),
            "MI between two pixels (horizontal and vertical offsets pooled, nats) vs distance, on photographs and their edge maps (channel average); thin lines: one seed each (a random subset of photographs); dotted: permutation floor; stars: the issue's numbers. Both axes logarithmic.",
        ),
        "mosaic_mi": (
            fig,
            "On mosaics, pairs inside one tile keep the photographs' dependence; pairs across tiles sit on the permutation floor (dashed).",
        ),
        "mi_map": (
            fig2,
            f"MI (nats) by offset (dx, dy) on the photographs of seed {first.seed}; the centre (offset 0, the binned entropy) is masked.",
        ),
    }


def _curves(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    fig, ax = plt.subplots(figsize=(6.6, 4.3), constrained_layout=True)
    d = np.asarray(records[0].metrics["natural"]["distance_px"])
    label = f"{config['features']['bank']} edge maps"
    for key, color, name in (("natural", "C0", "pixels"), ("features", "C1", label)):
        curves = per_seed(records, f"{key}.mi_nats")
        for c in curves:
            ax.plot(d, c, color=color, lw=0.7, alpha=0.35)
        ax.plot(d, curves.mean(0), "o-", ms=3, color=color, label=f"{name} (mean of seeds)")
        ax.plot(
            d,
            per_seed(records, f"{key}.baseline_nats").max(0),
            ":",
            color=color,
            lw=1,
            label=f"{name}: permutation floor",
        )
    ax.plot(
        [1, 128],
        [PAPER_BITS["natural_1px"] * LN2, PAPER_BITS["natural_128px"] * LN2],
        "k*",
        ms=9,
        label="issue's numbers (pixels)",
    )
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set_yscale("log")
    ax.set_xlabel("distance between pixels (px)")
    ax.set_ylabel("mutual information (nats)")
    ax.legend(frameon=False, fontsize="small")
    return fig
