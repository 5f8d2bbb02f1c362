"""Tests of the InfoMax objectives: Gaussian-channel entropy and Bell–Sejnowski ICA (nats)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from structlearn.objectives.infomax import (
    GaussianInfoMax,
    InfoMaxICA,
    gaussian_channel_entropy,
    infomax_ica_objective,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def correlated(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + 3.0


@pytest.mark.parametrize("d", [1, 3, 8])
def test_gaussian_entropy_matches_scipy(d):
    Z = correlated(200, d)
    cov = np.cov(Z, rowvar=False, bias=True).reshape(d, d)
    expected = stats.multivariate_normal(mean=np.zeros(d), cov=cov).entropy()
    assert float(gaussian_channel_entropy(torch.tensor(Z))) == pytest.approx(expected, rel=1e-10)
    ridge = 0.3
    expected = stats.multivariate_normal(cov=cov + ridge * np.eye(d)).entropy()
    assert float(gaussian_channel_entropy(torch.tensor(Z), ridge=ridge)) == pytest.approx(
        expected, rel=1e-10
    )


def test_variance_constraint_bounds_entropy_and_standardises():
    Z = correlated(500, 4)
    v = 2.0
    h = float(gaussian_channel_entropy(torch.tensor(Z), variance=v))
    bound = 2 * math.log(2 * math.pi * math.e * v)
    corr = np.corrcoef(Z, rowvar=False)
    expected = 0.5 * np.linalg.slogdet(2 * math.pi * math.e * v * corr)[1]  # v × correlation
    assert h == pytest.approx(expected, rel=1e-8)
    assert h < bound
    # rescaling the features changes nothing under the constraint
    h_scaled = float(gaussian_channel_entropy(torch.tensor(Z * [1, 10, 0.1, 5]), variance=v))
    assert h_scaled == pytest.approx(h, rel=1e-8)
    # uncorrelated features (orthonormal columns orthogonal to the constant) reach the bound
    M = np.hstack([np.ones((100, 1)), np.random.default_rng(0).standard_normal((100, 4))])
    Q = np.linalg.qr(M)[0][:, 1:]
    assert float(gaussian_channel_entropy(torch.tensor(Q), variance=v)) == pytest.approx(
        bound, rel=1e-8
    )


def test_gaussian_infomax_module_equals_function_and_gradcheck():
    Z = torch.tensor(correlated(30, 3), requires_grad=True)
    loss = GaussianInfoMax(variance=1.5, ridge=0.1)(Z)
    h = gaussian_channel_entropy(Z, variance=1.5, ridge=0.1)
    assert loss.total.item() == pytest.approx(-h.item(), rel=1e-12)
    assert loss.parts["entropy_bound_nats"] == pytest.approx(
        1.5 * math.log(2 * math.pi * math.e * 1.6)
    )
    assert torch.autograd.gradcheck(
        lambda z: gaussian_channel_entropy(z, variance=1.5, ridge=0.1), (Z,)
    )


def test_gaussian_entropy_bad_input():
    with pytest.raises(ValueError, match="Z"):
        gaussian_channel_entropy(torch.randn(3, 5))  # singular without a ridge
    with pytest.raises(ValueError, match="Z"):
        gaussian_channel_entropy(torch.tensor([[np.nan, 1.0], [0.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="variance"):
        gaussian_channel_entropy(torch.randn(10, 2), variance=0.0)
    with pytest.raises(ValueError, match="ridge"):
        gaussian_channel_entropy(torch.randn(10, 2), ridge=-1.0)
    # a constant feature with a ridge: finite value and gradient
    Z = torch.randn(10, 2, dtype=torch.float64).index_fill(1, torch.tensor([1]), 1.0)
    Z.requires_grad_(True)
    h = gaussian_channel_entropy(Z, ridge=1e-3)
    h.backward()
    assert torch.isfinite(h) and torch.isfinite(Z.grad).all()


# --------------------------------------------------------------------------- Bell–Sejnowski


def reference_ica(X, W, b, log_dg):
    """Plain loop: ½ log det(WᵀW) + mean over samples of Σ_i log g'(w_i·x + b_i)."""
    total = 0.0
    for x in X:
        for i in range(W.shape[0]):
            total += log_dg(W[i] @ x + b[i])
    return 0.5 * np.linalg.slogdet(W.T @ W)[1] + total / len(X)


LOG_DG = {
    "logistic": lambda u: np.log(stats.logistic.pdf(u)),
    "sech": lambda u: np.log(stats.hypsecant.pdf(u)),
}


@pytest.mark.parametrize("nonlinearity", ["logistic", "sech"])
@pytest.mark.parametrize("n_components", [3, 5])
def test_infomax_ica_matches_plain_loop(nonlinearity, n_components):
    rng = np.random.default_rng(0)
    X, W, b = (
        rng.standard_normal((20, 3)) * 4,
        rng.standard_normal((n_components, 3)),
        rng.standard_normal(n_components),
    )
    got = infomax_ica_objective(
        torch.tensor(X), torch.tensor(W), torch.tensor(b), nonlinearity=nonlinearity
    )
    assert float(got) == pytest.approx(reference_ica(X, W, b, LOG_DG[nonlinearity]), rel=1e-10)
    if n_components == 3:  # square: ½ log det WᵀW = log |det W|
        assert 0.5 * np.linalg.slogdet(W.T @ W)[1] == pytest.approx(np.log(abs(np.linalg.det(W))))


def test_infomax_ica_gradcheck_and_module():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(12, 3, dtype=torch.float64, generator=gen)
    W = torch.randn(4, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, generator=gen, requires_grad=True)
    for g in ("logistic", "sech"):
        assert torch.autograd.gradcheck(
            lambda w, c, g=g: infomax_ica_objective(X, w, c, nonlinearity=g), (W, b)
        )
    ica = InfoMaxICA(3, 4, nonlinearity="sech").double()
    loss = ica([X])
    ref = infomax_ica_objective(X, ica.weight, ica.bias, nonlinearity="sech")
    assert loss.total.item() == pytest.approx(-ref.item(), rel=1e-12)


def test_infomax_ica_separates_laplace_sources():
    """Maximising the entropy gain unmixes two Laplace sources: W A ≈ scaled permutation."""
    rng = np.random.default_rng(0)
    S = rng.laplace(size=(2000, 2))
    A = np.array([[1.0, 0.6], [0.4, 1.0]])
    X = torch.tensor(S @ A.T, dtype=torch.float32)
    torch.manual_seed(0)
    ica = InfoMaxICA(2, nonlinearity="sech", bias=False, random_state=0)
    opt = torch.optim.Adam(ica.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        ica(X).total.backward()
        opt.step()
    P = np.abs(ica.weight.detach().numpy() @ A)
    P /= P.max(1, keepdims=True)
    # Amari-style crosstalk: each row has one dominant entry
    assert np.sort(P, axis=1)[:, 0].max() < 0.1


def test_infomax_ica_bad_input():
    X = torch.randn(5, 3)
    with pytest.raises(ValueError, match="W"):
        infomax_ica_objective(X, torch.randn(2, 3))  # undercomplete
    with pytest.raises(ValueError, match="W"):
        infomax_ica_objective(X, torch.randn(3, 4))  # wrong input width
    with pytest.raises(ValueError, match="nonlinearity"):
        infomax_ica_objective(X, torch.eye(3), nonlinearity="relu")
    with pytest.raises(ValueError, match="X"):
        infomax_ica_objective(torch.full((5, 3), np.inf), torch.eye(3))
    with pytest.raises(ValueError, match="n_components"):
        InfoMaxICA(3, 2)
