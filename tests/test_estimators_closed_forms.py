"""Estimators against closed forms, with literal tolerances (all values in nats)."""

import numpy as np
import pytest

from structlearn.estimators import entropy, mutual_information

RHOS = (0.0, 0.3, 0.6, 0.9)


def gaussian_pair(rho: float, n: int = 5000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    z = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    return z[:, :1], z[:, 1:]


def true_gaussian_mi(rho: float) -> float:
    return -0.5 * np.log(1 - rho**2)


@pytest.mark.parametrize("rho", RHOS)
def test_ksg_correlated_gaussians(rho):
    x, y = gaussian_pair(rho)
    est = mutual_information(x, y, method="knn", k=3)
    assert abs(est - true_gaussian_mi(rho)) < 0.04  # sampling spread at n = 5000 is ~0.01-0.02


@pytest.mark.parametrize("rho", RHOS)
def test_gaussian_mi_correlated_gaussians(rho):
    x, y = gaussian_pair(rho)
    est = mutual_information(x, y, method="gaussian")
    assert abs(est - true_gaussian_mi(rho)) < 0.02


def test_gaussian_mi_multivariate_closed_form():
    # X (3-d) and Y = A X + noise: I = 1/2 log det(I + A A^T / s^2)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2, 3))
    x = rng.normal(size=(20000, 3))
    y = x @ a.T + 0.5 * rng.normal(size=(20000, 2))
    true = 0.5 * np.linalg.slogdet(np.eye(2) + a @ a.T / 0.25)[1]
    assert abs(mutual_information(x, y, method="gaussian") - true) < 0.03


@pytest.mark.parametrize("d", [1, 3])
def test_entropy_of_gaussian(d):
    rng = np.random.default_rng(2)
    cov = np.diag(np.linspace(0.5, 2.0, d))
    x = rng.multivariate_normal(np.zeros(d), cov, size=5000)
    true = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * cov)[1]
    assert abs(entropy(x, method="gaussian") - true) < 0.03
    assert abs(entropy(x, method="knn", k=3) - true) < 0.06
    assert abs(entropy(x, method="knn", k=3, metric="euclidean") - true) < 0.06


def test_knn_entropy_of_uniform_cube():
    x = np.random.default_rng(3).uniform(0, 2, size=(5000, 2))  # H = log(4)
    assert abs(entropy(x, method="knn") - np.log(4)) < 0.03


def test_discrete_uniform_and_deterministic():
    x = np.tile(np.arange(8), 50)
    assert entropy(x, method="discrete") == pytest.approx(np.log(8), abs=1e-12)
    assert mutual_information(x, x, method="discrete") == pytest.approx(np.log(8), abs=1e-12)
    assert mutual_information(x, x % 2, method="discrete") == pytest.approx(np.log(2), abs=1e-12)
    assert entropy(np.full(40, 3), method="discrete") == 0.0


def test_miller_madow_correction_value():
    x = np.array([0, 0, 1, 2])  # counts 2, 1, 1: m = 3 occupied, n = 4
    plugin = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25))
    assert entropy(x, method="discrete", miller_madow=True) == pytest.approx(
        plugin + 2 / 8, abs=1e-12
    )


def test_binning_uniform_and_deterministic():
    x = (np.arange(1000) + 0.5) / 1000  # 10 bins of 100
    assert entropy(x, method="binning", n_bins=10) == pytest.approx(np.log(10), abs=1e-12)
    y = (x > 0.5).astype(int)
    assert mutual_information(x, y, method="binning", n_bins=10) == pytest.approx(
        np.log(2), abs=1e-12
    )


def test_kde_single_component_is_gaussian_entropy():
    x = np.ones((10, 3))
    true = 1.5 * np.log(2 * np.pi * np.e * 0.2)
    assert entropy(x, method="kde", noise_variance=0.2) == pytest.approx(true, abs=1e-12)
    assert entropy(x, method="kde", noise_variance=0.2, bound="lower") == pytest.approx(
        true, abs=1e-12
    )


def test_kde_far_apart_components_give_log_n():
    x = 100.0 * np.arange(6.0).reshape(-1, 1)  # 6 separated components: H = H(noise) + log 6
    true = 0.5 * np.log(2 * np.pi * np.e * 0.1) + np.log(6)
    for bound in ("upper", "lower"):
        assert entropy(x, method="kde", noise_variance=0.1, bound=bound) == pytest.approx(
            true, abs=1e-9
        )


@pytest.mark.parametrize("method", ["knn", "gaussian", "binning"])
def test_independent_mi_within_null_spread(method):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(2000, 1)), rng.normal(size=(2000, 1))
    est = mutual_information(
        x, y, method=method, return_baseline=True, n_shuffles=10, n_bootstrap=0
    )
    assert est.value < est.null_mean + 3 * est.null_std
    if method == "binning":  # the plug-in bias is what the baseline is there to show
        assert est.null_mean > 0.1
    else:
        assert abs(est.value) < 0.02
