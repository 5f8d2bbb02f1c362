"""polar_signals: rotations of the image are circular shifts of the signal; known values; bad input."""

import numpy as np
import pytest

from structlearn.data.polar import polar_signals


@pytest.mark.parametrize("side", [8, 9])
def test_quarter_and_half_turns_are_circular_shifts(side):
    images = np.random.default_rng(0).random((3, side, side))
    S = polar_signals(images, 4, 20)
    for k in (1, 2, 3):
        turned = polar_signals(np.rot90(images, k, axes=(1, 2)), 4, 20)
        assert np.max(np.abs(turned - np.roll(S, 5 * k, axis=-1))) < 1e-12
    assert np.max(np.abs(S - np.roll(S, 5, axis=-1))) > 0.1  # the signal is not shift-invariant


def test_linear_ramp_is_sampled_exactly():
    # bilinear interpolation is exact on a linear image: value = column = x0 + r cos(theta)
    H, W = 11, 15
    images = np.broadcast_to(np.arange(W, dtype=float), (H, W))[None]
    S = polar_signals(images, 3, 12, max_radius=4.5)
    radii = 4.5 * np.arange(1, 4) / 3
    theta = 2 * np.pi * np.arange(12) / 12
    assert np.allclose(S[0], 7.0 + radii[:, None] * np.cos(theta), atol=1e-12)


def test_radially_symmetric_image_gives_constant_rings():
    yy, xx = np.mgrid[:21, :21] - 10.0
    disc = np.exp(-(yy**2 + xx**2) / 200.0)
    S = polar_signals(disc[None], 5, 16)
    # bilinear interpolation of a smooth radial profile: within 1% of exp(-r²/200) on every ring
    exact = np.exp(-((10.0 * np.arange(1, 6) / 5) ** 2) / 200.0)
    assert np.all(np.abs(S[0] - exact[:, None]) < 0.01 * exact[:, None])
    assert np.all(np.diff(S[0].mean(axis=1)) < 0)  # outer rings are darker


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match="images"):
        polar_signals(np.zeros((8, 8)), 3, 8)
    with pytest.raises(ValueError, match="n_angles"):
        polar_signals(np.zeros((1, 8, 8)), 3, 1)
    with pytest.raises(ValueError, match="n_rings"):
        polar_signals(np.zeros((1, 8, 8)), 0, 8)
    with pytest.raises(ValueError, match="max_radius"):
        polar_signals(np.zeros((1, 8, 8)), 3, 8, max_radius=-1.0)
    with pytest.raises(ValueError, match="images: need at least 2 pixels"):
        polar_signals(np.zeros((1, 1, 8)), 3, 8)
    with pytest.raises(ValueError, match=r"images.*NaN"):
        polar_signals(np.full((1, 8, 8), np.nan), 3, 8)
