"""Tests for structlearn.analysis.random_networks: layer measures vs accuracy over random
networks, Spearman with a bootstrap interval, the deprecated config dict."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.stats import spearmanr

from structlearn.analysis.layer_measures import LAYER_MEASURES, analyze_layer_measures
from structlearn.analysis.random_networks import analyze_random_networks, spearman_interval
from structlearn.data import load_digits_data
from structlearn.models.random_features import random_features
from structlearn.utils.io import atomic_write_json, read_json


@pytest.fixture(scope="module")
def digits():
    d = load_digits_data()
    idx = np.random.default_rng(0).permutation(len(d.y))[:400]
    return d.X[idx].astype(np.float64), d.y[idx]


SMALL = {"depth": [1, 2], "width": [8, 16], "activation": ["relu", "tanh"]}


@pytest.fixture(scope="module")
def small(digits):
    X, y = digits
    return analyze_random_networks(
        X, y, **SMALL, n_networks=8, max_samples=150, n_bootstrap=200, random_state=0
    )


# ------------------------------------------------------------------------------ Spearman
def test_spearman_of_a_monotone_relation_is_one():
    x = np.random.default_rng(0).normal(size=40)
    rho, lo, hi = spearman_interval(x, np.exp(3 * x) + 2, n_bootstrap=200)
    assert rho == pytest.approx(1.0, abs=1e-12)
    assert lo == pytest.approx(1.0, abs=1e-12) and hi == pytest.approx(1.0, abs=1e-12)
    rho, lo, hi = spearman_interval(x, -(x**3), n_bootstrap=200)
    assert (rho, lo, hi) == pytest.approx((-1.0, -1.0, -1.0), abs=1e-12)


def test_spearman_equals_scipy_with_ties_and_its_interval_covers_it():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=60).astype(float)  # many ties
    y = x + rng.normal(scale=2.0, size=60)
    rho, lo, hi = spearman_interval(x, y, n_bootstrap=500, random_state=2)
    assert rho == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert -1.0 <= lo <= rho <= hi <= 1.0 and hi - lo > 0.05
    assert spearman_interval(np.exp(x), y**3, n_bootstrap=500, random_state=2) == pytest.approx(
        (rho, lo, hi), abs=1e-12
    )


# ------------------------------------------------------------------------------ the analysis
def test_measures_are_those_of_the_networks_features_and_rho_is_scipys(digits, small):
    X, _ = digits
    xs = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0) * (X.std(0) > 0)
    for arch, m in zip(small.architectures, small.measures, strict=True):
        params = {k: v for k, v in arch.items() if k != "seed"}
        z = random_features(xs, **params, random_state=arch["seed"])
        ref = analyze_layer_measures(z, max_samples=150, random_state=arch["seed"])
        assert m.summary() == ref.summary()
    alive = small.alive
    for name in LAYER_MEASURES:
        v = small.values(name)[alive]
        v = np.where(np.isneginf(v), -1e300, v)  # -inf (below full rank) ranks lowest
        ref = spearmanr(v, small.test_accuracy[alive]).statistic
        assert small.spearman[name][0] == pytest.approx(ref, abs=1e-12), name
        lo, hi = small.spearman[name][1:]
        assert lo <= small.spearman[name][0] <= hi
    width = np.array([a["width"] for a in small.architectures])[alive]
    assert small.rho_width == pytest.approx(
        spearmanr(width, small.test_accuracy[alive]).statistic, abs=1e-12
    )
    assert small.n_test == 100 and small.n_train == 300


def test_the_read_out_learns_and_the_shuffled_control_does_not(small):
    assert (small.test_accuracy > small.chance_accuracy + 0.3).all()  # digits are readable
    assert np.abs(small.shuffled_accuracy - 0.1).max() < 0.1  # 10 classes, no labels learned
    assert small.classifier == "logistic"


def test_seed_fixes_everything_and_json_round_trip(digits, small, tmp_path):
    X, y = digits
    again = analyze_random_networks(
        X, y, **SMALL, n_networks=8, max_samples=150, n_bootstrap=200, random_state=0
    )
    assert again.to_dict() == small.to_dict()
    atomic_write_json(tmp_path / "rn.json", small.to_dict())
    back = read_json(tmp_path / "rn.json")
    assert back["rho_channel_information"] == pytest.approx(small.rho_channel_information)
    ax = small.plot()
    assert sum(len(c.get_offsets()) for c in ax.collections) == 8
    assert "Spearman" in ax.get_title() and "channel information" in ax.get_xlabel()
    plt.close(ax.figure)


def test_the_config_dict_is_a_deprecated_alias_of_the_keywords(digits):
    X, y = digits
    kw = dict(n_networks=4, max_samples=100, n_bootstrap=20, random_state=3)
    with pytest.warns(FutureWarning, match="config dict is deprecated"):
        old = analyze_random_networks(X, y, SMALL, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = analyze_random_networks(X, y, **SMALL, **kw)
    assert old.to_dict() == new.to_dict()
    with pytest.warns(FutureWarning, match="measure="):
        g = analyze_random_networks(X, y, **SMALL, **kw, entropy="gaussian")
    assert g.measure == "gaussian_entropy"


def test_dead_networks_are_left_out_and_reported():
    X = np.ones((40, 3))  # standardised to zeros: every network outputs act(b), a constant
    y = np.repeat([0, 1], 20)
    with (
        pytest.warns(UserWarning, match="only constant features"),
        pytest.raises(ValueError, match="n_networks"),
    ):
        analyze_random_networks(X, y, **SMALL, n_networks=4, n_bootstrap=10)


def test_bad_input_names_the_argument(digits):
    X, y = digits
    with pytest.raises(ValueError, match="config"), pytest.warns(FutureWarning):
        analyze_random_networks(X, y, {"layers": [2]})
    with pytest.raises(ValueError, match=r"space\['activation'\]"):
        analyze_random_networks(X, y, activation=["softplus"])
    with pytest.raises(ValueError, match="y"):
        analyze_random_networks(X, y[:-1])
    with pytest.raises(ValueError, match="test_size"):
        analyze_random_networks(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="measure"):
        analyze_random_networks(X, y, measure="knn")
    with pytest.raises(ValueError, match="classifier"):
        analyze_random_networks(X, y, classifier="svm")
    with pytest.raises(ValueError, match="y"):
        spearman_interval([1, 2, 3], [1, 2])
