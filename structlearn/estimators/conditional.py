"""Conditional mutual information I(X;Y|Z) (nats): discrete, Gaussian and k-nearest-neighbour.

- ``"discrete"``: :math:`I(X;Y|Z) = H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z)` of observed symbols, each
  entropy plug-in or bias-corrected (Miller--Madow, Chao--Shen, Grassberger).
- ``"gaussian"``: the chain rule :math:`I(X;Y|Z) = I(X;(Y,Z)) - I(X;Z)` with the Gaussian
  (canonical-correlation) information, exact for jointly Gaussian variables and invariant to any
  invertible affine map of each variable.
- ``"knn"``: Frenzel & Pompe (2007), *Partial mutual information for coupling analysis of
  multivariate time series*, Phys. Rev. Lett. 99, 204101 (KSG for the conditional case):
  :math:`\\hat I = \\psi(k) - \\langle \\psi(n_{xz}+1) + \\psi(n_{yz}+1) - \\psi(n_z+1)\\rangle`, with
  :math:`\\epsilon_i` the max-norm distance to the k-th neighbour in the joint (x, y, z) space and
  :math:`n_{xz}, n_{yz}, n_z` the other samples strictly closer than :math:`\\epsilon_i` in those
  subspaces. Every feature is standardised first (``standardize=True``), as for KSG.

:func:`conditional_null` is the permutation baseline that keeps the dependence on Z: x is
shuffled *within* strata of Z (its symbols, or quantile bins of each feature), which destroys
I(X;Y|Z) but keeps I(X;Z) and I(Y;Z) (a global shuffle would destroy those too and bias the null).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma

from structlearn.estimators._bitsets import cube_bitsets, popcount_rows
from structlearn.estimators._common import CORRECTIONS, as_samples, entropy_from_counts
from structlearn.estimators._common import standardize as _standardize
from structlearn.estimators.discrete import joint_ids, symbol_ids
from structlearn.estimators.gaussian import RANK_DEFICIENT, gaussian_mutual_information
from structlearn.estimators.knn import (
    _BITSET_MIN_DIM_KSG,
    _check_common,
    _check_flag,
    _check_workers,
    _jitter,
    _kth_distance_bitset,
    _kth_neighbour_distance,
    _marginal_counts,
    _pool,
    _resolve,
    _use_bitsets,
    _warn_repeats,
)
from structlearn.utils.validation import (
    check_consistent_length,
    check_option,
    check_random_state,
    check_scalar,
    to_numpy,
)

__all__ = [
    "CMI_METHODS",
    "conditional_mutual_information",
    "conditional_null",
    "discrete_conditional_mutual_information",
    "gaussian_conditional_mutual_information",
    "knn_conditional_mutual_information",
    "z_strata",
]


def discrete_conditional_mutual_information(
    x: Any, y: Any, z: Any, *, correction: str = "plugin"
) -> float:
    r""":math:`I(X;Y|Z) = H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z)` (nats) of observed symbols.

    Parameters
    ----------
    x, y, z : sequences of hashable symbols (n_samples,) or arrays (n_samples, n_features)
        Paired symbols; each distinct row is one value.
    correction : {"plugin", "miller-madow", "chao-shen", "grassberger"}
        Applied to each of the four entropies. The result is clipped at 0.

    Examples
    --------
    >>> x = np.array([0, 0, 1, 1] * 25); y = np.array([0, 1, 0, 1] * 25)
    >>> round(discrete_conditional_mutual_information(x, y, x ^ y), 4)   # XOR: log 2 given z
    0.6931
    """
    correction = check_option(correction, "correction", CORRECTIONS)
    ix, iy, iz = symbol_ids(x, "x"), symbol_ids(y, "y"), symbol_ids(z, "z")
    check_consistent_length(x=ix, y=iy, z=iz)

    def h(*ids: np.ndarray) -> float:
        return entropy_from_counts(np.bincount(joint_ids(*ids)), correction=correction)

    return max(h(ix, iz) + h(iy, iz) - h(ix, iy, iz) - h(iz), 0.0)


def _triple(x: Any, y: Any, z: Any, min_samples: int) -> tuple[np.ndarray, ...]:
    xa = as_samples(x, "x", min_samples=min_samples)
    ya = as_samples(y, "y", min_samples=min_samples)
    za = as_samples(z, "z", min_samples=min_samples)
    check_consistent_length(x=xa, y=ya, z=za)
    return xa, ya, za


def gaussian_conditional_mutual_information(
    x: Any, y: Any, z: Any, *, rank_deficient: str = "warn"
) -> float:
    r"""Gaussian :math:`I(X;Y|Z) = I(X;(Y,Z)) - I(X;Z)` (nats), clipped at 0.

    Exact for jointly Gaussian variables:
    :math:`\tfrac12\log\frac{\det\Sigma_{XZ}\det\Sigma_{YZ}}{\det\Sigma_{Z}\det\Sigma_{XYZ}}`.

    Parameters
    ----------
    x, y, z : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Paired samples (at least 2).
    rank_deficient : {"warn", "raise"}
        See :func:`~structlearn.estimators.gaussian.gaussian_mutual_information`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=20000); x = z + rng.normal(size=20000); y = z + rng.normal(size=20000)
    >>> round(gaussian_conditional_mutual_information(x, y, z), 3)   # x - z - y: 0
    0.0
    """
    xa, ya, za = _triple(x, y, z, 2)
    check_option(rank_deficient, "rank_deficient", RANK_DEFICIENT)
    both = gaussian_mutual_information(xa, np.hstack([ya, za]), rank_deficient=rank_deficient)
    return max(both - gaussian_mutual_information(xa, za, rank_deficient=rank_deficient), 0.0)


def _fp_counts(
    parts: tuple[np.ndarray, np.ndarray, np.ndarray], k: int, algorithm: str, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n_xz + 1, n_yz + 1, n_z + 1 (self included) and the joint k-th distances. The joint is
    ordered (x, z, y) so that xz, z and zy are contiguous feature ranges (tree path), and with
    bitsets one cube per variable is ANDed."""
    xa, za, ya = parts
    dx, dz = xa.shape[1], za.shape[1]
    joint = np.hstack([xa, za, ya])
    n, d = joint.shape
    if algorithm == "auto" and _use_bitsets(n, d, _BITSET_MIN_DIM_KSG):
        with _pool(workers) as pool:
            eps, sets = _kth_distance_bitset(joint, k, pool)
            # one cube per variable; the xz, yz and z neighbourhoods are their ANDs
            cubes = [
                cube_bitsets(joint[:, sl], eps, sets.features(sl), strict=True, pool=pool)
                for sl in (slice(0, dx), slice(dx, dx + dz), slice(dx + dz, d))
            ]
        cx, cz, cy = cubes
        counts = [popcount_rows(cz & cx), popcount_rows(cz & cy), popcount_rows(cz)]
        nxz, nyz, nz = (np.maximum(c, 1) for c in counts)
        return nxz, nyz, nz, eps
    eps = _kth_neighbour_distance(joint, k, np.inf, _resolve(algorithm, d), workers)
    ranges = (slice(0, dx + dz), slice(dx, dx + dz), slice(dx, d))
    nxz, nz, nyz = (_marginal_counts(joint[:, sl], eps, workers) for sl in ranges)
    return nxz, nyz, nz, eps


def knn_conditional_mutual_information(
    x: Any,
    y: Any,
    z: Any,
    k: int = 3,
    *,
    algorithm: str = "auto",
    jitter: float = 1e-10,
    random_state: int | np.random.Generator | None = 0,
    workers: int = 1,
    standardize: bool = True,
) -> float:
    r"""Frenzel--Pompe k-NN conditional mutual information :math:`I(X;Y|Z)` (nats).

    :math:`\hat I = \psi(k) - \langle\psi(n_{xz}+1) + \psi(n_{yz}+1) - \psi(n_z+1)\rangle` with
    max-norm neighbourhoods (Frenzel & Pompe, 2007). Not clipped (its null is centred at 0).

    Parameters
    ----------
    x, y, z : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Paired samples of continuous variables (``n_samples >= k + 1``).
    k : int
        Neighbour order in the joint space.
    algorithm, jitter, random_state, workers, standardize :
        As for :func:`~structlearn.estimators.knn.ksg_mutual_information` (bitsets from 6 joint
        dimensions; every feature standardised first by default).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(3000, 1)); x = z + rng.normal(size=(3000, 1))
    >>> y = x + z + rng.normal(size=(3000, 1))   # I(X;Y|Z) = 0.5 log 2 = 0.3466
    >>> round(knn_conditional_mutual_information(x, y, z), 2)
    0.35
    """
    xa, ya, za = _triple(x, y, z, 1)
    n = xa.shape[0]
    _check_common(k, n, algorithm, jitter)
    threads = _check_workers(workers)
    rng = check_random_state(random_state)
    if _check_flag(standardize, "standardize"):
        xa, ya, za = _standardize(xa), _standardize(ya), _standardize(za)
    xa, za, ya = (_jitter(a, jitter, rng) for a in (xa, za, ya))
    nxz, nyz, nz, eps = _fp_counts((xa, za, ya), k, algorithm, threads)
    _warn_repeats(eps, "knn_conditional_mutual_information")
    return float(digamma(k) - np.mean(digamma(nxz) + digamma(nyz) - digamma(nz)))


_CMI = {
    "discrete": discrete_conditional_mutual_information,
    "gaussian": gaussian_conditional_mutual_information,
    "knn": knn_conditional_mutual_information,
}
#: the methods of :func:`conditional_mutual_information`
CMI_METHODS = tuple(_CMI)


def conditional_mutual_information(
    x: Any, y: Any, z: Any, method: str = "knn", **options: Any
) -> float:
    r"""Conditional mutual information :math:`I(X;Y|Z)` (nats) by the named method.

    Parameters
    ----------
    x, y, z : array-like, shape (n_samples, n_features) or (n_samples,)
        Paired samples (symbols for ``"discrete"``).
    method : {"discrete", "gaussian", "knn"}
        See the module docstring; ``options`` go to the method (e.g. ``k=5``,
        ``correction="miller-madow"``).

    Examples
    --------
    >>> x = np.array([0, 0, 1, 1] * 25); y = np.array([0, 1, 0, 1] * 25)
    >>> round(conditional_mutual_information(x, y, x ^ y, method="discrete"), 4)
    0.6931
    """
    return float(_CMI[check_option(method, "method", CMI_METHODS)](x, y, z, **options))


def z_strata(z: Any, method: str, n_bins: int | None = None) -> np.ndarray:
    """Stratum id (n_samples,) of every sample of z: its symbol (``"discrete"``), else the tuple of
    quantile bins of its features (``n_bins`` per feature; default about ``(n / 20)^(1/d_z)``, so
    that a stratum holds some 20 samples).

    >>> z_strata(np.array([0.1, 5.0, 0.3, 7.0]), "knn", n_bins=2).tolist()
    [0, 1, 0, 1]
    """
    if method == "discrete":
        return symbol_ids(z, "z")
    za = as_samples(z, "z")
    n, d = za.shape
    if n_bins is None:
        n_bins = max(2, round((n / 20.0) ** (1.0 / d)))
    check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=1)
    ranks = np.argsort(np.argsort(za, axis=0, kind="stable"), axis=0, kind="stable")
    codes = (ranks * n_bins) // n
    return joint_ids(*codes.T)


def _permute_within(strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation of range(n) that only exchanges samples of the same stratum."""
    order = np.argsort(strata, kind="stable")
    shuffled = order.copy()
    bounds = np.flatnonzero(np.diff(strata[order])) + 1
    for block in np.split(np.arange(order.size), bounds):
        shuffled[block] = order[rng.permutation(block)]
    perm = np.empty_like(order)
    perm[order] = shuffled
    return perm


def conditional_null(
    x: Any,
    y: Any,
    z: Any,
    method: str = "knn",
    *,
    n_shuffles: int = 20,
    n_bins: int | None = None,
    random_state: int | np.random.Generator | None = 0,
    **options: Any,
) -> np.ndarray:
    """I(X;Y|Z) (nats) with x permuted within strata of z, ``n_shuffles`` times: its null.

    Parameters
    ----------
    x, y, z, method, options :
        As for :func:`conditional_mutual_information`.
    n_shuffles : int
        Permutations.
    n_bins : int or None
        Quantile bins per feature of a continuous z (see :func:`z_strata`).
    random_state : int, Generator or None
        Seeds the permutations.

    Returns
    -------
    numpy.ndarray, shape (n_shuffles,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 4, 400); x = z + rng.integers(0, 2, 400); y = z + rng.integers(0, 2, 400)
    >>> null = conditional_null(x, y, z, "discrete", n_shuffles=50)
    >>> bool(abs(conditional_mutual_information(x, y, z, "discrete") - null.mean()) < 3 * null.std())
    True
    """
    method = check_option(method, "method", CMI_METHODS)
    check_scalar(n_shuffles, "n_shuffles", kind=(int, np.integer), low=1)
    rng = check_random_state(random_state)
    strata = z_strata(z, method, n_bins)
    xa = to_numpy(x) if method == "discrete" else as_samples(x, "x")
    if len(xa) != strata.size:
        check_consistent_length(x=xa, z=strata)
    fn = _CMI[method]
    return np.array(
        [fn(xa[_permute_within(strata, rng)], y, z, **options) for _ in range(n_shuffles)]
    )
