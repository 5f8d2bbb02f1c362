"""Information plane of a recorded 6-layer run over 1,000 logged epochs (target: under a minute).

The run of Shwartz-Ziv & Tishby (2017): the 12-bit task (4096 inputs), a 12-10-7-5-4-3-2 tanh
network, every layer recorded on all 4096 inputs (float16, as ``train`` stores them) with per-layer
gradient mean/std, at 1,000 logged epochs.

Recordings: by default they are *synthesised* (training 1,000 recorded epochs took ~11 minutes on
the loaded 2-core machine): the MLP's weights follow a seeded random walk, every epoch's taps on the
4096 inputs are written with ``RecordingWriter`` (the writer ``train`` uses) and read back with
``load_recordings``, so the analysed arrays have the real format, size and dtype. ``--run-dir DIR``
analyses a real run instead (e.g. one written by ``train(..., config=TrainConfig(epochs=1000,
record_epochs="all", batch_size=512), out_dir=DIR)``).

Timed (median of repeats, same process, same loaded recordings):

- ours: ``analyze_information_plane(rec, null_shuffles=0)`` -- 30 bins per layer over its range
  through training, I(X;T) and I(T;Y) for 6 x 1,000 snapshots, SNR phases, compression (the work
  of the reference); also with its default shuffled-label floor (one more I(T;Y) per snapshot) and
  with the IB bound (``p_xy=tishby_joint(0.5)``, whose plane is then evaluated under p(x, y));
- reference: a plain per-snapshot loop written the obvious way (bin with ``np.digitize``, count
  states with ``np.unique(axis=0)``, H(T|Y) class by class), as in the original information-plane
  code's approach.

Prints the values-equal check (max |ours - reference|, nats), the times, the ratio, and the time to
read the recordings. Run: ``.venv/bin/python benchmarks/info_plane.py [--repeats 3] [--run-dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("STRUCTLEARN_QUIET", "1")

import numpy as np
import scipy
import torch

from structlearn.analysis.info_plane import analyze_information_plane
from structlearn.data.tishby import load_tishby_task
from structlearn.data.tishby_rule import tishby_joint
from structlearn.models.mlp import MLP
from structlearn.recordings import RecordingWriter, load_recordings

WIDTHS = [12, 10, 7, 5, 4, 3, 2]
N_EPOCHS = 1000
N_BINS = 30


def synthesise(run_dir: Path, seed: int = 0) -> None:
    """Write 1,001 records (epochs 0..1000) of a 6-layer tanh MLP whose weights random-walk."""
    task = load_tishby_task()
    net = MLP(WIDTHS, "tanh", random_state=seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(task.X, dtype=torch.float32)
    writer = RecordingWriter(
        layer_names=net.layer_names,
        n_units=WIDTHS[1:],
        n_eval=x.shape[0],
        labels=task.y,
        activation_dtype="float16",
        gradient_groups=net.layer_names,
        run_dir=run_dir,
    )
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for epoch in range(N_EPOCHS + 1):
            for layer in net.layers:  # weights grow and wander, as in training
                layer.weight.mul_(1.002).add_(0.01 * torch.randn(layer.weight.shape, generator=gen))
            level = 3.0 if epoch < 300 else 0.3  # a fitting phase, then a diffusion phase
            mean = level * np.exp(0.3 * rng.normal(size=6))
            writer.add(epoch, net(x), (mean, np.ones(6)))
    writer.flush()
    writer.write_index()


def entropy_of_counts(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def reference(rec) -> tuple[np.ndarray, np.ndarray]:
    """The obvious loop: per layer and snapshot, digitize, unique rows, H(T) and H(T) - H(T|Y)."""
    y = rec.labels
    classes = np.unique(y)
    ixt = np.empty((rec.n_layers, rec.epochs.size))
    ity = np.empty_like(ixt)
    for layer in range(rec.n_layers):
        acts = rec.activations[layer].astype(np.float64)
        lo, hi = acts.min(), acts.max()
        edges = np.linspace(lo, hi, N_BINS + 1)[1:-1]  # 30 equal bins over the layer's range
        for e in range(rec.epochs.size):
            codes = np.digitize(acts[e], edges)
            _, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
            h_t = entropy_of_counts(counts)
            h_t_y = 0.0
            for c in classes:
                _, counts_c = np.unique(inverse.ravel()[y == c], return_counts=True)
                h_t_y += np.mean(y == c) * entropy_of_counts(counts_c)
            ixt[layer, e], ity[layer, e] = h_t, h_t - h_t_y
    return ixt, ity


def timed(fn, repeats: int):
    """Median wall time, all wall times, the output, and the median CPU time of this process."""
    times, cpu, out = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), times, out, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory(prefix="ipbench-") as tmp:
        run_dir = args.run_dir
        if run_dir is None:
            run_dir = Path(tmp) / "run"
            start = time.perf_counter()
            synthesise(run_dir)
            print(f"synthesised recordings in {time.perf_counter() - start:.1f} s")
        t_load, _, rec, _ = timed(lambda: load_recordings(run_dir), args.repeats)
        size = sum(p.stat().st_size for p in (run_dir / "recordings").glob("*")) / 2**20
        print(
            f"recordings: {rec.n_layers} layers x {rec.epochs.size} epochs x {rec.labels.size} "
            f"inputs, {size:.0f} MiB on disk; read in {t_load:.2f} s (median of {args.repeats})"
        )
        t_ours, all_ours, res, cpu_ours = timed(
            lambda: analyze_information_plane(rec, null_shuffles=0), args.repeats
        )
        t_null, all_null, _, cpu_null = timed(lambda: analyze_information_plane(rec), args.repeats)
        t_ib, all_ib, res_ib, cpu_ib = timed(
            lambda: analyze_information_plane(rec, p_xy=tishby_joint(0.5)), args.repeats
        )
        t_ref, all_ref, (ixt, ity), cpu_ref = timed(lambda: reference(rec), args.repeats)
    diff = max(np.abs(res.I_XT_nats - ixt).max(), np.abs(res.I_TY_nats - ity).max())
    print(f"values equal (ours vs reference): max |diff| = {diff:.1e} nats -> {diff < 1e-9}")
    for name, t, all_t, c in (
        ("ours, analyze_information_plane", t_ours, all_ours, cpu_ours),
        ("ours, + shuffled-label floor   ", t_null, all_null, cpu_null),
        ("ours, with the IB bound (p_xy) ", t_ib, all_ib, cpu_ib),
        ("reference loop (unique rows)   ", t_ref, all_ref, cpu_ref),
    ):
        print(f"{name}: wall {t:6.2f} s {[round(v, 2) for v in all_t]}, CPU {c:6.2f} s")
    print(f"ratio reference / ours: {t_ref / t_ours:.1f}x (wall), {cpu_ref / cpu_ours:.1f}x (CPU)")
    total = t_load + t_null
    print(
        f"read + analyse (defaults, floor included): {total:.1f} s -> under a minute: {total < 60}"
    )
    print(
        f"transition epoch {res.transition_epoch}; compression per layer (nats) "
        f"{np.round(res.compression_nats, 3).tolist()}; IB gaps {np.round(res_ib.ib_gap_nats, 3)}"
    )


if __name__ == "__main__":
    main()
