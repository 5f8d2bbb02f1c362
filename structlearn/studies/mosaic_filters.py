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

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from structlearn.analysis.filters import analyze_filters, hoyer_sparsity, plot_filter_grid
from structlearn.config import ConfigError, Field
from structlearn.data.mosaic import Mosaic, make_mosaic
from structlearn.studies.base import RunContext, StudyOutput, Verdict
from structlearn.utils.spams import sparse_encode, train_dictionary

METHODS = ("sparse_coding", "ica_infomax", "gaussian_infomax", "mcr2", "pca", "random")
MCR2_LABELS = ("source", "tile")
_WIDTH = {"n_filters": Field(int, 256, low=1, doc="units in the layer")}

SCHEMA = {
    "data": {
        "n_samples": Field(int, 20000, low=100, doc="number of mosaic images"),
        "grid": Field(list, [3, 3], item=int, length=2, low=1, doc="tiles per column and row"),
        "tile": Field(int, 8, low=2, doc="tile side in pixels"),
        "remove_tile_mean": Field(bool, True, doc="subtract each tile's mean intensity"),
        "contrast_normalize": Field(bool, False, doc="divide each tile by its contrast"),
        "whiten": Field(bool, True, doc="ZCA-whiten the images"),
        "zca_eps": Field(float, 1e-2, low=1e-8, doc="ZCA regulariser"),
    },
    "methods": Field(list, list(METHODS), item=str, doc=f"subset of {', '.join(METHODS)}"),
    "sparse_coding": {
        **_WIDTH,
        "lambda1": Field(float, 0.15, low=1e-6, doc="l1 weight (samples scaled to unit mean norm)"),
        "n_iter": Field(int, 200, low=1, doc="SPAMS trainDL mini-batch iterations"),
        "batch_size": Field(int, 512, low=1),
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
    "training": {
        "epochs": Field(int, 15, low=1, doc="epochs of the gradient-trained objectives"),
        "batch_size": Field(int, 1000, low=2),
        "lr": Field(float, 2e-3, low=1e-8, doc="Adam learning rate"),
    },
    "analysis": {
        "n_code_samples": Field(int, 2000, low=10, doc="samples on which codes are measured"),
        "locality_threshold": Field(float, 0.9, low=0.0, high=1.0),
        "prune_threshold": Field(float, 0.2, low=0.0, high=1.0, doc="conv-likeness pruning"),
        "similarity_threshold": Field(float, 0.8, low=0.0, high=1.0, doc="same shape if >= this"),
    },
}

Learner = Callable[[np.ndarray, Mosaic, dict[str, Any], int], tuple[np.ndarray, Callable]]


def _check_methods(methods: list[str]) -> None:
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods or len(set(methods)) != len(methods):
        raise ConfigError(
            f"methods: expected a non-empty subset of {', '.join(METHODS)}, got {methods!r}"
        )


def _linear_codes(W: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda Z: Z @ W.T


def _sparse_coding(X, mosaic, cfg, seed):
    c = cfg["sparse_coding"]
    D = train_dictionary(
        X,
        c["n_filters"],
        lambda1=c["lambda1"],
        n_iter=c["n_iter"],
        batch_size=c["batch_size"],
        random_state=seed,
    )
    return D, lambda Z: sparse_encode(Z, D, lambda1=c["lambda1"])


def _pca_components(X: np.ndarray, n: int) -> np.ndarray:
    """Top ``n`` principal axes, shape (n, n_features), from the covariance's eigendecomposition.

    ``eigh`` of the (n_features, n_features) covariance costs far less than an SVD of the
    (n_samples, n_features) data when n_samples >> n_features. Signs are fixed so that each
    axis's largest-magnitude entry is positive (the result is then deterministic).
    """
    Xc = X - X.mean(axis=0)
    evals, evecs = np.linalg.eigh(Xc.T @ Xc / len(X))
    W = evecs[:, np.argsort(evals)[::-1][: min(n, *X.shape)]].T
    signs = np.sign(W[np.arange(len(W)), np.abs(W).argmax(axis=1)])
    return W * signs[:, None]


def _pca(X, mosaic, cfg, seed):
    W = _pca_components(X, cfg["pca"]["n_filters"])
    return W, _linear_codes(W)


def _random(X, mosaic, cfg, seed):
    W = np.random.default_rng(seed).standard_normal((cfg["random"]["n_filters"], X.shape[1]))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    return W, _linear_codes(W)


class _InputOnly(torch.nn.Module):
    """A model with no layer of its own: its one tap is the input (for objectives owning W)."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x]


def _fit(
    model: torch.nn.Module,
    objective: Any,
    data: tuple,
    cfg: dict,
    seed: int,
    lr: float | None = None,
) -> None:
    from structlearn.train import TrainConfig, train

    t = cfg["training"]
    config = TrainConfig(
        optimizer="adam",
        lr=t["lr"] if lr is None else lr,
        epochs=t["epochs"],
        batch_size=t["batch_size"],
        store_activations=False,
        record_gradients=False,
        n_records=1,
        seed=seed,
    )
    train(model, objective, data, config=config)


def _trained_layer(X: np.ndarray, objective: Any, n_out: int, cfg, seed, y=None) -> np.ndarray:
    """Weight (n_out, n_features) of one bias-free linear layer trained under ``objective``."""
    from structlearn.models.mlp import MLP

    model = MLP([X.shape[1], n_out], activation="linear", bias=False, random_state=seed)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    _fit(model, objective, (Xt,) if y is None else (Xt, torch.as_tensor(y)), cfg, seed)
    return model.layers[0].weight.detach().double().numpy()


def _ica_infomax(X, mosaic, cfg, seed):
    """Square Bell–Sejnowski InfoMax in the top PCA subspace (whitened there); W·P in pixels."""
    from structlearn.objectives.infomax import InfoMaxICA

    c = cfg["ica_infomax"]
    P = _pca_components(X, c["n_filters"])
    Xp = X @ P.T
    scale = Xp.std(axis=0)
    P = P / scale[:, None]  # unit-variance components, the usual input of InfoMax ICA
    ica = InfoMaxICA(P.shape[0], nonlinearity=c["nonlinearity"], random_state=seed)
    Xt = torch.as_tensor(Xp / scale, dtype=torch.float32)
    _fit(_InputOnly(), ica, (Xt,), cfg, seed, lr=c["lr"])
    W = ica.weight.detach().double().numpy() @ P
    return W, _linear_codes(W)


def _gaussian_infomax(X, mosaic, cfg, seed):
    from structlearn.objectives.infomax import GaussianInfoMax

    c = cfg["gaussian_infomax"]
    objective = GaussianInfoMax(variance=1.0, ridge=c["ridge"])
    W = _trained_layer(X, objective, c["n_filters"], cfg, seed)
    return W, _linear_codes(W)


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


def _mcr2(X, mosaic, cfg, seed):
    from structlearn.objectives.coding_rate import MaximalCodingRateReduction

    c = cfg["mcr2"]
    y = mcr2_labels(mosaic, c["labels"])
    objective = MaximalCodingRateReduction(eps=c["eps"], n_classes=int(y.max()) + 1)
    W = _trained_layer(X, objective, c["n_filters"], cfg, seed, y=y)
    return W, _linear_codes(W)


_LEARNERS: dict[str, Learner] = {
    "sparse_coding": _sparse_coding,
    "ica_infomax": _ica_infomax,
    "gaussian_infomax": _gaussian_infomax,
    "mcr2": _mcr2,
    "pca": _pca,
    "random": _random,
}


def _build_data(cfg: dict[str, Any], seed: int) -> tuple[Mosaic, np.ndarray]:
    d = cfg["data"]
    mosaic = make_mosaic(
        d["n_samples"],
        grid=tuple(d["grid"]),
        tile=d["tile"],
        remove_tile_mean=d["remove_tile_mean"],
        contrast_normalize=d["contrast_normalize"],
        whiten=d["whiten"],
        zca_eps=d["zca_eps"],
        random_state=seed,
    )
    # Scale so the mean squared norm of a sample is 1: lambda1 then means the same at any size.
    scale = np.sqrt(np.mean(np.sum(mosaic.X**2, axis=1)))
    return mosaic, mosaic.X / scale


def _measure(W: np.ndarray, codes: np.ndarray, mosaic: Mosaic, cfg: dict[str, Any]):
    a = cfg["analysis"]
    res = analyze_filters(
        W,
        mosaic.image_shape,
        mosaic.tile_map,
        threshold=a["prune_threshold"],
        similarity_threshold=a["similarity_threshold"],
    )
    frac = res.locality_fraction
    metrics = {
        "n_filters": int(W.shape[0]),
        "best_tile_fraction_median": float(np.median(frac)),
        "best_tile_fraction_mean": float(np.mean(frac)),
        "share_above_threshold": float(np.mean(frac > a["locality_threshold"])),
        "pruned_support_local": res.locality,
        "n_shapes": res.n_shapes,
        "repetition": res.repetition,
        "conv_likeness": res.conv_likeness,
        "spread_px_median": res.median_spread_px,
        "hoyer_filters_mean": float(np.mean(hoyer_sparsity(W))),
        "hoyer_codes_mean": float(np.mean(hoyer_sparsity(codes))),
        "best_tile_fraction": frac,
    }
    return res, metrics


def _figures(mosaic: Mosaic, results: dict[str, Any], thr: float) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    figs = {}
    n = len(results)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.4 * cols, 4.7 * rows), constrained_layout=True, squeeze=False
    )
    for ax, (name, res) in zip(axes.ravel(), results.items()):
        plot_filter_grid(res.filters, mosaic.image_shape, ax=ax, n_max=256)
        ax.set_title(f"{name}: median best-tile {res.median_locality_fraction:.2f}", fontsize=10)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    figs["filters"] = fig

    fig, ax = plt.subplots(figsize=(6.8, 4.2), constrained_layout=True)
    bins = np.linspace(0, 1, 41)
    for i, (name, res) in enumerate(results.items()):
        ax.hist(
            res.locality_fraction, bins=bins, histtype="step", lw=1.8, color=f"C{i}", label=name
        )
    chance = 1 / mosaic.n_tiles
    ax.axvline(chance, color="k", ls="--", lw=1, label=f"chance 1/n_tiles = {chance:.2f}")
    ax.axvline(thr, color="grey", ls=":", lw=1, label=f"threshold {thr:g}")
    ax.set_xlabel("fraction of filter energy inside its best tile")
    ax.set_ylabel("number of filters")
    ax.legend(frameon=False, fontsize="small")
    figs["locality_histogram"] = fig

    fig, ax = plt.subplots(figsize=(6.8, 3.6), constrained_layout=True)
    names = list(results)
    x = np.arange(len(names))
    for j, (key, label) in enumerate(
        [
            ("median_locality_fraction", "median best-tile fraction"),
            ("locality", "pruned support local"),
            ("conv_likeness", "conv-likeness"),
        ]
    ):
        ax.bar(x + (j - 1) * 0.27, [getattr(results[m], key) for m in names], 0.27, label=label)
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylim(0, 1)
    n_tiles = int(np.prod(mosaic.grid))
    ax.axhline(
        1 / n_tiles, color="grey", lw=0.8, ls=":", label=f"chance best-tile fraction 1/{n_tiles}"
    )
    ax.legend(frameon=False, fontsize="small", ncols=2, loc="lower left", bbox_to_anchor=(0, 1.0))
    figs["objectives_compared"] = fig

    fig, axes = plt.subplots(2, 4, figsize=(8, 4.2), constrained_layout=True)
    raw = make_mosaic(8, grid=mosaic.grid, tile=mosaic.tile, random_state=1)
    for ax, img in zip(axes.ravel(), raw.images()):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("example mosaics (before preprocessing): tiles from independent photographs")
    figs["mosaic_examples"] = fig
    return figs


def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Learn the layer under each objective on one set of mosaics and measure its filters."""
    from structlearn.utils.progress import progress

    _check_methods(config["methods"])
    seed = context.seed
    mosaic, X = _build_data(config, seed)
    n_codes = min(config["analysis"]["n_code_samples"], X.shape[0])
    code_idx = np.random.default_rng(seed + 1).choice(X.shape[0], size=n_codes, replace=False)
    thr = config["analysis"]["locality_threshold"]
    results, metrics, timings = {}, {"methods": {}}, {}
    for name in progress(config["methods"], desc="objectives"):
        t0 = time.perf_counter()
        W, encode = _LEARNERS[name](X, mosaic, config, seed)
        timings[name] = round(time.perf_counter() - t0, 2)
        results[name], metrics["methods"][name] = _measure(W, encode(X[code_idx]), mosaic, config)
    metrics["data"] = {
        "n_samples": int(X.shape[0]),
        "image_shape": list(mosaic.image_shape),
        "n_tiles": mosaic.n_tiles,
        "chance_fraction": 1.0 / mosaic.n_tiles,
        "source_images": mosaic.image_names,
        "mcr2_labels": config["mcr2"]["labels"],
    }
    return StudyOutput(
        metrics=metrics,
        figures=_figures(mosaic, results, thr),
        summary=_summary(metrics["methods"], thr),
        verdicts=_verdicts(metrics["methods"], 1.0 / mosaic.n_tiles, thr),
        captions={
            "filters": "Learned filters (rows of the weight matrix) on the mosaic grid, each scaled "
            "symmetrically around 0 (grey); tile borders every "
            f"{mosaic.tile} pixels.",
            "locality_histogram": "Fraction of each filter's energy inside its best tile, per "
            "objective.",
            "objectives_compared": "Locality and conv-likeness per objective (conv-likeness = "
            "sqrt(share of filters with a local pruned support x repetition of shapes).",
            "mosaic_examples": "Example mosaics: each tile is cut from a random place of a random "
            "photograph.",
        },
        timings=timings,
    )


def _summary(methods: dict[str, dict], thr: float) -> list[dict[str, Any]]:
    return [
        {
            "objective": name,
            "filters": m["n_filters"],
            "median best-tile fraction": m["best_tile_fraction_median"],
            f"share > {thr:g}": m["share_above_threshold"],
            "conv-likeness": m["conv_likeness"],
            "shapes": m["n_shapes"],
            "Hoyer filters": m["hoyer_filters_mean"],
            "Hoyer codes": m["hoyer_codes_mean"],
        }
        for name, m in methods.items()
    ]


def _verdicts(m: dict[str, dict], chance: float, thr: float) -> list[Verdict]:
    """Rules: 'local' = median best-tile fraction > thr and > every second-order baseline + 0.2;
    'not local' = median < 0.5."""
    med = {k: v["best_tile_fraction_median"] for k, v in m.items()}
    second_order = {k: med[k] for k in ("pca", "gaussian_infomax", "random") if k in med}
    out = []
    for name, paper in (
        ("sparse_coding", "Olshausen & Field 1996"),
        ("ica_infomax", "Bell & Sejnowski 1997"),
    ):
        if name not in med:
            continue
        others = ", ".join(f"{k} {v:.3f}" for k, v in second_order.items())
        out.append(
            Verdict(
                claim=f"{name} grows local filters from full connections ({paper}): most filters "
                f"keep > {thr:g} of their energy in one tile, far above second-order baselines",
                measured=f"median best-tile fraction {med[name]:.3f}, share > {thr:g}: "
                f"{m[name]['share_above_threshold']:.3f}; baselines: {others or 'none run'}",
                held=med[name] > thr and all(med[name] > v + 0.2 for v in second_order.values()),
            )
        )
    for name in ("pca", "gaussian_infomax"):
        if name in med:
            out.append(
                Verdict(
                    claim=f"Second-order coding ({name}) does not localise filters to tiles",
                    measured=f"median best-tile fraction {med[name]:.3f} (chance {chance:.3f})",
                    held=med[name] < 0.5,
                )
            )
    return out


class _MosaicFilters:
    name = "mosaic_filters"
    summary = "Which objectives grow local filters from full connections (patch mosaics)"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _MosaicFilters()
