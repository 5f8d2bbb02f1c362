"""Bounds on I(X;Z) of a heteroscedastic Gaussian channel: loops, isotropic case, limits."""

import math

import numpy as np
import pytest

from structlearn.estimators import kde_mi_bounds
from structlearn.estimators.gaussian_channel import (
    _pairwise_bhattacharyya,
    _pairwise_kl,
    gaussian_channel_mi_bounds,
)


def _kl(m1, v1, m2, v2):
    return 0.5 * np.sum(v1 / v2 + (m2 - m1) ** 2 / v2 - 1 + np.log(v2 / v1))


def _bhatt(m1, v1, m2, v2):
    v = (v1 + v2) / 2
    return 0.125 * np.sum((m1 - m2) ** 2 / v) + 0.5 * np.sum(np.log(v / np.sqrt(v1 * v2)))


def test_pairwise_distances_match_loops():
    rng = np.random.default_rng(0)
    mu, var = rng.standard_normal((7, 3)), rng.uniform(0.2, 2.0, (7, 3))
    kl, b = _pairwise_kl(mu, var), _pairwise_bhattacharyya(mu, var, chunk=3)
    for i in range(7):
        for j in range(7):
            assert kl[i, j] == pytest.approx(_kl(mu[i], var[i], mu[j], var[j]), abs=1e-10)
            assert b[i, j] == pytest.approx(_bhatt(mu[i], var[i], mu[j], var[j]), abs=1e-10)


def test_shared_isotropic_noise_equals_the_kde_bounds():
    rng = np.random.default_rng(1)
    h = rng.standard_normal((40, 2))
    ours = gaussian_channel_mi_bounds(h, np.full_like(h, 0.7))
    kde = kde_mi_bounds(h, np.zeros(40, int), 0.49)
    assert ours["I_XZ_upper_nats"] == pytest.approx(kde["I_XT_upper_nats"], rel=1e-10)
    assert ours["I_XZ_lower_nats"] == pytest.approx(kde["I_XT_lower_nats"], rel=1e-10)


def test_limits_and_order():
    mu = np.repeat(np.eye(3) * 50.0, 2, axis=0)
    # identical encoders carry nothing; far-apart pairs of twins carry log 3
    assert gaussian_channel_mi_bounds(np.zeros((5, 2)), np.ones((5, 2)))["I_XZ_upper_nats"] == 0.0
    b = gaussian_channel_mi_bounds(mu, np.ones_like(mu))
    assert b["I_XZ_upper_nats"] == pytest.approx(math.log(3), abs=1e-9)
    # noise (shared by every input) wider than the spread of the means: near 0
    rng = np.random.default_rng(2)
    m, s = rng.standard_normal((30, 4)), rng.uniform(5, 10, (1, 4)).repeat(30, 0)
    b = gaussian_channel_mi_bounds(m, s)
    assert 0 <= b["I_XZ_lower_nats"] <= b["I_XZ_upper_nats"] < 0.1


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="std"):
        gaussian_channel_mi_bounds(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="std"):
        gaussian_channel_mi_bounds(np.zeros((3, 2)), np.ones((3, 1)))
