"""Prefix-bitset neighbourhoods (the exact KSG counts) against direct loops."""

import numpy as np
import pytest

from structlearn.estimators import ksg_mutual_information
from structlearn.estimators._bitsets import (
    cube_bitsets,
    kth_smallest_by_row,
    max_norm_distances,
    popcount_rows,
    prefix_sets,
    set_bits,
)


def members(bitsets: np.ndarray, n: int) -> list[set[int]]:
    """Sample sets of each row of a (rows, words) bitset array, decoded bit by bit."""
    bits = np.unpackbits(bitsets.view(np.uint8), axis=1, bitorder="little")[:, :n]
    return [set(np.flatnonzero(row)) for row in bits]


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_prefix_tables_hold_the_m_smallest(n):
    rng = np.random.default_rng(n)
    a = np.round(rng.normal(size=(n, 2)), 1)  # ties: any order among equal values is allowed
    sets = prefix_sets(a)
    for j in range(2):
        assert np.array_equal(sets.columns[j], np.sort(a[:, j]))
        rows = members(sets.tables[j], n)
        assert rows[0] == set()
        for m in range(1, n + 1):
            assert len(rows[m]) == m and rows[m - 1] < rows[m]  # nested, one sample per rank
            assert a[sorted(rows[m]), j].max() == sets.columns[j][m - 1]


@pytest.mark.parametrize("strict", [True, False])
def test_cube_bitsets_equal_direct_cubes_with_ties(strict):
    rng = np.random.default_rng(1)
    a = rng.integers(0, 5, size=(333, 3)).astype(float)  # many exact boundary cases
    radius = rng.integers(0, 3, size=333).astype(float)
    dist = np.abs(a[:, None, :] - a[None, :, :]).max(axis=2)
    direct = dist < radius[:, None] if strict else dist <= radius[:, None]
    got = cube_bitsets(a, radius, prefix_sets(a), strict=strict)
    assert [set(np.flatnonzero(row)) for row in direct] == members(got, 333)
    assert np.array_equal(popcount_rows(got), direct.sum(axis=1))


def test_cube_bitsets_are_the_same_with_a_thread_pool():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(2)
    a = rng.normal(size=(2500, 3))  # two pooled blocks, the second partial
    radius = rng.uniform(0.05, 0.5, size=2500)
    sets = prefix_sets(a)
    with ThreadPoolExecutor(2) as pool:
        pooled = cube_bitsets(a, radius, sets, strict=True, pool=pool)
    assert np.array_equal(pooled, cube_bitsets(a, radius, sets, strict=True))


def test_set_bits_lists_every_bit_once_in_row_order():
    rng = np.random.default_rng(3)
    words = rng.integers(0, 2**63, size=(50, 3), dtype=np.uint64)
    words[::7] = 0
    words[3, 1] = np.uint64(2**64 - 1)  # a full word, bit 63 included
    rows, cols = set_bits(words)
    assert np.all(np.diff(rows) >= 0)
    expected = [(r, c) for r, row in enumerate(members(words, 192)) for c in sorted(row)]
    assert sorted(zip(rows.tolist(), cols.tolist())) == expected


def test_kth_smallest_by_row_counts_ties_by_multiplicity():
    rows = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    dist = np.array([0.0, 2.0, 2.0, 5.0, 0.0, 1.0, 1.0, 3.0, 0.0, 3.0, 3.0])
    for k in (1, 2, 3):
        expected = [np.sort(dist[rows == r])[k - 1] for r in range(3)]
        assert kth_smallest_by_row(rows, dist, 3, k).tolist() == expected


def test_max_norm_distances():
    z = np.random.default_rng(4).normal(size=(30, 5))
    rows, cols = np.array([0, 3, 29]), np.array([1, 3, 0])
    assert np.array_equal(max_norm_distances(z, rows, cols), np.abs(z[rows] - z[cols]).max(axis=1))


@pytest.mark.parametrize("workers", [2, -1])
def test_ksg_threads_do_not_change_the_estimate(workers):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2300, 4))
    y = np.round(x[:, :2] + rng.normal(size=(2300, 2)), 1)  # ties in y: exact boundaries
    one = ksg_mutual_information(x, y, k=4, jitter=0)
    assert ksg_mutual_information(x, y, k=4, jitter=0, workers=workers) == one
    assert ksg_mutual_information(x, y, k=4, jitter=0, algorithm="kdtree") == pytest.approx(
        one, abs=1e-12
    )


@pytest.mark.parametrize("workers", [0, -2, 1.5])
def test_ksg_rejects_bad_workers(workers):
    x = np.zeros((10, 1))
    with pytest.raises((ValueError, TypeError), match="workers"):
        ksg_mutual_information(x, x, workers=workers)


def test_knn_entropy_bitset_path_equals_the_tree_and_ignores_threads():
    from structlearn.estimators import knn_entropy

    rng = np.random.default_rng(6)
    x = np.round(rng.normal(size=(1500, 8)), 1)  # 8 dims: the bitset path; ties among distances
    x[:10] = x[10:20]  # duplicated rows: distance 0, floored to the smallest positive float
    exact = knn_entropy(x, k=5, jitter=0, algorithm="kdtree")
    assert knn_entropy(x, k=5, jitter=0) == pytest.approx(exact, abs=1e-12)
    assert knn_entropy(x, k=5, jitter=0, workers=2) == knn_entropy(x, k=5, jitter=0)
