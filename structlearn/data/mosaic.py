"""Patch mosaics: images whose tiles are cut from random places of random natural photographs.

A mosaic sample is a ``grid`` of ``tile x tile`` patches, each drawn independently (a uniformly
chosen image, then a uniformly chosen position in it), so pixels in the same tile carry the
correlations of natural images while pixels in different tiles are statistically independent.
Whether a learned filter stays inside one tile is then a direct test of whether the learning
principle finds the data's local structure -- the set-up behind "learning local receptive fields
from full connections" (Olshausen & Field 1996, Nature 381; Ingrosso & Goldt 2022, PNAS
"Data-driven emergence of convolutional structure in neural networks").

Preprocessing, in this order, each optional:

1. per-tile mean removal, :math:`p \\leftarrow p - \\bar p` for every tile ``p``;
2. per-tile contrast normalisation, :math:`p \\leftarrow \\bar p + (p - \\bar p)/\\sqrt{s_p^2 + c}`
   with :math:`s_p^2` the tile's pixel variance and ``c = CONTRAST_EPS`` (after step 1,
   :math:`\\bar p = 0`); acting tile by tile keeps the tiles independent;
3. ZCA whitening of the whole mosaic (Bell & Sejnowski 1997), see :func:`zca_whitening`.
"""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from structlearn.data.natural import NaturalImage, load_natural_images, natural_image_names
from structlearn.utils.validation import (
    check_array,
    check_count,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["CONTRAST_EPS", "Mosaic", "make_mosaic", "make_tile_map", "zca_whitening"]

#: Regulariser of contrast normalisation, in squared [0, 1] intensity units: tiles whose pixel
#: standard deviation is below ~0.01 (2.5 grey levels of 255) are not amplified much.
CONTRAST_EPS = 1e-4

_SPLITS = ("all", "train", "test")


@dataclass
class Mosaic:
    """A set of mosaic images and where every tile came from.

    Attributes
    ----------
    X : numpy.ndarray
        float64, shape ``(n_samples, H * W)``: the images flattened row-major, after the requested
        preprocessing. This is the data to learn from.
    image_shape : tuple of int
        ``(H, W) = (grid[0] * tile, grid[1] * tile)``.
    tile_map : numpy.ndarray
        int64, shape ``(H, W)``: ``tile_map[h, w]`` is the tile that pixel ``(h, w)`` belongs to,
        numbered row-major in ``[0, n_tiles)``. ``tile_map.ravel()`` indexes the columns of ``X``.
    sources : numpy.ndarray
        int64, shape ``(n_samples, n_tiles, 3)``: ``(image index, top, left)`` of every tile, the
        image index pointing into ``image_names``.
    image_names : list of str
        The source photographs this split drew from.
    whitening : numpy.ndarray or None
        The symmetric ZCA matrix, shape ``(H * W, H * W)``, or ``None`` without whitening.
    mean : numpy.ndarray or None
        Shape ``(H * W,)``: the pixel means removed before whitening, so that
        ``X = (X_before - mean) @ whitening``; ``None`` without whitening. To whiten held-out data
        with the training set's transform, build it with ``whiten=False`` and apply this formula.
    grid : tuple of int
        Tiles per column and per row.
    tile : int
        Tile side in pixels.
    split : str
        ``"all"``, ``"train"`` or ``"test"``.
    """

    X: np.ndarray
    image_shape: tuple[int, int]
    tile_map: np.ndarray
    sources: np.ndarray
    image_names: list[str]
    whitening: np.ndarray | None
    mean: np.ndarray | None
    grid: tuple[int, int]
    tile: int
    split: str = "all"

    @property
    def n_tiles(self) -> int:
        """Number of tiles per image, ``grid[0] * grid[1]``."""
        return self.grid[0] * self.grid[1]

    def images(self) -> np.ndarray:
        """The samples as images, shape ``(n_samples, H, W)`` (a view of ``X``)."""
        return self.X.reshape(-1, *self.image_shape)


def make_tile_map(grid: tuple[int, int], tile: int) -> np.ndarray:
    """Tile index of every pixel of a ``grid`` of ``tile x tile`` tiles, numbered row-major.

    >>> make_tile_map((2, 3), 2)
    array([[0, 0, 1, 1, 2, 2],
           [0, 0, 1, 1, 2, 2],
           [3, 3, 4, 4, 5, 5],
           [3, 3, 4, 4, 5, 5]])
    """
    rows, cols = _check_grid(grid)
    tile = _check_tile(tile)
    ids = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    return np.kron(ids, np.ones((tile, tile), dtype=np.int64))


def zca_whitening(X: np.ndarray, eps: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """ZCA whitening matrix of ``X`` with a *relative* regulariser.

    With :math:`C = \\frac1n (X-\\mu)^\\top (X-\\mu) = U \\operatorname{diag}(\\lambda) U^\\top`
    (the biased covariance), returns

    .. math:: W = U \\operatorname{diag}\\big((\\lambda + \\varepsilon \\bar\\lambda)^{-1/2}\\big) U^\\top,
       \\qquad \\bar\\lambda = \\tfrac1d \\textstyle\\sum_i \\lambda_i,

    so ``eps`` is relative to the mean eigenvalue (the data's scale does not matter). The whitened
    data :math:`(X-\\mu)W` has covariance
    :math:`U \\operatorname{diag}(\\lambda/(\\lambda + \\varepsilon\\bar\\lambda)) U^\\top`, which
    tends to the identity as ``eps -> 0`` on full-rank data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    eps : float > 0
        Relative regulariser.

    Returns
    -------
    W : numpy.ndarray of shape (n_features, n_features)
        Symmetric; apply as ``(X - mean) @ W``.
    mean : numpy.ndarray of shape (n_features,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 3)) @ np.array([[2.0, 0, 0], [1, 1, 0], [0, 0, 0.1]])
    >>> W, mu = zca_whitening(X, eps=1e-9)
    >>> Z = (X - mu) @ W
    >>> np.round(Z.T @ Z / len(Z), 6) + 0.0
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    """
    X = check_array(X, "X", min_samples=2)
    check_scalar(eps, "eps", low=0, low_inclusive=False)
    return _zca(X, float(eps), name="X")


def _zca(X: np.ndarray, eps: float, name: str) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    Xc = X - mean
    top = float(np.abs(Xc).max())
    unit = top if top > 1e100 or 0 < top < 1e-100 else 1.0  # W(cX) = W(X)/c: eps is relative
    Xc = Xc / unit
    cov = (Xc.T @ Xc) / X.shape[0]
    lam, U = np.linalg.eigh(cov)
    lam = np.clip(lam, 0.0, None)
    scale = lam.mean()
    if not scale > 0:
        raise ValueError(f"{name}: every feature is constant; ZCA whitening needs variance")
    W = (U / np.sqrt(lam + eps * scale)) @ U.T / unit
    return (W + W.T) / 2, mean


def make_mosaic(
    n_samples: int,
    grid: tuple[int, int] | int = (3, 3),
    tile: int = 8,
    *,
    images: Sequence[str | NaturalImage | np.ndarray] | None = None,
    remove_tile_mean: bool = False,
    contrast_normalize: bool = False,
    whiten: bool = False,
    zca_eps: float = 1e-2,
    split: str = "all",
    test_fraction: float = 0.25,
    random_state: int | np.random.Generator | None = 0,
) -> Mosaic:
    """Build mosaic images from independent patches of natural photographs.

    Every tile of every sample picks a source image uniformly at random, then a top-left corner
    uniformly among the positions where the tile fits.

    Parameters
    ----------
    n_samples : int >= 1
    grid : (int, int) or int
        Tiles per column and per row (an int means a square grid).
    tile : int >= 1
        Tile side in pixels; must fit in the smallest source image.
    images : sequence of str, NaturalImage or 2-D array, or None
        Source photographs: names from :func:`~structlearn.data.natural.natural_image_names`,
        loaded images, or grey arrays (named ``"array_<i>"``). ``None`` uses every bundled one.
    remove_tile_mean, contrast_normalize, whiten : bool
        Preprocessing steps, applied in this order (module docstring).
    zca_eps : float > 0
        Relative ZCA regulariser (see :func:`zca_whitening`).
    split : {"all", "train", "test"}
        Draw from every image, or from the training or test images only. The split is by source
        image and depends only on the images (a fixed hash of each one's source and name), not on
        ``random_state``, so a training and a test mosaic never share a photograph.
    test_fraction : float in (0, 1)
        Share of the images held out: ``max(1, round(test_fraction * n_images))``, leaving at
        least one for training.
    random_state : int, Generator or None
        Seeds the choice of images and positions.

    Returns
    -------
    Mosaic

    Raises
    ------
    ValueError
        Naming ``n_samples``, ``grid``, ``tile``, ``images``, ``zca_eps``, ``split`` or
        ``test_fraction`` when that argument is out of range.

    Examples
    --------
    >>> m = make_mosaic(100, grid=(2, 3), tile=4, random_state=1)
    >>> m.X.shape, m.image_shape, m.sources.shape
    ((100, 96), (8, 12), (100, 6, 3))
    >>> int(m.tile_map.max())
    5
    """
    n_samples = _check_n_samples(n_samples)
    rows, cols = _check_grid(grid)
    tile = _check_tile(tile)
    check_option(split, "split", _SPLITS)
    check_scalar(zca_eps, "zca_eps", low=0, low_inclusive=False)
    check_scalar(
        test_fraction, "test_fraction", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    names, arrays, keys = _resolve_images(images)
    smallest = min(min(a.shape) for a in arrays)
    if tile > smallest:
        raise ValueError(
            f"tile: a tile of {tile} pixels does not fit in the smallest source image "
            f"({smallest} pixels on its short side); use tile <= {smallest}"
        )
    chosen = _split_indices(keys, split, test_fraction)
    names = [names[i] for i in chosen]
    arrays = [arrays[i] for i in chosen]
    rng = check_random_state(random_state)

    n_tiles = rows * cols
    which = rng.integers(0, len(arrays), size=(n_samples, n_tiles))
    heights = np.array([a.shape[0] for a in arrays])
    widths = np.array([a.shape[1] for a in arrays])
    top = rng.integers(0, heights[which] - tile + 1)
    left = rng.integers(0, widths[which] - tile + 1)
    sources = np.stack([which, top, left], axis=-1).astype(np.int64)

    tiles = _cut_tiles(arrays, sources.reshape(-1, 3), tile)
    tiles = _normalise_tiles(tiles, remove_tile_mean, contrast_normalize)
    X = (
        tiles.reshape(n_samples, rows, cols, tile, tile)
        .transpose(0, 1, 3, 2, 4)
        .reshape(n_samples, rows * tile * cols * tile)
    )
    W = mean = None
    if whiten:
        if n_samples < 2:
            raise ValueError("n_samples: whitening needs at least 2 samples, got 1")
        W, mean = _zca(X, float(zca_eps), name="X")
        X = (X - mean) @ W
    return Mosaic(
        X=np.ascontiguousarray(X),
        image_shape=(rows * tile, cols * tile),
        tile_map=make_tile_map((rows, cols), tile),
        sources=sources,
        image_names=names,
        whitening=W,
        mean=mean,
        grid=(rows, cols),
        tile=tile,
        split=split,
    )


def _cut_tiles(arrays: list[np.ndarray], sources: np.ndarray, tile: int) -> np.ndarray:
    """Copy ``tile x tile`` patches at ``sources[i] = (image, top, left)``, vectorised per image."""
    out = np.empty((sources.shape[0], tile, tile), dtype=np.float64)
    for k, image in enumerate(arrays):
        sel = np.flatnonzero(sources[:, 0] == k)
        if sel.size:
            windows = sliding_window_view(image, (tile, tile))
            out[sel] = windows[sources[sel, 1], sources[sel, 2]]
    return out


def _normalise_tiles(tiles: np.ndarray, remove_mean: bool, contrast: bool) -> np.ndarray:
    if not (remove_mean or contrast):
        return tiles
    mu = tiles.mean(axis=(1, 2), keepdims=True)
    dev = tiles - mu
    if contrast:
        dev /= np.sqrt((dev**2).mean(axis=(1, 2), keepdims=True) + CONTRAST_EPS)
    return dev if remove_mean else mu + dev


def _split_indices(keys: list[str], split: str, test_fraction: float) -> list[int]:
    """Indices of the images in ``split``; the test set is the images with the smallest CRC-32."""
    if split == "all":
        return list(range(len(keys)))
    if len(keys) < 2:
        raise ValueError(
            f"images: a {split!r} split needs at least 2 source images, got {len(keys)}"
        )
    n_test = min(max(1, round(test_fraction * len(keys))), len(keys) - 1)
    order = sorted(range(len(keys)), key=lambda i: (zlib.crc32(keys[i].encode()), i))
    test = set(order[:n_test])
    return [i for i in range(len(keys)) if (i in test) == (split == "test")]


def _resolve_images(
    images: Sequence[str | NaturalImage | np.ndarray] | None,
) -> tuple[list[str], list[np.ndarray], list[str]]:
    """Return names, grey float arrays and split keys (``source/name``) of the source images."""
    if images is None:
        loaded = load_natural_images()
    else:
        if isinstance(images, (str, np.ndarray, NaturalImage)):
            raise TypeError(
                "images: expected a sequence of names, NaturalImage objects or 2-D arrays, got a "
                f"single {type(images).__name__}; wrap it in a list"
            )
        items = list(images)
        if not items:
            raise ValueError("images: expected at least one source image, got an empty sequence")
        named = [x for x in items if isinstance(x, str)]
        unknown = sorted(set(named) - set(natural_image_names()))
        if unknown:
            raise ValueError(
                f"images: unknown image name(s) {unknown}; expected names from "
                f"{natural_image_names()}"
            )
        if len(set(named)) != len(named):
            raise ValueError(f"images: duplicate image names in {named}")
        by_name = {im.name: im for im in load_natural_images(named)} if named else {}
        loaded = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                loaded.append(by_name[item])
            elif isinstance(item, NaturalImage):
                loaded.append(item)
            else:
                arr = check_array(item, f"images[{i}]", ndim=2)
                loaded.append(NaturalImage(name=f"array_{i}", source="array", image=arr))
    names = [im.name for im in loaded]
    arrays = [np.ascontiguousarray(im.image, dtype=np.float64) for im in loaded]
    keys = [f"{im.source}/{im.name}" for im in loaded]
    return names, arrays, keys


#: Most tiles per side of a mosaic (a 1000 x 1000 grid of 8-pixel tiles is 64 megapixels).
MAX_GRID = 1000


def _check_n_samples(n_samples: int) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples: expected an int, got {type(n_samples).__name__}")
    if n_samples < 1:
        raise ValueError(f"n_samples: expected at least 1 sample, got {n_samples}")
    return check_count(n_samples, "n_samples")


def _check_grid(grid: tuple[int, int] | int) -> tuple[int, int]:
    if isinstance(grid, numbers.Integral) and not isinstance(grid, bool):
        grid = (int(grid), int(grid))
    try:
        rows, cols = grid  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"grid: expected (rows, cols) of positive ints, got {grid!r}") from None
    for v in (rows, cols):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"grid: expected (rows, cols) of positive ints, got {grid!r}")
        if v > MAX_GRID:
            raise ValueError(f"grid: expected at most {MAX_GRID} tiles per side, got {grid!r}")
    return int(rows), int(cols)


def _check_tile(tile: int) -> int:
    if isinstance(tile, bool) or not isinstance(tile, numbers.Integral) or tile < 1:
        raise ValueError(f"tile: expected a positive int (pixels), got {tile!r}")
    return int(tile)


MCR2_LABELS = ("source", "tile")


def mcr2_labels(mosaic: Mosaic, kind: str) -> np.ndarray:
    """Class labels for MCR² on mosaics, shape (n_samples,), values ``0..k-1``.

    ``"source"``: the source photograph of the centre tile; ``"tile"``: the tile holding the most
    energy of the sample (after preprocessing).
    """
    if kind == "source":
        centre = (mosaic.grid[0] // 2) * mosaic.grid[1] + mosaic.grid[1] // 2
        y = mosaic.sources[:, centre, 0]
    elif kind == "tile":
        codes = mosaic.tile_map.ravel()
        energy = np.stack([(mosaic.X[:, codes == t] ** 2).sum(1) for t in range(mosaic.n_tiles)])
        y = energy.argmax(0)
    else:
        raise ValueError(f"kind: expected one of {MCR2_LABELS}, got {kind!r}")
    return np.unique(y, return_inverse=True)[1].astype(np.int64)


def across_tile_correlation(mosaic: Mosaic) -> float:
    """Mean |Pearson r| between pixels of different tiles, before whitening (0: independent)."""
    X = mosaic.X - mosaic.X.mean(0)
    sd = X.std(0)
    keep = sd > 0
    r = np.corrcoef(X[:, keep].T)
    codes = mosaic.tile_map.ravel()[keep]
    return float(np.abs(r[codes[:, None] != codes[None, :]]).mean())
