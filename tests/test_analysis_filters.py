"""Tests for structlearn.analysis.filters: locality, sparsity, pruned support, repetition."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from structlearn.analysis.filters import (
    best_tile_fraction,
    filter_grid_image,
    filter_locality,
    hoyer_sparsity,
    plot_filter_grid,
)


def grid_tile_map(grid=(3, 3), tile=8):
    """tile_map of a grid of square tiles: label = row * n_cols + col."""
    rows = np.repeat(np.arange(grid[0]), tile)
    cols = np.repeat(np.arange(grid[1]), tile)
    return rows[:, None] * grid[1] + cols[None, :]


def local_bank(tile_map, n_per_tile=5, seed=0):
    """Random filters each confined to one tile."""
    rng = np.random.default_rng(seed)
    filters = []
    for t in np.unique(tile_map):
        mask = (tile_map == t).reshape(-1)
        for _ in range(n_per_tile):
            filters.append(rng.normal(size=mask.size) * mask)
    return np.array(filters)


# ----------------------------------------------------------------------------- best_tile_fraction
def test_local_bank_has_fraction_one():
    tm = grid_tile_map()
    frac = best_tile_fraction(local_bank(tm), tm)
    assert frac.shape == (45,)
    np.testing.assert_allclose(frac, 1.0, atol=1e-12)


def test_random_bank_has_fraction_near_one_over_n_tiles():
    tm = grid_tile_map()
    rng = np.random.default_rng(1)
    frac = best_tile_fraction(rng.normal(size=(400, tm.size)), tm)
    # Max of 9 tile shares, each ~ chi2(64)/chi2(576): mean 1/9 + a max-of-9 excess of ~0.04.
    assert 1 / 9 < np.median(frac) < 1 / 9 + 0.06


def test_best_tile_fraction_matches_brute_force_loop():
    rng = np.random.default_rng(2)
    tm = rng.integers(0, 4, size=(5, 6)) * 7 - 3  # arbitrary (negative, gappy) labels
    w = rng.normal(size=(8, 30))
    expected = []
    for f in w:
        img = f.reshape(5, 6) ** 2
        expected.append(max(img[tm == t].sum() for t in np.unique(tm)) / img.sum())
    np.testing.assert_allclose(best_tile_fraction(w, tm), expected, rtol=1e-12)


def test_zero_filter_gets_uniform_share():
    tm = grid_tile_map((2, 2), 3)
    assert best_tile_fraction(np.zeros((1, 36)), tm)[0] == 0.25
    unequal = np.array([[0, 0, 0, 1]])  # tiles of 3 and 1 pixels
    assert best_tile_fraction(np.zeros((2, 4)), unequal).tolist() == [0.75, 0.75]


def test_best_tile_fraction_invariant_to_scale_and_sign():
    tm = grid_tile_map((2, 2), 4)
    w = np.random.default_rng(3).normal(size=(6, 64))
    np.testing.assert_allclose(best_tile_fraction(-3.5 * w, tm), best_tile_fraction(w, tm))


def test_filter_locality_result():
    tm = grid_tile_map()
    w = np.vstack([local_bank(tm, 3), np.random.default_rng(4).normal(size=(27, tm.size))])
    res = filter_locality(w, tm)
    assert res.n_tiles == 9
    assert res.share_above_0_9 == pytest.approx(0.5)
    d = res.to_dict()
    assert len(d["fraction"]) == 54 and d["median"] == res.median
    ax = res.plot()
    assert len(ax.patches) == 40  # one bar per histogram bin
    plt.close("all")


@pytest.mark.parametrize(
    ("tile_map", "match"),
    [
        (np.zeros((4, 4), int), "tile_map"),
        (np.zeros(25, int), "tile_map"),
        (np.full((5, 5), 0.5), "tile_map"),
    ],
)
def test_best_tile_fraction_bad_tile_map(tile_map, match):
    with pytest.raises(ValueError, match=match):
        best_tile_fraction(np.ones((3, 25)), tile_map)


def test_best_tile_fraction_bad_filters():
    with pytest.raises(ValueError, match="filters"):
        best_tile_fraction(np.ones(25), np.zeros((5, 5), int))


# --------------------------------------------------------------------------------- hoyer_sparsity
def test_hoyer_closed_forms():
    n = 10
    one_hot = np.eye(n)[3]
    flat = np.ones(n) * -2.0
    # k equal nonzeros: (sqrt(n) - sqrt(k)) / (sqrt(n) - 1)
    k = 4
    kk = np.r_[np.ones(k), np.zeros(n - k)]
    s = hoyer_sparsity(np.vstack([one_hot, flat, kk, np.zeros(n)]))
    np.testing.assert_allclose(s, [1.0, 0.0, (np.sqrt(n) - 2) / (np.sqrt(n) - 1), 0.0], atol=1e-12)


def test_hoyer_axis():
    x = np.random.default_rng(5).normal(size=(4, 7, 3))
    np.testing.assert_allclose(hoyer_sparsity(x, axis=1), hoyer_sparsity(np.swapaxes(x, 1, 2)))
    assert hoyer_sparsity(x, axis=0).shape == (7, 3)
    assert hoyer_sparsity(np.ones((3, 1))).tolist() == [1.0, 1.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (3, 6), elements=st.floats(-1e3, 1e3)))
def test_hoyer_in_unit_interval_and_scale_invariant(x):
    s = hoyer_sparsity(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(hoyer_sparsity(2.0 * x), s, atol=1e-9)


# ------------------------------------------------------------------------------------ filter grid
def test_filter_grid_scales_each_filter_symmetrically():
    w = np.array([[0.0, 2.0, -4.0, 1.0], [3.0, 0.0, 0.0, 0.0]])
    img = filter_grid_image(w, (2, 2))
    # 2 filters of 2x2 -> 2 columns: cells at [0:2, 0:2] and [0:2, 3:5], separator column 2.
    np.testing.assert_allclose(img[:, :2], [[0.0, 0.5], [-1.0, 0.25]])
    np.testing.assert_allclose(img[:, 3:], [[1.0, 0.0], [0.0, 0.0]])
    assert np.all(img[:, 2] == 0.0)


def test_plot_filter_grid_masks_separators():
    ax = plot_filter_grid(np.random.default_rng(0).normal(size=(10, 36)), (6, 6), n_max=4)
    arr = ax.images[0].get_array()
    assert arr.shape == (13, 13)  # 2x2 cells of 6 with one separator
    assert arr.mask[6, :].all() and not arr.mask[:6, :6].any()
    plt.close("all")


def test_filter_grid_bad_geometry():
    with pytest.raises(ValueError, match="filters"):
        filter_grid_image(np.ones((3, 10)), (3, 3))
    with pytest.raises(ValueError, match="image_shape"):
        filter_grid_image(np.ones((3, 9)), (3, 3, 1))
