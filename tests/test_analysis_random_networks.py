"""Tests for structlearn.analysis.random_networks: random features, entropy vs accuracy, Spearman."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.stats import spearmanr

from structlearn.analysis.random_networks import (
    analyze_random_networks,
    check_config,
    random_features,
    sample_architectures,
    spearman_interval,
)
from structlearn.data import load_digits_data
from structlearn.utils.io import atomic_write_json, read_json

LOG_2PI_E = np.log(2 * np.pi * np.e)


@pytest.fixture(scope="module")
def digits():
    d = load_digits_data()
    idx = np.random.default_rng(0).permutation(len(d.y))[:400]
    return d.X[idx].astype(np.float64), d.y[idx]


SMALL = {"depth": [1, 2], "width": [8, 16], "activation": ["relu", "tanh"]}


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
    # invariant under monotone transforms of either variable
    assert spearman_interval(np.exp(x), y**3, n_bootstrap=500, random_state=2) == pytest.approx(
        (rho, lo, hi), abs=1e-12
    )


# ------------------------------------------------------------------------------ networks
def test_random_features_equal_the_formula_written_out():
    x = np.random.default_rng(3).normal(size=(50, 7))
    z = random_features(
        x, depth=2, width=5, activation="tanh", weight_scale=1.5, bias_scale=0.3, random_state=11
    )
    rng = np.random.default_rng(11)
    h = x
    for _ in range(2):
        w = rng.normal(0.0, 1.5 / np.sqrt(h.shape[1]), size=(5, h.shape[1]))
        b = rng.normal(0.0, 1.0, size=5) * 0.3
        h = np.tanh(h @ w.T + b)
    np.testing.assert_allclose(z, h, atol=1e-12)


def test_weight_scale_one_keeps_the_variance_of_a_linear_layer():
    x = np.random.default_rng(4).normal(size=(4000, 200))
    z = random_features(x, depth=3, width=200, activation="linear", random_state=0)
    assert z.var() == pytest.approx(1.0, abs=0.15)  # E[var] = s^2 per layer, s = 1


def test_architectures_follow_the_config_and_the_seed():
    cfg = {"depth": [2, 4], "width": [8], "activation": ["sigmoid"], "weight_scale": [0.1, 10.0]}
    a = sample_architectures(cfg, 400, random_state=5)
    assert a == sample_architectures(cfg, 400, random_state=5)
    assert {x["depth"] for x in a} == {2, 4} and {x["width"] for x in a} == {8}
    scales = np.array([x["weight_scale"] for x in a])
    assert scales.min() >= 0.1 and scales.max() <= 10.0
    assert np.median(np.log10(scales)) == pytest.approx(0.0, abs=0.15)  # log-uniform on [-1, 1]
    assert check_config(None)["activation"] == ["relu", "tanh", "sigmoid"]


# ------------------------------------------------------------------------------ the analysis
def test_entropies_and_correlation_against_independent_references(digits):
    X, y = digits
    res = analyze_random_networks(X, y, SMALL, n_networks=8, n_bootstrap=200, random_state=0)
    xs = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0) * (X.std(0) > 0)
    for arch, h in zip(res.architectures, res.entropy_nats, strict=True):
        params = {k: v for k, v in arch.items() if k != "seed"}
        z = random_features(xs, **params, random_state=arch["seed"])
        z = z[:, z.std(0) > 1e-9]
        n, d = z.shape
        # Gaussian entropy of z-scored units: d/2 log(2 pi e) + 1/2 log det R (+ ddof correction)
        expected = 0.5 * d * LOG_2PI_E + 0.5 * np.linalg.slogdet(np.corrcoef(z.T))[1]
        expected += 0.5 * d * np.log(n / (n - 1))
        assert h == pytest.approx(expected, abs=1e-6)
    assert res.spearman == pytest.approx(
        spearmanr(res.entropy_nats, res.test_accuracy).statistic, abs=1e-12
    )
    lo, hi = res.spearman_interval
    assert lo <= res.spearman <= hi
    assert res.n_test == 100 and res.n_train == 300
    assert (res.test_accuracy > res.chance_accuracy).all()  # digits are linearly readable


def test_seed_fixes_everything_and_json_round_trip(digits, tmp_path):
    X, y = digits
    a = analyze_random_networks(X, y, SMALL, n_networks=5, n_bootstrap=50, random_state=9)
    b = analyze_random_networks(X, y, SMALL, n_networks=5, n_bootstrap=50, random_state=9)
    assert a.to_dict() == b.to_dict()
    atomic_write_json(tmp_path / "rn.json", a.to_dict())
    assert read_json(tmp_path / "rn.json")["spearman"] == pytest.approx(a.spearman)
    ax = a.plot()
    assert sum(len(c.get_offsets()) for c in ax.collections) == 5
    assert "Spearman" in ax.get_title()
    plt.close(ax.figure)


def test_constant_features_are_left_out_and_reported():
    X = np.ones((40, 3))  # standardised to zeros: every network outputs act(b), a constant
    y = np.repeat([0, 1], 20)
    with (
        pytest.warns(UserWarning, match="only constant features"),
        pytest.raises(ValueError, match="n_networks"),
    ):
        analyze_random_networks(X, y, SMALL, n_networks=4, n_bootstrap=10)


def test_bad_input_names_the_argument(digits):
    X, y = digits
    with pytest.raises(ValueError, match="config"):
        analyze_random_networks(X, y, {"layers": [2]})
    with pytest.raises(ValueError, match=r"config\['activation'\]"):
        check_config({"activation": ["softplus"]})
    with pytest.raises(ValueError, match=r"config\['weight_scale'\]"):
        check_config({"weight_scale": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"config\['width'\]"):
        check_config({"width": [0]})
    with pytest.raises(ValueError, match="y"):
        analyze_random_networks(X, y[:-1])
    with pytest.raises(ValueError, match="test_size"):
        analyze_random_networks(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="entropy"):
        analyze_random_networks(X, y, entropy="knn")
    with pytest.raises(ValueError, match="classifier"):
        analyze_random_networks(X, y, classifier="svm")
    with pytest.raises(ValueError, match="y"):
        spearman_interval([1, 2, 3], [1, 2])
