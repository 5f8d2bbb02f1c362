"""Mosaic construction: vectorised slicing (make_mosaic) against a per-tile Python loop.

Builds 20,000 mosaics of 3x3 tiles of 8x8 (the main job's size) both ways from the same recorded
tile places, checks the arrays are equal, and prints median times of repeats and the ratio; then
the full call with ZCA whitening. Run: ``.venv/bin/python benchmarks/data_mosaic.py``.
"""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from structlearn.data import load_natural_images, make_mosaic

N, GRID, TILE, REPEATS = 20_000, (3, 3), 8, 5


def reference_loop(sources: np.ndarray, arrays: list[np.ndarray]) -> np.ndarray:
    """The plain formulation: one slice per tile, pasted into each image."""
    rows, cols = GRID
    out = np.empty((sources.shape[0], rows * TILE, cols * TILE))
    for i in range(sources.shape[0]):
        for t in range(rows * cols):
            k, top, left = sources[i, t]
            r, c = divmod(t, cols)
            out[i, r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE] = arrays[k][
                top : top + TILE, left : left + TILE
            ]
    return out.reshape(sources.shape[0], -1)


def median_time(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    images = load_natural_images()
    arrays = [im.image for im in images]
    make_mosaic(10)  # warm the image cache
    ours = make_mosaic(N, GRID, TILE, random_state=0)
    ref = reference_loop(ours.sources, arrays)
    print(f"values equal (vectorised vs loop): {np.array_equal(ours.X, ref)}")

    t_ours = median_time(lambda: make_mosaic(N, GRID, TILE, random_state=0))
    t_ref = median_time(lambda: reference_loop(ours.sources, arrays), repeats=3)
    t_white = median_time(
        lambda: make_mosaic(N, GRID, TILE, remove_tile_mean=True, whiten=True, random_state=0)
    )
    print(f"machine: {platform.machine()}, numpy {np.__version__}")
    print(f"make_mosaic({N}, {GRID}, {TILE}) raw:        {t_ours:.3f} s (median of {REPEATS})")
    print(f"per-tile loop reference (slicing only): {t_ref:.3f} s (median of 3)")
    print(f"ratio loop / vectorised: {t_ref / t_ours:.1f}x")
    print(f"make_mosaic with tile-mean removal + ZCA whitening: {t_white:.3f} s")


if __name__ == "__main__":
    main()
