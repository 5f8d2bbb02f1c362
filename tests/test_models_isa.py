"""ISA and topographic ICA: planted subspaces recovered, ICA as the radius-0 limit, the objective's
invariances, orthonormality and bad input."""

import numpy as np
import pytest

from structlearn.models.isa import (
    IndependentSubspaceAnalysis,
    TopographicICA,
    energy_objective,
    subspace_neighbourhoods,
    torus_neighbourhoods,
)


def _planted_subspaces(n=6000, n_groups=3, size=2, seed=0):
    """Sources in 2-D subspaces: a heavy-tailed radius times a uniform direction, so the two
    coordinates of a subspace are uncorrelated but dependent through their norm; mixed by a random
    matrix. Returns X and the true subspace bases in whitened-source space (the mixing's columns)."""
    rng = np.random.default_rng(seed)
    S = np.empty((n, n_groups * size))
    for g in range(n_groups):
        direction = rng.standard_normal((n, size))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        S[:, g * size : (g + 1) * size] = rng.exponential(size=(n, 1)) ** 2 * direction
    S /= S.std(axis=0)
    A = rng.standard_normal((n_groups * size, n_groups * size))
    return S @ A.T, A


def _subspace_capture(filters, A, groups, size):
    """Per learned subspace: the best share, over true subspaces, of its filters' response to the
    true subspace's mixing columns (1: the learned subspace reads exactly one true subspace)."""
    R = filters @ A  # (k, k): response of each filter to each true source direction
    out = []
    for g in np.unique(groups):
        block = R[groups == g]
        shares = [
            np.sum(block[:, h * size : (h + 1) * size] ** 2) / np.sum(block**2)
            for h in range(A.shape[1] // size)
        ]
        out.append(max(shares))
    return np.array(out)


def test_isa_recovers_planted_subspaces_and_stays_orthonormal():
    X, A = _planted_subspaces()
    isa = IndependentSubspaceAnalysis(6, 2, n_iter=150, random_state=1).fit(X)
    W = isa.unmixing_
    assert np.allclose(W @ W.T, np.eye(6), atol=1e-10)
    assert np.all(np.diff(isa.objective_) >= 0)
    assert np.allclose(np.cov(isa.transform(X), rowvar=False), np.eye(6), atol=1e-8)
    capture = _subspace_capture(isa.components_, A, isa.groups_, 2)
    assert capture.min() > 0.95
    # a random orthonormal W on the same whitened data reads mixtures (about 1/3 per subspace)
    rnd = np.linalg.qr(np.random.default_rng(5).standard_normal((6, 6)))[0] @ isa.whitening_
    assert _subspace_capture(rnd, A, isa.groups_, 2).mean() < 0.8
    # basis_ inverts the filters on the whitened subspace
    assert np.allclose(isa.components_ @ isa.basis_.T, np.eye(6), atol=1e-8)


def test_objective_is_blind_to_rotations_inside_a_subspace_but_not_across():
    rng = np.random.default_rng(0)
    Y = rng.laplace(size=(400, 4))
    H = subspace_neighbourhoods(4, 2)
    c, s = np.cos(0.7), np.sin(0.7)
    inside = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    across = np.array([[c, 0, -s, 0], [0, 1, 0, 0], [s, 0, c, 0], [0, 0, 0, 1]])
    base = energy_objective(Y, H, 0.1)
    assert energy_objective(Y @ inside.T, H, 0.1) == pytest.approx(base, rel=1e-12)
    assert abs(energy_objective(Y @ across.T, H, 0.1) - base) > 1e-3


def test_topographic_ica_with_radius_zero_is_ica():
    rng = np.random.default_rng(2)
    S = rng.laplace(size=(5000, 4))
    X = S @ rng.standard_normal((4, 4)).T
    tica = TopographicICA((2, 2), radius=0, n_iter=200, random_state=0).fit(X)
    C = np.abs(np.corrcoef(tica.transform(X).T, S.T)[:4, 4:])
    assert C.max(axis=1).min() > 0.97  # every unit is one source (up to sign and order)


def test_torus_neighbourhoods_are_symmetric_squares_that_wrap():
    H = torus_neighbourhoods((5, 6), 1)
    assert np.array_equal(H, H.T) and np.all(H.sum(axis=1) == 9)
    assert H[0, 5] == 1 and H[0, 24] == 1  # left neighbour across the edge, row above across
    assert torus_neighbourhoods((4, 4), 0).tolist() == np.eye(16).tolist()
    assert TopographicICA((4, 6)).block_groups((2, 2)).tolist()[:8] == [0, 0, 1, 1, 2, 2, 0, 0]


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (IndependentSubspaceAnalysis(n_components=5, subspace_size=2), "n_components"),
        (IndependentSubspaceAnalysis(subspace_size=0), "subspace_size"),
        (IndependentSubspaceAnalysis(step_size=0.0), "step_size"),
        (TopographicICA((3, 3)), "map_shape"),
        (TopographicICA((2, -1)), "map_shape"),
        (TopographicICA((2, 2), radius=-1), "radius"),
    ],
)
def test_bad_parameters_name_the_argument(estimator, match):
    X = np.random.default_rng(0).laplace(size=(50, 6))
    with pytest.raises(ValueError, match=match):
        estimator.fit(X)
