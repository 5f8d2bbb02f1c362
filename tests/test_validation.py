"""The boundary checks: each error names the argument and what was expected."""

import numpy as np
import pytest
import torch

from structlearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
    check_tensor,
)


def test_check_array_converts_and_rejects():
    assert check_array(torch.ones(2, 3), "X").dtype == np.float64
    with pytest.raises(ValueError, match=r"^X: expected a 2-D array .* got 3-D"):
        check_array(np.zeros((2, 2, 2)), "X")
    with pytest.raises(ValueError, match=r"^Z: contains 1 NaN and 1 Inf"):
        check_array([[np.nan, np.inf], [0, 0]], "Z")
    with pytest.raises(ValueError, match=r"^X: expected at least 3 sample"):
        check_array(np.zeros((2, 2)), "X", min_samples=3)
    with pytest.raises(TypeError, match=r"^X: expected a numeric array"):
        check_array(np.array([["a"]]), "X")


def test_check_tensor_keeps_graph_and_rejects_nan():
    z = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    out = check_tensor(z, "features")
    assert out is z and out.dtype == torch.float64
    with pytest.raises(ValueError, match=r"^features: contains NaN"):
        check_tensor(torch.tensor([[float("nan")]]), "features")


def test_check_labels():
    assert check_labels([0.0, 2.0, 1.0], "y").tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match=r"^y: expected integer class labels"):
        check_labels([0.5, 1.0], "y")
    with pytest.raises(ValueError, match=r"^y: has 2 entries but the features have 3"):
        check_labels([0, 1], "y", n_samples=3)
    with pytest.raises(
        ValueError, match=r"^y: labels must lie in \[0, 2\), got values in \[0, 2\]"
    ):
        check_labels([0, 2], "y", n_classes=2)


def test_scalars_options_lengths_and_seeds():
    with pytest.raises(ValueError, match=r"^beta: expected a value >= 0, got -1"):
        check_scalar(-1, "beta", low=0)
    with pytest.raises(TypeError, match=r"^k: expected int"):
        check_scalar(2.0, "k", kind=int)
    with pytest.raises(ValueError, match=r"'knn', 'kde'"):
        check_option("ksg", "method", ["knn", "kde"])
    with pytest.raises(ValueError, match=r"^y: has 2 samples but x has 3; inconsistent"):
        check_consistent_length(x=[1, 2, 3], y=[1, 2])
    a = check_random_state(7).standard_normal(3)
    assert np.array_equal(a, check_random_state(7).standard_normal(3))
    assert not np.array_equal(a, check_random_state(8).standard_normal(3))


def test_complex_input_is_refused_by_name_not_cast_to_real():
    """F6: `astype(float64)` dropped the imaginary part with only a ComplexWarning, so
    entropy(X + 1j X) == entropy(X) in about 60 functions."""
    import structlearn.estimators as E

    X = np.random.default_rng(0).standard_normal((50, 3))
    for bad in (X + 1j * X, (X + 0j).astype(np.complex64), torch.as_tensor(X + 1j * X)):
        with pytest.raises(ValueError, match=r"^Z: expected real numbers, got complex dtype"):
            check_array(bad, "Z")
        with pytest.raises(ValueError, match=r"^Z: expected real numbers, got complex dtype"):
            check_tensor(bad, "Z")
    with pytest.raises(ValueError, match=r"^x: expected real numbers"):
        E.entropy(X + 1j * X, "gaussian")
    assert check_array(X + 0.0, "Z").dtype == np.float64  # real input unchanged


def test_relabel_codes_classes_that_occur():
    from structlearn.utils.validation import relabel

    codes, classes = relabel(np.array([7, 10**9, 7, 0]))
    assert codes.tolist() == [1, 2, 1, 0] and classes.tolist() == [0, 7, 10**9]
    np.testing.assert_array_equal(classes[codes], [7, 10**9, 7, 0])


def test_check_count_states_its_bound():
    from structlearn.utils.validation import MAX_COUNT, check_count

    assert check_count(MAX_COUNT, "n") == MAX_COUNT
    with pytest.raises(ValueError, match=rf"^n_iter: expected a value <= {MAX_COUNT}, got"):
        check_count(MAX_COUNT + 1, "n_iter")
    with pytest.raises(TypeError, match=r"^n_iter: expected Integral, got float"):
        check_count(2.5, "n_iter")
