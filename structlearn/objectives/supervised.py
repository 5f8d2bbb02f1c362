"""Supervised objectives behind the common interface: cross-entropy on logits (classification) and
the mean squared error (regression, e.g. students fitting a teacher network's outputs)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from structlearn.objectives.base import Features, Loss, Objective
from structlearn.utils.validation import check_labels, check_tensor


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Mean cross-entropy :math:`-\frac1m\sum_i \log \mathrm{softmax}(z_i)_{y_i}` in nats.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
    targets : integer Tensor of shape (n_samples,), values in ``[0, n_classes)``

    >>> float(cross_entropy(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])))  # log 2
    0.6931...
    """
    logits = check_tensor(logits, "logits")
    labels = check_labels(targets, "targets", n_samples=logits.shape[0], n_classes=logits.shape[1])
    return F.cross_entropy(logits, torch.as_tensor(labels, device=logits.device))


class CrossEntropy(Objective):
    """Cross-entropy on the tap ``tap`` (default: the model's output logits).

    ``parts``: ``{"cross_entropy_nats": ..., "accuracy": ...}``.
    """

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        if targets is None:
            raise ValueError("targets: CrossEntropy needs class labels, got None")
        logits = self.select(features)
        total = cross_entropy(logits, targets)
        with torch.no_grad():
            acc = (logits.argmax(1).cpu() == torch.as_tensor(targets).cpu()).float().mean()
        return Loss(total, {"cross_entropy_nats": total.detach().item(), "accuracy": acc.item()})

    def predict(self, features: Features) -> torch.Tensor:
        """Logits of the tap this objective reads, shape (n_samples, n_classes)."""
        return self.select(features)


def mean_squared_error(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Mean over samples of the squared error summed over outputs,
    :math:`\frac1n\sum_i \|\hat y_i - y_i\|_2^2` (twice the loss whose gradient Tian's
    teacher–student code steps along, so its learning rate 0.01 is 0.005 here).

    Parameters
    ----------
    predictions, targets : Tensor of shape (n_samples, n_outputs)

    >>> float(mean_squared_error(torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.zeros(2, 2)))
    2.5
    """
    predictions = check_tensor(predictions, "predictions", ndim=2)
    targets = check_tensor(targets, "targets", ndim=2)
    if predictions.shape != targets.shape:
        raise ValueError(
            f"targets: expected shape {tuple(predictions.shape)} (the predictions'), got "
            f"{tuple(targets.shape)}"
        )
    return (predictions - targets.to(predictions.dtype)).pow(2).sum(dim=1).mean()


def relative_squared_error(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    r"""Mean squared error over the targets' total variance: 1 is predicting their mean, 0 exact.

    :math:`\sum_i \|\hat y_i - y_i\|^2 / \sum_i \|y_i - \bar y\|^2`, shapes (n_samples,
    n_outputs); no gradient. The loss teacher–student studies report (scale-free across teachers).

    >>> y = torch.tensor([[0.0], [2.0]])
    >>> relative_squared_error(torch.ones(2, 1), y), relative_squared_error(y, y)
    (1.0, 0.0)
    """
    with torch.no_grad():
        error = mean_squared_error(predictions, targets)
        targets = targets.to(error.dtype)
        spread = (targets - targets.mean(0)).pow(2).sum(dim=1).mean()
    if not spread > 0:
        raise ValueError("targets: constant targets have no variance to compare the error with")
    return float(error / spread)


class MeanSquaredError(Objective):
    """Regression objective on the tap ``tap`` (default: the model's output).

    ``parts``: ``{"mse": ...}`` (:func:`mean_squared_error`, squared output units).
    """

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        if targets is None:
            raise ValueError("targets: MeanSquaredError needs regression targets, got None")
        total = mean_squared_error(self.select(features), targets)
        return Loss(total, {"mse": float(total.detach())})

    def predict(self, features: Features) -> torch.Tensor:
        """The predictions this objective reads, shape (n_samples, n_outputs)."""
        return self.select(features)

    def stacked(self) -> Any:
        """The ensemble counterpart (:class:`structlearn.objectives.stacked.StackedSquaredError`)."""
        from structlearn.objectives.stacked import StackedSquaredError

        return StackedSquaredError(tap=self.tap)
