"""Recording overhead of structlearn.train on an information-plane run (target: under 25%).

The run of Shwartz-Ziv & Tishby (2017): the 12-bit task (4096 inputs), a 12-10-7-5-4-3-2 tanh
network (6 layers), minibatches of 512 from 80% of the inputs, every layer recorded on all 4096
inputs (float16) together with the per-layer gradient mean/std, at 1,000 logged epochs. The
reference is the same run with recording switched off (``record_epochs="none"``,
``record_gradients=False``); both write to a run folder. The overhead is

    fraction = (t_recorded - t_plain) / t_recorded,

the share of the recorded run's wall time spent recording (median over repeats). Scenarios:

- ``every epoch``: 1,000 epochs, all recorded (the worst case);
- ``log-spaced``: 1,000 log-spaced records over 4,000 epochs (the usual information-plane run).

Values-equal check: recording must not perturb training, so both runs end with bitwise equal
weights. Run: ``.venv/bin/python benchmarks/recording_overhead.py [--repeats 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("STRUCTLEARN_QUIET", "1")

import numpy as np
import torch

from structlearn.data.tishby import load_tishby_task
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import CrossEntropy
from structlearn.train import TrainConfig, resolve_record_epochs, train

WIDTHS = [12, 10, 7, 5, 4, 3, 2]


def one_run(task, train_idx, config: TrainConfig) -> dict:
    """Wall and CPU time of one training run, its own timings, the trained net, the bytes stored."""
    net = MLP(WIDTHS, "tanh", random_state=0)
    out = Path(tempfile.mkdtemp(prefix="recbench-"))
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        res = train(
            net,
            CrossEntropy(),
            (task.X[train_idx], task.y[train_idx]),
            eval_data=(task.X, task.y),
            config=config,
            out_dir=out / "run",
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = sum(p.stat().st_size for p in (out / "run" / "recordings").glob("*"))
        return {"wall": wall, "cpu": cpu, "timings": res.timings, "net": net, "bytes": size}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def fmt(values: list[float]) -> str:
    return f"median {statistics.median(values):7.2f} s  ({', '.join(f'{v:.2f}' for v in values)})"


def scenario(name: str, task, train_idx, recorded: TrainConfig, repeats: int) -> None:
    plain = TrainConfig(
        **{**recorded.to_dict(), "record_epochs": "none", "record_gradients": False}
    )
    rec, ref = [], []
    for _ in range(repeats):  # interleaved, so drifts in machine load hit both alike
        rec.append(one_run(task, train_idx, recorded))
        ref.append(one_run(task, train_idx, plain))
    equal = all(
        torch.equal(a, b)
        for a, b in zip(rec[-1]["net"].state_dict().values(), ref[-1]["net"].state_dict().values())
    )
    in_run = [r["timings"]["recording_s"] / r["timings"]["total_s"] for r in rec]
    med = {
        k: (statistics.median(r[k] for r in rec), statistics.median(r[k] for r in ref))
        for k in ("wall", "cpu")
    }
    n_records = len(resolve_record_epochs(recorded))
    print(f"\n[{name}] epochs={recorded.epochs}, logged epochs={n_records}, repeats={repeats}")
    print(f"  recorded run, wall : {fmt([r['wall'] for r in rec])}")
    print(f"  plain run, wall    : {fmt([r['wall'] for r in ref])}")
    print(f"  recorded run, CPU  : {fmt([r['cpu'] for r in rec])}")
    print(f"  plain run, CPU     : {fmt([r['cpu'] for r in ref])}")
    print(
        f"  recording fraction, measured inside the run (recording_s / total_s): "
        f"median {100 * statistics.median(in_run):5.1f} %  (target < 25 %)"
    )
    for k in ("wall", "cpu"):
        frac = (med[k][0] - med[k][1]) / med[k][0]
        print(
            f"  recording fraction, (recorded - plain) / recorded, {k:4s} time: {100 * frac:5.1f} %"
        )
    print(f"  recordings on disk: {rec[-1]['bytes'] / 2**20:.1f} MiB")
    print(f"  values equal (final weights bitwise, recorded vs plain): {equal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="100 epochs, 1 repeat (smoke test)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    scale = 10 if args.quick else 1
    repeats = 1 if args.quick else args.repeats
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch threads={args.threads}; "
        f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}"
    )
    task = load_tishby_task()
    train_idx = np.random.default_rng(0).permutation(task.n_samples)[: int(0.8 * task.n_samples)]
    base = dict(optimizer="adam", lr=1e-3, batch_size=512, seed=0)
    one_run(task, train_idx, TrainConfig(**base, epochs=3, record_epochs="all"))  # warm-up: imports
    n = 1000 // scale
    scenario(
        "every epoch",
        task,
        train_idx,
        TrainConfig(**base, epochs=n, record_epochs="log", n_records=n + 1),
        repeats,
    )
    scenario(
        "log-spaced",
        task,
        train_idx,
        TrainConfig(**base, epochs=4 * n, record_epochs="log", n_records=n),
        repeats,
    )


if __name__ == "__main__":
    main()
