"""Pixel-pair MI vs offset: bincount of uint16 joint codes against sklearn's mutual_info_score.

16 grey images of 512x512 (the six bundled 512x512 photographs and their 90/180-degree
rotations), 64 equal-population bins, every offset with |(dy, dx)| <= 32 px (1,605 offsets, one of
each symmetric pair). Both sides get the same bin codes, so only the per-offset MI is compared:

- ours: ``analyze_pixel_mi`` (MI at every offset AND a one-draw permutation baseline, so twice
  the counting), and its MI-only core on the same offsets;
- reference: a loop calling ``sklearn.metrics.mutual_info_score`` on the two pixel vectors of
  every offset. At ~2 s an offset the whole loop takes about an hour, so it is timed on a seeded
  random subset of offsets and its total is extrapolated from the median per-offset time
  (``--full-reference`` runs all of it).

Prints values-equal checks on the subset, medians of repeats, the ratios and peak memory.
Run: ``.venv/bin/python benchmarks/pixel_mi.py [--repeats 3] [--subset 16] [--full-reference]``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time

import numpy as np
import sklearn
from sklearn.metrics import mutual_info_score

from structlearn.analysis.pixel_mi import (
    _joint_counts,
    _mi_from_counts,
    analyze_pixel_mi,
    disc_offsets,
    quantile_codes,
)
from structlearn.data.natural import load_natural_images

N_IMAGES, MAX_DISTANCE, N_BINS = 16, 32, 64


def sixteen_images() -> np.ndarray:
    photos = [im.image for im in load_natural_images() if im.image.shape == (512, 512)]
    return np.stack([np.rot90(photos[k % len(photos)], k // len(photos)) for k in range(N_IMAGES)])


def reference_mi(codes: np.ndarray, dy: int, dx: int) -> float:
    """The plain formulation: the two pixel vectors of every pair, handed to scikit-learn."""
    h, w = codes.shape[1:]
    if dx >= 0:
        a, b = codes[:, : h - dy, : w - dx], codes[:, dy:, dx:]
    else:
        a, b = codes[:, : h - dy, -dx:], codes[:, dy:, : w + dx]
    return mutual_info_score(a.ravel(), b.ravel())


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subset", type=int, default=16)
    parser.add_argument("--full-reference", action="store_true")
    args = parser.parse_args()

    images = sixteen_images()
    offsets = disc_offsets(MAX_DISTANCE)
    codes_list, _ = quantile_codes(images, N_BINS)
    codes = np.stack(codes_list)
    print(
        f"{N_IMAGES} images of 512x512, {len(offsets)} offsets up to {MAX_DISTANCE} px, {N_BINS} bins"
    )

    t_full = []
    for _ in range(args.repeats):
        t, res = timed(lambda: analyze_pixel_mi(images, MAX_DISTANCE, n_bins=N_BINS))
        t_full.append(t)
    t_core = []
    for _ in range(args.repeats):
        t, core = timed(
            lambda: _mi_from_counts(_joint_counts(codes_list, codes_list, offsets, N_BINS))[:, 0]
        )
        t_core.append(t)
    ours_full, ours_core = statistics.median(t_full), statistics.median(t_core)

    rng = np.random.default_rng(0)
    pick = (
        np.arange(len(offsets))
        if args.full_reference
        else rng.choice(len(offsets), args.subset, replace=False)
    )
    t_ref, ref_vals = [], []
    for i in pick:
        t, v = timed(lambda i=i: reference_mi(codes, *offsets[i]))
        t_ref.append(t)
        ref_vals.append(v)
    per_offset_ref = statistics.median(t_ref)
    ref_total = sum(t_ref) if args.full_reference else per_offset_ref * len(offsets)
    diff = np.max(np.abs(np.array(ref_vals) - res.mi_nats[pick]))
    diff_core = np.max(np.abs(core - res.mi_nats))

    print(
        f"values equal to sklearn on {len(pick)} offsets: max |diff| = {diff:.2e} nats -> {diff < 1e-10}"
    )
    print(f"MI-only core equals the full call: max |diff| = {diff_core:.2e} nats")
    print(
        f"MI at 1 px {res.mi_at(0, 1):.3f} nats, at 32 px {res.mi_at(0, 32):.3f} nats, "
        f"baseline ({res.baseline}) {res.baseline_nats.mean():.4f} nats, decay length "
        f"{res.decay_length_px:.1f} px"
    )
    print(
        f"machine: {platform.machine()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}"
    )
    print(f"ours, analyze_pixel_mi (MI + baseline): {ours_full:.1f} s (median of {args.repeats})")
    print(f"ours, MI only:                            {ours_core:.1f} s (median of {args.repeats})")
    kind = "measured" if args.full_reference else f"extrapolated from {len(pick)} offsets"
    print(
        f"reference, mutual_info_score loop: {per_offset_ref:.2f} s/offset, total {ref_total:.0f} s ({kind})"
    )
    print(f"ratio reference / ours (MI + baseline): {ref_total / ours_full:.0f}x")
    print(f"ratio reference / ours (MI only):       {ref_total / ours_core:.0f}x")
    print(
        f"peak resident memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
