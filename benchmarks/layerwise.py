"""Benchmark: the layer-wise learners (ReduNet, shift-invariant ReduNet, R²SVM) on CPU.

Times, in the same run, against plain references written out below:

1. one vector ReduNet layer (operators + forward pass of the training set) at
   (m, d, k) = (2000, 128, 10) against the paper's formulas taken literally: column layout, a dense
   (m, m) membership matrix Π_j per class, an explicit ``inv`` per operator, a loop over classes;
2. one shift-invariant ReduNet layer on 1,000 signals of 16 channels and length 64 (10 classes)
   against the published code's structure: a full complex FFT, a Python loop over the 64
   frequencies with one explicit inverse each, per class, then a loop over classes to apply them;
3. R²SVM's time per layer on sklearn's digits (fits of 1..10 layers; slope of time vs depth)
   against one ``LinearSVC`` fit on the same data;
4. for the closing note: test accuracy of R²SVM by depth (1..10), ReduNet by depth and a single
   ``LinearSVC`` on digits (stratified 25% test split, seed 0), with training times.

Values are checked equal between ours and each reference (max absolute difference printed).
Medians of ``--repeats`` runs. BLAS runs with ``--threads`` threads (default 1: the 2-core CI
machine is shared, and OpenBLAS with 2 threads on a loaded machine slows down ~100×, for both
sides alike); peak memory is ``tracemalloc``'s peak of numpy allocations during one call.

Usage: ``.venv/bin/python benchmarks/layerwise.py [--threads 1] [--repeats 5] [--json out.json]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from structlearn.models.blocks import (
    fourier_layer,
    fourier_operators,
    redunet_layer,
    redunet_operators,
    sphere,
)

EPS, ETA, LMBDA = 0.5, 0.5, 500.0


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``repeats`` calls, and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


# --------------------------------------------------------------------------- 1. vector ReduNet


def ours_redunet_layer(Z, y, k):
    E, C, gamma = redunet_operators(Z, y, k, EPS)
    return redunet_layer(Z, E, C, gamma, ETA, LMBDA)[0]


def reference_redunet_layer(Z, y, k):
    """The paper's formulas, literally: Z is (d, m), Π_j dense (m, m), explicit inverses."""
    W = Z.T
    d, m = W.shape
    I = np.eye(d)
    alpha = d / (m * EPS**2)
    E = alpha * np.linalg.inv(I + alpha * W @ W.T)
    Cs, gammas = [], []
    for j in range(k):
        Pi = np.diag((y == j).astype(np.float64))
        tr = np.trace(Pi)
        alpha_j = d / (tr * EPS**2)
        Cs.append(alpha_j * np.linalg.inv(I + alpha_j * W @ Pi @ W.T))
        gammas.append(tr / m)
    expand = E @ W
    CW = [C @ W for C in Cs]
    norms = np.stack([np.linalg.norm(cw, axis=0) for cw in CW])  # (k, m)
    logits = -LMBDA * norms
    pi = np.exp(logits - logits.max(axis=0))
    pi /= pi.sum(axis=0)
    compress = sum(gammas[j] * CW[j] * pi[j] for j in range(k))
    out = W + ETA * (expand - compress)
    return (out / np.linalg.norm(out, axis=0)).T


def bench_redunet(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    m, d, k = 2000, 128, 10
    y = rng.permutation(np.arange(m) % k)
    Z = sphere(rng.standard_normal((k, d))[y] + 0.5 * rng.standard_normal((m, d)))
    t_ours, a = timed(lambda: ours_redunet_layer(Z, y, k), repeats)
    t_ref, b = timed(lambda: reference_redunet_layer(Z, y, k), max(1, repeats // 2))
    return {
        "size": [m, d, k],
        "ours_s": t_ours,
        "reference_s": t_ref,
        "ratio": t_ref / t_ours,
        "max_abs_diff": float(np.max(np.abs(a - b))),
        "ours_peak_MiB": peak_mib(lambda: ours_redunet_layer(Z, y, k)),
        "reference_peak_MiB": peak_mib(lambda: reference_redunet_layer(Z, y, k)),
    }


# --------------------------------------------------------------------------- 2. shift-invariant


def ours_fourier_layer(Z, y, k):
    E, C, gamma = fourier_operators(Z, y, k, EPS)
    return fourier_layer(Z, E, C, gamma, ETA, LMBDA)[0]


def reference_fourier_layer(Z, y, k):
    """Full FFT, a loop over frequencies with an explicit inverse each (as the published code)."""
    n, c, T = Z.shape
    V = np.fft.fft(Z, axis=2, norm="ortho")  # (n, c, T)
    I = np.eye(c)

    def operator(Vs, count):
        a = c * T / (count * EPS**2)
        ops = np.empty((c, c, T), dtype=complex)
        for t in range(T):
            ops[:, :, t] = a * np.linalg.inv(I + a * Vs[:, :, t].T @ Vs[:, :, t].conj())
        return ops

    E = operator(V, n)
    counts = [int(np.sum(y == j)) for j in range(k)]
    Cs = [operator(V[y == j], counts[j]) for j in range(k)]
    expand = np.einsum("cdt,ndt->nct", E, V)
    CV = [np.einsum("cdt,ndt->nct", C, V) for C in Cs]
    norms = np.stack([np.linalg.norm(cv.reshape(n, -1), axis=1) for cv in CV])
    logits = -LMBDA * norms
    pi = np.exp(logits - logits.max(axis=0))
    pi /= pi.sum(axis=0)
    compress = sum(counts[j] / n * CV[j] * pi[j][:, None, None] for j in range(k))
    out = np.fft.ifft(V + ETA * (expand - compress), axis=2, norm="ortho").real
    return out / np.linalg.norm(out.reshape(n, -1), axis=1)[:, None, None]


def bench_shift_invariant(repeats: int) -> dict:
    rng = np.random.default_rng(1)
    n, c, T, k = 1000, 16, 64, 10
    y = rng.permutation(np.arange(n) % k)
    templates = rng.standard_normal((k, c, T))
    X = np.stack([np.roll(templates[j], rng.integers(T), axis=-1) for j in y])
    Z = sphere(X + 0.5 * rng.standard_normal(X.shape), axes=(1, 2))
    t_ours, a = timed(lambda: ours_fourier_layer(Z, y, k), repeats)
    t_ref, b = timed(lambda: reference_fourier_layer(Z, y, k), max(1, repeats // 2))
    E, C, gamma = fourier_operators(Z, y, k, EPS)
    t_fwd, _ = timed(lambda: fourier_layer(Z, E, C, gamma, ETA, LMBDA), repeats)
    return {
        "size": [n, c, T, k],
        "ours_s": t_ours,
        "forward_only_s": t_fwd,
        "reference_s": t_ref,
        "ratio": t_ref / t_ours,
        "max_abs_diff": float(np.max(np.abs(a - b))),
    }


# --------------------------------------------------------------------------- 3-4. digits


def digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return Xtr, Xte, ytr, yte, scaler.transform(Xtr), scaler.transform(Xte)


def bench_digits(repeats: int) -> dict:
    from sklearn.svm import LinearSVC

    from structlearn.models.r2svm import R2SVMClassifier
    from structlearn.models.redunet import ReduNet

    Xtr, Xte, ytr, yte, Str, Ste = digits_split()
    t_svc, svc = timed(lambda: LinearSVC().fit(Str, ytr), repeats)
    out = {
        "n_train": len(ytr),
        "n_test": len(yte),
        "linear_svc": {"test_accuracy": svc.score(Ste, yte), "train_s": t_svc},
        "r2svm": [],
        "redunet": [],
    }
    for depth in range(1, 11):
        t, clf = timed(lambda d=depth: R2SVMClassifier(n_layers=d, random_state=0).fit(Str, ytr), 3)
        out["r2svm"].append({"layers": depth, "test_accuracy": clf.score(Ste, yte), "train_s": t})
    depths = np.array([r["layers"] for r in out["r2svm"]])
    times = np.array([r["train_s"] for r in out["r2svm"]])
    out["r2svm_s_per_layer"] = float(np.polyfit(depths, times, 1)[0])
    for depth in (1, 2, 5, 10, 20, 40):
        t, net = timed(lambda d=depth: ReduNet(n_layers=d).fit(Xtr, ytr), 3)
        out["redunet"].append(
            {
                "layers": depth,
                "test_accuracy": net.score(Xte, yte),
                "train_s": t,
                "delta_R_nats": float(net.delta_R_[-1]),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    with threadpool_limits(limits=args.threads):
        results = {
            "redunet_layer": bench_redunet(args.repeats),
            "shift_invariant_layer": bench_shift_invariant(args.repeats),
            "digits": bench_digits(args.repeats),
        }
    r, s, dg = results["redunet_layer"], results["shift_invariant_layer"], results["digits"]
    print(
        f"ReduNet layer (m, d, k)={tuple(r['size'])}: ours {r['ours_s'] * 1e3:.1f} ms, "
        f"reference {r['reference_s'] * 1e3:.1f} ms, ratio {r['ratio']:.1f}x, "
        f"max |diff| {r['max_abs_diff']:.1e}, peak {r['ours_peak_MiB']:.0f} vs "
        f"{r['reference_peak_MiB']:.0f} MiB"
    )
    print(
        f"Shift-invariant layer (n, C, T, k)={tuple(s['size'])}: ours {s['ours_s'] * 1e3:.1f} ms "
        f"(forward only {s['forward_only_s'] * 1e3:.1f} ms), reference "
        f"{s['reference_s'] * 1e3:.1f} ms, ratio {s['ratio']:.1f}x, "
        f"max |diff| {s['max_abs_diff']:.1e}"
    )
    print(
        f"R2SVM on digits: {dg['r2svm_s_per_layer'] * 1e3:.1f} ms per layer; one LinearSVC fit "
        f"{dg['linear_svc']['train_s'] * 1e3:.1f} ms"
    )
    print(f"digits ({dg['n_train']} train / {dg['n_test']} test), test accuracy, train time:")
    print(
        f"  LinearSVC            {dg['linear_svc']['test_accuracy']:.4f}  "
        f"{dg['linear_svc']['train_s']:.3f} s"
    )
    for row in dg["r2svm"]:
        print(
            f"  R2SVM  {row['layers']:2d} layers     {row['test_accuracy']:.4f}  {row['train_s']:.3f} s"
        )
    for row in dg["redunet"]:
        print(
            f"  ReduNet {row['layers']:2d} layers    {row['test_accuracy']:.4f}  "
            f"{row['train_s']:.3f} s  (ΔR {row['delta_R_nats']:.2f} nats)"
        )
    if args.json:
        from structlearn.utils.io import atomic_write_json

        atomic_write_json(args.json, results)


if __name__ == "__main__":
    main()
