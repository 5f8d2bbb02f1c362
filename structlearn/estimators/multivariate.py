"""Multivariate measures (nats): total correlation, co-information, Rényi entropy.

- Total correlation (Watanabe, 1960, *Information theoretical analysis of multivariate
  correlation*): :math:`TC(X_1..X_n) = \\sum_j H(X_j) - H(X_1..X_n)`; for a Gaussian vector
  :math:`-\\tfrac12\\log\\det R` with R the correlation matrix.
- Co-information (Bell, 2003, *The co-information lattice*; McGill's interaction information up
  to sign): :math:`I(X_1;\\dots;X_n) = -\\sum_{T\\subseteq V}(-1)^{|T|}H(X_T)`; for three variables
  :math:`I(X;Y) - I(X;Y|Z)`, e.g. :math:`-\\log 2` for XOR.
- Rényi entropy of order :math:`\\alpha` (Rényi, 1961): :math:`\\frac1{1-\\alpha}\\log\\sum_i
  p_i^\\alpha` (Shannon at :math:`\\alpha = 1`, :math:`-\\log\\max p` at :math:`\\infty`); for a
  Gaussian :math:`\\tfrac12\\log\\det(2\\pi\\Sigma) + \\frac{d\\log\\alpha}{2(\\alpha-1)}`.

Discrete measures take symbols (any hashable values); Gaussian ones are computed from correlation
matrices, so total correlation and co-information do not depend on units.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from structlearn.estimators._common import CORRECTIONS, as_samples, entropy_from_counts
from structlearn.estimators.discrete import _entropy_terms, joint_ids, symbol_ids
from structlearn.estimators.gaussian import RANK_DEFICIENT, gaussian_entropy
from structlearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_option,
    check_scalar,
)

__all__ = [
    "MULTIVARIATE_METHODS",
    "co_information",
    "renyi_entropy",
    "renyi_entropy_of_distribution",
    "total_correlation",
]

#: the methods of the multivariate measures
MULTIVARIATE_METHODS = ("discrete", "gaussian")


def _variables(variables: Any, method: str) -> list[Any]:
    """A list of variables: the given sequence, or the columns of one (n, d) array."""
    if isinstance(variables, (list, tuple)):
        if len(variables) < 2:
            raise ValueError(f"variables: expected at least 2 variables, got {len(variables)}")
        return list(variables)
    arr = as_samples(variables, "variables") if method == "gaussian" else np.asarray(variables)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(
            "variables: expected a list of variables or an array (n_samples, n_variables) with at "
            f"least 2 columns, got shape {arr.shape}"
        )
    return [arr[:, j] for j in range(arr.shape[1])]


def _subset_entropy(method: str, correction: str, rank_deficient: str):
    """H(X_T) for a list of arrays (discrete: symbol ids; gaussian: samples)."""

    def h(parts: Sequence[np.ndarray]) -> float:
        if method == "discrete":
            return entropy_from_counts(np.bincount(joint_ids(*parts)), correction=correction)
        return gaussian_entropy(np.hstack(parts), rank_deficient=rank_deficient)

    return h


def _prepared(variables: Any, method: str) -> list[np.ndarray]:
    method = check_option(method, "method", MULTIVARIATE_METHODS)
    parts = _variables(variables, method)
    if method == "discrete":
        out = [symbol_ids(v, f"variables[{i}]") for i, v in enumerate(parts)]
    else:
        out = [as_samples(v, f"variables[{i}]", min_samples=2) for i, v in enumerate(parts)]
    check_consistent_length(**{f"variables[{i}]": v for i, v in enumerate(out)})
    return out


def total_correlation(
    variables: Any,
    method: str = "discrete",
    *,
    correction: str = "plugin",
    rank_deficient: str = "warn",
) -> float:
    r"""Total correlation :math:`\sum_j H(X_j) - H(X_1, \dots, X_n)` (nats), >= 0.

    Parameters
    ----------
    variables : list of arrays (n_samples,) / (n_samples, d_j), or an array (n_samples, n)
        The variables (the columns of an array are one variable each).
    method : {"discrete", "gaussian"}
        Symbols (plug-in or ``correction``), or the Gaussian value :math:`-\frac12\log\det R`
        (R the correlation matrix of all features; each variable's own block divided out).
    correction : {"plugin", "miller-madow", "chao-shen", "grassberger"}
        Discrete bias correction of each entropy.
    rank_deficient : {"warn", "raise"}
        See :func:`~structlearn.estimators.gaussian.gaussian_entropy`.

    Examples
    --------
    >>> x = np.array([0, 1, 0, 1] * 10)
    >>> round(total_correlation([x, x, x]), 4)   # 3 H - H = 2 log 2
    1.3863
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 20000)
    >>> round(total_correlation(z, "gaussian"), 2)   # -log(1 - 0.36) / 2 = 0.2231
    0.22
    """
    correction = check_option(correction, "correction", CORRECTIONS)
    parts = _prepared(variables, method)
    h = _subset_entropy(
        method, correction, check_option(rank_deficient, "rank_deficient", RANK_DEFICIENT)
    )
    return max(sum(h([v]) for v in parts) - h(parts), 0.0)


def co_information(
    variables: Any,
    method: str = "discrete",
    *,
    correction: str = "plugin",
    rank_deficient: str = "warn",
) -> float:
    r"""Co-information :math:`-\sum_{T\subseteq V}(-1)^{|T|} H(X_T)` (nats) of n variables.

    For two variables the mutual information; for three :math:`I(X;Y) - I(X;Y|Z)` (negative
    when the variables are synergistic, e.g. :math:`-\log 2` for Z = X XOR Y). The interaction
    information of McGill (1954) is the same number with the sign :math:`(-1)^n` (Jakulin &
    Bratko's convention differs for odd n); say which one you report.

    Parameters
    ----------
    variables : list of arrays, or an array (n_samples, n)
        The variables (2 to 12).
    method, correction, rank_deficient :
        As for :func:`total_correlation`.

    Examples
    --------
    >>> x = np.array([0, 0, 1, 1] * 25); y = np.array([0, 1, 0, 1] * 25)
    >>> round(co_information([x, y, x ^ y]), 4)   # XOR: 0 - log 2
    -0.6931
    """
    correction = check_option(correction, "correction", CORRECTIONS)
    parts = _prepared(variables, method)
    if len(parts) > 12:
        raise ValueError(f"variables: at most 12 variables (2^n subsets), got {len(parts)}")
    h = _subset_entropy(
        method, correction, check_option(rank_deficient, "rank_deficient", RANK_DEFICIENT)
    )
    total = 0.0
    for size in range(1, len(parts) + 1):
        for subset in itertools.combinations(parts, size):
            total -= (-1) ** size * h(list(subset))
    return float(total)


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, (float, np.floating)) and alpha == np.inf:
        return float("inf")
    return float(check_scalar(alpha, "alpha", low=0.0))


def renyi_entropy_of_distribution(p: Any, alpha: float) -> float:
    r"""Rényi entropy :math:`\frac{1}{1-\alpha}\log\sum_i p_i^\alpha` (nats) of a probability vector.

    ``alpha`` in [0, inf]: 0 gives log of the support size, 1 Shannon, inf :math:`-\log\max p`.

    Examples
    --------
    >>> p = [0.5, 0.25, 0.25]
    >>> [round(renyi_entropy_of_distribution(p, a), 4) for a in (0, 1, 2, np.inf)]
    [1.0986, 1.0397, 0.9808, 0.6931]
    """
    arr = check_array(p, "p", ndim=1)
    if (arr < 0).any() or abs(float(arr.sum()) - 1.0) > 1e-8:
        raise ValueError(
            f"p: expected a probability vector (non-negative, summing to 1), got sum {arr.sum():.6g}"
        )
    a = _check_alpha(alpha)
    q = arr[arr > 0]
    if a == 1.0:
        return float(_entropy_terms(q, None))
    if np.isinf(a):
        return float(-np.log(q.max()))
    if a == 0.0:
        return float(np.log(q.size))
    # log sum p^a computed as a log-sum-exp (no underflow for large alpha)
    logs = a * np.log(q)
    top = logs.max()
    return float((top + np.log(np.exp(logs - top).sum())) / (1.0 - a))


def renyi_entropy(x: Any, alpha: float, method: str = "discrete") -> float:
    r"""Rényi entropy of order ``alpha`` (nats) of a sample.

    Parameters
    ----------
    x : symbols (n_samples,) / (n_samples, d) for ``"discrete"``; samples (n_samples, d) for
        ``"gaussian"``.
    alpha : float in [0, inf]
        Order (1: Shannon).
    method : {"discrete", "gaussian"}
        Plug-in frequencies, or the Gaussian closed form
        :math:`\tfrac12\log\det(2\pi\hat\Sigma) + \frac{d\log\alpha}{2(\alpha-1)}`
        (:math:`\alpha > 0`; :math:`d/2` at 1, :math:`0` at infinity).

    Examples
    --------
    >>> round(renyi_entropy([0, 0, 1, 2], 2.0), 4)   # -log(1/4 + 1/16 + 1/16)
    0.9808
    """
    method = check_option(method, "method", MULTIVARIATE_METHODS)
    a = _check_alpha(alpha)
    if method == "discrete":
        ids = symbol_ids(x, "x")
        return renyi_entropy_of_distribution(np.bincount(ids) / ids.size, a)
    if a == 0.0:
        raise ValueError("alpha: the Gaussian Renyi entropy needs alpha > 0 (at 0 it is infinite)")
    xa = as_samples(x, "x", min_samples=2)
    d = xa.shape[1]
    h_shannon = gaussian_entropy(xa, rank_deficient="raise")  # = 1/2 log det(2 pi e S)
    base = h_shannon - 0.5 * d  # 1/2 log det(2 pi S)
    if np.isinf(a):
        return float(base)
    if a == 1.0:
        return float(h_shannon)
    return float(base + d * np.log(a) / (2.0 * (a - 1.0)))
