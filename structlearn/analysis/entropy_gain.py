"""Per-layer entropy, the entropy gained by each layer, and the depth after which gains stop.

For every layer of a stack (or every tap of a network) on the same inputs, after a fixed
normalisation that makes layers comparable, this module reports

- the Gaussian (log-determinant) entropy :math:`H_G = \\tfrac12\\log\\det(2\\pi e\\,\\hat\\Sigma)`,
  an upper bound on the entropy of any distribution with that covariance;
- the sum of per-unit entropies :math:`\\sum_i \\hat h(z_i)` (binned, :math:`\\hat h = \\hat H_{bins}
  + \\log \\Delta_i`, or Kozachenko--Leonenko on each unit);
- their difference :math:`\\sum_i \\hat h(z_i) - H_G`, a lower bound on the total correlation
  :math:`TC = \\sum_i h(z_i) - h(z)` (because :math:`h(z) \\le H_G`) up to the marginals' error;
- the Kozachenko--Leonenko entropy of the whole layer where its dimension allows (at most
  ``knn_max_dim``, 16 by default: above that it is badly biased, measured by the estimators issue
  as +0.6 bits at 16 dimensions, +3.8 at 32, +13 at 64 on Gaussians), beside its bias on a Gaussian
  of the same covariance and sample count, so a reader sees how far to trust it;

then the gain :math:`g_l = H(l) - H(l-1)` and the recommended depth: the first layer after which
every gain stays below a tolerance, with a bootstrap interval over samples.

References
----------
- R. Linsker, "Self-organization in a perceptual network", IEEE Computer 21 (1988): InfoMax, layers
  that maximise the information (for Gaussian signals, the log-determinant) they pass on.
- A. J. Bell & T. J. Sejnowski, "An information-maximization approach to blind separation and blind
  deconvolution", Neural Computation 7 (1995): entropy of a layer's outputs as the objective.
- L. F. Kozachenko & N. N. Leonenko, "Sample estimate of the entropy of a random vector", Problems
  of Information Transmission 23 (1987).
- S. Watanabe, "Information theoretical analysis of multivariate correlation", IBM J. Res. Dev. 4
  (1960): total correlation.
- Y. Ma, H. Derksen, W. Hong, J. Wright, "Segmentation of multivariate mixed data via lossy data
  coding and compression", TPAMI 29 (2007), and K. H. R. Chan et al., "ReduNet", JMLR 23 (2022):
  log-determinant rates grown layer by layer, whose saturation is what the depth here detects.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from structlearn.analysis.base import AnalysisResult, check_layers, new_axes
from structlearn.estimators import binning_entropy, gaussian_entropy, knn_entropy
from structlearn.utils.validation import (
    check_array,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "MEASURES",
    "NORMALISATIONS",
    "EntropyGain",
    "LayerEntropies",
    "analyze_entropy_gain",
    "layer_entropies",
    "layer_entropy",
    "normalise_layer",
    "recommended_depth",
]

#: ways to make layers comparable before their entropies are taken (see :func:`normalise_layer`)
NORMALISATIONS = ("standardise", "pca", "none")
#: entropies whose gain decides the depth (see :func:`analyze_entropy_gain`)
MEASURES = ("gaussian", "marginal", "total_correlation")
_MARGINALS = ("binning", "knn")
_DESCRIPTIONS = {
    "standardise": "each unit centred and scaled to unit variance (constant units dropped)",
    "pca": "units standardised, then projected on the top {k} principal components (not whitened)",
    "none": "raw activations (constant units dropped)",
}


# ------------------------------------------------------------------------------------ validation
#: Largest magnitude accepted in a layer: squared deviations of larger values overflow float64.
MAX_MAGNITUDE = 1e150


def _check_layers(layers: Any) -> tuple[list[str], list[np.ndarray]]:
    names, arrays = check_layers(layers, min_samples=3)
    for name, a in zip(names, arrays, strict=True):
        top = float(np.abs(a).max()) if a.size else 0.0
        if top > MAX_MAGNITUDE:
            raise ValueError(
                f"layers[{name!r}]: values up to {top:.3g}; their squares overflow float64 "
                f"(|x| <= {MAX_MAGNITUDE:.0e} is accepted); rescale the layer"
            )
    return names, arrays


@dataclass(frozen=True)
class _Normaliser:
    """A fitted normalisation: kept units, their centre and scale, and the PCA basis (or None)."""

    keep: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    basis: np.ndarray | None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = (x[:, self.keep] - self.mean) / self.scale
        return z if self.basis is None else z @ self.basis


def _fit_normaliser(x: np.ndarray, normalisation: str, n_components: int | None) -> _Normaliser:
    """Fit the normalisation on ``x`` (units with spread below 1e-12 of the layer's scale are
    constant and dropped)."""
    std = x.std(axis=0)
    keep = std > 1e-12 * max(float(np.abs(x).max()), 1.0)
    if normalisation == "none":
        return _Normaliser(keep, np.zeros(int(keep.sum())), np.ones(int(keep.sum())), None)
    mean, scale = x[:, keep].mean(axis=0), std[keep]
    basis = None
    if normalisation == "pca":
        k = int(keep.sum()) if n_components is None else int(n_components)
        check_scalar(k, "n_components", kind=(int, np.integer), low=1, high=max(int(keep.sum()), 1))
        basis = np.linalg.svd((x[:, keep] - mean) / scale, full_matrices=False)[2][:k].T
    return _Normaliser(keep, mean, scale, basis)


def normalise_layer(
    x: Any, normalisation: str = "standardise", n_components: int | None = None
) -> tuple[np.ndarray, int]:
    r"""A layer's activations after the fixed normalisation that makes layers comparable.

    Parameters
    ----------
    x : array-like, shape (n_samples, n_units)
        One layer's activations.
    normalisation : {"standardise", "pca", "none"}
        ``"standardise"``: :math:`z_i = (x_i - \bar x_i)/s_i` per unit (removes each unit's scale,
        which no entropy of a representation should reward); ``"pca"``: standardise, then keep the
        scores on the top ``n_components`` principal components (a common dimension for layers of
        different widths; not whitened, so the kept variances still count); ``"none"``: raw.
        Constant units (zero spread) have differential entropy :math:`-\infty` and are dropped.
    n_components : int or None
        Dimension kept by ``"pca"`` (default: all non-constant units).

    Returns
    -------
    (numpy.ndarray, int)
        The normalised features, shape (n_samples, n_kept), and the number of constant units
        dropped.

    Examples
    --------
    >>> z, n_dropped = normalise_layer([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    >>> z.ravel().round(4).tolist(), n_dropped
    ([-1.2247, 0.0, 1.2247], 1)
    """
    xa = check_array(x, "x", ndim=2, min_samples=2)
    check_option(normalisation, "normalisation", NORMALISATIONS)
    normaliser = _fit_normaliser(xa, normalisation, n_components)
    return normaliser(xa), int((~normaliser.keep).sum())


# ---------------------------------------------------------------------------------- estimation
def _marginal_entropy(z: np.ndarray, marginal: str, n_bins: int, k: int) -> float:
    r"""Sum of per-unit differential entropies (nats); binned: :math:`\hat H_{bins} + \log\Delta`."""
    total = 0.0
    for col in z.T:
        if marginal == "knn":
            total += knn_entropy(col, k=k)
        else:
            width = (float(col.max()) - float(col.min())) / n_bins
            total += binning_entropy(col, n_bins=n_bins) + math.log(width)
    return total


def _measure(z: np.ndarray, measure: str, marginal: str, n_bins: int, k: int) -> float:
    if measure == "gaussian":
        return gaussian_entropy(z)
    h_marg = _marginal_entropy(z, marginal, n_bins, k)
    return h_marg if measure == "marginal" else h_marg - gaussian_entropy(z)


def _knn_with_bias(z: np.ndarray, k: int, rng: np.random.Generator) -> tuple[float, float]:
    """Whole-layer Kozachenko--Leonenko entropy and its bias on a Gaussian of the same covariance."""
    h = knn_entropy(z, k=k, random_state=rng)
    cov = np.atleast_2d(np.cov(z, rowvar=False))
    g = rng.multivariate_normal(np.zeros(z.shape[1]), cov, size=z.shape[0], method="cholesky")
    closed = 0.5 * (z.shape[1] * np.log(2 * np.pi * np.e) + np.linalg.slogdet(cov)[1])
    return h, knn_entropy(g, k=k, random_state=rng) - float(closed)


class DeadLayerError(ValueError):
    """A layer whose every unit is constant: no finite entropy exists."""


def layer_entropy(
    x: Any,
    measure: str = "gaussian",
    *,
    normalisation: str = "standardise",
    n_components: int | None = None,
    marginal: str = "binning",
    n_bins: int = 30,
    k: int = 3,
) -> tuple[float, int]:
    r"""One layer's ``measure`` (nats) after ``normalisation``, and the dimension it was taken in.

    ``measure``: ``"gaussian"`` (:math:`\tfrac12\log\det(2\pi e\hat\Sigma)`), ``"marginal"``
    (sum of per-unit entropies) or ``"total_correlation"`` (their difference); other parameters
    as in :func:`layer_entropies`. A layer whose units are all constant (a dead layer) has
    entropy :math:`-\infty`: it raises :class:`DeadLayerError` (a ``ValueError`` naming ``x``).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(20000, 2))
    >>> h, d = layer_entropy(x)
    >>> bool(abs(h - np.log(2 * np.pi * np.e)) < 0.01), d
    (True, 2)
    """
    check_option(measure, "measure", MEASURES)
    _check_options(normalisation, marginal, n_bins, k, 0)
    z, _ = normalise_layer(x, normalisation, n_components)
    if z.shape[1] == 0:
        raise DeadLayerError(
            "x: every unit is constant (a dead or saturated layer); its entropy is -inf"
        )
    return _measure(z, measure, marginal, n_bins, k), int(z.shape[1])


@dataclass
class LayerEntropies(AnalysisResult):
    """Entropies (nats) of every layer after one normalisation.

    Attributes
    ----------
    names : list of str
    n_units : ndarray (n_layers,)
        Units per layer as given.
    n_dims : ndarray (n_layers,)
        Dimension after normalisation (constant units dropped, or the PCA dimension).
    n_constant_units : ndarray (n_layers,)
    n_samples : int
    normalisation : str
        What was done to every layer before its entropy was taken, in words.
    marginal_method : str
        ``"binning"`` (``n_bins`` equal-width bins per unit) or ``"knn"``.
    gaussian_nats : ndarray (n_layers,)
        :math:`\\tfrac12\\log\\det(2\\pi e\\hat\\Sigma)`.
    marginal_nats : ndarray (n_layers,)
        :math:`\\sum_i \\hat h(z_i)`.
    total_correlation_nats : ndarray (n_layers,)
        ``marginal_nats - gaussian_nats`` (a lower bound on the total correlation).
    total_correlation_floor_nats : ndarray (n_layers,)
        The same difference on the layer with every unit permuted independently over samples
        (true total correlation 0): the estimators' bias floor. A total correlation at or below
        it (it is often negative on small samples) cannot be told from independent units.
    knn_nats, knn_bias_nats : ndarray (n_layers,)
        Kozachenko--Leonenko entropy of the whole layer and its bias on a Gaussian of the same
        covariance, dimension and sample count; NaN (``None`` in :meth:`to_dict`) where the
        dimension exceeds ``knn_max_dim``.
    knn_max_dim : int
    """

    names: list[str]
    n_units: np.ndarray
    n_dims: np.ndarray
    n_constant_units: np.ndarray
    n_samples: int
    normalisation: str
    marginal_method: str
    gaussian_nats: np.ndarray
    marginal_nats: np.ndarray
    total_correlation_nats: np.ndarray
    knn_nats: np.ndarray
    knn_bias_nats: np.ndarray
    knn_max_dim: int
    total_correlation_floor_nats: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; entries not computed (NaN) become ``None``."""
        return _nan_to_none(super().to_dict())

    def plot(self, ax: Any = None) -> Any:
        """Gaussian, marginal and (where computed) kNN entropy per layer."""
        ax = new_axes(ax)
        x = np.arange(1, len(self.names) + 1)
        ax.plot(x, self.gaussian_nats, "o-", label="Gaussian (logdet)")
        ax.plot(
            x, self.marginal_nats, "s--", label=f"sum of unit entropies ({self.marginal_method})"
        )
        ok = np.isfinite(self.knn_nats)
        if ok.any():
            ax.errorbar(
                x[ok],
                self.knn_nats[ok],
                yerr=np.abs(self.knn_bias_nats[ok]),
                fmt="^:",
                capsize=3,
                label="Kozachenko-Leonenko (bar: bias on a Gaussian)",
            )
        ax.set_xticks(x, self.names, rotation=30 if len(x) > 6 else 0)
        ax.set_ylabel("entropy [nats]")
        ax.legend(frameon=False, fontsize="small")
        return ax


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return obj


def _common_dim(arrays: Sequence[np.ndarray], normalisation: str, n_components: Any) -> int | None:
    if normalisation != "pca":
        return None
    widest = min(int(_fit_normaliser(a, "standardise", None).keep.sum()) for a in arrays)
    if n_components is None:
        return widest
    return int(
        check_scalar(n_components, "n_components", kind=(int, np.integer), low=1, high=widest)
    )


def _check_options(
    normalisation: str, marginal: str, n_bins: int, k: int, knn_max_dim: int
) -> None:
    check_option(normalisation, "normalisation", NORMALISATIONS)
    check_option(marginal, "marginal", _MARGINALS)
    check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=2)
    check_scalar(k, "k", kind=(int, np.integer), low=1)
    check_scalar(knn_max_dim, "knn_max_dim", kind=(int, np.integer), low=0)


def _entropies(
    names: list[str],
    arrays: list[np.ndarray],
    normalisation: str,
    n_components: int | None,
    marginal: str,
    n_bins: int,
    k: int,
    knn_max_dim: int,
    rng: np.random.Generator,
) -> LayerEntropies:
    cols: dict[str, list[float]] = {key: [] for key in ("g", "m", "knn", "bias", "d", "c")}
    floor: list[float] = []
    for a in arrays:
        z, n_constant = normalise_layer(a, normalisation, n_components)
        if z.shape[1] == 0:
            raise ValueError("layers: a layer has only constant units; its entropy is -inf")
        g = gaussian_entropy(z)
        m = _marginal_entropy(z, marginal, n_bins, k)
        h_knn, bias = _knn_with_bias(z, k, rng) if z.shape[1] <= knn_max_dim else (np.nan,) * 2
        for key, v in zip(cols, (g, m, h_knn, bias, z.shape[1], n_constant), strict=True):
            cols[key].append(v)
        independent = np.column_stack([rng.permutation(col) for col in z.T])
        floor.append(m - gaussian_entropy(independent))  # same marginals, no dependence
    if any(cols["c"]):
        warnings.warn(
            f"layers: dropped constant units (per layer {cols['c']}); their differential entropy "
            "is -inf. Dead units usually mean saturated or collapsed features.",
            UserWarning,
            stacklevel=3,
        )
    desc = _DESCRIPTIONS[normalisation].format(k=n_components)
    return LayerEntropies(
        names=names,
        n_units=np.array([a.shape[1] for a in arrays]),
        n_dims=np.array(cols["d"], dtype=int),
        n_constant_units=np.array(cols["c"], dtype=int),
        n_samples=len(arrays[0]),
        normalisation=desc,
        marginal_method=marginal,
        gaussian_nats=np.array(cols["g"]),
        marginal_nats=np.array(cols["m"]),
        total_correlation_nats=np.array(cols["m"]) - np.array(cols["g"]),
        knn_nats=np.array(cols["knn"]),
        knn_bias_nats=np.array(cols["bias"]),
        knn_max_dim=int(knn_max_dim),
        total_correlation_floor_nats=np.array(floor),
    )


def layer_entropies(
    layers: Any,
    *,
    normalisation: str = "standardise",
    n_components: int | None = None,
    marginal: str = "binning",
    n_bins: int = 30,
    k: int = 3,
    knn_max_dim: int = 16,
    random_state: int | np.random.Generator | None = 0,
) -> LayerEntropies:
    r"""Entropy of every layer (nats) by several estimators, after one fixed normalisation.

    Parameters
    ----------
    layers : mapping name -> array (n_samples, n_units), or list of arrays / tensors
        Every layer's features on the same inputs (e.g. the taps an
        :class:`~structlearn.models.mlp.MLP` returns, or ``stack.transform_all(X)``); extra axes
        are flattened.
    normalisation : {"standardise", "pca", "none"}
        See :func:`normalise_layer`; with ``"pca"`` every layer is projected to the same
        dimension ``n_components`` (default: the narrowest layer's).
    n_components : int or None
        Common dimension for ``"pca"``.
    marginal : {"binning", "knn"}
        Per-unit entropy: ``n_bins`` equal-width bins over the unit's range,
        :math:`\hat h = -\sum_b \hat p_b\log\hat p_b + \log\Delta` (:math:`\Delta` the bin width),
        or the one-dimensional Kozachenko--Leonenko estimator with ``k`` neighbours.
    n_bins, k : int
        Bins per unit; neighbour order of the kNN estimators.
    knn_max_dim : int
        Whole-layer Kozachenko--Leonenko only up to this dimension.
    random_state : int, Generator or None
        Seeds the kNN jitter and the Gaussian sample behind the kNN bias.

    Returns
    -------
    LayerEntropies

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> res = layer_entropies([x, 2 * x], normalisation="none", knn_max_dim=0)
    >>> round(float(res.gaussian_nats[1] - res.gaussian_nats[0]), 6) == round(3 * float(np.log(2)), 6)
    True
    """
    names, arrays = _check_layers(layers)
    _check_options(normalisation, marginal, n_bins, k, knn_max_dim)
    dim = _common_dim(arrays, normalisation, n_components)
    rng = check_random_state(random_state)
    return _entropies(names, arrays, normalisation, dim, marginal, n_bins, k, knn_max_dim, rng)


# ------------------------------------------------------------------------------------ the depth
def recommended_depth(gains: Any, tolerance: float) -> int:
    r"""The first layer after which every gain stays below ``tolerance`` (1-based, at least 1).

    :math:`d^\star = \min\{d \ge 1 : g_l < \tau \ \forall\, l > d\}`, where ``gains[l - 1]`` is
    :math:`g_l = H(l) - H(l-1)`; ``gains[0]`` (the first layer's gain over the input, NaN when
    unknown) never lowers the depth below 1. Gains are signed: a layer that loses entropy has
    a gain below any positive tolerance.

    Examples
    --------
    >>> recommended_depth([np.nan, 2.0, 0.5, 0.01, 0.02], tolerance=0.1)
    3
    >>> recommended_depth([np.nan, 0.0, 0.0], tolerance=0.1)
    1
    """
    tol = check_scalar(tolerance, "tolerance", low=0.0, low_inclusive=False)
    g = check_array(gains, "gains", ndim=1, dtype=None, allow_nonfinite=True)
    if not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)):
        raise TypeError(f"gains: expected real numbers, got dtype={g.dtype}")
    g = g.astype(np.float64)
    if np.isnan(g[1:]).any() or np.isinf(g).any():
        raise ValueError(
            "gains: expected finite gains (only gains[0], the gain over an unknown input, may be "
            f"NaN), got {g.tolist()}"
        )
    above = np.flatnonzero(g[1:] >= tol)
    return int(above[-1] + 2) if above.size else 1


@dataclass
class EntropyGain(AnalysisResult):
    """Entropy gain per layer and the recommended depth.

    Attributes
    ----------
    entropies : LayerEntropies
        Every estimator's entropy per layer (the input first, named ``"input"``, when given).
    measure : str
        The entropy whose gain decides: ``"gaussian"``, ``"marginal"`` or ``"total_correlation"``.
    names : list of str
        The layers (input excluded); depth ``d`` means ``names[:d]``.
    entropy_nats : ndarray (n_layers,)
        The chosen measure per layer.
    gain_nats : ndarray (n_layers,)
        :math:`H(l) - H(l-1)`; the first entry is the gain over the input, NaN (``None`` in
        JSON) when no input was given.
    gain_interval_nats : ndarray (n_layers, 2)
        Percentile bootstrap interval of each gain (NaN without bootstrap).
    tolerance : float
        Nats under which a gain counts as none.
    depth : int
        Recommended depth (:func:`recommended_depth`), 1-based.
    depth_interval : list of int
        Percentile bootstrap interval of the depth over resampled inputs (``[depth, depth]``
        without bootstrap).
    depth_bootstrap : ndarray (n_bootstrap_used,)
        The depth on every resample.
    n_bootstrap : int
    n_bootstrap_used : int
        Resamples kept (one where a unit is constant has entropy -inf and is skipped).
    confidence : float
    """

    entropies: LayerEntropies
    measure: str
    names: list[str]
    entropy_nats: np.ndarray
    gain_nats: np.ndarray
    gain_interval_nats: np.ndarray
    tolerance: float
    depth: int
    depth_interval: list[int]
    depth_bootstrap: np.ndarray
    n_bootstrap: int
    n_bootstrap_used: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the entropies nested); NaN entries become ``None``."""
        return _nan_to_none(super().to_dict())

    def plot(self, ax: Any = None) -> Any:
        """Entropy (left axis) and gain (right axis, bars with bootstrap intervals) vs depth."""
        ax = new_axes(ax, figsize=(5.5, 3.6))
        x = np.arange(1, len(self.names) + 1)
        ticks, labels = list(x), list(self.names)
        if self.entropies.names[0] == "input":  # gain of layer 1 is over the input, drawn at 0
            h0 = {
                "gaussian": self.entropies.gaussian_nats,
                "marginal": self.entropies.marginal_nats,
                "total_correlation": self.entropies.total_correlation_nats,
            }[self.measure][0]
            ax.plot([0, 1], [h0, self.entropy_nats[0]], "o:", color="C0", mfc="white")
            ticks, labels = [0, *ticks], ["input", *labels]
        ax.plot(x, self.entropy_nats, "o-", color="C0", label=f"H ({self.measure})")
        ax.set_xlabel("depth (layer)")
        ax.set_ylabel(f"entropy, {self.measure} [nats]", color="C0")
        lo, hi = self.depth_interval
        ax.axvspan(lo - 0.3, hi + 0.3, color="C3", alpha=0.12, lw=0)
        ax.axvline(self.depth, color="C3", lw=1.5, label=f"depth {self.depth} ({lo}-{hi})")
        gx = ax.twinx()
        ok = np.isfinite(self.gain_nats)
        err = np.abs(self.gain_interval_nats[ok].T - self.gain_nats[ok])
        gx.bar(x[ok], self.gain_nats[ok], width=0.4, color="C1", alpha=0.6, label="gain")
        if np.isfinite(err).all():
            gx.errorbar(x[ok], self.gain_nats[ok], yerr=err, fmt="none", ecolor="C1", capsize=3)
        gx.axhline(self.tolerance, color="C1", ls=":", lw=1, label="tolerance")
        gx.axhline(0.0, color="grey", lw=0.5)
        gx.set_ylabel("gain over previous layer [nats]", color="C1")
        ax.set_xticks(ticks, labels, rotation=30 if len(ticks) > 6 else 0)
        handles = ax.get_legend_handles_labels()[0] + gx.get_legend_handles_labels()[0]
        ax.legend(handles=handles, frameon=False, fontsize="small", loc="best")
        return ax


def _gains(values: np.ndarray, has_input: bool) -> np.ndarray:
    """Gains of the layers (input excluded) from the measure of [input,] layers."""
    if has_input:
        return np.diff(values)
    return np.concatenate([[np.nan], np.diff(values)])


def _bootstrap(
    arrays: list[np.ndarray],
    has_input: bool,
    opts: dict[str, Any],
    tolerance: float,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Gains (n_valid, n_layers) and depths (n_valid,) on resampled inputs (the same rows for every
    layer), each layer normalised by the transform fitted on the full sample. A resample on which
    some kept unit is constant (e.g. a rarely active sparse code drawn only at 0) has entropy
    -inf there and is skipped."""
    n = len(arrays[0])
    normalisers = [_fit_normaliser(a, opts["normalisation"], opts["n_components"]) for a in arrays]
    gains, depths = [], []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, size=n)
        zs = [f(a[idx]) for f, a in zip(normalisers, arrays, strict=True)]
        if any((z.std(axis=0) <= 1e-12 * max(float(np.abs(z).max()), 1.0)).any() for z in zs):
            continue
        values = [
            _measure(z, opts["measure"], opts["marginal"], opts["n_bins"], opts["k"]) for z in zs
        ]
        g = _gains(np.array(values), has_input)
        gains.append(g)
        depths.append(recommended_depth(g, tolerance))
    n_layers = len(arrays) - 1 if has_input else len(arrays)
    return np.array(gains).reshape(len(gains), n_layers), np.array(depths, dtype=int)


def analyze_entropy_gain(
    layers: Any,
    *,
    inputs: Any = None,
    measure: str = "gaussian",
    tolerance: float = 0.1,
    normalisation: str = "standardise",
    n_components: int | None = None,
    marginal: str = "binning",
    n_bins: int = 30,
    k: int = 3,
    knn_max_dim: int = 16,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> EntropyGain:
    r"""Entropy per layer, gain over the previous layer, and the recommended depth.

    With :math:`H(l)` the ``measure`` of layer ``l`` after ``normalisation``, the gain is
    :math:`g_l = H(l) - H(l-1)` (layer 1 against ``inputs`` when given) and the recommended depth
    is the first layer after which every gain stays below ``tolerance``
    (:func:`recommended_depth`). Its interval: the same computation on ``n_bootstrap``
    resamples of the inputs (rows drawn with replacement, the same rows for every layer; each
    layer normalised by the transform fitted on the full sample), taking the ``confidence``
    percentile interval.

    Parameters
    ----------
    layers : mapping name -> array (n_samples, n_units), or list of arrays / tensors
        Every layer's features on the same inputs.
    inputs : array-like (n_samples, n_features) or None
        The stack's input; when given, layer 1's gain is measured against it.
    measure : {"gaussian", "marginal", "total_correlation"}
        Which entropy decides the depth (every one is reported in ``entropies``).
    tolerance : float
        Gain (nats) below which a layer adds nothing; must be > 0.
    normalisation, n_components, marginal, n_bins, k, knn_max_dim :
        See :func:`layer_entropies`.
    n_bootstrap : int
        Bootstrap resamples (0: no interval). The kNN estimators are not valid on resamples with
        repeated rows, so ``marginal="knn"`` with a marginal measure needs ``n_bootstrap=0``.
    confidence : float in (0, 1)
    random_state : int, Generator or None

    Returns
    -------
    EntropyGain

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(300, 4))
    >>> res = analyze_entropy_gain([x, x, x], n_bootstrap=5, knn_max_dim=0)
    >>> res.depth, res.depth_interval, res.gain_nats[1:].tolist()
    (1, [1, 1], [0.0, 0.0])
    """
    names, arrays = _check_layers(layers)
    tol = float(check_scalar(tolerance, "tolerance", low=0.0, low_inclusive=False))
    check_option(measure, "measure", MEASURES)
    _check_options(normalisation, marginal, n_bins, k, knn_max_dim)
    check_scalar(n_bootstrap, "n_bootstrap", kind=(int, np.integer), low=0)
    check_scalar(confidence, "confidence", low=0, high=1, low_inclusive=False, high_inclusive=False)
    if marginal == "knn" and measure != "gaussian" and n_bootstrap > 0:
        raise ValueError(
            "marginal: 'knn' entropies are not valid on bootstrap resamples (repeated rows have "
            "zero distances); use marginal='binning', measure='gaussian' or n_bootstrap=0"
        )
    has_input = inputs is not None
    if has_input:
        _, (x,) = _check_layers({"input": inputs})
        if len(x) != len(arrays[0]):
            raise ValueError(
                f"inputs: has {len(x)} samples but the layers have {len(arrays[0])}; they must "
                "hold the same inputs, row for row"
            )
        names, arrays = ["input", *names], [x, *arrays]
    dim = _common_dim(arrays, normalisation, n_components)
    rng = check_random_state(random_state)
    ent = _entropies(names, arrays, normalisation, dim, marginal, n_bins, k, knn_max_dim, rng)
    values = {
        "gaussian": ent.gaussian_nats,
        "marginal": ent.marginal_nats,
        "total_correlation": ent.total_correlation_nats,
    }[measure]
    gains = _gains(values, has_input)
    opts = dict(
        normalisation=normalisation,
        n_components=dim,
        measure=measure,
        marginal=marginal,
        n_bins=n_bins,
        k=k,
    )
    depth = recommended_depth(gains, tol)
    boot_g, boot_d = _bootstrap(arrays, has_input, opts, tol, int(n_bootstrap), rng)
    if 0 < n_bootstrap and len(boot_d) < n_bootstrap:
        warnings.warn(
            f"n_bootstrap: {n_bootstrap - len(boot_d)} of {n_bootstrap} resamples were skipped "
            "because some unit was constant on them (rarely active units); the interval uses the "
            f"other {len(boot_d)}",
            UserWarning,
            stacklevel=2,
        )
    alpha = 0.5 * (1.0 - confidence)
    if len(boot_d) > 0:
        interval = np.quantile(boot_g, [alpha, 1 - alpha], axis=0).T
        d_lo = int(np.quantile(boot_d, alpha, method="lower"))
        d_hi = int(np.quantile(boot_d, 1 - alpha, method="higher"))
    else:
        interval, d_lo, d_hi = np.full((len(gains), 2), np.nan), depth, depth
    return EntropyGain(
        entropies=ent,
        measure=measure,
        names=names[1:] if has_input else names,
        entropy_nats=values[1:] if has_input else values,
        gain_nats=gains,
        gain_interval_nats=interval,
        tolerance=tol,
        depth=depth,
        depth_interval=[d_lo, d_hi],
        depth_bootstrap=boot_d.astype(int),
        n_bootstrap=int(n_bootstrap),
        n_bootstrap_used=len(boot_d),
        confidence=float(confidence),
    )
