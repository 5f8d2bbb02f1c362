"""Loss along paths between two trained networks: straight lines and one-bend polygonal chains.

Garipov, Izmailov, Podoprikhin, Vetrov & Wilson (2018) found that two independently trained
minima, separated by a high loss on the straight line between their weights, are joined by simple
curves of low loss; they fit the curve by minimising the loss averaged over points drawn uniformly
along it. Here the curve is their polygonal chain with one bend :math:`\\theta_c`:

.. math:: \\theta(t) = \\begin{cases} \\theta_a + 2t(\\theta_c - \\theta_a) & t \\le 1/2 \\\\
          \\theta_c + (2t - 1)(\\theta_b - \\theta_c) & t > 1/2, \\end{cases}

with :math:`\\theta_c` initialised at the midpoint and trained by Adam on
:math:`\\mathbb{E}_{t \\sim U[0, 1]} L(\\theta(t))`, one :math:`t` per minibatch. The **barrier** of
a path is :math:`\\max_t L(\\theta(t)) - \\max(L(\\theta_a), L(\\theta_b))` on a grid of ``t``.
Parameters are handled as one flat vector per network (:func:`flat_parameters`), and the model is
evaluated with :func:`torch.func.functional_call`, so any ``nn.Module`` works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from structlearn.results import AnalysisResult, new_axes
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_scalar

Loss = Callable[[Any, torch.Tensor], torch.Tensor]


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """Every parameter of ``model`` in one detached float64 vector (the order of ``parameters()``)."""
    return torch.cat([p.detach().reshape(-1).double() for p in model.parameters()])


def _as_params(model: nn.Module, theta: torch.Tensor) -> dict[str, torch.Tensor]:
    total = sum(p.numel() for p in model.parameters())
    if theta.ndim != 1 or theta.numel() != total:
        raise ValueError(f"theta: expected {total} parameters for this model, got {theta.numel()}")
    out, i = {}, 0
    for name, p in model.named_parameters():
        out[name] = theta[i : i + p.numel()].reshape(p.shape).to(p.dtype)
        i += p.numel()
    return out


def path_point(
    t: float, a: torch.Tensor, b: torch.Tensor, bend: torch.Tensor | None
) -> torch.Tensor:
    """θ(t) on the straight line (``bend=None``) or on the one-bend chain through ``bend``."""
    if bend is None:
        return (1 - t) * a + t * b
    if t <= 0.5:
        return a + 2 * t * (bend - a)
    return bend + (2 * t - 1) * (b - bend)


def loss_at(
    model: nn.Module, theta: torch.Tensor, X: torch.Tensor, Y: torch.Tensor, loss: Loss
) -> float:
    """The loss of ``model`` with parameters ``theta`` on (X, Y), no gradient."""
    with torch.no_grad():
        return float(loss(torch.func.functional_call(model, _as_params(model, theta), (X,)), Y))


def fit_bend(
    model: nn.Module,
    a: torch.Tensor,
    b: torch.Tensor,
    X: torch.Tensor,
    Y: torch.Tensor,
    loss: Loss,
    *,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 1e-2,
    random_state: int = 0,
) -> torch.Tensor:
    """The bend θ_c minimising the loss averaged along the chain (Garipov et al. 2018)."""
    check_scalar(steps, "steps", kind=int, low=1, high=10**7)
    check_scalar(batch_size, "batch_size", kind=int, low=1)
    gen = torch.Generator().manual_seed(int(random_state))
    bend = ((a + b) / 2).clone().requires_grad_(True)
    opt = torch.optim.Adam([bend], lr=lr)
    n = len(X)
    for _ in range(steps):
        t = float(torch.rand((), generator=gen))
        idx = torch.randint(n, (min(batch_size, n),), generator=gen)
        theta = path_point(t, a, b, bend)
        out = torch.func.functional_call(model, _as_params(model, theta), (X[idx],))
        opt.zero_grad()
        loss(out, Y[idx]).backward()
        opt.step()
    return bend.detach()


@dataclass
class ModeConnectivity(AnalysisResult, Summarised):
    """Loss along the straight line and the one-bend chain between two networks.

    ``t`` (n_points,), ``line_loss`` and ``bend_loss`` (n_points,): the loss at each ``t``;
    ``end_loss``: the larger of the two endpoints' losses; barriers as in the module docstring.
    """

    t: np.ndarray
    line_loss: np.ndarray
    bend_loss: np.ndarray
    end_loss: float
    line_barrier: float = field(init=False)
    bend_barrier: float = field(init=False)

    scalars: ClassVar[dict[str, Scalar]] = {
        "end_loss": Scalar("loss", False, doc="the larger endpoint loss"),
        "line_barrier": Scalar("loss", False, doc="max loss on the straight line − endpoints"),
        "bend_barrier": Scalar("loss", False, doc="max loss on the one-bend chain − endpoints"),
    }

    def __post_init__(self) -> None:
        self.line_barrier = float(self.line_loss.max() - self.end_loss)
        self.bend_barrier = float(self.bend_loss.max() - self.end_loss)

    def plot(self, ax: Any = None) -> Any:
        ax = new_axes(ax)
        ax.plot(
            self.t,
            self.line_loss,
            "o-",
            ms=3,
            label=f"straight line (barrier {self.line_barrier:.3g})",
        )
        ax.plot(
            self.t, self.bend_loss, "o-", ms=3, label=f"one bend (barrier {self.bend_barrier:.3g})"
        )
        ax.set(xlabel="position t along the path", ylabel="loss")
        ax.legend(frameon=False, fontsize="small")
        return ax


def analyze_mode_connectivity(
    model: nn.Module,
    a: torch.Tensor,
    b: torch.Tensor,
    bend: torch.Tensor,
    X: torch.Tensor,
    Y: torch.Tensor,
    loss: Loss,
    *,
    n_points: int = 21,
) -> ModeConnectivity:
    """Loss on ``n_points`` evenly spaced ``t`` of the straight line and of the chain through ``bend``."""
    check_scalar(n_points, "n_points", kind=int, low=3, high=10**4)
    t = np.linspace(0.0, 1.0, n_points)
    line = np.array([loss_at(model, path_point(s, a, b, None), X, Y, loss) for s in t])
    chain = np.array([loss_at(model, path_point(s, a, b, bend), X, Y, loss) for s in t])
    return ModeConnectivity(
        t=t, line_loss=line, bend_loss=chain, end_loss=float(max(line[0], line[-1]))
    )


__all__ = [
    "ModeConnectivity",
    "analyze_mode_connectivity",
    "fit_bend",
    "flat_parameters",
    "loss_at",
    "path_point",
]
