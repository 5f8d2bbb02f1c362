"""All-gathering features across ``torch.distributed`` processes for whole-batch objectives.

The coding rate of Yu et al. (2020, "Learning diverse and discriminative representations via the
principle of maximal coding rate reduction") is a log-determinant of the whole batch's Gram matrix:
a mean of per-process values is *not* the full-batch value. Objectives that need every sample call
:func:`gather_features` so each process sees the full batch (rank order, variable per-rank sizes).

Gradient convention: gradients flow to the local rows only. The backward pass sums the gathered
gradient over processes (``all_reduce``) and keeps the local slice, so with ``P`` processes each
computing the same loss the local gradient is ``P`` times the full-batch one and
``DistributedDataParallel``'s averaging over processes then yields exactly the full-batch parameter
gradient. Without an initialised process group (or with one process) both functions return their
input unchanged.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ["gather_features", "gather_targets", "is_distributed"]


def is_distributed() -> bool:
    """True when a ``torch.distributed`` process group with more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gather_padded(x: torch.Tensor) -> tuple[list[torch.Tensor], list[int]]:
    """All-gather ``x`` (n_local, ...) from every rank, allowing different ``n_local``."""
    size = torch.tensor([x.shape[0]], device=x.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    counts = [int(s) for s in sizes]
    padded = x.new_zeros((max(counts), *x.shape[1:]))
    padded[: x.shape[0]] = x
    chunks = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(chunks, padded.contiguous())
    return [c[:n] for c, n in zip(chunks, counts)], counts


class _AllGather(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        chunks, counts = _gather_padded(x.detach())
        ctx.rank, ctx.counts = dist.get_rank(), counts
        chunks[ctx.rank] = x.detach()
        return torch.cat(chunks, 0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = sum(ctx.counts[: ctx.rank])
        return grad[start : start + ctx.counts[ctx.rank]]


def gather_features(x: torch.Tensor) -> torch.Tensor:
    """Concatenate every process's ``x`` of shape (n_local, ...) in rank order, keeping gradients
    for the local rows (see the module docstring for the gradient convention).

    >>> gather_features(torch.ones(2, 3)).shape  # no process group: unchanged
    torch.Size([2, 3])
    """
    if not is_distributed():
        return x
    return _AllGather.apply(x)


def gather_targets(y: torch.Tensor) -> torch.Tensor:
    """Concatenate every process's labels or memberships in rank order (as :func:`gather_features`)."""
    if not is_distributed():
        return y
    if y.is_floating_point():
        return _AllGather.apply(y)
    chunks, _ = _gather_padded(y)
    return torch.cat(chunks, 0)
