"""Estimators are invariant to units and right at the edges (issue 14's reproducers, with the
values they must give): KSG and Gaussian MI under rescaling, Gaussian entropy equivariance,
overflow at 1e300, labels above 2**53 and other hashable symbols, non-distributions refused,
rank deficiency reported, and the shrinkage option checked against closed forms and scikit-learn.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.covariance import LedoitWolf
from sklearn.feature_selection import mutual_info_regression

from structlearn.estimators import (
    discrete_entropy,
    discrete_mutual_information,
    entropy,
    entropy_of_distribution,
    gaussian_entropy,
    gaussian_mutual_information,
    knn_entropy,
    ksg_mutual_information,
    mutual_information,
)
from structlearn.estimators.gaussian import (
    RankDeficientError,
    RankDeficientWarning,
    shrunk_covariance,
)


def reproducer():
    """The audit's F3/F4 data: y a noisy linear map of x (60 samples, 4 + 2 features)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4))
    y = x @ rng.standard_normal((4, 2)) + 0.5 * rng.standard_normal((60, 2))
    return x, y


def slogdet_mi(x, y):
    c = np.cov(np.hstack([x, y]).T)
    d = x.shape[1]
    logdet = [np.linalg.slogdet(m)[1] for m in (c[:d, :d], c[d:, d:], c)]
    return 0.5 * (logdet[0] + logdet[1] - logdet[2])


# ---- KSG -----------------------------------------------------------------------------------------


def test_ksg_does_not_depend_on_units():
    x, y = reproducer()
    base = mutual_information(x, y, method="knn")
    assert base > 0.9  # was 0.98 unstandardised; 0.0 at 1e3 * x
    for scale in (1e3, 1e-3, 1e-300, 1e300):
        assert mutual_information(scale * x, y, method="knn") == pytest.approx(base, abs=1e-12)
    # the raw-data estimate is still there on request, and it does depend on units
    raw = mutual_information(1e3 * x, y, method="knn", standardize=False)
    assert raw < 0.01


def test_ksg_one_dimensional_equals_scikit_learn_at_any_scale():
    # scikit-learn's mutual_info_regression standardises too: 0.2164 nats on the audit's data
    x, y = reproducer()
    ref = mutual_info_regression(x[:, :1], y[:, 0], n_neighbors=3, random_state=0)[0]
    assert ref == pytest.approx(0.2164, abs=1e-4)
    for scale in (1.0, 1e3, 1e-6):
        got = ksg_mutual_information(scale * x[:, :1], y[:, 0], k=3)
        assert got == pytest.approx(ref, abs=1e-6)


positive_scales = st.lists(st.floats(-6, 6).map(lambda e: 10.0**e), min_size=3, max_size=3).map(
    np.array
)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    positive_scales,
    st.floats(-1e3, 1e3),
    st.sampled_from(["knn", "gaussian", "binning", "mixed"]),
)
def test_property_mi_invariant_to_positive_affine_maps_per_feature(scales, shift, method):
    """Every continuous MI method: I(a x + b; y) = I(x; y) for per-feature a > 0 (b = shift * a,
    so the shift never rounds x away). Binning bins each variable over its own range, so it is
    invariant for a scalar x (one range) and tested there; KDE is excluded by definition (its
    noise variance is in the units of x)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 3))
    y = x[:, :1] + np.sin(x[:, 1:2]) + x[:, 2:] ** 2 + 0.3 * rng.standard_normal((300, 1))
    if method == "binning":
        x, scales = x[:, :1], scales[:1]
    before = mutual_information(x, y, method=method)
    after = mutual_information(x * scales + shift * scales, y, method=method)
    # rounding can move a sample across a neighbour's ball or a bin edge: one count of 300
    assert after == pytest.approx(before, abs=0.02 if method != "gaussian" else 1e-9)
    assert before > 0.1


def test_knn_entropy_is_equivariant_to_units_per_feature():
    x, _ = reproducer()
    h = knn_entropy(x)
    for scale in (1e-300, 1e-9, 1e6, 1e300):
        assert knn_entropy(scale * x) == pytest.approx(h + 4 * np.log(scale), abs=1e-9)
    scales = np.array([1e6, 1e-6, 3.0, 1e-200])
    assert knn_entropy(x * scales - 5 * scales) == pytest.approx(h + np.log(scales).sum(), abs=1e-9)
    # raw max-norm neighbourhoods let the largest units decide: off by nats
    raw = knn_entropy(x * scales, standardize=False) - np.log(scales).sum()
    assert abs(raw - h) > 1.0


# ---- Gaussian --------------------------------------------------------------------------------


def test_gaussian_mi_does_not_depend_on_units():
    x, y = reproducer()
    ref = slogdet_mi(x, y)
    assert ref == pytest.approx(3.4818, abs=1e-4)
    for sx, sy in ((1e6, 1.0), (1e10, 1.0), (1e-300, 1e300), (1.0, 1e-8)):
        got = mutual_information(sx * x, sy * y, method="gaussian")
        assert got == pytest.approx(ref, abs=1e-9)


def test_gaussian_entropy_is_equivariant_per_feature():
    x, _ = reproducer()
    ref = 0.5 * (4 * np.log(2 * np.pi * np.e) + np.linalg.slogdet(np.cov(x.T))[1])
    assert gaussian_entropy(x) == pytest.approx(ref, abs=1e-10)
    assert entropy(1e-6 * x, method="gaussian") == pytest.approx(ref + 4 * np.log(1e-6), abs=1e-9)
    scales = np.array([1e-200, 1.0, 3e5, 1e250])
    assert gaussian_entropy(x * scales + 7.0 * scales) == pytest.approx(
        ref + np.log(scales).sum(), abs=1e-8
    )


def test_gaussian_rank_deficiency_is_reported_not_hidden():
    x, _ = reproducer()
    collinear = np.column_stack([x, x[:, 0] - 2 * x[:, 1]])
    with pytest.raises(RankDeficientError, match="rank 4 < 5") as info:
        gaussian_entropy(collinear, rank_deficient="raise")
    assert (info.value.rank, info.value.n_features) == (4, 5)
    with pytest.warns(RankDeficientWarning, match="rank 4 < 5"):
        h = gaussian_entropy(collinear)
    # the ridge on the correlation matrix: the missing direction adds about log(1e-10) / 2
    assert h < gaussian_entropy(x) - 8.0
    with pytest.raises(RankDeficientError, match="rank"):
        gaussian_entropy(x[:3], rank_deficient="raise")  # 3 samples, 4 features


def test_gaussian_mi_projects_out_collinear_features_and_reports_infinite_information():
    x, y = reproducer()
    collinear = np.column_stack([x, x[:, 0] + x[:, 3], np.full(60, 5.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gaussian_mutual_information(collinear, y) == pytest.approx(slogdet_mi(x, y), 1e-9)
    with pytest.raises(RankDeficientError, match="canonical correlation is 1"):
        gaussian_mutual_information(x, x[:, :2] @ np.ones((2, 2)), rank_deficient="raise")
    with pytest.warns(RankDeficientWarning):
        assert gaussian_mutual_information(x, x[:, 0]) > 10.0


def test_shrinkage_matches_closed_forms_and_scikit_learn():
    x, _ = reproducer()
    x = x * np.array([1.0, 2.0, 0.5, 3.0])
    n, d = x.shape
    cov = np.cov(x.T)
    np.testing.assert_allclose(shrunk_covariance(x, 0.0), cov, rtol=1e-12)
    mu = np.trace(cov) / d
    np.testing.assert_allclose(shrunk_covariance(x, 1.0), mu * np.eye(d), rtol=1e-12)
    half = 0.5 * cov + 0.5 * mu * np.eye(d)
    np.testing.assert_allclose(shrunk_covariance(x, 0.5), half, rtol=1e-12)
    assert gaussian_entropy(x, shrinkage=1.0) == pytest.approx(
        0.5 * d * np.log(2 * np.pi * np.e * mu), abs=1e-10
    )
    assert gaussian_entropy(x, shrinkage=0.0) == pytest.approx(gaussian_entropy(x), abs=1e-10)
    # scikit-learn's Ledoit-Wolf uses ddof=0; ours is the same shrinkage on the ddof=1 covariance
    lw = LedoitWolf(assume_centered=False).fit(x).covariance_ * n / (n - 1)
    np.testing.assert_allclose(shrunk_covariance(x, "ledoit-wolf"), lw, rtol=1e-10)
    expected = 0.5 * (d * np.log(2 * np.pi * np.e) + np.linalg.slogdet(lw)[1])
    assert gaussian_entropy(x, shrinkage="ledoit-wolf") == pytest.approx(expected, abs=1e-10)
    assert gaussian_entropy(1e300 * x, shrinkage=0.5) == pytest.approx(
        gaussian_entropy(x, shrinkage=0.5) + d * np.log(1e300), abs=1e-8
    )
    with pytest.raises(ValueError, match="shrinkage"):
        gaussian_entropy(x, shrinkage="oas")


# ---- overflow --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,options", [("knn", {}), ("gaussian", {}), ("kde", {"noise_variance": 0.1})]
)
def test_huge_and_tiny_finite_inputs_give_finite_values(method, options):
    x, y = reproducer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for scale in (1e300, 1e-300):
            h = entropy(scale * x, method=method, **options)
            mi = mutual_information(scale * x, y, method=method, **options)
            assert np.isfinite(h) and np.isfinite(mi)
    if method == "kde":  # components 1e300 apart do not overlap: H = log n + H(noise)
        expected = np.log(60) + 2 * np.log(2 * np.pi * np.e * 0.1)
        assert entropy(1e300 * x, method="kde", **options) == pytest.approx(expected, abs=1e-12)


# ---- discrete symbols ------------------------------------------------------------------------


def test_integer_labels_above_2_53_are_not_merged():
    labels = np.array([2**53, 2**53 + 1] * 50)
    assert entropy(labels, method="discrete") == pytest.approx(np.log(2), abs=1e-12)
    big = np.array([2**62, 2**62 + 1, 2**62 + 2, 2**62 + 3] * 25, dtype=np.int64)
    assert discrete_entropy(big) == pytest.approx(np.log(4), abs=1e-12)
    assert discrete_mutual_information(big, big % 2) == pytest.approx(np.log(2), abs=1e-12)
    assert discrete_entropy(np.array([2**64 - 1, 2**64 - 2] * 5, dtype=np.uint64)) == pytest.approx(
        np.log(2), abs=1e-12
    )


def test_any_hashable_symbols_give_the_same_entropy_as_integers():
    ints = np.array([0, 1, 1, 2, 2, 2, 3, 0, 1, 2])
    ref = discrete_entropy(ints)
    names = np.array(["a", "b", "c", "d"])[ints]
    tuples = [(int(i), "x") for i in ints]
    objects = np.array([None, 1.5, "s", (1, 2)], dtype=object)[ints]
    for symbols in (names, names.tolist(), tuples, objects):
        assert discrete_entropy(symbols) == pytest.approx(ref, abs=1e-12)
    assert mutual_information(names, ints % 2, method="discrete") == pytest.approx(
        discrete_mutual_information(ints, ints % 2), abs=1e-12
    )
    rows = np.column_stack([ints % 2, ints // 2])  # rows as symbols: a bijection of ints
    assert discrete_entropy(rows) == pytest.approx(ref, abs=1e-12)


def test_bad_symbols_are_refused_by_name():
    with pytest.raises(
        ValueError, match="x: expected real numbers or hashable symbols, got complex"
    ):
        discrete_entropy(np.array([1 + 1j, 2.0]))
    with pytest.raises(ValueError, match="x: contains NaN"):
        discrete_entropy([0.0, np.nan])
    with pytest.raises(TypeError, match="x: expected hashable symbols"):
        discrete_entropy(np.array([[1], {"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="inconsistent"):
        discrete_mutual_information([1, 2, 3], ["a", "b"])
    with pytest.raises(ValueError, match="correction"):
        discrete_entropy([1, 2], correction="nsb")


# ---- distributions ---------------------------------------------------------------------------


def test_entropy_of_distribution_refuses_non_distributions():
    with pytest.raises(ValueError, match="p: expected probabilities summing to 1, got sums"):
        entropy_of_distribution([2.0, 3.0, 5.0])
    with pytest.raises(ValueError, match="p: expected non-negative"):
        entropy_of_distribution([-0.2, 0.7, 0.5])
    with pytest.raises(ValueError, match="p: contains 1 NaN"):
        entropy_of_distribution([np.nan, 0.5, 0.5])
    with pytest.raises(ValueError, match="p: expected at least 1"):
        entropy_of_distribution([])
    p = np.array([2.0, 3.0, 5.0])
    expected = -np.sum(p / 10 * np.log(p / 10))
    assert entropy_of_distribution(p, normalize=True) == pytest.approx(expected, abs=1e-12)
    rows = np.array([[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(entropy_of_distribution(rows, axis=1), [np.log(2), 0.0])
    with pytest.raises(ValueError, match="summing to 1"):
        entropy_of_distribution(rows, axis=0)


@pytest.mark.parametrize("method", ["binning", "kde", "knn", "gaussian", "discrete", "mixed"])
def test_complex_input_is_refused_by_name(method):
    """The imaginary part used to be dropped silently (audit F6)."""
    options = {"noise_variance": 0.1} if method == "kde" else {}
    x, y = reproducer()
    with pytest.raises(ValueError, match=r"x: expected real numbers.*complex"):
        mutual_information(x + 1j * x, y, method=method, **options)
    with pytest.raises(ValueError, match=r"y: expected real numbers.*complex"):
        mutual_information(x, y.astype(complex), method=method, **options)
    if method != "mixed":
        with pytest.raises(ValueError, match=r"x: expected real numbers.*complex"):
            entropy(x + 1j * x, method=method, **options)
    with pytest.raises(ValueError, match=r"z: expected real numbers.*complex"):
        mutual_information(x, y, "knn", z=x[:, 0] * 1j)


def test_audit_leftovers_bin_index_random_state_and_scalar_distribution():
    """F9/F11 reproducers: an index outside [0, n_bins) at a subnormal range, an error naming no
    argument for random_state=-1, and a scalar accepted as a distribution."""
    from structlearn.estimators import bin_indices, entropy_of_distribution, mutual_information

    assert bin_indices(np.array([[5e-324, 0.0]]), 1).tolist() == [[0, 0]]
    assert bin_indices(np.array([[-1e308, 1e308, 0.0]]), 2).tolist() == [[0, 1, 1]]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="random_state: expected a non-negative int, got -1"):
        mutual_information(
            rng.random((50, 1)), rng.random((50, 1)), return_baseline=True, random_state=-1
        )
    with pytest.raises(ValueError, match="p: expected an array of probabilities"):
        entropy_of_distribution(np.array(1.0))
    # a joint distribution of three variables is a distribution: its entropy is that of its cells
    assert entropy_of_distribution(np.full((2, 2, 2), 1 / 8)) == pytest.approx(np.log(8))


def test_information_plane_binning_codes_labels_by_class():
    """F8: a label of 10**9 raised a 440 GiB MemoryError; the plane is that of labels 0..k-1."""
    from structlearn.estimators.binning import (
        information_plane_binning,
        information_plane_binning_batch,
    )

    rng = np.random.default_rng(0)
    act = rng.uniform(-1, 1, size=(60, 3))
    y = np.tile([0, 1, 2], 20)
    big = np.where(y == 2, 10**9, y)
    assert information_plane_binning(act, big, n_bins=5) == information_plane_binning(
        act, y, n_bins=5
    )
    a = information_plane_binning_batch([act, act * 0.5], big, n_bins=5)
    b = information_plane_binning_batch([act, act * 0.5], y, n_bins=5)
    assert np.array_equal(np.asarray(a), np.asarray(b))
