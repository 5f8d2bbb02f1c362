"""What every objective returns and the base class they share.

An objective is a ``torch.nn.Module``: ``loss = objective(features, targets)``. ``loss.total`` is the
scalar the optimiser minimises; ``loss.parts`` holds named floats for logging (information in nats).
``features`` is one tensor of shape ``(n_samples, n_features)`` or the list of a model's taps (every
layer's output, input excluded, last = output); an objective reads the tap ``self.tap`` of the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from structlearn.utils.validation import check_array


@dataclass
class Loss:
    """Result of an objective: ``total`` (scalar tensor to minimise) and ``parts`` (floats to log)."""

    total: torch.Tensor
    parts: dict[str, float] = field(default_factory=dict)


Features = torch.Tensor | Sequence[torch.Tensor]


class Objective(nn.Module):
    """Base class: selects the tap an objective reads (``tap=-1``: the model's last output)."""

    def __init__(self, tap: int = -1) -> None:
        super().__init__()
        self.tap = tap

    def select(self, features: Features) -> torch.Tensor:
        """Return the tensor this objective reads from ``features`` (a tensor or list of taps)."""
        if isinstance(features, torch.Tensor):
            return features
        if isinstance(features, np.ndarray):  # one array, not a list of taps
            arr = check_array(
                features, "features", ndim=(1, 2, 3, 4), dtype=None, allow_nonfinite=True
            )
            return torch.as_tensor(arr)
        taps = list(features)
        if not taps:
            raise ValueError("features: expected a tensor or a non-empty list of layer outputs")
        try:
            return taps[self.tap]
        except IndexError:
            raise ValueError(
                f"tap: index {self.tap} is out of range for a model with {len(taps)} taps"
            ) from None


def common_float(*tensors: torch.Tensor | None) -> list[torch.Tensor | None]:
    """The tensors in their common floating dtype (float32 with float64 -> float64), so that
    float64, float16 and bfloat16 inputs meet float32 parameters without a dtype error."""
    present = [t for t in tensors if t is not None]
    dtype = present[0].dtype
    for t in present[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [None if t is None else t.to(dtype) for t in tensors]


def module_dtype(module: nn.Module) -> torch.dtype:
    """The dtype of a module's first floating parameter (the default dtype without one)."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def refuse_overflow(value: torch.Tensor, x: torch.Tensor, name: str = "features") -> torch.Tensor:
    """``value`` when finite; for finite inputs ``x`` that overflowed it, a ``ValueError`` naming
    ``name``, its largest magnitude and dtype (a silent Inf or NaN loss is never returned)."""
    if bool(torch.isfinite(value.detach()).all()):
        return value
    top = float(x.detach().abs().max()) if x.numel() else 0.0
    raise ValueError(
        f"{name}: values up to {top:.3g} overflow {str(x.dtype).replace('torch.', '')} in this "
        "objective (the result is not finite); rescale them or use float64"
    )
