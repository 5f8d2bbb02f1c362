"""Estimators added for issue 14, timed and checked against peers in the same run (nats).

1. KSG at high dimension: x and y of 50 dimensions each, n = 5,000, k = 3, against
   ``npeet_plus.mi`` (same estimator: ours with ``standardize=False``); runs take turns.
2. Frenzel-Pompe conditional MI at n = 5,000, x, y, z of 3 dimensions each, against
   ``npeet_plus.cmi`` (equal values checked).
3. Bias-corrected discrete entropy: 5,000 equiprobable symbols sampled 5,000 times, ours and
   ``infomeasure``'s estimators.
4. Max-norm vs Euclidean-ball KSG on Gaussian tasks (x of d dimensions, y = rho x + noise), the
   error against the closed form, at several (d, rho, n).
5. Accuracy table: method x case, the closed form, ours and a peer's value where one exists.

Run: ``.venv/bin/python benchmarks/estimators_measures.py [--quick]`` (needs the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time

import numpy as np

from structlearn.estimators import (
    conditional_mutual_information,
    discrete_entropy,
    discrete_mutual_information,
    kl_divergence,
    knn_entropy,
    ksg_mutual_information,
    mixed_mutual_information,
    mutual_information,
)


def interleaved(runs: dict, repeats: int) -> tuple[dict, dict]:
    """Median wall seconds of each run (the runs take turns after one warm-up each), values."""
    values = {name: fn() for name, fn in runs.items()}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            values[name] = fn()
            wall[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in wall.items()}, values


def npeet_call(fn, *args, **kwargs):
    np.random.seed(0)  # noqa: NPY002 - npeet adds 1e-10 uniform noise from the global RNG
    return fn(*args, **kwargs)


def gaussian_pair(n: int, d: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    return x, y, -0.5 * d * math.log(1 - rho**2)


def bench_high_dim(repeats: int) -> None:
    import npeet_plus as npeet

    x, y, truth = gaussian_pair(5000, 50, 0.6, seed=0)
    runs = {
        "ours": lambda: ksg_mutual_information(x, y, 3, jitter=0.0, standardize=False),
        "ours, 2 threads": lambda: ksg_mutual_information(
            x, y, 3, jitter=0.0, standardize=False, workers=2
        ),
        "npeet-plus": lambda: npeet_call(npeet.mi, x, y, k=3, base=math.e),
    }
    wall, values = interleaved(runs, repeats)
    print(f"1. KSG, n=5000, x and y 50-D, k=3 (closed form {truth:.3f} nats)")
    print("   " + " | ".join(f"{k} {v:.10f}" for k, v in values.items()))
    print("   " + " | ".join(f"{k} {v:.2f} s" for k, v in wall.items()))
    print(
        f"   ratio npeet / ours: {wall['npeet-plus'] / wall['ours']:.2f}x (1 thread), "
        f"{wall['npeet-plus'] / wall['ours, 2 threads']:.2f}x (2 threads)"
    )


def bench_cmi(repeats: int) -> None:
    import npeet_plus as npeet

    rng = np.random.default_rng(0)
    z = rng.normal(size=(5000, 3))
    x = z + rng.normal(size=(5000, 3))
    y = x + z + rng.normal(size=(5000, 3))
    runs = {
        "ours": lambda: conditional_mutual_information(
            x, y, z, "knn", jitter=0.0, standardize=False
        ),
        "ours, 2 threads": lambda: conditional_mutual_information(
            x, y, z, "knn", jitter=0.0, standardize=False, workers=2
        ),
        "npeet-plus": lambda: npeet_call(npeet.cmi, x, y, z, k=3, base=math.e),
    }
    wall, values = interleaved(runs, repeats)
    print("2. Frenzel-Pompe CMI, n=5000, x, y, z 3-D each, k=3")
    print("   " + " | ".join(f"{k} {v:.10f}" for k, v in values.items()))
    print("   " + " | ".join(f"{k} {v * 1e3:.0f} ms" for k, v in wall.items()))
    print(
        f"   ratio npeet / ours: {wall['npeet-plus'] / wall['ours']:.2f}x (1 thread), "
        f"{wall['npeet-plus'] / wall['ours, 2 threads']:.2f}x (2 threads)"
    )


def bench_bias() -> None:
    import infomeasure as im

    x = np.random.default_rng(0).integers(0, 5000, 5000)
    names = {
        "plugin": "discrete",
        "miller-madow": "miller_madow",
        "chao-shen": "chao_shen",
        "grassberger": "grassberger",
    }
    print(f"3. discrete entropy, 5000 symbols x 5000 draws (truth {math.log(5000):.3f} nats)")
    for ours, theirs in names.items():
        value = discrete_entropy(x, correction=ours)
        peer = im.entropy(x, approach=theirs, base="e")
        print(f"   {ours:13s} ours {value:.3f}  infomeasure {peer:.3f}")
    for extra in ("nsb", "chao_wang_jost"):
        try:
            print(f"   {extra:13s} infomeasure {im.entropy(x, approach=extra, base='e'):.3f}")
        except Exception as exc:  # a peer's estimator failing is a result, not our error
            print(f"   {extra:13s} infomeasure failed: {exc}")


def bench_norms(quick: bool) -> None:
    cases = [(1, 0.9, 2000), (5, 0.6, 2000), (10, 0.6, 2000), (25, 0.6, 2000), (25, 0.3, 2000)]
    cases += [] if quick else [(50, 0.3, 2000), (50, 0.6, 5000)]
    print("4. KSG max-norm vs Euclidean balls, Gaussian y = rho x + noise (error = est - truth)")
    for d, rho, n in cases:
        x, y, truth = gaussian_pair(n, d, rho, seed=d)
        cheb = ksg_mutual_information(x, y)
        t0 = time.perf_counter()
        eucl = ksg_mutual_information(x, y, metric="euclidean")
        t1 = time.perf_counter() - t0
        print(
            f"   d={d:2d}+{d:<2d} rho={rho} n={n}: truth {truth:.3f} | max-norm {cheb:.3f} "
            f"({cheb - truth:+.3f}) | Euclidean {eucl:.3f} ({eucl - truth:+.3f}, {t1:.1f} s)"
        )


def bench_accuracy() -> None:
    import infomeasure as im
    import npeet_plus as npeet

    rng = np.random.default_rng(0)
    rows = []
    x, y, truth = gaussian_pair(5000, 1, 0.9, seed=1)
    rows.append(
        (
            "I, Gaussian rho=0.9, n=5000",
            "knn (KSG)",
            truth,
            mutual_information(x, y, "knn"),
            npeet_call(npeet.mi, x, y, k=3, base=math.e),
        )
    )
    z = rng.normal(size=(5000, 1))
    cx = z + rng.normal(size=(5000, 1))
    cy = cx + rng.normal(size=(5000, 1))
    rows.append(
        (
            "I(X;Y|Z), Gaussian, 0.5 log 2",
            "knn (Frenzel-Pompe)",
            0.5 * math.log(2),
            mutual_information(cx, cy, "knn", z=z),
            npeet_call(npeet.cmi, cx, cy, z, k=3, base=math.e),
        )
    )
    rows.append(
        (
            "I(X;Y|Z), Gaussian, 0.5 log 2",
            "gaussian",
            0.5 * math.log(2),
            mutual_information(cx, cy, "gaussian", z=z),
            None,
        )
    )
    a = rng.integers(0, 2, 4000)
    b = rng.integers(0, 2, 4000)
    rows.append(
        (
            "I(X;Y|Z), Z = X xor Y, log 2",
            "discrete",
            math.log(2),
            mutual_information(a, b, "discrete", z=a ^ b),
            npeet.cmidd(a, b, a ^ b, base=math.e),
        )
    )
    s = rng.integers(0, 4, 5000)
    mixed_truth = (0.25 * math.log(8) + 0.75 * math.log(4)) - math.log(2)
    c = s + 2 * rng.random(5000)
    rows.append(
        (
            "I, X on 4 symbols, Y = X + U[0,2)",
            "mixed (Gao)",
            mixed_truth,
            mixed_mutual_information(s, c),
            npeet_call(
                npeet.micd, c.reshape(-1, 1), s.reshape(-1, 1), k=5, base=math.e, warning=False
            ),
        )
    )
    g = rng.normal(size=(5000, 3))
    rows.append(
        (
            "H, Gaussian d=3, n=5000",
            "knn (Kozachenko-Leonenko)",
            1.5 * math.log(2 * math.pi * math.e),
            knn_entropy(g),
            npeet_call(npeet.entropy, g, k=3, base=math.e),
        )
    )
    p, q = rng.normal(0, 1, (5000, 2)), rng.normal(0.5, 2, (5000, 2))
    kl_truth = 0.5 * (2 / 4 + 2 * 0.25 / 4 - 2 + 2 * math.log(4))
    rows.append(
        (
            "KL(N(0,I) || N(0.5, 4I)), d=2",
            "knn (Wang-Kulkarni-Verdu, k=3)",
            kl_truth,
            kl_divergence(p, q, "knn", k=3, metric="chebyshev"),
            npeet_call(npeet.kldiv, p, q, k=3, base=math.e),
        )
    )
    rows.append(("same", "gaussian", kl_truth, kl_divergence(p, q, "gaussian"), None))
    u = rng.integers(0, 5000, 5000)
    for corr, peer in (("miller-madow", "miller_madow"), ("chao-shen", "chao_shen")):
        rows.append(
            (
                "H, 5000 equiprobable symbols, n=5000",
                f"discrete {corr}",
                math.log(5000),
                discrete_entropy(u, correction=corr),
                im.entropy(u, approach=peer, base="e"),
            )
        )
    d1 = rng.integers(0, 6, 3000)
    d2 = (d1 + rng.integers(0, 2, 3000)) % 6
    rows.append(
        (
            "I, Y = X + {0,1} mod 6 (6 symbols)",
            "discrete plug-in",
            math.log(6) - math.log(2),
            discrete_mutual_information(d1, d2),
            npeet.midd(d1, d2, base=math.e),
        )
    )
    print("5. accuracy (nats): case | method | truth | ours | peer")
    for case, method, truth, ours, peer in rows:
        peer_s = "--" if peer is None else f"{peer:.4f}"
        print(f"   | {case} | {method} | {truth:.4f} | {ours:.4f} | {peer_s} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and cases")
    args = parser.parse_args()
    import infomeasure
    import npeet_plus  # noqa: F401
    import scipy

    print(
        f"{platform.machine()} {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, infomeasure {infomeasure.__version__}, npeet-plus 0.2.0"
    )
    repeats = 1 if args.quick else 3
    bench_cmi(repeats=3 if args.quick else 7)
    bench_bias()
    bench_accuracy()
    bench_norms(args.quick)
    bench_high_dim(repeats)


if __name__ == "__main__":
    main()
