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
from typing import Any, ClassVar

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_scalar

__all__ = [
    "FilterAnalysis",
    "FilterLocality",
    "analyze_filters",
    "best_tile_fraction",
    "best_window_fraction",
    "cluster_shapes",
    "conv_likeness",
    "default_window",
    "energy_centroid",
    "filter_grid_image",
    "filter_locality",
    "hoyer_sparsity",
    "plot_filter_grid",
    "prune_filters",
    "shift_similarity",
    "spatial_spread",
    "support_is_local",
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
    # s is scale-free: dividing by the largest entry keeps the squares from under- or overflowing
    mag = np.abs(a)
    top = mag.max(axis=-1, keepdims=True)
    mag = np.divide(mag, top, out=np.zeros_like(mag), where=top > 0)
    l1 = mag.sum(axis=-1)
    l2 = np.sqrt((mag * mag).sum(axis=-1))
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


def _check_window(window: Any, image_shape: tuple[int, int]) -> tuple[int, int]:
    if isinstance(window, int | np.integer) and not isinstance(window, bool):
        window = (int(window), int(window))
    try:
        win = tuple(int(v) for v in window)
    except TypeError as exc:
        raise ValueError(f"window: expected an int or a pair (h, w), got {window!r}") from exc
    if len(win) != 2 or min(win) < 1:
        raise ValueError(f"window: expected positive sizes (h, w), got {window!r}")
    if win[0] > image_shape[0] or win[1] > image_shape[1]:
        raise ValueError(
            f"window: size {win} does not fit in the {image_shape[0]}x{image_shape[1]} image; "
            "pass a window no larger than image_shape"
        )
    return win  # type: ignore[return-value]


def default_window(image_shape: Any) -> tuple[int, int]:
    """The window used when no tile map is given: a third of each image side, rounded up.

    A third matches the 3x3 mosaics of Ingrosso & Goldt (2022), so a bank judged local against the
    tiles is also judged local against the window.

    >>> default_window((28, 28))
    (10, 10)
    """
    h, w = _check_image_shape(image_shape)
    return (-(-h // 3), -(-w // 3))


def best_window_fraction(filters: Any, image_shape: Any, window: Any = None) -> np.ndarray:
    r"""Largest share of each filter's energy inside any ``window``-sized rectangle of the image.

    The plain-geometry analogue of :func:`best_tile_fraction`, for images without a tile map:

    .. math:: f_i = \max_{R} \frac{\sum_{p \in R} w_{ip}^2}{\sum_p w_{ip}^2},

    over all axis-aligned rectangles :math:`R` of size ``window`` lying inside the image.

    Parameters
    ----------
    filters : array-like of shape (n_filters, H*W)
    image_shape : (H, W)
    window : int or (h, w), optional
        Defaults to :func:`default_window`.

    Returns
    -------
    ndarray of shape (n_filters,)
        An all-zero filter is treated as uniform: it gets ``h*w / (H*W)``.

    Examples
    --------
    >>> f = np.zeros((1, 16)); f[0, [0, 1, 4, 5]] = 1.0  # a 2x2 blob in a 4x4 image
    >>> best_window_fraction(f, (4, 4), window=2), best_window_fraction(f, (4, 4), window=1)
    (array([1.]), array([0.25]))
    """
    shape = _check_image_shape(image_shape)
    w = _check_filters(filters, shape)
    win = _check_window(default_window(shape) if window is None else window, shape)
    return _best_window_fraction(w, shape, win)


def _best_window_fraction(
    w: np.ndarray, shape: tuple[int, int], win: tuple[int, int]
) -> np.ndarray:
    h, wd = win
    energy = (w * w).reshape(-1, *shape)
    sat = np.zeros((len(w), shape[0] + 1, shape[1] + 1))
    sat[:, 1:, 1:] = energy.cumsum(axis=1).cumsum(axis=2)
    sums = sat[:, h:, wd:] - sat[:, :-h, wd:] - sat[:, h:, :-wd] + sat[:, :-h, :-wd]
    total = sat[:, -1, -1]
    best = sums.reshape(len(w), -1).max(axis=1)
    uniform = h * wd / (shape[0] * shape[1])
    return np.clip(np.divide(best, total, out=np.full(len(w), uniform), where=total > 0), 0, 1)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.indices(shape)
    return rows.reshape(-1).astype(float), cols.reshape(-1).astype(float)


def _energy_weights(w: np.ndarray) -> np.ndarray:
    """Rows of w**2 normalised to sum 1; all-zero rows become uniform."""
    e = w * w
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.full_like(e, 1.0 / e.shape[1]), where=total > 0)


def energy_centroid(filters: Any, image_shape: Any) -> np.ndarray:
    r"""Energy-weighted centroid :math:`c_i = \sum_p p\, w_{ip}^2 / \sum_p w_{ip}^2` (row, col).

    Returns an array of shape (n_filters, 2) in pixel coordinates (0 = first row/column); an
    all-zero filter is treated as uniform and gets the image centre.

    >>> f = np.zeros((1, 12)); f[0, 7] = 2.0  # pixel (row 1, col 3) of a 3x4 image
    >>> energy_centroid(f, (3, 4))
    array([[1., 3.]])
    """
    shape = _check_image_shape(image_shape)
    p = _energy_weights(_check_filters(filters, shape))
    rows, cols = _grid(shape)
    return np.stack([p @ rows, p @ cols], axis=1)


def spatial_spread(filters: Any, image_shape: Any) -> np.ndarray:
    r"""Spatial spread of each filter's energy around its centroid, in pixels.

    The root of the energy-weighted second moment,

    .. math:: \sigma_i = \Big(\sum_p \frac{w_{ip}^2}{\sum_q w_{iq}^2}\, \|p - c_i\|^2\Big)^{1/2},

    with :math:`p` a pixel's (row, col) position and :math:`c_i` the energy centroid. A single
    pixel has spread 0; energy uniform over an ``H x W`` image has
    :math:`\sqrt{(H^2 - 1)/12 + (W^2 - 1)/12}` (an all-zero filter is treated as uniform).

    Parameters
    ----------
    filters : array-like of shape (n_filters, H*W)
    image_shape : (H, W)

    Returns
    -------
    ndarray of shape (n_filters,), in pixels

    Examples
    --------
    >>> f = np.zeros((2, 9)); f[0, 4] = 1.0; f[1, [3, 5]] = 1.0  # centre pixel; two pixels apart
    >>> spatial_spread(f, (3, 3))
    array([0., 1.])
    """
    shape = _check_image_shape(image_shape)
    return _spatial_spread(_check_filters(filters, shape), shape)


def _spatial_spread(w: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    p = _energy_weights(w)
    rows, cols = _grid(shape)
    var = p @ (rows**2 + cols**2) - (p @ rows) ** 2 - (p @ cols) ** 2
    return np.sqrt(np.clip(var, 0.0, None))


def prune_filters(filters: Any, threshold: float = 0.2) -> np.ndarray:
    r"""Zero every weight whose magnitude is below ``threshold`` times its filter's max magnitude.

    .. math:: \tilde w_{ip} = w_{ip}\,[\,|w_{ip}| \ge \tau \max_q |w_{iq}|\,]

    Parameters
    ----------
    filters : array-like of shape (n_filters, n_pixels)
    threshold : float in [0, 1]
        0 keeps everything; 1 keeps only the largest weight(s).

    Returns
    -------
    ndarray of shape (n_filters, n_pixels)

    Examples
    --------
    >>> prune_filters([[1.0, -0.5, 0.1, 0.0]], threshold=0.3)
    array([[ 1. , -0.5,  0. ,  0. ]])
    """
    w = _check_filters(filters)
    tau = check_scalar(threshold, "threshold", low=0.0, high=1.0)
    return _prune(w, tau)


def _prune(w: np.ndarray, tau: float) -> np.ndarray:
    keep = np.abs(w) >= tau * np.abs(w).max(axis=1, keepdims=True)
    return np.where(keep & (w != 0), w, 0.0)


def support_is_local(
    support: Any, image_shape: Any, *, tile_map: Any = None, window: Any = None
) -> np.ndarray:
    """Whether each support (nonzero pattern) lies inside one tile, or fits in a window.

    Parameters
    ----------
    support : array-like of shape (n_filters, H*W)
        Nonzero entries mark the support (e.g. the output of :func:`prune_filters`).
    image_shape : (H, W)
    tile_map : array-like of int (H, W), optional
        With it: local = every support pixel carries the same tile label.
    window : int or (h, w), optional
        Without a tile map: local = the support's bounding box fits in an ``h x w`` rectangle
        (default :func:`default_window`).

    Returns
    -------
    ndarray of bool, shape (n_filters,)
        An empty support (all-zero filter) is not local.

    Examples
    --------
    >>> s = np.zeros((2, 16)); s[0, [0, 5]] = 1; s[1, [0, 15]] = 1
    >>> support_is_local(s, (4, 4), window=2).tolist()
    [True, False]
    >>> support_is_local(s, (4, 4), tile_map=np.repeat([[0, 0, 1, 1]], 4, axis=0)).tolist()
    [True, False]
    """
    shape = _check_image_shape(image_shape)
    mask = _check_filters(support, shape) != 0
    if tile_map is not None:
        return _local_in_tiles(mask, _check_tile_map(tile_map, image_shape=shape))
    win = _check_window(default_window(shape) if window is None else window, shape)
    return _local_in_window(mask, shape, win)


def _local_in_tiles(mask: np.ndarray, codes: np.ndarray) -> np.ndarray:
    n_tiles = int(codes.max()) + 1
    onehot = np.zeros((codes.size, n_tiles))
    onehot[np.arange(codes.size), codes.reshape(-1)] = 1.0
    tiles_touched = (mask.astype(float) @ onehot > 0).sum(axis=1)
    return tiles_touched == 1


def _bbox_extent(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Height and width of each support's bounding box (n_filters, 2); 0 for an empty support."""
    m = mask.reshape(-1, *shape)
    out = np.zeros((len(m), 2), dtype=int)
    for axis, col in ((2, 0), (1, 1)):
        hit = m.any(axis=axis)
        first = hit.argmax(axis=1)
        last = hit.shape[1] - 1 - hit[:, ::-1].argmax(axis=1)
        out[:, col] = np.where(hit.any(axis=1), last - first + 1, 0)
    return out


def _local_in_window(mask: np.ndarray, shape: tuple[int, int], win: tuple[int, int]) -> np.ndarray:
    ext = _bbox_extent(mask, shape)
    return (ext[:, 0] >= 1) & (ext[:, 0] <= win[0]) & (ext[:, 1] <= win[1])


# ------------------------------------------------------------------------------ repetition by shift
def _centre_on_canvas(w: np.ndarray, shape: tuple[int, int], pad: int) -> np.ndarray:
    """Place each filter on a (2H-1+2pad, 2W-1+2pad) canvas with its rounded centroid at the centre,
    then crop every canvas to the union bounding box of all filters (plus ``pad``)."""
    h, wd = shape
    n = len(w)
    centroid = np.rint(np.stack(_centroids(w, shape), axis=1)).astype(int)
    canvas = np.zeros((n, 2 * h - 1 + 2 * pad, 2 * wd - 1 + 2 * pad))
    img = w.reshape(n, h, wd)
    for i in range(n):
        r0 = h - 1 + pad - centroid[i, 0]
        c0 = wd - 1 + pad - centroid[i, 1]
        canvas[i, r0 : r0 + h, c0 : c0 + wd] = img[i]
    used = (canvas != 0).any(axis=0)
    if not used.any():
        return canvas[:, :1, :1]
    rows = np.flatnonzero(used.any(axis=1))
    cols = np.flatnonzero(used.any(axis=0))
    r_lo, r_hi = max(rows[0] - pad, 0), rows[-1] + pad + 1
    c_lo, c_hi = max(cols[0] - pad, 0), cols[-1] + pad + 1
    return canvas[:, r_lo:r_hi, c_lo:c_hi]


def _centroids(w: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    p = _energy_weights(w)
    rows, cols = _grid(shape)
    return p @ rows, p @ cols


def shift_similarity(filters: Any, image_shape: Any, *, max_residual_shift: int = 1) -> np.ndarray:
    r"""Cosine similarity of every pair of filters after aligning them by translation.

    Each filter is first moved so that its energy centroid (rounded) sits at a common origin; the
    similarity is then the best normalised cross-correlation over residual shifts of at most
    ``max_residual_shift`` pixels in each direction (absorbing centroid rounding and noise):

    .. math:: S_{ij} = \max_{\|s\|_\infty \le r} \frac{\langle \hat w_i, T_s \hat w_j\rangle}
              {\|w_i\|\,\|w_j\|}

    with :math:`T_s` a zero-padded shift. Signs matter (a negated filter has similarity -1). An
    all-zero filter has similarity 1 with other all-zero filters and 0 with the rest.

    Parameters
    ----------
    filters : array-like of shape (n_filters, H*W)
    image_shape : (H, W)
    max_residual_shift : int >= 0

    Returns
    -------
    ndarray of shape (n_filters, n_filters), symmetric, ones on the diagonal.

    Examples
    --------
    >>> a = np.zeros((5, 5)); a[1, 1:3] = [1.0, -1.0]
    >>> b = np.roll(a, (2, 2), axis=(0, 1))  # the same shape, moved
    >>> shift_similarity(np.stack([a.ravel(), b.ravel()]), (5, 5)).round(6).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    shape = _check_image_shape(image_shape)
    w = _check_filters(filters, shape)
    r = check_scalar(max_residual_shift, "max_residual_shift", kind=int, low=0)
    return _shift_similarity(w, shape, r)


def _shift_similarity(w: np.ndarray, shape: tuple[int, int], r: int) -> np.ndarray:
    canvas = _centre_on_canvas(w, shape, pad=r)
    flat = canvas.reshape(len(w), -1)
    norm = np.linalg.norm(flat, axis=1)
    zero = norm == 0
    unit = np.divide(flat, norm[:, None], out=np.zeros_like(flat), where=~zero[:, None])
    sim = np.full((len(w), len(w)), -np.inf)
    for dr in range(-r, r + 1):
        for dc in range(-r, r + 1):
            moved = np.roll(canvas, (dr, dc), axis=(1, 2)).reshape(len(w), -1)
            moved = np.divide(moved, norm[:, None], out=np.zeros_like(moved), where=~zero[:, None])
            np.maximum(sim, unit @ moved.T, out=sim)
    sim = np.maximum(sim, sim.T)  # exact symmetry (S_s = S_{-s}^T up to rounding)
    sim[np.ix_(zero, zero)] = 1.0
    np.fill_diagonal(sim, 1.0)
    return np.clip(sim, -1.0, 1.0)


def cluster_shapes(similarity: Any, threshold: float = 0.8) -> np.ndarray:
    """Group filters into shapes: average-linkage clustering of ``1 - similarity``, cut so that
    shapes are joined while their average similarity is at least ``threshold``.

    Parameters
    ----------
    similarity : array-like (n_filters, n_filters)
        Symmetric similarities in [-1, 1] (e.g. :func:`shift_similarity`).
    threshold : float in (-1, 1]

    Returns
    -------
    ndarray of int (n_filters,)
        Shape labels 0..n_shapes-1, numbered by decreasing cluster size.

    Examples
    --------
    >>> cluster_shapes([[1, 0.95, 0.1], [0.95, 1, 0.0], [0.1, 0.0, 1]]).tolist()
    [0, 0, 1]
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    sim = check_array(similarity, "similarity", ndim=2)
    if sim.shape[0] != sim.shape[1]:
        raise ValueError(f"similarity: expected a square matrix, got shape {sim.shape}")
    tau = check_scalar(threshold, "threshold", low=-1.0, high=1.0, low_inclusive=False)
    n = len(sim)
    if n == 1:
        return np.zeros(1, dtype=int)
    dist = np.clip(1.0 - (sim + sim.T) / 2.0, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    raw = fcluster(linkage(squareform(dist, checks=False), method="average"), 1.0 - tau, "distance")
    _, inverse, counts = np.unique(raw, return_inverse=True, return_counts=True)
    rank = np.empty_like(counts)
    rank[np.argsort(-counts, kind="stable")] = np.arange(len(counts))
    return rank[inverse].astype(int)


def conv_likeness(locality: float, n_shapes: int, n_filters: int) -> tuple[float, float]:
    r"""Conv-likeness of a bank: the geometric mean of locality and repetition.

    .. math:: R = 1 - \frac{n_\text{shapes} - 1}{n_\text{filters} - 1}, \qquad
              C = \sqrt{L \cdot R}

    :math:`L` is the share of filters whose pruned support is local; :math:`R` is 1 when every
    filter is a translated copy of one shape and 0 when no two filters share a shape (a single
    filter has :math:`R = 0`: no evidence of weight sharing). A convolution has :math:`C = 1`; the
    geometric mean is 0 when either ingredient (locality or weight sharing) is missing.

    Returns
    -------
    (conv_likeness, repetition)

    Examples
    --------
    >>> conv_likeness(1.0, 4, 100)
    (0.9848..., 0.9696...)
    """
    locality = check_scalar(locality, "locality", low=0.0, high=1.0)
    n_filters = check_scalar(n_filters, "n_filters", kind=(int, np.integer), low=1)
    n_shapes = check_scalar(n_shapes, "n_shapes", kind=(int, np.integer), low=1, high=n_filters)
    if n_filters <= 1:
        repetition = 0.0
    else:
        repetition = 1.0 - (n_shapes - 1) / (n_filters - 1)
    return float(np.sqrt(locality * repetition)), float(repetition)


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


# ------------------------------------------------------------------------------------ full analysis
def _tile_borders(codes: np.ndarray) -> list[list[tuple[float, float]]]:
    """Unit segments (in imshow pixel coordinates) between neighbouring pixels of different tiles."""
    rows, cols = np.nonzero(codes[:, 1:] != codes[:, :-1])
    segs = [[(c + 0.5, r - 0.5), (c + 0.5, r + 0.5)] for r, c in zip(rows, cols, strict=True)]
    rows, cols = np.nonzero(codes[1:, :] != codes[:-1, :])
    segs += [[(c - 0.5, r + 0.5), (c + 0.5, r + 0.5)] for r, c in zip(rows, cols, strict=True)]
    return segs


_FIGURE_ONLY = ("filters", "tile_codes", "support")


@dataclass
class FilterAnalysis(AnalysisResult, Summarised):
    """Everything :func:`analyze_filters` measures on a bank of filters.

    Per filter (arrays of shape (n_filters,)): ``locality_fraction`` (best-tile, or best-window
    without a tile map, energy fraction), ``spread_px``, ``hoyer``, ``support_size`` (pixels left
    after pruning), ``support_local`` and ``shape_label``. Per bank: ``locality`` (share of filters
    whose pruned support is local), ``n_shapes``, ``repetition`` and ``conv_likeness`` (see
    :func:`conv_likeness`), medians, and ``code_hoyer`` (per sample) when codes were given.
    ``filters``, ``support`` and ``tile_codes`` are kept for the figures and left out of
    :meth:`to_dict`.
    """

    image_shape: tuple[int, int]
    geometry: str
    n_tiles: int | None
    window: tuple[int, int] | None
    threshold: float
    similarity_threshold: float
    locality_fraction: np.ndarray
    spread_px: np.ndarray
    hoyer: np.ndarray
    support_size: np.ndarray
    support_local: np.ndarray
    shape_label: np.ndarray
    n_shapes: int
    locality: float
    repetition: float
    conv_likeness: float
    code_hoyer: np.ndarray | None = None
    filters: np.ndarray | None = field(default=None, repr=False)
    support: np.ndarray | None = field(default=None, repr=False)
    tile_codes: np.ndarray | None = field(default=None, repr=False)
    locality_threshold: float = 0.9
    median_locality_fraction: float = field(init=False)
    share_local: float = field(init=False)
    median_spread_px: float = field(init=False)
    median_hoyer: float = field(init=False)
    mean_code_hoyer: float | None = field(init=False)

    scalars: ClassVar[dict[str, Scalar]] = {
        "median_locality_fraction": Scalar(
            "fraction",
            higher_is_better=True,
            chance=lambda r: r._chance(),
            doc="median over filters of the energy fraction inside the best tile (or window)",
        ),
        "share_local": Scalar(
            "fraction", True, doc="share of filters whose fraction exceeds locality_threshold"
        ),
        "locality": Scalar("fraction", True, doc="share of filters with a local pruned support"),
        "n_shapes": Scalar("count", False, doc="distinct shapes up to translation"),
        "repetition": Scalar("fraction", True, doc="1 - (n_shapes - 1) / (n_filters - 1)"),
        "conv_likeness": Scalar("fraction", True, doc="sqrt(locality x repetition)"),
        "median_spread_px": Scalar("px", False, doc="median spatial spread of filter energy"),
        "median_hoyer": Scalar("fraction", True, doc="median Hoyer sparsity of the filters"),
        "mean_code_hoyer": Scalar("fraction", True, doc="mean Hoyer sparsity of the codes"),
    }

    def __post_init__(self) -> None:
        self.median_locality_fraction = float(np.median(self.locality_fraction))
        self.share_local = float(np.mean(self.locality_fraction > self.locality_threshold))
        self.median_spread_px = float(np.median(self.spread_px))
        self.median_hoyer = float(np.median(self.hoyer))
        self.mean_code_hoyer = None if self.code_hoyer is None else float(np.mean(self.code_hoyer))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and per-filter arrays (the weights themselves are left out)."""
        out = super().to_dict()
        for key in _FIGURE_ONLY:
            out.pop(key, None)
        return out

    def _chance(self) -> float:
        h, w = self.image_shape
        if self.geometry == "tiles":
            return 1.0 / float(self.n_tiles or 1)
        win = self.window or (h, w)
        return win[0] * win[1] / (h * w)

    def plot(self, ax: Any = None) -> Any:
        """Locality histogram: best-tile (or best-window) energy fraction per filter."""
        ax = new_axes(ax)
        ax.hist(self.locality_fraction, bins=np.linspace(0.0, 1.0, 41), color="C0")
        chance = self._chance()
        ax.axvline(chance, color="k", ls="--", lw=1, label=f"no locality ({chance:.2f})")
        ax.axvline(self.median_locality_fraction, color="C3", lw=1.5, label="median")
        where = "tile" if self.geometry == "tiles" else f"{self.window[0]}x{self.window[1]} window"  # type: ignore[index]
        ax.set_xlabel(f"best-{where} energy fraction")
        ax.set_ylabel("number of filters")
        ax.set_xlim(0.0, 1.0)
        ax.set_title(
            f"conv-likeness {self.conv_likeness:.2f} (local {self.locality:.2f}, "
            f"{self.n_shapes} shapes)",
            fontsize="small",
        )
        ax.legend(frameon=False, fontsize="small")
        return ax

    def plot_gallery(self, ax: Any = None, n_max: int = 256) -> Any:
        """The filter gallery (see :func:`plot_filter_grid`), filters grouped by shape."""
        if self.filters is None:
            raise ValueError("filters: this result was built without filters; cannot draw them")
        order = np.argsort(self.shape_label, kind="stable")
        return plot_filter_grid(self.filters[order], self.image_shape, ax=ax, n_max=n_max)

    def plot_support_map(self, ax: Any = None) -> Any:
        """How many filters' pruned support covers each pixel, with tile borders drawn."""
        if self.support is None:
            raise ValueError("support: this result was built without supports; cannot draw them")
        ax = new_axes(ax, figsize=(4.5, 4.0))
        count = (self.support != 0).sum(axis=0).reshape(self.image_shape)
        im = ax.imshow(count, cmap="viridis", interpolation="nearest")
        ax.figure.colorbar(im, ax=ax, label="filters with pruned support here")
        if self.tile_codes is not None:
            from matplotlib.collections import LineCollection

            ax.add_collection(LineCollection(_tile_borders(self.tile_codes), colors="w", lw=0.8))
        ax.set_title(
            f"pruned support (|w| >= {self.threshold:g} max|w|): {self.locality:.0%} local",
            fontsize="small",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    def figure(self) -> Any:
        """Study figure: filter gallery, locality histogram and pruned support map side by side."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.4), constrained_layout=True)
        self.plot_gallery(axes[0])
        self.plot(axes[1])
        self.plot_support_map(axes[2])
        return fig


def analyze_filters(
    filters: Any,
    image_shape: Any,
    tile_map: Any = None,
    *,
    threshold: float = 0.2,
    window: Any = None,
    similarity_threshold: float = 0.8,
    max_residual_shift: int = 1,
    codes: Any = None,
    locality_threshold: float = 0.9,
) -> FilterAnalysis:
    """How close a fully connected layer has come to a convolution.

    Parameters
    ----------
    filters : array-like of shape (n_filters, H*W)
        Rows are filters over the image, flattened row-major: the ``weight`` of an ``nn.Linear``
        fed with flattened images (``weight`` is (out, in), so rows are the hidden units' fan-in).
    image_shape : (H, W)
    tile_map : array-like of int (H, W), optional
        The data's tile map (e.g. ``Mosaic.tile_map``). Without it locality is measured against a
        ``window`` (plain image geometry).
    threshold : float in [0, 1]
        Pruning level: weights below ``threshold * max|w|`` of their filter are zeroed before the
        support and repetition are examined.
    window : int or (h, w), optional
        The window for locality without a tile map (default: a third of each side).
    similarity_threshold : float
        Two filters are the same shape when their shift-aligned cosine similarity (average
        linkage) is at least this.
    max_residual_shift : int
        Residual shift, in pixels, searched around the centroid alignment.
    codes : array-like of shape (n_samples, n_filters), optional
        The layer's outputs; their per-sample Hoyer sparsity is reported as ``code_hoyer``.
    locality_threshold : float in [0, 1]
        ``share_local`` is the share of filters whose best-tile (or window) fraction exceeds it.

    Returns
    -------
    FilterAnalysis

    Examples
    --------
    >>> tm = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 4, 0), 4, 1)  # 2x2 tiles of 4x4
    >>> blob = np.zeros((8, 8)); blob[1:3, 1:3] = 1.0
    >>> bank = np.stack([np.roll(blob, (4 * (t // 2), 4 * (t % 2)), (0, 1)).ravel() for t in range(4)])
    >>> res = analyze_filters(bank, (8, 8), tm)
    >>> res.n_shapes, res.locality, res.median_locality_fraction
    (1, 1.0, 1.0)
    """
    shape = _check_image_shape(image_shape)
    w = _check_filters(filters, shape)
    tau = check_scalar(threshold, "threshold", low=0.0, high=1.0)
    sim_tau = check_scalar(similarity_threshold, "similarity_threshold", low=-1.0, high=1.0)
    r = check_scalar(max_residual_shift, "max_residual_shift", kind=int, low=0)
    loc_tau = check_scalar(locality_threshold, "locality_threshold", low=0.0, high=1.0)
    codes_arr = None
    if codes is not None:
        codes_arr = check_array(codes, "codes", ndim=2)
        if codes_arr.shape[1] != len(w):
            raise ValueError(
                f"codes: expected shape (n_samples, {len(w)}) (one column per filter), "
                f"got {codes_arr.shape}"
            )
    tile_codes, win = None, None
    if tile_map is not None:
        tile_codes = _check_tile_map(tile_map, image_shape=shape)
        frac = _best_tile_fraction(w, tile_codes)
    else:
        win = _check_window(default_window(shape) if window is None else window, shape)
        frac = _best_window_fraction(w, shape, win)
    pruned = _prune(w, tau)
    mask = pruned != 0
    local = (
        _local_in_tiles(mask, tile_codes)
        if tile_codes is not None
        else _local_in_window(mask, shape, win)
    )  # type: ignore[arg-type]
    labels = cluster_shapes(_shift_similarity(pruned, shape, r), sim_tau)
    n_shapes = int(labels.max()) + 1
    locality = float(local.mean())
    score, repetition = conv_likeness(locality, n_shapes, len(w))
    return FilterAnalysis(
        image_shape=shape,
        geometry="tiles" if tile_codes is not None else "window",
        n_tiles=None if tile_codes is None else int(tile_codes.max()) + 1,
        window=win,
        threshold=float(tau),
        similarity_threshold=float(sim_tau),
        locality_fraction=frac,
        spread_px=_spatial_spread(w, shape),
        hoyer=hoyer_sparsity(w),
        support_size=mask.sum(axis=1),
        support_local=local,
        shape_label=labels,
        n_shapes=n_shapes,
        locality=locality,
        repetition=repetition,
        conv_likeness=score,
        code_hoyer=None if codes_arr is None else hoyer_sparsity(codes_arr),
        filters=w,
        support=pruned,
        tile_codes=tile_codes,
        locality_threshold=float(loc_tau),
    )
