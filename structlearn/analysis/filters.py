"""Filters and structure that emerge from full connections.

Measures how close the rows of a fully connected weight matrix, read as filters over an image grid,
have come to a convolution: energy locality (best-tile fraction, spatial spread), Hoyer (2004)
sparsity, locality of the support that survives pruning, and repetition up to translation.

References
----------
- P. O. Hoyer, "Non-negative matrix factorization with sparseness constraints", JMLR 5 (2004):
  the sparsity measure.
- A. Ingrosso & S. Goldt, "Data-driven emergence of convolutional structure in neural networks",
  PNAS 119 (2022): local receptive fields learned by fully connected networks on non-Gaussian
  inputs; the tile (mosaic) geometry that locality is measured against.
- B. Neyshabur, "Towards learning convolutions from scratch", NeurIPS (2020): locality and
  weight sharing as the two ingredients of a convolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.utils.validation import check_array, check_scalar

__all__ = [
    "FilterLocality",
    "best_tile_fraction",
    "filter_locality",
    "hoyer_sparsity",
    "plot_filter_grid",
]


# --------------------------------------------------------------------------------------- validation
def _check_image_shape(image_shape: Any) -> tuple[int, int]:
    try:
        shape = tuple(int(s) for s in image_shape)
    except TypeError as exc:
        raise ValueError(
            f"image_shape: expected a pair (H, W) of positive integers, got {image_shape!r}"
        ) from exc
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(
            f"image_shape: expected a pair (H, W) of positive integers, got {image_shape!r}"
        )
    return shape  # type: ignore[return-value]


def _check_filters(filters: Any, image_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Validate a filter bank of shape (n_filters, H*W)."""
    w = check_array(filters, "filters", ndim=2)
    if image_shape is not None and w.shape[1] != image_shape[0] * image_shape[1]:
        h, wd = image_shape
        raise ValueError(
            f"filters: expected {h}*{wd}={h * wd} weights per filter (one per pixel of the "
            f"{h}x{wd} image, rows flattened row-major), got shape {w.shape}. Pass the weight "
            "matrix of a layer whose inputs are the image pixels, as (n_filters, H*W)."
        )
    return w


def _check_tile_map(
    tile_map: Any, n_pixels: int | None = None, image_shape: Any = None
) -> np.ndarray:
    """Validate a tile map of integer labels and return it as dense codes 0..n_tiles-1 (H, W)."""
    tm = np.asarray(tile_map)
    if tm.ndim != 2:
        raise ValueError(
            f"tile_map: expected a 2-D integer array (H, W) of tile labels, got shape {tm.shape}"
        )
    if not (np.issubdtype(tm.dtype, np.integer) or np.issubdtype(tm.dtype, np.bool_)):
        if not (np.issubdtype(tm.dtype, np.floating) and np.all(tm == np.round(tm))):
            raise ValueError(f"tile_map: expected integer tile labels, got dtype={tm.dtype}")
    if image_shape is not None and tuple(tm.shape) != tuple(image_shape):
        raise ValueError(
            f"tile_map: expected shape {tuple(image_shape)} (the image geometry), got {tm.shape}"
        )
    if n_pixels is not None and tm.size != n_pixels:
        raise ValueError(
            f"tile_map: has {tm.size} pixels (shape {tm.shape}) but each filter has {n_pixels} "
            "weights; they must match"
        )
    _, codes = np.unique(tm.reshape(-1), return_inverse=True)
    return codes.reshape(tm.shape).astype(np.intp)


# -------------------------------------------------------------------------------------- the measures
def hoyer_sparsity(x: Any, axis: int = -1) -> np.ndarray:
    r"""Hoyer (2004) sparsity of vectors along ``axis``.

    .. math:: s(x) = \frac{\sqrt{n} - \|x\|_1 / \|x\|_2}{\sqrt{n} - 1} \in [0, 1],

    with :math:`n` the vector length: 1 for a vector with a single nonzero entry, 0 for a vector
    whose entries all have the same magnitude.

    Parameters
    ----------
    x : array-like, e.g. (n_filters, n_pixels) or codes (n_samples, n_atoms)
    axis : int
        The axis the vectors lie along.

    Returns
    -------
    ndarray
        ``x``'s shape without ``axis``. Conventions: an all-zero vector is treated as having
        uniform magnitude (no evidence of sparsity) and gets 0; a vector of length 1 gets 1.

    Examples
    --------
    >>> hoyer_sparsity([[0.0, 0.0, 3.0, 0.0], [1.0, -1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    array([1., 0., 0.])
    """
    a = check_array(x, "x", ndim=tuple(range(1, 33)))
    a = np.moveaxis(a, axis, -1)
    n = a.shape[-1]
    if n == 1:
        return np.ones(a.shape[:-1])
    l1 = np.abs(a).sum(axis=-1)
    l2 = np.sqrt((a * a).sum(axis=-1))
    ratio = np.divide(l1, l2, out=np.full_like(l1, np.sqrt(n)), where=l2 > 0)
    return np.clip((np.sqrt(n) - ratio) / (np.sqrt(n) - 1.0), 0.0, 1.0)


def _tile_energy(w: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Energy of every filter inside every tile: (n_filters, n_tiles)."""
    n_tiles = int(codes.max()) + 1
    onehot = np.zeros((codes.size, n_tiles))
    onehot[np.arange(codes.size), codes.reshape(-1)] = 1.0
    return (w * w) @ onehot


def best_tile_fraction(filters: Any, tile_map: Any) -> np.ndarray:
    r"""Largest share of each filter's energy that falls inside a single tile.

    .. math:: f_i = \max_t \frac{\sum_{p \in t} w_{ip}^2}{\sum_p w_{ip}^2}

    A filter confined to one tile has :math:`f = 1`; a filter with energy spread evenly over
    :math:`T` equal tiles has :math:`f = 1/T`.

    Parameters
    ----------
    filters : array-like of shape (n_filters, H*W)
        Rows are filters over the image grid, flattened row-major (``image.reshape(-1)``).
    tile_map : array-like of int, shape (H, W)
        ``tile_map[h, w]`` labels the tile pixel ``(h, w)`` belongs to (any integer labels).

    Returns
    -------
    ndarray of shape (n_filters,)
        Fractions in ``[0, 1]``. An all-zero filter is treated as having uniform energy over the
        image: it gets the largest tile's share of pixels (``1/n_tiles`` for equal tiles).

    Examples
    --------
    >>> tile_map = [[0, 0, 1, 1], [0, 0, 1, 1]]
    >>> best_tile_fraction([[1, 1, 0, 0, 1, 1, 0, 0], [1, 0, 1, 0, 1, 0, 1, 0]], tile_map)
    array([1. , 0.5])
    """
    w = _check_filters(filters)
    codes = _check_tile_map(tile_map, n_pixels=w.shape[1])
    return _best_tile_fraction(w, codes)


def _best_tile_fraction(w: np.ndarray, codes: np.ndarray) -> np.ndarray:
    energy = _tile_energy(w, codes)
    total = energy.sum(axis=1)
    uniform = np.bincount(codes.reshape(-1)).max() / codes.size
    return np.divide(energy.max(axis=1), total, out=np.full(len(w), uniform), where=total > 0)


# ------------------------------------------------------------------------------------------- results
@dataclass
class FilterLocality(AnalysisResult):
    """Best-tile energy fraction of every filter of a bank.

    Attributes
    ----------
    fraction : ndarray (n_filters,)
        Best-tile energy fraction per filter (see :func:`best_tile_fraction`).
    n_tiles : int
        Number of tiles; ``1/n_tiles`` is the fraction expected of filters with no locality.
    median : float
        Median fraction over filters.
    share_above_0_9 : float
        Share of filters with more than 90 % of their energy in one tile.
    """

    fraction: np.ndarray
    n_tiles: int
    median: float = field(init=False)
    share_above_0_9: float = field(init=False)

    def __post_init__(self) -> None:
        self.median = float(np.median(self.fraction))
        self.share_above_0_9 = float(np.mean(self.fraction > 0.9))

    def plot(self, ax: Any = None) -> Any:
        """Histogram of best-tile fractions with the no-locality level ``1/n_tiles`` marked."""
        ax = new_axes(ax)
        ax.hist(self.fraction, bins=np.linspace(0.0, 1.0, 41), color="C0")
        ax.axvline(
            1.0 / self.n_tiles,
            color="k",
            ls="--",
            lw=1,
            label=f"1/n_tiles = {1 / self.n_tiles:.2f}",
        )
        ax.axvline(self.median, color="C3", lw=1.5, label=f"median = {self.median:.2f}")
        ax.set_xlabel("best-tile energy fraction")
        ax.set_ylabel("number of filters")
        ax.set_xlim(0.0, 1.0)
        ax.legend(frameon=False, fontsize="small")
        return ax


def filter_locality(filters: Any, tile_map: Any) -> FilterLocality:
    """Best-tile fractions of a bank as a :class:`FilterLocality` result.

    >>> res = filter_locality(np.eye(4), [[0, 0], [1, 1]])
    >>> res.median, res.share_above_0_9, res.n_tiles
    (1.0, 1.0, 2)
    """
    w = _check_filters(filters)
    codes = _check_tile_map(tile_map, n_pixels=w.shape[1])
    return FilterLocality(fraction=_best_tile_fraction(w, codes), n_tiles=int(codes.max()) + 1)


# -------------------------------------------------------------------------------------------- figure
def _filter_grid(
    w: np.ndarray, shape: tuple[int, int], pad: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Tile filters (n, H*W) into one image; also return the mask of separator pixels."""
    h, wd = shape
    n = len(w)
    cols = max(1, min(int(np.ceil(np.sqrt(n * h / wd))), n))
    rows = int(np.ceil(n / cols))
    scale = np.abs(w).max(axis=1, keepdims=True)
    w = np.divide(w, scale, out=np.zeros_like(w), where=scale > 0)
    img = np.zeros((rows * (h + pad) - pad, cols * (wd + pad) - pad))
    sep = np.ones(img.shape, dtype=bool)
    for i, f in enumerate(w):
        r, c = divmod(i, cols)
        cell = np.s_[r * (h + pad) : r * (h + pad) + h, c * (wd + pad) : c * (wd + pad) + wd]
        img[cell] = f.reshape(h, wd)
        sep[cell] = False
    return img, sep


def filter_grid_image(filters: Any, image_shape: Any, n_max: int = 256) -> np.ndarray:
    """Tile filters into one image, each scaled to [-1, 1] by its own max magnitude.

    Returns an array of shape (rows*(H+1)-1, cols*(W+1)-1); separators and empty cells are 0.
    Filters beyond ``n_max`` are left out; all-zero filters stay 0.

    >>> filter_grid_image(np.array([[2.0, -1.0], [0.0, 0.0]]), (1, 2)).tolist()
    [[1.0, -0.5], [0.0, 0.0], [0.0, 0.0]]
    """
    shape = _check_image_shape(image_shape)
    n_max = check_scalar(n_max, "n_max", kind=int, low=1)
    return _filter_grid(_check_filters(filters, shape)[:n_max], shape)[0]


def plot_filter_grid(filters: Any, image_shape: Any, ax: Any = None, n_max: int = 256) -> Any:
    """Draw filters as a grid of images, each scaled symmetrically around 0, grey separators.

    Parameters
    ----------
    filters : array-like of shape (n_filters, H*W)
        Rows flattened row-major over the image grid.
    image_shape : (H, W)
    ax : matplotlib Axes, optional
    n_max : int
        Draw at most this many filters (the first ones).

    Returns
    -------
    matplotlib Axes
    """
    shape = _check_image_shape(image_shape)
    n_max = check_scalar(n_max, "n_max", kind=int, low=1)
    w = _check_filters(filters, shape)[:n_max]
    img, sep = _filter_grid(w, shape)
    ax = new_axes(ax, figsize=(5.0, 5.0))
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.6")
    ax.imshow(np.ma.masked_array(img, sep), cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{len(w)} filters, each scaled to its max |w|", fontsize="small")
    return ax
