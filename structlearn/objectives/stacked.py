"""Objectives of S networks trained together: one loss value per network.

An ensemble minimises :math:`\\sum_s L_s(\\theta_s)`; the networks share no parameter, so the
gradient with respect to network ``s``'s parameters is :math:`\\nabla L_s`, exactly what network
``s`` alone would receive. Each stacked objective returns :class:`StackedLoss` with ``total`` of
shape ``(S,)`` and ``parts`` holding the same keys as the single-network objective it mirrors
(values of shape ``(S,)``), so per-network histories read like single-network ones.

Taps are the row-major tensors of :class:`structlearn.models.stacked_mlp.StackedMLP`, tap ``l`` of
shape ``(S, batch, n_units)``; targets are ``(S, batch)`` class labels or ``(S, batch, n_outputs)``
regression targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from structlearn.objectives.supervised import CrossEntropy, MeanSquaredError


def class_argmax(scores: torch.Tensor) -> torch.Tensor:
    """``scores.argmax(dim=1)`` for scores of shape (S, C, batch), the first maximum on ties.

    A running comparison over the few classes of these studies, ~50x faster than torch's
    reduction over a middle axis on CPU.

    >>> class_argmax(torch.tensor([[[0.0, 2.0, 1.0], [1.0, 2.0, 0.0]]])).tolist()
    [[1, 0, 0]]
    """
    if scores.shape[1] > 16:
        return scores.argmax(dim=1)
    best, index = scores[:, 0], torch.zeros_like(scores[:, 0], dtype=torch.long)
    for c in range(1, scores.shape[1]):
        better = scores[:, c] > best
        best = torch.where(better, scores[:, c], best)
        index = torch.where(better, c, index)
    return index


@dataclass
class StackedLoss:
    """``total`` of shape (S,) (network s's loss, to be summed and minimised) and ``parts``."""

    total: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)


class StackedObjective(nn.Module):
    """Base class: reads tap ``tap`` (default the output) of every network."""

    def __init__(self, tap: int = -1) -> None:
        super().__init__()
        self.tap = tap

    def select(self, taps: Sequence[torch.Tensor]) -> torch.Tensor:
        taps = list(taps)
        if not -len(taps) <= self.tap < len(taps):
            raise ValueError(
                f"tap: index {self.tap} is out of range for a model with {len(taps)} taps"
            )
        out = taps[self.tap]
        if out.dim() != 3:
            raise ValueError(f"taps: expected tensors of shape (S, batch, units), got {out.shape}")
        return out


class StackedCrossEntropy(StackedObjective):
    """Mean cross-entropy (nats) per network, as :class:`CrossEntropy` computes it per network.

    ``parts``: ``cross_entropy_nats`` and ``accuracy``, each of shape (S,).

    >>> logits = torch.zeros(3, 4, 2)
    >>> loss = StackedCrossEntropy()([logits], torch.zeros(3, 4, dtype=torch.long))
    >>> [round(v, 4) for v in loss.total.tolist()]  # log 2 each
    [0.6931, 0.6931, 0.6931]
    """

    def forward(self, taps: Sequence[torch.Tensor], targets: torch.Tensor | None) -> StackedLoss:
        if targets is None:
            raise ValueError("targets: StackedCrossEntropy needs class labels, got None")
        logits = self.select(taps)  # (S, batch, C)
        if targets.shape != logits.shape[:2]:
            raise ValueError(
                f"targets: expected labels of shape {tuple(logits.shape[:2])}, "
                f"got {tuple(targets.shape)}"
            )
        scores = logits.transpose(1, 2)  # (S, C, batch): contiguous for StackedMLP's taps
        per_sample = F.cross_entropy(scores, targets, reduction="none")
        total = per_sample.mean(dim=1)
        with torch.no_grad():
            acc = (class_argmax(scores) == targets).to(logits.dtype).mean(dim=1)
        return StackedLoss(total, {"cross_entropy_nats": total.detach(), "accuracy": acc})

    def predict(self, taps: Sequence[torch.Tensor]) -> torch.Tensor:
        """Logits of every network, shape (S, batch, n_classes)."""
        return self.select(taps)


class StackedSquaredError(StackedObjective):
    """Mean over samples of the squared error summed over outputs, per network; part ``mse``
    (:class:`MeanSquaredError` per network).

    >>> loss = StackedSquaredError()([torch.ones(2, 3, 2)], torch.zeros(2, 3, 2))
    >>> loss.total.tolist()
    [2.0, 2.0]
    """

    def forward(self, taps: Sequence[torch.Tensor], targets: torch.Tensor | None) -> StackedLoss:
        if targets is None:
            raise ValueError("targets: StackedSquaredError needs regression targets, got None")
        pred = self.select(taps)
        if targets.shape != pred.shape:
            raise ValueError(
                f"targets: expected shape {tuple(pred.shape)} (the predictions'), "
                f"got {tuple(targets.shape)}"
            )
        total = (pred - targets.to(pred.dtype)).pow(2).sum(dim=2).mean(dim=1)
        return StackedLoss(total, {"mse": total.detach()})


def stacked_objective(objective: nn.Module) -> StackedObjective:
    """The stacked counterpart of a single-network ``objective``.

    A :class:`StackedObjective` is returned as it is; :class:`CrossEntropy` maps to
    :class:`StackedCrossEntropy` and :class:`MeanSquaredError` to :class:`StackedSquaredError` on
    the same tap; any other objective may define ``stacked()`` returning its counterpart.
    """
    if isinstance(objective, StackedObjective):
        return objective
    if type(objective) is CrossEntropy:
        return StackedCrossEntropy(tap=objective.tap)
    if type(objective) is MeanSquaredError:
        return StackedSquaredError(tap=objective.tap)
    make = getattr(objective, "stacked", None)
    if callable(make):
        out = make()
        if isinstance(out, StackedObjective):
            return out
    raise TypeError(
        f"objective: {type(objective).__name__} has no stacked counterpart for ensemble "
        "training; pass a StackedObjective, CrossEntropy, or an objective whose stacked() returns "
        "one, or train the networks one by one with structlearn.train.train"
    )
