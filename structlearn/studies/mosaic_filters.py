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
    plot_filter_grid,
)
from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.data.mosaic import Mosaic, make_mosaic
from structlearn.data.sources import data_fragment, parse_source
from structlearn.models import filter_learners as fl
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
MCR2_LABELS = ("source", "tile")
#: mosaics are cut from the bundled photographs or from the images in a folder
SOURCES = ("mosaic", "photos", "images")
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


def mcr2_labels(mosaic: Mosaic, kind: str) -> np.ndarray:
    """Class labels for MCR² on mosaics, shape (n_samples,), values ``0..k-1``.

    ``"source"``: the source photograph of the centre tile; ``"tile"``: the tile holding the most
    energy of the sample (after preprocessing).
    """
    if kind == "source":
        centre = (mosaic.grid[0] // 2) * mosaic.grid[1] + mosaic.grid[1] // 2
        y = mosaic.sources[:, centre, 0]
    elif kind == "tile":
        codes = mosaic.tile_map.ravel()
        energy = np.stack([(mosaic.X[:, codes == t] ** 2).sum(1) for t in range(mosaic.n_tiles)])
        y = energy.argmax(0)
    else:
        raise ValueError(f"kind: expected one of {MCR2_LABELS}, got {kind!r}")
    return np.unique(y, return_inverse=True)[1].astype(np.int64)


def _train_config(cfg: dict[str, Any], seed: int, **override: Any):
    from structlearn.train import TrainConfig

    return TrainConfig.from_section(
        {**cfg["training"], **override},
        seed=seed,
        store_activations=False,
        record_gradients=False,
        n_records=1,
    )


def learn_filters(name: str, X: np.ndarray, mosaic: Mosaic, cfg: dict[str, Any], seed: int):
    """The layer learned by objective ``name`` (see :mod:`structlearn.models.filter_learners`)."""
    c = cfg[name]
    n = c["n_filters"]
    if name == "sparse_coding":
        return fl.sparse_coding_filters(
            X, n, lambda1=c["lambda1"], n_iter=c["n_iter"], batch_size=c["batch_size"],
            random_state=seed,
        )  # fmt: skip
    if name == "ica_infomax":
        config = _train_config(cfg, seed, lr=c["lr"])
        return fl.ica_infomax_filters(X, n, nonlinearity=c["nonlinearity"], config=config)
    if name == "gaussian_infomax":
        return fl.gaussian_infomax_filters(X, n, ridge=c["ridge"], config=_train_config(cfg, seed))
    if name == "mcr2":
        y = mcr2_labels(mosaic, c["labels"])
        return fl.mcr2_filters(X, y, n, eps=c["eps"], config=_train_config(cfg, seed))
    if name == "pca":
        return fl.pca_filters(X, n)
    return fl.random_filters(n, X.shape[1], random_state=seed)


def source_images(data: dict[str, Any]) -> tuple[list[Any] | None, dict[str, Any]]:
    """The photographs the mosaics' tiles are cut from, and what was read.

    ``mosaic`` or ``photos``: the bundled photographs (``data.images`` picks some);
    ``mosaic:DIR`` or ``images:DIR``: every readable image in ``DIR`` (grey), skipped files named.
    """
    from structlearn.data.natural import NaturalImage, scan_image_directory

    spec = parse_source(data["source"], SOURCES)
    if spec.path is None:
        return (data["images"] or None), {"source": spec.text}
    found, skipped = scan_image_directory(spec.path)
    if not found:
        raise ConfigError(f"data.source: {spec.text!r}: no readable image in {spec.path}")
    images = [NaturalImage(name=i.name, source=str(spec.path), image=i.image) for i in found]
    return images, {"source": spec.text, "n_files": len(found), "skipped": skipped}


def _build_data(cfg: dict[str, Any], seed: int, *, n: int | None = None, whiten: bool = True):
    d = cfg["data"]
    images, _ = source_images(d)
    mosaic = make_mosaic(
        n or d["n_samples"],
        grid=tuple(d["grid"]),
        tile=d["tile"],
        remove_tile_mean=d["remove_tile_mean"],
        contrast_normalize=d["contrast_normalize"],
        whiten=d["whiten"] and whiten,
        zca_eps=d["zca_eps"],
        images=images,
        random_state=seed,
    )
    # Scale so the mean squared norm of a sample is 1: lambda1 then means the same at any size.
    scale = np.sqrt(np.mean(np.sum(mosaic.X**2, axis=1)))
    return mosaic, mosaic.X / scale


def across_tile_correlation(mosaic: Mosaic) -> float:
    """Mean |Pearson r| between pixels of different tiles, before whitening (0: independent)."""
    X = mosaic.X - mosaic.X.mean(0)
    sd = X.std(0)
    keep = sd > 0
    r = np.corrcoef(X[:, keep].T)
    codes = mosaic.tile_map.ravel()[keep]
    return float(np.abs(r[codes[:, None] != codes[None, :]]).mean())


class MosaicFilters(Study):
    """Which objectives grow local filters from full connections (patch mosaics)."""

    name = "mosaic_filters"
    summary = "Which objectives grow local filters from full connections (patch mosaics)"
    schema = SCHEMA

    # ---- measure one seed ------------------------------------------------------------------

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        mosaic, X = _build_data(config, seed)
        raw, _ = _build_data(config, seed, n=min(2000, config["data"]["n_samples"]), whiten=False)
        a = config["analysis"]
        n_codes = min(a["n_code_samples"], X.shape[0])
        code_idx = np.random.default_rng(seed + 1).choice(X.shape[0], size=n_codes, replace=False)
        results: dict[str, FilterAnalysis] = {}
        for name in config["methods"]:
            layer = learn_filters(name, X, mosaic, config, seed)
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
        mosaic, _ = _build_data(config, records[0].seed, n=8, whiten=False)
        thr = config["analysis"]["locality_threshold"]
        n_tiles = mosaic.n_tiles
        return {
            "filters": (
                _filter_grids(first["filters"], mosaic),
                f"Learned filters of seed {records[0].seed} (rows of the weight matrix) on the "
                f"mosaic grid, each scaled symmetrically around 0 (grey); tile borders every "
                f"{mosaic.tile} pixels.",
            ),
            "locality_histogram": (
                _histogram(first["locality_fraction"], n_tiles, thr),
                f"Fraction of each filter's energy inside its best tile, per objective (seed "
                f"{records[0].seed}); chance 1/{n_tiles}.",
            ),
            "objectives_compared": (
                _bars(config["methods"], records, n_tiles),
                "Median best-tile fraction, share of local pruned supports and conv-likeness per "
                "objective: mean over seeds with 95% t-intervals, each seed as a dot "
                "(conv-likeness = sqrt(share of local pruned supports x repetition of shapes)).",
            ),
            "mosaic_examples": (
                _examples(
                    make_mosaic(
                        8,
                        grid=mosaic.grid,
                        tile=mosaic.tile,
                        random_state=1,
                        images=source_images(config["data"])[0],
                    )
                ),
                "Example mosaics before preprocessing: each tile is cut from a random place of a "
                "random photograph.",
            ),
        }

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        mosaic, _ = _build_data(config, records[0].seed, n=8, whiten=False)
        _, read = source_images(config["data"])
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


def _filter_grids(filters: dict[str, np.ndarray], mosaic: Mosaic) -> Any:
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


def _histogram(fractions: dict[str, np.ndarray], n_tiles: int, thr: float) -> Any:
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


def _bars(methods: list[str], records: list[SeedRecord], n_tiles: int) -> Any:
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


def _examples(mosaic: Mosaic) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(8, 4.2), constrained_layout=True)
    for ax, img in zip(axes.ravel(), mosaic.images()):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("example mosaics (before preprocessing): tiles from independent photographs")
    return fig


STUDY = MosaicFilters()
