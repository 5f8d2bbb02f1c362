"""Ensemble training (structlearn.ensemble) vs a loop of single-network trainings, same work.

The setting of Shwartz-Ziv & Tishby (2017) as the IDNNs code ran it: the 12-bit task, networks
12-10-7-5-4-3-2 with tanh hidden layers, IDNNs' initial weights, Adam at 4e-4, minibatches of 512
from each seed's own 80% training split (3,277 inputs). Network ``s`` of an ensemble equals the
single-network run with seed ``s`` (``tests/test_ensemble.py``); the check below measures by how
much on this setting.

Sections (each printed as a table):

- ``layouts``: one epoch of S=50 networks by four implementations of the same step:
  ``torch.func.stack_module_state`` + ``vmap(functional_call)`` over the MLP's layers; ``baddbmm``
  row-major (batch, units); ``baddbmm`` feature-major (units, batch) with ``torch.tanh``;
  feature-major with tanh as 2 sigmoid(2z) - 1 (what :class:`StackedMLP` does).
- ``ratio``: wall time of ``train_ensemble`` for S networks vs ``train`` called S times in a loop
  (training only, no recordings), S = 1 ... 50; median over repeats; ratio = loop / ensemble; the
  crossover is the smallest S at which the ensemble is faster.
- ``check``: after 200 epochs, the largest difference between each ensemble network and its
  single run: weights, recorded activations (float32), gradient mean/std norms (relative).
- ``paper`` (only when asked, ``--sections paper``): the information-plane study's ``paper`` preset
  end to end (``--paper-networks`` 50 tanh networks x ``--paper-epochs`` 8,000 with 270 records,
  binned planes, KDE alternative, IB bound, claims, figures), split into training and measuring:
  the wall time the preset must keep under 15 min, and its peak memory.
- ``memory``: peak resident memory of an ensemble of S=50 recording every layer on all 4,096
  inputs at every epoch (float16, to a run folder), in a fresh process: recordings stream to
  disk in parts, so the peak stays near the process's size before the run.

Run: ``.venv/bin/python benchmarks/ensemble.py [--repeats 3] [--epochs 30] [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("STRUCTLEARN_QUIET", "1")

import numpy as np
import torch
import torch.nn.functional as F

from structlearn.data.tishby import load_tishby_task
from structlearn.ensemble import network_dir, recording_bytes, train_ensemble
from structlearn.models.mlp import MLP, idnns_init_
from structlearn.models.stacked_mlp import StackedMLP, fast_tanh
from structlearn.objectives.supervised import CrossEntropy
from structlearn.recordings import load_recordings
from structlearn.studies.information_plane import split_inputs
from structlearn.train import TrainConfig, train

WIDTHS = [12, 10, 7, 5, 4, 3, 2]
BATCH = 512


def network(seed: int) -> MLP:
    net = MLP(WIDTHS, "tanh", random_state=seed)
    idnns_init_(net, seed)
    return net


def splits(task, seeds):
    idx = [split_inputs(task.n_samples, 0.8, s)[0] for s in seeds]
    X = np.stack([task.X[i] for i in idx]).astype(np.float32)
    y = np.stack([task.y[i] for i in idx])
    return idx, X, y


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ------------------------------------------------------------------------------------- layouts
def _epoch(params, opt, forward, X, y, order):
    for start in range(0, order.shape[1], BATCH):
        b = order[:, start : start + BATCH]
        logits = forward(params, X, b)  # (S, C, batch)
        loss = F.cross_entropy(logits, y.gather(1, b), reduction="none").mean(1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def _gather(X, b):
    S, n, d = X.shape
    flat = (b + torch.arange(S).unsqueeze(1) * n).reshape(-1)
    return X.reshape(-1, d).index_select(0, flat).view(*b.shape, d)


def _sequential(net: MLP) -> torch.nn.Sequential:
    """``net`` as Linear, Tanh, ..., Linear (the logits), with copies of its weights."""
    mods: list[torch.nn.Module] = []
    for i, layer in enumerate(net.layers):
        mods.append(copy.deepcopy(layer))
        if i < len(net.layers) - 1:
            mods.append(torch.nn.Tanh())
    return torch.nn.Sequential(*mods)


def layouts(task, S: int, repeats: int) -> list[tuple[str, float]]:
    """Seconds per epoch of S networks for the four implementations of one training step."""
    _, Xn, yn = splits(task, range(S))
    X, y = torch.as_tensor(Xn), torch.as_tensor(yn)
    order = torch.stack([torch.randperm(X.shape[1]) for _ in range(S)])
    nets = [network(s) for s in range(S)]
    out = []

    # MLP.forward validates its input (data-dependent control flow, which vmap refuses): the
    # same layers as an nn.Sequential of Linear and Tanh
    seqs = [_sequential(n) for n in nets]
    params, _ = torch.func.stack_module_state(seqs)
    base = copy.deepcopy(seqs[0]).to("meta")

    def one(p, x):
        return torch.func.functional_call(base, p, (x,))

    batched = torch.func.vmap(one)

    def f_vmap(p, X, b):
        return batched(p, _gather(X, b)).transpose(1, 2)

    opt = torch.optim.Adam(list(params.values()), lr=4e-4)
    t = median_time(lambda: _epoch(params, opt, f_vmap, X, y, order), repeats)
    out.append(("stack_module_state + vmap(functional_call), torch.tanh", t))

    def stacked(fm: bool, tanh):
        w = [torch.stack([n.layers[i].weight.detach() for n in nets]) for i in range(6)]
        bias = [torch.stack([n.layers[i].bias.detach() for n in nets]) for i in range(6)]
        ps = [p.clone().requires_grad_() for p in w + bias]

        def f(p, X, b):
            h = _gather(X, b)
            h = h.transpose(1, 2) if fm else h
            for i in range(6):
                if fm:
                    z = torch.baddbmm(p[6 + i].unsqueeze(-1), p[i], h)
                else:
                    z = torch.baddbmm(p[6 + i].unsqueeze(1), h, p[i].transpose(1, 2))
                h = tanh(z) if i < 5 else z
            return h if fm else h.transpose(1, 2)

        return ps, f

    for name, fm, tanh in (
        ("baddbmm row-major (batch, units), torch.tanh", False, torch.tanh),
        ("baddbmm feature-major (units, batch), torch.tanh", True, torch.tanh),
        ("baddbmm feature-major, tanh = 2 sigmoid(2z) - 1 (StackedMLP)", True, fast_tanh),
    ):
        ps, f = stacked(fm, tanh)
        opt = torch.optim.Adam(ps, lr=4e-4)
        run = lambda ps=ps, opt=opt, f=f: _epoch(ps, opt, f, X, y, order)  # noqa: E731
        out.append((name, median_time(run, repeats)))
    return out


# ------------------------------------------------------------------------------------- ratio
def loop_vs_ensemble(task, S: int, epochs: int, repeats: int) -> tuple[float, float]:
    """Median wall seconds of (loop of S train() calls, one train_ensemble) for S networks."""
    seeds = list(range(S))
    idx, X, y = splits(task, seeds)
    config = TrainConfig(
        optimizer="adam",
        lr=4e-4,
        epochs=epochs,
        batch_size=BATCH,
        record_epochs="none",
        record_gradients=False,
    )

    def loop():
        for s in seeds:
            cfg = TrainConfig(**{**config.to_dict(), "seed": s})
            train(network(s), CrossEntropy(), (task.X[idx[s]], task.y[idx[s]]), config=cfg)

    def together():
        model = StackedMLP.from_mlps([network(s) for s in seeds])
        train_ensemble(model, CrossEntropy(), (X, y), seeds=seeds, config=config)

    t_loop, t_ens = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        t = time.perf_counter()
        loop()
        t_loop.append(time.perf_counter() - t)
        t = time.perf_counter()
        together()
        t_ens.append(time.perf_counter() - t)
    return statistics.median(t_loop), statistics.median(t_ens)


# ------------------------------------------------------------------------------------- check
def check(task, S: int, epochs: int) -> dict[str, float]:
    seeds = list(range(S))
    idx, X, y = splits(task, seeds)
    config = TrainConfig(
        optimizer="adam",
        lr=4e-4,
        epochs=epochs,
        batch_size=BATCH,
        n_records=30,
        activation_dtype="float32",
    )
    model = StackedMLP.from_mlps([network(s) for s in seeds])
    ens = train_ensemble(
        model, CrossEntropy(), (X, y), eval_data=(task.X, task.y), seeds=seeds, config=config
    )
    worst = {"weights": 0.0, "activations": 0.0, "gradient_rel": 0.0}
    for s in seeds:
        net = network(s)
        cfg = TrainConfig(**{**config.to_dict(), "seed": s})
        one = train(
            net,
            CrossEntropy(),
            (task.X[idx[s]], task.y[idx[s]]),
            eval_data=(task.X, task.y),
            config=cfg,
        )
        ra, rb = one.recordings, ens.networks[s].recordings
        mine = model.network(s)
        w = max(
            float((a - b).detach().abs().max()) for a, b in zip(net.parameters(), mine.parameters())
        )
        a = max(float(np.abs(ra.activations[i] - rb.activations[i]).max()) for i in range(6))
        g = max(
            float(np.max(np.abs(ra.gradient_mean - rb.gradient_mean) / ra.gradient_mean)),
            float(np.max(np.abs(ra.gradient_std - rb.gradient_std) / ra.gradient_std)),
        )
        worst = {
            "weights": max(worst["weights"], w),
            "activations": max(worst["activations"], a),
            "gradient_rel": max(worst["gradient_rel"], g),
        }
    return worst


# ------------------------------------------------------------------------------------- memory
def memory(task, S: int, epochs: int) -> dict[str, float]:
    seeds = list(range(S))
    _, X, y = splits(task, seeds)
    config = TrainConfig(
        optimizer="adam", lr=4e-4, epochs=epochs, batch_size=BATCH, record_epochs="all"
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    out = Path(tempfile.mkdtemp(prefix="ensbench-"))
    try:
        t = time.perf_counter()
        model = StackedMLP.from_mlps([network(s) for s in seeds])
        train_ensemble(
            model,
            CrossEntropy(),
            (X, y),
            eval_data=(task.X, task.y),
            seeds=seeds,
            config=config,
            out_dir=out / "run",
        )
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        disk = sum(p.stat().st_size for p in (out / "run").rglob("*.npz")) / 2**20
        rec = load_recordings(network_dir(out / "run", S - 1))
        assert rec.epochs.size == epochs + 1
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "records": epochs + 1,
        "held_if_in_memory_MiB": recording_bytes(S, WIDTHS[1:], epochs + 1, 4096) / 2**20,
        "on_disk_MiB": disk,
        "peak_rss_before_MiB": before,
        "peak_rss_after_MiB": peak,
        "wall_s": wall,
    }


# ------------------------------------------------------------------------------------- paper
def _cpu_s(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def paper(n_seeds: int, epochs: int, workers: int | None = None) -> dict:
    """The information-plane study's ``paper`` preset end to end (training, binned planes, KDE
    alternative, IB bound, claims, figures, results folder), with ``n_seeds`` networks and
    ``epochs`` epochs (8,000 in the preset) and, if given, ``analysis.workers``. Wall and CPU
    seconds of the whole run and of its two phases (training every network; measuring them),
    peak resident memory of this process and of the analysis workers."""
    import structlearn.studies.information_plane as ip
    from structlearn.experiment import run_experiment

    phases = {"train_s": 0.0, "train_cpu_s": 0.0, "measure_s": 0.0, "measure_cpu_s": 0.0}

    def timed(fn, key):
        def wrapper(*args, **kwargs):
            t, c = time.perf_counter(), _cpu_s(resource.RUSAGE_SELF)
            c_kids = _cpu_s(resource.RUSAGE_CHILDREN)
            out = fn(*args, **kwargs)
            phases[f"{key}_s"] += time.perf_counter() - t
            cpu = _cpu_s(resource.RUSAGE_SELF) - c + _cpu_s(resource.RUSAGE_CHILDREN) - c_kids
            phases[f"{key}_cpu_s"] += cpu
            return out

        return wrapper

    overrides = [f"n_seeds={n_seeds}", f"training.epochs={epochs}"]
    if workers is not None:
        overrides.append(f"analysis.workers={workers}")
    out = Path(tempfile.mkdtemp(prefix="ensbench-paper-"))
    saved = ip.train_kind, ip.measure_networks
    ip.train_kind, ip.measure_networks = (
        timed(ip.train_kind, "train"),
        timed(ip.measure_networks, "measure"),
    )
    try:
        t0, c0 = time.perf_counter(), _cpu_s(resource.RUSAGE_SELF)
        k0 = _cpu_s(resource.RUSAGE_CHILDREN)
        folder, _ = run_experiment(
            Path(__file__).parents[1] / "experiments" / "information_plane.yaml",
            out=out / "run",
            preset="paper",
            overrides=overrides,
            quiet=True,
        )
        wall = time.perf_counter() - t0
        cpu = _cpu_s(resource.RUSAGE_SELF) - c0 + _cpu_s(resource.RUSAGE_CHILDREN) - k0
        verdicts = json.loads((folder / "metrics.json").read_text())["verdicts"]
    finally:
        ip.train_kind, ip.measure_networks = saved
        shutil.rmtree(out, ignore_errors=True)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        **phases,
        "peak_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_workers_MiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "verdicts": [(v["claim"][:60], v.get("verdict")) for v in verdicts],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30, help="epochs per ratio measurement")
    parser.add_argument("--quick", action="store_true", help="S up to 10, fewer epochs")
    parser.add_argument("--sections", default="layouts,ratio,check,memory")
    parser.add_argument("--paper-epochs", type=int, default=8000, help="epochs of 'paper'")
    parser.add_argument("--paper-networks", type=int, default=50, help="networks of 'paper'")
    parser.add_argument("--paper-workers", type=int, default=None, help="analysis.workers")
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = load_tishby_task()
    sections = args.sections.split(",")
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or 'cpu'}, "
        f"{os.cpu_count()} cores, 1 torch thread, load average {os.getloadavg()[0]:.2f}"
    )
    if "layouts" in sections:
        S = 10 if args.quick else 50
        print(f"\none epoch of {S} networks (median of {args.repeats}):")
        for name, t in layouts(task, S, args.repeats):
            print(f"  {name:<64} {t * 1e3:8.1f} ms")
    if "ratio" in sections:
        sizes = [1, 2, 5, 10] if args.quick else [1, 2, 3, 5, 10, 20, 50]
        epochs = 5 if args.quick else args.epochs
        print(f"\nloop of train() vs train_ensemble, {epochs} epochs, median of {args.repeats}:")
        print(f"  {'S':>3} {'loop s':>9} {'ensemble s':>11} {'ratio':>7} {'ms/network-epoch':>17}")
        crossover = None
        for S in sizes:
            t_loop, t_ens = loop_vs_ensemble(task, S, epochs, args.repeats)
            if crossover is None and t_loop > 1.1 * t_ens:
                crossover = S
            per = t_ens / (S * epochs) * 1e3
            print(f"  {S:>3} {t_loop:>9.2f} {t_ens:>11.2f} {t_loop / t_ens:>7.2f} {per:>17.2f}")
        print(
            f"  crossover: S = {crossover} (smallest S measured at which the ensemble is >10% faster)"
        )
        print(f"  load average after: {os.getloadavg()[0]:.2f}")
    if "check" in sections:
        S, epochs = (2, 50) if args.quick else (5, 200)
        worst = check(task, S, epochs)
        print(f"\nensemble vs single runs, {S} networks, {epochs} epochs, largest |difference|:")
        print(
            f"  weights {worst['weights']:.2e}, activations {worst['activations']:.2e}, "
            f"gradient mean/std norms {worst['gradient_rel']:.2e} (relative)"
        )
    if "memory-child" in sections:
        S, epochs = (10, 20) if args.quick else (50, 299)
        print(json.dumps(memory(task, S, epochs)))
    if "memory" in sections:
        S, epochs = (10, 20) if args.quick else (50, 299)
        cmd = [sys.executable, __file__, "--sections", "memory-child"]
        child = subprocess.run(cmd + (["--quick"] if args.quick else []), capture_output=True)
        m = json.loads(child.stdout.decode().strip().splitlines()[-1])
        print(f"\nmemory, {S} networks recording all 6 layers on 4096 inputs at every epoch:")
        print(
            f"  {m['records']} records: {m['held_if_in_memory_MiB']:.0f} MiB of float16 "
            f"activations if held in memory; written {m['on_disk_MiB']:.0f} MiB; peak RSS "
            f"{m['peak_rss_before_MiB']:.0f} MiB before the run, "
            f"{m['peak_rss_after_MiB']:.0f} MiB after ({m['wall_s']:.1f} s)"
        )

    if "paper" in sections:
        S, epochs = (5, 20) if args.quick else (args.paper_networks, args.paper_epochs)
        p = paper(S, epochs, args.paper_workers)
        print(f"\nthe information_plane paper preset, {S} networks x {epochs} epochs, 270 records:")
        print(
            f"  end to end: wall {p['wall_s']:.1f} s, CPU {p['cpu_s']:.1f} s; training wall "
            f"{p['train_s']:.1f} s (CPU {p['train_cpu_s']:.1f} s), measuring wall "
            f"{p['measure_s']:.1f} s (CPU {p['measure_cpu_s']:.1f} s); peak RSS "
            f"{p['peak_rss_MiB']:.0f} MiB (workers {p['peak_rss_workers_MiB']:.0f} MiB); "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        for claim, verdict in p["verdicts"]:
            print(f"  {verdict:<18} {claim}")


if __name__ == "__main__":
    main()
