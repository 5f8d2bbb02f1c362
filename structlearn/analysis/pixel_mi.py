"""Mutual information between pixel values as a function of their offset (nats).

For images :math:`x`, the dependence between the pixel at :math:`p` and the pixel at
:math:`p + (\\Delta y, \\Delta x)`, pooled over positions and images, with plug-in MI on
equal-population (quantile) bins, its permutation baseline (the estimator's floor), the radial
average against distance and a fitted decay length. How slowly this decays is the "long-range
dependence" that local receptive fields cannot capture in one layer; on mosaics it is cut at tile
borders, and after a bank of edge filters only a residual remains.

References
----------
- D. J. Field, "Relations between the statistics of natural images and the response properties of
  cortical cells", JOSA A 4 (1987); D. L. Ruderman, "The statistics of natural images", Network 5
  (1994): scale-invariant, slowly decaying pixel correlations.
- A. Ingrosso & S. Goldt, "Data-driven emergence of convolutional structure in neural networks",
  PNAS 119 (2022): mosaics whose tiles are independent.
- L. Paninski, "Estimation of entropy and mutual information", Neural Computation 15 (2003): the
  bias of the plug-in estimator, which the permutation baseline measures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import (
    check_array,
    check_option,
    check_random_state,
    check_scalar,
    to_numpy,
)

__all__ = [
    "MosaicPixelMI",
    "PixelMI",
    "analyze_pixel_mi",
    "disc_offsets",
    "edge_feature_maps",
    "pixel_mi_by_offset",
    "pixel_mi_feature_maps",
    "pixel_mi_mosaic",
    "quantile_codes",
]


# --------------------------------------------------------------------------------------- validation
def _check_images(images: Any) -> list[np.ndarray]:
    """Images (n_images, H, W) or a list of 2-D arrays -> list of finite float64 2-D arrays."""
    if isinstance(images, list | tuple):
        if len(images) == 0:
            raise ValueError("images: expected at least one image, got an empty list")
        out = [check_array(im, f"images[{i}]", ndim=2) for i, im in enumerate(images)]
    else:
        arr = check_array(images, "images", ndim=(2, 3))
        out = [arr] if arr.ndim == 2 else list(arr)
    return out


def disc_offsets(max_distance: int) -> np.ndarray:
    """Offsets (dy, dx) with :math:`\\sqrt{dy^2 + dx^2} \\le` ``max_distance``, one of each pair
    :math:`\\pm(dy, dx)` (MI is symmetric under swapping the two pixels): the half-plane
    ``dy > 0 or (dy == 0 and dx >= 0)``, sorted by distance. Shape (n_offsets, 2).

    >>> disc_offsets(1).tolist()
    [[0, 0], [0, 1], [1, 0]]
    >>> disc_offsets(2)[3:].tolist()
    [[1, -1], [1, 1], [0, 2], [2, 0]]
    """
    r = check_scalar(max_distance, "max_distance", kind=(int, np.integer), low=0)
    dy, dx = np.mgrid[0 : r + 1, -r : r + 1]
    dy, dx = dy.ravel(), dx.ravel()
    keep = (dy * dy + dx * dx <= r * r) & ((dy > 0) | (dx >= 0))
    off = np.stack([dy[keep], dx[keep]], axis=1)
    order = np.lexsort((off[:, 1], off[:, 0], np.hypot(off[:, 0], off[:, 1]).round(9)))
    return off[order]


def _check_offsets(offsets: Any, shapes: list[tuple[int, int]]) -> np.ndarray:
    off = to_numpy(offsets)
    if off.ndim != 2 or off.shape[1] != 2 or len(off) == 0:
        raise ValueError(
            f"offsets: expected an integer array of shape (n_offsets, 2) of (dy, dx), got shape "
            f"{off.shape}"
        )
    if not np.issubdtype(off.dtype, np.integer):
        if not (np.issubdtype(off.dtype, np.floating) and np.all(off == np.round(off))):
            raise ValueError(f"offsets: expected integer (dy, dx) pairs, got dtype={off.dtype}")
    off = off.astype(np.intp)
    h = min(s[0] for s in shapes)
    w = min(s[1] for s in shapes)
    bad = (np.abs(off[:, 0]) >= h) | (np.abs(off[:, 1]) >= w)
    if bad.any():
        raise ValueError(
            f"offsets: {tuple(off[bad][0])} (dy, dx) reaches beyond the smallest image ({h}x{w}); "
            f"every |dy| must be < {h} and |dx| < {w}"
        )
    # Canonical half-plane: (dy, dx) and (-dy, -dx) give the same MI.
    flip = (off[:, 0] < 0) | ((off[:, 0] == 0) & (off[:, 1] < 0))
    off[flip] *= -1
    return off


# ------------------------------------------------------------------------------------------ binning
def quantile_codes(images: Any, n_bins: int = 64) -> tuple[list[np.ndarray], int]:
    """Equal-population bin codes of pixel values pooled over all images.

    Edges are the ``k / n_bins`` quantiles of the pooled values; a value gets the number of edges
    it is at or above. Tied values always share a bin (so some bins may hold more than their
    share, or none, when the data are discrete, e.g. 8-bit photographs).

    Parameters
    ----------
    images : array-like (n_images, H, W) or list of 2-D arrays
    n_bins : int in [2, 256]

    Returns
    -------
    (codes, n_bins) : list of uint8 arrays of the images' shapes, and the number of bins.

    Examples
    --------
    >>> codes, n = quantile_codes([np.arange(8.0).reshape(2, 4)], n_bins=4)
    >>> codes[0].tolist(), n
    ([[0, 0, 1, 1], [2, 2, 3, 3]], 4)
    """
    imgs = _check_images(images)
    b = check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=2, high=256)
    return _quantile_codes(imgs, int(b)), int(b)


def _quantile_codes(imgs: list[np.ndarray], n_bins: int) -> list[np.ndarray]:
    pooled = np.concatenate([im.ravel() for im in imgs])
    edges = np.quantile(pooled, np.arange(1, n_bins) / n_bins)
    return [np.searchsorted(edges, im, side="right").astype(np.uint8) for im in imgs]


# ------------------------------------------------------------------------------------- the counting
def _pair_slices(dy: int, dx: int, h: int, w: int) -> tuple[tuple, tuple]:
    """Slices (over the last two axes) of the first and second pixel of every pair at offset
    (dy >= 0, dx)."""
    if dx >= 0:
        return np.s_[..., : h - dy, : w - dx], np.s_[..., dy:, dx:]
    return np.s_[..., : h - dy, -dx:], np.s_[..., dy:, : w + dx]


def _mi_from_counts(counts: np.ndarray) -> np.ndarray:
    r"""Plug-in MI (nats) of joint histograms (..., B, B):
    :math:`\sum_{ab} p_{ab} \log \frac{p_{ab}}{p_a p_b}`."""
    counts = counts.astype(np.float64)
    n = counts.sum(axis=(-2, -1), keepdims=True)
    pa = counts.sum(axis=-1, keepdims=True)
    pb = counts.sum(axis=-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = counts * np.log(counts * n / (pa * pb))
    terms = np.where(counts > 0, terms, 0.0)
    mi = terms.sum(axis=(-2, -1)) / np.maximum(n[..., 0, 0], 1.0)
    return np.maximum(mi, 0.0)


_CHUNK_PIXELS = 1 << 18  # ~256k pixel pairs per bincount: the uint16 joint codes stay in cache


def _chunks(codes: list[np.ndarray]) -> list[np.ndarray]:
    """Consecutive images of one shape stacked into (k, H, W) blocks of about _CHUNK_PIXELS."""
    out: list[np.ndarray] = []
    i = 0
    while i < len(codes):
        shape = codes[i].shape
        k = max(1, _CHUNK_PIXELS // codes[i].size)
        j = i
        while j < len(codes) and j - i < k and codes[j].shape == shape:
            j += 1
        out.append(np.stack(codes[i:j]))
        i = j
    return out


def _joint_counts(
    codes: list[np.ndarray],
    partners: list[np.ndarray],
    offsets: np.ndarray,
    n_bins: int,
    tiles: np.ndarray | None = None,
) -> np.ndarray:
    """Joint histograms of (codes[i][p], partners[i][p + offset]) for every offset.

    ``codes`` and ``partners`` are lists of (H, W) uint8 code arrays of matching shapes. The joint
    code ``a * B + b`` is a uint16 (B <= 256) and one ``bincount`` per chunk of images counts it.
    Returns (n_offsets, n_groups, B, B); without ``tiles`` there is one group. ``tiles`` (H, W)
    labels each pixel's tile; pairs are then split into same-tile (group 0) and different-tile
    (group 1).
    """
    bb = n_bins * n_bins
    n_groups = 1 if tiles is None else 2
    out = np.zeros((len(offsets), n_groups, bb), dtype=np.int64)
    scaled = [c.astype(np.uint16) * np.uint16(n_bins) for c in _chunks(codes)]
    for a_full, b_full in zip(scaled, _chunks(partners), strict=True):
        h, w = a_full.shape[-2:]
        for i, (dy, dx) in enumerate(offsets):
            sa, sb = _pair_slices(int(dy), int(dx), h, w)
            joint = a_full[sa] + b_full[sb]
            if tiles is None:
                out[i, 0] += np.bincount(joint.ravel(), minlength=bb)
            else:
                same = tiles[sa[1:]] == tiles[sb[1:]]
                out[i, 0] += np.bincount(joint[:, same].ravel(), minlength=bb)
                out[i, 1] += np.bincount(joint[:, ~same].ravel(), minlength=bb)
    return out.reshape(len(offsets), n_groups, n_bins, n_bins)


def _null_partners(
    codes: list[np.ndarray], baseline: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """Partner images for one draw of the permutation baseline.

    ``"pixels"``: every pixel code permuted across all positions and images (shapes kept).
    ``"images"``: image i is paired with image pi(i), pi a random cyclic derangement, so pairs keep
    each image's spatial clustering (and so the estimator's bias under dependent samples) but
    come from independent images.
    """
    if baseline == "images":
        order = rng.permutation(len(codes))
        partner = np.empty(len(codes), dtype=int)
        partner[order] = np.roll(order, -1)
        return [codes[j] for j in partner]
    flat = rng.permutation(np.concatenate([c.ravel() for c in codes]))
    out, start = [], 0
    for c in codes:
        out.append(flat[start : start + c.size].reshape(c.shape))
        start += c.size
    return out


def _pixel_mi(
    codes: list[np.ndarray],
    offsets: np.ndarray,
    n_bins: int,
    n_permutations: int,
    rng: np.random.Generator,
    baseline: str,
    tiles: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MI (n_offsets, n_groups), baseline mean and sd over permutations, and pair counts."""
    counts = _joint_counts(codes, codes, offsets, n_bins, tiles)
    mi = _mi_from_counts(counts)
    null = np.stack(
        [
            _mi_from_counts(
                _joint_counts(codes, _null_partners(codes, baseline, rng), offsets, n_bins, tiles)
            )
            for _ in range(n_permutations)
        ]
    )
    n_pairs = counts.sum(axis=(-2, -1))
    sd = null.std(axis=0, ddof=1) if n_permutations > 1 else np.zeros_like(mi)
    return mi, null.mean(axis=0), sd, n_pairs


# ------------------------------------------------------------------------------------ radial + fit
def _radial(distance: np.ndarray, values: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """Average of ``values`` over offsets in rings of integer-rounded distance (only offsets with
    ``weight > 0``, i.e. with pairs). Returns (radius, mean) for the occupied rings."""
    ring = np.rint(distance).astype(int)
    ok = weight > 0
    radius = np.unique(ring[ok])
    mean = np.array([values[ok & (ring == r)].mean() for r in radius])
    return radius, mean


def _fit_decay(
    radius: np.ndarray, excess: np.ndarray, stacklevel: int = 3
) -> tuple[float, float, float]:
    r"""Fit :math:`A e^{-(r-1)/\xi} + c` (:math:`A, c \ge 0`) to the excess MI at r >= 1.

    Returns (xi, A, c). Warns, and returns xi = the largest radius (a lower bound), when there are
    fewer than 3 distances or the curve does not decay.
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    sel = radius >= 1
    r, y = radius[sel].astype(float), excess[sel]
    r_max = float(r.max()) if len(r) else 1.0
    if len(r) < 3 or not (y[0] > y[-1]):
        why = "fewer than 3 distances >= 1 px" if len(r) < 3 else "MI does not decay over them"
        warnings.warn(
            f"cannot fit a decay length ({why}); decay_length_px is set to the largest distance "
            "measured (a lower bound). Increase max_distance to measure it.",
            UserWarning,
            stacklevel=stacklevel,
        )
        return r_max, max(float(y[0]) if len(y) else 0.0, 0.0), 0.0

    def model(rr: np.ndarray, a: float, xi: float, c: float) -> np.ndarray:
        return a * np.exp(-(rr - 1.0) / xi) + c

    p0 = (max(y[0] - y[-1], 1e-6), max(r_max / 4, 0.5), max(y[-1], 0.0))
    bounds = ([0.0, 1e-3, 0.0], [np.inf, 100.0 * r_max, np.inf])
    try:
        with warnings.catch_warnings():  # only the parameters' covariance is unavailable
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, xi, c), _ = curve_fit(model, r, y, p0=p0, bounds=bounds, maxfev=5000)
    except RuntimeError:
        warnings.warn(
            "the exponential fit of MI vs distance did not converge; decay_length_px falls back "
            "to the distance where the excess MI first drops below 1/e of its value at 1 pixel",
            UserWarning,
            stacklevel=stacklevel,
        )
        below = np.flatnonzero(y <= y[0] / np.e)
        xi = float(r[below[0]] - 1.0) if len(below) else r_max
        return max(xi, 1e-3), float(y[0]), 0.0
    return float(xi), float(a), float(c)


# ------------------------------------------------------------------------------------------ results
@dataclass
class PixelMI(AnalysisResult, Summarised):
    """Pixel-pair MI by offset (nats) and its radial profile.

    Attributes
    ----------
    offsets : ndarray (n_offsets, 2)
        (dy, dx), one of each symmetric pair.
    distance : ndarray (n_offsets,)
        Euclidean length of each offset, pixels.
    mi_nats, baseline_nats, baseline_sd_nats : ndarray (n_offsets,)
        Plug-in MI, and mean and standard deviation of the MI with one pixel of each pair
        permuted across all positions and images (``n_permutations`` draws).
    radius : ndarray (n_radii,)
        Integer distances (offsets rounded), from 0.
    mi_radial_nats, baseline_radial_nats : ndarray (n_radii,)
        Averages over the offsets of each ring.
    decay_length_px, decay_amplitude_nats, decay_floor_nats : float
        Fit of :math:`A e^{-(r-1)/\\xi} + c` to the radial excess MI over the baseline, r >= 1.
    entropy_nats : float
        Binned pixel entropy (= MI at offset (0, 0)).
    n_bins, n_images, n_permutations : int
    baseline : str
        ``"images"`` or ``"pixels"``: how the baseline's pairs were made independent.
    label : str
        What was measured (e.g. "pixels", "feature maps (gabor, 4 channels)").
    """

    offsets: np.ndarray
    distance: np.ndarray
    mi_nats: np.ndarray
    baseline_nats: np.ndarray
    baseline_sd_nats: np.ndarray
    radius: np.ndarray
    mi_radial_nats: np.ndarray
    baseline_radial_nats: np.ndarray
    decay_length_px: float
    decay_amplitude_nats: float
    decay_floor_nats: float
    entropy_nats: float
    n_bins: int
    n_images: int
    n_permutations: int
    baseline: str
    label: str = "pixels"

    scalars: ClassVar[dict[str, Scalar]] = {
        "decay_length_px": Scalar("px", doc="fitted decay length of the excess MI"),
        "decay_amplitude_nats": Scalar("nats", doc="fitted excess MI at 1 px"),
        "decay_floor_nats": Scalar("nats", doc="fitted excess MI far away"),
        "entropy_nats": Scalar("nats", doc="binned value entropy (MI at offset 0)"),
    }

    def mi_at(self, dy: int, dx: int) -> float:
        """MI (nats) at offset (dy, dx) (either sign)."""
        if dy < 0 or (dy == 0 and dx < 0):
            dy, dx = -dy, -dx
        hit = np.flatnonzero((self.offsets[:, 0] == dy) & (self.offsets[:, 1] == dx))
        if len(hit) == 0:
            raise ValueError(f"offset: ({dy}, {dx}) was not measured")
        return float(self.mi_nats[hit[0]])

    def mi_map(self) -> np.ma.MaskedArray:
        """MI by offset on a (2R+1, 2R+1) grid centred on offset (0, 0); offsets not measured are
        masked. Row index = dy + R, column index = dx + R."""
        r = int(np.abs(self.offsets).max())
        grid = np.ma.masked_all((2 * r + 1, 2 * r + 1))
        for (dy, dx), v in zip(self.offsets, self.mi_nats, strict=True):
            grid[r + dy, r + dx] = v
            grid[r - dy, r - dx] = v
        return grid

    def plot(self, ax: Any = None) -> Any:
        """MI vs distance (radial average), the permutation baseline and the fitted decay."""
        ax = new_axes(ax)
        sel = self.radius >= 1
        r = self.radius[sel]
        ax.plot(r, self.mi_radial_nats[sel], "o-", ms=3, label=f"MI ({self.label})")
        ax.plot(r, self.baseline_radial_nats[sel], "k--", lw=1, label="permutation baseline")
        rr = np.linspace(1, r.max(), 200) if len(r) else np.array([1.0])
        fit = self.decay_amplitude_nats * np.exp(-(rr - 1) / self.decay_length_px)
        ax.plot(
            rr,
            fit + self.decay_floor_nats + np.interp(rr, r, self.baseline_radial_nats[sel]),
            "C3:",
            label=f"fit, decay length {self.decay_length_px:.1f} px",
        )
        ax.set_xlabel("distance between pixels (px)")
        ax.set_ylabel("mutual information (nats)")
        ax.set_ylim(bottom=0.0)
        ax.legend(frameon=False, fontsize="small")
        return ax

    def plot_map(self, ax: Any = None) -> Any:
        """2-D map of MI (nats) by offset (dx right, dy down); (0, 0) is masked to keep contrast."""
        ax = new_axes(ax, figsize=(4.5, 4.0))
        grid = self.mi_map()
        r = grid.shape[0] // 2
        grid[r, r] = np.ma.masked
        im = ax.imshow(grid, extent=(-r - 0.5, r + 0.5, r + 0.5, -r - 0.5), cmap="magma")
        ax.figure.colorbar(im, ax=ax, label="MI (nats)")
        ax.set_xlabel("dx (px)")
        ax.set_ylabel("dy (px)")
        ax.set_title(f"pixel-pair MI by offset ({self.label})", fontsize="small")
        return ax


@dataclass
class MosaicPixelMI(AnalysisResult, Summarised):
    """Pixel-pair MI (nats) on mosaics, split into pairs inside one tile and pairs across tiles.

    Per-offset arrays have shape (n_offsets,); an offset with no pair of a kind has 0 pairs
    (``n_pairs_within``/``n_pairs_across``) and its MI for that kind is reported as 0 and left out
    of the radial averages and the pooled means.
    """

    offsets: np.ndarray
    distance: np.ndarray
    mi_within_nats: np.ndarray
    mi_across_nats: np.ndarray
    baseline_within_nats: np.ndarray
    baseline_across_nats: np.ndarray
    baseline_across_sd_nats: np.ndarray
    n_pairs_within: np.ndarray
    n_pairs_across: np.ndarray
    radius_within: np.ndarray
    mi_within_radial_nats: np.ndarray
    radius_across: np.ndarray
    mi_across_radial_nats: np.ndarray
    baseline_across_radial_nats: np.ndarray
    n_bins: int
    n_images: int
    n_permutations: int
    baseline: str
    mean_across_nats: float = field(init=False)
    mean_across_baseline_nats: float = field(init=False)
    mean_excess_across_nats: float = field(init=False)
    excess_across_z: float = field(init=False)
    mi_within_1px_nats: float = field(init=False)
    mi_across_1px_nats: float = field(init=False)
    baseline_across_1px_nats: float = field(init=False)

    scalars: ClassVar[dict[str, Scalar]] = {
        "mean_across_nats": Scalar("nats", doc="across-tile MI, mean over offsets"),
        "mean_across_baseline_nats": Scalar("nats", doc="its permutation baseline"),
        "mean_excess_across_nats": Scalar("nats", chance=0.0, doc="across-tile MI - baseline"),
        "excess_across_z": Scalar("", chance=0.0, doc="excess in baseline sds (0: independent)"),
        "mi_within_1px_nats": Scalar("nats", doc="same-tile MI at 1 px"),
        "mi_across_1px_nats": Scalar("nats", doc="across-tile MI at 1 px"),
        "baseline_across_1px_nats": Scalar("nats", doc="across-tile baseline at 1 px"),
    }

    def __post_init__(self) -> None:
        ok = (self.n_pairs_across > 0) & (self.distance > 0)
        self.mean_across_nats = float(self.mi_across_nats[ok].mean()) if ok.any() else 0.0
        self.mean_across_baseline_nats = (
            float(self.baseline_across_nats[ok].mean()) if ok.any() else 0.0
        )
        excess = self.mi_across_nats[ok] - self.baseline_across_nats[ok]
        sd = float(self.baseline_across_sd_nats[ok].mean()) if ok.any() else 0.0
        self.mean_excess_across_nats = float(excess.mean()) if ok.any() else 0.0
        self.excess_across_z = self.mean_excess_across_nats / max(sd, 1e-300)
        w1 = (self.distance == 1) & (self.n_pairs_within > 0)
        a1 = (self.distance == 1) & (self.n_pairs_across > 0)
        self.mi_within_1px_nats = float(self.mi_within_nats[w1].mean()) if w1.any() else 0.0
        self.mi_across_1px_nats = float(self.mi_across_nats[a1].mean()) if a1.any() else 0.0
        self.baseline_across_1px_nats = (
            float(self.baseline_across_nats[a1].mean()) if a1.any() else 0.0
        )

    def plot(self, ax: Any = None) -> Any:
        """MI vs distance for same-tile and cross-tile pairs, with the cross-tile baseline."""
        ax = new_axes(ax)
        sw = self.radius_within >= 1
        sa = self.radius_across >= 1
        ax.plot(
            self.radius_within[sw], self.mi_within_radial_nats[sw], "o-", ms=3, label="same tile"
        )
        ax.plot(
            self.radius_across[sa], self.mi_across_radial_nats[sa], "s-", ms=3, label="across tiles"
        )
        ax.plot(
            self.radius_across[sa],
            self.baseline_across_radial_nats[sa],
            "k--",
            lw=1,
            label="permutation baseline",
        )
        ax.set_xlabel("distance between pixels (px)")
        ax.set_ylabel("mutual information (nats)")
        ax.set_ylim(bottom=0.0)
        ax.legend(frameon=False, fontsize="small")
        return ax


# ------------------------------------------------------------------------------------- public API
def _check_baseline(baseline: str, imgs: list[np.ndarray]) -> str:
    check_option(baseline, "baseline", ["auto", "pixels", "images"])
    same_shape = len(imgs) >= 2 and len({im.shape for im in imgs}) == 1
    if baseline == "auto":
        return "images" if same_shape else "pixels"
    if baseline == "images" and not same_shape:
        raise ValueError(
            "baseline: 'images' pairs each image with another one and needs at least 2 images of "
            f"one shape, got {len(imgs)} image(s) of shapes {sorted({im.shape for im in imgs})}; "
            "use baseline='pixels'"
        )
    return baseline


def _prepare(
    images: Any,
    max_distance: int | None,
    offsets: Any,
    n_bins: int,
    n_permutations: int,
    baseline: str,
) -> tuple[list[np.ndarray], np.ndarray, int, int, str]:
    imgs = _check_images(images)
    shapes = [im.shape for im in imgs]
    if offsets is None:
        r = check_scalar(max_distance, "max_distance", kind=(int, np.integer), low=0)
        h, w = min(s[0] for s in shapes), min(s[1] for s in shapes)
        if r >= min(h, w):
            raise ValueError(
                f"max_distance: {r} px reaches beyond the smallest image ({h}x{w}); expected "
                f"max_distance < {min(h, w)}"
            )
        off = disc_offsets(int(r))
    else:
        off = _check_offsets(offsets, shapes)
    b = int(check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=2, high=256))
    n_perm = int(check_scalar(n_permutations, "n_permutations", kind=(int, np.integer), low=1))
    return imgs, off, b, n_perm, _check_baseline(baseline, imgs)


def _mi_by_offset(
    images: Any,
    max_distance: int = 32,
    *,
    offsets: Any = None,
    n_bins: int = 64,
    n_permutations: int = 1,
    baseline: str = "auto",
    random_state: int | np.random.Generator | None = 0,
    label: str = "pixels",
) -> PixelMI:
    r"""MI between pixel values at every offset up to ``max_distance``, pooled over positions and
    images, with its permutation baseline.

    .. math:: I(\Delta) = \sum_{a,b} \hat p_\Delta(a, b) \log
              \frac{\hat p_\Delta(a, b)}{\hat p_\Delta(a)\, \hat p_\Delta(b)}

    where :math:`\hat p_\Delta(a, b)` is the share of pixel pairs :math:`(p, p + \Delta)` whose
    values fall in equal-population bins :math:`a` and :math:`b` (plug-in estimate, nats). The
    baseline is the same estimate on pairs made independent by a permutation: the estimator's
    floor (for i.i.d. pairs ~ :math:`(B-1)^2/(2N)`; larger when neighbouring pairs are dependent,
    which the ``"images"`` baseline keeps).

    Parameters
    ----------
    images : array-like (n_images, H, W) or list of 2-D arrays (sizes may differ)
    max_distance : int
        Every offset with :math:`\|\Delta\| \le` ``max_distance`` (pixels); must be smaller than
        the smallest image side.
    offsets : array-like (n_offsets, 2) of (dy, dx), optional
        Explicit offsets instead of the disc.
    n_bins : int in [2, 256]
        Equal-population bins over the pooled pixel values.
    n_permutations : int
        Permutations for the baseline (its sd needs at least 2).
    baseline : {"auto", "pixels", "images"}
        ``"images"``: the second pixel of each pair comes from another image (a random
        derangement of the images), same position; needs >= 2 images of one shape. ``"pixels"``:
        the second pixel is a random pixel of the pool (all positions and images permuted).
        ``"auto"``: ``"images"`` when possible, else ``"pixels"``.
    random_state : int, Generator or None
        Seeds the permutations.
    label : str
        Name of what is measured, for plots.

    Returns
    -------
    PixelMI

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> smooth = np.cumsum(rng.normal(size=(4, 40, 40)), axis=2)  # random walks along rows
    >>> res = analyze_pixel_mi(smooth, max_distance=4, n_bins=8)
    >>> bool(res.mi_at(0, 1) > res.mi_at(1, 0) + 0.3), round(res.mi_at(0, 0), 4) == round(res.entropy_nats, 4)
    (True, True)
    """
    imgs, off, b, n_perm, kind = _prepare(
        images, max_distance, offsets, n_bins, n_permutations, baseline
    )
    rng = check_random_state(random_state)
    codes = _quantile_codes(imgs, b)
    mi, base, sd, n_pairs = _pixel_mi(codes, off, b, n_perm, rng, kind)
    return _pixel_result(
        codes, off, mi[:, 0], base[:, 0], sd[:, 0], n_pairs[:, 0], b, n_perm, kind, label
    )


def _pixel_result(
    codes: list[np.ndarray],
    off: np.ndarray,
    mi: np.ndarray,
    base: np.ndarray,
    sd: np.ndarray,
    n_pairs: np.ndarray,
    b: int,
    n_perm: int,
    baseline: str,
    label: str,
) -> PixelMI:
    distance = np.hypot(off[:, 0], off[:, 1])
    radius, mi_r = _radial(distance, mi, n_pairs)
    _, base_r = _radial(distance, base, n_pairs)
    xi, amp, floor = _fit_decay(radius, mi_r - base_r, stacklevel=4)
    counts = np.bincount(np.concatenate([c.ravel() for c in codes]), minlength=b)
    p = counts[counts > 0] / counts.sum()
    return PixelMI(
        offsets=off,
        distance=distance,
        mi_nats=mi,
        baseline_nats=base,
        baseline_sd_nats=sd,
        radius=radius,
        mi_radial_nats=mi_r,
        baseline_radial_nats=base_r,
        decay_length_px=xi,
        decay_amplitude_nats=amp,
        decay_floor_nats=floor,
        entropy_nats=float(-(p * np.log(p)).sum()),
        n_bins=b,
        n_images=len(codes),
        n_permutations=n_perm,
        baseline=baseline,
        label=label,
    )


def _mi_mosaic(
    images: Any,
    tile_map: Any,
    max_distance: int | None = None,
    *,
    offsets: Any = None,
    n_bins: int = 64,
    n_permutations: int = 3,
    baseline: str = "images",
    random_state: int | np.random.Generator | None = 0,
) -> MosaicPixelMI:
    """Pixel-pair MI (nats) on mosaics, separately for pairs inside one tile and across tiles.

    Parameters
    ----------
    images : array-like (n_images, H, W), or (n_images, H*W) rows flattened row-major
        (``Mosaic.X``).
    tile_map : array-like of int (H, W)
        ``Mosaic.tile_map``.
    max_distance : int, optional
        Default: the largest tile side, so both kinds of pair appear at every short distance.
    offsets, n_bins, n_permutations, baseline, random_state
        As in :func:`analyze_pixel_mi`. The default ``"images"`` baseline pairs tiles of
        different mosaics: its across-tile pairs have exactly the distribution of real
        across-tile pairs when the tiles are independent, so it is the right floor.

    Returns
    -------
    MosaicPixelMI

    Examples
    --------
    >>> tm = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 6, 0), 6, 1)
    >>> rng = np.random.default_rng(1)
    >>> tiles = rng.normal(size=(50, 4, 1, 1)) + 0.3 * rng.normal(size=(50, 4, 6, 6))
    >>> x = tiles.reshape(50, 2, 2, 6, 6).transpose(0, 1, 3, 2, 4).reshape(50, 12, 12)
    >>> res = analyze_pixel_mi(x, 3, tile_map=tm, n_bins=4)
    >>> bool(res.mi_within_nats[1] > 0.3), bool(res.mean_across_nats < 0.02)
    (True, True)
    """
    tm = np.asarray(tile_map)
    if tm.ndim != 2:
        raise ValueError(f"tile_map: expected a 2-D integer array (H, W), got shape {tm.shape}")
    arr = check_array(images, "images", ndim=(2, 3))
    if arr.ndim == 2:
        if arr.shape[1] != tm.size:
            raise ValueError(
                f"images: rows of {arr.shape[1]} pixels do not match the tile_map's "
                f"{tm.shape[0]}x{tm.shape[1]} = {tm.size}; pass (n_images, H, W) or Mosaic.X"
            )
        arr = arr.reshape(-1, *tm.shape)
    if tuple(arr.shape[1:]) != tuple(tm.shape):
        raise ValueError(
            f"tile_map: expected shape {tuple(arr.shape[1:])} (the images' H, W), got {tm.shape}"
        )
    if max_distance is None and offsets is None:
        _, codes_t = np.unique(tm, return_inverse=True)
        rows_t, cols_t = np.indices(tm.shape)
        codes_t = codes_t.reshape(tm.shape)
        sizes = [
            max(np.ptp(rows_t[codes_t == t]), np.ptp(cols_t[codes_t == t])) + 1
            for t in range(codes_t.max() + 1)
        ]
        max_distance = min(int(max(sizes)), min(tm.shape) - 1)
    imgs, off, b, n_perm, kind = _prepare(
        arr, max_distance, offsets, n_bins, n_permutations, baseline
    )
    rng = check_random_state(random_state)
    mi, base, sd, n_pairs = _pixel_mi(_quantile_codes(imgs, b), off, b, n_perm, rng, kind, tm)
    distance = np.hypot(off[:, 0], off[:, 1])
    rw, mw = _radial(distance, mi[:, 0], n_pairs[:, 0])
    ra, ma = _radial(distance, mi[:, 1], n_pairs[:, 1])
    _, ba = _radial(distance, base[:, 1], n_pairs[:, 1])
    return MosaicPixelMI(
        offsets=off,
        distance=distance,
        mi_within_nats=mi[:, 0],
        mi_across_nats=mi[:, 1],
        baseline_within_nats=base[:, 0],
        baseline_across_nats=base[:, 1],
        baseline_across_sd_nats=sd[:, 1],
        n_pairs_within=n_pairs[:, 0],
        n_pairs_across=n_pairs[:, 1],
        radius_within=rw,
        mi_within_radial_nats=mw,
        radius_across=ra,
        mi_across_radial_nats=ma,
        baseline_across_radial_nats=ba,
        n_bins=b,
        n_images=len(arr),
        n_permutations=n_perm,
        baseline=kind,
    )


# ------------------------------------------------------------------------------- edge-filter bank
def edge_feature_maps(
    images: Any,
    bank: str = "gabor",
    *,
    n_orientations: int = 4,
    frequency: float = 0.2,
    sigma: float = 1.5,
) -> list[np.ndarray]:
    r"""Responses of a bank of edge filters, cropped to the 'valid' region (no border effects).

    ``bank="gabor"``: real, zero-mean Gabor kernels (``skimage.filters.gabor_kernel``) at
    ``n_orientations`` angles :math:`\theta_k = k\pi/K`, spatial ``frequency`` (cycles/pixel),
    one channel per angle. ``bank="dog"``: one isotropic difference of Gaussians
    :math:`G_\sigma - G_{1.6\sigma}` (``scipy.ndimage.gaussian_filter``), the centre-surround
    filter of retinal ganglion cells.

    Parameters
    ----------
    images : array-like (n_images, H, W) or list of 2-D arrays
    bank : {"gabor", "dog"}

    Returns
    -------
    list (one per channel) of lists of 2-D arrays (one per image).

    Examples
    --------
    >>> maps = edge_feature_maps(np.zeros((2, 40, 40)), "gabor", n_orientations=2)
    >>> len(maps), len(maps[0]), maps[0][0].shape[0] < 40
    (2, 2, True)
    """
    imgs = _check_images(images)
    check_option(bank, "bank", ["gabor", "dog"])
    if bank == "dog":
        from scipy.ndimage import gaussian_filter

        s = check_scalar(sigma, "sigma", low=0, low_inclusive=False)
        m = int(np.ceil(4 * 1.6 * s))
        maps = [gaussian_filter(im, s) - gaussian_filter(im, 1.6 * s) for im in imgs]
        return [[mp[m:-m, m:-m] for mp in maps]]
    from scipy.signal import fftconvolve
    from skimage.filters import gabor_kernel

    k = check_scalar(n_orientations, "n_orientations", kind=(int, np.integer), low=1)
    f = check_scalar(frequency, "frequency", low=0, high=0.5, low_inclusive=False)
    channels = []
    for j in range(int(k)):
        kern = np.real(gabor_kernel(f, theta=j * np.pi / k))
        kern = kern - kern.mean()
        channels.append([fftconvolve(im, kern, mode="valid") for im in imgs])
    return channels


def _mi_feature_maps(
    images: Any,
    bank: str = "gabor",
    max_distance: int = 32,
    *,
    offsets: Any = None,
    n_bins: int = 64,
    n_permutations: int = 1,
    baseline: str = "auto",
    random_state: int | np.random.Generator | None = 0,
    **bank_options: Any,
) -> PixelMI:
    """Pixel-pair MI (nats) of the feature maps after one layer of edge filters, averaged over
    channels (each channel binned on its own): the residual long-range dependence that a single
    layer of local filters leaves.

    Parameters are those of :func:`analyze_pixel_mi` and :func:`edge_feature_maps`
    (``bank_options``: ``n_orientations``, ``frequency``, ``sigma``). ``entropy_nats`` and the
    fit refer to the channel-averaged curves.
    """
    channels = edge_feature_maps(images, bank, **bank_options)
    rng = check_random_state(random_state)
    results = [
        _mi_by_offset(
            ch,
            max_distance,
            offsets=offsets,
            n_bins=n_bins,
            n_permutations=n_permutations,
            baseline=baseline,
            random_state=rng,
        )
        for ch in channels
    ]
    first = results[0]
    mi = np.mean([r.mi_nats for r in results], axis=0)
    base = np.mean([r.baseline_nats for r in results], axis=0)
    sd = np.sqrt(np.mean([r.baseline_sd_nats**2 for r in results], axis=0))
    radius = first.radius
    mi_r = np.mean([r.mi_radial_nats for r in results], axis=0)
    base_r = np.mean([r.baseline_radial_nats for r in results], axis=0)
    xi, amp, floor = _fit_decay(radius, mi_r - base_r)
    return PixelMI(
        offsets=first.offsets,
        distance=first.distance,
        mi_nats=mi,
        baseline_nats=base,
        baseline_sd_nats=sd,
        radius=radius,
        mi_radial_nats=mi_r,
        baseline_radial_nats=base_r,
        decay_length_px=xi,
        decay_amplitude_nats=amp,
        decay_floor_nats=floor,
        entropy_nats=float(np.mean([r.entropy_nats for r in results])),
        n_bins=first.n_bins,
        n_images=first.n_images,
        n_permutations=first.n_permutations,
        baseline=first.baseline,
        label=f"{bank} feature maps, {len(channels)} channel(s)",
    )


# ------------------------------------------------------------------------------------ entry point
def analyze_pixel_mi(
    images: Any,
    max_distance: int | None = None,
    *,
    tile_map: Any = None,
    features: str | None = None,
    offsets: Any = None,
    n_bins: int = 64,
    n_permutations: int | None = None,
    baseline: str | None = None,
    random_state: int | np.random.Generator | None = 0,
    label: str = "pixels",
    **bank_options: Any,
) -> PixelMI | MosaicPixelMI:
    """Pixel-pair MI (nats) by offset, with its permutation baseline: one entry point, three uses.

    - plain (default): MI of pixel values at every offset up to ``max_distance`` (default 32),
      pooled over positions and images -> :class:`PixelMI`;
    - ``tile_map`` given (mosaics): pairs inside one tile and across tiles separately
      -> :class:`MosaicPixelMI` (``max_distance`` default: the largest tile side; the default
      baseline ``"images"`` pairs tiles of different mosaics, the right floor for independent
      tiles; 3 permutations by default);
    - ``features="gabor"`` or ``"dog"``: MI of the maps after one layer of edge filters
      (:func:`edge_feature_maps`; ``bank_options``: ``n_orientations``, ``frequency``,
      ``sigma``), averaged over channels -> :class:`PixelMI`.

    Other parameters: ``offsets`` (n_offsets, 2) of (dy, dx) instead of the disc; ``n_bins`` in
    [2, 256] equal-population bins; ``n_permutations`` draws of the baseline (default 1, 3 on
    mosaics); ``baseline`` in {"auto", "pixels", "images"} (default "auto", "images" on mosaics);
    ``random_state``; ``label`` (plain use only) names what is measured in plots.
    """
    if tile_map is not None and features is not None:
        raise ValueError(
            "features: edge maps of mosaics are not supported; pass one of tile_map, features"
        )
    if tile_map is not None:
        return _mi_mosaic(
            images,
            tile_map,
            max_distance,
            offsets=offsets,
            n_bins=n_bins,
            n_permutations=3 if n_permutations is None else n_permutations,
            baseline=baseline or "images",
            random_state=random_state,
        )
    common = {
        "offsets": offsets,
        "n_bins": n_bins,
        "n_permutations": 1 if n_permutations is None else n_permutations,
        "baseline": baseline or "auto",
        "random_state": random_state,
    }
    distance = 32 if max_distance is None else max_distance
    if features is not None:
        return _mi_feature_maps(images, features, distance, **common, **bank_options)
    if bank_options:
        raise TypeError(f"unexpected keyword(s) {sorted(bank_options)} without features=")
    return _mi_by_offset(images, distance, label=label, **common)


def _warn_renamed(old: str, how: str) -> None:
    warnings.warn(f"{old} is deprecated; use {how}", DeprecationWarning, stacklevel=3)


def pixel_mi_by_offset(images: Any, max_distance: int = 32, **kwargs: Any) -> PixelMI:
    """Deprecated alias of :func:`analyze_pixel_mi` (warns)."""
    _warn_renamed("pixel_mi_by_offset", "analyze_pixel_mi(images, ...)")
    return _mi_by_offset(images, max_distance, **kwargs)


def pixel_mi_mosaic(images: Any, tile_map: Any, *args: Any, **kwargs: Any) -> MosaicPixelMI:
    """Deprecated alias of :func:`analyze_pixel_mi` with ``tile_map=`` (warns)."""
    _warn_renamed("pixel_mi_mosaic", "analyze_pixel_mi(images, tile_map=...)")
    return _mi_mosaic(images, tile_map, *args, **kwargs)


def pixel_mi_feature_maps(images: Any, bank: str = "gabor", *args: Any, **kwargs: Any) -> PixelMI:
    """Deprecated alias of :func:`analyze_pixel_mi` with ``features=`` (warns)."""
    _warn_renamed("pixel_mi_feature_maps", "analyze_pixel_mi(images, features=...)")
    return _mi_feature_maps(images, bank, *args, **kwargs)
