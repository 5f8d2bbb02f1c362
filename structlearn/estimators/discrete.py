"""Plug-in entropy and mutual information of discrete variables (nats).

Shannon (1948), *A mathematical theory of communication*; the plug-in (maximum-likelihood)
estimator with the optional Miller (1955) bias correction :math:`(m - 1)/(2n)`. Each distinct row
of a (n_samples, n_features) array is one symbol, so a label vector and a tuple of small-alphabet
variables are handled alike. Also the exact entropy and mutual information of a given probability
table, used by :mod:`structlearn.estimators.ib_curve`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.estimators._common import as_sample_pair, as_samples, entropy_from_counts, row_keys
from structlearn.utils.validation import check_array

__all__ = [
    "discrete_entropy",
    "discrete_mutual_information",
    "entropy_of_distribution",
    "mutual_information_of_joint",
    "symbols",
]


def symbols(x: np.ndarray) -> np.ndarray:
    """Dense symbol ids, shape (n_samples,), one per distinct row of ``x`` (n_samples, n_features)."""
    _, inverse = np.unique(x, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _plugin_entropy(ids: np.ndarray, miller_madow: bool) -> float:
    return entropy_from_counts(np.bincount(ids), miller_madow=miller_madow)


def _plugin_mi(ix: np.ndarray, iy: np.ndarray, miller_madow: bool) -> float:
    joint = row_keys(np.column_stack([ix, iy]))
    h = (
        _plugin_entropy(ix, miller_madow)
        + _plugin_entropy(iy, miller_madow)
        - _plugin_entropy(joint, miller_madow)
    )
    return max(h, 0.0)


def discrete_entropy(x: Any, *, miller_madow: bool = False) -> float:
    r"""Plug-in entropy :math:`H(X) = -\sum_x \hat p(x) \log \hat p(x)` in nats.

    Parameters
    ----------
    x : array-like or torch.Tensor, shape (n_samples,) or (n_samples, n_features)
        Symbols; each distinct row is one value.
    miller_madow : bool
        Add the Miller--Madow correction :math:`(m - 1)/(2n)` (``m`` occupied values).

    Examples
    --------
    >>> round(discrete_entropy([0, 1, 2, 3]), 6) == round(float(np.log(4)), 6)
    True
    >>> discrete_entropy([7, 7, 7])
    0.0
    """
    return _plugin_entropy(symbols(as_samples(x, "x")), miller_madow)


def discrete_mutual_information(x: Any, y: Any, *, miller_madow: bool = False) -> float:
    r"""Plug-in :math:`I(X;Y) = H(X) + H(Y) - H(X, Y)` in nats (clipped at 0).

    Parameters
    ----------
    x, y : array-like, shape (n_samples,) or (n_samples, n_features)
        Symbols; each distinct row is one value.
    miller_madow : bool
        Apply the Miller--Madow correction to each of the three entropies.

    Examples
    --------
    >>> round(discrete_mutual_information([0, 1, 0, 1], [1, 0, 1, 0]), 6) == round(float(np.log(2)), 6)
    True
    """
    xa, ya = as_sample_pair(x, y)
    return _plugin_mi(symbols(xa), symbols(ya), miller_madow)


def entropy_of_distribution(p: Any, axis: int | None = None) -> float | np.ndarray:
    r"""Exact entropy :math:`-\sum p \log p` (nats) of a probability vector (0 log 0 = 0).

    With ``axis`` given, entropies along that axis are returned as an array.

    >>> round(float(entropy_of_distribution([0.5, 0.5, 0.0])), 6) == round(float(np.log(2)), 6)
    True
    """
    p = np.asarray(p, dtype=np.float64)
    terms = -p * np.log(np.where(p > 0, p, 1.0))
    return terms.sum(axis=axis) if axis is not None else float(terms.sum())


def check_joint(p_xy: Any, name: str = "p_xy", *, atol: float = 1e-8) -> np.ndarray:
    """Validate a joint probability table: 2-D, finite, non-negative, summing to 1."""
    p = check_array(p_xy, name, ndim=2)
    if (p < 0).any():
        raise ValueError(f"{name}: expected non-negative probabilities, got minimum {p.min():.3g}")
    total = float(p.sum())
    if abs(total - 1.0) > atol:
        raise ValueError(
            f"{name}: expected a joint distribution summing to 1, got sum {total:.6g}; "
            "divide by its sum first"
        )
    return p / total


def mutual_information_of_joint(p_xy: Any) -> float:
    r"""Exact :math:`I(X;Y) = \sum_{x,y} p(x,y) \log \frac{p(x,y)}{p(x)p(y)}` (nats) of a table.

    Parameters
    ----------
    p_xy : array-like, shape (n_x, n_y)
        Joint probabilities, non-negative, summing to 1.

    >>> round(mutual_information_of_joint([[0.5, 0.0], [0.0, 0.5]]), 6) == round(float(np.log(2)), 6)
    True
    """
    p = check_joint(p_xy)
    px, py = p.sum(axis=1), p.sum(axis=0)
    h = entropy_of_distribution(px) + entropy_of_distribution(py) - entropy_of_distribution(p)
    return max(float(h), 0.0)
