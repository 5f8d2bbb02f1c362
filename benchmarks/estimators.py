"""Estimators: our code against reference formulations and packages, timed in the same run.

1. Binned information plane of a (4096, 10) tanh layer, 30 bins. Reference: the information-plane
   papers' formulation, written plainly below: rows hashed through ``np.void`` views and
   ``np.unique``; H(T|X) by a loop over the 4096 inputs and H(T|Y) by a loop over the labels, each
   computing the entropy of the rows of T selected by the mask.
2. KSG mutual information (k=3) at n=4096, x and y of 10 dimensions each, against ``npeet_plus.mi``
   (scikit-learn trees, one thread: all it offers) and ``infomeasure``'s KSG. Ours on one thread
   and with ``workers=2``; runs take turns, wall and CPU medians of 11.
3. Kozachenko-Leonenko entropy (k=3, max-norm) at n=4096, d=10, against ``infomeasure``.
4. The IB curve of the stochastic 12-bit task (T=0.5, 4096 inputs, 2 labels, bottleneck 4096)
   against ``embo`` on the same beta grid and bottleneck size (embo: 100 iterations, 1 restart).
   Ours also on 50 betas, with and without merging inputs of equal p(y|x).
5. The binned information plane of a 6-layer network (widths 10-7-5-4-3-2, tanh) over 1,000
   logged epochs on the 4096 inputs of the 12-bit task.

Values-equal checks are printed beside the medians of repeats and the ratios; peak traced memory
(tracemalloc) for the binning comparison. Run: ``.venv/bin/python benchmarks/estimators.py``.
"""

from __future__ import annotations

import itertools
import platform
import statistics
import time
import tracemalloc
import warnings

import numpy as np

from structlearn.data.tishby import load_tishby_task
from structlearn.data.tishby_rule import tishby_joint
from structlearn.estimators import (
    ib_curve,
    information_plane_binning,
    information_plane_binning_batch,
    knn_entropy,
    ksg_mutual_information,
)

RESULTS: dict[str, float] = {}


def timed(fn, *args, repeats=5, **kwargs):
    """Median wall time of ``repeats`` calls and the last result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def interleaved(runs: dict, repeats: int) -> tuple[dict, dict, dict]:
    """Median wall and CPU seconds of each run, the runs taking turns (drifting machine load hits
    them alike), after one warm-up call each; and each run's last value."""
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    values = {name: fn() for name, fn in runs.items()}
    for _ in range(repeats):
        for name, fn in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            values[name] = fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    median = statistics.median
    return (
        {k: median(v) for k, v in wall.items()},
        {k: median(v) for k, v in cpu.items()},
        values,
    )


def peak_mib(fn, *args, **kwargs) -> float:
    tracemalloc.start()
    fn(*args, **kwargs)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


# ---- 1. binning ------------------------------------------------------------------------------


def reference_binning_plane(activations, labels, n_bins=30):
    """The published approach: void-view row hashing, np.unique, loops over inputs and labels."""
    bins = np.linspace(activations.min(), activations.max(), n_bins + 1)
    digitized = np.clip(np.digitize(activations, bins) - 1, 0, n_bins - 1)

    def row_entropy(rows):
        view = np.ascontiguousarray(rows).view(
            np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))
        )
        _, counts = np.unique(view, return_counts=True)
        p = counts / counts.sum()
        return float(-(p * np.log(p)).sum())

    h_t = row_entropy(digitized)
    n = len(digitized)
    x_ids = np.arange(n)  # every input distinct, p(x) = 1/n
    h_t_given_x = sum(row_entropy(digitized[x_ids == i]) / n for i in range(n))
    h_t_given_y = sum(
        np.mean(labels == c) * row_entropy(digitized[labels == c]) for c in np.unique(labels)
    )
    return h_t - h_t_given_x, h_t - h_t_given_y


def bench_binning() -> None:
    rng = np.random.default_rng(0)
    act = np.tanh(rng.normal(size=(4096, 12)) @ rng.normal(size=(12, 10)))
    labels = rng.integers(0, 2, size=4096)
    t_ours, ours = timed(information_plane_binning, act, labels, 30, repeats=20)
    t_ref, ref = timed(reference_binning_plane, act, labels, 30, repeats=3)
    equal = np.allclose(ours, ref, atol=1e-12)
    print("1. binned information plane, (4096, 10) layer, 30 bins")
    print(
        f"   ours {ours[0]:.6f}, {ours[1]:.6f} nats | reference {ref[0]:.6f}, {ref[1]:.6f}: equal={equal}"
    )
    print(
        f"   ours {t_ours * 1e3:.2f} ms, reference {t_ref * 1e3:.0f} ms, ratio {t_ref / t_ours:.0f}x"
    )
    m_ours = peak_mib(information_plane_binning, act, labels, 30)
    m_ref = peak_mib(reference_binning_plane, act, labels, 30)
    print(f"   peak traced memory: ours {m_ours:.2f} MiB, reference {m_ref:.2f} MiB")
    RESULTS.update(
        binning_ms=t_ours * 1e3, binning_ref_ms=t_ref * 1e3, binning_ratio=t_ref / t_ours
    )


# ---- 2./3. kNN -------------------------------------------------------------------------------


def bench_knn() -> None:
    import infomeasure as im
    import npeet_plus.estimators as npeet

    rng = np.random.default_rng(1)
    x = rng.normal(size=(4096, 10))
    y = 0.6 * x + 0.8 * rng.normal(size=(4096, 10))
    true = -5.0 * np.log(1 - 0.36)

    def npeet_mi():
        np.random.seed(0)  # noqa: NPY002 - npeet adds 1e-10 uniform noise from the global RNG
        return npeet.mi(x, y, k=3, base=np.e)

    def im_mi():
        return im.mutual_information(x, y, approach="ksg", k=3, noise_level=0, base="e")

    runs = {
        # npeet does not standardise: compare the same estimator (ours standardises by default)
        "ours, 1 thread": lambda: ksg_mutual_information(x, y, 3, jitter=0.0, standardize=False),
        "ours, 2 threads": lambda: ksg_mutual_information(
            x, y, 3, jitter=0.0, workers=2, standardize=False
        ),
        "ours, standardised": lambda: ksg_mutual_information(x, y, 3, jitter=0.0),
        "npeet-plus": npeet_mi,
    }
    wall, cpu, values = interleaved(runs, repeats=11)
    t_im, ref_im = timed(im_mi, repeats=3)
    ours, twos, ref = wall["ours, 1 thread"], wall["ours, 2 threads"], wall["npeet-plus"]
    print(f"2. KSG MI, n=4096, d=10+10, k=3 (true Gaussian MI {true:.4f} nats)")
    print("   " + " | ".join(f"{name} {v:.10f}" for name, v in values.items()))
    print(f"   infomeasure {ref_im:.10f} nats")
    for name in runs:
        print(f"   {name}: median {wall[name] * 1e3:.1f} ms wall, {cpu[name] * 1e3:.1f} ms CPU")
    cpu_ratio = cpu["npeet-plus"] / cpu["ours, 1 thread"]
    print(
        f"   ratio vs npeet-plus: {ref / ours:.2f}x (1 thread; CPU time {cpu_ratio:.2f}x), "
        f"{ref / twos:.2f}x (2 threads, wall); vs infomeasure {t_im / ours:.1f}x (1 thread)"
    )
    RESULTS.update(
        ksg_s=ours,
        ksg_2threads_s=twos,
        ksg_npeet_s=ref,
        ksg_ratio=ref / ours,
        ksg_ratio_2threads=ref / twos,
        ksg_cpu_ratio=cpu_ratio,
        ksg_im_ratio=t_im / ours,
    )

    def im_h():
        return im.entropy(x, approach="kl", k=3, noise_level=0, base="e")

    t_h, h = timed(knn_entropy, x, 3, jitter=0.0, repeats=3)
    t_hr, h_ref = timed(im_h, repeats=3)
    print("3. Kozachenko-Leonenko entropy, n=4096, d=10, k=3, max-norm")
    print(
        f"   ours {h:.8f} | infomeasure {h_ref:.8f} nats; ours {t_h:.3f} s, infomeasure "
        f"{t_hr:.3f} s, ratio {t_hr / t_h:.1f}x"
    )
    RESULTS.update(kl_s=t_h, kl_im_s=t_hr, kl_ratio=t_hr / t_h)


# ---- 4. IB curve -----------------------------------------------------------------------------


def bench_ib() -> None:
    from embo.core import InformationBottleneck

    p = tishby_joint(temperature=0.5)
    px, py = p.sum(1), p.sum(0)
    pyx_c = (p / px[:, None]).T  # embo: p(y|x) as (n_y, n_x)
    betas = np.linspace(2.0, 40.0, 5)  # embo's own grid form: linspace(minbeta, maxbeta, numbeta)

    def run_embo():
        np.random.seed(0)  # noqa: NPY002 - embo's restarts draw from the global RNG
        out = InformationBottleneck.IB(
            px,
            py,
            pyx_c,
            alpha=1,
            minbeta=betas[0],
            maxbeta=betas[-1],
            numbeta=betas.size,
            iterations=100,
            restarts=1,
            processes=1,
            ensure_monotonic_bound=False,
        )
        return np.log(2) * np.array(out[0]), np.log(2) * np.array(out[1])  # bits -> nats

    t_embo, (ex, ey) = timed(run_embo, repeats=1)
    t_ours, c = timed(ib_curve, p, betas, 4096, repeats=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 4096 x 4096 random restarts would dominate: annealing alone, as before issue 14
        t_nomerge, _ = timed(
            ib_curve,
            p,
            betas,
            4096,
            merge_equivalent=False,
            n_restarts=0,
            reverse_annealing=False,
            repeats=1,
        )
    print("4. IB curve, stochastic 12-bit task (T=0.5), 4096 x 2, bottleneck 4096, 5 betas")
    print(f"   I(T;Y) ours {np.round(c.I_TY, 4).tolist()} | embo {np.round(ey, 4).tolist()} nats")
    print(f"   I(X;T) ours {np.round(c.I_XT, 3).tolist()} | embo {np.round(ex, 3).tolist()} nats")
    lag_ours = c.I_XT - betas * c.I_TY
    lag_embo = ex - betas * ey
    print(
        f"   Lagrangian I(X;T) - beta I(T;Y), ours minus embo: {np.round(lag_ours - lag_embo, 4).tolist()}"
    )
    print(
        f"   embo {t_embo:.1f} s, ours {t_ours:.3f} s (ratio {t_embo / t_ours:.0f}x); "
        f"ours without merging equal-p(y|x) inputs {t_nomerge:.1f} s (ratio {t_embo / t_nomerge:.1f}x)"
    )
    betas50 = np.geomspace(0.1, 1000.0, 50)
    t50, c50 = timed(ib_curve, p, betas50, 4096, repeats=1)
    print(f"   ours, 50 betas in [0.1, 1000]: {t50:.2f} s, max clusters {c50.n_clusters.max()}")
    RESULTS.update(
        ib_embo_s=t_embo,
        ib_s=t_ours,
        ib_ratio=t_embo / t_ours,
        ib_nomerge_s=t_nomerge,
        ib_nomerge_ratio=t_embo / t_nomerge,
        ib50_s=t50,
    )


# ---- 5. whole information plane --------------------------------------------------------------


def bench_plane() -> None:
    task = load_tishby_task()
    rng = np.random.default_rng(2)
    widths = [12, 10, 7, 5, 4, 3, 2]
    w0 = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in itertools.pairwise(widths)]
    drift = [0.002 * rng.normal(size=w.shape) for w in w0]
    n_epochs = 1000
    start = time.perf_counter()
    estimator_time = 0.0
    points = np.zeros((n_epochs, 6, 2))
    for epoch in range(n_epochs):
        h = task.X
        layers = []
        for w, dw in zip(w0, drift):
            h = np.tanh(h @ (w + epoch * dw))
            layers.append(h)
        t0 = time.perf_counter()
        ixt, ity = information_plane_binning_batch(
            layers, task.y, n_bins=30, value_range=(-1.0, 1.0)
        )
        estimator_time += time.perf_counter() - t0
        points[epoch] = np.column_stack([ixt, ity])
    total = time.perf_counter() - start
    print("5. binned information plane, 6 tanh layers x 1000 epochs x 4096 inputs, 30 bins")
    print(
        f"   total {total:.1f} s (estimator {estimator_time:.1f} s, forward passes the rest); "
        f"last epoch I(X;T) {np.round(points[-1, :, 0], 3).tolist()} nats"
    )
    RESULTS.update(plane_total_s=total, plane_estimator_s=estimator_time)


if __name__ == "__main__":
    import infomeasure
    import npeet_plus  # noqa: F401
    import scipy

    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, infomeasure {infomeasure.__version__}"
    )
    bench_binning()
    bench_knn()
    bench_ib()
    bench_plane()
    print({k: round(v, 4) for k, v in RESULTS.items()})
