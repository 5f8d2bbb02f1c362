"""Benchmark: MCR² rate reduction ΔR, forward + backward, float32 on CPU.

Times :func:`structlearn.objectives.coding_rate.rate_reduction` against, in the same run,

(a) the formulation of the authors' published code (Yu et al. 2020), written out plainly below:
    a dense float membership tensor Π of shape (k, m, m) rebuilt from the labels on every call, a
    Python loop over classes, a d×d ``logdet`` per class, and R and R_c computed twice (the
    "empirical" and the "theoretical" versions, both evaluated on every call); its ``eps`` is ε²;
(b) the ``mcr2`` package on PyPI (``mcr2.primitives.coding_rate.DeltaR``: batched (k, d, d)
    second moments by ``einsum`` and ``eigvalsh``).

Each (method, size) runs in its own subprocess so its peak resident memory (VmHWM above the
baseline after set-up) is its own. The median of the repeats is reported; references slower than
``--slow-after`` seconds per call are repeated once only, to keep the run to a few minutes.

Usage: ``.venv/bin/python benchmarks/coding_rate.py [--threads 2] [--repeats 5]``
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


def measure(method: str, m: int, d: int, k: int, repeats: int, slow_after: float) -> dict:
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(0)
    Z0 = torch.randn(m, d, generator=gen)
    labels = torch.randint(0, k, (m,), generator=gen)

    if method == "structlearn":
        from structlearn.objectives.coding_rate import rate_reduction

        def call(Z):
            out = rate_reduction(Z, labels, EPS, n_classes=k)
            return -out.deltaR, out.deltaR
    elif method == "published":

        def call(Z):
            return published_delta_r(Z, labels, EPS**2, k)
    else:
        from mcr2.primitives.coding_rate import DeltaR

        def call(Z):
            delta = DeltaR(Z, F.one_hot(labels, k).float(), EPS)
            return -delta, delta

    times, value = [], None
    base = _peak_reset()
    for i in range(repeats):
        Z = Z0.clone().requires_grad_(True)
        t0 = time.perf_counter()
        loss, delta = call(Z)
        loss.backward()
        times.append(time.perf_counter() - t0)
        value = float(delta.detach())
        if i == 0:
            peak = _status("VmHWM") - base
            if times[0] > slow_after:
                break
    times.sort()
    return {"time_s": times[len(times) // 2], "n": len(times), "peak_bytes": peak, "value": value}


# --------------------------------------------------------------------------- driver


def _run_child(args, method, m, d, k) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--_one",
        f"{method},{m},{d},{k}",
        "--threads",
        str(args.threads),
        "--repeats",
        str(args.repeats),
        "--slow-after",
        str(args.slow_after),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slow-after", type=float, default=2.0)
    parser.add_argument("--_one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("STRUCTLEARN_QUIET", "1")
    import torch

    torch.set_num_threads(args.threads)
    if args._one:
        method, *size = args._one.split(",")
        m, d, k = map(int, size)
        print(json.dumps(measure(method, m, d, k, args.repeats, args.slow_after)))
        return

    import mcr2  # noqa: F401  (fail early if the reference package is missing)

    print(f"torch {torch.__version__}, threads={args.threads}, float32, CPU; ΔR forward+backward")
    print(f"eps = {EPS} (ε); the published formulation receives ε² = {EPS**2}")
    header = (
        f"{'(m, d, k)':>18} | {'ours ms':>8} | {'published ms':>12} {'x':>7} | "
        f"{'mcr2 ms':>9} {'x':>6} | {'peak MB ours/pub/mcr2':>22} | values agree (1e-4 rel)"
    )
    print(header)
    print("-" * len(header))
    for m, d, k in SIZES:
        res = {
            meth: _run_child(args, meth, m, d, k) for meth in ("structlearn", "published", "mcr2")
        }
        ours = res["structlearn"]
        ratio = {meth: res[meth]["time_s"] / ours["time_s"] for meth in res}
        agree = all(
            abs(res[meth]["value"] - ours["value"]) <= 1e-4 * abs(ours["value"]) for meth in res
        )
        peaks = "/".join(f"{res[meth]['peak_bytes'] / 2**20:.0f}" for meth in res)
        print(
            f"{(m, d, k)!s:>18} | {1e3 * ours['time_s']:8.1f} | "
            f"{1e3 * res['published']['time_s']:12.1f} {ratio['published']:6.1f}x | "
            f"{1e3 * res['mcr2']['time_s']:9.1f} {ratio['mcr2']:5.1f}x | {peaks:>22} | "
            f"{agree} (ΔR = {ours['value']:.6g}, {res['published']['value']:.6g}, "
            f"{res['mcr2']['value']:.6g})",
            flush=True,
        )


if __name__ == "__main__":
    main()
