"""Tests of the SPAMS wrappers: correct answers, and malformed inputs that would crash SPAMS
(C-ordered, float32, integer, non-contiguous arrays, group structures that do not fit) being
converted or refused with a ValueError, never a segfault."""

from __future__ import annotations

import numpy as np
import pytest

from structlearn.utils.spams import (
    check_groups,
    group_sparse_encode,
    sparse_encode,
    train_dictionary,
)


def dictionary(k=6, p=4, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((k, p))
    return D / np.linalg.norm(D, axis=1, keepdims=True)


def lasso_kkt_violation(X, D, A, lam):
    """Largest violation of the lasso optimality conditions (0 at the exact solution)."""
    corr = (X - A @ D) @ D.T
    off = np.abs(corr) - lam
    on = np.abs(corr - lam * np.sign(A))
    return max(off.max(), on[A != 0].max(initial=0.0))


def test_sparse_encode_orthonormal_is_soft_thresholding():
    X = np.random.default_rng(0).standard_normal((5, 3))
    A = sparse_encode(X, np.eye(3), lambda1=0.5)
    assert np.allclose(A, np.sign(X) * np.maximum(np.abs(X) - 0.5, 0), atol=1e-12)


def test_sparse_encode_solves_the_lasso():
    X = np.random.default_rng(1).standard_normal((7, 4))
    D = dictionary()
    A = sparse_encode(X, D, lambda1=0.2)
    assert A.shape == (7, 6)
    assert lasso_kkt_violation(X, D, A, 0.2) < 1e-8


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: np.ascontiguousarray(a, dtype=np.float32),  # C-ordered float32
        lambda a: np.asfortranarray(a),  # Fortran-ordered
        lambda a: np.repeat(a, 2, axis=1)[:, ::2],  # non-contiguous view
        lambda a: a.tolist(),  # nested lists
    ],
)
def test_layouts_and_dtypes_are_converted(convert):
    X = np.random.default_rng(2).standard_normal((5, 4))
    D = dictionary()
    expected = sparse_encode(X, D, lambda1=0.1)
    got = sparse_encode(convert(X), convert(D), lambda1=0.1)
    assert np.allclose(got, expected, atol=1e-5)


def test_integer_arrays_are_converted():
    X = np.array([[3, 0, -2], [1, 1, 0]])
    A = sparse_encode(X, np.eye(3, dtype=np.int64), lambda1=1)
    assert np.allclose(A, [[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], atol=1e-12)


def test_group_sparse_encode_matches_group_shrinkage():
    # orthonormal dictionary: the group lasso is block soft thresholding, in closed form
    X = np.random.default_rng(3).standard_normal((6, 4)) * 2
    groups = np.array([0, 0, 1, 1])
    A = group_sparse_encode(X, np.eye(4), groups, lambda1=1.0, max_iter=2000, tol=1e-12)
    expected = np.zeros_like(X)
    for g in (0, 1):
        block = X[:, groups == g]
        norm = np.linalg.norm(block, axis=1, keepdims=True)
        expected[:, groups == g] = block * np.maximum(0, 1 - 1.0 / norm)
    assert np.allclose(A, expected, atol=1e-6)


def test_train_dictionary_unit_atoms_and_deterministic():
    X = np.random.default_rng(4).standard_normal((200, 5)).astype(np.float32)  # float32 input
    D1 = train_dictionary(X, 8, lambda1=0.1, n_iter=20, batch_size=50, random_state=0)
    D2 = train_dictionary(
        np.ascontiguousarray(X), 8, lambda1=0.1, n_iter=20, batch_size=50, random_state=0
    )
    assert D1.shape == (8, 5)
    assert np.allclose(np.linalg.norm(D1, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(D1, D2)


# --------------------------------------------------------------------------- refused inputs


def test_malformed_inputs_raise_value_error():
    X = np.random.default_rng(5).standard_normal((5, 4))
    D = dictionary()
    with pytest.raises(ValueError, match="D"):
        sparse_encode(X, D[:, :3], lambda1=0.1)  # features do not match
    with pytest.raises(ValueError, match="X"):
        sparse_encode(X[0], D, lambda1=0.1)  # 1-D
    with pytest.raises(ValueError, match="X"):
        sparse_encode(np.full((2, 4), np.nan), D, lambda1=0.1)
    with pytest.raises(ValueError, match="X"):
        sparse_encode(np.zeros((0, 4)), D, lambda1=0.1)
    with pytest.raises(ValueError, match="lambda1"):
        sparse_encode(X, D, lambda1=0.0)
    with pytest.raises(ValueError, match="lambda1"):
        sparse_encode(X, D, lambda1=np.nan)
    with pytest.raises(ValueError, match="X"):
        train_dictionary(np.zeros((10, 3)), 4, lambda1=0.1)  # nothing to initialise from
    with pytest.raises(ValueError, match="n_atoms"):
        train_dictionary(X, 0, lambda1=0.1)


@pytest.mark.parametrize(
    ("groups", "why"),
    [
        (np.array([0, 0, 1, 1, 2]), "length"),  # one id short
        (np.array([0, 0, 1, 1, 2, 2, 3]), "length"),  # one id too many
        (np.array([0, 0, 2, 2, 3, 3]), "contiguous"),  # id 1 missing
        (np.array([-1, 0, 0, 1, 1, 1]), "negative"),
        (np.array([0.0, 0, 1, 1, 2, 2]), "float ids"),
        (np.array([[0, 0, 1], [1, 2, 2]]), "2-D"),
    ],
)
def test_bad_group_structures_raise(groups, why):
    X = np.random.default_rng(6).standard_normal((3, 4))
    with pytest.raises(ValueError, match="groups"):
        group_sparse_encode(X, dictionary(), groups, lambda1=0.1)


def test_check_groups_returns_spams_form():
    g = check_groups(np.array([1, 0, 1, 2]), 4)
    assert g.dtype == np.int32 and g.flags.c_contiguous
    assert g.tolist() == [2, 1, 2, 3]  # 1-based for SPAMS


def test_all_zero_codes_warn_with_the_threshold():
    D = np.eye(3)
    X = np.array([[0.5, -0.2, 0.1]])
    with pytest.warns(RuntimeWarning, match=r"lambda1=1 >= max \|<d, x>\| = 0\.5"):
        codes = sparse_encode(X, D, lambda1=1.0)
    assert not codes.any()
