"""The data and per-distance readings of :mod:`structlearn.studies.pixel_mi`: the images
``data.source`` names, axis offsets, and MI / floor at chosen distances of a
:class:`~structlearn.analysis.pixel_mi.PixelMI` (nats).

Not a study (its name starts with an underscore): what the study file would otherwise hold below
its schema.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.pixel_mi import MosaicPixelMI, PixelMI, analyze_pixel_mi
from structlearn.config import ConfigError, Field
from structlearn.data.mosaic import make_mosaic
from structlearn.data.natural import load_natural_images, natural_image_names
from structlearn.data.sources import data_fragment, load_source, parse_source

#: photographs large enough for the distances: the bundled ones, a folder, an npz of (n, H, W)
SOURCES = ("photos", "images", "npz")


def data_section() -> dict[str, Any]:
    """The ``data`` section: ``source`` (one of :data:`SOURCES`), ``images``, ``per_seed``."""
    frag = data_fragment(
        SOURCES,
        "photos",
        per_seed=Field(int, 9, low=1, high=100, doc="photographs drawn per seed"),
    )
    for key in ("color", "n_samples"):  # grey only; per_seed is the subset
        frag.pop(key)
    return frag


def photographs(cfg: dict[str, Any]) -> tuple[list[str], list[np.ndarray], dict[str, Any]]:
    """Names and grey images of ``data.source``, and the run-level description of the data."""
    d = cfg["data"]
    if parse_source(d["source"], SOURCES).kind == "photos":
        try:
            loaded = load_natural_images(d["images"] or natural_image_names())
        except ValueError as exc:
            raise ConfigError(f"data.images: {exc}") from None
        names, images = [im.name for im in loaded], [im.image for im in loaded]
        info = {"source": "photos", "n_files": len(names)}
    else:
        data = load_source(d, random_state=0, accepts=SOURCES)
        images = data.require_images("pixel_mi")
        if any(im.ndim != 2 for im in images):
            raise ConfigError(f"data.source: pixel_mi needs grey images, {data.source!r} has rgb")
        names, info = data.names or [f"row {i}" for i in range(len(images))], data.to_dict()
    smallest = int(np.argmin([min(im.shape) for im in images]))
    side = min(images[smallest].shape)
    if max(cfg["mi"]["distances"]) >= side - 32:  # edge maps lose a 'valid' border: keep 32 px
        raise ConfigError(
            f"mi.distances: the largest distance {max(cfg['mi']['distances'])} px must be below "
            f"the smallest photograph's side minus 32 px ({side - 32}: {names[smallest]!r}, "
            f"{images[smallest].shape[0]}x{images[smallest].shape[1]} px)"
        )
    return names, images, info


def axis_offsets(distances: list[int]) -> np.ndarray:
    """Horizontal and vertical offsets (dy, dx) at each distance, shape (2 * n_distances, 2).

    >>> axis_offsets([1, 4]).tolist()
    [[0, 1], [1, 0], [0, 4], [4, 0]]
    """
    d = np.unique(np.asarray(distances, dtype=np.intp))
    return np.stack([np.stack([0 * d, d], 1), np.stack([d, 0 * d], 1)], 1).reshape(-1, 2)


def mi_at(res: PixelMI, distance: int) -> tuple[float, float]:
    """(MI, floor) in nats of the radial curve at ``distance`` px."""
    i = int(np.flatnonzero(res.radius == distance)[0])
    return float(res.mi_radial_nats[i]), float(res.baseline_radial_nats[i])


def mi_ratio(group: str, num: str, den: str):
    return lambda m: m[group][num] / max(m[group][den], 1e-300)


def mi_curve(res: PixelMI, dist: list[int]) -> dict[str, list]:
    return {
        "distance_px": dist,
        "mi_nats": [mi_at(res, d)[0] for d in dist],
        "baseline_nats": [mi_at(res, d)[1] for d in dist],
    }


def mi_ends(res: PixelMI, dist: list[int]) -> dict[str, float]:
    """MI at the nearest and farthest distance, the far floor, and the two derived numbers."""
    (mi_n, _), (mi_f, base_f) = mi_at(res, dist[0]), mi_at(res, dist[-1])
    return {
        "mi_near_nats": mi_n,
        "mi_far_nats": mi_f,
        "baseline_far_nats": base_f,
        "decay_nats": mi_n - mi_f,
        "far_over_floor": mi_f / max(base_f, 1e-300),
    }


def mosaic_mi(cfg: dict[str, Any], images: list, seed: int, n_bins: int) -> MosaicPixelMI:
    """MI of pixel pairs on ``mosaic.n_samples`` fresh mosaics cut from ``images`` (names or arrays)."""
    m = cfg["mosaic"]
    mosaic = make_mosaic(
        m["n_samples"], grid=tuple(m["grid"]), tile=m["tile"], images=images, random_state=seed
    )
    return analyze_pixel_mi(
        mosaic.images(),
        tile_map=mosaic.tile_map,
        n_bins=n_bins,
        n_permutations=m["n_permutations"],
        random_state=seed,
    )
