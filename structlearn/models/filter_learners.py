"""One fully connected layer learned under each efficient-coding objective.

Every function takes data ``X`` of shape (n_samples, n_pixels) (whitened images or patches, flattened
row-major) and returns :class:`LearnedFilters`: the weight ``W`` of shape (n_filters, n_pixels),
whose rows are the filters, and ``encode(Z) -> codes`` of shape (n_samples, n_filters).

- :func:`sparse_coding_filters`: SPAMS online dictionary learning (Olshausen & Field 1996); codes by
  the lasso.
- :func:`ica_infomax_filters`: square Bell–Sejnowski InfoMax ICA (Bell & Sejnowski 1997) in the top
  principal subspace, whitened there.
- :func:`gaussian_infomax_filters`: a linear layer maximising the Gaussian channel's information
  (Linsker 1988): any decorrelating layer is optimal, so nothing pins the filters in space.
- :func:`mcr2_filters`: a linear layer maximising the coding rate reduction ΔR (Yu et al. 2020) of
  the given labels.
- :func:`pca_filters`: the principal axes (Hancock, Baddeley & Smith 1992).
- :func:`random_filters`: unit-norm Gaussian filters, the control with no structure.

The gradient-trained ones run :func:`structlearn.train.train` with the given
:class:`~structlearn.train.TrainConfig`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from structlearn.utils.validation import check_array, check_scalar


@dataclass(frozen=True)
class LearnedFilters:
    """A learned layer: ``W`` (n_filters, n_pixels) and ``encode(Z) -> (n_samples, n_filters)``."""

    W: np.ndarray
    encode: Callable[[np.ndarray], np.ndarray]


def _linear(W: np.ndarray) -> LearnedFilters:
    return LearnedFilters(W, lambda Z: np.asarray(Z) @ W.T)


def pca_components(X: np.ndarray, n: int, name: str = "n") -> np.ndarray:
    """Top ``n`` principal axes, shape (n, n_features), signs fixed; ``n`` above
    ``min(n_samples, n_features)`` is refused naming ``name`` (it was silently capped).

    ``eigh`` of the (n_features, n_features) covariance costs far less than an SVD of the data when
    n_samples >> n_features. Each axis's largest-magnitude entry is made positive, so the result
    is deterministic.

    >>> X = np.random.default_rng(0).standard_normal((500, 3)) * [3.0, 2.0, 1.0]
    >>> np.round(np.abs(pca_components(X, 2)), 1)
    array([[1., 0., 0.],
           [0., 1., 0.]])
    """
    X = check_array(X, "X", ndim=2, min_samples=2)
    check_scalar(n, name, kind=int, low=1, high=min(X.shape))
    Xc = X - X.mean(axis=0)
    top = float(np.abs(Xc).max())
    Xc = Xc / top if top > 1e100 else Xc  # the axes are scale-free; x1e300 overflowed eigh
    evals, evecs = np.linalg.eigh(Xc.T @ Xc / len(X))
    W = evecs[:, np.argsort(evals)[::-1][: min(n, *X.shape)]].T
    signs = np.sign(W[np.arange(len(W)), np.abs(W).argmax(axis=1)])
    return W * signs[:, None]


def pca_filters(X: np.ndarray, n_filters: int) -> LearnedFilters:
    """The principal axes as a layer (at most n_pixels of them)."""
    return _linear(pca_components(X, n_filters, "n_filters"))


def random_filters(n_filters: int, n_pixels: int, random_state: int = 0) -> LearnedFilters:
    """Unit-norm Gaussian filters, shape (n_filters, n_pixels): the control with no structure."""
    check_scalar(n_filters, "n_filters", kind=int, low=1)
    check_scalar(n_pixels, "n_pixels", kind=int, low=1)
    W = np.random.default_rng(random_state).standard_normal((n_filters, n_pixels))
    return _linear(W / np.linalg.norm(W, axis=1, keepdims=True))


def sparse_coding_filters(
    X: np.ndarray,
    n_filters: int,
    *,
    lambda1: float,
    n_iter: int,
    batch_size: int,
    random_state: int = 0,
) -> LearnedFilters:
    """SPAMS ``trainDL`` dictionary (atoms = filters) and lasso codes with the same ``lambda1``."""
    from structlearn.utils.spams import sparse_encode, train_dictionary

    D = train_dictionary(
        X, n_filters, lambda1=lambda1, n_iter=n_iter, batch_size=batch_size,
        random_state=random_state,
    )  # fmt: skip
    return LearnedFilters(D, lambda Z: sparse_encode(Z, D, lambda1=lambda1))


class _InputOnly(torch.nn.Module):
    """A model with no layer of its own: its one tap is the input (for objectives owning W)."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x]


def _trained_linear(X: np.ndarray, objective, n_out: int, config, y=None) -> np.ndarray:
    """Weight (n_out, n_features) of one bias-free linear layer trained under ``objective``."""
    from structlearn.models.mlp import MLP
    from structlearn.train import train

    model = MLP([X.shape[1], n_out], activation="linear", bias=False, random_state=config.seed)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    train(model, objective, (Xt,) if y is None else (Xt, torch.as_tensor(y)), config=config)
    return model.layers[0].weight.detach().double().numpy()


def ica_infomax_filters(
    X: np.ndarray, n_filters: int, *, nonlinearity: str, config
) -> LearnedFilters:
    """Square Bell–Sejnowski InfoMax in the top-``n_filters`` PCA subspace; filters in pixels."""
    from structlearn.objectives.infomax import InfoMaxICA
    from structlearn.train import train

    P = pca_components(X, n_filters, "n_filters")
    Xp = X @ P.T
    scale = Xp.std(axis=0)
    rank = int(np.sum(scale > 1e-6 * scale[0]))
    if rank < len(P):
        raise ValueError(
            f"n_filters: square ICA needs as many directions of variance as units, but the data "
            f"have rank {rank} < {len(P)} (e.g. a per-patch mean removed); use n_filters <= {rank}"
        )
    P = P / scale[:, None]  # unit-variance components, the usual input of InfoMax ICA
    ica = InfoMaxICA(P.shape[0], nonlinearity=nonlinearity, random_state=config.seed)
    train(_InputOnly(), ica, (torch.as_tensor(Xp / scale, dtype=torch.float32),), config=config)
    return _linear(ica.weight.detach().double().numpy() @ P)


def gaussian_infomax_filters(
    X: np.ndarray, n_filters: int, *, ridge: float, config
) -> LearnedFilters:
    """A linear layer maximising the Gaussian channel entropy at unit output variance."""
    from structlearn.objectives.infomax import GaussianInfoMax

    return _linear(
        _trained_linear(X, GaussianInfoMax(variance=1.0, ridge=ridge), n_filters, config)
    )


def mcr2_filters(
    X: np.ndarray, y: np.ndarray, n_filters: int, *, eps: float, config
) -> LearnedFilters:
    """A linear layer maximising ΔR of the labels ``y`` (values 0..k-1) at precision ``eps``."""
    from structlearn.objectives.coding_rate import MaximalCodingRateReduction

    objective = MaximalCodingRateReduction(eps=eps, n_classes=int(np.max(y)) + 1)
    return _linear(_trained_linear(X, objective, n_filters, config, y=y))


__all__ = [
    "LearnedFilters",
    "gaussian_infomax_filters",
    "ica_infomax_filters",
    "mcr2_filters",
    "pca_components",
    "pca_filters",
    "random_filters",
    "sparse_coding_filters",
]
