r"""Dictionary learning under a group-lasso penalty: atoms of one group are used together.

.. math:: \min_{D,\,\{a_i\}} \frac1n\sum_i \tfrac12\|x_i - a_i D\|_2^2
          + \lambda\sum_g \|a_{i,g}\|_2, \qquad \|d_k\|_2 \le 1,

learned by the online alternating scheme of Mairal, Bach, Ponce & Sapiro (2010, "Online learning
for matrix factorization and sparse coding", JMLR, Algorithms 1-2) with group-lasso codes
(:func:`structlearn.utils.spams.group_sparse_encode`, SPAMS ``fistaFlat``) in place of lasso codes.
SPAMS's own ``trainDL`` learns only :math:`\ell_1`/:math:`\ell_0` dictionaries. The group lasso is
the sparse-coding relative of independent subspace analysis (Hyvärinen & Hoyer 2000; see
:mod:`structlearn.models.isa` for ISA itself): both score a group by the norm of its coefficients.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from structlearn.models.blocks import check_features, check_fitted_features
from structlearn.utils.spams import group_sparse_encode
from structlearn.utils.validation import check_array, check_random_state, check_scalar

__all__ = [
    "GroupDictionary",
    "GroupSparseDictionary",
    "group_lasso_energy",
    "train_group_dictionary",
]


@dataclass
class GroupDictionary:
    """A dictionary learned under a group-lasso penalty.

    Attributes
    ----------
    components : ndarray (n_atoms, n_features), atoms as rows, :math:`\\|d_k\\| \\le 1`
    groups : ndarray of int (n_atoms,), group of each atom (consecutive runs)
    energy : ndarray (n_iter,), the energy of each iteration's batch at its codes, before the
        dictionary update (squared error plus penalty, in squared input units)
    """

    components: np.ndarray
    groups: np.ndarray
    energy: np.ndarray


def group_lasso_energy(
    X: np.ndarray, D: np.ndarray, A: np.ndarray, groups: np.ndarray, lambda1: float
) -> float:
    r"""Mean over samples of :math:`\tfrac12\|x - aD\|^2 + \lambda\sum_g\|a_g\|_2`.

    Parameters
    ----------
    X : (n_samples, n_features); D : (n_atoms, n_features); A : (n_samples, n_atoms)
    groups : (n_atoms,) int; lambda1 : float

    >>> group_lasso_energy(np.ones((1, 2)), np.eye(2), np.array([[3.0, 4.0]]), np.array([0, 0]), 1.0)
    11.5
    """
    residual = 0.5 * np.sum((X - A @ D) ** 2, axis=1)
    norms = np.sqrt(
        np.stack([np.sum(A[:, groups == g] ** 2, axis=1) for g in np.unique(groups)], 1)
    )
    return float(np.mean(residual + lambda1 * norms.sum(axis=1)))


def _update_atoms(D: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    r"""One sweep of block coordinate descent on the atoms (Mairal et al. 2010, Algorithm 2):
    :math:`d_j \leftarrow \Pi_{\|d\|\le 1}\big(d_j + (B_j - A_j D)/A_{jj}\big)` with
    :math:`A = \overline{a^\top a}`, :math:`B = \overline{a^\top x}`; atoms never used are kept."""
    D = D.copy()
    for j in range(D.shape[0]):
        if A[j, j] <= 1e-12:
            continue
        u = D[j] + (B[j] - A[j] @ D) / A[j, j]
        D[j] = u / max(float(np.linalg.norm(u)), 1.0)
    return D


def _initial_atoms(X: np.ndarray, n_atoms: int, init: Any, rng: np.random.Generator) -> np.ndarray:
    if init is None:
        norms = np.linalg.norm(X, axis=1)
        live = np.flatnonzero(norms > 1e-12)
        if live.size == 0:
            raise ValueError("X: every sample is zero; a dictionary needs non-zero samples")
        pick = rng.choice(live, size=n_atoms, replace=live.size < n_atoms)
        return X[pick] / norms[pick, None]
    D = check_array(init, "init", ndim=2)
    if D.shape != (n_atoms, X.shape[1]) or not np.all(np.linalg.norm(D, axis=1) > 0):
        raise ValueError(
            f"init: expected non-zero atoms of shape ({n_atoms}, {X.shape[1]}), got {D.shape}"
        )
    return D / np.linalg.norm(D, axis=1, keepdims=True)


def train_group_dictionary(
    X: Any,
    n_atoms: int,
    group_size: int,
    *,
    lambda1: float,
    n_iter: int = 100,
    batch_size: int = 512,
    forget_window: int = 20,
    code_iter: int = 100,
    init: Any = None,
    random_state: int | np.random.Generator | None = 0,
) -> GroupDictionary:
    r"""Learn a dictionary under the group-lasso penalty by online alternating minimisation.

    Each iteration draws a batch (all of ``X`` when ``batch_size >= n_samples``), codes it with
    :func:`~structlearn.utils.spams.group_sparse_encode` against the current atoms, folds
    :math:`a^\top a` and :math:`a^\top x` into running averages that forget after
    ``forget_window`` iterations (weight :math:`\max(1/t, 1/\text{window})` for the new batch),
    and updates the atoms by one sweep of block coordinate descent under :math:`\|d_k\|\le 1`.
    With the whole data set as the batch and ``forget_window=1`` it is plain alternating
    minimisation and the energy never increases (up to the coding solver's tolerance).

    Parameters
    ----------
    X : array (n_samples, n_features)
    n_atoms : int, a multiple of ``group_size``
    group_size : int >= 1, atoms per group (consecutive atoms form a group)
    lambda1 : float > 0
    n_iter, batch_size, forget_window, code_iter : int >= 1
    init : array (n_atoms, n_features), optional
        Initial atoms (normalised); default: normalised random samples of ``X``.
    random_state : int, Generator or None (initial atoms and batches)

    Returns
    -------
    GroupDictionary

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.laplace(size=(300, 6))
    >>> res = train_group_dictionary(X, 6, 2, lambda1=0.2, n_iter=5, batch_size=300,
    ...                              forget_window=1)
    >>> res.components.shape, bool(np.all(np.diff(res.energy) <= 1e-6))
    ((6, 6), True)
    """
    X = check_array(X, "X", min_samples=2)
    check_scalar(group_size, "group_size", kind=numbers.Integral, low=1)
    check_scalar(n_atoms, "n_atoms", kind=numbers.Integral, low=1)
    if n_atoms % group_size:
        raise ValueError(
            f"n_atoms: expected a multiple of group_size={group_size}, got n_atoms={n_atoms}"
        )
    check_scalar(lambda1, "lambda1", low=0, low_inclusive=False)
    for name, v in (
        ("n_iter", n_iter),
        ("batch_size", batch_size),
        ("forget_window", forget_window),
        ("code_iter", code_iter),
    ):
        check_scalar(v, name, kind=numbers.Integral, low=1)
    rng = check_random_state(random_state)
    n, n_features = X.shape
    groups = np.arange(n_atoms) // group_size
    D = _initial_atoms(X, n_atoms, init, rng)
    A = np.zeros((n_atoms, n_atoms))
    B = np.zeros((n_atoms, n_features))
    energy = []
    for t in range(1, n_iter + 1):
        batch = X if batch_size >= n else X[rng.choice(n, size=batch_size, replace=False)]
        codes = group_sparse_encode(batch, D, groups, lambda1=lambda1, max_iter=code_iter, tol=1e-6)
        energy.append(group_lasso_energy(batch, D, codes, groups, lambda1))
        w = max(1.0 / t, 1.0 / forget_window)
        A = (1 - w) * A + w * (codes.T @ codes) / len(batch)
        B = (1 - w) * B + w * (codes.T @ batch) / len(batch)
        D = _update_atoms(D, A, B)
    return GroupDictionary(components=D, groups=groups, energy=np.asarray(energy))


class GroupSparseDictionary(TransformerMixin, BaseEstimator):
    """scikit-learn estimator around :func:`train_group_dictionary`; ``transform`` gives the codes.

    Parameters
    ----------
    n_atoms : int, a multiple of ``group_size``
    group_size : int >= 1, consecutive atoms per group
    lambda1 : float > 0, the group-lasso weight (relative to the data's scale)
    n_iter, batch_size, forget_window : int >= 1 (see :func:`train_group_dictionary`)
    code_iter : int >= 1, FISTA iterations per group-lasso coding
    random_state : int, Generator or None

    Attributes
    ----------
    components_ : ndarray (n_atoms, n_features), atoms as rows
    groups_ : ndarray (n_atoms,), group of each atom
    energy_ : ndarray (n_iter,), batch energies during learning
    n_features_in_ : int

    Examples
    --------
    >>> X = np.random.default_rng(0).laplace(size=(200, 6))
    >>> gsd = GroupSparseDictionary(6, 2, lambda1=0.2, n_iter=5, random_state=0).fit(X)
    >>> gsd.transform(X).shape, gsd.pool(X).shape
    ((200, 6), (200, 3))
    """

    def __init__(
        self,
        n_atoms: int = 8,
        group_size: int = 2,
        *,
        lambda1: float = 0.1,
        n_iter: int = 50,
        batch_size: int = 256,
        forget_window: int = 20,
        code_iter: int = 50,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_atoms = n_atoms
        self.group_size = group_size
        self.lambda1 = lambda1
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.forget_window = forget_window
        self.code_iter = code_iter
        self.random_state = random_state

    def fit(self, X: Any, y: None = None) -> GroupSparseDictionary:
        """Learn the atoms from X (n_samples, n_features)."""
        X = check_features(X)
        if X.shape[0] < 2:
            raise ValueError(f"X: got {X.shape[0]} sample; a dictionary needs at least 2 samples")
        res = train_group_dictionary(
            X,
            self.n_atoms,
            self.group_size,
            lambda1=self.lambda1,
            n_iter=self.n_iter,
            batch_size=self.batch_size,
            forget_window=self.forget_window,
            code_iter=self.code_iter,
            random_state=self.random_state,
        )
        self.components_, self.groups_, self.energy_ = res.components, res.groups, res.energy
        self.n_features_in_ = X.shape[1]
        self.input_shape_ = X.shape[1:]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Group-lasso codes of X (n_samples, n_features): (n_samples, n_atoms)."""
        X = check_fitted_features(self, X)
        return group_sparse_encode(
            X, self.components_, self.groups_, lambda1=self.lambda1, max_iter=self.code_iter
        )

    def pool(self, X: Any) -> np.ndarray:
        """l2 norm of each group's codes, (n_samples, n_atoms // group_size)."""
        A = self.transform(X)
        return np.sqrt((A**2).reshape(len(A), -1, self.group_size).sum(axis=2))
