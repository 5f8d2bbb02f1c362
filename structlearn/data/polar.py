r"""Images as multichannel 1-D signals on concentric rings: a rotation becomes a circular shift.

Chan, Yu, You, Qi, Wright & Ma (2022), "ReduNet: a white-box deep network from the principle of
maximizing rate reduction" (JMLR 23(114)), test the shift-invariant ReduNet's invariance on
rotated MNIST digits by sampling every image on ``n_rings`` circles around its centre at
``n_angles`` equally spaced angles (their published data: 5 rings, 200 angles). Ring ``c`` is
channel ``c`` of the signal; rotating the image by :math:`2\pi s / T` about its centre shifts
every channel circularly by ``s`` samples.

Sample ``t`` of ring ``c`` is the image, bilinearly interpolated, at row
:math:`y_0 - r_c\sin\theta_t` and column :math:`x_0 + r_c\cos\theta_t`, with
:math:`\theta_t = 2\pi t/T` (counter-clockwise as displayed), :math:`(y_0, x_0)` the centre of the
pixel grid and radii :math:`r_c = c \cdot r_{\max}/C`, ``c = 1..C`` (the centre itself, which every
angle sees alike, is left out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import map_coordinates

from structlearn.utils.validation import check_array, check_count, check_scalar

__all__ = ["polar_signals"]


def polar_signals(
    images: Any, n_rings: int, n_angles: int, max_radius: float | None = None
) -> np.ndarray:
    """Sample images on concentric rings: (n_images, height, width) -> (n_images, n_rings, n_angles).

    Parameters
    ----------
    images : array of shape (n_images, height, width), grey images
    n_rings : int >= 1, channels of the signal (rings, innermost first)
    n_angles : int >= 2, samples per ring (the signal's length T)
    max_radius : float > 0 or None, radius of the outermost ring in pixels (default: half the
        shorter side minus half a pixel, so every ring stays inside the image)

    Returns
    -------
    ndarray of shape (n_images, n_rings, n_angles), float64

    Examples
    --------
    A rotation by 90° is a circular shift by a quarter of the angles:

    >>> img = np.random.default_rng(0).random((1, 9, 9))
    >>> S = polar_signals(img, 3, 8)
    >>> bool(np.allclose(polar_signals(np.rot90(img, axes=(1, 2)), 3, 8), np.roll(S, 2, axis=-1)))
    True
    """
    images = check_array(images, "images", ndim=3)
    n_rings = check_count(n_rings, "n_rings")
    n_angles = check_count(n_angles, "n_angles", low=2)
    height, width = images.shape[1:]
    y0, x0 = (height - 1) / 2, (width - 1) / 2
    if min(height, width) < 2:
        raise ValueError(f"images: need at least 2 pixels per side for rings, got {images.shape}")
    if max_radius is None:
        max_radius = min(y0, x0)
    check_scalar(max_radius, "max_radius", low=0, low_inclusive=False)
    radii = max_radius * np.arange(1, n_rings + 1) / n_rings
    theta = 2 * np.pi * np.arange(n_angles) / n_angles
    rows = y0 - radii[:, None] * np.sin(theta)[None]
    cols = x0 + radii[:, None] * np.cos(theta)[None]
    coords = np.stack([rows.ravel(), cols.ravel()])
    out = np.empty((images.shape[0], n_rings * n_angles))
    for i, image in enumerate(images):
        out[i] = map_coordinates(image, coords, order=1, mode="nearest")
    return out.reshape(images.shape[0], n_rings, n_angles)
