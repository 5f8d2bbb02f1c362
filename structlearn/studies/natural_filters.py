"""Study: do fully connected layers grow local filters on natural images, not only on mosaics?

Claim (Yuan et al., arXiv 2105.13905; Olshausen & Field 1996; Bell & Sejnowski 1997): even on
natural images, a fully connected layer trained by higher-order efficient coding (sparse coding, ICA
InfoMax) converges to *local* filters, because distant pixels are nearly independent;
second-order coding (PCA, Gaussian InfoMax) does not. Mosaics (``mosaic_filters``) make
"distant" exact; here the patches are plain crops of photographs, so locality is measured against
plain geometry: the share of a filter's energy inside its best ``window`` × ``window`` square
(chance: window² / patch², the share of uniformly spread energy), and its spatial spread in pixels
(chance: the spread of uniform energy, √((P² − 1)/6) for a P × P patch), at every patch size.

Per seed: ``n_patches`` random crops of each patch size from the photographs (or the user's
images, ``data.source=images:DIR``), per-patch mean removed, ZCA-whitened, scaled to unit mean
squared norm; one complete layer (P² − 1 units: the rank left once each patch's mean is removed)
learned by each objective
(:mod:`structlearn.models.filter_learners`); a random bank as control.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.filters import best_window_fraction, plot_filter_grid, spatial_spread
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.preprocess import PatchWhitener, random_patches
from structlearn.data.sources import data_fragment, load_source
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

METHODS = ("sparse_coding", "ica_infomax", "gaussian_infomax", "pca", "random")
HIGHER_ORDER = {"sparse_coding": "Olshausen & Field 1996", "ica_infomax": "Bell & Sejnowski 1997"}
SECOND_ORDER = {"pca": "Hancock, Baddeley & Smith 1992", "gaussian_infomax": "Linsker 1988"}

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        ("photos", "images"),
        "photos",
        patch_sizes=Field(
            list, [12, 16], item=int, low=4, high=64, unique=True, doc="patch sides in pixels"
        ),
        n_patches=Field(int, 20000, low=200, high=10**6, doc="patches per patch size"),
        zca_eps=Field(float, 1e-2, low=1e-8, high=10.0, doc="relative ZCA regulariser"),
    ),
    "methods": Field(
        list, list(METHODS), item=str, subset_of=METHODS, unique=True, low=1, doc="objectives"
    ),
    "max_filters": Field(int, 256, low=4, high=4096, doc="units: min(P² − 1, max_filters)"),
    "sparse_coding": {
        "lambda1": Field(float, 0.15, low=1e-6, doc="l1 weight (samples at unit mean norm)"),
        "n_iter": Field(int, 200, low=1, high=10**6, doc="SPAMS trainDL mini-batch iterations"),
        "batch_size": Field(int, 512, low=1, high=10**6),
    },
    "ica_infomax": {
        "nonlinearity": Field(str, "logistic", choices=["logistic", "sech"]),
        "lr": Field(float, 1e-2, low=1e-8, high=1.0, doc="Adam learning rate"),
    },
    "gaussian_infomax": {"ridge": Field(float, 1e-3, low=0.0, doc="channel noise")},
    "training": training_fragment(optimizer="adam", epochs=15, batch_size=1000, lr=2e-3),
    "analysis": {
        "window": Field(int, 8, low=1, high=64, doc="locality window side in pixels"),
        "local_above": Field(
            float, 0.5, low=0.0, high=1.0, doc="'local': median best-window fraction above this"
        ),
        "spread_below": Field(
            float, 0.5, low=0.0, high=1.0, doc="alternative: median spread / uniform spread below"
        ),
        "independence_below": Field(
            float, 0.5, low=0.0, high=1.0, doc="premise: |r| a window apart / |r| adjacent below"
        ),
    },
}


def uniform_spread(p: int) -> float:
    """Spread (px) of energy spread uniformly over a p × p patch: √((p² − 1)/6)."""
    return float(np.sqrt((p * p - 1) / 6.0))


def distance_correlation_ratio(patches: np.ndarray, p: int, d: int) -> float:
    """Mean |r| between pixels ``d`` apart (horizontally) over mean |r| between neighbours.

    ``patches`` (n, p·p) before whitening, per-patch mean removed. 0: pixels ``d`` apart are
    uncorrelated; 1: as correlated as neighbours.
    """
    img = patches.reshape(-1, p, p)

    def mean_abs_r(dist: int) -> float:
        a = img[:, :, : p - dist].reshape(len(img), -1)
        b = img[:, :, dist:].reshape(len(img), -1)
        a = (a - a.mean(0)) / a.std(0)
        b = (b - b.mean(0)) / b.std(0)
        return float(np.abs((a * b).mean(0)).mean())

    return mean_abs_r(d) / mean_abs_r(1)


def _train_config(config: dict[str, Any], seed: int, **override: Any):
    from structlearn.train import TrainConfig

    section = {**config["training"], **override}
    return TrainConfig.from_section(
        section, seed=seed, store_activations=False, record_gradients=False, n_records=1
    )


def learn(name: str, X: np.ndarray, n: int, config: dict[str, Any], seed: int) -> np.ndarray:
    """Filters (n, P²) of objective ``name`` on whitened patches ``X``."""
    if name == "sparse_coding":
        c = config["sparse_coding"]
        return fl.sparse_coding_filters(
            X, n, lambda1=c["lambda1"], n_iter=c["n_iter"], batch_size=c["batch_size"],
            random_state=seed,
        ).W  # fmt: skip
    if name == "ica_infomax":
        c = config["ica_infomax"]
        cfg = _train_config(config, seed, lr=c["lr"])
        return fl.ica_infomax_filters(X, n, nonlinearity=c["nonlinearity"], config=cfg).W
    if name == "gaussian_infomax":
        ridge = config["gaussian_infomax"]["ridge"]
        return fl.gaussian_infomax_filters(X, n, ridge=ridge, config=_train_config(config, seed)).W
    if name == "pca":
        return fl.pca_filters(X, n).W
    return fl.random_filters(n, X.shape[1], random_state=seed).W


def _locality(W: np.ndarray, p: int, window: int) -> dict[str, float]:
    win = min(window, p)
    return {
        "median_best_window_fraction": float(np.median(best_window_fraction(W, (p, p), win))),
        "median_spread_px": float(np.median(spatial_spread(W, (p, p)))),
        "spread_ratio": float(np.median(spatial_spread(W, (p, p)))) / uniform_spread(p),
        "chance_fraction": win * win / (p * p),
    }


class NaturalFilters(Study):
    """Locality of fully connected layers learned on natural-image patches, against patch size."""

    name = "natural_filters"
    summary = "Do FC layers grow local filters on natural images (not only mosaics)?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        data = load_source(config["data"], random_state=0)
        return data.require_images("natural_filters"), data.to_dict()

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        images, _ = shared
        window = config["analysis"]["window"]
        n_per = -(-config["data"]["n_patches"] // len(images))
        metrics: dict[str, Any] = {"sizes": {}}
        filters: dict[str, dict[str, np.ndarray]] = {}
        for p in config["data"]["patch_sizes"]:
            rng = np.random.default_rng([seed, p])
            raw, _ = random_patches(images, p, n_per, random_state=rng)
            raw = raw[rng.permutation(len(raw))[: config["data"]["n_patches"]]]
            raw = raw - raw.mean(axis=1, keepdims=True)
            X = PatchWhitener(config["data"]["zca_eps"]).fit_transform(raw)
            n = min(p * p - 1, config["max_filters"])  # the patch mean is removed: rank P² − 1
            size: dict[str, Any] = {
                "correlation_ratio": distance_correlation_ratio(raw, p, min(window, p - 1)),
                "control_random_bank": _locality(
                    fl.random_filters(n, p * p, random_state=seed + 7919).W, p, window
                ),
            }
            filters[str(p)] = {}
            for name in config["methods"]:
                W = learn(name, X, n, config, seed)
                size[name] = _locality(W, p, window)
                filters[str(p)][name] = W
            metrics["sizes"][str(p)] = size
        return SeedResult(metrics, {"filters": filters})

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        p = str(max(config["data"]["patch_sizes"]))
        w = a["window"]
        premise = Premise(
            f"pixels {w} px apart are much less correlated than neighbours in the photographs "
            f"(mean |r| ratio below {a['independence_below']:g}, {p}×{p} patches, before whitening)",
            Measure(f"sizes.{p}.correlation_ratio", "|r| at the window's distance / |r| adjacent"),
            interval_below(a["independence_below"]),
        )
        random_ctl = Control(
            "random filters",
            Measure(f"sizes.{p}.control_random_bank.median_best_window_fraction", "random bank"),
        )
        out = []
        for name, paper in HIGHER_ORDER.items():
            if name in config["methods"]:
                out.append(
                    Claim(
                        text=f"{name} on natural {p}×{p} patches grows local filters: the median "
                        f"filter keeps > {a['local_above']:g} of its energy in a {w}×{w} window",
                        paper=f"Yuan et al. 2021; {paper}",
                        measurement=_fraction(p, name),
                        rule=interval_above(a["local_above"]),
                        premise=premise,
                        alternatives=[
                            Alternative(_spread(p, name), interval_below(a["spread_below"]))
                        ],
                        controls=[random_ctl],
                    )
                )
        local = [
            Control(f"{m}'s filters", _fraction(p, m))
            for m in HIGHER_ORDER
            if m in config["methods"]
        ]
        for name, paper in SECOND_ORDER.items():
            if name in config["methods"]:
                out.append(
                    Claim(
                        text=f"second-order coding ({name}) on natural {p}×{p} patches does not "
                        f"localise: every seed's median {w}×{w}-window fraction below "
                        f"{a['local_above']:g}",
                        paper=paper,
                        measurement=_fraction(p, name),
                        rule=all_below(a["local_above"]),
                        premise=premise,
                        alternatives=[Alternative(_spread(p, name), all_below(a["spread_below"]))],
                        controls=local or [random_ctl],
                    )
                )
        return out

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for p in config["data"]["patch_sizes"]:
            for name in [*config["methods"], "control_random_bank"]:
                key = f"sizes.{p}.{name}"
                rows.append(
                    {
                        "patch": f"{p}×{p}",
                        "objective": name,
                        "median best-window fraction": seed_summary(
                            per_seed(records, f"{key}.median_best_window_fraction")
                        ),
                        "chance": round(per_seed(records, f"{key}.chance_fraction")[0], 3),
                        "median spread (px)": seed_summary(
                            per_seed(records, f"{key}.median_spread_px")
                        ),
                        "uniform spread (px)": round(uniform_spread(p), 2),
                    }
                )
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        w = config["analysis"]["window"]
        sizes = config["data"]["patch_sizes"]
        return {
            "locality_vs_patch_size": (
                _locality_figure(config, records),
                f"Left: median share of filter energy inside the best {w}×{w} window; right: "
                "median spatial spread of filter energy (px), against patch size; mean over seeds "
                "with each seed as a dot. Dashed: chance (energy spread uniformly: window²/P² and "
                "√((P²−1)/6) px).",
            ),
            "filters": (
                _filters_figure(records[0].artefacts["filters"][str(max(sizes))], max(sizes)),
                f"Filters learned on whitened {max(sizes)}×{max(sizes)} patches (seed "
                f"{records[0].seed}), each scaled symmetrically around 0 (grey).",
            ),
        }

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        _, described = self.prepare(config)
        return {"data": described}


def _fraction(p: str, name: str) -> Measure:
    return Measure(f"sizes.{p}.{name}.median_best_window_fraction", f"{name}'s median fraction")


def _spread(p: str, name: str) -> Measure:
    return Measure(f"sizes.{p}.{name}.spread_ratio", f"{name}'s median spread / uniform spread")


def _locality_figure(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    sizes = np.array(config["data"]["patch_sizes"])
    w = config["analysis"]["window"]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), constrained_layout=True)
    for i, name in enumerate([*config["methods"], "control_random_bank"]):
        for ax, key in zip(axes, ("median_best_window_fraction", "median_spread_px")):
            vals = np.stack([per_seed(records, f"sizes.{p}.{name}.{key}") for p in sizes])
            ax.plot(sizes, vals.mean(1), "o-", color=f"C{i}", label=name)
            ax.plot(np.repeat(sizes, vals.shape[1]), vals.ravel(), ".", color=f"C{i}", ms=3)
    grid = np.linspace(sizes.min(), sizes.max(), 50)
    axes[0].plot(grid, np.minimum(1, w * w / grid**2), "k--", lw=1, label="chance")
    axes[1].plot(grid, np.sqrt((grid**2 - 1) / 6), "k--", lw=1, label="uniform energy")
    axes[0].set(xlabel="patch side (px)", ylabel=f"energy in best {w}×{w} window", ylim=(0, 1))
    axes[1].set(xlabel="patch side (px)", ylabel="spatial spread (px)")
    axes[0].legend(frameon=False, fontsize="small")
    return fig


def _filters_figure(filters: dict[str, np.ndarray], p: int) -> Any:
    import matplotlib.pyplot as plt

    n = len(filters)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.9), constrained_layout=True, squeeze=False)
    for ax, (name, W) in zip(axes.ravel(), filters.items()):
        plot_filter_grid(W, (p, p), ax=ax, n_max=144)
        ax.set_title(name, fontsize=10)
    return fig


STUDY = NaturalFilters()
