"""Mutual information of discrete--continuous mixtures (nats).

Gao, Kannan, Oh & Viswanath (2017), *Estimating mutual information for discrete-continuous
mixtures*, NeurIPS: with :math:`\\rho_i` the max-norm distance from sample i to its k-th neighbour
in the joint space,

.. math:: \\hat I = \\frac1N\\sum_i \\Big[\\psi(\\tilde k_i) + \\psi(N) - \\psi(m_{x,i})
          - \\psi(m_{y,i})\\Big],

where :math:`\\tilde k_i = k` if :math:`\\rho_i > 0` and otherwise the number of samples equal to
sample i (a point mass, itself included), and :math:`m_{x,i}, m_{y,i}` count the samples (itself
included) strictly within :math:`\\rho_i` in each marginal, or equal to it where
:math:`\\rho_i = 0`. This is the digamma form of their estimator (as in the authors' released
code): it is KSG algorithm 1 on continuous data and the plug-in estimate on discrete data. It is consistent where either variable, or both,
is discrete, continuous or a mixture (zero-inflated, censored), so ties need no jitter. Continuous
features are standardised first (``standardize=True``): a feature's repeated values stay repeated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from structlearn.estimators._common import as_sample_pair
from structlearn.estimators._common import standardize as _standardize
from structlearn.estimators.knn import _check_flag, _check_workers
from structlearn.utils.validation import check_scalar

__all__ = ["mixed_mutual_information"]


def _counts_within(a: np.ndarray, radius: np.ndarray, workers: int) -> np.ndarray:
    """Samples (self included) strictly within ``radius[i] > 0`` of ``a[i]`` in the max-norm, or
    equal to it where the radius is 0."""
    strict = np.where(radius > 0, np.nextafter(radius, 0.0), 0.0)
    tree = cKDTree(a)
    return tree.query_ball_point(a, strict, p=np.inf, return_length=True, workers=workers)


def mixed_mutual_information(
    x: Any, y: Any, k: int = 5, *, standardize: bool = True, workers: int = 1
) -> float:
    r"""Gao et al. (2017) mutual information (nats) for discrete, continuous or mixed variables.

    Parameters
    ----------
    x, y : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Paired samples; repeated values (point masses) are allowed and meant.
    k : int
        Neighbour order (``n_samples >= k + 1``).
    standardize : bool
        Centre each feature and divide it by its standard deviation first (units do not matter).
    workers : int
        Threads of the neighbour search (-1: every core).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 4, 4000)
    >>> y = x + 2 * rng.random(4000)   # truth 1.5596 - log 2 = 0.8664
    >>> round(mixed_mutual_information(x, y), 2)
    0.86
    """
    xa, ya = as_sample_pair(x, y)
    n = xa.shape[0]
    check_scalar(k, "k", kind=(int, np.integer), low=1)
    if n < k + 1:
        raise ValueError(f"k: need at least k + 1 = {k + 1} samples for k = {k}, got {n} samples")
    threads = _check_workers(workers)
    if _check_flag(standardize, "standardize"):
        xa, ya = _standardize(xa), _standardize(ya)
    joint = np.hstack([xa, ya])
    rho = cKDTree(joint).query(joint, k=[k + 1], p=np.inf, workers=threads)[0][:, 0]
    k_tilde = np.full(n, float(k))
    atoms = rho == 0
    if atoms.any():
        k_tilde[atoms] = _counts_within(joint, np.zeros(n), threads)[atoms]
    nx = _counts_within(xa, rho, threads)
    ny = _counts_within(ya, rho, threads)
    terms = digamma(k_tilde) + digamma(n) - digamma(nx) - digamma(ny)
    return float(np.mean(terms))
