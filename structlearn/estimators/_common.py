"""Shared helpers for the estimators (input coercion, counts -> entropy, row keys, warnings).

Everything here assumes inputs were validated at the public boundary; all information is in nats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.utils.validation import check_array, check_consistent_length

__all__ = [
    "ConvergenceWarning",
    "as_sample_pair",
    "as_samples",
    "entropy_from_counts",
    "row_keys",
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


def entropy_from_counts(counts: np.ndarray, *, miller_madow: bool = False) -> float:
    r"""Plug-in entropy (nats) of a histogram: :math:`H = \log n - \frac1n \sum_i c_i \log c_i`.

    With ``miller_madow`` the bias correction :math:`(m - 1) / (2n)` is added, where ``m`` is the
    number of occupied cells (Miller, 1955).
    """
    counts = counts[counts > 0].astype(np.float64)
    n = counts.sum()
    h = float(np.log(n) - np.dot(counts, np.log(counts)) / n)
    if miller_madow:
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
