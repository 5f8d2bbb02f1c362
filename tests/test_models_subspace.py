"""Nearest-subspace classifier and principal angles against brute force and closed forms."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from structlearn.models.redunet import ReduNet
from structlearn.models.subspace import (
    class_subspaces,
    nearest_subspace_predict,
    principal_angle_cosines,
)


def test_nearest_subspace_equals_a_brute_force_loop():
    rng = np.random.default_rng(0)
    Z, y = rng.standard_normal((90, 6)), np.repeat(np.arange(3), 30)
    test = rng.standard_normal((40, 6))
    pred = nearest_subspace_predict(Z, y, test, n_components=2)
    expected = []
    for z in test:
        res = []
        for j in range(3):
            U = np.linalg.svd(Z[y == j])[2][:2].T
            res.append(np.linalg.norm(z - U @ U.T @ z))
        expected.append(int(np.argmin(res)))
    assert pred.tolist() == expected


def test_reduNet_predicts_with_the_shared_classifier():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((60, 5)), np.repeat([0, 1, 2], 20)
    net = ReduNet(n_layers=2).fit(X, y)
    Z = net.transform(X)
    assert np.array_equal(net.predict(X), nearest_subspace_predict(Z, y, Z))


def test_principal_angles_match_scipy():
    rng = np.random.default_rng(2)
    Z, y = rng.standard_normal((60, 8)), np.repeat([0, 1, 2], 20)
    bases = class_subspaces(Z, y, 2)
    cos = principal_angle_cosines(bases)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert cos[i, j] == pytest.approx(np.cos(subspace_angles(bases[i], bases[j]).min()))
    assert np.allclose(np.diag(cos), 1.0)


def test_missing_class_is_refused_by_name():
    with pytest.raises(ValueError, match="missing \\[1\\]"):
        class_subspaces(np.ones((4, 2)), np.array([0, 0, 2, 2]))
    with pytest.raises(ValueError, match="n_components"):
        class_subspaces(np.ones((4, 2)), np.array([0, 0, 1, 1]), 0)
