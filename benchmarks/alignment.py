"""Teacher–student alignment: streamed correlations against one np.corrcoef on stacked activations.

10,000 samples, 100 teacher and 1,000 student ReLU units (students: noisy, rescaled copies of
teachers plus unaligned units). Ours: ``StreamingCorrelation`` fed batches of 500 (float64
co-moments, never holding more than one batch), then ``analyze_alignment``. Reference: stack all
activations into one (10,000, 1,100) array and call ``np.corrcoef`` once, keeping the
teacher x student block. Prints values-equal checks, medians of repeats, the ratio and the peak
traced memory (tracemalloc) of each, with one BLAS thread and with the default (on a 2-core
machine shared with other jobs, OpenBLAS's busy-waiting threads can make the small per-batch
products several times slower).
Run: ``.venv/bin/python benchmarks/alignment.py``.
"""

from __future__ import annotations

import platform
import statistics
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from structlearn.analysis.alignment import StreamingCorrelation, analyze_alignment

N, N_TEACHER, N_STUDENT, BATCH, REPEATS = 10_000, 100, 1_000, 500, 5


def activations(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 50))
    teacher = np.maximum(x @ rng.normal(size=(50, N_TEACHER)), 0.0)
    copies = rng.integers(0, N_TEACHER, size=N_STUDENT // 2)
    aligned = teacher[:, copies] * rng.uniform(0.5, 2.0, size=len(copies))
    aligned += 0.3 * rng.normal(size=aligned.shape)
    free = np.maximum(x @ rng.normal(size=(50, N_STUDENT - len(copies))), 0.0)
    return teacher, np.hstack([aligned, free])


def streamed(teacher: np.ndarray, student: np.ndarray) -> np.ndarray:
    acc = StreamingCorrelation()
    for i in range(0, N, BATCH):
        acc.update(teacher[i : i + BATCH], student[i : i + BATCH])
    return acc.compute()


def one_pass(teacher: np.ndarray, student: np.ndarray) -> np.ndarray:
    return np.corrcoef(np.hstack([teacher, student]), rowvar=False)[:N_TEACHER, N_TEACHER:]


def measure(fn, *args) -> tuple[float, float, np.ndarray]:
    """Median time of repeats and the peak memory traced during one call (MiB)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak, out


def main() -> None:
    teacher, student = activations()
    print(f"{N} samples, {N_TEACHER} teacher and {N_STUDENT} student units, batches of {BATCH}")
    print(f"machine: {platform.machine()}, numpy {np.__version__}")
    for threads in (1, None):
        with threadpool_limits(threads):
            t_ours, mem_ours, ours = measure(streamed, teacher, student)
            t_ref, mem_ref, ref = measure(one_pass, teacher, student)
        diff = float(np.max(np.abs(ours - ref)))
        label = "1 BLAS thread" if threads == 1 else "default BLAS threads"
        print(
            f"[{label}] values equal (streamed vs one-pass): max |diff| = {diff:.1e} -> {diff < 1e-6}"
        )
        print(
            f"[{label}] ours, StreamingCorrelation: {t_ours:.3f} s (median of {REPEATS}), "
            f"peak traced {mem_ours:.1f} MiB"
        )
        print(
            f"[{label}] reference, np.corrcoef on stacked activations: {t_ref:.3f} s, "
            f"peak traced {mem_ref:.1f} MiB"
        )
        print(f"[{label}] ratio reference / ours: {t_ref / t_ours:.2f}x")
    start = time.perf_counter()
    res = analyze_alignment(ours)
    t_summary = time.perf_counter() - start
    print(
        f"analyze_alignment on the result: {t_summary:.3f} s; teachers with a student >= 0.9: "
        f"{res.share_teachers_covered[list(res.thresholds).index(0.9)]:.2f}"
    )


if __name__ == "__main__":
    main()
