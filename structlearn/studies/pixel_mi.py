"""Study: how far does pixel dependence reach? MI vs distance on photographs, mosaics, edge maps.

Claims (information in nats; 1 bit = ln 2 = 0.693 nats):

1. In natural images the mutual information between two pixels decays with their distance
   (Field 1987; Ruderman 1994) ...
2. ... but stays far above the estimator's floor at long range (slowly decaying, scale-invariant
   statistics). The issue quotes 2.66 bits (1.84 nats) at 1 px, 0.52 bits (0.36 nats) at 128 px
   with 64 equal-population bins.
3. In patch mosaics (Ingrosso & Goldt 2022, PNAS) pixels in different tiles come from
   independent photographs, so their MI is at the permutation floor, however close they are.
4. After one layer of edge filters (Gabor) the short-range MI drops (the issue quotes about
   1.0-1.3 bits at 1 px) ...
5. ... but long-range dependence remains above the floor.

Measured with :func:`structlearn.analysis.pixel_mi.analyze_pixel_mi`: plug-in MI on
equal-population bins, pooled over positions and images, at horizontal and vertical offsets; the
permutation baseline (pairs made independent) is the estimator's floor. Each seed draws a random
subset of the photographs (and a fresh set of mosaics). Alternatives: another bin count
(``mi.n_bins_alt``) and the other filter bank (DoG). Controls: the same photographs with their
pixels shuffled (no spatial structure: nothing may decay or stay above the floor), same-tile pairs
on mosaics, and the identity "filter" (pixels themselves: no drop).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from structlearn.analysis.pixel_mi import analyze_pixel_mi
from structlearn.config import Field, seeds_fragment
from structlearn.studies._pixel_mi_measures import (
    axis_offsets,
    data_section,
    mi_curve,
    mi_ends,
    mi_ratio,
    mosaic_mi,
    photographs,
)
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    interval_above,
)

DEFAULT_DISTANCES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128]


SCHEMA = {
    **seeds_fragment(3),
    "data": data_section(),
    "mi": {
        "n_bins": Field(int, 64, low=2, high=256, doc="equal-population bins per pixel value"),
        "n_bins_alt": Field(int, 16, low=2, high=256, doc="the alternative's bin count"),
        "distances": Field(
            list, DEFAULT_DISTANCES, item=int, low=1, high=4096, unique=True, doc="px measured"
        ),
        "n_permutations": Field(int, 2, low=2, high=100, doc="permutation draws of the floor"),
        "map_distance": Field(int, 12, low=1, high=256, doc="radius of the 2-D map (first seed)"),
    },
    "mosaic": {
        "n_samples": Field(int, 3000, low=2, high=10**6, doc="mosaic images per seed"),
        "grid": Field(list, [3, 3], item=int, length=2, low=1, high=16),
        "tile": Field(int, 8, low=2, high=256),
        "n_permutations": Field(int, 2, low=2, high=100),
    },
    "features": {
        "bank": Field(str, "gabor", choices=("gabor", "dog"), doc="edge-filter bank"),
        "n_orientations": Field(int, 4, low=1, high=64),
        "frequency": Field(float, 0.2, low=0.01, high=0.5, doc="Gabor cycles per pixel"),
        "sigma": Field(float, 1.5, low=0.1, high=100.0, doc="DoG centre width (px)"),
    },
    "verdict": {
        "floor_factor": Field(float, 10.0, low=1.0, doc="'far above the floor': x this"),
        "floor_z": Field(float, 3.0, low=0.0, doc="'at the floor': excess below this many sds"),
    },
}


class PixelMIStudy(Study):
    """Pixel MI vs distance: photographs, mosaics and edge-filter maps."""

    name = "pixel_mi"
    summary = "Pixel MI vs distance: photographs, mosaics and edge-filter maps; decay lengths"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> tuple[list[str], list[np.ndarray], dict]:
        return photographs(config)

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": photographs(config)[2]}

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        names, photos, _ = shared
        mi, f = config["mi"], config["features"]
        rng = np.random.default_rng(seed)
        n_pick = min(config["data"]["per_seed"], len(photos))
        pick = np.sort(rng.choice(len(photos), n_pick, replace=False))
        imgs = [photos[i] for i in pick]
        # mosaics: the bundled photographs by name (as before), any other images as arrays
        tiles = [names[i] for i in pick] if config["data"]["source"] == "photos" else imgs
        shuffled = [rng.permutation(im.ravel()).reshape(im.shape) for im in imgs]
        dist = sorted(mi["distances"])
        curve, ends = axis_offsets(dist), axis_offsets([dist[0], dist[-1]])
        other = "dog" if f["bank"] == "gabor" else "gabor"

        def run(images, offsets, n_bins=mi["n_bins"], features=None):
            bank = {}
            if features == "gabor":
                bank = {"n_orientations": f["n_orientations"], "frequency": f["frequency"]}
            elif features == "dog":
                bank = {"sigma": f["sigma"]}
            with warnings.catch_warnings():  # two distances: no decay length to fit
                warnings.simplefilter("ignore", UserWarning)
                return analyze_pixel_mi(
                    images, offsets=offsets, n_bins=n_bins, features=features,
                    n_permutations=mi["n_permutations"], random_state=seed, **bank,
                )  # fmt: skip

        natural, edges = run(imgs, curve), run(imgs, curve, features=f["bank"])
        nat, edge, edge_alt = (
            mi_ends(natural, dist),
            mi_ends(edges, dist),
            mi_ends(run(imgs, ends, features=other), dist),
        )
        mosaic = mosaic_mi(config, tiles, seed, mi["n_bins"])
        metrics = {
            "images": [names[i] for i in pick],
            "natural": {**natural.summary(), **nat, **mi_curve(natural, dist)},
            "natural_alt_bins": mi_ends(run(imgs, ends, mi["n_bins_alt"]), dist),
            "shuffled_pixels": mi_ends(run(shuffled, ends), dist),
            "features": {**edges.summary(), **edge, **mi_curve(edges, dist)},
            "features_alt_bank": edge_alt,
            "shuffled_features": mi_ends(run(shuffled, ends, features=f["bank"]), dist),
            "identity_filter_drop_nats": 0.0,
            "mosaic": mosaic.summary(),
            "mosaic_alt_bins": mosaic_mi(config, tiles, seed, mi["n_bins_alt"]).summary(),
            "mosaic_same_tile_z": (mosaic.mi_within_1px_nats - mosaic.baseline_across_1px_nats)
            / max(float(mosaic.baseline_across_sd_nats.mean()), 1e-300),
        }
        for key in ("features", "features_alt_bank"):
            metrics[key]["drop_near_nats"] = nat["mi_near_nats"] - metrics[key]["mi_near_nats"]
        for key, ctl in (("natural", "shuffled_pixels"), ("features", "shuffled_features")):
            floor = max(metrics[ctl]["mi_far_nats"], 1e-300)  # keeps which-photograph information
            metrics[key]["far_over_shuffled"] = metrics[key]["mi_far_nats"] / floor
        return SeedResult(metrics, {"mosaic": mosaic, "images": imgs})

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        k, z = config["verdict"]["floor_factor"], config["verdict"]["floor_z"]
        far, bins = max(config["mi"]["distances"]), f"{config['mi']['n_bins_alt']} bins"
        bank = config["features"]["bank"]
        alt = "dog" if bank == "gabor" else "gabor"
        resolves = Premise(
            f"the estimator resolves dependence: pixels' MI at 1 px > {k:g} x its floor",
            Measure(mi_ratio("natural", "mi_near_nats", "baseline_far_nats"), "MI(1 px) / floor"),
            all_above(k),
        )
        shuffled = "pixels shuffled within each photograph"
        ratio = f"MI({far} px) / permutation floor"

        def claim(text, paper, key, what, rule, alt_key, alt_what, ctl, ctl_key, premise=resolves):
            alts = [Alternative(Measure(alt_key, alt_what))]
            if key.endswith("far_over_floor"):  # the floor of shuffled pixels, which keeps the
                group = key.split(".")[0]  # information of which photograph a pair is from
                alts.append(Alternative(Measure(f"{group}.far_over_shuffled", "MI / shuffled MI")))
            controls = [Control(ctl, Measure(ctl_key, ctl))]
            return Claim(text, paper, Measure(key, what), rule, premise, alts, controls)

        return [
            claim(
                f"Pixel MI in photographs decays with distance: MI(1 px) > MI({far} px)",
                "Field 1987; Ruderman 1994",
                "natural.decay_nats",
                "MI(1 px) - MI(far), nats",
                interval_above(0.0),
                "natural_alt_bins.decay_nats",
                f"the same, {bins}",
                shuffled,
                "shuffled_pixels.decay_nats",
            ),
            claim(
                f"... but stays far above the estimator's floor at long range: MI({far} px) > "
                f"{k:g} x the permutation floor (issue: 0.36 nats at 128 px)",
                "Field 1987; Ruderman 1994",
                "natural.far_over_floor",
                ratio,
                all_above(k),
                "natural_alt_bins.far_over_floor",
                f"{ratio}, {bins}",
                shuffled,
                "shuffled_pixels.far_over_floor",
            ),
            claim(
                "Across mosaic tiles (independent photographs) pixel MI is at the permutation "
                f"floor: mean excess < {z:g} floor sds",
                "Ingrosso & Goldt 2022",
                "mosaic.excess_across_z",
                "across-tile excess (sds)",
                all_below(z),
                "mosaic_alt_bins.excess_across_z",
                f"the same, {bins}",
                "same-tile pairs at 1 px",
                "mosaic_same_tile_z",
                premise=Premise(
                    f"same-tile neighbours are dependent: MI(1 px) > {k:g} x the across floor",
                    Measure(
                        mi_ratio("mosaic", "mi_within_1px_nats", "baseline_across_1px_nats"),
                        "same-tile MI(1 px) / floor",
                    ),
                    all_above(k),
                ),
            ),
            claim(
                f"After one layer of edge filters ({bank}) the short-range MI drops (issue: "
                "1.0-1.3 bits = 0.69-0.90 nats at 1 px)",
                "issue; Field 1987",
                "features.drop_near_nats",
                "pixels' - maps' MI(1 px), nats",
                interval_above(0.0),
                "features_alt_bank.drop_near_nats",
                f"the same, {alt} bank",
                "identity filter (the pixels themselves)",
                "identity_filter_drop_nats",
            ),
            claim(
                f"... but long-range dependence remains: edge maps' MI({far} px) > {k:g} x floor",
                "issue; Ingrosso & Goldt 2022",
                "features.far_over_floor",
                f"maps: {ratio}",
                all_above(k),
                "features_alt_bank.far_over_floor",
                f"{ratio}, {alt} bank",
                f"{bank} maps of shuffled pixels",
                "shuffled_features.far_over_floor",
            ),
        ]

    # ---- table and figures -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        far = max(config["mi"]["distances"])
        rows = []
        for key, name in (
            ("natural", "photographs"),
            ("features", f"{config['features']['bank']} edge maps"),
            ("shuffled_pixels", "shuffled pixels (control)"),
        ):
            rows.append(
                {
                    "data": name,
                    "MI at 1 px (nats)": seed_summary(per_seed(records, f"{key}.mi_near_nats")),
                    f"MI at {far} px (nats)": seed_summary(per_seed(records, f"{key}.mi_far_nats")),
                    "floor (nats)": seed_summary(per_seed(records, f"{key}.baseline_far_nats")),
                }
            )
        for key, name in (("within", "mosaics, same tile"), ("across", "mosaics, across tiles")):
            rows.append(
                {
                    "data": name,
                    "MI at 1 px (nats)": seed_summary(
                        per_seed(records, f"mosaic.mi_{key}_1px_nats")
                    ),
                    f"MI at {far} px (nats)": "(no pairs)",
                    "floor (nats)": seed_summary(
                        per_seed(records, "mosaic.baseline_across_1px_nats")
                    ),
                }
            )
        return rows

    def figures(self, config, records) -> dict[str, tuple[Any, str]]:
        from structlearn.studies._pixel_mi_figures import figures

        return figures(config, records)


STUDY = PixelMIStudy()
