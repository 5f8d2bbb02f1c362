r"""Trainable Information Bottleneck objectives, in nats: variational IB and nonlinear (KDE) IB.

Implements Alemi, Fischer, Dillon & Murphy (2017), "Deep variational information bottleneck"
(VIB); Kolchinsky, Tracey & Wolpert (2019), "Nonlinear information bottleneck" (NIB), whose
:math:`I(X;T)` bound is the pairwise-distance mixture-entropy bound of Kolchinsky & Tracey (2017),
"Estimating mixture entropy with pairwise distances"; and the squared IB of Kolchinsky, Tracey &
Van Kuyk (2019), "Caveats for information bottleneck in deterministic scenarios".

**Convention for β (as in Alemi et al. and Kolchinsky et al.).** Every trainable form minimises

.. math:: \mathcal L = \underbrace{\mathrm{CE}}_{\ge H(Y) - I(T;Y)} + \beta\,\hat I(X;T)
    \qquad(\text{squared form: } \mathrm{CE} + \beta\,\hat I(X;T)^2),

so a *larger* β compresses more: the :math:`I(X;T)` term goes down as β grows. This is the
Tishby Lagrangian :math:`I(X;T) - \beta' I(T;Y)` divided by :math:`\beta'`, with
:math:`\beta' = 1/\beta` (and :math:`H(Y)` a constant).

``parts`` (nats): ``I_XT_upper_nats`` (the bound being penalised), ``I_TY_lower_nats``
(:math:`H(Y) - \mathrm{CE}`, with :math:`H(Y)` the plug-in entropy of the batch's labels: a
variational lower bound on :math:`I(T;Y)`), ``cross_entropy_nats``, and ``beta``.

β may be a number or a schedule (:class:`BetaSchedule`, or any callable ``epoch -> beta``);
``set_epoch(epoch)`` moves the objective to an epoch. Stochastic layers draw their noise from torch's
global generator (as dropout does; :func:`structlearn.train.train` reseeds it every epoch) and
are deterministic in ``eval()`` mode (the mean code).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from structlearn.objectives.base import Features, Loss, Objective, module_dtype, refuse_overflow
from structlearn.utils.validation import (
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
    check_tensor,
)

__all__ = [
    "BetaSchedule",
    "NonlinearIB",
    "VariationalIB",
    "gaussian_kl_to_standard",
    "kde_mutual_information",
    "kde_upper_bound_mutual_information",
    "label_entropy",
]


# --------------------------------------------------------------------------- pure functions


def gaussian_kl_to_standard(mu: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    r"""Mean over samples of :math:`\mathrm{KL}(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\|\,
    \mathcal N(0, I)) = \tfrac12\sum_k(\mu_k^2 + \sigma_k^2 - 1 - \log\sigma_k^2)` in nats.

    With a standard-normal marginal this upper-bounds :math:`I(X;T)` (Alemi et al. 2017).

    Parameters
    ----------
    mu, std : Tensor of shape (n_samples, n_dims), ``std > 0``

    >>> float(gaussian_kl_to_standard(torch.zeros(2, 3), torch.ones(2, 3)))
    0.0
    """
    mu = check_tensor(mu, "mu", ndim=2)
    std = check_tensor(std, "std", ndim=2)
    if std.shape != mu.shape:
        raise ValueError(f"std: expected shape {tuple(mu.shape)} like mu, got {tuple(std.shape)}")
    if bool((std.detach() <= 0).any()):
        raise ValueError("std: expected standard deviations > 0")
    m, s = mu.double(), std.double()  # float32 squares of 1e30 (or of 1e-30) over/underflow
    kl = 0.5 * (m * m + s * s - 1 - 2 * torch.log(s)).sum(1).mean()
    return refuse_overflow(kl.to(mu.dtype), mu, "mu")


def kde_upper_bound_mutual_information(
    h: torch.Tensor, noise_variance: float | torch.Tensor
) -> torch.Tensor:
    r"""Upper bound on :math:`I(X;T)` for :math:`T = h(X) + \mathcal N(0, \sigma^2 I)`, in nats.

    .. math:: \hat I(X;T) = -\frac1n\sum_i\log\frac1n\sum_j
        \exp\!\Big(-\frac{\|h_i - h_j\|^2}{2\sigma^2}\Big)

    The pairwise-KL bound on the entropy of the Gaussian mixture :math:`T` (Kolchinsky & Tracey
    2017) minus :math:`H(T\mid X)`, over the ``n`` samples of the batch taken as equiprobable
    inputs. It lies in :math:`[0, \log n]`: 0 when all :math:`h_i` coincide, :math:`\log n` when
    they are far apart relative to :math:`\sigma`.

    Parameters
    ----------
    h : Tensor of shape (n_samples, n_dims)
        The layer's (noise-free) output.
    noise_variance : float or scalar Tensor > 0
        :math:`\sigma^2` (a tensor keeps its gradient: a trainable noise level).

    >>> h = torch.tensor([[0.0], [100.0]])
    >>> round(float(kde_upper_bound_mutual_information(h, 1.0)), 6)  # log 2
    0.693147
    """
    h = check_tensor(h, "h", ndim=2)
    if isinstance(noise_variance, bool):
        raise TypeError("noise_variance: expected a number or a scalar tensor > 0, got a bool")
    var = torch.as_tensor(noise_variance, dtype=h.dtype, device=h.device)
    if var.dim() != 0 or not bool(var.detach() > 0) or not bool(torch.isfinite(var.detach())):
        raise ValueError(f"noise_variance: expected a finite scalar > 0, got {noise_variance}")
    n = h.shape[0]
    dtype = h.dtype
    top = h.detach().abs().max()
    huge = bool(top > 1e15)  # squared distances would overflow float32 (and at 1e154, float64)
    if huge:  # distances of h / top, then the exponent's scale top² / (2 var) (may be inf)
        h, var = h.double() / top.double(), var.double() / top.double() ** 2
    sq = (h * h).sum(1)
    dist2 = (sq[:, None] + sq[None, :] - 2 * h @ h.T).clamp_min(0)
    dist2 = dist2 * (1 - torch.eye(n, dtype=h.dtype, device=h.device))  # exact zero diagonal
    exponent = -dist2 / (2 * var)
    if huge:  # 0 * inf is NaN: coinciding points have exponent 0 whatever the scale
        exponent = torch.where(dist2 > 0, exponent, torch.zeros_like(exponent))
    return -(torch.logsumexp(exponent, dim=1) - math.log(n)).mean().to(dtype)


def kde_mutual_information(h: torch.Tensor, noise_variance: float | torch.Tensor) -> torch.Tensor:
    """Deprecated alias of :func:`kde_upper_bound_mutual_information` (warns): a differentiable
    bound for training, not the estimator :func:`structlearn.estimators.kde_mutual_information`."""
    warnings.warn(
        "structlearn.objectives.kde_mutual_information is deprecated; use "
        "kde_upper_bound_mutual_information (same arguments)",
        DeprecationWarning,
        stacklevel=2,
    )
    return kde_upper_bound_mutual_information(h, noise_variance)


def label_entropy(labels: torch.Tensor, n_classes: int) -> float:
    """Plug-in entropy (nats) of the empirical label distribution.

    >>> round(label_entropy(torch.tensor([0, 1, 0, 1]), 2), 6)  # log 2
    0.693147
    """
    labels = check_labels(labels, "labels")
    check_scalar(n_classes, "n_classes", kind=int, low=1)
    counts = torch.as_tensor(np.unique(labels, return_counts=True)[1]).double()
    p = counts / counts.sum()
    return float(-(p * p.log()).sum())


# --------------------------------------------------------------------------- β schedules


@dataclass(frozen=True)
class BetaSchedule:
    """β as a function of the epoch: ``constant``, or a ``linear``/``exponential`` ramp.

    ``schedule(epoch)`` is ``start`` at epoch 0 and ``stop`` from ``n_epochs`` on; the
    exponential ramp interpolates ``log β`` linearly (needs ``start, stop > 0``).

    >>> BetaSchedule("linear", 0.0, 1.0, n_epochs=4)(1)
    0.25
    >>> round(BetaSchedule("exponential", 1e-4, 1e-2, n_epochs=2)(1), 10)
    0.001
    """

    kind: str = "constant"
    start: float = 1e-3
    stop: float | None = None
    n_epochs: int = 1

    def __post_init__(self) -> None:
        check_option(self.kind, "kind", ["constant", "linear", "exponential"])
        check_scalar(self.start, "start", low=0)
        if self.stop is not None:
            check_scalar(self.stop, "stop", low=0)
        check_scalar(self.n_epochs, "n_epochs", kind=int, low=1)
        if self.kind != "constant" and self.stop is None:
            raise ValueError(f"stop: a {self.kind} ramp needs a final beta, got None")
        if self.kind == "exponential" and min(self.start, self.stop) <= 0:
            raise ValueError(
                f"start: an exponential ramp needs start > 0 and stop > 0, "
                f"got start={self.start}, stop={self.stop}"
            )

    def __call__(self, epoch: int) -> float:
        if self.kind == "constant":
            return float(self.start)
        frac = min(max(epoch, 0), self.n_epochs) / self.n_epochs
        if self.kind == "linear":
            return float(self.start + frac * (self.stop - self.start))
        return float(math.exp((1 - frac) * math.log(self.start) + frac * math.log(self.stop)))


BetaLike = float | Callable[[int], float]


def _check_beta(beta: BetaLike) -> BetaLike:
    if callable(beta):
        check_scalar(beta(0), "beta", low=0)
        return beta
    return check_scalar(beta, "beta", low=0)


# --------------------------------------------------------------------------- objectives


def _seeded_linear(in_features: int, out_features: int, gen: torch.Generator) -> nn.Linear:
    layer = nn.utils.skip_init(nn.Linear, in_features, out_features)  # no global RNG draw
    bound = 1 / math.sqrt(in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=gen)
        layer.bias.uniform_(-bound, bound, generator=gen)
    return layer


def _in_dtype(h: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """``h`` in the module's parameter dtype; values that overflow it are refused by name."""
    out = h.to(module_dtype(module))
    if out.dtype != h.dtype and not bool(torch.isfinite(out.detach()).all()):
        top = float(h.detach().abs().max())
        raise ValueError(
            f"features: values up to {top:.3g} overflow the objective's "
            f"{str(out.dtype).replace('torch.', '')} parameters; rescale them or call .double()"
        )
    return out


class _InformationBottleneck(Objective):
    """Shared by the IB objectives: β (number or schedule), the epoch, label checks."""

    def __init__(self, n_classes: int, beta: BetaLike, tap: int) -> None:
        super().__init__(tap=tap)
        check_scalar(n_classes, "n_classes", kind=int, low=2)
        self.n_classes = n_classes
        self.beta_schedule = _check_beta(beta)
        self.epoch = 0

    @property
    def beta(self) -> float:
        """β at the current epoch."""
        sched = self.beta_schedule
        return check_scalar(
            float(sched(self.epoch)) if callable(sched) else float(sched), "beta", low=0
        )

    def set_epoch(self, epoch: int) -> None:
        """Move a β schedule to ``epoch`` (0-based count of finished epochs)."""
        self.epoch = check_scalar(epoch, "epoch", kind=int, low=0)

    def _labels(self, targets: torch.Tensor | None, n_samples: int, device) -> torch.Tensor:
        if targets is None:
            raise ValueError(f"targets: {type(self).__name__} needs class labels, got None")
        y = check_labels(targets, "targets", n_samples=n_samples, n_classes=self.n_classes)
        return torch.as_tensor(y, device=device)

    def _loss(self, logits, y, compression, i_xt, h=None) -> Loss:
        ce = F.cross_entropy(logits, y)
        beta = self.beta
        total = ce + beta * compression
        if h is not None:
            refuse_overflow(total, h, "features")
        with torch.no_grad():
            acc = (logits.argmax(1) == y).double().mean().item()
        parts = {
            "I_XT_upper_nats": i_xt.detach().item(),
            "I_TY_lower_nats": label_entropy(y, self.n_classes) - ce.detach().item(),
            "cross_entropy_nats": ce.detach().item(),
            "beta": beta,
            "accuracy": acc,
        }
        return Loss(total, parts)


class VariationalIB(_InformationBottleneck):
    r"""Variational IB (Alemi et al. 2017): ``loss = CE + β·KL(p(t|x) ‖ N(0, I))``.

    Holds its own Gaussian encoder head (``in_features → 2·bottleneck_dim``: mean and, through
    :math:`\sigma = \mathrm{softplus}(s - 5)` as in the paper, standard deviation) and a linear
    decoder (``bottleneck_dim → n_classes``), read from the tap ``tap``; the trainer optimises
    ``objective.parameters()``. Training samples :math:`t = \mu + \sigma\epsilon` (``n_samples``
    draws averaged in the cross-entropy); ``eval()`` uses :math:`t = \mu`.

    Parameters
    ----------
    in_features, bottleneck_dim, n_classes : int
    beta : float >= 0 or callable ``epoch -> beta`` (see :class:`BetaSchedule`)
    n_samples : int, reparameterised draws per input
    tap : int
    random_state : seed of the heads' initial weights

    Examples
    --------
    >>> vib = VariationalIB(4, 2, 3, beta=1e-3).eval()
    >>> loss = vib(torch.zeros(5, 4), torch.tensor([0, 1, 2, 0, 1]))
    >>> sorted(loss.parts)[:3], vib.predict([torch.zeros(5, 4)]).shape
    (['I_TY_lower_nats', 'I_XT_upper_nats', 'accuracy'], torch.Size([5, 3]))
    """

    def __init__(
        self,
        in_features: int,
        bottleneck_dim: int,
        n_classes: int,
        beta: BetaLike = 1e-3,
        *,
        n_samples: int = 1,
        tap: int = -1,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        super().__init__(n_classes, beta, tap)
        check_scalar(in_features, "in_features", kind=int, low=1)
        check_scalar(bottleneck_dim, "bottleneck_dim", kind=int, low=1)
        check_scalar(n_samples, "n_samples", kind=int, low=1)
        seed = int(check_random_state(random_state).integers(2**31 - 1))
        gen = torch.Generator().manual_seed(seed)
        self.in_features, self.bottleneck_dim, self.n_samples = (
            in_features,
            bottleneck_dim,
            n_samples,
        )
        self.encoder = _seeded_linear(in_features, 2 * bottleneck_dim, gen)
        self.decoder = _seeded_linear(bottleneck_dim, n_classes, gen)

    def encode(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of :math:`p(t\\mid x)`, each (n_samples, bottleneck_dim)."""
        if h.shape[1] != self.in_features:
            raise ValueError(
                f"features: expected {self.in_features} features at tap {self.tap}, got "
                f"shape {tuple(h.shape)}"
            )
        mu, s = self.encoder(h).chunk(2, dim=1)
        return mu, F.softplus(s - 5.0) + 1e-8

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        h = _in_dtype(check_tensor(self.select(features), "features", ndim=2), self)
        y = self._labels(targets, h.shape[0], h.device)
        mu, std = self.encode(h)
        try:
            kl = gaussian_kl_to_standard(mu, std)
        except ValueError:  # the encoder's output overflowed: name what the caller passed
            refuse_overflow(torch.tensor(math.inf), h, "features")
            raise
        if self.training:
            eps = torch.randn((self.n_samples, *mu.shape), dtype=mu.dtype, device=mu.device)
            logits = self.decoder(mu + std * eps).reshape(-1, self.n_classes)
            y = y.repeat(self.n_samples)
        else:
            logits = self.decoder(mu)
        return self._loss(logits, y, kl, kl, h)

    def predict(self, features: Features) -> torch.Tensor:
        """Logits of the mean code, shape (n_samples, n_classes)."""
        return self.decoder(self.encode(self.select(features))[0])


class NonlinearIB(_InformationBottleneck):
    r"""Nonlinear IB (Kolchinsky, Tracey & Wolpert 2019): Gaussian noise on a layer, KDE bound.

    The tap ``h`` (shape (n_samples, bottleneck_dim)) becomes :math:`T = h + \sigma\epsilon`; a
    decoder (linear, or one hidden ReLU layer) predicts the class from :math:`T`.
    ``loss = CE + β·Î(X;T)`` with :func:`kde_upper_bound_mutual_information`, or ``CE + β·Î(X;T)²`` with
    ``squared=True`` (Kolchinsky, Tracey & Van Kuyk 2019: needed to trace the IB curve when
    :math:`Y` is a deterministic function of :math:`X`).

    Parameters
    ----------
    bottleneck_dim, n_classes : int
    beta : float >= 0 or callable ``epoch -> beta``
    noise_variance : float > 0, :math:`\sigma^2`
    trainable_variance : bool, learn :math:`\log\sigma^2` too
    squared : bool
    decoder_hidden : int, optional, width of the decoder's hidden layer
    tap : int
    random_state : seed of the decoder's initial weights

    ``parts`` add ``noise_variance``. ``eval()`` decodes the noise-free ``h``.
    """

    def __init__(
        self,
        bottleneck_dim: int,
        n_classes: int,
        beta: BetaLike = 1e-2,
        *,
        noise_variance: float = 1.0,
        trainable_variance: bool = False,
        squared: bool = False,
        decoder_hidden: int | None = None,
        tap: int = -1,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        super().__init__(n_classes, beta, tap)
        check_scalar(bottleneck_dim, "bottleneck_dim", kind=int, low=1)
        check_scalar(noise_variance, "noise_variance", low=0, low_inclusive=False)
        log_var = torch.tensor(math.log(noise_variance))
        if trainable_variance:
            self.log_noise_variance = nn.Parameter(log_var)
        else:
            self.register_buffer("log_noise_variance", log_var)
        self.bottleneck_dim, self.squared = bottleneck_dim, bool(squared)
        seed = int(check_random_state(random_state).integers(2**31 - 1))
        gen = torch.Generator().manual_seed(seed)
        if decoder_hidden is None:
            self.decoder = _seeded_linear(bottleneck_dim, n_classes, gen)
        else:
            check_scalar(decoder_hidden, "decoder_hidden", kind=int, low=1)
            self.decoder = nn.Sequential(
                _seeded_linear(bottleneck_dim, decoder_hidden, gen),
                nn.ReLU(),
                _seeded_linear(decoder_hidden, n_classes, gen),
            )

    @property
    def noise_variance(self) -> torch.Tensor:
        return self.log_noise_variance.exp()

    def _bottleneck(self, features: Features) -> torch.Tensor:
        h = _in_dtype(check_tensor(self.select(features), "features", ndim=2), self)
        if h.shape[1] != self.bottleneck_dim:
            raise ValueError(
                f"features: expected {self.bottleneck_dim} features at tap {self.tap}, got "
                f"shape {tuple(h.shape)}"
            )
        return h

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        h = self._bottleneck(features)
        y = self._labels(targets, h.shape[0], h.device)
        var = self.noise_variance.to(h.dtype)
        i_xt = kde_upper_bound_mutual_information(h, var)
        # noise drawn in row-major order whatever h's memory layout, so a seed fixes the loss
        noise = torch.randn(h.shape, dtype=h.dtype, device=h.device) if self.training else 0.0
        T = h + var.sqrt() * noise
        loss = self._loss(self.decoder(T), y, i_xt**2 if self.squared else i_xt, i_xt, h)
        loss.parts["noise_variance"] = var.detach().item()
        return loss

    def predict(self, features: Features) -> torch.Tensor:
        """Logits of the noise-free bottleneck, shape (n_samples, n_classes)."""
        return self.decoder(self._bottleneck(features))
