"""Tests of the supervised baseline: cross-entropy (nats) behind the common objective interface."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from structlearn.objectives.supervised import (
    CrossEntropy,
    MeanSquaredError,
    cross_entropy,
    mean_squared_error,
)


def test_cross_entropy_matches_plain_loop():
    rng = np.random.default_rng(0)
    logits, y = rng.standard_normal((9, 4)) * 3, rng.integers(0, 4, 9)
    expected = np.mean(
        [math.log(sum(math.exp(v) for v in row)) - row[t] for row, t in zip(logits, y)]
    )
    got = cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_module_parts_predict_and_gradcheck():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 0])
    loss = CrossEntropy(tap=1)([torch.zeros(3, 5), logits], y)
    assert loss.parts["accuracy"] == pytest.approx(2 / 3)
    assert loss.parts["cross_entropy_nats"] == pytest.approx(cross_entropy(logits, y).item())
    assert torch.equal(CrossEntropy(tap=1).predict([torch.zeros(3, 5), logits]), logits)
    L = logits.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: cross_entropy(z, y), (L,))


def test_cross_entropy_bad_input():
    logits = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="targets"):
        cross_entropy(logits, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="targets"):
        cross_entropy(logits, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="logits"):
        cross_entropy(torch.full((4, 3), float("nan")), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="targets"):
        CrossEntropy()(logits)


def test_mean_squared_error_function_and_module_agree_with_torch():
    gen = torch.Generator().manual_seed(0)
    pred, y = torch.randn(7, 3, generator=gen), torch.randn(7, 3, generator=gen)
    reference = torch.nn.functional.mse_loss(pred, y) * 3  # mean over entries x outputs
    assert float(mean_squared_error(pred, y)) == pytest.approx(float(reference), rel=1e-6)
    loss = MeanSquaredError(tap=1)([torch.zeros(7, 2), pred], y)
    assert float(loss.total) == pytest.approx(float(reference), rel=1e-6)
    assert loss.parts["mse"] == pytest.approx(float(reference), rel=1e-6)
    assert torch.equal(MeanSquaredError().predict([torch.zeros(7, 2), pred]), pred)


def test_mean_squared_error_gradient_is_twice_the_residual_over_n():
    """d/dŷ (1/n)Σ‖ŷ - y‖² = 2(ŷ - y)/n: the step Tian's code takes with lr 0.01 is lr 0.005 here."""
    pred = torch.tensor([[1.0, -2.0], [0.5, 3.0], [0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[0.0, 1.0], [1.0, 1.0], [2.0, -1.0]], dtype=torch.float64)
    p = pred.clone().requires_grad_(True)
    mean_squared_error(p, y).backward()
    assert torch.allclose(p.grad, 2 * (pred - y) / 3)
    assert torch.autograd.gradcheck(lambda z: mean_squared_error(z, y), (pred.requires_grad_(),))


def test_mean_squared_error_bad_input():
    pred = torch.zeros(7, 3)
    with pytest.raises(ValueError, match="targets"):
        mean_squared_error(pred, torch.zeros(7, 2))
    with pytest.raises(ValueError, match="predictions"):
        mean_squared_error(torch.zeros(7), torch.zeros(7))
    with pytest.raises(ValueError, match="targets"):
        MeanSquaredError()(pred, None)


def test_mean_squared_error_stacked_counterpart_gives_each_networks_loss():
    from structlearn.objectives.stacked import StackedSquaredError, stacked_objective

    gen = torch.Generator().manual_seed(1)
    pred, y = torch.randn(3, 5, 2, generator=gen), torch.randn(3, 5, 2, generator=gen)
    stacked = stacked_objective(MeanSquaredError())
    assert isinstance(stacked, StackedSquaredError)
    per_network = stacked([pred], y).total
    for s in range(3):
        assert float(per_network[s]) == pytest.approx(float(mean_squared_error(pred[s], y[s])))
