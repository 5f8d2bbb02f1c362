r"""Sparse coding (efficient coding): the energy, its inference by FISTA or SPAMS, and group sparsity.

Implements Olshausen & Field (1996), "Emergence of simple-cell receptive field properties by
learning a sparse code for natural images", with inference by FISTA (Beck & Teboulle 2009, "A fast
iterative shrinkage-thresholding algorithm for linear inverse problems") in torch, or by SPAMS's
LARS ``lasso`` (Mairal, Bach, Ponce & Sapiro 2010) as the fast CPU path. The group form (Yuan & Lin
2006, group lasso; Hyvärinen & Hoyer 2001 for groups of filters in vision) puts an
:math:`\ell_1` norm over the :math:`\ell_2` norms of groups of codes.

For signals :math:`x` (rows of ``X``), a dictionary ``D`` of unit-norm atoms (rows) and codes
:math:`a` (rows of ``A``):

.. math::

    E(A, D) = \frac1n\sum_n \tfrac12\|x_n - a_n D\|_2^2 + \lambda\,\Omega(a_n),\qquad
    \Omega(a) = \|a\|_1 \;\text{ or }\; \sum_g \|a_g\|_2 .
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from structlearn.objectives.base import Features, Loss, Objective, common_float, refuse_overflow
from structlearn.utils import spams as spams_wrappers
from structlearn.utils.validation import (
    check_option,
    check_random_state,
    check_scalar,
    check_tensor,
)

__all__ = [
    "SparseCoding",
    "fista",
    "normalize_atoms",
    "sparse_code",
    "sparse_coding_energy",
]


def normalize_atoms(D: torch.Tensor) -> torch.Tensor:
    """Scale every atom (row of ``D``, shape (n_atoms, n_features)) to unit l2 norm."""
    return F.normalize(D, dim=1)


def _group_index(groups: torch.Tensor | np.ndarray | None, n_atoms: int) -> torch.Tensor | None:
    if groups is None:
        return None
    g = spams_wrappers.check_groups(np.asarray(groups), n_atoms) - 1  # validated, 0-based
    return torch.as_tensor(g, dtype=torch.long)


def _penalty(A: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
    """Per-sample penalty Ω(a): l1, or the sum over groups of the groups' l2 norms."""
    if groups is None:
        return A.abs().sum(1)
    return _group_norms(A, groups.to(A.device)).sum(1)


def _check_problem(X, D, lambda1, A=None):
    X = check_tensor(X, "X", ndim=2)
    D = check_tensor(D, "D", ndim=2)
    if D.shape[1] != X.shape[1]:
        raise ValueError(
            f"D: expected shape (n_atoms, {X.shape[1]}) to match X's features, got {tuple(D.shape)}"
        )
    check_scalar(lambda1, "lambda1", low=0)
    if A is not None:
        A = check_tensor(A, "A", ndim=2)
        if A.shape != (X.shape[0], D.shape[0]):
            raise ValueError(
                f"A: expected shape (n_samples, n_atoms) = {(X.shape[0], D.shape[0])}, "
                f"got {tuple(A.shape)}"
            )
    X, D, A = common_float(X, D, A)
    return X, D, A


def sparse_coding_energy(
    X: torch.Tensor,
    D: torch.Tensor,
    A: torch.Tensor,
    lambda1: float,
    *,
    groups: torch.Tensor | np.ndarray | None = None,
) -> torch.Tensor:
    r"""Mean energy :math:`\frac1n\sum_n \tfrac12\|x_n - a_nD\|^2 + \lambda\,\Omega(a_n)`.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
    D : Tensor of shape (n_atoms, n_features), atoms as rows (used as given)
    A : Tensor of shape (n_samples, n_atoms)
    lambda1 : float >= 0
    groups : int array of shape (n_atoms,), optional
        Group id of every atom (ids ``0..n_groups-1``); then :math:`\Omega` is the group norm.

    Examples
    --------
    >>> X, D = torch.tensor([[3.0, 0.0]]), torch.eye(2)
    >>> float(sparse_coding_energy(X, D, torch.tensor([[2.0, 0.0]]), 1.0))  # ½·1 + 1·2
    2.5
    """
    X, D, A = _check_problem(X, D, lambda1, A)
    return refuse_overflow(_energy(X, D, A, lambda1, groups), X, "X")


def _energy(X, D, A, lambda1, groups) -> torch.Tensor:
    g = _group_index(groups, D.shape[0])
    residual = X - A @ D
    return (0.5 * residual.pow(2).sum(1) + lambda1 * _penalty(A, g)).mean()


def _prox(V: torch.Tensor, threshold: float, groups: torch.Tensor | None, positive: bool):
    if groups is None:
        if positive:
            return (V - threshold).clamp_min(0)
        return V.sign() * (V.abs() - threshold).clamp_min(0)
    if positive:
        V = V.clamp_min(0)
    norms = _group_norms(V, groups).clamp_min(1e-300)
    shrink = (1 - threshold / norms).clamp_min(0)
    return V * shrink[:, groups]


def _group_norms(V: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """l2 norm of every group of codes, shape (n_samples, n_groups)."""
    sq = V.new_zeros(V.shape[0], int(groups.max()) + 1).index_add_(1, groups, V * V)
    return sq.sqrt()


def fista(
    X: torch.Tensor,
    D: torch.Tensor,
    lambda1: float,
    *,
    groups: torch.Tensor | np.ndarray | None = None,
    positive: bool = False,
    max_iter: int = 1000,
    tol: float = 1e-7,
) -> torch.Tensor:
    r"""Codes minimising the sparse-coding energy, by FISTA (Beck & Teboulle 2009), in torch.

    Step :math:`1/L` with :math:`L = \lambda_{\max}(DD^\top)`; the proximal step is soft
    thresholding (or group shrinkage :math:`a_g \leftarrow a_g\max(0, 1 - \lambda/(L\|a_g\|))`).
    Stops when no code moves by more than ``tol`` (relative to the largest code); warns if
    ``max_iter`` is reached first.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
    D : Tensor of shape (n_atoms, n_features)
    lambda1 : float >= 0
    groups : int array of shape (n_atoms,), optional
    positive : bool, constrain codes to be non-negative
    max_iter : int, tol : float

    Returns
    -------
    A : Tensor of shape (n_samples, n_atoms), no gradient.

    Examples
    --------
    >>> fista(torch.tensor([[3.0, 0.5, -2.0]]), torch.eye(3), 1.0)  # soft thresholding
    tensor([[ 2.,  0., -1.]])
    """
    X, D, _ = _check_problem(X, D, lambda1)
    check_scalar(max_iter, "max_iter", kind=int, low=1)
    check_scalar(tol, "tol", low=0, low_inclusive=False)
    g = _group_index(groups, D.shape[0])
    with torch.no_grad():
        A, step = _fista(
            X, D, lambda1, None if g is None else g.to(X.device), positive, max_iter, tol
        )
    if step is not None:
        warnings.warn(
            f"fista: not converged after max_iter={max_iter} iterations (last step {step:.2g} > "
            f"tol={tol}); raise max_iter, loosen tol, or use method='spams'",
            RuntimeWarning,
            stacklevel=2,
        )
    return A


def _fista(X, D, lambda1, g, positive, max_iter, tol):
    """FISTA with gradient-based adaptive restart (O'Donoghue & Candès 2015); returns the codes
    and ``None``, or the last step size when ``max_iter`` ran out."""
    gram = D @ D.T
    lipschitz = float(torch.linalg.eigvalsh(gram.double()).max().clamp_min(1e-12))
    corr = X @ D.T
    A = torch.zeros_like(corr)
    Y, t = A, 1.0
    for _ in range(max_iter):
        A_next = _prox(Y - (Y @ gram - corr) / lipschitz, lambda1 / lipschitz, g, positive)
        if float(((Y - A_next) * (A_next - A)).sum()) > 0:  # momentum points uphill: restart
            t = 1.0
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        Y = A_next + ((t - 1) / t_next) * (A_next - A)
        step = float((A_next - A).abs().max())
        A, t = A_next, t_next
        if step <= tol * max(1.0, float(A.abs().max())):
            return A, None
    return A, step


def sparse_code(
    X: torch.Tensor,
    D: torch.Tensor,
    lambda1: float,
    *,
    groups: torch.Tensor | np.ndarray | None = None,
    method: str = "fista",
    max_iter: int = 1000,
    tol: float = 1e-7,
) -> torch.Tensor:
    """Codes of ``X`` (n_samples, n_features) against atoms ``D`` (n_atoms, n_features).

    ``method="fista"`` runs :func:`fista` in torch (any device); ``method="spams"`` calls SPAMS
    (``lasso`` by LARS, or ``fistaFlat`` with ``group-lasso-l2`` for groups) on the CPU, through the
    validating wrappers of :mod:`structlearn.utils.spams`. Both minimise the same energy; they
    agree to the solvers' tolerance. Returns a tensor of shape (n_samples, n_atoms), no gradient.
    """
    check_option(method, "method", ["fista", "spams"])
    if method == "fista":
        return fista(X, D, lambda1, groups=groups, max_iter=max_iter, tol=tol)
    X, D, _ = _check_problem(X, D, lambda1)
    if lambda1 <= 0:
        raise ValueError(f"lambda1: SPAMS needs a value > 0, got {lambda1}; use method='fista'")
    Xn, Dn = X.detach().cpu().double().numpy(), D.detach().cpu().double().numpy()
    if groups is None:
        A = spams_wrappers.sparse_encode(Xn, Dn, lambda1=lambda1)
    else:
        A = spams_wrappers.group_sparse_encode(
            Xn, Dn, np.asarray(groups), lambda1=lambda1, max_iter=max_iter, tol=tol
        )
    return torch.as_tensor(A, dtype=X.dtype, device=X.device)


class SparseCoding(Objective):
    r"""Sparse-coding energy of the features under a learned dictionary of unit-norm atoms.

    The objective holds the dictionary ``D`` (parameter of shape (n_atoms, n_features), atoms
    renormalised to unit norm in every forward pass); for each batch it infers the codes (no
    gradient) and returns the energy at those codes, whose gradient reaches ``D`` (dictionary
    learning, Olshausen & Field 1996) and the features (envelope theorem: :math:`x - aD`).

    Parameters
    ----------
    n_features, n_atoms : int
    lambda1 : float > 0
    groups : int array of shape (n_atoms,), optional (group sparse coding)
    method : {"fista", "spams"}
    max_iter, tol : FISTA / group-SPAMS settings
    tap : int
    random_state : seed of the initial dictionary

    ``parts``: ``energy``, ``reconstruction_mse`` (mean squared residual per sample),
    ``penalty`` (mean Ω), ``fraction_nonzero`` (codes).
    """

    def __init__(
        self,
        n_features: int,
        n_atoms: int,
        lambda1: float = 0.1,
        *,
        groups: np.ndarray | None = None,
        method: str = "fista",
        max_iter: int = 1000,
        tol: float = 1e-5,
        tap: int = -1,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        super().__init__(tap=tap)
        check_scalar(n_features, "n_features", kind=int, low=1)
        check_scalar(n_atoms, "n_atoms", kind=int, low=1)
        check_scalar(lambda1, "lambda1", low=0, low_inclusive=False)
        self.method = check_option(method, "method", ["fista", "spams"])
        self.groups = None if groups is None else _group_index(groups, n_atoms).numpy()
        self.lambda1, self.max_iter, self.tol = lambda1, max_iter, tol
        D0 = check_random_state(random_state).standard_normal((n_atoms, n_features))
        self.weight = nn.Parameter(torch.as_tensor(D0, dtype=torch.float32))

    @property
    def dictionary(self) -> torch.Tensor:
        """Unit-norm atoms, shape (n_atoms, n_features)."""
        return normalize_atoms(self.weight)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """Codes of ``X`` (n_samples, n_features), shape (n_samples, n_atoms), no gradient."""
        D = self.dictionary.detach().to(X.dtype)
        return sparse_code(
            X.detach(),
            D,
            self.lambda1,
            groups=self.groups,
            method=self.method,
            max_iter=self.max_iter,
            tol=self.tol,
        )

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        X = check_tensor(self.select(features), "features", ndim=2)
        A = self.encode(X)
        D = self.dictionary.to(X.dtype)
        energy = refuse_overflow(_energy(X, D, A, self.lambda1, self.groups), X, "features")
        with torch.no_grad():
            mse = (X - A @ D).pow(2).sum(1).mean().item()
            penalty = _penalty(A, None if self.groups is None else torch.as_tensor(self.groups))
        parts = {
            "energy": energy.detach().item(),
            "reconstruction_mse": mse,
            "penalty": penalty.mean().item(),
            "fraction_nonzero": (A != 0).double().mean().item(),
        }
        return Loss(energy, parts)
