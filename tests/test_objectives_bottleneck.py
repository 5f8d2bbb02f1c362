"""Tests of the Information Bottleneck objectives: VIB, nonlinear (KDE) IB, squared IB, β schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from structlearn.objectives.bottleneck import (
    BetaSchedule,
    NonlinearIB,
    VariationalIB,
    gaussian_kl_to_standard,
    kde_upper_bound_mutual_information,
    label_entropy,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_gaussian_kl_matches_closed_form_and_torch():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(7, 3, dtype=torch.float64, generator=gen)
    std = torch.rand(7, 3, dtype=torch.float64, generator=gen) + 0.1
    ref = kl_divergence(Normal(mu, std), Normal(0.0, 1.0)).sum(1).mean()
    assert gaussian_kl_to_standard(mu, std).item() == pytest.approx(ref.item(), rel=1e-12)
    # one dimension, by hand: KL(N(1, 2²) ‖ N(0, 1)) = ½(1 + 4 − 1 − log 4)
    one = gaussian_kl_to_standard(torch.tensor([[1.0]]), torch.tensor([[2.0]]))
    assert one.item() == pytest.approx(0.5 * (4 - math.log(4)), rel=1e-6)


def brute_force_kde_mi(h: np.ndarray, var: float) -> float:
    n = len(h)
    total = 0.0
    for i in range(n):
        s = sum(math.exp(-np.sum((h[i] - h[j]) ** 2) / (2 * var)) for j in range(n))
        total += math.log(s / n)
    return -total / n


def test_kde_mutual_information_matches_loop_and_limits():
    h = np.random.default_rng(0).standard_normal((9, 3))
    for var in (0.1, 1.0, 10.0):
        got = kde_upper_bound_mutual_information(torch.tensor(h), var).item()
        assert got == pytest.approx(brute_force_kde_mi(h, var), rel=1e-10)
    assert kde_upper_bound_mutual_information(torch.ones(6, 2), 1.0).item() == pytest.approx(
        0.0, abs=1e-12
    )
    far = torch.arange(6.0, dtype=torch.float64)[:, None] * 1e3
    assert kde_upper_bound_mutual_information(far, 1.0).item() == pytest.approx(
        math.log(6), rel=1e-12
    )


def test_kde_bound_is_above_monte_carlo_mutual_information():
    """For T = h(X) + N(0, σ²I) with X uniform on n points, the true I(X;T) (Monte Carlo) lies below
    the KDE (pairwise-KL) bound and above the pairwise-Bhattacharyya lower bound."""
    rng = np.random.default_rng(0)
    h = rng.standard_normal((5, 2))
    var = 0.5
    idx = rng.integers(0, 5, 40000)
    T = h[idx] + math.sqrt(var) * rng.standard_normal((40000, 2))
    logk = -((T[:, None, :] - h[None]) ** 2).sum(2) / (2 * var)  # log N(T; h_j) + const
    pointwise = logk[np.arange(40000), idx] - (np.logaddexp.reduce(logk, axis=1) - math.log(5))
    mc, se = pointwise.mean(), pointwise.std() / math.sqrt(40000)
    upper = kde_upper_bound_mutual_information(torch.tensor(h), var).item()
    lower = kde_upper_bound_mutual_information(
        torch.tensor(h), 4 * var
    ).item()  # Bhattacharyya: 8σ² in place of 2σ²
    assert lower - 4 * se <= mc <= upper + 4 * se
    assert upper - lower > 0.05  # the two bounds are distinct here: the check has teeth


def test_label_entropy_plugin():
    assert label_entropy(torch.tensor([0, 0, 1, 2]), 4) == pytest.approx(
        -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    )


def test_beta_schedules():
    assert BetaSchedule("constant", 0.3)(100) == 0.3
    lin = BetaSchedule("linear", 0.0, 2.0, n_epochs=4)
    assert [lin(e) for e in (0, 1, 4, 9)] == [0.0, 0.5, 2.0, 2.0]
    exp = BetaSchedule("exponential", 1e-4, 1e-1, n_epochs=3)
    assert [exp(e) for e in range(4)] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1], rel=1e-12)
    vib = VariationalIB(4, 2, 3, beta=lin)
    vib.set_epoch(2)
    assert vib.beta == 1.0
    vib = VariationalIB(4, 2, 3, beta=lambda e: 0.1 * e)
    vib.set_epoch(3)
    assert vib.beta == pytest.approx(0.3)


def test_vib_total_is_cross_entropy_plus_beta_kl():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(10, 4, dtype=torch.float64, generator=gen)
    y = torch.arange(10) % 3
    vib = VariationalIB(4, 2, 3, beta=0.5, n_samples=2).double()
    mu, std = vib.encode(h)
    kl = gaussian_kl_to_standard(mu, std)
    vib.eval()
    loss = vib([h], y)
    assert loss.total.item() == pytest.approx(
        (F.cross_entropy(vib.decoder(mu), y) + 0.5 * kl).item(), rel=1e-12
    )
    assert loss.parts["I_XT_upper_nats"] == pytest.approx(kl.item(), rel=1e-12)
    assert loss.parts["I_TY_lower_nats"] == pytest.approx(
        label_entropy(y, 3) - loss.parts["cross_entropy_nats"]
    )
    vib.train()  # the reparameterised draws come from torch's global generator
    torch.manual_seed(5)
    got = vib([h], y).total
    torch.manual_seed(5)
    t = mu + std * torch.randn((2, *mu.shape), dtype=torch.float64)
    expected = F.cross_entropy(vib.decoder(t).reshape(-1, 3), y.repeat(2)) + 0.5 * kl
    assert got.item() == pytest.approx(expected.item(), rel=1e-12)


def test_vib_and_nib_gradcheck():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(6, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    vib = VariationalIB(3, 2, 3, beta=0.7).double().eval()
    assert torch.autograd.gradcheck(lambda x: vib(x, y).total, (h,))
    for squared in (False, True):
        nib = NonlinearIB(3, 3, beta=0.7, noise_variance=0.5, squared=squared).double().eval()
        assert torch.autograd.gradcheck(lambda x, m=nib: m(x, y).total, (h,))
    mu = torch.randn(4, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    std = (torch.rand(4, 2, dtype=torch.float64, generator=gen) + 0.2).requires_grad_(True)
    assert torch.autograd.gradcheck(gaussian_kl_to_standard, (mu, std))
    var = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(kde_upper_bound_mutual_information, (h, var))


def test_nib_total_and_squared_form():
    gen = torch.Generator().manual_seed(1)
    h = torch.randn(8, 2, dtype=torch.float64, generator=gen)
    y = torch.arange(8) % 2
    for squared in (False, True):
        nib = (
            NonlinearIB(2, 2, beta=0.3, noise_variance=0.2, squared=squared, decoder_hidden=5)
            .double()
            .eval()
        )
        loss = nib(h, y)
        var = nib.noise_variance.item()
        assert var == pytest.approx(0.2, rel=1e-6)
        i_xt = kde_upper_bound_mutual_information(h, var)
        penalty = i_xt**2 if squared else i_xt
        expected = F.cross_entropy(nib.decoder(h), y) + 0.3 * penalty
        assert loss.total.item() == pytest.approx(expected.item(), rel=1e-12)
        assert loss.parts["I_XT_upper_nats"] == pytest.approx(i_xt.item(), rel=1e-12)
        assert loss.parts["noise_variance"] == var


def test_nib_trainable_variance_receives_gradient():
    nib = NonlinearIB(2, 2, beta=1.0, noise_variance=0.5, trainable_variance=True)
    loss = nib(torch.randn(16, 2), torch.arange(16) % 2)
    loss.total.backward()
    assert nib.log_noise_variance.grad is not None
    assert nib.log_noise_variance.grad.item() < 0  # more noise compresses: β·Î falls as σ² grows


def test_kl_term_goes_down_as_beta_grows():
    """VIB on a small separable problem: the trained KL (I(X;T) bound) falls as β grows."""
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((200, 5)), dtype=torch.float32)
    y = (X[:, 0] + X[:, 1] > 0).long()
    kls = []
    for beta in (1e-4, 1e-2, 1.0):
        torch.manual_seed(0)
        vib = VariationalIB(5, 2, 2, beta=beta)
        opt = torch.optim.Adam(vib.parameters(), lr=0.05)
        for _ in range(100):
            opt.zero_grad()
            vib(X, y).total.backward()
            opt.step()
        kls.append(vib.eval()(X, y).parts["I_XT_upper_nats"])
    assert kls[0] > kls[1] > kls[2]


def test_bottleneck_bad_input():
    h, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match="beta"):
        VariationalIB(4, 2, 3, beta=-1.0)
    with pytest.raises(ValueError, match="beta"):
        NonlinearIB(4, 3, beta=lambda e: -0.1)
    with pytest.raises(ValueError, match="noise_variance"):
        NonlinearIB(4, 3, noise_variance=0.0)
    with pytest.raises(ValueError, match="noise_variance"):
        kde_upper_bound_mutual_information(h, -1.0)
    with pytest.raises(ValueError, match="targets"):
        VariationalIB(4, 2, 3)(h)
    with pytest.raises(ValueError, match="targets"):
        VariationalIB(4, 2, 2)(h, y)  # label 2 out of range
    with pytest.raises(ValueError, match="targets"):
        NonlinearIB(4, 3)(h, y[:4])
    with pytest.raises(ValueError, match="features"):
        VariationalIB(3, 2, 3)(h, y)
    with pytest.raises(ValueError, match="features"):
        NonlinearIB(4, 3)(torch.full((5, 4), float("nan")), y)
    with pytest.raises(ValueError, match="std"):
        gaussian_kl_to_standard(torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="stop"):
        BetaSchedule("linear", 0.0)
    with pytest.raises(ValueError, match="start"):
        BetaSchedule("exponential", 0.0, 1.0)
    with pytest.raises(ValueError, match="start"):
        BetaSchedule("constant", -1.0)


def test_old_objective_names_warn_and_agree():
    from structlearn.objectives import (
        gaussian_channel_entropy,
        gaussian_entropy,
        kde_mutual_information,
    )

    h = torch.tensor([[0.0, 1.0], [2.0, 0.5], [1.0, -1.0]], dtype=torch.float64)
    with pytest.warns(DeprecationWarning, match="kde_upper_bound_mutual_information"):
        old = kde_mutual_information(h, 0.3)
    assert float(old) == float(kde_upper_bound_mutual_information(h, 0.3))
    with pytest.warns(DeprecationWarning, match="gaussian_channel_entropy"):
        old = gaussian_entropy(h, ridge=0.1)
    assert float(old) == float(gaussian_channel_entropy(h, ridge=0.1))
