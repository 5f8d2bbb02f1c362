"""Study: which objectives grow local filters from full connections? (Patch mosaics.)

Claim (Olshausen & Field 1996; Bell & Sejnowski 1997; the efficient-coding account of locality): a
fully connected layer trained to code natural images sparsely, or to maximise the information of
non-Gaussian outputs (ICA InfoMax), grows *local* filters, because distant pixels are nearly
independent. Patch mosaics make "distant" exact: pixels in different tiles come from different
photographs, so they are independent by construction, and ``tile_map`` says which pixels belong
together. Second-order objectives (PCA; Gaussian-channel InfoMax, whose optimum is any decorrelating
layer) see a covariance whose equal-variance directions are shared across tiles, so nothing pins
their filters to one tile; random filters spread their energy over every tile (best-tile fraction
about ``1/n_tiles``). MCR² (Yu, Chan, You, Song, Ma 2020) depends on the labels it is given; they
are stated by ``mcr2.labels``.

The same layer (``n_filters`` linear units over every pixel) is learned under each objective.
Measured per method: each filter's energy fraction inside its best tile (median, share above the
threshold), conv-likeness (locality of the pruned support and repetition of shapes up to
translation, :func:`structlearn.analysis.filters.analyze_filters`), and the Hoyer sparsity of
filters and codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.filters import (
    FilterAnalysis,
    analyze_filters,
    best_window_fraction,
)
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.mosaic import (
    MCR2_LABELS,
    Mosaic,
    across_tile_correlation,
    make_mosaic,
)
from structlearn.data.sources import data_fragment
from structlearn.models import filter_learners as fl
from structlearn.studies import _mosaic_filters_figures as figs
from structlearn.studies import _mosaic_filters_inputs as inputs
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_below,
    interval_above,
    interval_below,
)

METHODS = ("sparse_coding", "ica_infomax", "gaussian_infomax", "mcr2", "pca", "random")
#: mosaics are cut from the bundled photographs or from the images in a folder
SOURCES = inputs.SOURCES
HIGHER_ORDER = {"sparse_coding": "Olshausen & Field 1996", "ica_infomax": "Bell & Sejnowski 1997"}
SECOND_ORDER = {"pca": "Hancock, Baddeley & Smith 1992", "gaussian_infomax": "Linsker 1988"}
_WIDTH = {"n_filters": Field(int, 256, low=1, high=4096, doc="units in the layer")}

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "mosaic",
        n_samples=Field(int, 20000, low=100, high=10**6, doc="number of mosaic images"),
        grid=Field(list, [3, 3], item=int, length=2, low=1, high=16, doc="tiles per side"),
        tile=Field(int, 8, low=2, high=64, doc="tile side in pixels"),
        remove_tile_mean=Field(bool, True, doc="subtract each tile's mean intensity"),
        contrast_normalize=Field(bool, False, doc="divide each tile by its contrast"),
        whiten=Field(bool, True, doc="ZCA-whiten the images"),
        zca_eps=Field(float, 1e-2, low=1e-8, high=10.0, doc="ZCA regulariser"),
    ),
    "methods": Field(
        list, list(METHODS), item=str, subset_of=METHODS, unique=True, low=1, doc="objectives"
    ),
    "sparse_coding": {
        **_WIDTH,
        "lambda1": Field(float, 0.15, low=1e-6, doc="l1 weight (samples scaled to unit mean norm)"),
        "n_iter": Field(int, 200, low=1, high=10**6, doc="SPAMS trainDL mini-batch iterations"),
        "batch_size": Field(int, 512, low=1, high=10**6),
    },
    "ica_infomax": {
        **_WIDTH,
        "nonlinearity": Field(str, "logistic", choices=["logistic", "sech"]),
        "lr": Field(float, 1e-2, low=1e-8, doc="Adam learning rate (ICA converges slowly at 2e-3)"),
    },
    "gaussian_infomax": {**_WIDTH, "ridge": Field(float, 1e-3, low=0.0, doc="channel noise")},
    "mcr2": {
        **_WIDTH,
        "eps": Field(float, 0.5, low=1e-6, doc="ε (not ε²) of the coding rate"),
        "labels": Field(
            str,
            "source",
            choices=list(MCR2_LABELS),
            doc="source: photograph of the centre tile; tile: the tile holding most energy",
        ),
    },
    "pca": _WIDTH,
    "random": _WIDTH,
    "training": training_fragment(optimizer="adam", epochs=15, batch_size=1000, lr=2e-3),
    "analysis": {
        "n_code_samples": Field(int, 2000, low=10, high=10**6, doc="samples coded for Hoyer"),
        "locality_threshold": Field(float, 0.9, low=0.0, high=1.0),
        "not_local_below": Field(float, 0.5, low=0.0, high=1.0, doc="'not local' if median below"),
        "independence_tolerance": Field(
            float, 0.05, low=0.0, high=1.0, doc="premise: mean |r| across tiles below this"
        ),
        "prune_threshold": Field(float, 0.2, low=0.0, high=1.0, doc="conv-likeness pruning"),
        "similarity_threshold": Field(float, 0.8, low=0.0, high=1.0, doc="same shape if >= this"),
    },
}


class MosaicFilters(Study):
    """Which objectives grow local filters from full connections (patch mosaics)."""

    name = "mosaic_filters"
    summary = "Which objectives grow local filters from full connections (patch mosaics)"
    schema = SCHEMA

    # ---- measure one seed ------------------------------------------------------------------

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        mosaic, X = inputs.build_data(config, seed)
        raw, _ = inputs.build_data(
            config, seed, n=min(2000, config["data"]["n_samples"]), whiten=False
        )
        a = config["analysis"]
        n_codes = min(a["n_code_samples"], X.shape[0])
        code_idx = np.random.default_rng(seed + 1).choice(X.shape[0], size=n_codes, replace=False)
        results: dict[str, FilterAnalysis] = {}
        for name in config["methods"]:
            layer = inputs.learn_filters(name, X, mosaic, config, seed)
            results[name] = self._analyze(layer.W, layer.encode(X[code_idx]), mosaic, a)
        control = fl.random_filters(64, X.shape[1], random_state=seed + 7919).W
        window = (mosaic.tile, mosaic.tile)
        metrics = {
            "methods": {
                name: {
                    **res.summary(),
                    "median_best_window_fraction": _median_window(res.filters, mosaic, window),
                }
                for name, res in results.items()
            },
            "control_random_bank": {
                **self._analyze(control, None, mosaic, a).summary(),
                "median_best_window_fraction": _median_window(control, mosaic, window),
            },
            "data": {"across_tile_abs_correlation": across_tile_correlation(raw)},
        }
        artefacts = {
            "locality_fraction": {k: r.locality_fraction for k, r in results.items()},
            "filters": {k: r.filters for k, r in results.items()},
        }
        return SeedResult(metrics, artefacts)

    @staticmethod
    def _analyze(W, codes, mosaic: Mosaic, a: dict[str, Any]) -> FilterAnalysis:
        return analyze_filters(
            W,
            mosaic.image_shape,
            mosaic.tile_map,
            threshold=a["prune_threshold"],
            similarity_threshold=a["similarity_threshold"],
            locality_threshold=a["locality_threshold"],
            codes=codes,
        )

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        thr, low = a["locality_threshold"], a["not_local_below"]
        premise = Premise(
            f"pixels of different tiles are independent in the data (mean |r| < "
            f"{a['independence_tolerance']:g}, before whitening)",
            Measure("data.across_tile_abs_correlation", "mean |r| across tiles"),
            interval_below(a["independence_tolerance"]),
        )
        random_ctl = Control(
            "random filters",
            Measure("control_random_bank.median_locality_fraction", "random bank's median"),
        )
        out = []
        for name, paper in HIGHER_ORDER.items():
            if name in config["methods"]:
                out.append(
                    Claim(
                        text=f"{name} grows local filters from full connections: the median "
                        f"filter keeps > {thr:g} of its energy in one tile",
                        paper=paper,
                        measurement=_median(name, "median_locality_fraction", "best-tile"),
                        rule=interval_above(thr),
                        premise=premise,
                        alternatives=[
                            Alternative(_median(name, "median_best_window_fraction", "best-window"))
                        ],
                        controls=[random_ctl],
                    )
                )
        local_ctl = [m for m in HIGHER_ORDER if m in config["methods"]]
        for name, paper in SECOND_ORDER.items():
            if name in config["methods"]:
                controls = [
                    Control(
                        f"{m}'s filters (local)",
                        _median(m, "median_locality_fraction", "best-tile"),
                    )
                    for m in local_ctl
                ] or [random_ctl]
                out.append(
                    Claim(
                        text=f"second-order coding ({name}) does not localise filters to tiles: "
                        f"median best-tile fraction below {low:g}",
                        paper=paper,
                        measurement=_median(name, "median_locality_fraction", "best-tile"),
                        rule=all_below(low),
                        premise=premise,
                        alternatives=[
                            Alternative(_median(name, "median_best_window_fraction", "best-window"))
                        ],
                        controls=controls,
                    )
                )
        return out

    # ---- figures and table -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        thr = config["analysis"]["locality_threshold"]
        cols = [
            ("median best-tile fraction", "median_locality_fraction"),
            (f"share > {thr:g}", "share_local"),
            ("conv-likeness", "conv_likeness"),
            ("Hoyer filters", "median_hoyer"),
            ("Hoyer codes", "mean_code_hoyer"),
        ]
        rows = []
        for name in config["methods"]:
            row: dict[str, Any] = {"objective": name}
            for label, key in cols:
                row[label] = seed_summary(per_seed(records, f"methods.{name}.{key}"))
            rows.append(row)
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        first = records[0].artefacts
        mosaic, _ = inputs.build_data(config, records[0].seed, n=8, whiten=False)
        thr = config["analysis"]["locality_threshold"]
        n_tiles = mosaic.n_tiles
        return {
            "filters": (
                figs.filter_grids(first["filters"], mosaic),
                f"Learned filters of seed {records[0].seed} (rows of the weight matrix) on the "
                f"mosaic grid, each scaled symmetrically around 0 (grey); tile borders every "
                f"{mosaic.tile} pixels.",
            ),
            "locality_histogram": (
                figs.locality_histogram(first["locality_fraction"], n_tiles, thr),
                f"Fraction of each filter's energy inside its best tile, per objective (seed "
                f"{records[0].seed}); chance 1/{n_tiles}.",
            ),
            "objectives_compared": (
                figs.objective_bars(config["methods"], records, n_tiles),
                "Median best-tile fraction, share of local pruned supports and conv-likeness per "
                "objective: mean over seeds with 95% t-intervals, each seed as a dot "
                "(conv-likeness = sqrt(share of local pruned supports x repetition of shapes)).",
            ),
            "mosaic_examples": (
                figs.mosaic_examples(
                    make_mosaic(
                        8,
                        grid=mosaic.grid,
                        tile=mosaic.tile,
                        random_state=1,
                        images=inputs.source_images(config["data"])[0],
                    )
                ),
                "Example mosaics before preprocessing: each tile is cut from a random place of a "
                "random photograph.",
            ),
        }

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        mosaic, _ = inputs.build_data(config, records[0].seed, n=8, whiten=False)
        _, read = inputs.source_images(config["data"])
        return {
            "data": {
                **read,
                "n_samples": config["data"]["n_samples"],
                "image_shape": list(mosaic.image_shape),
                "n_tiles": mosaic.n_tiles,
                "chance_fraction": 1.0 / mosaic.n_tiles,
                "source_images": mosaic.image_names,
                "mcr2_labels": config["mcr2"]["labels"],
            }
        }


def _median(method: str, key: str, what: str) -> Measure:
    return Measure(f"methods.{method}.{key}", f"{method}'s median {what} fraction")


def _median_window(W: np.ndarray, mosaic: Mosaic, window: tuple[int, int]) -> float:
    return float(np.median(best_window_fraction(W, mosaic.image_shape, window)))


STUDY = MosaicFilters()
