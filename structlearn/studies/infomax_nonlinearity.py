"""Study: is the InfoMax nonlinearity of a bounded unit the cumulative distribution of its input?

Claim (Laughlin 1981; the efficient-coding account of activation functions): a unit with a
bounded output and small output noise transmits the most information when every output level is
used equally often, so its optimal nonlinearity is the cumulative distribution function (CDF) of
its input (histogram equalisation); saturating nonlinearities thereby give high resolution to
frequent inputs, and transmit more than a linear unit over the same range.

Inputs are local contrasts of natural images (Weber contrast (I − Ī)/Ī against a Gaussian
surround, as Laughlin measured; or the response of an edge filter), sampled at random pixels of the
photographs (or the user's images, ``data.source=images:DIR``). Per seed, on one half of the
sample: a monotone piecewise-linear unit (:class:`structlearn.models.monotone.PiecewiseLinearUnit`)
and a logistic unit are trained to maximise their output entropy; a linear unit covers the same
range. On the other half: the Kolmogorov–Smirnov distance of each unit to the empirical CDF, and
the information each transmits at the stated output noise
(:func:`structlearn.analysis.nonlinearity.transmitted_information`, nats).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.nonlinearity import cdf_distance, transmitted_information
from structlearn.config import Field, seeds_fragment
from structlearn.data.sources import data_fragment, load_source
from structlearn.models.monotone import (
    LogisticUnit,
    PiecewiseLinearUnit,
    fit_infomax_unit,
    linear_unit,
)
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    interval_above,
    interval_below,
)

UNITS = ("equalising", "coarse", "logistic", "linear")

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        ("photos", "images"),
        "photos",
        response=Field(str, "contrast", choices=["contrast", "edge"], doc="what the unit sees"),
        surround_px=Field(float, 2.0, low=0.5, high=50.0, doc="Gaussian surround / edge scale"),
        n_responses=Field(int, 20000, low=200, high=10**7, doc="inputs sampled per seed"),
    ),
    "unit": {
        "n_knots": Field(int, 256, low=4, high=4096, doc="segments of the piecewise-linear unit"),
        "steps": Field(int, 400, low=1, high=10**5, doc="Adam steps"),
        "lr": Field(float, 0.1, low=1e-6, high=10.0),
        "range_quantile": Field(
            float, 0.001, low=0.0, high=0.25, doc="units span the [q, 1 − q] input quantiles"
        ),
    },
    "noise_std": Field(float, 0.02, low=1e-3, high=0.5, doc="output noise σ (output range [0, 1])"),
    "analysis": {
        "cdf_tolerance": Field(float, 0.05, low=0.0, high=1.0, doc="'is the CDF': KS below"),
        "nonuniform_above": Field(
            float, 0.1, low=0.0, high=1.0, doc="premise: the linear unit's KS distance above"
        ),
        "gain_above": Field(float, 0.05, low=0.0, high=10.0, doc="information gain (nats) above"),
    },
}


def local_responses(image: np.ndarray, kind: str, scale: float) -> np.ndarray:
    """Per-pixel inputs of a unit looking at ``image`` (H, W) in [0, 1], same shape.

    ``contrast``: Weber contrast (I − Ī)/Ī against a Gaussian surround Ī of std ``scale`` px
    (an offset of 1% of the range keeps dark pixels finite); ``edge``: the horizontal derivative
    of a Gaussian of std ``scale`` px.
    """
    from scipy.ndimage import gaussian_filter

    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = img.mean(axis=2)
    if kind == "contrast":
        surround = gaussian_filter(img, scale) + 0.01
        return (img + 0.01 - surround) / surround
    return gaussian_filter(img, scale, order=(0, 1))


def sample_responses(images: list[np.ndarray], kind: str, scale: float, n: int, rng) -> np.ndarray:
    """``n`` responses at uniformly drawn pixels (images drawn in proportion to their area)."""
    margin = int(np.ceil(3 * scale))
    maps = [local_responses(im, kind, scale)[margin:-margin, margin:-margin] for im in images]
    sizes = np.array([m.size for m in maps], dtype=np.float64)
    which = rng.choice(len(maps), size=n, p=sizes / sizes.sum())
    return np.array([maps[k].flat[rng.integers(maps[k].size)] for k in which])


def _units(x: np.ndarray, cfg: dict[str, Any]) -> dict[str, Any]:
    q = cfg["unit"]["range_quantile"]
    low, high = np.quantile(x, [q, 1 - q])
    fit = {"steps": cfg["unit"]["steps"], "lr": cfg["unit"]["lr"]}
    k = cfg["unit"]["n_knots"]
    return {
        "equalising": fit_infomax_unit(PiecewiseLinearUnit(low, high, k), x, **fit),
        "coarse": fit_infomax_unit(PiecewiseLinearUnit(low, high, max(1, k // 4)), x, **fit),
        "logistic": fit_infomax_unit(LogisticUnit(np.median(x), x.std() / 2), x, **fit),
        "linear": linear_unit(low, high),
    }


def _score(units: dict[str, Any], x: np.ndarray, sigma: float) -> dict[str, dict[str, float]]:
    return {
        name: {
            "cdf_distance": cdf_distance(g, x),
            "information_nats": transmitted_information(g(x), sigma),
        }
        for name, g in units.items()
    }


def _excess_kurtosis(x: np.ndarray) -> float:
    z = (x - x.mean()) / x.std()
    return float(np.mean(z**4) - 3.0)


class InfomaxNonlinearity(Study):
    """Laughlin's equalisation: the InfoMax nonlinearity of a bounded unit on natural contrasts."""

    name = "infomax_nonlinearity"
    summary = "Is the InfoMax nonlinearity of a bounded unit the CDF of its input (Laughlin)?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        data = load_source(config["data"], random_state=0)
        return data.require_images("infomax_nonlinearity"), data.to_dict()

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        images, _ = shared
        d, sigma = config["data"], config["noise_std"]
        rng = np.random.default_rng(seed)
        x = sample_responses(images, d["response"], d["surround_px"], d["n_responses"], rng)
        train, test = x[::2], x[1::2]
        units = _units(train, config)
        low, high = np.quantile(
            train, [config["unit"]["range_quantile"], 1 - config["unit"]["range_quantile"]]
        )
        u = rng.uniform(low, high, size=len(x))  # control: inputs already uniform
        uniform_units = _units(u[::2], config)
        scores = _score(units, test, sigma)
        uniform = _score(uniform_units, u[1::2], sigma)
        gain = lambda s, name: s[name]["information_nats"] - s["linear"]["information_nats"]  # noqa: E731
        metrics = {
            "units": scores,
            "gain_nats": {n: gain(scores, n) for n in ("equalising", "coarse", "logistic")},
            "uniform_control": {**uniform, "gain_nats": gain(uniform, "equalising")},
            "inputs": {
                "excess_kurtosis": _excess_kurtosis(x),
                "low": float(low),
                "high": float(high),
            },
        }
        grid = np.linspace(low, high, 400)
        artefacts = {
            "grid": grid,
            "curves": {n: g(grid) for n, g in units.items()},
            "cdf": np.searchsorted(np.sort(test), grid, side="right") / len(test),
            "sample": test[:20000],
        }
        return SeedResult(metrics, artefacts)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a, sigma = config["analysis"], config["noise_std"]
        premise = Premise(
            f"the inputs are far from uniform over the unit's range (the linear unit's KS distance "
            f"to their CDF above {a['nonuniform_above']:g}); otherwise linear already equalises",
            Measure("units.linear.cdf_distance", "linear unit's KS distance"),
            interval_above(a["nonuniform_above"]),
        )
        return [
            Claim(
                text="the InfoMax nonlinearity of a bounded unit is the cumulative distribution of "
                f"its input: the learned unit is within {a['cdf_tolerance']:g} of the held-out CDF",
                paper="Laughlin 1981",
                measurement=Measure("units.equalising.cdf_distance", "learned unit's KS distance"),
                rule=interval_below(a["cdf_tolerance"]),
                premise=premise,
                alternatives=[
                    Alternative(Measure("units.coarse.cdf_distance", "coarse unit (1/4 knots)"))
                ],
                controls=[
                    Control("linear unit", Measure("units.linear.cdf_distance", "linear KS"))
                ],
            ),
            Claim(
                text="saturating, input-matched nonlinearities transmit more than a linear unit "
                f"over the same range (gain above {a['gain_above']:g} nats at output noise "
                f"σ = {sigma:g})",
                paper="Laughlin 1981; Bell & Sejnowski 1995",
                measurement=Measure("gain_nats.equalising", "learned − linear", "nats"),
                rule=interval_above(a["gain_above"]),
                premise=premise,
                alternatives=[
                    Alternative(Measure("gain_nats.logistic", "logistic − linear", "nats"))
                ],
                controls=[
                    Control(
                        "uniform inputs (nothing to equalise)",
                        Measure("uniform_control.gain_nats", "learned − linear", "nats"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        return [
            {
                "unit": name,
                "KS distance to the input CDF": seed_summary(
                    per_seed(records, f"units.{name}.cdf_distance")
                ),
                f"information at σ={config['noise_std']:g} (nats)": seed_summary(
                    per_seed(records, f"units.{name}.information_nats")
                ),
                "on uniform inputs (nats)": seed_summary(
                    per_seed(records, f"uniform_control.{name}.information_nats")
                ),
            }
            for name in UNITS
        ]

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        sigma = config["noise_std"]
        ceiling = np.log(1 / sigma) - 0.5 * np.log(2 * np.pi * np.e)
        return {
            "nonlinearity": (
                _curves(records[0].artefacts),
                f"Seed {records[0].seed}: histogram of the inputs ({config['data']['response']}, "
                "held-out half) and each unit's nonlinearity against the inputs' empirical CDF "
                "(black). The equalising unit was trained only to maximise its output entropy.",
            ),
            "information": (
                _information(records, sigma, ceiling),
                f"Information each unit transmits about its input at output noise σ = {sigma:g} "
                f"(nats; mean over seeds, dots per seed); dashed: uniform outputs' "
                f"{ceiling:.2f} nats, the ceiling.",
            ),
        }

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": self.prepare(config)[1]}


def _curves(art: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.8, 4.2), constrained_layout=True)
    grid = art["grid"]
    ax2 = ax.twinx()
    ax2.hist(art["sample"], bins=80, range=(grid[0], grid[-1]), color="0.85")
    ax2.set_yticks([])
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(grid, art["cdf"], "k-", lw=2.5, label="empirical CDF")
    for i, (name, y) in enumerate(art["curves"].items()):
        ax.plot(grid, y, color=f"C{i}", lw=1.4, ls="--" if name == "linear" else "-", label=name)
    ax.set(xlabel="input (local contrast)", ylabel="output g(x)", ylim=(-0.02, 1.02))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    return fig


def _information(records: list[SeedRecord], sigma: float, ceiling: float) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.6), constrained_layout=True)
    for i, name in enumerate(UNITS):
        for j, (key, label) in enumerate(
            (("units", "natural inputs"), ("uniform_control", "uniform inputs"))
        ):
            v = per_seed(records, f"{key}.{name}.information_nats")
            x = i + (j - 0.5) * 0.35
            ax.bar(x, v.mean(), 0.35, color=f"C{j}", label=label if i == 0 else None)
            ax.plot(np.full(v.size, x), v, "k.", ms=3)
    ax.axhline(ceiling, color="k", ls="--", lw=1)
    ax.set_xticks(range(len(UNITS)), UNITS)
    ax.set_ylabel(f"I(X; g(X) + N), σ = {sigma:g} (nats)")
    ax.legend(frameon=False, fontsize="small")
    return fig


STUDY = InfomaxNonlinearity()
