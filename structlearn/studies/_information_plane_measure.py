"""Networks and per-network measurements of the information_plane study (see the study's doc).

One network of one kind (tanh, relu, noisy) per seed: :func:`build_model` (IDNNs' initial weights
or PyTorch's), :func:`train_kind` (every seed's network trained in one call, the ensemble trainer
by default, recordings streamed to the run's work folder when there is one), then
:func:`measure_network`: the binned (or KDE) plane, its alternatives, the untrained control and,
for tanh, the final layers against the IB curve of the stochastic-label variant. The IB curve
depends only on the joint distribution and the trade-offs, so the study computes it once per run
(:func:`ib_reference`) and every network is compared with that one curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

N_INPUTS, N_CLASSES = 12, 2


# ----------------------------------------------------------------------------- networks
def split_inputs(n_inputs: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and held-out indices: a seeded permutation, the first ``round(f n)`` train.

    >>> tr, te = split_inputs(10, 0.8, 0)
    >>> len(tr), len(te), sorted(np.concatenate([tr, te]).tolist()) == list(range(10))
    (8, 2, True)
    """
    order = np.random.default_rng(seed).permutation(n_inputs)
    k = round(train_fraction * n_inputs)
    return np.sort(order[:k]), np.sort(order[k:])


def build_model(kind: str, config: dict[str, Any], seed: int) -> Any:
    """The ``kind`` network of ``seed`` (an :class:`~structlearn.models.mlp.MLP`), untrained."""
    from structlearn.models.mlp import MLP, idnns_init_

    noisy = kind == "noisy"
    model = MLP(
        [N_INPUTS, *config["network"]["hidden"], N_CLASSES],
        config["noisy"]["activation"] if noisy else kind,
        noise_std=config["noisy"]["noise_std"] if noisy else 0.0,
        random_state=seed,
    )
    if config["network"]["init"] == "idnns":
        idnns_init_(model, seed)
    return model


#: epochs between checkpoints of a training inside a run's work folder (a fraction of the run)
CHECKPOINTS_PER_RUN = 16


def train_kind(
    kind: str,
    config: dict[str, Any],
    seeds: Sequence[int],
    task: Any,
    work_dir: Path | None = None,
    resume: bool = False,
) -> list:
    """Train the ``kind`` network of every seed in one call; ``[(model, TrainResult), ...]``.

    Each seed has its own split (:func:`split_inputs`), initial weights and minibatch order;
    every network is recorded (float32) on all 4096 inputs. :func:`structlearn.ensemble.
    train_networks` trains them together (``training.ensemble: true``) or one by one with
    :func:`structlearn.train.train` (``false``, the reference path); the two agree within
    float32 rounding. With ``work_dir`` (the run's work folder) the recordings stream to
    ``work_dir/<kind>-<first seed>-<n seeds>`` (memory bounded by one network's recordings at a
    time), a checkpoint is written every 1/16 of the epochs, and ``resume`` continues it.
    """
    import torch

    from structlearn.ensemble import train_networks
    from structlearn.objectives.supervised import CrossEntropy
    from structlearn.train import TrainConfig

    X = torch.as_tensor(task.X, dtype=torch.float32)
    y = torch.as_tensor(task.y)
    frac = config["data"]["train_fraction"]
    splits = [torch.as_tensor(split_inputs(len(y), frac, s)[0]) for s in seeds]
    models = [build_model(kind, config, s) for s in seeds]
    every = None
    out_dir = None
    if work_dir is not None:
        out_dir = Path(work_dir) / f"{kind}-{seeds[0]}-{len(seeds)}"
        every = max(config["training"]["epochs"] // CHECKPOINTS_PER_RUN, 1)
    cfg = TrainConfig.from_section(
        config["training"],
        seed=seeds[0],
        activation_dtype="float32",
        record_gradients=True,
        checkpoint_every=every,
    )
    results = train_networks(
        models,
        CrossEntropy(),
        [(X[idx], y[idx]) for idx in splits],
        seeds=seeds,
        config=cfg,
        eval_data=(X, y),
        ensemble=config["training"]["ensemble"],
        out_dir=out_dir,
        resume=resume,
    )
    return list(zip(models, results, strict=True))


# ----------------------------------------------------------------------------- planes
def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def plane_recordings(rec: Any) -> Any:
    """The recordings with the output tap as softmax probabilities (the paper's output layer)."""
    from structlearn.recordings import Recordings

    acts = list(rec.activations)
    acts[-1] = _softmax(np.asarray(acts[-1], dtype=np.float64))
    return Recordings(**{**vars(rec), "activations": type(rec.activations)(acts, rec.layer_names)})


def _test_accuracy(model: Any, task: Any, test_idx: np.ndarray) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(task.X[test_idx], dtype=torch.float32))[-1]
    return float((logits.argmax(1).numpy() == task.y[test_idx]).mean())


def _binning(kind: str, config: dict[str, Any], n_bins: int | None = None) -> dict[str, Any]:
    b = config["binning"]
    return {
        "estimator": "binning",
        "n_bins": n_bins or b["n_bins"],
        "value_range": tuple(b["tanh_range"]) if kind == "tanh" else "layer",
    }


def _kde(rec: Any, config: dict[str, Any], seed: int, variance: Any, bound: str) -> tuple:
    """The hidden layers on the KDE's seeded subset of inputs and epochs, and its options."""
    k = config["kde"]
    rows = np.sort(np.random.default_rng(seed).choice(rec.labels.size, k["n_inputs"], False))
    pick = np.unique(np.linspace(0, rec.epochs.size - 1, k["n_epochs"]).round().astype(int))
    sub = rec.subset(layers=range(rec.n_layers - 1), rows=rows, epochs=rec.epochs[pick])
    return sub, {"estimator": "kde", "noise_variance": variance, "kde_bound": bound}


def _planes(kind: str, model: Any, rec: Any, config: dict[str, Any], seed: int) -> dict:
    """The network's plane, its alternatives and its untrained control (InformationPlanes).

    tanh / relu: binning (``plane``), the other bin count (``alt_bins``: IDNNs' 29 bins for tanh,
    Saxe et al.'s 100 for ReLU) and KDE with an assumed noise variance (``alt_kde``); noisy: KDE
    with the network's own noise, upper and lower (``alt_kde``) bounds. ``untrained``: the
    initial network at the first and last recorded epochs (its weights never change).
    """
    from structlearn.analysis.info_plane import analyze_information_plane

    v = config["verdict"]
    common = {
        "compression_tol": v["compression_tol"],
        "ceiling_margin": v["ceiling_margin"],
        "min_snr_drop": v["min_snr_drop"],
        "fit_fraction": v["fit_fraction"],
    }
    alt = config["alternatives"]
    if kind == "noisy":
        var = list(model.noise_variance)
        bound = config["kde"]["bound"]
        plane_rec, opts = _kde(rec, config, seed, var, bound)
        other = {"upper": "lower", "lower": "upper"}[bound]
        alts = {"alt_kde": (plane_rec, {**opts, "kde_bound": other})}
    else:
        plane_rec, opts = plane_recordings(rec), _binning(kind, config)
        bins = config["binning"]["n_bins"] - 1 if kind == "tanh" else alt["relu_bins"]
        alts = {
            "alt_bins": (plane_rec, _binning(kind, config, bins)),
            "alt_kde": _kde(rec, config, seed, alt["kde_noise_variance"], "upper"),
        }
    out = {"plane": analyze_information_plane(plane_rec, **opts, **common)}
    for name, (r, o) in alts.items():
        out[name] = analyze_information_plane(r, **o, **common, null_shuffles=0)
    out["untrained"] = analyze_information_plane(
        _frozen(plane_rec), **opts, **common, null_shuffles=0
    )
    return out


def _frozen(rec: Any) -> Any:
    """The first record at the first and the last epoch: a network whose weights never change."""
    from structlearn.recordings import Recordings

    first = [np.repeat(rec.activations[i][:1], 2, axis=0) for i in range(rec.n_layers)]
    epochs = [int(rec.epochs[0]), int(rec.epochs[-1])]
    return Recordings.from_arrays(first, rec.labels, epochs, layer_names=rec.layer_names)


# ----------------------------------------------------------------------------- the IB bound
def ib_reference(config: dict[str, Any]) -> dict[str, Any]:
    """The stochastic-label joint p(x, y) (4096, 2) and its IB curve over ``ib.n_betas``
    trade-offs (0.5 to 1000, log-spaced): the same for every network, so computed once per run.
    """
    from structlearn.data.tishby_rule import tishby_joint
    from structlearn.estimators import ib_curve

    joint = tishby_joint(config["ib"]["temperature"])
    return {
        "joint": joint,
        "curve": ib_curve(joint, np.geomspace(0.5, 1000.0, config["ib"]["n_betas"])),
    }


def _ib_plane(rec: Any, config: dict[str, Any], ib: dict[str, Any], epoch: int) -> Any:
    """The tanh network's binned layers at ``epoch`` as exact encoders under the joint."""
    from structlearn.analysis.info_plane import analyze_information_plane

    return analyze_information_plane(
        plane_recordings(rec),
        **_binning("tanh", config),
        epochs=[epoch],
        p_xy=ib["joint"],
        ib_betas=ib["curve"],
        max_encoder_states=config["ib"]["max_encoder_states"],
    )


def measure_network(
    kind: str, model: Any, result: Any, config: dict[str, Any], seed: int, shared: dict
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One trained network's metrics (analyzer summaries stored verbatim) and figure artefacts.

    ``shared``: the study's ``prepare`` output (``task``, ``ib`` from :func:`ib_reference`).
    The recordings are read once (from disk when streamed) and dropped on return.
    """
    rec = result.recordings
    planes = _planes(kind, model, rec, config, seed)
    split = split_inputs(rec.labels.size, config["data"]["train_fraction"], seed)
    m = {
        **planes["plane"].summary(),
        "layers": planes["plane"].layer_summaries(),
        "curves": planes["plane"].curves(),
        "train_accuracy": float(result.final_metrics["train_accuracy"]),
        "test_accuracy": _test_accuracy(model, shared["task"], split[1]),
    }
    for name in ("untrained", "alt_bins", "alt_kde"):
        if name in planes:
            m[name] = {**planes[name].summary(), "layers": planes[name].layer_summaries()}
    if kind == "tanh":
        for name, epoch in (("ib", int(rec.epochs[-1])), ("ib_untrained", 0)):
            planes[name] = _ib_plane(rec, config, shared["ib"], epoch)
            m[name] = {**planes[name].summary(), "layers": planes[name].layer_summaries()}
    return m, {"plane": planes["plane"], "ib": planes.get("ib")}


# ----------------------------------------------------------------------------- many networks
def measure_networks(
    kind: str, trained: list, config: dict[str, Any], seeds: Sequence[int], shared: dict
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """:func:`measure_network` of every ``(model, result)`` of ``trained``, in seed order.

    ``analysis.workers`` > 1 measures networks in that many processes (each pinned to one
    thread, reading its network's recordings from disk when they were streamed); every
    network's measurement is deterministic, so the metrics do not depend on the count.
    """
    jobs = [(kind, m, r, config, s) for (m, r), s in zip(trained, seeds, strict=True)]
    workers = min(config["analysis"]["workers"], len(jobs))
    if workers <= 1:
        return [measure_network(*job, shared) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_init,
        initargs=(shared,),
    )
    with pool:
        return list(pool.map(_measure_in_worker, jobs))


_WORKER_SHARED: dict[str, Any] = {}


def _worker_init(shared: dict) -> None:
    """One thread per worker process (as the runner pins the parent); the run's shared data."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    _WORKER_SHARED["limits"] = threadpool_limits(1)
    _WORKER_SHARED["shared"] = shared


def _measure_in_worker(job: tuple) -> tuple[dict[str, Any], dict[str, Any]]:
    return measure_network(*job, _WORKER_SHARED["shared"])
