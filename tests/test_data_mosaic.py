"""Patch mosaics: exact tile copies, independence across tiles, whitening, splits, seeds, errors."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from structlearn.data import (
    CONTRAST_EPS,
    load_natural_images,
    make_mosaic,
    make_tile_map,
    natural_image_names,
    zca_whitening,
)

IMAGES = {im.name: im.image for im in load_natural_images()}


def _source_patch(m, i, t):
    k, top, left = m.sources[i, t]
    return IMAGES[m.image_names[k]][top : top + m.tile, left : left + m.tile]


def test_tiles_are_exact_copies_of_source_patches_at_recorded_places():
    m = make_mosaic(150, grid=(3, 4), tile=5, random_state=3)
    imgs = m.images()
    assert imgs.shape == (150, 15, 20)
    for i in range(150):
        for t in range(12):
            r, c = divmod(t, 4)
            block = imgs[i, 5 * r : 5 * r + 5, 5 * c : 5 * c + 5]
            np.testing.assert_array_equal(block, _source_patch(m, i, t))
            # the same pixels, found through the tile map and the flattened row
            np.testing.assert_array_equal(m.X[i, m.tile_map.ravel() == t], block.ravel())


@settings(max_examples=15, deadline=None)
@given(
    rows=st.integers(1, 3),
    cols=st.integers(1, 3),
    tile=st.integers(1, 12),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_every_tile_is_a_source_patch_and_positions_are_in_range(rows, cols, tile, seed):
    m = make_mosaic(7, grid=(rows, cols), tile=tile, random_state=seed)
    assert m.X.shape == (7, rows * cols * tile * tile)
    for i in range(7):
        for t in range(rows * cols):
            k, top, left = m.sources[i, t]
            h, w = IMAGES[m.image_names[k]].shape
            assert 0 <= top <= h - tile
            assert 0 <= left <= w - tile
            np.testing.assert_array_equal(
                m.X[i, m.tile_map.ravel() == t], _source_patch(m, i, t).ravel()
            )


def test_tile_map_matches_brute_force_rule():
    tm = make_tile_map((2, 3), 4)
    assert tm.shape == (8, 12)
    assert tm.dtype == np.int64
    for h in range(8):
        for w in range(12):
            assert tm[h, w] == (h // 4) * 3 + w // 4
    np.testing.assert_array_equal(make_mosaic(2, grid=(2, 3), tile=4).tile_map, tm)


def test_pixels_uncorrelated_across_tiles_and_correlated_within():
    n = 4000
    m = make_mosaic(n, grid=(3, 3), tile=8, random_state=0)
    corr = np.corrcoef(m.X, rowvar=False)
    same = m.tile_map.ravel()[:, None] == m.tile_map.ravel()[None, :]
    across = np.abs(corr[~same])
    # independent pixels: sample correlation ~ N(0, 1/n); E|r| = sqrt(2/pi)/sqrt(n) = 0.0126
    assert across.mean() < 2 / np.sqrt(n)
    assert across.max() < 0.08
    # horizontally adjacent pixels inside one tile are strongly correlated in photographs
    idx = np.arange(24 * 24).reshape(24, 24)
    tm = m.tile_map
    adjacent = [
        corr[idx[h, w], idx[h, w + 1]]
        for h in range(24)
        for w in range(23)
        if tm[h, w] == tm[h, w + 1]
    ]
    assert len(adjacent) == 24 * 21
    assert min(adjacent) > 0.3
    assert np.mean(adjacent) > 0.8
    # the neighbours across a tile border are not
    border = [corr[idx[h, 7], idx[h, 8]] for h in range(24)]
    assert max(np.abs(border)) < 0.08


def test_whitening_matches_closed_form_covariance():
    raw = make_mosaic(3000, grid=(2, 2), tile=4, random_state=5)
    white = make_mosaic(3000, grid=(2, 2), tile=4, whiten=True, zca_eps=1e-2, random_state=5)
    np.testing.assert_array_equal(raw.sources, white.sources)
    assert white.mean is not None
    assert white.whitening is not None
    np.testing.assert_allclose(white.mean, raw.X.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(white.X, (raw.X - white.mean) @ white.whitening, atol=1e-12)
    # independent reference: eigen-decomposition of numpy's biased covariance
    lam, U = scipy.linalg.eigh(np.cov(raw.X, rowvar=False, bias=True))
    shrink = lam / (lam + 1e-2 * lam.mean())
    expected = (U * shrink) @ U.T
    np.testing.assert_allclose(np.cov(white.X, rowvar=False, bias=True), expected, atol=1e-9)
    np.testing.assert_allclose(white.whitening, white.whitening.T, atol=0)


def test_whitening_gives_identity_covariance_for_small_eps():
    m = make_mosaic(5000, grid=(2, 2), tile=4, whiten=True, zca_eps=1e-7, random_state=1)
    cov = np.cov(m.X, rowvar=False, bias=True)
    assert np.abs(cov - np.eye(64)).max() < 1e-4
    assert np.abs(m.X.mean(axis=0)).max() < 1e-10


def test_zca_whitening_eps_is_relative_so_scale_invariant():
    X = make_mosaic(2000, grid=(1, 2), tile=4, random_state=2).X
    W1, mu1 = zca_whitening(X, 1e-2)
    W10, mu10 = zca_whitening(10.0 * X, 1e-2)
    np.testing.assert_allclose(mu10, 10 * mu1, rtol=1e-12)
    np.testing.assert_allclose(W10, W1 / 10, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="eps"):
        zca_whitening(X, 0.0)
    with pytest.raises(ValueError, match="X"):
        zca_whitening(np.ones((10, 3)), 1e-2)


def test_tile_mean_removal_and_contrast_normalisation_per_tile():
    kw = dict(grid=(2, 2), tile=6, random_state=4)
    raw = make_mosaic(300, **kw)
    centred = make_mosaic(300, remove_tile_mean=True, **kw)
    both = make_mosaic(300, remove_tile_mean=True, contrast_normalize=True, **kw)
    contrast = make_mosaic(300, contrast_normalize=True, **kw)
    for t in range(4):
        cols = raw.tile_map.ravel() == t
        r = raw.X[:, cols]
        mu = r.mean(axis=1, keepdims=True)
        var = r.var(axis=1, keepdims=True)
        np.testing.assert_allclose(centred.X[:, cols], r - mu, atol=1e-12)
        np.testing.assert_allclose(
            both.X[:, cols], (r - mu) / np.sqrt(var + CONTRAST_EPS), atol=1e-12
        )
        np.testing.assert_allclose(
            contrast.X[:, cols], mu + (r - mu) / np.sqrt(var + CONTRAST_EPS), atol=1e-12
        )
        # tile variance after normalisation is s^2 / (s^2 + c) < 1
        np.testing.assert_allclose(
            both.X[:, cols].var(axis=1), (var / (var + CONTRAST_EPS)).ravel(), rtol=1e-10
        )


def test_held_out_split_uses_disjoint_source_images():
    train = make_mosaic(500, split="train", random_state=0)
    test = make_mosaic(500, split="test", random_state=1)
    assert set(train.image_names).isdisjoint(test.image_names)
    assert sorted(train.image_names + test.image_names) == sorted(natural_image_names())
    assert len(test.image_names) == round(0.25 * 13)
    # every tile of a split comes from that split's images, and each image is used
    assert set(np.unique(test.sources[..., 0])) == set(range(len(test.image_names)))
    assert train.sources[..., 0].max() == len(train.image_names) - 1
    # the split does not depend on the seed or on the order the images are given in
    for seed in (2, 3):
        assert make_mosaic(5, split="test", random_state=seed).image_names == test.image_names
    shuffled = list(reversed(natural_image_names()))
    assert set(make_mosaic(5, images=shuffled, split="test").image_names) == set(test.image_names)


def test_same_seed_same_arrays_different_seed_different():
    kw = dict(grid=(2, 3), tile=5, whiten=True, remove_tile_mean=True)
    a = make_mosaic(400, random_state=11, **kw)
    b = make_mosaic(400, random_state=11, **kw)
    c = make_mosaic(400, random_state=12, **kw)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.sources, b.sources)
    assert not np.array_equal(a.sources, c.sources)
    assert np.abs(a.X - c.X).max() > 0.1


def test_images_argument_accepts_names_loaded_images_and_arrays():
    ramp = np.add.outer(np.arange(10.0), np.arange(12.0)) / 21
    m = make_mosaic(20, grid=(1, 1), tile=3, images=[ramp], random_state=0)
    assert m.image_names == ["array_0"]
    for i in range(20):
        _, top, left = m.sources[i, 0]
        np.testing.assert_array_equal(m.images()[i], ramp[top : top + 3, left : left + 3])
    (cam,) = load_natural_images(["camera"])
    by_obj = make_mosaic(5, tile=4, images=[cam], random_state=0)
    by_name = make_mosaic(5, tile=4, images=["camera"], random_state=0)
    np.testing.assert_array_equal(by_obj.X, by_name.X)


def test_sampling_is_uniform_over_images_and_positions():
    m = make_mosaic(3000, grid=(2, 2), tile=8, images=["camera", "coins"], random_state=0)
    counts = np.bincount(m.sources[..., 0].ravel(), minlength=2)
    assert abs(counts[0] / counts.sum() - 0.5) < 0.02  # 12,000 draws: sd 0.0046
    tops = m.sources[..., 1][m.sources[..., 0] == 0]
    assert abs(tops.mean() - (512 - 8) / 2) < 8  # uniform on [0, 504]: sd of mean ~ 2.1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=10, tile=301), "tile"),  # chelsea is 300 pixels tall
        (dict(n_samples=10, tile=0), "tile"),
        (dict(n_samples=10, grid=(0, 3)), "grid"),
        (dict(n_samples=10, grid=(3,)), "grid"),
        (dict(n_samples=10, grid=0), "grid"),
        (dict(n_samples=10, zca_eps=0.0), "zca_eps"),
        (dict(n_samples=10, zca_eps=-1e-3), "zca_eps"),
        (dict(n_samples=10, split="validation"), "split"),
        (dict(n_samples=10, test_fraction=1.0), "test_fraction"),
        (dict(n_samples=10, images=[]), "images"),
        (dict(n_samples=10, images=["camera", "nope"]), "images"),
        (dict(n_samples=10, images=["camera"], split="train"), "images"),
        (dict(n_samples=1, whiten=True), "n_samples"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_mosaic(**kwargs)


def test_tile_larger_than_smallest_of_user_images():
    small = np.zeros((6, 40))
    with pytest.raises(ValueError, match="tile"):
        make_mosaic(3, tile=7, images=[small, np.zeros((50, 50))])
