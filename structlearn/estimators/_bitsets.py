"""Exact max-norm neighbourhoods by prefix bitsets, for the KSG estimator.

Sort every feature once. The samples whose value lies in a range of ranks [lo, hi) are then
``P[hi] & ~P[lo]``, where row m of the feature's *prefix table* P, a bitset over the n samples,
holds the m smallest. A max-norm cube ``|a_j - a_i| < r_i`` for all j is the AND of one such slab
per feature: O(n^2 d / 64) word operations, exact, with no distance computed.

Speed notes (n = 4096, d = 20, one core; ``benchmarks/estimators.py`` times the whole estimator):

- each prefix table is built word-major by ``np.repeat`` (a word only changes at the ranks of its
  own 64 samples) and copied transposed once, so that a cube gathers whole 512-byte rows;
- cubes are computed in blocks of 512 rows, whose buffers stay in the L2 cache;
- searching the slab bounds with sorted keys lets each search start where the previous ended;
- with a thread pool, the row blocks of a cube are shared among the threads (numpy releases the
  GIL inside large gathers, so the blocks are then larger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import NamedTuple

import numpy as np

__all__ = [
    "PrefixSets",
    "cube_bitsets",
    "kth_smallest_by_row",
    "max_norm_distances",
    "popcount_rows",
    "prefix_sets",
    "search_radius",
    "set_bits",
]

_BLOCK = 512  # rows per block of a cube: its buffers stay in the L2 cache
_POOLED_BLOCK = 2048  # rows per block when threads share a cube: fewer, longer GIL-free gathers


def _run(fn: Callable[[int], object], items: Iterable[int], pool: Executor | None) -> None:
    if pool is None:
        for item in items:
            fn(item)
    else:
        list(pool.map(fn, items))


class PrefixSets(NamedTuple):
    """Per feature j: ``columns[j]`` the sorted values (n,) and ``tables[j]`` the prefix sets, an
    (n + 1, ceil(n / 64)) uint64 array whose row m holds the samples of the m smallest values."""

    columns: np.ndarray  # (d, n)
    tables: np.ndarray  # (d, n + 1, words)

    def features(self, sl: slice) -> PrefixSets:
        return PrefixSets(self.columns[sl], self.tables[sl])


def _prefix_rows(order: np.ndarray) -> np.ndarray:
    """Prefix sets of one feature in word-major layout (words, n + 1), from its sort order (n,).

    Word w only changes at the ranks of its own 64 samples, so its row is piecewise constant:
    the cumulative sums of their bits in rank order, each repeated until the next of them.
    """
    n, words = order.shape[0], (order.shape[0] + 63) // 64
    rank = np.full(words * 64, n, dtype=np.intp)  # padding samples enter after the last rank
    rank[order] = np.arange(n)
    rank = rank.reshape(words, 64)
    by_rank = np.argsort(rank, axis=1)
    values = np.zeros((words, 65), dtype=np.uint64)
    np.cumsum(np.left_shift(np.uint64(1), by_rank.astype(np.uint64)), axis=1, out=values[:, 1:])
    edges = np.empty((words, 66), dtype=np.intp)
    edges[:, 0], edges[:, -1] = 0, n + 1
    edges[:, 1:-1] = np.take_along_axis(rank, by_rank, axis=1) + 1
    return np.repeat(values.ravel(), np.diff(edges, axis=1).ravel()).reshape(words, n + 1)


def prefix_sets(a: np.ndarray) -> PrefixSets:
    """Sorted columns and prefix tables of every feature of ``a`` (n, d), float64."""
    n, words = a.shape[0], (a.shape[0] + 63) // 64
    columns = np.ascontiguousarray(a.T)
    orders = np.argsort(columns, axis=1)  # ties may go either way: a slab holds all or none
    tables = np.empty((a.shape[1], n + 1, words), dtype=np.uint64)
    for table, order in zip(tables, orders):
        table[...] = _prefix_rows(order).T
    return PrefixSets(np.take_along_axis(columns, orders, axis=1), tables)


def _search(columns: np.ndarray, keys: np.ndarray, side: str) -> np.ndarray:
    """Row-wise ``np.searchsorted(columns[j], keys[j], side)`` for (d, n) keys in any order."""
    out = np.empty(keys.shape, dtype=np.intp)
    for column, row, found in zip(columns, keys, out):
        perm = np.argsort(row)
        found[perm] = np.searchsorted(column, row[perm], side=side)
    return out


def search_radius(centre: np.ndarray, radius: np.ndarray, strict: bool) -> np.ndarray:
    """``radius`` moved 8 ulps of ``|centre| + radius`` inwards (``strict``) or outwards, so that
    the rounding of ``centre +- radius`` never decides whether a value at the boundary is in."""
    slack = 8 * np.spacing(np.abs(centre) + radius)
    return radius - slack if strict else radius + slack


def _slab_bounds(
    a: np.ndarray, radius: np.ndarray, sets: PrefixSets, strict: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Rank ranges [lo, hi) (d, n) of the slabs ``|a_j - a_i| < r_i`` (``<=`` if not ``strict``),
    offset by ``j * (n + 1)`` to index the flattened tables. The radius is moved a few ulps
    inwards (strict) or outwards so that rounding of ``a_i +- r_i`` never decides a boundary."""
    d, n = sets.columns.shape
    centre = np.ascontiguousarray(a.T)
    r = search_radius(centre, radius, strict)
    lo = _search(sets.columns, centre - r, "right" if strict else "left")
    hi = np.maximum(_search(sets.columns, centre + r, "left" if strict else "right"), lo)
    offset = (np.arange(d) * (n + 1))[:, None]
    return lo + offset, hi + offset


def cube_bitsets(
    a: np.ndarray,
    radius: np.ndarray,
    sets: PrefixSets,
    *,
    strict: bool,
    pool: Executor | None = None,
) -> np.ndarray:
    """Bitsets (n, ceil(n / 64)) of the samples inside the max-norm cube around each sample of
    ``a`` (n, d) with half-widths ``radius`` (n,): ``|a_j - a_i| < r_i`` for every feature j
    (``<=`` if not ``strict``). Sample i is bit ``i % 64`` of word ``i // 64``.

    The slab of feature j is ``P_j[hi] & ~P_j[lo]`` (prefix sets nest), so the cube, their AND
    over features, is ``AND_j P_j[hi_j] & ~OR_j P_j[lo_j]``.
    """
    lo, hi = _slab_bounds(a, radius, sets, strict)
    flat = sets.tables.reshape(-1, sets.tables.shape[2])
    n, words = a.shape[0], flat.shape[1]
    inside = np.empty((n, words), dtype=np.uint64)

    size = _BLOCK if pool is None else _POOLED_BLOCK

    def block(start: int) -> None:
        rows = slice(start, min(start + size, n))
        m = rows.stop - rows.start
        out, below, buf = (
            inside[rows],
            np.empty((m, words), np.uint64),
            np.empty((m, words), np.uint64),
        )
        np.take(flat, hi[0, rows], axis=0, out=out, mode="clip")  # "clip": out is not copied
        np.take(flat, lo[0, rows], axis=0, out=below, mode="clip")
        for j in range(1, lo.shape[0]):
            np.take(flat, hi[j, rows], axis=0, out=buf, mode="clip")
            out &= buf
            np.take(flat, lo[j, rows], axis=0, out=buf, mode="clip")
            below |= buf
        out &= ~below

    _run(block, range(0, n, size), pool)
    return inside


def popcount_rows(words: np.ndarray) -> np.ndarray:
    """Number of set bits in each row of a (n, words) uint64 array, int64 (n,)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    bits = np.unpackbits(words.view(np.uint8), axis=1)  # pragma: no cover - numpy < 2.0
    return bits.sum(axis=1, dtype=np.int64)  # pragma: no cover


def set_bits(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, sample) index pairs of the set bits of ``inside`` (n, words), rows ascending.

    Peels the lowest set bit of every nonzero word at once (``w & -w``; its index is the exponent
    of its exact float64 value), as many rounds as the fullest word has bits.
    """
    row, word = np.nonzero(inside)
    values = inside[row, word].view(np.int64)
    rows, cols = [], []
    while values.size:
        low = values & -values
        rows.append(row)
        cols.append(word * 64 + np.frexp(low.view(np.uint64).astype(np.float64))[1] - 1)
        values = values ^ low
        keep = values != 0
        row, word, values = row[keep], word[keep], values[keep]
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.argsort(rows, kind="stable")
    return rows[order], cols[order]


def kth_smallest_by_row(rows: np.ndarray, dist: np.ndarray, n: int, k: int) -> np.ndarray:
    """k-th smallest of ``dist`` (1-based) within each row group (rows ascending, each of the n
    rows present with at least k entries).

    Rounds of segment minima: each round takes every row's minimum and removes all entries equal
    to it, finishing a row once k entries are gone (ties counted by multiplicity).
    """
    out = np.empty(n)
    removed = np.zeros(n, dtype=np.int64)
    finished = np.zeros(n, dtype=bool)
    while rows.size:
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        group = rows[starts]
        low = np.minimum.reduceat(dist, starts)
        at_min = dist == np.repeat(low, np.diff(np.r_[starts, rows.size]))
        removed[group] += np.add.reduceat(at_min, starts)
        complete = removed[group] >= k
        out[group[complete]] = low[complete]
        finished[group[complete]] = True
        keep = ~(at_min | finished[rows])
        rows, dist = rows[keep], dist[keep]
    return out


def max_norm_distances(z: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``max_j |z[rows, j] - z[cols, j]|`` (len(rows),), feature by feature (1-D gathers)."""
    dist, a, b = np.zeros(rows.size), np.empty(rows.size), np.empty(rows.size)
    for column in np.ascontiguousarray(z.T):
        np.take(column, rows, out=a, mode="clip")
        np.take(column, cols, out=b, mode="clip")
        np.subtract(a, b, out=a)
        np.maximum(dist, np.abs(a, out=a), out=dist)
    return dist
