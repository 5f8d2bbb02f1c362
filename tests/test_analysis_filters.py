"""Tests for structlearn.analysis.filters: locality, sparsity, pruned support, repetition."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from structlearn.analysis.filters import (
    analyze_filters,
    best_tile_fraction,
    best_window_fraction,
    conv_likeness,
    energy_centroid,
    filter_grid_image,
    filter_locality,
    hoyer_sparsity,
    plot_filter_grid,
    prune_filters,
    shift_similarity,
    spatial_spread,
    support_is_local,
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
    # squares of tiny or huge entries would under/overflow: the measure is scale-free anyway
    tiny_flat, huge_spike = np.full(6, 8.3e-163), np.array([0.0, 0.0, 1e200, 0.0])
    assert hoyer_sparsity(tiny_flat) == pytest.approx(0.0, abs=1e-12)
    assert hoyer_sparsity(huge_spike) == pytest.approx(1.0, abs=1e-12)


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


# ------------------------------------------------------------------------- spread and window locality
def gaussian_blob(shape, centre, sigma):
    rows, cols = np.indices(shape)
    return np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * sigma**2))


def test_spatial_spread_closed_forms():
    h, w = 6, 9
    blob = gaussian_blob((41, 41), (20, 20), 3.0)
    # w^2 of a Gaussian of std s is a Gaussian of variance s^2/2 per axis: RMS radius s.
    assert spatial_spread(blob.reshape(1, -1), (41, 41))[0] == pytest.approx(3.0, rel=1e-6)
    uniform = np.sqrt((h**2 - 1) / 12 + (w**2 - 1) / 12)
    spread = spatial_spread(np.vstack([np.ones(h * w), np.zeros(h * w)]), (h, w))
    np.testing.assert_allclose(spread, [uniform, uniform], rtol=1e-12)


def test_spatial_spread_matches_loop_and_centroid():
    rng = np.random.default_rng(6)
    w = rng.normal(size=(5, 7 * 4))
    for f, s, c in zip(w, spatial_spread(w, (7, 4)), energy_centroid(w, (7, 4)), strict=True):
        img = f.reshape(7, 4) ** 2
        pos = [(r, q) for r in range(7) for q in range(4)]
        cr = sum(img[r, q] * r for r, q in pos) / img.sum()
        cq = sum(img[r, q] * q for r, q in pos) / img.sum()
        var = sum(img[r, q] * ((r - cr) ** 2 + (q - cq) ** 2) for r, q in pos) / img.sum()
        np.testing.assert_allclose(c, [cr, cq], rtol=1e-12)
        assert s == pytest.approx(np.sqrt(var), rel=1e-10)


def test_best_window_fraction_matches_brute_force():
    rng = np.random.default_rng(7)
    w = rng.normal(size=(4, 6 * 5)) * (rng.random((4, 30)) < 0.4)
    for win in [(1, 1), (2, 3), (6, 5)]:
        got = best_window_fraction(w, (6, 5), window=win)
        for f, g in zip(w, got, strict=True):
            img = f.reshape(6, 5) ** 2
            best = max(
                img[r : r + win[0], c : c + win[1]].sum()
                for r in range(6 - win[0] + 1)
                for c in range(5 - win[1] + 1)
            )
            assert g == pytest.approx(best / img.sum(), rel=1e-10)
    assert best_window_fraction(np.zeros((1, 30)), (6, 5), window=(2, 3))[0] == 0.2


# ---------------------------------------------------------------------------------- pruned support
def test_prune_filters_keeps_weights_above_relative_threshold():
    w = np.array([[0.1, -0.3, 1.0, -0.25], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(prune_filters(w, 0.25), [[0, -0.3, 1.0, -0.25], [0, 0, 0, 0]])
    np.testing.assert_array_equal(prune_filters(w, 0.0), w)
    assert np.count_nonzero(prune_filters(w, 1.0)) == 1


def test_support_is_local_matches_brute_force():
    rng = np.random.default_rng(8)
    tm = grid_tile_map((2, 3), 3)
    support = (rng.random((200, tm.size)) < 0.03).astype(float)
    got_tiles = support_is_local(support, tm.shape, tile_map=tm)
    got_win = support_is_local(support, tm.shape, window=(3, 4))
    for s, gt, gw in zip(support, got_tiles, got_win, strict=True):
        m = s.reshape(tm.shape) > 0
        assert gt == (len(np.unique(tm[m])) == 1)
        rows, cols = np.nonzero(m)
        fits = len(rows) > 0 and np.ptp(rows) < 3 and np.ptp(cols) < 4
        assert gw == fits
    assert got_tiles.any() and not got_tiles.all()


# ------------------------------------------------------------------------------- repetition by shift
def shifted_shapes_bank(n_shapes=4, copies=6, size=5, image=(24, 24), noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    shapes = rng.normal(size=(n_shapes, size, size))
    bank, labels = [], []
    for k, shape in enumerate(shapes):
        for _ in range(copies):
            img = np.zeros(image)
            r, c = rng.integers(0, image[0] - size + 1), rng.integers(0, image[1] - size + 1)
            img[r : r + size, c : c + size] = shape
            bank.append(img.ravel() + noise * rng.normal(size=img.size))
            labels.append(k)
    return np.array(bank), np.array(labels)


@pytest.mark.parametrize("noise", [0.0, 0.03])
def test_conv_bank_of_four_shapes_reports_four(noise):
    bank, truth = shifted_shapes_bank(noise=noise)
    res = analyze_filters(bank, (24, 24))
    assert res.n_shapes == 4
    # The clustering recovers the generating shapes (up to relabelling).
    for k in range(4):
        assert len(np.unique(res.shape_label[truth == k])) == 1
    assert res.locality == 1.0  # 5x5 supports fit in the default 8x8 window
    assert res.repetition == pytest.approx(1 - 3 / 23)
    assert res.conv_likeness == pytest.approx(np.sqrt(1 - 3 / 23))


def test_random_bank_is_not_conv_like():
    w = np.random.default_rng(9).normal(size=(60, 24 * 24))
    res = analyze_filters(w, (24, 24), grid_tile_map())
    assert res.n_shapes == 60 and res.repetition == 0.0 and res.conv_likeness == 0.0
    assert res.locality == 0.0
    assert 1 / 9 < res.median_locality_fraction < 1 / 9 + 0.06


def test_shift_similarity_signs_and_permutation_invariance():
    bank, _ = shifted_shapes_bank(n_shapes=3, copies=3, seed=1)
    bank = np.vstack([bank, -bank[:1]])
    sim = shift_similarity(bank, (24, 24))
    assert sim[0, 1] == pytest.approx(1.0) and sim[0, 3] < 0.9
    # Without residual shifts a negated copy has similarity exactly -1 (signs matter).
    assert shift_similarity(bank, (24, 24), max_residual_shift=0)[0, -1] == pytest.approx(-1.0)
    np.testing.assert_allclose(sim, sim.T)
    perm = np.random.default_rng(2).permutation(len(bank))
    np.testing.assert_allclose(shift_similarity(bank[perm], (24, 24)), sim[np.ix_(perm, perm)])


def test_residual_shift_absorbs_subpixel_centroid_rounding():
    a = gaussian_blob((15, 15), (7.0, 7.0), 1.2)
    b = gaussian_blob((15, 15), (7.5, 7.5), 1.2)  # half a pixel off: rounding may misalign
    ab = np.stack([a.ravel(), b.ravel()])
    exact = max(
        np.sum(a * np.roll(b, (dr, dc), (0, 1))) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
    ) / (np.linalg.norm(a) * np.linalg.norm(b))
    assert shift_similarity(ab, (15, 15))[0, 1] == pytest.approx(exact, rel=1e-9)
    assert shift_similarity(ab, (15, 15), max_residual_shift=0)[0, 1] <= exact


def test_conv_likeness_formula_limits():
    assert conv_likeness(1.0, 1, 10) == (1.0, 1.0)
    assert conv_likeness(0.25, 1, 10)[0] == pytest.approx(0.5)
    assert conv_likeness(1.0, 10, 10)[0] == 0.0
    assert conv_likeness(1.0, 1, 1) == (0.0, 0.0)


# ------------------------------------------------------------------------------------ full analysis
def test_analyze_filters_local_bank_with_tiles_and_codes():
    tm = grid_tile_map()
    w = local_bank(tm, 4)
    codes = np.zeros((3, len(w)))
    codes[0, 0] = 2.0
    codes[1] = 1.0
    res = analyze_filters(w, tm.shape, tm, codes=codes)
    assert res.geometry == "tiles" and res.n_tiles == 9
    np.testing.assert_allclose(res.locality_fraction, 1.0)
    assert res.locality == 1.0
    np.testing.assert_allclose(res.code_hoyer, [1.0, 0.0, 0.0])
    d = res.to_dict()
    assert "filters" not in d and "support" not in d
    assert d["n_shapes"] == res.n_shapes and len(d["hoyer"]) == 36
    fig = res.figure()
    assert len(fig.axes) == 4  # three panels and the support map's colour bar
    # Tile borders: 2 inner columns and 2 inner rows of 24 unit segments each.
    borders = fig.axes[2].collections[-1].get_segments()
    assert len(borders) == 96
    assert {tuple(seg[0]) for seg in borders if seg[0][0] == seg[1][0]} >= {
        (7.5, -0.5),
        (15.5, 22.5),
    }
    count = fig.axes[2].images[0].get_array()
    np.testing.assert_array_equal(count, (res.support != 0).sum(axis=0).reshape(24, 24))
    plt.close("all")


def test_analyze_filters_bad_input():
    tm = grid_tile_map()
    w = local_bank(tm, 1)
    with pytest.raises(ValueError, match="filters"):
        analyze_filters(w[:, :-1], (24, 24))
    with pytest.raises(ValueError, match="filters"):
        analyze_filters(w, (24, 25))
    with pytest.raises(ValueError, match="tile_map"):
        analyze_filters(w, (24, 24), tm[:-1])
    with pytest.raises(ValueError, match="window"):
        analyze_filters(w, (24, 24), window=(30, 3))
    with pytest.raises(ValueError, match="codes"):
        analyze_filters(w, (24, 24), codes=np.ones((5, 8)))
    with pytest.raises(ValueError, match="threshold"):
        analyze_filters(w, (24, 24), threshold=1.5)
    with pytest.raises(ValueError, match="image_shape"):
        analyze_filters(w, 576)
