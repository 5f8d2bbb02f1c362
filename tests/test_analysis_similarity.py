"""Representation similarity: CKA against its HSIC definition, invariances, CCA on known spaces."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structlearn.analysis.similarity import (
    linear_cka,
    mean_canonical_correlation,
    pairwise_similarity,
)


def _cka_by_hsic(X, Y):
    """CKA as HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with K = XXᵀ, L = YYᵀ and H centring."""
    n = len(X)
    H = np.eye(n) - 1.0 / n
    K, L = H @ X @ X.T @ H, H @ Y @ Y.T @ H
    return np.sum(K * L) / np.sqrt(np.sum(K * K) * np.sum(L * L))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.integers(2, 6), st.integers(1, 5))
def test_cka_equals_its_hsic_definition(seed, p, q):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, p))
    Y = X[:, :1] @ rng.standard_normal((1, q)) + rng.standard_normal((40, q))
    assert linear_cka(X, Y) == pytest.approx(_cka_by_hsic(X, Y), rel=1e-9)
    assert linear_cka(X, Y) == pytest.approx(linear_cka(Y, X), rel=1e-12)


def test_invariances_and_what_breaks_them():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5)) * [5, 3, 1, 0.5, 0.1]
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    A = rng.standard_normal((5, 5))
    assert linear_cka(X, 7.0 * X @ Q + 3.0) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, X @ A) < 0.99  # CKA is not invariant to every invertible map
    assert mean_canonical_correlation(X, X @ A - 1.0) == pytest.approx(1.0, abs=1e-9)
    # two orthogonal 2-D subspaces of one 4-D space: canonical correlations (0, 0)
    Z = rng.standard_normal((300, 4))
    assert mean_canonical_correlation(Z[:, :2], Z[:, 2:]) < 0.15
    # sharing one of two directions: correlations (1, ~0) -> mean ~0.5
    assert mean_canonical_correlation(Z[:, :2], Z[:, 1:3]) == pytest.approx(0.5, abs=0.08)


def test_huge_values_and_dead_layers():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 3))
    assert linear_cka(1e300 * X, X) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="X: the features are constant"):
        linear_cka(np.ones((100, 3)), X)
    with pytest.raises(ValueError, match="same samples row for row"):
        linear_cka(X, X[:50])


def test_pairwise_similarity_orders_pairs():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 3))
    out = pairwise_similarity([X, X, rng.standard_normal((100, 3))])
    assert out.shape == (3,) and out[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="measure"):
        pairwise_similarity([X, X], measure="rbf")
