"""Tests for structlearn.analysis.pixel_mi: pixel-pair MI vs offset, mosaics, feature maps."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.ndimage import correlate
from scipy.signal import lfilter
from scipy.stats import entropy
from skimage.data import camera
from sklearn.metrics import mutual_info_score

from structlearn.analysis.pixel_mi import (
    _fit_decay,
    analyze_pixel_mi,
    disc_offsets,
    edge_feature_maps,
    pixel_mi_by_offset,
    pixel_mi_feature_maps,
    pixel_mi_mosaic,
    quantile_codes,
)
from structlearn.data.mosaic import make_mosaic


def ar1_rows(n_images=6, h=60, w=300, rho=0.9, seed=0):
    """Unit-variance Gaussian AR(1) along each row; rows independent."""
    e = np.random.default_rng(seed).normal(size=(n_images, h, w + 100))
    return lfilter([np.sqrt(1 - rho**2)], [1, -rho], e, axis=2)[:, :, 100:]


@pytest.fixture(scope="module")
def camera_small():
    return camera()[::4, ::4].astype(float) / 255.0  # 128 x 128


# ------------------------------------------------------------------------------------------ basics
def test_disc_offsets_cover_half_plane_of_disc():
    off = disc_offsets(5)
    full = {(dy, dx) for dy in range(-5, 6) for dx in range(-5, 6) if dy * dy + dx * dx <= 25}
    halves = {tuple(o) for o in off} | {(-o[0], -o[1]) for o in off}
    assert halves == full and len(off) == (len(full) + 1) // 2
    assert np.all(np.diff(np.hypot(off[:, 0], off[:, 1])) >= 0)


def test_quantile_codes_equal_population_on_continuous_data():
    x = np.random.default_rng(0).normal(size=(3, 40, 50))
    codes, b = quantile_codes(x, n_bins=16)
    counts = np.bincount(np.concatenate([c.ravel() for c in codes]), minlength=16)
    assert b == 16 and counts.min() >= 6000 // 16 - 1 and counts.max() <= 6000 // 16 + 1


def test_mi_at_distance_zero_equals_binned_pixel_entropy(camera_small):
    res = analyze_pixel_mi(camera_small, 3, n_bins=32)
    codes, _ = quantile_codes(camera_small, n_bins=32)
    _, counts = np.unique(codes[0], return_counts=True)
    assert res.mi_at(0, 0) == pytest.approx(entropy(counts), abs=1e-10)
    assert res.entropy_nats == pytest.approx(entropy(counts), abs=1e-10)
    # 8-bit grey levels tie, so the 32 bins are not quite equally filled: entropy < log 32.
    assert 3.3 < res.entropy_nats < np.log(32)


def test_mi_matches_sklearn_per_offset_on_images_of_different_sizes():
    rng = np.random.default_rng(1)
    imgs = [np.cumsum(rng.normal(size=(30, 41)), axis=1), np.cumsum(rng.normal(size=(25, 37)), 0)]
    offsets = [(0, 0), (0, 3), (2, -4), (-1, 2), (5, 0)]
    res = analyze_pixel_mi(imgs, offsets=offsets, n_bins=12)
    codes, _ = quantile_codes(imgs, n_bins=12)
    for dy, dx in offsets:
        a, b = [], []
        for c in codes:  # brute force: every position p with p + (dy, dx) inside the image
            h, w = c.shape
            for y in range(h):
                for x in range(w):
                    if 0 <= y + dy < h and 0 <= x + dx < w:
                        a.append(c[y, x])
                        b.append(c[y + dy, x + dx])
        assert res.mi_at(dy, dx) == pytest.approx(mutual_info_score(a, b), abs=1e-12)
    assert res.baseline == "pixels"  # images of different shapes cannot be re-paired


def test_gaussian_ar1_matches_closed_form_and_baseline():
    x = ar1_rows()
    rho = 0.9
    res = analyze_pixel_mi(x, offsets=[(0, 1), (0, 2), (0, 5), (3, 0)], n_bins=64, n_permutations=3)
    for k in (1, 2, 5):  # Gaussian MI at lag k: -1/2 log(1 - rho^(2k))
        assert res.mi_at(0, k) == pytest.approx(-0.5 * np.log(1 - rho ** (2 * k)), abs=0.03)
    # Rows are independent: MI across rows is the permutation floor, within 4 sd of it.
    i = 3
    assert res.baseline == "images"
    assert abs(res.mi_nats[i] - res.baseline_nats[i]) < 4 * res.baseline_sd_nats[i]
    assert res.baseline_nats[i] == pytest.approx(63**2 / (2 * 6 * 57 * 300), rel=0.3)


def test_symmetric_offsets_and_constant_columns():
    rng = np.random.default_rng(2)
    cols = np.repeat(rng.normal(size=(3, 1, 50)), 20, axis=1)  # every column constant
    with pytest.warns(UserWarning, match="fewer than 3 distances"):
        res = analyze_pixel_mi(cols, offsets=[(5, 0), (-5, 0), (0, 0)], n_bins=8)
    np.testing.assert_array_equal(res.offsets, [[5, 0], [5, 0], [0, 0]])
    np.testing.assert_allclose(res.mi_nats, res.entropy_nats, atol=1e-12)  # MI(dy, 0) = H


def test_fit_decay_recovers_exponential():
    r = np.arange(0, 25)
    excess = 0.7 * np.exp(-(r - 1) / 4.0) + 0.05
    xi, amp, floor = _fit_decay(r, excess)
    assert (xi, amp, floor) == pytest.approx((4.0, 0.7, 0.05), rel=1e-4)
    with pytest.warns(UserWarning, match="max_distance"):
        assert _fit_decay(r, np.ones_like(r, float))[0] == 24.0


def test_decay_is_longer_for_smoother_images():
    rough = analyze_pixel_mi(ar1_rows(4, 20, 200, rho=0.5), 12, n_bins=16)
    smooth = analyze_pixel_mi(ar1_rows(4, 20, 200, rho=0.97), 12, n_bins=16)
    assert smooth.mi_at(0, 1) > rough.mi_at(0, 1)
    assert smooth.decay_length_px > rough.decay_length_px


def test_random_state_fixes_baseline():
    x = ar1_rows(3, 10, 60)
    a = analyze_pixel_mi(x, 3, n_bins=8, random_state=5)
    b = analyze_pixel_mi(x, 3, n_bins=8, random_state=5)
    np.testing.assert_array_equal(a.baseline_nats, b.baseline_nats)
    assert a.to_dict() == b.to_dict()


def test_pixel_mi_result_plots_and_map(camera_small):
    res = analyze_pixel_mi(camera_small, 6, n_bins=16)
    grid = res.mi_map()
    assert grid.shape == (13, 13)
    assert grid[6 + 2, 6 - 1] == grid[6 - 2, 6 + 1] == pytest.approx(res.mi_at(2, -1))
    assert grid.mask[0, 0] and not grid.mask[6, 0]  # (-6, -6) outside the disc; (0, -6) inside
    ax = res.plot()
    assert len(ax.lines) == 3
    assert "nats" in ax.get_ylabel()
    res.plot_map()
    plt.close("all")


# ------------------------------------------------------------------------------------------ mosaics
def test_mosaic_across_tiles_is_within_permutation_baseline():
    m = make_mosaic(400, grid=(3, 3), tile=8, random_state=0)
    res = analyze_pixel_mi(m.X, tile_map=m.tile_map, n_bins=32, n_permutations=5)
    ok = (res.n_pairs_across > 0) & (res.distance > 0)
    assert res.baseline == "images"
    # Pooled over offsets: the cross-tile MI is the estimator's floor.
    assert abs(res.mean_across_nats - res.mean_across_baseline_nats) < 3 * np.mean(
        res.baseline_across_sd_nats[ok]
    )
    z = (res.mi_across_nats - res.baseline_across_nats)[ok] / res.baseline_across_sd_nats[ok]
    assert np.median(np.abs(z)) < 1.5
    # Same-tile neighbours are strongly dependent, far above the floor.
    within_1 = res.mi_within_radial_nats[res.radius_within == 1][0]
    assert within_1 > 30 * res.mean_across_baseline_nats
    assert res.radius_within.max() <= 8 * np.sqrt(2) + 0.5  # no same-tile pair beyond the tile


def test_mosaic_accepts_flat_rows_and_splits_pairs_exactly():
    tm = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 3, 0), 3, 1)  # 6 x 6, tiles of 3
    x = np.random.default_rng(3).normal(size=(5, 36))
    res = analyze_pixel_mi(x, tile_map=tm, offsets=[(0, 1), (0, 4)], n_bins=4)
    # (0, 1): per row 5 pairs, of which 1 crosses the border; 6 rows, 5 images.
    assert res.n_pairs_within[0] == 4 * 6 * 5 and res.n_pairs_across[0] == 1 * 6 * 5
    assert res.n_pairs_within[1] == 0 and res.n_pairs_across[1] == 2 * 6 * 5
    ax = res.plot()
    assert len(ax.lines) == 3
    plt.close("all")


# ------------------------------------------------------------------------------------ feature maps
def test_gabor_bank_matches_direct_convolution(camera_small):
    maps = edge_feature_maps(camera_small[None], "gabor", n_orientations=2, frequency=0.25)
    from skimage.filters import gabor_kernel

    kern = np.real(gabor_kernel(0.25, theta=np.pi / 2))
    kern -= kern.mean()
    full = correlate(camera_small, kern[::-1, ::-1], mode="constant")  # convolution
    kh, kw = kern.shape
    valid = full[kh // 2 : kh // 2 + maps[1][0].shape[0], kw // 2 : kw // 2 + maps[1][0].shape[1]]
    np.testing.assert_allclose(maps[1][0], valid, atol=1e-10)


def test_edge_filtering_removes_most_short_range_mi(camera_small):
    raw = analyze_pixel_mi(camera_small, 4, n_bins=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dog = analyze_pixel_mi(camera_small, 4, features="dog", n_bins=16, sigma=1.0)
        gab = analyze_pixel_mi(camera_small, 4, features="gabor", n_bins=16, n_orientations=2)
    for feat in (dog, gab):
        r1 = feat.mi_radial_nats[feat.radius == 1][0]
        assert r1 < raw.mi_radial_nats[raw.radius == 1][0] - 0.3
        assert r1 > feat.baseline_radial_nats[feat.radius == 1][0]  # some dependence remains
    assert "channel" in gab.label


def test_feature_map_mi_on_explicit_offsets_equals_the_disc_values(camera_small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        disc = analyze_pixel_mi(camera_small, 3, features="dog", n_bins=16, sigma=1.0)
        picked = analyze_pixel_mi(
            camera_small, features="dog", offsets=[[0, 3], [2, 0]], n_bins=16, sigma=1.0
        )
    assert picked.offsets.tolist() == [[0, 3], [2, 0]]
    for i, (dy, dx) in enumerate(picked.offsets):
        assert picked.mi_nats[i] == pytest.approx(disc.mi_at(dy, dx), abs=1e-12)


# -------------------------------------------------------------------------------------- bad input
def test_bad_input():
    x = np.zeros((2, 10, 12))
    with pytest.raises(ValueError, match="max_distance"):
        analyze_pixel_mi(x, 10)
    with pytest.raises(ValueError, match="offsets"):
        analyze_pixel_mi(x, offsets=[(0, 12)])
    with pytest.raises(ValueError, match="offsets"):
        analyze_pixel_mi(x, offsets=[1, 2])
    with pytest.raises(ValueError, match="n_bins"):
        analyze_pixel_mi(x, 2, n_bins=300)
    with pytest.raises(ValueError, match="images"):
        analyze_pixel_mi(np.zeros(10), 2)
    with pytest.raises(ValueError, match="baseline"):
        analyze_pixel_mi(x[0], 2, baseline="images")
    with pytest.raises(ValueError, match="tile_map"):
        analyze_pixel_mi(x, 2, tile_map=np.zeros((10, 11), int))
    with pytest.raises(ValueError, match="images"):
        analyze_pixel_mi(np.zeros((3, 50)), 2, tile_map=np.zeros((7, 7), int))
    with pytest.raises(ValueError, match="bank"):
        edge_feature_maps(x, "sobel")


def test_old_names_warn_and_equal_the_entry_point(camera_small):
    new = analyze_pixel_mi(camera_small, 3, n_bins=8)
    with pytest.warns(DeprecationWarning, match="analyze_pixel_mi"):
        old = pixel_mi_by_offset(camera_small, 3, n_bins=8)
    assert np.array_equal(old.mi_nats, new.mi_nats)
    tm = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 3, 0), 3, 1)
    x = np.random.default_rng(3).normal(size=(5, 6, 6))
    with pytest.warns(DeprecationWarning, match="tile_map"):
        old = pixel_mi_mosaic(x, tm, 2, n_bins=4)
    new = analyze_pixel_mi(x, 2, tile_map=tm, n_bins=4)
    assert np.array_equal(old.mi_across_nats, new.mi_across_nats)
    assert new.summary()["mi_within_1px_nats"] == pytest.approx(
        new.mi_within_nats[(new.distance == 1) & (new.n_pairs_within > 0)].mean()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.warns(DeprecationWarning, match="features"):
            old = pixel_mi_feature_maps(camera_small, "dog", 3, n_bins=8, sigma=1.0)
        new = analyze_pixel_mi(camera_small, 3, features="dog", n_bins=8, sigma=1.0)
    assert np.array_equal(old.mi_nats, new.mi_nats)
    with pytest.raises(ValueError, match="features"):
        analyze_pixel_mi(x, tile_map=tm, features="dog")
