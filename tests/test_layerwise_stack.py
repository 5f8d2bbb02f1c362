"""Sparse-coding / InfoMax stacks: codes are optimal (lasso KKT), group codes switch on by groups,
ICA recovers independent sources, layers chain through pooling, and bad input is refused."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from structlearn.models.blocks import pool_groups
from structlearn.models.stack import SparseCodingStack
from structlearn.utils.spams import sparse_encode


def _sparse_data(n=300, d=10, n_atoms=15, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((n_atoms, d))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    A = rng.laplace(size=(n, n_atoms)) * (rng.random((n, n_atoms)) < 0.2)
    return A @ D + 0.01 * rng.standard_normal((n, d))


def test_codes_satisfy_lasso_optimality():
    # KKT of min 1/2 |x - D^T a|^2 + lam |a|_1: |D r| <= lam where a = 0, D r = lam sign(a) else.
    X, lam = _sparse_data(), 0.2
    stack = SparseCodingStack(n_layers=1, n_atoms=12, lambda1=lam, n_iter=40, random_state=0)
    A = stack.fit_transform(X)
    D = stack.components_[0]
    assert np.allclose(np.linalg.norm(D, axis=1), 1.0, atol=1e-8)
    corr = (X - A @ D) @ D.T  # (n, n_atoms)
    active = A != 0
    assert np.max(np.abs(corr[~active])) <= lam + 1e-6
    assert np.max(np.abs(corr[active] - lam * np.sign(A[active]))) < 1e-6
    assert 0.05 < active.mean() < 0.95  # sparse, not trivially empty


def test_group_codes_switch_on_by_whole_groups_and_pool():
    X = _sparse_data(seed=1)
    stack = SparseCodingStack(
        n_layers=2,
        n_atoms=[12, 4],
        lambda1=0.3,
        group_size=2,
        pooling="l2",
        n_iter=40,
        random_state=0,
    ).fit(X)
    codes0, codes1 = stack.transform_all(X)
    groups = (np.abs(codes0) > 1e-10).reshape(len(X), 6, 2)
    mixed = groups.any(axis=2) & ~groups.all(axis=2)
    assert mixed.mean() < 0.01  # group lasso: a group's atoms are zero or nonzero together
    assert 0.05 < groups.any(axis=2).mean() < 0.95
    pooled = np.sqrt((codes0.reshape(len(X), 6, 2) ** 2).sum(axis=2))
    assert np.allclose(stack._next_input(codes0), pooled, atol=0)
    # layer 2 is plain group-sparse coding of the pooled codes against its own dictionary
    assert codes1.shape == (len(X), 4)


def test_second_layer_codes_the_first_layers_codes():
    X = _sparse_data(seed=2)
    stack = SparseCodingStack(n_layers=2, n_atoms=[12, 6], lambda1=0.1, n_iter=40, random_state=0)
    codes0, codes1 = stack.fit(X).transform_all(X)
    assert np.allclose(codes1, sparse_encode(codes0, stack.components_[1], lambda1=0.1), atol=0)
    assert stack.components_[1].shape == (6, 12)
    assert np.allclose(stack.fit_transform(X), codes1, atol=1e-12)


def test_pool_groups_against_loops():
    rng = np.random.default_rng(3)
    codes = rng.standard_normal((5, 8))
    l2, mx = pool_groups(codes, 4, "l2"), pool_groups(codes, 4, "max")
    for n in range(5):
        for g in range(2):
            block = codes[n, 4 * g : 4 * g + 4]
            assert l2[n, g] == pytest.approx(np.sqrt(np.sum(block**2)), rel=1e-14)
            assert mx[n, g] == np.max(np.abs(block))


def test_ica_layer_recovers_independent_sources():
    rng = np.random.default_rng(4)
    S = rng.laplace(size=(2000, 3))
    X = S @ rng.standard_normal((3, 3))
    codes = SparseCodingStack(n_layers=1, n_atoms=3, method="ica", random_state=0).fit_transform(X)
    corr = np.abs(np.corrcoef(codes.T, S.T)[:3, 3:])
    assert np.all(corr.max(axis=1) > 0.99)  # each component is one source, up to sign and scale


def test_seed_fixes_the_stack():
    X = _sparse_data(seed=5)
    make = lambda s: SparseCodingStack(n_layers=1, n_atoms=8, n_iter=50, random_state=s)  # noqa: E731
    assert np.array_equal(make(0).fit(X).components_[0], make(0).fit(X).components_[0])
    assert not np.allclose(make(0).fit(X).components_[0], make(1).fit(X).components_[0])


def test_bad_input_is_refused_by_name():
    X = _sparse_data(n=40)
    with pytest.raises(NotFittedError):
        SparseCodingStack().transform(X)
    with pytest.raises(ValueError, match="group_size"):
        SparseCodingStack(n_atoms=10, group_size=3).fit(X)
    with pytest.raises(ValueError, match="n_atoms: expected an int or 2 ints"):
        SparseCodingStack(n_layers=2, n_atoms=[4, 4, 4]).fit(X)
    with pytest.raises(ValueError, match="method"):
        SparseCodingStack(method="pca").fit(X)
    with pytest.raises(ValueError, match="pooling"):
        SparseCodingStack(pooling="mean").fit(X)
    with pytest.raises(ValueError, match="lambda1"):
        SparseCodingStack(lambda1=0.0).fit(X)
    with pytest.raises(ValueError, match="lambda1: every code of layer 0 is zero"):
        SparseCodingStack(n_layers=1, n_atoms=4, lambda1=1e3, n_iter=10).fit(X)
    with pytest.raises(ValueError, match="n_atoms: ICA layer 0"):
        SparseCodingStack(n_layers=1, n_atoms=20, method="ica").fit(X)
    stack = SparseCodingStack(n_layers=1, n_atoms=4, n_iter=10, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 9 features, but SparseCodingStack is expecting 10"):
        stack.transform(X[:, :9])
