"""What every objective returns and the base class they share.

An objective is a ``torch.nn.Module``: ``loss = objective(features, targets)``. ``loss.total`` is the
scalar the optimiser minimises; ``loss.parts`` holds named floats for logging (information in nats).
``features`` is one tensor of shape ``(n_samples, n_features)`` or the list of a model's taps (every
layer's output, input excluded, last = output); an objective reads the tap ``self.tap`` of the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn


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
        taps = list(features)
        if not taps:
            raise ValueError("features: expected a tensor or a non-empty list of layer outputs")
        try:
            return taps[self.tap]
        except IndexError:
            raise ValueError(
                f"tap: index {self.tap} is out of range for a model with {len(taps)} taps"
            ) from None
