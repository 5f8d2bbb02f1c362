"""Single bounded units whose nonlinearity is learned by InfoMax (Laughlin 1981).

A unit with output in [0, 1] and small output noise transmits the most information about its input
when its output is uniformly distributed: for a deterministic monotone map :math:`y = g(x)`,

.. math:: H(Y) = H(X) + \\mathbb{E}[\\log g'(X)],

so maximising the output entropy maximises :math:`\\mathbb{E}[\\log g'(X)]` under
:math:`0 \\le g \\le 1`, whose optimum is the cumulative distribution function of the input
(histogram equalisation; Laughlin 1981 found it in the contrast-response curve of the fly's large
monopolar cells). Two parameterisations learn it by gradient ascent on that objective:

- :class:`PiecewiseLinearUnit`: ``n_knots`` equal segments over ``[low, high]``; the output rises by
  ``softmax(a)_k`` across segment ``k``, so it is monotone and bounded by construction, and the
  optimum puts each segment's rise equal to the share of inputs falling in it;
- :class:`LogisticUnit`: :math:`g(x) = \\sigma((x - \\mu)/s)`, the single-unit case of Bell &
  Sejnowski (1995), which can only match a logistic-shaped CDF.

:func:`fit_infomax_unit` trains either on a sample of inputs; :func:`linear_unit` is the linear
reference ``clip((x - low)/(high - low), 0, 1)`` over the same range.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from structlearn.utils.validation import check_array, check_scalar


class PiecewiseLinearUnit(nn.Module):
    """Monotone piecewise-linear map of [low, high] onto [0, 1] with ``n_knots`` equal segments.

    Inputs below ``low`` give 0 and above ``high`` give 1 (saturation). Shapes: any -> same.
    """

    def __init__(self, low: float, high: float, n_knots: int = 64):
        super().__init__()
        check_scalar(n_knots, "n_knots", kind=int, low=1)
        if not np.isfinite(low) or not np.isfinite(high) or not high > low:
            raise ValueError(f"low, high: expected finite low < high, got {low!r}, {high!r}")
        self.register_buffer("knots", torch.linspace(float(low), float(high), n_knots + 1))
        self.logits = nn.Parameter(torch.zeros(n_knots))

    @property
    def width(self) -> float:
        return float(self.knots[1] - self.knots[0])

    def rises(self) -> torch.Tensor:
        """How much the output rises across each segment, shape (n_knots,), summing to 1."""
        return torch.softmax(self.logits, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = ((x[..., None] - self.knots[:-1]) / self.width).clamp(0.0, 1.0)
        return (t * self.rises()).sum(-1).clamp(0.0, 1.0)  # the rises sum to 1 up to rounding

    def log_slope(self, x: torch.Tensor) -> torch.Tensor:
        """log g'(x) for inputs inside [low, high) (segment of each input), shape of ``x``."""
        k = ((x - self.knots[0]) / self.width).floor().long().clamp(0, len(self.logits) - 1)
        return torch.log_softmax(self.logits, 0)[k] - float(np.log(self.width))

    def inside(self, x: torch.Tensor) -> torch.Tensor:
        return (x >= self.knots[0]) & (x < self.knots[-1])

    def loss(self, x: torch.Tensor) -> Callable[[], torch.Tensor]:
        """−E[log g'(x)] over ``x`` as a function of the parameters (segment counts taken once)."""
        k = ((x - self.knots[0]) / self.width).floor().long().clamp(0, len(self.logits) - 1)
        share = torch.bincount(k, minlength=len(self.logits)).to(self.logits.dtype) / len(x)
        log_width = float(np.log(self.width))
        return lambda: log_width - (share * torch.log_softmax(self.logits, 0)).sum()


class LogisticUnit(nn.Module):
    """:math:`g(x) = \\sigma((x - \\mu) / s)`, initialised at the given centre and scale."""

    def __init__(self, centre: float = 0.0, scale: float = 1.0):
        super().__init__()
        self.centre = nn.Parameter(torch.tensor(float(centre), dtype=torch.float64))
        self.log_scale = nn.Parameter(torch.tensor(float(np.log(scale)), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid((x - self.centre) / self.log_scale.exp())

    def log_slope(self, x: torch.Tensor) -> torch.Tensor:
        u = (x - self.centre) / self.log_scale.exp()
        return nn.functional.logsigmoid(u) + nn.functional.logsigmoid(-u) - self.log_scale

    def inside(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(x, dtype=torch.bool)

    def loss(self, x: torch.Tensor) -> Callable[[], torch.Tensor]:
        """−E[log g'(x)] over ``x`` as a function of the parameters."""
        return lambda: -self.log_slope(x).mean()


def fit_infomax_unit(
    unit: PiecewiseLinearUnit | LogisticUnit,
    x: np.ndarray,
    *,
    steps: int = 400,
    lr: float = 0.1,
) -> Callable[[np.ndarray], np.ndarray]:
    """Maximise the output entropy E[log g'(x)] of ``unit`` on inputs ``x`` (n,) by Adam.

    Inputs outside the unit's range (saturated, g' = 0) carry no gradient and are left out of the
    mean. Returns ``g`` as a numpy function (float64 in, float64 out).

    >>> x = np.random.default_rng(0).exponential(size=5000)
    >>> g = fit_infomax_unit(PiecewiseLinearUnit(0.0, 6.0, 24), x)
    >>> float(np.round(g(np.array([np.log(2.0)]))[0], 2))  # the exponential's CDF at its median
    0.5
    """
    x = check_array(x, "x", ndim=1, min_samples=2)
    check_scalar(steps, "steps", kind=int, low=1, high=10**6)
    check_scalar(lr, "lr", low=0, low_inclusive=False)
    xt = torch.as_tensor(x, dtype=torch.float64)
    unit = unit.double()
    xt = xt[unit.inside(xt)]
    if xt.numel() < 2:
        raise ValueError("x: fewer than 2 inputs fall inside the unit's range")
    opt = torch.optim.Adam(unit.parameters(), lr=lr)
    loss = unit.loss(xt)
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
    unit.eval()

    def g(v: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return unit(torch.as_tensor(np.asarray(v, dtype=np.float64))).numpy()

    return g


def linear_unit(low: float, high: float) -> Callable[[np.ndarray], np.ndarray]:
    """The linear reference ``clip((x - low) / (high - low), 0, 1)``."""
    if not high > low:
        raise ValueError(f"low, high: expected low < high, got {low!r}, {high!r}")
    return lambda v: np.clip((np.asarray(v, dtype=np.float64) - low) / (high - low), 0.0, 1.0)


__all__ = ["LogisticUnit", "PiecewiseLinearUnit", "fit_infomax_unit", "linear_unit"]
