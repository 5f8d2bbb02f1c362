"""Pairwise-distance (KDE) bounds on entropy and information of a noisy layer (nats).

Kolchinsky & Tracey (2017), *Estimating mixture entropy with pairwise distances*, Entropy 19, 361:
for a mixture of Gaussians :math:`T = h(X) + \\epsilon`, :math:`\\epsilon\\sim N(0, \\sigma^2 I_d)`,
with equally weighted centres :math:`h_i` (one per input), and a divergence :math:`D` between
components,

.. math:: \\hat H_D(T) = H(T\\mid X) - \\frac1n\\sum_i \\log \\frac1n\\sum_j e^{-D(p_i\\Vert p_j)},
          \\qquad H(T\\mid X) = \\tfrac d2 \\log(2\\pi e \\sigma^2).

The Kullback--Leibler divergence :math:`\\|h_i - h_j\\|^2/(2\\sigma^2)` gives an upper bound and the
Bhattacharyya distance :math:`\\|h_i - h_j\\|^2/(8\\sigma^2)` a lower bound on :math:`H(T)`. Saxe et
al. (2018), *On the information bottleneck theory of deep learning* (ICLR), used them for the
information plane: :math:`I(X;T) = H(T) - H(T\\mid X)` (bounded above and below) and
:math:`I(T;Y) = H(T) - \\sum_y p(y) H(T\\mid Y=y)` with the same estimator on each term (then an
estimate from each side, not a guaranteed bound, since a difference of bounds is not a bound).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

from structlearn.estimators._common import as_sample_pair, as_samples
from structlearn.estimators.binning import _is_label_vector
from structlearn.estimators.discrete import symbols
from structlearn.utils.validation import check_array, check_labels, check_option, check_scalar

__all__ = ["kde_entropy", "kde_mi_bounds", "kde_mutual_information"]

_BOUNDS = ("upper", "lower")


def _squared_distances(h: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between rows, computed on ``h / c`` (c the largest magnitude)
    and scaled back; beyond float range they are +inf (a component that far contributes 0)."""
    c = float(np.abs(h).max(initial=0.0))
    u = h / c if c > 0 else h
    sq = (u**2).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (u @ u.T)
    np.fill_diagonal(d2, 0.0)
    d2 = np.maximum(d2, 0.0)
    with np.errstate(over="ignore"):
        return np.where(d2 > 0, d2 * c * c, 0.0) if c > 0 else d2


def _mixture_entropy(d2: np.ndarray, dim: int, noise_variance: float, bound: str) -> float:
    """Pairwise-distance entropy of the mixture whose centres have squared distances ``d2``."""
    scale = 2.0 if bound == "upper" else 8.0
    n = d2.shape[0]
    log_mean = logsumexp(-d2 / (scale * noise_variance), axis=1) - np.log(n)
    h_noise = 0.5 * dim * np.log(2.0 * np.pi * np.e * noise_variance)
    return float(h_noise - log_mean.mean())


def _check_noise(noise_variance: float) -> float:
    return float(check_scalar(noise_variance, "noise_variance", low=0.0, low_inclusive=False))


def kde_entropy(x: Any, noise_variance: float, *, bound: str = "upper") -> float:
    r"""Kolchinsky--Tracey entropy bound (nats) of :math:`T = x + N(0, \sigma^2 I)`, x uniform on rows.

    Parameters
    ----------
    x : array-like or torch.Tensor, shape (n_samples, n_features)
        Mixture centres (e.g. a layer's activations, one row per input).
    noise_variance : float
        :math:`\sigma^2 > 0`.
    bound : {"upper", "lower"}
        KL (upper) or Bhattacharyya (lower) pairwise divergence.

    Examples
    --------
    >>> x = np.zeros((5, 2))                               # one component: exact Gaussian entropy
    >>> round(kde_entropy(x, 0.5), 6) == round(float(np.log(2 * np.pi * np.e * 0.5)), 6)
    True
    """
    xa = as_samples(x, "x")
    check_option(bound, "bound", _BOUNDS)
    var = _check_noise(noise_variance)
    return _mixture_entropy(_squared_distances(xa), xa.shape[1], var, bound)


def _conditional_entropy(
    d2: np.ndarray, labels: np.ndarray, dim: int, var: float, bound: str
) -> float:
    total = 0.0
    n = labels.shape[0]
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        total += idx.size / n * _mixture_entropy(d2[np.ix_(idx, idx)], dim, var, bound)
    return total


def kde_mi_bounds(activations: Any, labels: Any, noise_variance: float) -> dict[str, float]:
    r"""Kolchinsky--Tracey bounds on I(X;T) and estimates of I(T;Y), in nats, for one layer.

    :math:`T = h(X) + N(0, \sigma^2 I)` with ``activations[i] = h(x_i)`` for equally likely inputs.

    Parameters
    ----------
    activations : array-like or torch.Tensor, shape (n_inputs, n_units)
        The layer's deterministic output on each input.
    labels : array-like of int, shape (n_inputs,)
        Class of each input.
    noise_variance : float
        Variance :math:`\sigma^2 > 0` of the added Gaussian noise.

    Returns
    -------
    dict
        ``I_XT_upper_nats``, ``I_XT_lower_nats`` (bounds on :math:`I(X;T) = H(T) - H(T|X)`),
        ``I_TY_upper_nats``, ``I_TY_lower_nats`` (:math:`\hat H(T) - \sum_y p(y)\hat H(T|Y=y)`
        with the upper and with the lower entropy estimator, as in Saxe et al., 2018).

    Examples
    --------
    >>> h = np.array([[0.0], [0.0], [10.0], [10.0]])      # two far-apart clusters = the labels
    >>> b = kde_mi_bounds(h, [0, 0, 1, 1], noise_variance=0.01)
    >>> round(b["I_TY_upper_nats"], 4), round(b["I_XT_lower_nats"], 4)
    (0.6931, 0.6931)
    """
    h = check_array(activations, "activations", ndim=2)
    y = check_labels(labels, "labels", n_samples=h.shape[0])
    var = _check_noise(noise_variance)
    d2 = _squared_distances(h)
    dim = h.shape[1]
    h_noise = 0.5 * dim * np.log(2.0 * np.pi * np.e * var)
    out: dict[str, float] = {}
    for bound in _BOUNDS:
        h_t = _mixture_entropy(d2, dim, var, bound)
        out[f"I_XT_{bound}_nats"] = float(max(h_t - h_noise, 0.0))
        h_t_y = _conditional_entropy(d2, y, dim, var, bound)
        out[f"I_TY_{bound}_nats"] = float(max(h_t - h_t_y, 0.0))
    return out


def kde_mutual_information(x: Any, y: Any, noise_variance: float, *, bound: str = "upper") -> float:
    r"""Pairwise-distance estimate (nats) of the information between noisy ``x`` and ``y``.

    With integer labels ``y`` (shape (n_samples,)): :math:`\hat H(T) - \sum_c p(c)\hat H(T|Y=c)`
    for :math:`T = x + N(0,\sigma^2 I)`. With continuous ``y``: :math:`\hat H(T_x) + \hat H(T_y)
    - \hat H(T_x, T_y)`, the same noise added to both. Each entropy uses ``bound``.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> round(kde_mutual_information(x, np.array([0, 0, 1, 1]), 0.01), 4)
    0.6931
    """
    check_option(bound, "bound", _BOUNDS)
    var = _check_noise(noise_variance)
    labels_given = _is_label_vector(y)
    xa, ya = as_sample_pair(x, y)
    d2x = _squared_distances(xa)
    hx = _mixture_entropy(d2x, xa.shape[1], var, bound)
    if labels_given:
        return float(max(hx - _conditional_entropy(d2x, symbols(ya), xa.shape[1], var, bound), 0.0))
    d2y = _squared_distances(ya)
    hy = _mixture_entropy(d2y, ya.shape[1], var, bound)
    hxy = _mixture_entropy(d2x + d2y, xa.shape[1] + ya.shape[1], var, bound)
    return float(max(hx + hy - hxy, 0.0))
