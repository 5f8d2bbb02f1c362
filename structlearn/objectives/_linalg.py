"""Shared linear algebra for the objectives: a batched SPD log-determinant with a cheap gradient.

Used by the coding rates of Yu et al. (2020, MCR²) and the Gaussian entropy of the InfoMax
objectives (Linsker 1988).
"""

from __future__ import annotations

import torch

__all__ = ["logdet_spd"]


class _LogdetSPD(torch.autograd.Function):
    """``log det A`` of a batch of SPD matrices (float64) by Cholesky; gradient ``A⁻¹`` (one
    Cholesky inverse, cheaper than differentiating through the factorisation). Twice
    differentiable."""

    @staticmethod
    def forward(ctx, A: torch.Tensor) -> torch.Tensor:
        L, info = torch.linalg.cholesky_ex(A)
        if bool((info > 0).any()):  # only for absurdly scaled input: shift by a tiny ridge
            ridge = 1e-12 * A.diagonal(dim1=-2, dim2=-1).amax(-1)
            A = A + ridge[..., None, None] * torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
            L = torch.linalg.cholesky(A)
        ctx.save_for_backward(A, L)
        return 2.0 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        A, L = ctx.saved_tensors
        if torch.is_grad_enabled():  # double backward: stay on the autograd tape
            inv = torch.cholesky_inverse(torch.linalg.cholesky(A))
        else:
            inv = torch.cholesky_inverse(L)
        return grad.to(inv.dtype)[..., None, None] * inv


def logdet_spd(A: torch.Tensor) -> torch.Tensor:
    """``log det A`` for a batch ``(..., n, n)`` of symmetric positive definite matrices.

    >>> float(logdet_spd(torch.diag(torch.tensor([2.0, 3.0], dtype=torch.float64))))  # log 6
    1.791759...
    """
    return _LogdetSPD.apply(A)
