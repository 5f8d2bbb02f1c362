"""Tests of the coding rate, compressed coding rate and MCR² rate reduction (nats)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from structlearn.objectives.coding_rate import (
    MaximalCodingRateReduction,
    coding_rate,
    compressed_coding_rate,
    rate_reduction,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def reference_rates(Z: np.ndarray, P: np.ndarray, eps: float) -> tuple[float, float]:
    """R and R_c written the way the paper defines them: a plain loop over classes, Π_j = diag."""
    m, d = Z.shape
    R = 0.5 * np.linalg.slogdet(np.eye(d) + d / (m * eps**2) * Z.T @ Z)[1]
    Rc = 0.0
    for j in range(P.shape[1]):
        Pi = np.diag(P[:, j])
        tr = np.trace(Pi)
        if tr == 0:
            continue
        Rc += tr / (2 * m) * np.linalg.slogdet(np.eye(d) + d / (tr * eps**2) * Z.T @ Pi @ Z)[1]
    return R, Rc


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def data(m: int, d: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((m, d))
    labels = rng.integers(0, k, m)
    return Z, labels


@pytest.mark.parametrize(("m", "d", "k"), [(40, 5, 3), (12, 30, 4), (60, 16, 6), (7, 3, 2)])
@pytest.mark.parametrize("eps", [0.1, 0.5, 2.0])
def test_hard_labels_match_plain_loop(m, d, k, eps):
    Z, labels = data(m, d, k)
    R_ref, Rc_ref = reference_rates(Z, one_hot(labels, k), eps)
    out = rate_reduction(torch.tensor(Z), torch.tensor(labels), eps, n_classes=k)
    assert float(out.R) == pytest.approx(R_ref, rel=1e-6)
    assert float(out.Rc) == pytest.approx(Rc_ref, rel=1e-6)
    assert float(out.deltaR) == pytest.approx(R_ref - Rc_ref, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(("m", "d", "k"), [(40, 5, 3), (12, 30, 4)])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_soft_memberships_match_plain_loop(m, d, k, requires_grad):
    Z, _ = data(m, d, k)
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(k), size=m)
    R_ref, Rc_ref = reference_rates(Z, P, 0.5)
    Pt = torch.tensor(P, requires_grad=requires_grad)
    out = rate_reduction(torch.tensor(Z), Pt, 0.5, gamma_r=2.0, gamma_c=0.5)
    assert out.R.item() == pytest.approx(R_ref, rel=1e-6)
    assert out.Rc.item() == pytest.approx(Rc_ref, rel=1e-6)
    assert out.deltaR.item() == pytest.approx(2.0 * R_ref - 0.5 * Rc_ref, rel=1e-6)


def test_one_hot_soft_equals_hard():
    Z, labels = data(30, 8, 3)
    hard = rate_reduction(torch.tensor(Z), torch.tensor(labels), 0.5)
    soft = rate_reduction(torch.tensor(Z), torch.tensor(one_hot(labels, 3)), 0.5)
    assert float(soft.Rc) == pytest.approx(float(hard.Rc), rel=1e-10)


@pytest.mark.parametrize(("m", "d"), [(10, 4), (50, 50), (64, 8)])
def test_orthonormal_columns_closed_form(m, d):
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((m, d)))
    eps = 0.7
    expected = d / 2 * np.log1p(d / (m * eps**2))
    assert float(coding_rate(torch.tensor(Q), eps)) == pytest.approx(expected, rel=1e-10)


def test_zero_features_give_zero_rates_and_finite_gradient():
    Z = torch.zeros(8, 5, dtype=torch.float64, requires_grad=True)
    out = rate_reduction(Z, torch.tensor([0, 1] * 4), 0.5)
    out.deltaR.backward()
    assert out.R.item() == 0.0 and out.Rc.item() == 0.0
    assert torch.equal(Z.grad, torch.zeros_like(Z))


def test_invariance_rotation_permutation_relabelling():
    Z, labels = data(45, 6, 3)
    Zt, yt = torch.tensor(Z), torch.tensor(labels)
    base = rate_reduction(Zt, yt, 0.5)
    Q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((6, 6)))
    perm = torch.tensor(np.random.default_rng(3).permutation(45))
    relabel = torch.tensor([2, 0, 1])
    for out in (
        rate_reduction(Zt @ torch.tensor(Q), yt, 0.5),
        rate_reduction(Zt[perm], yt[perm], 0.5),
        rate_reduction(Zt, relabel[yt], 0.5),
    ):
        for a, b in zip(out, base):
            assert float(a) == pytest.approx(float(b), rel=1e-10)


def test_empty_class_contributes_nothing():
    Z, labels = data(20, 4, 3)
    Zt, yt = torch.tensor(Z, requires_grad=True), torch.tensor(labels)
    with_empty = rate_reduction(Zt, yt, 0.5, n_classes=7)  # classes 3..6 have no sample
    without = rate_reduction(Zt, yt, 0.5, n_classes=3)
    assert with_empty.Rc.item() == pytest.approx(without.Rc.item(), rel=1e-12)
    P = torch.tensor(np.hstack([one_hot(labels, 3), np.zeros((20, 2))]))  # empty soft columns
    assert compressed_coding_rate(Zt, P, 0.5).item() == pytest.approx(without.Rc.item(), rel=1e-12)
    with_empty.deltaR.backward()
    assert torch.isfinite(Zt.grad).all()


def test_singular_gram_finite_value_and_gradient():
    # rank one features (every row a multiple of one direction), more features than samples
    direction = torch.randn(20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    Z = (torch.arange(1.0, 7.0, dtype=torch.float64)[:, None] * direction).requires_grad_(True)
    out = rate_reduction(Z, torch.tensor([0, 0, 0, 1, 1, 1]), 1e-3)
    out.deltaR.backward()
    # rank one: R = 1/2 log(1 + c ||Z||_F^2)
    c = 20 / (6 * 1e-6)
    assert out.R.item() == pytest.approx(0.5 * np.log1p(c * (Z**2).sum().item()), rel=1e-6)
    assert torch.isfinite(out.deltaR) and torch.isfinite(Z.grad).all()


@pytest.mark.parametrize(("m", "d"), [(9, 4), (5, 8)])  # d-side and m-side Gram matrices
def test_gradients_match_finite_differences(m, d):
    gen = torch.Generator().manual_seed(0)
    Z = torch.randn(m, d, dtype=torch.float64, generator=gen, requires_grad=True)
    labels = torch.arange(m) % 3
    P = torch.softmax(torch.randn(m, 3, dtype=torch.float64, generator=gen), 1)
    P.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: rate_reduction(z, labels, 0.5).deltaR, (Z,))
    assert torch.autograd.gradcheck(
        lambda z, p: rate_reduction(z, p, 0.5, normalize=True).deltaR, (Z, P)
    )
    assert torch.autograd.gradgradcheck(lambda z: rate_reduction(z, labels, 0.5).deltaR, (Z,))


def test_float64_stays_float64_and_float32_agrees():
    Z, labels = data(100, 12, 4)
    out64 = rate_reduction(torch.tensor(Z), torch.tensor(labels), 0.5)
    out32 = rate_reduction(torch.tensor(Z, dtype=torch.float32), torch.tensor(labels), 0.5)
    assert all(t.dtype == torch.float64 for t in out64)
    assert all(t.dtype == torch.float32 for t in out32)
    assert float(out32.deltaR) == pytest.approx(float(out64.deltaR), rel=1e-5)


def test_module_equals_function_and_reads_tap():
    Z, labels = data(30, 6, 3)
    Zt = torch.tensor(Z, requires_grad=True)
    objective = MaximalCodingRateReduction(eps=0.4, gamma_r=1.5, normalize=True, tap=0)
    loss = objective([Zt, torch.zeros(30, 2)], torch.tensor(labels))
    ref = rate_reduction(Zt, torch.tensor(labels), 0.4, gamma_r=1.5, normalize=True)
    assert loss.total.item() == pytest.approx(-ref.deltaR.item(), rel=1e-12)
    assert loss.parts["R_nats"] == pytest.approx(ref.R.item(), rel=1e-12)
    assert loss.parts["deltaR_nats"] == pytest.approx(ref.deltaR.item(), rel=1e-12)


def test_normalize_projects_onto_sphere():
    Z, labels = data(20, 5, 2)
    scaled = Z * np.random.default_rng(4).uniform(0.1, 10, size=(20, 1))  # rescale each sample
    a = rate_reduction(torch.tensor(Z), torch.tensor(labels), 0.5, normalize=True)
    b = rate_reduction(torch.tensor(scaled), torch.tensor(labels), 0.5, normalize=True)
    assert float(a.deltaR) == pytest.approx(float(b.deltaR), rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(2, 30),
    d=st.integers(1, 12),
    k=st.integers(1, 5),
    eps=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**16),
)
def test_rate_reduction_is_nonnegative(m, d, k, eps, seed):
    """Concavity of log det: R >= R_c >= 0 for every partition (Yu et al. 2020)."""
    Z, labels = data(m, d, k, seed)
    out = rate_reduction(torch.tensor(Z), torch.tensor(labels), eps)
    assert float(out.Rc) >= -1e-12
    assert float(out.deltaR) >= -1e-9 * max(1.0, float(out.R))


# --------------------------------------------------------------------------- bad input


def test_bad_input_raises_naming_the_argument():
    Z = torch.randn(6, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="Z"):
        rate_reduction(torch.tensor([[np.nan, 0.0]] * 6), y, 0.5)
    with pytest.raises(ValueError, match="Z"):
        coding_rate(torch.tensor([[np.inf, 0.0]]), 0.5)
    with pytest.raises(ValueError, match="Z"):  # +Inf and -Inf in one column
        coding_rate(torch.tensor([[np.inf, 0.0], [-np.inf, 1.0]]), 0.5)
    with pytest.raises(ValueError, match="Z"):
        coding_rate(torch.zeros(3), 0.5)  # 1-D
    with pytest.raises(ValueError, match="features"):
        MaximalCodingRateReduction()(torch.full((4, 2), np.nan), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="membership"):
        rate_reduction(Z, y[:5], 0.5)
    with pytest.raises(ValueError, match="membership"):
        rate_reduction(Z, y, 0.5, n_classes=2)
    with pytest.raises(ValueError, match="membership"):
        rate_reduction(Z, -y, 0.5)
    with pytest.raises(ValueError, match="membership"):
        rate_reduction(Z, torch.full((6, 2), 0.6), 0.5)  # rows sum to 1.2
    with pytest.raises(ValueError, match="membership"):
        rate_reduction(Z, torch.tensor([[1.5, -0.5]] * 6), 0.5)  # negative entries
    with pytest.raises(ValueError, match="membership"):
        rate_reduction(Z, torch.full((5, 2), 0.5), 0.5)  # wrong number of rows
    for eps in (0.0, -1.0):
        with pytest.raises(ValueError, match="eps"):
            rate_reduction(Z, y, eps)
    with pytest.raises(ValueError, match="gamma_c"):
        rate_reduction(Z, y, 0.5, gamma_c=-1.0)
    with pytest.raises(ValueError, match="eps"):
        MaximalCodingRateReduction(eps=0)
    with pytest.raises(ValueError, match="targets"):
        MaximalCodingRateReduction()(Z)
    with pytest.raises(ValueError, match="targets"):
        MaximalCodingRateReduction(n_classes=2)(Z, y)


# --------------------------------------------------------------------------- torch.distributed


def _distributed_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        Z, labels = data(25, 6, 3)
        split = [0, 14, 25]  # uneven shards: 14 and 11 samples
        lo, hi = split[rank], split[rank + 1]
        Zt = torch.tensor(Z[lo:hi], requires_grad=True)
        loss = MaximalCodingRateReduction(eps=0.5, n_classes=3)(Zt, torch.tensor(labels[lo:hi]))
        loss.total.backward()
        torch.save({"total": loss.total.detach(), "grad": Zt.grad}, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_distributed_equals_full_batch(tmp_path):
    """Two gloo processes on CPU: every rank sees the full-batch ΔR; the local gradient is
    world_size × the full-batch gradient of its rows (so DDP's averaging gives the exact one)."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_distributed_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)

    Z, labels = data(25, 6, 3)
    Zt = torch.tensor(Z, requires_grad=True)
    full = MaximalCodingRateReduction(eps=0.5, n_classes=3)(Zt, torch.tensor(labels))
    full.total.backward()
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for r in results:
        assert r["total"].item() == pytest.approx(full.total.item(), rel=1e-10)
    grad = torch.cat([r["grad"] for r in results]) / 2
    assert torch.allclose(grad, Zt.grad, rtol=1e-8, atol=1e-12)
