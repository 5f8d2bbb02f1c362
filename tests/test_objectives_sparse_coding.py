"""Tests of the sparse-coding energy, FISTA inference, its agreement with SPAMS, group sparsity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from structlearn.objectives.sparse_coding import (
    SparseCoding,
    fista,
    normalize_atoms,
    sparse_code,
    sparse_coding_energy,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def problem(n=12, p=8, k=16, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((k, p))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.standard_normal((n, p))
    return torch.tensor(X), torch.tensor(D)


def test_energy_matches_plain_loop():
    X, D = problem()
    A = torch.tensor(np.random.default_rng(1).standard_normal((12, 16)))
    groups = np.repeat(np.arange(4), 4)
    lam = 0.3
    l1 = np.mean(
        [
            0.5 * np.sum((x - a @ D.numpy()) ** 2) + lam * np.abs(a).sum()
            for x, a in zip(X.numpy(), A.numpy())
        ]
    )
    grp = np.mean(
        [
            0.5 * np.sum((x - a @ D.numpy()) ** 2)
            + lam * sum(np.linalg.norm(a[groups == g]) for g in range(4))
            for x, a in zip(X.numpy(), A.numpy())
        ]
    )
    assert float(sparse_coding_energy(X, D, A, lam)) == pytest.approx(l1, rel=1e-12)
    assert float(sparse_coding_energy(X, D, A, lam, groups=groups)) == pytest.approx(grp, rel=1e-12)


def test_fista_orthonormal_dictionary_is_soft_thresholding():
    X, _ = problem(p=6)
    Q = torch.linalg.qr(
        torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    )[0]
    A = fista(X, Q.T, 0.4, tol=1e-12)
    C = X @ Q  # codes of an orthonormal basis: soft-threshold the coefficients
    expected = C.sign() * (C.abs() - 0.4).clamp_min(0)
    assert torch.allclose(A, expected, atol=1e-10)


@pytest.mark.parametrize("lam", [0.05, 0.3])
def test_fista_agrees_with_spams_lasso(lam):
    X, D = problem()
    A_fista = fista(X, D, lam, max_iter=20000, tol=1e-12)
    A_spams = sparse_code(X, D, lam, method="spams")
    e_f, e_s = (float(sparse_coding_energy(X, D, A, lam)) for A in (A_fista, A_spams))
    assert e_f == pytest.approx(e_s, rel=1e-8)
    assert torch.allclose(A_fista, A_spams, atol=1e-5)
    assert float((A_spams != 0).double().mean()) < 1.0  # genuinely sparse


def test_group_fista_agrees_with_spams_group_lasso():
    X, D = problem()
    groups = np.repeat(np.arange(4), 4)
    lam = 0.2
    A_fista = fista(X, D, lam, groups=groups, max_iter=20000, tol=1e-12)
    A_spams = sparse_code(X, D, lam, groups=groups, method="spams", max_iter=20000, tol=1e-12)
    e_f, e_s = (
        float(sparse_coding_energy(X, D, A, lam, groups=groups)) for A in (A_fista, A_spams)
    )
    assert e_f == pytest.approx(e_s, rel=1e-6)
    assert torch.allclose(A_fista, A_spams, atol=1e-4)
    # group sparsity: whole groups are zero together
    zero = A_fista.reshape(12, 4, 4) == 0
    assert torch.equal(zero.all(2), zero.any(2))
    assert bool(zero.all(2).any())


def test_fista_optimality_conditions():
    """KKT of the lasso: |dᵢ·(x − aD)| ≤ λ everywhere, = λ·sign(aᵢ) on the support."""
    X, D = problem()
    lam = 0.1
    A = fista(X, D, lam, max_iter=20000, tol=1e-12)
    corr = (X - A @ D) @ D.T
    assert float(corr.abs().max()) <= lam + 1e-6
    support = A != 0
    assert torch.allclose(corr[support], lam * A[support].sign(), atol=1e-6)


def test_fista_warns_when_not_converged():
    X, D = problem()
    with pytest.warns(RuntimeWarning, match="max_iter"):
        fista(X, D, 0.01, max_iter=2)


def test_sparse_coding_module_learns_and_equals_function():
    X, _ = problem(n=64)
    sc = SparseCoding(8, 16, lambda1=0.1, max_iter=5000, tol=1e-7).double()
    loss = sc(X)
    A = fista(X, normalize_atoms(sc.weight).detach(), 0.1, max_iter=5000, tol=1e-7)
    assert loss.total.item() == pytest.approx(
        sparse_coding_energy(X, sc.dictionary, A, 0.1).item(), rel=1e-10
    )
    assert torch.allclose(sc.dictionary.norm(dim=1), torch.ones(16, dtype=torch.float64))
    opt = torch.optim.Adam(sc.parameters(), lr=0.05)
    first = loss.total.item()
    for _ in range(30):
        opt.zero_grad()
        sc(X).total.backward()
        opt.step()
    assert sc(X).total.item() < 0.9 * first  # dictionary learning lowers the energy


def test_energy_gradcheck():
    X, D = problem(n=4, p=3, k=5)
    A = torch.randn(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    D.requires_grad_(True)
    A.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda d, a: sparse_coding_energy(X, d, a, 0.3), (D, A))
    groups = np.array([0, 0, 1, 1, 1])
    assert torch.autograd.gradcheck(
        lambda d, a: sparse_coding_energy(X, d, a, 0.3, groups=groups), (D, A)
    )


def test_sparse_coding_bad_input():
    X, D = problem()
    with pytest.raises(ValueError, match="D"):
        fista(X, D[:, :5], 0.1)
    with pytest.raises(ValueError, match="lambda1"):
        fista(X, D, -0.1)
    with pytest.raises(ValueError, match="groups"):
        fista(X, D, 0.1, groups=np.zeros(5, dtype=int))  # wrong length
    with pytest.raises(ValueError, match="groups"):
        fista(X, D, 0.1, groups=np.repeat([0, 2], 8))  # ids not contiguous
    with pytest.raises(ValueError, match="A"):
        sparse_coding_energy(X, D, torch.zeros(3, 16, dtype=torch.float64), 0.1)
    with pytest.raises(ValueError, match="X"):
        sparse_code(torch.full((2, 8), float("nan")), D, 0.1, method="spams")
    with pytest.raises(ValueError, match="method"):
        sparse_code(X, D, 0.1, method="lars")
