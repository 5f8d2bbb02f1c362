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
prefix bitsets per feature (``_cube_bitsets``: one XOR and one AND per feature) and finds the
joint k-th neighbour from an approximate tree search refined exactly on the bitset candidates,
while the bitsets fit in 256 MiB; the marginal counts always use bitsets up to 20,000 samples. Repeated samples make distances zero; as in scikit-learn's
``mutual_info_regression`` a tiny seeded jitter (``1e-10`` of each feature's scale) breaks ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from structlearn.estimators._common import as_sample_pair, as_samples
from structlearn.utils.validation import check_option, check_random_state, check_scalar

__all__ = ["knn_entropy", "ksg_mutual_information"]

_ALGORITHMS = ("auto", "kdtree", "brute")
_METRICS = ("chebyshev", "euclidean")
_CHUNK = 256


def _jitter(x: np.ndarray, jitter: float, rng: np.random.Generator) -> np.ndarray:
    if jitter == 0:
        return x
    scale = np.maximum(1.0, np.abs(x).mean(axis=0))
    return x + jitter * scale * rng.standard_normal(x.shape)


def _check_common(k: int, n: int, algorithm: str, jitter: float) -> None:
    check_scalar(k, "k", kind=(int, np.integer), low=1)
    if n < k + 1:
        raise ValueError(f"k: need at least k + 1 = {k + 1} samples for k = {k}, got {n} samples")
    check_option(algorithm, "algorithm", _ALGORITHMS)
    check_scalar(jitter, "jitter", low=0.0)


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


def _kth_neighbour_distance(z: np.ndarray, k: int, p: float, algorithm: str) -> np.ndarray:
    if algorithm == "kdtree":
        dist, _ = cKDTree(z).query(z, k=[k + 1], p=p)
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
        Neighbour search: cKDTree ("auto"), or exact distance matrices in chunks ("brute").
    jitter : float
        Tie-breaking noise, relative to each feature's mean absolute value (0 disables).
    random_state : int, Generator or None
        Seeds the jitter.

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
    xa = _jitter(xa, jitter, check_random_state(random_state))
    p = np.inf if metric == "chebyshev" else 2.0
    rho = _kth_neighbour_distance(xa, k, p, _resolve(algorithm, d))
    rho = np.maximum(rho, np.finfo(np.float64).tiny)
    if metric == "chebyshev":
        log_cd = d * np.log(2.0)
    else:
        log_cd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)
    return float(digamma(n) - digamma(k) + log_cd + d * np.mean(np.log(rho)))


_BITSET_MAX_SAMPLES = 20000
_BITSET_MAX_BYTES = 256 * 2**20


def _popcount_rows(words: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    return np.unpackbits(words.view(np.uint8), axis=1).sum(
        axis=1, dtype=np.int64
    )  # pragma: no cover


def _prefix_bitsets(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted column and its prefix sets: row m of the (n + 1, ceil(n / 64)) bitset array holds
    the samples of the m smallest values (a cumulative OR)."""
    n = column.shape[0]
    order = np.argsort(column, kind="stable")
    prefix = np.zeros((n + 1, (n + 63) // 64), dtype=np.uint64)
    prefix[np.arange(1, n + 1), order // 64] = np.left_shift(
        np.uint64(1), (order % 64).astype(np.uint64)
    )
    np.bitwise_or.accumulate(prefix, axis=0, out=prefix)
    return column[order], prefix


def _cube_bitsets(a: np.ndarray, radius: np.ndarray, prefixes: list, *, strict: bool) -> np.ndarray:
    """Bitsets (n, ceil(n / 64)) of the samples inside the max-norm cube around each sample.

    Per feature, the samples in the slab ``|a_j - a_i| < r_i`` (``<=`` if not ``strict``) form a
    contiguous range of the sorted column: the XOR of two prefix sets. The cube is the AND over
    features, O(n^2 d / 64) word operations, exact. The radius is moved a few ulps inwards
    (strict) or outwards so that rounding of ``a_i +- r_i`` never decides a boundary case.
    """
    inside = None
    for j, (column, prefix) in enumerate(prefixes):
        slack = 8 * np.spacing(np.abs(a[:, j]) + radius)
        r = radius - slack if strict else radius + slack
        lo = np.searchsorted(column, a[:, j] - r, side="right" if strict else "left")
        hi = np.searchsorted(column, a[:, j] + r, side="left" if strict else "right")
        slab = prefix[np.maximum(hi, lo)]
        slab ^= prefix[lo]
        if inside is None:
            inside = slab
        else:
            inside &= slab
    return inside


def _cube_counts_bitset(a: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Counts of samples (self included) strictly inside the max-norm cube of half-width eps."""
    prefixes = [_prefix_bitsets(a[:, j]) for j in range(a.shape[1])]
    return _popcount_rows(_cube_bitsets(a, eps, prefixes, strict=True))


def _kth_distance_bitset(z: np.ndarray, k: int, prefixes: list) -> np.ndarray:
    """Exact max-norm distance to the k-th neighbour: a (1 + 1)-approximate tree search gives an
    upper bound r_i; the bitset cube of radius r_i holds every candidate, whose distances are
    then computed exactly."""
    n = z.shape[0]
    upper = cKDTree(z).query(z, k=[k + 1], p=np.inf, eps=1.0)[0][:, 0]
    inside = _cube_bitsets(z, upper, prefixes, strict=False)
    word_row, word_col = np.nonzero(inside)
    bits = np.unpackbits(
        inside[word_row, word_col].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    pair, bit = np.nonzero(bits)
    rows, cols = word_row[pair], word_col[pair] * 64 + bit
    rows, cols = rows[rows != cols], cols[rows != cols]
    dist = np.abs(z[rows] - z[cols]).max(axis=1)
    order = np.lexsort((dist, rows))
    rows, dist = rows[order], dist[order]
    return dist[np.searchsorted(rows, np.arange(n)) + k - 1]


def _marginal_counts(a: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Number of samples (self included) strictly within ``eps[i]`` of ``a[i]`` in the max-norm."""
    if a.shape[0] > _BITSET_MAX_SAMPLES:
        radius = np.nextafter(eps, 0.0)
        counts = cKDTree(a).query_ball_point(a, radius, p=np.inf, return_length=True)
    else:
        counts = _cube_counts_bitset(a, eps)
    return np.maximum(np.asarray(counts, dtype=np.int64), 1)


def _ksg_counts(
    xa: np.ndarray, ya: np.ndarray, k: int, algorithm: str
) -> tuple[np.ndarray, np.ndarray]:
    """n_x + 1 and n_y + 1 (self included) for KSG algorithm 1."""
    z = np.hstack([xa, ya])
    n, d = z.shape
    if algorithm == "auto" and d * (n + 1) * ((n + 63) // 64) * 8 <= _BITSET_MAX_BYTES:
        prefixes = [_prefix_bitsets(z[:, j]) for j in range(d)]
        eps = _kth_distance_bitset(z, k, prefixes)
        dx = xa.shape[1]
        nx1 = _popcount_rows(_cube_bitsets(xa, eps, prefixes[:dx], strict=True))
        ny1 = _popcount_rows(_cube_bitsets(ya, eps, prefixes[dx:], strict=True))
        return np.maximum(nx1, 1), np.maximum(ny1, 1)
    eps = _kth_neighbour_distance(z, k, np.inf, _resolve(algorithm, d))
    return _marginal_counts(xa, eps), _marginal_counts(ya, eps)


def ksg_mutual_information(
    x: Any,
    y: Any,
    k: int = 3,
    *,
    algorithm: str = "auto",
    jitter: float = 1e-10,
    random_state: int | np.random.Generator | None = 0,
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
        Joint neighbour search: bitset-refined (``"auto"``, exact), tree, or distance matrices.
    jitter, random_state :
        Tie-breaking noise and its seed (see :func:`knn_entropy`).

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
    xa, ya = _jitter(xa, jitter, rng), _jitter(ya, jitter, rng)
    nx1, ny1 = _ksg_counts(xa, ya, k, algorithm)  # n_x + 1, n_y + 1: self is counted
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx1) + digamma(ny1)))
