"""The group-lasso dictionary learner: monotone energy, planted groups recovered, bad input."""

import numpy as np
import pytest

from structlearn.models.group_dictionary import (
    GroupSparseDictionary,
    group_lasso_energy,
    train_group_dictionary,
)
from structlearn.utils.spams import group_sparse_encode


def test_batch_alternation_never_increases_the_energy():
    rng = np.random.default_rng(0)
    X = rng.laplace(size=(400, 10)) @ rng.standard_normal((10, 10))
    res = train_group_dictionary(
        X, 12, 3, lambda1=0.3, n_iter=12, batch_size=10_000, forget_window=1, random_state=1
    )
    steps = np.diff(res.energy)
    assert np.all(steps <= 1e-5 * res.energy[0])
    assert res.energy[-1] < 0.9 * res.energy[0]
    assert np.all(np.linalg.norm(res.components, axis=1) <= 1 + 1e-12)
    # the energy reported is the energy of the codes the wrapper returns for those atoms
    codes = group_sparse_encode(X, res.components, res.groups, lambda1=0.3, max_iter=500)
    assert group_lasso_energy(X, res.components, codes, res.groups, 0.3) <= res.energy[-1] + 1e-9


def test_group_lasso_energy_matches_a_loop():
    rng = np.random.default_rng(1)
    X, D, A = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=(5, 4))
    groups = np.array([0, 0, 1, 1])
    expected = np.mean(
        [
            0.5 * np.sum((x - a @ D) ** 2) + 0.7 * (np.linalg.norm(a[:2]) + np.linalg.norm(a[2:]))
            for x, a in zip(X, A)
        ]
    )
    assert group_lasso_energy(X, D, A, groups, 0.7) == pytest.approx(expected, rel=1e-12)


def test_planted_group_dictionary_is_an_attractor():
    """Data made of one active group at a time of a known dictionary (orthonormal atoms, groups of
    2). Started from the planted atoms mixed with noise (across groups too), the learner
    returns to them: every learned group spans its planted group's subspace. (From a random start
    alternating minimisation can settle with groups that mix two planted ones: a local minimum.)"""
    rng = np.random.default_rng(0)
    n_features, group_size, n_groups, n = 12, 2, 4, 1500
    D_true = np.linalg.qr(rng.standard_normal((n_features, n_features)))[0][: group_size * n_groups]
    codes = np.zeros((n, group_size * n_groups))
    for i, g in enumerate(rng.integers(n_groups, size=n)):
        codes[i, g * group_size : (g + 1) * group_size] = rng.standard_normal(group_size) * 3
    X = codes @ D_true + 0.01 * rng.standard_normal((n, n_features))
    noisy = D_true + 0.6 * np.random.default_rng(1).standard_normal(D_true.shape) / np.sqrt(
        n_features
    )
    est = GroupSparseDictionary(8, 2, lambda1=0.1, n_iter=40, batch_size=500, random_state=0)
    res = train_group_dictionary(
        X, group_size * n_groups, group_size, lambda1=0.1, n_iter=40, batch_size=500, init=noisy
    )

    def captured(D, h):
        learned = D[h * group_size : (h + 1) * group_size]
        P = D_true[h * group_size : (h + 1) * group_size]
        return np.linalg.norm(learned @ P.T) ** 2 / np.linalg.norm(learned) ** 2

    before = [captured(noisy, h) for h in range(n_groups)]
    after = [captured(res.components, h) for h in range(n_groups)]
    assert np.mean(before) < 0.85
    assert min(after) > 0.93
    assert all(a > b for a, b in zip(after, before, strict=True))
    # the estimator's pooled codes are the group norms of its codes
    est.fit(X)
    A = est.transform(X[:20])
    assert np.allclose(est.pool(X[:20]), np.linalg.norm(A.reshape(20, 4, 2), axis=2))


def test_train_group_dictionary_rejects_bad_arguments():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match="n_atoms"):
        train_group_dictionary(X, 5, 2, lambda1=0.1)
    with pytest.raises(ValueError, match="lambda1"):
        train_group_dictionary(X, 4, 2, lambda1=0.0)
    with pytest.raises(ValueError, match="code_iter"):
        train_group_dictionary(X, 4, 2, lambda1=0.1, code_iter=0)
    with pytest.raises(ValueError, match="init"):
        train_group_dictionary(X, 4, 2, lambda1=0.1, init=np.ones((3, 4)))
