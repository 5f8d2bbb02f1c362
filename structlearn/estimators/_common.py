"""Shared helpers for the estimators (input coercion, counts -> entropy, row keys, warnings).

Everything here assumes inputs were validated at the public boundary; all information is in nats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.utils.validation import check_array, check_consistent_length

__all__ = [
    "CORRECTIONS",
    "ConvergenceWarning",
    "as_sample_pair",
    "as_samples",
    "entropy_from_counts",
    "row_keys",
    "scale_to_unit",
    "standardize",
    "standardize_with_scales",
]


class ConvergenceWarning(UserWarning):
    """An iterative estimator stopped at ``max_iter`` before reaching ``tol``."""


def as_samples(x: Any, name: str, *, min_samples: int = 1) -> np.ndarray:
    """Validate ``x`` and return it as float64 of shape (n_samples, n_features).

    A 1-D vector (labels or one scalar feature) becomes one column. Torch tensors are accepted.
    """
    arr = check_array(x, name, ndim=(1, 2), dtype=np.float64, min_samples=min_samples)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def as_sample_pair(x: Any, y: Any, *, min_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Validate two sample arrays and check they have the same number of samples."""
    xa = as_samples(x, "x", min_samples=min_samples)
    ya = as_samples(y, "y", min_samples=min_samples)
    check_consistent_length(x=xa, y=ya)
    return xa, ya


def scale_to_unit(x: np.ndarray) -> tuple[np.ndarray, float]:
    """``x / c`` and ``log c``, with c the largest magnitude of ``x`` (1 when x is all zero).

    Distances and squares of ``x / c`` neither overflow (x at 1e300) nor underflow (1e-300); an
    entropy of ``x`` (n, d) is that of ``x / c`` plus ``d log c``.
    """
    c = float(np.abs(x).max(initial=0.0))
    return (x / c, float(np.log(c))) if c > 0 else (x, 0.0)


def standardize_with_scales(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column of ``x`` (n, d) centred and divided by its standard deviation (ddof=0), and
    the log of those standard deviations (0 for constant columns, which become zero).

    Columns are first divided by their largest magnitude, so nothing overflows. The result is the
    same for ``a * x + b`` with per-column ``a > 0`` (up to rounding), which makes estimators built
    on it invariant (MI) or exactly equivariant (entropy: add the log scales) to units.
    """
    big = np.abs(x).max(axis=0)
    big = np.where(big > 0, big, 1.0)
    z = x / big
    z = z - z.mean(axis=0)
    sd = z.std(axis=0)
    ok = sd > 0
    z = z / np.where(ok, sd, 1.0)
    return z, np.where(ok, np.log(big) + np.log(np.where(ok, sd, 1.0)), 0.0)


def standardize(x: np.ndarray) -> np.ndarray:
    """Each column of ``x`` (n, d) centred and divided by its standard deviation (see
    :func:`standardize_with_scales`)."""
    return standardize_with_scales(x)[0]


#: bias corrections of the plug-in entropy of a histogram
CORRECTIONS = ("plugin", "miller-madow", "chao-shen", "grassberger")


def _grassberger_g(c: np.ndarray) -> np.ndarray:
    """Grassberger's G(c) = psi(c) + (-1)^c / 2 (psi((c + 1) / 2) - psi(c / 2))."""
    from scipy.special import digamma

    sign = np.where(c % 2 == 0, 1.0, -1.0)
    return digamma(c) + 0.5 * sign * (digamma((c + 1) / 2) - digamma(c / 2))


def _chao_shen(counts: np.ndarray, n: float) -> float:
    singletons = float(np.sum(counts == 1))
    coverage = 1.0 - min(singletons, n - 1.0) / n  # Good-Turing sample coverage, kept > 0
    pa = coverage * counts / n
    # Horvitz-Thompson: divide by the chance that the symbol is seen at all in n draws
    seen = -np.expm1(n * np.log1p(-pa))
    return float(-np.sum(pa * np.log(pa) / seen))


def entropy_from_counts(
    counts: np.ndarray, *, miller_madow: bool = False, correction: str = "plugin"
) -> float:
    r"""Entropy (nats) of a histogram, plug-in or bias-corrected.

    - ``"plugin"``: :math:`\log n - \frac1n \sum_i c_i \log c_i`;
    - ``"miller-madow"``: plus :math:`(m - 1) / (2n)`, m occupied cells (Miller, 1955);
    - ``"chao-shen"``: coverage-adjusted Horvitz--Thompson estimator
      :math:`-\sum_i \frac{\tilde p_i\log\tilde p_i}{1-(1-\tilde p_i)^n}`,
      :math:`\tilde p_i = (1 - f_1/n)\,c_i/n`, f_1 the singletons (Chao & Shen, 2003,
      *Environ. Ecol. Stat.* 10, 429);
    - ``"grassberger"``: :math:`\log n - \frac1n\sum_i c_i G(c_i)` with
      :math:`G(c) = \psi(c) + \tfrac12(-1)^c(\psi(\tfrac{c+1}2) - \psi(\tfrac c2))`
      (Grassberger, 2003, arXiv:physics/0307138, eq. 35).

    ``miller_madow=True`` is the older spelling of ``correction="miller-madow"``.
    """
    counts = counts[counts > 0].astype(np.float64)
    n = counts.sum()
    if miller_madow:
        correction = "miller-madow"
    if correction == "chao-shen":
        return max(_chao_shen(counts, n), 0.0)
    if correction == "grassberger":
        return max(float(np.log(n) - np.dot(counts, _grassberger_g(counts)) / n), 0.0)
    h = float(np.log(n) - np.dot(counts, np.log(counts)) / n)
    if correction == "miller-madow":
        h += (counts.size - 1) / (2.0 * n)
    return max(h, 0.0)


_INT63 = np.iinfo(np.int64).max


def row_keys(codes: np.ndarray) -> np.ndarray:
    """Map each row of a non-negative integer array to a dense integer id (equal rows, equal id).

    Columns are folded into one int64 key in mixed radix (``key = key * radix_j + code_j``); when
    the next fold could overflow, the key is first compressed to dense ids with ``np.unique``. The
    result has shape (n_samples,), values in ``[0, n_distinct)`` ordered like the sorted rows.
    """
    n, d = codes.shape
    if d == 0:
        return np.zeros(n, dtype=np.int64)
    radices = codes.max(axis=0).astype(np.int64) + 1
    key = codes[:, 0].astype(np.int64)
    bound = int(radices[0])
    for j in range(1, d):
        r = int(radices[j])
        if bound * r >= _INT63:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64)
            bound = int(key.max()) + 1
        key = key * r + codes[:, j]
        bound *= r
    _, dense = np.unique(key, return_inverse=True)
    return dense.reshape(-1).astype(np.int64)
