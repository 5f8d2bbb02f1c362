"""Benchmark: MCR² rate reduction ΔR, forward + backward, float32 on CPU.

Times :func:`structlearn.objectives.coding_rate.rate_reduction` against, in the same run,

(a) the formulation of the authors' published code (Yu et al. 2020), written out plainly below:
    a dense float membership tensor Π of shape (k, m, m) rebuilt from the labels on every call, a
    Python loop over classes, a d×d ``logdet`` per class, and R and R_c computed twice (the
    "empirical" and the "theoretical" versions, both evaluated on every call); its ``eps`` is ε²;
(b) the ``mcr2`` package on PyPI (``mcr2.primitives.coding_rate.DeltaR``: batched (k, d, d)
    second moments by ``einsum`` and ``eigvalsh``).

Each (method, size) first runs once in its own subprocess, which reports its peak resident memory
(VmHWM above the baseline after set-up) and its ΔR. Times are then the median of repeats run in
one process with the methods interleaved, so load on a shared machine hits every method alike
(each timed call follows an untimed call of the same method: steady state for all); a
reference slower than ``--slow-after`` seconds per call keeps its single subprocess timing, to keep
the run to a few minutes.

Usage: ``.venv/bin/python benchmarks/coding_rate.py [--threads 1] [--repeats 5]`` (one thread by
default: on a shared, oversubscribed 2-core machine two-thread timings measure OpenMP contention).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SIZES = [(1000, 128, 10), (5000, 128, 10), (1000, 512, 10), (256, 2048, 10)]
EPS = 0.5  # ε; the published code is called with ε² under the name eps


# --------------------------------------------------------------------------- (a) published form


def _published_membership(labels, n_classes):
    """Dense (k, m, m) membership: Π[j, i, i] = 1 if sample i is in class j (rebuilt per call)."""
    import numpy as np

    m = len(labels)
    Pi = np.zeros((n_classes, m, m))
    for i in range(m):
        Pi[labels[i], i, i] = 1.0
    return Pi


def published_delta_r(Z, labels, eps_squared, n_classes):
    """ΔR and its loss as the published code computes them (its ``eps`` is ε²)."""
    import torch

    W = Z.T  # (d, m)
    Pi = torch.tensor(_published_membership(labels.numpy(), n_classes), dtype=torch.float32)
    p, m = W.shape
    I = torch.eye(p)

    def discriminative(W):
        return torch.logdet(I + p / (m * eps_squared) * W @ W.T) / 2.0

    def compressive(W):
        loss = 0.0
        for j in range(n_classes):
            tr = torch.trace(Pi[j]) + 1e-8
            logdet = torch.logdet(I + p / (tr * eps_squared) * W @ Pi[j] @ W.T)
            loss = loss + tr / (2 * m) * logdet
        return loss

    R_empirical, Rc_empirical = discriminative(W), compressive(W)
    R_theoretical, Rc_theoretical = discriminative(W), compressive(W)  # computed again
    _ = (R_theoretical.item(), Rc_theoretical.item())
    loss = -R_empirical + Rc_empirical
    return loss, -loss


# --------------------------------------------------------------------------- one measurement


def _clock() -> float:
    """Process CPU seconds: with one thread, the work done, whatever else loads the machine.
    (``--wall`` switches to wall-clock time, the right clock for more than one thread.)"""
    return time.perf_counter() if os.environ.get("BENCH_WALL") == "1" else time.process_time()


def _peak_reset() -> int:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    return _status("VmRSS")


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def float64_truth(m: int, d: int, k: int) -> float:
    """ΔR in float64 by a plain numpy loop over classes (slogdet on each Gram's smaller side)."""
    import numpy as np
    import torch

    gen = torch.Generator().manual_seed(0)
    Z = torch.randn(m, d, generator=gen).double().numpy()
    labels = torch.randint(0, k, (m,), generator=gen).numpy()

    def half_logdet(Zj: np.ndarray, c: float) -> float:
        G = Zj @ Zj.T if Zj.shape[0] < d else Zj.T @ Zj
        return 0.5 * np.linalg.slogdet(np.eye(G.shape[0]) + c * G)[1]

    R = half_logdet(Z, d / (m * EPS**2))
    Rc = 0.0
    for j in range(k):
        Zj = Z[labels == j]
        if len(Zj):
            Rc += len(Zj) / m * half_logdet(Zj, d / (len(Zj) * EPS**2))
    return R - Rc


def make_call(method: str, m: int, d: int, k: int):
    """Data (seeded) and a closure running one ΔR forward + backward; returns ΔR."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(0)
    Z0 = torch.randn(m, d, generator=gen)
    labels = torch.randint(0, k, (m,), generator=gen)
    if method == "structlearn":
        from structlearn.objectives.coding_rate import rate_reduction

        def loss_and_delta(Z):
            out = rate_reduction(Z, labels, EPS, n_classes=k)
            return -out.deltaR, out.deltaR
    elif method == "published":

        def loss_and_delta(Z):
            return published_delta_r(Z, labels, EPS**2, k)
    else:
        from mcr2.primitives.coding_rate import DeltaR

        def loss_and_delta(Z):
            delta = DeltaR(Z, F.one_hot(labels, k).float(), EPS)
            return -delta, delta

    def call() -> float:
        Z = Z0.clone().requires_grad_(True)
        loss, delta = loss_and_delta(Z)
        loss.backward()
        return float(delta.detach())

    return call


def measure_peak(method: str, m: int, d: int, k: int) -> dict:
    """One call in a fresh process: seconds, peak resident memory above the baseline, ΔR."""
    call = make_call(method, m, d, k)
    base = _peak_reset()
    t0 = _clock()
    value = call()
    return {
        "time_s": _clock() - t0,
        "peak_bytes": _status("VmHWM") - base,
        "value": value,
    }


def time_interleaved(sizes_calls: dict, repeats: int, slow: set) -> dict:
    """Median seconds per method, the methods' repeats interleaved so load drift hits all alike;
    each timed call follows an untimed one of the same method (steady state, warm caches, for
    every method alike)."""
    times = {meth: [] for meth in sizes_calls if meth not in slow}
    for _ in range(repeats):
        for meth in times:
            sizes_calls[meth]()  # warm-up: the previous method left its own data in the caches
            t0 = _clock()
            sizes_calls[meth]()
            times[meth].append(_clock() - t0)
    return {meth: sorted(ts)[len(ts) // 2] for meth, ts in times.items()}


# --------------------------------------------------------------------------- driver


def _run_child(args, method, m, d, k) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--_one",
        f"{method},{m},{d},{k}",
        "--threads",
        str(args.threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


METHODS = ("structlearn", "published", "mcr2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slow-after", type=float, default=2.0)
    parser.add_argument("--wall", action="store_true", help="wall-clock instead of CPU time")
    parser.add_argument("--_one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wall:
        os.environ["BENCH_WALL"] = "1"  # inherited by the subprocesses
    os.environ.setdefault("STRUCTLEARN_QUIET", "1")
    import torch

    torch.set_num_threads(args.threads)
    if args._one:
        method, *size = args._one.split(",")
        print(json.dumps(measure_peak(method, *map(int, size))))
        return

    import mcr2  # noqa: F401  (fail early if the reference package is missing)

    clock = "wall-clock" if args.wall else "process CPU"
    print(f"torch {torch.__version__}, threads={args.threads}, float32, CPU; ΔR forward+backward")
    print(f"times: {clock} milliseconds")
    print(f"eps = {EPS} (ε); the published formulation receives ε² = {EPS**2}")
    print(
        f"median of {args.repeats} interleaved repeats (each after an untimed warm-up call); "
        "a reference slower than "
        f"{args.slow_after} s per call is timed once, in its own process"
    )
    print(
        "agree: every method's ΔR within 1e-4 relative of ours; rel. error: against ΔR in float64 "
        "by a plain numpy per-class loop"
    )
    header = (
        f"{'(m, d, k)':>16} | {'ours ms':>8} | {'published ms':>12} {'x':>7} | "
        f"{'mcr2 ms':>9} {'x':>6} | {'peak MB ours/pub/mcr2':>21} | agree | "
        "rel. error vs float64 ours/pub/mcr2"
    )
    print(header)
    print("-" * len(header))
    for m, d, k in SIZES:
        once = {meth: _run_child(args, meth, m, d, k) for meth in METHODS}
        slow = {meth for meth in METHODS if once[meth]["time_s"] > args.slow_after}
        calls = {meth: make_call(meth, m, d, k) for meth in METHODS if meth not in slow}
        t = time_interleaved(calls, args.repeats, slow)
        t.update({meth: once[meth]["time_s"] for meth in slow})
        ratio = {meth: t[meth] / t["structlearn"] for meth in METHODS}
        truth = float64_truth(m, d, k)
        errors = "/".join(
            f"{abs(once[meth]['value'] - truth) / abs(truth):.0e}" for meth in METHODS
        )
        ours = once["structlearn"]["value"]
        agree = all(abs(once[meth]["value"] - ours) <= 1e-4 * abs(ours) for meth in METHODS)
        peaks = "/".join(f"{once[meth]['peak_bytes'] / 2**20:.0f}" for meth in METHODS)
        print(
            f"{(m, d, k)!s:>16} | {1e3 * t['structlearn']:8.1f} | "
            f"{1e3 * t['published']:12.1f} {ratio['published']:6.1f}x | "
            f"{1e3 * t['mcr2']:9.1f} {ratio['mcr2']:5.1f}x | {peaks:>21} | "
            f"{agree!s:>5} | {errors}",
            flush=True,
        )


if __name__ == "__main__":
    main()
