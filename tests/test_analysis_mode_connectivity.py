"""Paths between networks: chain geometry, convex losses have no barrier, the bend is trained."""

import numpy as np
import pytest
import torch
from torch import nn

from structlearn.analysis.mode_connectivity import (
    analyze_mode_connectivity,
    fit_bend,
    flat_parameters,
    loss_at,
    path_point,
)


def _mse(out, y):
    return ((out - y) ** 2).mean()


def test_chain_passes_through_its_ends_and_bend():
    a, b, c = torch.zeros(3), torch.ones(3), torch.tensor([5.0, -1.0, 2.0])
    assert torch.equal(path_point(0.0, a, b, c), a)
    assert torch.equal(path_point(0.5, a, b, c), c)
    assert torch.equal(path_point(1.0, a, b, c), b)
    assert torch.allclose(path_point(0.25, a, b, None), torch.full((3,), 0.25))


def test_flat_parameters_round_trip_through_the_loss():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    X, Y = torch.randn(50, 4), torch.randn(50, 2)
    theta = flat_parameters(model)
    assert theta.numel() == 10
    with torch.no_grad():
        direct = _mse(model(X), Y).item()
    assert loss_at(model, theta, X, Y, _mse) == pytest.approx(direct, rel=1e-6)
    with pytest.raises(ValueError, match="theta: expected 10"):
        loss_at(model, theta[:-1], X, Y, _mse)


def test_a_convex_loss_has_no_barrier_on_the_line():
    """Least squares is convex in the weights: the line never rises above its ends."""
    torch.manual_seed(1)
    model = nn.Linear(3, 1)
    X = torch.randn(200, 3)
    Y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
    a, b = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    res = analyze_mode_connectivity(model, a, b, (a + b) / 2, X, Y, _mse, n_points=11)
    assert res.line_barrier <= 1e-9
    # the loss along the line is a quadratic in t: its second differences are constant
    second = np.diff(res.line_loss, 2)
    assert np.allclose(second, second[0], rtol=1e-4)


def test_trained_bend_lowers_the_chain_between_two_nonconvex_minima():
    """y = w2 relu(w1 x) fits relu(x) whenever w1 w2 = 1 (w1 > 0): a curved valley of minima."""
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU(), nn.Linear(1, 1, bias=False))
    X = torch.linspace(-2, 2, 101)[:, None]
    a = torch.tensor([1.0, 1.0], dtype=torch.float64)
    b = torch.tensor([1.0, 1.0], dtype=torch.float64)
    bend = fit_bend(model, a, b, X, torch.relu(X), _mse, steps=50, random_state=0)
    assert torch.allclose(bend, a, atol=1e-2)  # identical ends: the best bend is the end itself
    # two different factorisations of relu(x): (2, 0.5) and (0.5, 2); the straight line between
    # them passes through (1.25, 1.25) with w1*w2 = 1.5625 (a barrier); a bend can avoid it
    a = torch.tensor([2.0, 0.5], dtype=torch.float64)
    b = torch.tensor([0.5, 2.0], dtype=torch.float64)
    bend = fit_bend(model, a, b, X, torch.relu(X), _mse, steps=600, lr=0.02, random_state=0)
    res = analyze_mode_connectivity(model, a, b, bend, X, torch.relu(X), _mse, n_points=41)
    assert res.line_barrier > 0.05
    assert res.bend_barrier < res.line_barrier / 3
