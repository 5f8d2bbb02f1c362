"""The unified entropy / mutual_information API: dispatch, baselines, bad input, properties."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from structlearn.estimators import METHODS, Estimate, entropy, mutual_information
from structlearn.estimators.gaussian import RankDeficientError, RankDeficientWarning

OPTIONS = {
    "binning": {"n_bins": 8},
    "kde": {"noise_variance": 0.1},
    "knn": {"k": 3},
    "gaussian": {},
    "discrete": {},
}


def test_methods_listed_in_error():
    with pytest.raises(
        ValueError, match=r"method.*'binning'.*'kde'.*'knn'.*'gaussian'.*'discrete'"
    ):
        mutual_information(np.zeros(5), np.zeros(5), method="histogram")
    assert METHODS == ("binning", "kde", "knn", "gaussian", "discrete")


def test_missing_and_unknown_options_are_named():
    x = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=r"^noise_variance: method='kde' needs the option"):
        entropy(x, method="kde")
    with pytest.raises(ValueError, match=r"^noise_variance: method='kde' needs the option"):
        mutual_information(x, x, method="kde")
    with pytest.raises(ValueError, match=r"^n_neighbors: not an option of method='knn'.*\bk\b"):
        mutual_information(x, x, method="knn", n_neighbors=3)
    with pytest.raises(ValueError, match=r"^bins: not an option of method='binning'.*n_bins"):
        entropy(x, method="binning", bins=4)
    assert mutual_information(x, x, method="knn", k=3, workers=2) == mutual_information(
        x, x, method="knn", k=3
    )


@pytest.mark.parametrize("method", METHODS)
def test_torch_and_numpy_agree(method):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = x[:, :1] + rng.normal(size=(300, 1))
    a = mutual_information(x, y, method=method, **OPTIONS[method])
    b = mutual_information(torch.tensor(x), torch.tensor(y), method=method, **OPTIONS[method])
    assert a == pytest.approx(b, abs=1e-12)
    assert entropy(x, method=method, **OPTIONS[method]) == pytest.approx(
        entropy(torch.tensor(x), method=method, **OPTIONS[method]), abs=1e-12
    )


def test_baseline_separates_dependence_from_bias():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000, 1))
    y = x + 0.5 * rng.normal(size=(1000, 1))
    est = mutual_information(x, y, method="binning", n_bins=10, return_baseline=True)
    assert isinstance(est, Estimate) and est.method == "binning"
    assert est.value > est.null_mean + 10 * est.null_std
    assert est.ci_low <= est.value <= est.ci_high
    assert est.null_mean > 0.0  # the plug-in bias at zero information is visible
    d = est.to_dict()
    assert d["value_nats"] == est.value and d["method"] == "binning"


def test_baseline_is_seeded_and_skips_bootstrap_for_knn():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(200, 1)), rng.normal(size=(200, 1))
    a = mutual_information(x, y, method="knn", return_baseline=True, random_state=7)
    b = mutual_information(x, y, method="knn", return_baseline=True, random_state=7)
    assert a == b and a.ci_low is None
    h = entropy(x, method="gaussian", return_baseline=True)
    assert h.null_mean is None and h.ci_low < h.value < h.ci_high


@pytest.mark.parametrize("method", METHODS)
def test_bad_inputs_name_the_argument(method):
    opts = OPTIONS[method]
    with pytest.raises(ValueError, match="inconsistent"):
        mutual_information(np.zeros((10, 1)), np.zeros((9, 1)), method=method, **opts)
    bad = np.ones((10, 1))
    bad[3] = np.inf
    with pytest.raises(ValueError, match="x"):
        entropy(bad, method=method, **opts)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y"):
        mutual_information(np.ones((10, 1)), bad, method=method, **opts)


def test_bad_baseline_options():
    with pytest.raises(ValueError, match="confidence"):
        mutual_information(np.arange(5), np.arange(5), return_baseline=True, confidence=1.0)
    with pytest.raises(ValueError, match="n_shuffles"):
        mutual_information(np.arange(5), np.arange(5), return_baseline=True, n_shuffles=-1)


samples = st.integers(min_value=0, max_value=2**31 - 1).map(
    lambda s: np.random.default_rng(s).normal(size=(60, 2))
)


@settings(max_examples=15, deadline=None)
@given(samples, st.sampled_from(["binning", "discrete", "gaussian"]))
def test_property_mi_nonnegative_and_symmetric(x, method):
    y = x[:, :1] ** 2
    a = mutual_information(x, y, method=method, **OPTIONS[method])
    b = mutual_information(y, x, method=method, **OPTIONS[method])
    assert a >= 0.0
    assert a == pytest.approx(b, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(samples, st.sampled_from(["binning", "discrete"]))
def test_property_discrete_entropies_nonnegative_and_bounded(x, method):
    h = entropy(x, method=method, **OPTIONS[method])
    assert 0.0 <= h <= np.log(len(x)) + 1e-12
    assert mutual_information(x, x[:, 0], method=method, **OPTIONS[method]) <= h + 1e-12


@settings(max_examples=10, deadline=None)
@given(st.floats(-1e3, 1e3), st.sampled_from(METHODS))
def test_property_finite_for_constant_inputs(c, method):
    x = np.full((40, 2), c)
    y = np.random.default_rng(0).normal(size=(40, 1))
    if method == "gaussian":  # a degenerate covariance: entropy -inf, reported, never silent
        with pytest.raises(RankDeficientError, match="rank 0 < 2"):
            entropy(x, method=method, rank_deficient="raise")
        with pytest.warns(RankDeficientWarning, match="rank 0 < 2"):
            assert np.isfinite(entropy(x, method=method))
    else:
        assert np.isfinite(entropy(x, method=method, **OPTIONS[method]))
    mi = mutual_information(x, y, method=method, **OPTIONS[method])
    assert np.isfinite(mi) and abs(mi) < 0.2
