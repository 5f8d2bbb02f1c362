"""k-nearest-neighbour entropy and mutual information (nats).

- Kozachenko & Leonenko (1987), *Sample estimate of the entropy of a random vector*:
  :math:`\\hat H = \\psi(N) - \\psi(k) + \\log c_d + \\frac dN\\sum_i \\log \\rho_{k,i}`, with
  :math:`\\rho_{k,i}` the distance from sample i to its k-th neighbour and :math:`c_d` the volume
  of the unit ball of the norm (:math:`2^d` for the max-norm).
- Kraskov, Stögbauer & Grassberger (2004), *Estimating mutual information*, Phys. Rev. E 69,
  066138, algorithm 1 (KSG): with :math:`\\epsilon_i` the max-norm distance to the k-th neighbour in
  the joint space and :math:`n_x(i)`, :math:`n_y(i)` the numbers of other samples strictly closer
  than :math:`\\epsilon_i` in each marginal,
  :math:`\\hat I = \\psi(k) + \\psi(N) - \\langle \\psi(n_x + 1) + \\psi(n_y + 1) \\rangle`.

Neighbours come from scipy's ``cKDTree`` (``algorithm="kdtree"``) or exact chunked distance
matrices (``algorithm="brute"``). For KSG, ``algorithm="auto"`` counts neighbours with exact
prefix bitsets per feature (``structlearn.estimators._bitsets``: a max-norm cube is an AND of
per-feature rank ranges) and finds the joint k-th neighbour from an approximate tree search refined
exactly on the bitset candidates, from 6 joint dimensions on (8 for Kozachenko-Leonenko; a kd-tree
is faster below) while the bitsets fit in 256 MiB; the marginal counts use bitsets up to 20,000
samples. ``workers`` runs the tree search beside the bitset build and shares out the
rest; the estimate is the same for any number of workers. Repeated samples make distances zero;
as in scikit-learn's ``mutual_info_regression`` a tiny seeded jitter (``1e-10`` of each feature's
scale) breaks ties.

Units: KSG standardises every feature of x and y first (``standardize=True``, as scikit-learn's
``mutual_info_regression`` does), so the estimate is the same for ``a * x + b`` with per-feature
``a > 0``: a max-norm joint neighbourhood taken on raw data lets the feature with the largest
units decide the neighbours. Kozachenko--Leonenko divides x by its largest magnitude and adds back
``d log c`` (exact), so any magnitude from 1e-300 to 1e300 is safe.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from structlearn.estimators._bitsets import (
    PrefixSets,
    cube_bitsets,
    kth_smallest_by_row,
    max_norm_distances,
    popcount_rows,
    prefix_sets,
    search_radius,
    set_bits,
)
from structlearn.estimators._common import (
    as_sample_pair,
    as_samples,
    scale_to_unit,
    standardize_with_scales,
)
from structlearn.estimators._common import standardize as _standardize
from structlearn.utils.validation import check_option, check_random_state, check_scalar

__all__ = ["knn_entropy", "ksg_mutual_information"]

_ALGORITHMS = ("auto", "kdtree", "brute")
_METRICS = ("chebyshev", "euclidean")
_CHUNK = 256


def _jitter(x: np.ndarray, jitter: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus seeded noise of ``jitter`` times each feature's mean magnitude (1 for an
    all-zero feature), so the noise is small against every feature whatever its units."""
    if jitter == 0:
        return x
    scale = np.abs(x).mean(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return x + jitter * scale * rng.standard_normal(x.shape)


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _check_common(k: int, n: int, algorithm: str, jitter: float) -> None:
    check_scalar(k, "k", kind=(int, np.integer), low=1)
    if n < k + 1:
        raise ValueError(f"k: need at least k + 1 = {k + 1} samples for k = {k}, got {n} samples")
    check_option(algorithm, "algorithm", _ALGORITHMS)
    check_scalar(jitter, "jitter", low=0.0)


def _warn_repeats(kth_distance: np.ndarray, where: str) -> None:
    """Warn when samples have their k-th neighbour at distance 0 (repeated samples, no jitter):
    the kNN estimators assume a continuous distribution and are then far off."""
    share = float(np.mean(kth_distance == 0))
    if share > 0:
        warnings.warn(
            f"{where}: {share:.1%} of the samples have their k-th neighbour at distance 0 "
            "(repeated samples); the estimate assumes continuous data: keep jitter > 0, or use "
            "method='discrete' for discrete data",
            UserWarning,
            stacklevel=3,
        )


def _resolve(algorithm: str, n_features: int) -> str:
    return "kdtree" if algorithm == "auto" else algorithm


def _pairwise(a: np.ndarray, rows: slice, p: float) -> np.ndarray:
    """Distances from ``a[rows]`` to all of ``a`` in the p-norm (p = inf or 2)."""
    if p == 2:
        sq = (a[rows] ** 2).sum(1)[:, None] + (a**2).sum(1)[None, :] - 2 * a[rows] @ a.T
        return np.sqrt(np.maximum(sq, 0.0))
    out = np.abs(a[rows, 0][:, None] - a[None, :, 0])
    for j in range(1, a.shape[1]):
        np.maximum(out, np.abs(a[rows, j][:, None] - a[None, :, j]), out=out)
    return out


def _kth_neighbour_distance(
    z: np.ndarray, k: int, p: float, algorithm: str, workers: int = 1
) -> np.ndarray:
    if algorithm == "kdtree":
        dist, _ = cKDTree(z).query(z, k=[k + 1], p=p, workers=workers)
        return dist[:, 0]
    out = np.empty(z.shape[0])
    for start in range(0, z.shape[0], _CHUNK):
        rows = slice(start, min(start + _CHUNK, z.shape[0]))
        d = _pairwise(z, rows, p)
        out[rows] = np.partition(d, k, axis=1)[:, k]  # column 0 holds the sample itself
    return out


def knn_entropy(
    x: Any,
    k: int = 3,
    *,
    metric: str = "chebyshev",
    algorithm: str = "auto",
    jitter: float = 1e-10,
    random_state: int | np.random.Generator | None = 0,
    workers: int = 1,
    standardize: bool = True,
) -> float:
    r"""Kozachenko--Leonenko k-NN entropy (nats) of a continuous sample.

    Parameters
    ----------
    x : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Samples of a continuous random vector.
    k : int
        Neighbour order (at least 1; ``n_samples >= k + 1``).
    metric : {"chebyshev", "euclidean"}
        Norm of the neighbour distances (``log c_d`` is matched to it).
    algorithm : {"auto", "kdtree", "brute"}
        Neighbour search: for the max-norm in 8 or more dimensions, bitset-refined ("auto",
        exact, while the bitsets fit in 256 MiB; else a tree), cKDTree ("kdtree"), or exact
        distance matrices ("brute").
    jitter : float
        Tie-breaking noise, relative to each feature's mean magnitude (0 disables).
    random_state : int, Generator or None
        Seeds the jitter.
    workers : int
        Threads (-1: every core); the estimate does not change.
    standardize : bool
        Estimate the entropy of the standardised features and add back the sum of their log
        standard deviations (:math:`H(Dx) = H(x) + \log\det D`, exact), so the estimate is
        equivariant to units per feature; ``False`` (the raw values, divided by one common scale)
        lets the feature with the largest units decide the max-norm neighbours.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4000, 2))
    >>> bool(abs(knn_entropy(x) - np.log(2 * np.pi * np.e)) < 0.05)
    True
    """
    xa = as_samples(x, "x")
    n, d = xa.shape
    _check_common(k, n, algorithm, jitter)
    check_option(metric, "metric", _METRICS)
    if _check_flag(standardize, "standardize"):
        xa, log_scales = standardize_with_scales(xa)  # H(x) = H(x / s) + sum_j log s_j
        log_c = float(log_scales.sum()) / d
    else:
        xa, log_c = scale_to_unit(xa)  # H(x) = H(x / c) + d log c: nothing overflows
    xa = _jitter(xa, jitter, check_random_state(random_state))
    threads = _check_workers(workers)
    if metric == "chebyshev" and algorithm == "auto" and _use_bitsets(n, d, _BITSET_MIN_DIM_KL):
        with _pool(threads) as pool:
            rho = _kth_distance_bitset(xa, k, pool)[0]
    else:
        p = np.inf if metric == "chebyshev" else 2.0
        rho = _kth_neighbour_distance(xa, k, p, _resolve(algorithm, d), threads)
    _warn_repeats(rho, "knn_entropy")
    rho = np.maximum(rho, np.finfo(np.float64).tiny)
    if metric == "chebyshev":
        log_cd = d * np.log(2.0)
    else:
        log_cd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)
    return float(digamma(n) - digamma(k) + log_cd + d * np.mean(np.log(rho)) + d * log_c)


_BITSET_MAX_SAMPLES = 20000
_BITSET_MAX_BYTES = 256 * 2**20
_LEAFSIZE = 16
_TREE_EPS = 3.0  # the first tree search returns a k-th distance at most (1 + 3) x too large


def _check_workers(workers: int) -> int:
    """Number of threads: ``workers`` itself, or every core for -1."""
    check_scalar(workers, "workers", kind=(int, np.integer))
    if workers == -1:
        return os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers: expected -1 (all cores) or a positive integer, got {workers}")
    return int(workers)


def _cube_counts_bitset(a: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Counts of samples (self included) strictly inside the max-norm cube of half-width eps."""
    return popcount_rows(cube_bitsets(a, eps, prefix_sets(a), strict=True))


def _marginal_counts(a: np.ndarray, eps: np.ndarray, workers: int) -> np.ndarray:
    """Number of samples (self included) strictly within ``eps[i]`` of ``a[i]`` in the max-norm:
    two binary searches in the sorted column for one feature, else bitsets or a tree."""
    if a.shape[1] == 1:
        centre, column = a[:, 0], np.sort(a[:, 0])
        r = search_radius(centre, eps, strict=True)  # as the bitsets search: same counts
        counts = np.searchsorted(column, centre + r, "left") - np.searchsorted(
            column, centre - r, "right"
        )
    elif a.shape[0] > _BITSET_MAX_SAMPLES:
        radius = np.nextafter(eps, 0.0)
        tree = cKDTree(a)
        counts = tree.query_ball_point(a, radius, p=np.inf, return_length=True, workers=workers)
    else:
        counts = _cube_counts_bitset(a, eps)
    return np.maximum(np.asarray(counts, dtype=np.int64), 1)


# Below these dimensions a kd-tree finds exact k-th neighbours faster than the bitsets (measured
# crossovers at n = 1000-10000; BENCHMARKS.md, "Estimators").
_BITSET_MIN_DIM_KSG = 6  # joint dimension of (x, y)
_BITSET_MIN_DIM_KL = 8


def _use_bitsets(n: int, d: int, min_dim: int) -> bool:
    """Bitsets for d >= ``min_dim`` while the prefix tables fit in ``_BITSET_MAX_BYTES``."""
    return d >= min_dim and d * (n + 1) * ((n + 63) // 64) * 8 <= _BITSET_MAX_BYTES


def _pool(workers: int) -> ThreadPoolExecutor | nullcontext:
    return ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext()


def _kth_distance_bitset(
    z: np.ndarray, k: int, pool: Executor | None
) -> tuple[np.ndarray, PrefixSets]:
    """Exact max-norm distance to the k-th neighbour of every row of ``z`` (n, d), and the prefix
    sets built for it. An approximate tree search (run beside the table build when there is a
    pool) bounds the distance from above; the bitset cube of that radius holds every candidate,
    whose distances are then computed exactly (the sample itself is the one at 0)."""

    def tree_bound() -> np.ndarray:
        tree = cKDTree(z, leafsize=_LEAFSIZE, balanced_tree=False)
        return tree.query(z, k=[k + 1], p=np.inf, eps=_TREE_EPS)[0][:, 0]

    pending = pool.submit(tree_bound) if pool else None
    sets = prefix_sets(z)
    upper = pending.result() if pending else tree_bound()
    rows, cols = set_bits(cube_bitsets(z, upper, sets, strict=False, pool=pool))
    return kth_smallest_by_row(rows, max_norm_distances(z, rows, cols), z.shape[0], k + 1), sets


def _ksg_counts_bitset(
    xa: np.ndarray, ya: np.ndarray, k: int, pool: Executor | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_x + 1, n_y + 1 and the joint k-th distances by bitsets, the two marginals side by side
    when there is a pool."""
    eps, sets = _kth_distance_bitset(np.hstack([xa, ya]), k, pool)

    def counts(part: np.ndarray, features: slice) -> np.ndarray:
        inside = cube_bitsets(part, eps, sets.features(features), strict=True)
        return np.maximum(popcount_rows(inside), 1)

    dx = xa.shape[1]
    pending = pool.submit(counts, ya, slice(dx, None)) if pool else None
    nx1 = counts(xa, slice(None, dx))
    return nx1, pending.result() if pending else counts(ya, slice(dx, None)), eps


def _ksg_counts(
    xa: np.ndarray, ya: np.ndarray, k: int, algorithm: str, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_x + 1 and n_y + 1 (self included) for KSG algorithm 1, and the joint k-th distances."""
    n, d = xa.shape[0], xa.shape[1] + ya.shape[1]
    if algorithm == "auto" and _use_bitsets(n, d, _BITSET_MIN_DIM_KSG):
        with _pool(workers) as pool:
            return _ksg_counts_bitset(xa, ya, k, pool)
    z = np.hstack([xa, ya])
    eps = _kth_neighbour_distance(z, k, np.inf, _resolve(algorithm, d), workers)
    return _marginal_counts(xa, eps, workers), _marginal_counts(ya, eps, workers), eps


def ksg_mutual_information(
    x: Any,
    y: Any,
    k: int = 3,
    *,
    algorithm: str = "auto",
    jitter: float = 1e-10,
    random_state: int | np.random.Generator | None = 0,
    workers: int = 1,
    standardize: bool = True,
    metric: str = "chebyshev",
    variant: int = 1,
) -> float:
    r"""KSG (algorithm 1) mutual information (nats) between two continuous samples.

    :math:`\hat I = \psi(k) + \psi(N) - \langle\psi(n_x+1) + \psi(n_y+1)\rangle` with max-norm
    neighbourhoods (Kraskov et al., 2004). The estimate can be slightly negative for independent
    variables; it is returned as is (not clipped) so that its null distribution stays centred.

    Parameters
    ----------
    x, y : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Paired samples.
    k : int
        Neighbour order in the joint space (``n_samples >= k + 1``).
    algorithm : {"auto", "kdtree", "brute"}
        Joint neighbour search: bitset-refined (``"auto"`` when x and y have 6 or more features
        together, exact; a tree below that), tree, or distance matrices.
    jitter, random_state :
        Tie-breaking noise and its seed (see :func:`knn_entropy`).
    workers : int
        Threads (-1: every core). With more than one, the tree search runs beside the bitset
        build and the row blocks and marginals are shared out; the estimate does not change.
    standardize : bool
        Centre each feature and divide it by its standard deviation first (default), so the
        estimate does not depend on units; ``False`` uses the raw values.
    metric : {"chebyshev", "euclidean"}
        Norm within each marginal: ``"chebyshev"`` is KSG's max-norm; ``"euclidean"`` uses
        Euclidean balls in x and in y, and the joint distance is the larger of the two, so the
        joint ball is the product of the marginal balls and their volumes cancel exactly as in
        KSG (a joint Euclidean norm would leave a log-volume term and a large bias at high
        dimension). Exact distance matrices (BLAS) in chunks, O(n^2 d). Which is better when:
        BENCHMARKS.md, "Estimators".
    variant : {1, 2}
        KSG algorithm 1, or algorithm 2 (max-norm only): per-marginal radii from the k joint
        neighbours, :math:`\psi(k) - 1/k + \psi(N) - \langle\psi(n_x)+\psi(n_y)\rangle`
        (kd-tree search).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=3000)
    >>> bool(abs(ksg_mutual_information(z[:, 0], z[:, 1]) + 0.5 * np.log(1 - 0.9**2)) < 0.05)
    True
    """
    xa, ya = as_sample_pair(x, y)
    n = xa.shape[0]
    _check_common(k, n, algorithm, jitter)
    rng = check_random_state(random_state)
    threads = _check_workers(workers)
    if _check_flag(standardize, "standardize"):
        xa, ya = _standardize(xa), _standardize(ya)
    check_option(metric, "metric", _METRICS)
    if variant not in (1, 2) or isinstance(variant, bool):
        raise ValueError(f"variant: expected 1 or 2 (KSG algorithm 1 or 2), got {variant!r}")
    if variant == 2 and metric != "chebyshev":
        raise ValueError("variant: KSG algorithm 2 is defined here for metric='chebyshev' only")
    xa, ya = _jitter(xa, jitter, rng), _jitter(ya, jitter, rng)
    if variant == 2:
        return _ksg2(xa, ya, k, threads)
    if metric == "euclidean":
        nx1, ny1, eps = _euclidean_counts(xa, ya, k)
    else:
        nx1, ny1, eps = _ksg_counts(xa, ya, k, algorithm, threads)  # n_x + 1, n_y + 1
    _warn_repeats(eps, "ksg_mutual_information")
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx1) + digamma(ny1)))


def _squared_distances_to(a: np.ndarray, rows: slice, sq: np.ndarray) -> np.ndarray:
    d2 = sq[rows, None] + sq[None, :] - 2.0 * (a[rows] @ a.T)
    d2[np.arange(d2.shape[0]), np.arange(rows.start, rows.stop)] = 0.0  # exact zero to itself
    return np.maximum(d2, 0.0)


def _euclidean_counts(
    xa: np.ndarray, ya: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_x + 1, n_y + 1 (self included, strictly inside) and the joint k-th distances, where the
    joint distance is the larger of the two marginal Euclidean distances (from squared-distance
    blocks)."""
    n = xa.shape[0]
    sqx, sqy = (xa**2).sum(axis=1), (ya**2).sum(axis=1)
    nx1, ny1, eps2 = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    for start in range(0, n, _CHUNK):
        rows = slice(start, min(start + _CHUNK, n))
        dx2, dy2 = _squared_distances_to(xa, rows, sqx), _squared_distances_to(ya, rows, sqy)
        e2 = np.partition(np.maximum(dx2, dy2), k, axis=1)[:, k]  # column 0: the sample itself
        eps2[rows] = e2
        nx1[rows] = np.count_nonzero(dx2 < e2[:, None], axis=1)
        ny1[rows] = np.count_nonzero(dy2 < e2[:, None], axis=1)
    return np.maximum(nx1, 1), np.maximum(ny1, 1), np.sqrt(eps2)


def _ksg2(xa: np.ndarray, ya: np.ndarray, k: int, workers: int) -> float:
    """KSG algorithm 2: marginal radii are the largest marginal distances among the k joint
    neighbours; n_x, n_y count the other samples within them (inclusive)."""
    n = xa.shape[0]
    z = np.hstack([xa, ya])
    dist, idx = cKDTree(z).query(z, k=k + 1, p=np.inf, workers=workers)
    _warn_repeats(dist[:, -1], "ksg_mutual_information")
    eps_x = np.abs(xa[idx[:, 1:]] - xa[:, None, :]).max(axis=(1, 2))
    eps_y = np.abs(ya[idx[:, 1:]] - ya[:, None, :]).max(axis=(1, 2))

    def count(a: np.ndarray, radius: np.ndarray) -> np.ndarray:
        tree = cKDTree(a)
        return tree.query_ball_point(a, radius, p=np.inf, return_length=True, workers=workers) - 1

    nx, ny = np.maximum(count(xa, eps_x), 1), np.maximum(count(ya, eps_y), 1)
    return float(digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny)))
