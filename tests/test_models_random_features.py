"""Tests for structlearn.models.random_features: the random networks and their architecture space."""

import numpy as np
import pytest

from structlearn.models.random_features import (
    DEFAULT_SPACE,
    check_space,
    random_features,
    sample_architectures,
)


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


def test_sigmoid_is_the_logistic_function():
    x = np.linspace(-3, 3, 7)[:, None]
    z = random_features(x, 1, 1, "sigmoid", weight_scale=1.0, random_state=0)
    w = np.random.default_rng(0).normal(0.0, 1.0, size=(1, 1))
    np.testing.assert_allclose(z, 1.0 / (1.0 + np.exp(-(x @ w.T))), atol=1e-12)


def test_architectures_follow_the_space_and_the_seed():
    cfg = {"depth": [2, 4], "width": [8], "activation": ["sigmoid"], "weight_scale": [0.1, 10.0]}
    a = sample_architectures(cfg, 400, random_state=5)
    assert a == sample_architectures(cfg, 400, random_state=5)
    assert a != sample_architectures(cfg, 400, random_state=6)
    assert {x["depth"] for x in a} == {2, 4} and {x["width"] for x in a} == {8}
    scales = np.array([x["weight_scale"] for x in a])
    assert scales.min() >= 0.1 and scales.max() <= 10.0
    assert np.median(np.log10(scales)) == pytest.approx(0.0, abs=0.15)  # log-uniform on [-1, 1]
    biases = np.array([x["bias_scale"] for x in a])
    assert 0.0 <= biases.min() and biases.max() <= 0.5  # the default range
    assert check_space(None) == DEFAULT_SPACE


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({"depht": 2}, r"unknown key\(s\) \['depht'\]"),
        ({"activation": ["softplus"]}, r"space\['activation'\]"),
        ({"weight_scale": [0.0, 1.0]}, r"space\['weight_scale'\]"),
        ({"bias_scale": [1.0, 0.5]}, r"space\['bias_scale'\]"),
        ({"width": [0]}, r"space\['width'\]"),
        ({"depth": []}, r"space\['depth'\]"),
    ],
)
def test_bad_space_names_the_key(space, match):
    with pytest.raises(ValueError, match=match):
        check_space(space)


def test_bad_network_arguments_name_the_argument():
    x = np.ones((4, 3))
    for kwargs, name in [
        ({"depth": 0}, "depth"),
        ({"width": 2.5}, "width"),
        ({"activation": "softmax"}, "activation"),
        ({"weight_scale": 0.0}, "weight_scale"),
        ({"bias_scale": -1.0}, "bias_scale"),
    ]:
        args = {"depth": 1, "width": 2, **kwargs}
        with pytest.raises((ValueError, TypeError), match=name):
            random_features(x, **args)
    with pytest.raises(ValueError, match="n_networks"):
        sample_architectures(None, 0)
