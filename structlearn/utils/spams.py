"""Safe wrappers around SPAMS (Mairal, Bach, Ponce, Sapiro 2010, "Online learning for matrix
factorization and sparse coding").

SPAMS takes signals as *columns* of Fortran-ordered float64 matrices and crashes the whole process
(a segfault, not an exception) on C-ordered or non-float64 input and on group structures that do not
fit. Every call here validates and converts first, so a crash is never the answer. Our convention is
the rest of the project's: samples are rows, ``X`` has shape ``(n_samples, n_features)`` and a
dictionary ``D`` has shape ``(n_atoms, n_features)`` (one atom per row).

SPAMS prints from C; :func:`silence_c_output` redirects the process's stdout/stderr file
descriptors while it runs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

import numpy as np

from structlearn.utils.validation import check_array, check_random_state, check_scalar


@contextlib.contextmanager
def silence_c_output() -> Iterator[None]:
    """Silence output written by C code to file descriptors 1 and 2 (and Python's streams)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _columns(X: np.ndarray) -> np.ndarray:
    """Samples-as-rows float64 -> SPAMS's samples-as-columns, Fortran-ordered float64."""
    return np.asfortranarray(np.asarray(X, dtype=np.float64).T)


def _n_threads(n_threads: int | None) -> int:
    return int(n_threads) if n_threads else max(1, min(2, os.cpu_count() or 1))


def train_dictionary(
    X: np.ndarray,
    n_atoms: int,
    *,
    lambda1: float,
    n_iter: int = 500,
    batch_size: int = 256,
    positive_code: bool = False,
    random_state: int | np.random.Generator | None = 0,
    n_threads: int | None = None,
) -> np.ndarray:
    r"""Learn a dictionary by online sparse coding (SPAMS ``trainDL``, mode 2).

    Minimises :math:`\frac1n\sum_i \tfrac12\|x_i - D^\top a_i\|_2^2 + \lambda_1\|a_i\|_1` over codes
    :math:`a_i` and unit-norm atoms (rows of ``D``).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    n_atoms : int, number of atoms (may exceed n_features: overcomplete)
    lambda1 : float > 0, the l1 weight
    n_iter : int, number of mini-batch iterations
    batch_size : int, samples per iteration
    positive_code : bool, constrain codes to be non-negative
    random_state : seed of the initial dictionary (atoms drawn from the data); SPAMS itself is
        deterministic given its initialisation, whatever the number of threads.
    n_threads : threads for SPAMS (default: up to 2)

    Returns
    -------
    D : ndarray of shape (n_atoms, n_features), rows of unit l2 norm.
    """
    X = check_array(X, "X", min_samples=2)
    check_scalar(n_atoms, "n_atoms", kind=int, low=1)
    check_scalar(lambda1, "lambda1", low=0, low_inclusive=False)
    check_scalar(n_iter, "n_iter", kind=int, low=1)
    check_scalar(batch_size, "batch_size", kind=int, low=1)
    rng = check_random_state(random_state)
    norms = np.linalg.norm(X, axis=1)
    usable = np.flatnonzero(norms > 1e-12)
    if usable.size == 0:
        raise ValueError("X: every sample is zero; a dictionary cannot be initialised")
    pick = rng.choice(usable, size=n_atoms, replace=usable.size < n_atoms)
    D0 = X[pick] / norms[pick, None]
    D0 = D0 + 1e-3 * rng.standard_normal(D0.shape)  # break ties between repeated picks
    D0 /= np.linalg.norm(D0, axis=1, keepdims=True)
    import spams

    with silence_c_output():
        D = spams.trainDL(
            _columns(X),
            D=_columns(D0),
            lambda1=float(lambda1),
            iter=int(n_iter),
            batchsize=int(min(batch_size, X.shape[0])),
            mode=2,
            posAlpha=bool(positive_code),
            numThreads=_n_threads(n_threads),
            verbose=False,
        )
    return np.ascontiguousarray(D.T)


def _check_dictionary(D: np.ndarray, n_features: int) -> np.ndarray:
    D = check_array(D, "D")
    if D.shape[1] != n_features:
        raise ValueError(
            f"D: expected shape (n_atoms, {n_features}) to match X's {n_features} features, "
            f"got {D.shape}"
        )
    return D


def sparse_encode(
    X: np.ndarray,
    D: np.ndarray,
    *,
    lambda1: float,
    positive: bool = False,
    n_threads: int | None = None,
) -> np.ndarray:
    r"""Lasso codes of every sample against dictionary ``D`` (SPAMS ``lasso``, LARS).

    Solves :math:`\min_a \tfrac12\|x - D^\top a\|_2^2 + \lambda_1\|a\|_1` for each row ``x`` of X.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    D : array of shape (n_atoms, n_features)
    lambda1 : float > 0
    positive : bool, non-negative codes

    Returns
    -------
    A : ndarray of shape (n_samples, n_atoms)

    Examples
    --------
    >>> D = np.eye(3)
    >>> sparse_encode(np.array([[3.0, 0.5, -2.0]]), D, lambda1=1.0)  # soft threshold
    array([[ 2.,  0., -1.]])
    """
    X = check_array(X, "X")
    D = _check_dictionary(D, X.shape[1])
    check_scalar(lambda1, "lambda1", low=0, low_inclusive=False)
    import spams

    with silence_c_output():
        A = spams.lasso(
            _columns(X),
            D=_columns(D),
            lambda1=float(lambda1),
            mode=2,
            pos=bool(positive),
            numThreads=_n_threads(n_threads),
        )
    codes = np.asarray(A.toarray().T, dtype=np.float64)
    _warn_if_all_zero(codes, X, D, lambda1)
    return codes


def _warn_if_all_zero(codes: np.ndarray, X: np.ndarray, D: np.ndarray, lambda1: float) -> None:
    """All-zero codes are the lasso's exact answer when lambda1 >= max |<d, x>|: say so."""
    if codes.size and not codes.any() and X.any():
        top = float(np.abs(X @ D.T).max())
        warnings.warn(
            f"sparse_encode: every code is zero because lambda1={lambda1:g} >= max |<d, x>| = "
            f"{top:.3g}; lower lambda1 (or rescale X) to get non-trivial codes",
            RuntimeWarning,
            stacklevel=3,
        )


def check_groups(groups: np.ndarray, n_atoms: int) -> np.ndarray:
    """Validate a group assignment: ``(n_atoms,)`` integers, each group id in ``[0, n_groups)``.

    Returns SPAMS's form: int32, 1-based, contiguous ids.
    """
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n_atoms:
        raise ValueError(
            f"groups: expected one group id per atom, shape ({n_atoms},), got shape {g.shape}"
        )
    if not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"groups: expected integer group ids, got dtype={g.dtype}")
    if g.min() < 0:
        raise ValueError(f"groups: expected ids >= 0, got minimum {g.min()}")
    ids = np.unique(g)
    if not np.array_equal(ids, np.arange(ids.size)):
        raise ValueError(f"groups: expected contiguous ids 0..{ids.size - 1}, got {ids.tolist()}")
    return np.ascontiguousarray(g + 1, dtype=np.int32)


def group_sparse_encode(
    X: np.ndarray,
    D: np.ndarray,
    groups: np.ndarray,
    *,
    lambda1: float,
    max_iter: int = 500,
    tol: float = 1e-6,
    n_threads: int | None = None,
) -> np.ndarray:
    r"""Group-lasso codes (SPAMS ``fistaFlat``, ``group-lasso-l2``).

    Solves :math:`\min_a \tfrac12\|x - D^\top a\|_2^2 + \lambda_1\sum_g \|a_g\|_2` for each row of X,
    where ``groups[k]`` is the group of atom ``k``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    D : array of shape (n_atoms, n_features)
    groups : int array of shape (n_atoms,), ids in ``[0, n_groups)``
    lambda1 : float > 0

    Returns
    -------
    A : ndarray of shape (n_samples, n_atoms)
    """
    X = check_array(X, "X")
    D = _check_dictionary(D, X.shape[1])
    g = check_groups(groups, D.shape[0])
    check_scalar(lambda1, "lambda1", low=0, low_inclusive=False)
    check_scalar(max_iter, "max_iter", kind=int, low=1)
    import spams

    W0 = np.zeros((D.shape[0], X.shape[0]), dtype=np.float64, order="F")
    with silence_c_output():
        A = spams.fistaFlat(
            _columns(X),
            _columns(D),
            W0,
            loss="square",
            regul="group-lasso-l2",
            groups=g,
            lambda1=float(lambda1),
            max_it=int(max_iter),
            tol=float(tol),
            intercept=False,
            numThreads=_n_threads(n_threads),
            verbose=False,
        )
    return np.ascontiguousarray(np.asarray(A).T, dtype=np.float64)
