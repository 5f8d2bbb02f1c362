r"""InfoMax objectives, in nats: Gaussian-channel entropy and Bell–Sejnowski ICA.

Implements Linsker (1988), "Self-organization in a perceptual network" (the InfoMax principle;
for a Gaussian channel the information a layer carries is a log-determinant), and Bell & Sejnowski
(1995), "An information-maximization approach to blind separation and blind deconvolution"
(entropy of the squashed outputs :math:`y = g(Wx + b)` of a linear layer).

* :func:`gaussian_channel_entropy`: :math:`H = \tfrac12\log\det(2\pi e\,\Sigma)` of the features' Gaussian
  fit. Unbounded under rescaling, so InfoMax needs a *variance constraint*: with ``variance=v``
  every feature is first standardised to variance ``v``, which bounds
  :math:`H \le \tfrac d2\log(2\pi e v)` (Hadamard), with equality iff the features are
  uncorrelated. ``ridge`` adds :math:`\sigma^2 I` to :math:`\Sigma` (the entropy of the features
  plus independent Gaussian noise of variance :math:`\sigma^2`: a Gaussian channel).
* :func:`infomax_ica_objective`: :math:`H(y) - H(x) = \tfrac12\log\det(W^\top W) +
  \mathbb E\sum_i \log g'(u_i)`, :math:`u = Wx + b`. For a square ``W`` the first term is
  :math:`\log|\det W|` (Bell & Sejnowski); for an overcomplete ``W`` (more outputs than inputs) the
  outputs lie on a ``d_in``-dimensional subspace and :math:`\tfrac12\log\det(W^\top W)` is the
  log-volume of that embedding (the Jacobian's pseudo-determinant). Undercomplete layers are
  refused (reduce the input with PCA first).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from structlearn.objectives._linalg import logdet_spd
from structlearn.objectives.base import Features, Loss, Objective, common_float, refuse_overflow
from structlearn.utils.validation import (
    check_option,
    check_random_state,
    check_scalar,
    check_tensor,
)

__all__ = [
    "NONLINEARITIES",
    "GaussianInfoMax",
    "InfoMaxICA",
    "gaussian_channel_entropy",
    "gaussian_entropy",
    "infomax_ica_objective",
]


# --------------------------------------------------------------------------- Gaussian channel


def gaussian_channel_entropy(
    Z: torch.Tensor, *, variance: float | None = None, ridge: float = 0.0
) -> torch.Tensor:
    r"""Entropy of the Gaussian fit to ``Z``: :math:`\tfrac12\log\det(2\pi e(\Sigma + rI))` in nats.

    Parameters
    ----------
    Z : Tensor of shape (n_samples, n_features)
    variance : float > 0, optional
        Standardise each feature to this variance first (the InfoMax variance constraint, which
        bounds the entropy by :math:`\tfrac d2\log(2\pi e\,\mathrm{variance})`).
    ridge : float >= 0
        Variance :math:`r` of independent Gaussian noise added to every feature.

    Returns
    -------
    Tensor, scalar; :math:`\Sigma` is the maximum-likelihood covariance (divides by n_samples).
    A singular covariance with ``ridge=0`` raises ``ValueError`` (its entropy is :math:`-\infty`).

    Examples
    --------
    >>> Z = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]], dtype=torch.float64)
    >>> float(gaussian_channel_entropy(Z))  # Σ = diag(0.5, 2): log(2πe)
    2.837877...
    """
    Z = check_tensor(Z, "Z", ndim=2, min_samples=2)
    if variance is not None:
        check_scalar(variance, "variance", low=0, low_inclusive=False)
    check_scalar(ridge, "ridge", low=0)
    m, d = Z.shape
    centred = Z - Z.mean(0, keepdim=True)
    if variance is not None:
        std = centred.pow(2).mean(0).add(1e-12).sqrt()
        centred = centred * (math.sqrt(variance) / std)
    centred = centred.double()  # float32 squares of x1e30 input would overflow
    cov = (centred.T @ centred) / m
    cov = cov + ridge * torch.eye(d, dtype=cov.dtype, device=cov.device)
    if ridge == 0 and m <= d:
        raise ValueError(
            f"Z: the covariance of {m} samples in {d} dimensions is singular (entropy -inf); "
            "pass ridge > 0 (a noise variance) or use more samples than features"
        )
    try:
        h = 0.5 * logdet_spd(2 * math.pi * math.e * cov)
    except ValueError:
        h = torch.tensor(-math.inf)
    if not torch.isfinite(h):
        raise ValueError("Z: singular covariance (entropy -inf); pass ridge > 0")
    return h.to(Z.dtype)


def gaussian_entropy(Z: torch.Tensor, **kwargs: float | None) -> torch.Tensor:
    """Deprecated alias of :func:`gaussian_channel_entropy` (warns): a differentiable objective,
    not the estimator :func:`structlearn.estimators.gaussian_entropy` of the same old name."""
    warnings.warn(
        "structlearn.objectives.gaussian_entropy is deprecated; use gaussian_channel_entropy "
        "(same arguments)",
        DeprecationWarning,
        stacklevel=2,
    )
    return gaussian_channel_entropy(Z, **kwargs)


class GaussianInfoMax(Objective):
    r"""InfoMax for a Gaussian channel: ``loss.total = -gaussian_channel_entropy(features)`` (Linsker 1988).

    Parameters
    ----------
    variance : float > 0
        Per-feature variance constraint (keeps the objective bounded).
    ridge : float >= 0
        Channel noise variance added to every feature.
    tap : int

    ``parts``: ``entropy_nats`` and ``entropy_bound_nats`` (:math:`\tfrac d2\log(2\pi e(v + r))`,
    reached by uncorrelated features).
    """

    def __init__(self, variance: float = 1.0, *, ridge: float = 1e-3, tap: int = -1) -> None:
        super().__init__(tap=tap)
        check_scalar(variance, "variance", low=0, low_inclusive=False)
        check_scalar(ridge, "ridge", low=0)
        self.variance = variance
        self.ridge = ridge

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        Z = self.select(features)
        h = gaussian_channel_entropy(Z, variance=self.variance, ridge=self.ridge)
        bound = 0.5 * Z.shape[1] * math.log(2 * math.pi * math.e * (self.variance + self.ridge))
        return Loss(-h, {"entropy_nats": h.detach().item(), "entropy_bound_nats": bound})


# --------------------------------------------------------------------------- Bell–Sejnowski ICA


def _log_dgrad_logistic(u: torch.Tensor) -> torch.Tensor:
    # g = sigmoid, g' = sigmoid(u) sigmoid(-u): log g' = -softplus(-u) - softplus(u)
    return -F.softplus(u) - F.softplus(-u)


def _log_dgrad_sech(u: torch.Tensor) -> torch.Tensor:
    # g' = 1 / (pi cosh u): log cosh u = |u| + softplus(-2|u|) - log 2, stable for large |u|
    a = u.abs()
    return -(a + F.softplus(-2 * a) - math.log(2)) - math.log(math.pi)


NONLINEARITIES = {"logistic": _log_dgrad_logistic, "sech": _log_dgrad_sech}
"""``log g'`` of the squashing functions: ``logistic`` (Bell & Sejnowski's, the logistic density,
excess kurtosis 1.2) and ``sech`` (:math:`g' = 1/(\\pi\\cosh u)`, the hyperbolic-secant density,
excess kurtosis 2: a more super-Gaussian prior for sparse sources)."""


def infomax_ica_objective(
    X: torch.Tensor,
    W: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    nonlinearity: str = "logistic",
) -> torch.Tensor:
    r"""Bell–Sejnowski entropy gain :math:`H(y) - H(x)` (nats) of :math:`y = g(XW^\top + b)`.

    .. math:: \tfrac12\log\det(W^\top W) + \frac1n\sum_{n,i}\log g'(u_{ni}),\quad U = XW^\top + b

    Maximising it is maximum-likelihood ICA with source density :math:`g'`.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
    W : Tensor of shape (n_components, n_features), ``n_components >= n_features``
        Unmixing matrix in ``nn.Linear.weight`` orientation (one filter per row).
    bias : Tensor of shape (n_components,), optional
    nonlinearity : {"logistic", "sech"}

    Examples
    --------
    >>> X = torch.zeros(5, 2, dtype=torch.float64)
    >>> float(infomax_ica_objective(X, torch.eye(2, dtype=torch.float64)))  # 2 log g'(0) = 2 log 1/4
    -2.772588...
    """
    X = check_tensor(X, "X", ndim=2)
    W = check_tensor(W, "W", ndim=2)
    check_option(nonlinearity, "nonlinearity", NONLINEARITIES)
    if W.shape[1] != X.shape[1]:
        raise ValueError(
            f"W: expected shape (n_components, {X.shape[1]}) to match X's features, got "
            f"{tuple(W.shape)}"
        )
    if W.shape[0] < W.shape[1]:
        raise ValueError(
            f"W: expected a square or overcomplete unmixing matrix (n_components >= n_features), "
            f"got shape {tuple(W.shape)}; reduce X's dimension (e.g. PCA) first"
        )
    X, W, bias = common_float(X, W, bias)
    U = X @ W.T
    if bias is not None:
        U = U + bias
    volume = 0.5 * logdet_spd((W.T @ W).double(), "W")  # a zero W: ValueError naming W
    gain = volume + NONLINEARITIES[nonlinearity](U).sum(1).mean().double()
    return refuse_overflow(gain, X, "X").to(X.dtype)


class InfoMaxICA(Objective):
    r"""Bell–Sejnowski InfoMax on its own linear layer: ``loss.total = -(H(y) - H(x))``.

    The objective holds the unmixing layer ``W`` (``n_components × n_features``, initialised to the
    identity plus small noise, or to a random orthonormal frame when overcomplete); the trainer
    optimises ``objective.parameters()``. It reads ``features`` (the tap, or the data itself).

    Parameters
    ----------
    n_features, n_components : int, ``n_components >= n_features``
    nonlinearity : {"logistic", "sech"}
    bias : bool
    tap : int
    random_state : seed of the initial ``W``

    ``parts``: ``entropy_gain_nats`` (:math:`H(y)-H(x)`).

    Examples
    --------
    >>> ica = InfoMaxICA(2, random_state=0)
    >>> ica.transform(torch.ones(3, 2)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        n_features: int,
        n_components: int | None = None,
        *,
        nonlinearity: str = "logistic",
        bias: bool = True,
        tap: int = -1,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        super().__init__(tap=tap)
        check_scalar(n_features, "n_features", kind=int, low=1)
        n_components = n_features if n_components is None else n_components
        check_scalar(n_components, "n_components", kind=int, low=n_features)
        self.nonlinearity = check_option(nonlinearity, "nonlinearity", NONLINEARITIES)
        rng = check_random_state(random_state)
        noise = rng.standard_normal((n_components, n_features))
        if n_components == n_features:
            W0 = np.eye(n_features) + 0.01 * noise
        else:
            W0 = np.linalg.qr(noise)[0]
        self.weight = nn.Parameter(torch.as_tensor(W0, dtype=torch.float32))
        self.bias = nn.Parameter(torch.zeros(n_components)) if bias else None

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """Unmixed components :math:`u = XW^\\top + b`, shape (n_samples, n_components)."""
        U = X @ self.weight.T
        return U if self.bias is None else U + self.bias

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        X = check_tensor(self.select(features), "features", ndim=2)
        gain = infomax_ica_objective(
            X,
            self.weight.to(X.dtype),
            None if self.bias is None else self.bias.to(X.dtype),
            nonlinearity=self.nonlinearity,
        )
        return Loss(-gain, {"entropy_gain_nats": gain.detach().item()})
