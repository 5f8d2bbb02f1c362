"""Shared linear algebra for the objectives: a batched SPD log-determinant with a cheap gradient.

Used by the coding rates of Yu et al. (2020, MCR²) and the Gaussian entropy of the InfoMax
objectives (Linsker 1988).
"""

from __future__ import annotations

import torch

__all__ = [
    "cholesky_identity_plus_gram",
    "cholesky_spd",
    "gram",
    "identity_plus",
    "logdet_identity_plus_gram",
    "logdet_spd",
]


def cholesky_spd(A: torch.Tensor, name: str = "Z") -> torch.Tensor:
    """Lower Cholesky factor of a batch of SPD matrices (a tiny ridge if rounding broke them).

    A matrix that is not numerically positive definite even then (a singular covariance, values
    beyond float64) raises ``ValueError`` naming ``name``, never torch's ``LinAlgError``.
    """
    if not bool(torch.isfinite(A).all()):
        raise ValueError(
            f"{name}: values so large that its (co)variance overflows float64; rescale it"
        )
    L, info = torch.linalg.cholesky_ex(A)
    if bool((info > 0).any()):  # only for absurdly scaled input: shift by a tiny ridge
        ridge = 1e-12 * A.diagonal(dim1=-2, dim2=-1).amax(-1)
        A = A + ridge[..., None, None] * torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
        L, info = torch.linalg.cholesky_ex(A)
        if bool((info > 0).any()) or not bool(torch.isfinite(L).all()):
            raise ValueError(
                f"{name}: its (co)variance matrix is not numerically positive definite (constant "
                "or collinear features, or values too large for float64); remove constant "
                "features, rescale, or add a ridge"
            )
    return L


def cholesky_identity_plus_gram(X: torch.Tensor, rows: bool, scale: torch.Tensor) -> torch.Tensor:
    """Cholesky factor of ``I + scale·Gram(X)``: the Gram in ``X``'s dtype (fast), again in
    float64 when float32 rounding (e.g. entries near 5e3, or x1e30 overflow) left it indefinite."""
    L, info = torch.linalg.cholesky_ex(identity_plus(gram(X, rows), scale))
    if bool((info > 0).any()) or not bool(torch.isfinite(L).all()):
        L = cholesky_spd(identity_plus(gram(X.double(), rows), scale))
    return L


class _LogdetSPD(torch.autograd.Function):
    """``log det A`` of a batch of SPD matrices (float64) by Cholesky; gradient ``A⁻¹`` (one
    Cholesky inverse, cheaper than differentiating through the factorisation). Twice
    differentiable."""

    @staticmethod
    def forward(ctx, A: torch.Tensor, name: str = "Z") -> torch.Tensor:
        L = cholesky_spd(A, name)
        ctx.save_for_backward(A, L)
        return 2.0 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        A, L = ctx.saved_tensors
        if torch.is_grad_enabled():  # double backward: stay on the autograd tape
            inv = torch.cholesky_inverse(torch.linalg.cholesky(A))
        else:
            inv = torch.cholesky_inverse(L)
        return grad.to(inv.dtype)[..., None, None] * inv, None


def gram(X: torch.Tensor, rows: bool) -> torch.Tensor:
    """``X Xᵀ`` (``rows=True``) or ``Xᵀ X`` of a batch ``X`` (..., n, d)."""
    return X @ X.mT if rows else X.mT @ X


def identity_plus(G: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``I + scale·G`` in float64 (in place on a fresh copy unless autograd is recording)."""
    if torch.is_grad_enabled():
        A = G.double() * scale[..., None, None]
        return A + torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    A = G.to(torch.float64, copy=True)
    A.mul_(scale[..., None, None])
    A.diagonal(dim1=-2, dim2=-1).add_(1.0)
    return A


class _LogdetGram(torch.autograd.Function):
    """``log det(I + s·Gram(X))`` on the cheaper side, float64 factorisation; the gradient
    ``2s·X A⁻¹`` (or ``2s·A⁻¹X``) is one matrix product. Twice differentiable."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        rows = X.shape[-2] < X.shape[-1]
        L = cholesky_identity_plus_gram(X, rows, scale)
        ctx.save_for_backward(X, scale, L)
        ctx.rows = rows
        return 2.0 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        X, scale, L = ctx.saved_tensors
        if torch.is_grad_enabled():  # double backward: rebuild A⁻¹ on the autograd tape
            L = torch.linalg.cholesky(identity_plus(gram(X.double(), ctx.rows), scale))
        coef = ((2.0 * grad.double() * scale)[..., None, None] * torch.cholesky_inverse(L)).to(
            X.dtype
        )
        return (coef @ X if ctx.rows else X @ coef), None


def logdet_identity_plus_gram(X: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``log det(I + scale·XᵀX)`` for a batch ``X`` of shape (..., n, d), float64 result.

    Taken on the cheaper side: ``det(I_d + s XᵀX) = det(I_n + s XXᵀ)`` (Sylvester); ``scale`` has
    shape (...,) and receives no gradient.

    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    >>> float(logdet_identity_plus_gram(X, torch.tensor(1.0, dtype=torch.float64)))  # log 2·5
    2.302585...
    """
    return _LogdetGram.apply(X, scale.double())


def logdet_spd(A: torch.Tensor, name: str = "Z") -> torch.Tensor:
    """``log det A`` for a batch ``(..., n, n)`` of symmetric positive definite matrices.

    >>> float(logdet_spd(torch.diag(torch.tensor([2.0, 3.0], dtype=torch.float64))))  # log 6
    1.791759...
    """
    return _LogdetSPD.apply(A, name)
