"""How similar two representations of the same inputs are: linear CKA and mean canonical correlation.

Both compare features ``X`` (n_samples, p) and ``Y`` (n_samples, q) of the same inputs, row for row:

- **linear CKA** (Kornblith, Norouzi, Lee & Hinton 2019), on centred features,

  .. math:: \\mathrm{CKA}(X, Y) = \\frac{\\|Y^\\top X\\|_F^2}{\\|X^\\top X\\|_F\\,\\|Y^\\top Y\\|_F},

  in [0, 1], invariant to orthogonal transforms and isotropic scaling of either side, not to
  arbitrary invertible linear maps;
- **mean canonical correlation** (the CCA similarity of Raghu et al. 2017 without the SVD step):
  the mean of the canonical correlations between the column spaces of ``X`` and ``Y``, computed
  from orthonormal bases of the centred features (directions of variance below ``rtol`` of the
  largest are dropped, and the count reported), in [0, 1] and invariant to every invertible linear
  map.

A constant layer has no variance to compare: both functions raise a ValueError naming it, never
return NaN.

>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((500, 4))
>>> Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
>>> round(linear_cka(X, 3.0 * X @ Q), 6), round(mean_canonical_correlation(X, X @ rng.standard_normal((4, 4))), 6)
(1.0, 1.0)
>>> round(linear_cka(X, rng.standard_normal((500, 4))), 2)  # independent features: about p/n
0.01
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from structlearn.utils.validation import check_array


def _centred_pair(X, Y) -> tuple[np.ndarray, np.ndarray]:
    X = check_array(X, "X", ndim=2, min_samples=2)
    Y = check_array(Y, "Y", ndim=2, min_samples=2)
    if len(X) != len(Y):
        raise ValueError(f"X, Y: expected the same samples row for row, got {len(X)} and {len(Y)}")
    X, Y = X - X.mean(0), Y - Y.mean(0)
    for name, A in (("X", X), ("Y", Y)):
        if not np.any(A):
            raise ValueError(f"{name}: the features are constant over the samples (a dead layer)")
    # scale out magnitudes so that huge-but-finite features do not overflow the products
    return X / np.abs(X).max(), Y / np.abs(Y).max()


def linear_cka(X, Y) -> float:
    """Linear CKA of features ``X`` (n, p) and ``Y`` (n, q) of the same n inputs, in [0, 1]."""
    X, Y = _centred_pair(X, Y)
    cross = np.linalg.norm(Y.T @ X) ** 2
    return float(cross / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))


def _basis(A: np.ndarray, rtol: float) -> np.ndarray:
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    return U[:, s > rtol * s[0]]


def mean_canonical_correlation(X, Y, rtol: float = 1e-8) -> float:
    """Mean canonical correlation of ``X`` (n, p) and ``Y`` (n, q), over min(rank X, rank Y) pairs."""
    X, Y = _centred_pair(X, Y)
    Ux, Uy = _basis(X, rtol), _basis(Y, rtol)
    rho = np.linalg.svd(Ux.T @ Uy, compute_uv=False)
    return float(np.clip(rho, 0.0, 1.0).mean())


def pairwise_similarity(layers: Sequence[np.ndarray], measure: str = "cka") -> np.ndarray:
    """Similarity of every pair of representations (same inputs), shape (n_pairs,), pairs i < j."""
    fn = {"cka": linear_cka, "cca": mean_canonical_correlation}.get(measure)
    if fn is None:
        raise ValueError(f"measure: expected 'cka' or 'cca', got {measure!r}")
    if len(layers) < 2:
        raise ValueError(f"layers: expected at least two representations, got {len(layers)}")
    return np.array([fn(a, b) for a, b in combinations(layers, 2)])


__all__ = ["linear_cka", "mean_canonical_correlation", "pairwise_similarity"]
