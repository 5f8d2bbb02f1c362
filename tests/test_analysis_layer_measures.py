"""Tests for structlearn.analysis.layer_measures: channel information, coding rate, marginal and
Gaussian entropy of a layer, its rank, and what is refused."""

import math

import numpy as np
import pytest
import torch

from structlearn.analysis.layer_measures import analyze_layer_measures
from structlearn.estimators import gaussian_entropy
from structlearn.objectives.coding_rate import coding_rate

HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def _scaled(x):
    z = (x - x.mean(0)) / x.std(0)
    return z / math.sqrt(x.shape[1])


def test_two_far_apart_codes_carry_log_2_and_a_constant_layer_nothing():
    x = np.repeat([[0.0, 0.0], [1.0, 1.0]], 50, axis=0)  # two distinct rows, 50 copies each
    res = analyze_layer_measures(x, noise_std=1e-3)
    assert res.channel_information == pytest.approx(math.log(2), abs=1e-9)
    assert res.channel_information_lower == pytest.approx(math.log(2), abs=1e-9)
    assert res.rank == 1 and res.channel_ceiling == pytest.approx(math.log(100))
    assert res.gaussian_entropy is None  # rank 1 < 2 units: -inf, no ridge value
    const = analyze_layer_measures(np.full((30, 4), 2.5))
    assert (const.channel_information, const.coding_rate, const.rank) == (0.0, 0.0, 0)
    assert const.marginal_entropy is None and const.n_constant_units == 4


def test_distinct_inputs_at_tiny_noise_reach_the_ceiling_and_large_noise_carries_nothing():
    x = np.random.default_rng(0).normal(size=(200, 5))
    assert analyze_layer_measures(x, noise_std=1e-4).channel_information == pytest.approx(
        math.log(200), abs=1e-9
    )
    assert analyze_layer_measures(x, noise_std=1e3).channel_information < 1e-5


def test_channel_information_equals_the_pairwise_formula_and_is_scale_free():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 3)) @ rng.normal(size=(3, 6))  # rank 3 in 6 units
    s = 0.4
    z = _scaled(x)
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    upper = -np.mean(np.log(np.mean(np.exp(-d2 / (2 * s**2)), axis=1)))
    lower = -np.mean(np.log(np.mean(np.exp(-d2 / (8 * s**2)), axis=1)))
    res = analyze_layer_measures(x, noise_std=s)
    assert res.channel_information == pytest.approx(upper, rel=1e-9)
    assert res.channel_information_lower == pytest.approx(lower, rel=1e-9)
    assert res.channel_information_lower <= res.channel_information
    assert res.rank == 3 and res.gaussian_entropy is None
    shifted = analyze_layer_measures(7.0 * x - 3.0, noise_std=s).summary()
    for key, value in res.summary().items():
        assert shifted[key] == (None if value is None else pytest.approx(value, rel=1e-9)), key


def test_coding_rate_equals_the_mcr2_objective_on_the_scaled_layer():
    x = np.random.default_rng(2).normal(size=(120, 10)) ** 3
    for eps in (0.1, 0.5, 2.0):
        res = analyze_layer_measures(x, eps=eps)
        ref = float(coding_rate(torch.as_tensor(_scaled(x)), eps=eps))
        assert res.coding_rate == pytest.approx(ref, rel=1e-9)


def test_full_rank_layers_get_the_standardised_log_det_and_marginals_of_gaussians():
    x = np.random.default_rng(3).normal(size=(4000, 3)) * [1.0, 5.0, 0.1]
    res = analyze_layer_measures(x, max_samples=None)
    z = (x - x.mean(0)) / x.std(0)
    assert res.gaussian_entropy == pytest.approx(gaussian_entropy(z), rel=1e-12)
    assert res.gaussian_entropy == pytest.approx(3 * HALF_LOG_2PI_E, abs=0.02)
    assert res.marginal_entropy == pytest.approx(3 * HALF_LOG_2PI_E, abs=0.06)  # 30 bins
    assert res.rank == 3 and res.full_rank


def test_subset_is_seeded_and_sets_the_ceiling():
    x = np.random.default_rng(4).normal(size=(500, 4))
    a = analyze_layer_measures(x, max_samples=100, random_state=7)
    b = analyze_layer_measures(x, max_samples=100, random_state=7)
    c = analyze_layer_measures(x, max_samples=100, random_state=8)
    assert a.summary() == b.summary() and a.summary() != c.summary()
    assert a.n_samples == 100 and a.channel_ceiling == pytest.approx(math.log(100))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"x": np.ones(5)}, "x"),
        ({"noise_std": 0.0}, "noise_std"),
        ({"eps": -1.0}, "eps"),
        ({"n_bins": 1}, "n_bins"),
        ({"max_samples": 2}, "max_samples"),
        ({"max_samples": 30000}, "max_samples"),
        ({"x": np.zeros((20001, 1)), "max_samples": None}, "max_samples"),
        ({"x": np.full((10, 2), np.nan)}, "x"),
    ],
)
def test_bad_input_names_the_argument(kwargs, name):
    args = {"x": np.random.default_rng(0).normal(size=(10, 2)), **kwargs}
    with pytest.raises(ValueError, match=name):
        analyze_layer_measures(args.pop("x"), **args)
