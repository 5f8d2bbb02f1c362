"""One training loop for any (model, objective, data), with recordings and checkpoint/resume.

The recordings serve the information-plane analyses of Shwartz-Ziv & Tishby (2017), "Opening the
black box of deep neural networks via information" (activations of every layer on a fixed set at
log-spaced epochs over thousands of epochs; per-layer mean and standard deviation of the minibatch
gradients, whose ratio separates the fitting from the diffusion phase) and of Saxe et al. (2018),
"On the information bottleneck theory of deep learning". Their format is in
:mod:`structlearn.recordings`; checkpoints are in :mod:`structlearn.checkpoint`.

Conventions
-----------
- Epoch ``e`` (1-based) is the ``e``-th pass over the training data; a record "at epoch e" is taken
  after it, and epoch 0 is the initial network.
- Minibatches come from ``torch.utils.data.DistributedSampler(shuffle=True, seed=config.seed)``
  with ``set_epoch(e)``: the order of epoch ``e`` is ``torch.randperm(n)`` under a generator seeded
  ``seed + e``. ``batch_size`` is the GLOBAL minibatch; under DDP each of the ``world_size`` ranks
  takes ``batch_size // world_size`` of it, so the averaged gradient is the single-process one.
- Torch's global generator (noise layers, dropout) is reseeded at every epoch from
  ``(seed, rank, epoch)``, so a resumed run draws the same noise without storing generator states;
  the caller's generator state is restored when ``train`` returns.

Run folder (``out_dir``)
------------------------
``config.json`` (the resolved :class:`TrainConfig`), ``checkpoint.pt`` (latest checkpoint),
``recordings/`` (see :mod:`structlearn.recordings`), ``metrics.json``
(``{"final": {...}, "history": [...]}``) and ``history.csv`` (one row per epoch). Every file is
written atomically; only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import inspect
import io
import numbers
import os
import shutil
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler

from structlearn.checkpoint import load_checkpoint, save_checkpoint
from structlearn.recordings import Recordings, RecordingWriter, Reducer, load_recordings
from structlearn.utils.io import atomic_write_json, atomic_write_text
from structlearn.utils.progress import progress
from structlearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_count,
    check_labels,
    check_option,
    check_scalar,
)

# Keys that may change between a checkpoint and the run that resumes it.
RESUMABLE_KEYS = ("epochs", "checkpoint_every", "device")
# Buffered recordings beyond this size are written as a new part at the end of the epoch.
FLUSH_BYTES = 64 * 2**20


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (plain data, saved as ``config.json``).

    Parameters
    ----------
    optimizer : {"sgd", "adam"}
    lr : float
        Learning rate (> 0).
    momentum : float
        SGD momentum in [0, 1); must be 0 for Adam.
    weight_decay : float
        L2 penalty coefficient (>= 0), as the optimisers define it.
    epochs : int
        Number of passes over the training data.
    batch_size : int or None
        Global minibatch size; None trains full batch.
    lr_schedule : {"none", "step", "cosine"}
        Per-epoch schedule: "step" multiplies the rate by ``lr_gamma`` every ``lr_step_size``
        epochs; "cosine" anneals it to 0 over ``epochs``.
    lr_step_size : int
    lr_gamma : float
    record_epochs : "log", "all", "none" or sequence of int
        When to record: ``n_records`` log-spaced epochs in [0, epochs] (see
        :func:`log_spaced_epochs`), every epoch, never, or the given epochs.
    n_records : int
        Number of log-spaced records.
    store_activations : bool
        Keep every layer's activations on the evaluation set (False: only reducers' values).
    activation_dtype : {"float16", "float32"}
        Storage of the activations.
    record_gradients : bool
        Record per-layer gradient mean and std over the minibatches of each recorded epoch.
    checkpoint_every : int or None
        Write a checkpoint every so many epochs (also at the end and on KeyboardInterrupt).
    device : {"cpu", "cuda"}
    seed : int
        Seeds minibatch order and the noise drawn during training.
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    weight_decay: float = 0.0
    epochs: int = 100
    batch_size: int | None = None
    lr_schedule: str = "none"
    lr_step_size: int = 100
    lr_gamma: float = 0.1
    record_epochs: str | tuple[int, ...] = "log"
    n_records: int = 100
    store_activations: bool = True
    activation_dtype: str = "float16"
    record_gradients: bool = True
    checkpoint_every: int | None = None
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        check_option(self.optimizer, "optimizer", ("sgd", "adam"))
        check_scalar(self.lr, "lr", low=0, low_inclusive=False)
        check_scalar(self.momentum, "momentum", low=0, high=1, high_inclusive=False)
        if self.optimizer == "adam" and self.momentum != 0:
            raise ValueError(
                f"momentum: applies to optimizer='sgd' only, got momentum={self.momentum} with "
                "optimizer='adam'; set it to 0"
            )
        check_scalar(self.weight_decay, "weight_decay", low=0)
        check_count(self.epochs, "epochs")
        if self.batch_size is not None:
            check_scalar(self.batch_size, "batch_size", kind=numbers.Integral, low=1)
        check_option(self.lr_schedule, "lr_schedule", ("none", "step", "cosine"))
        check_scalar(self.lr_step_size, "lr_step_size", kind=numbers.Integral, low=1)
        check_scalar(self.lr_gamma, "lr_gamma", low=0, low_inclusive=False)
        check_count(self.n_records, "n_records")
        check_option(self.activation_dtype, "activation_dtype", ("float16", "float32"))
        if self.checkpoint_every is not None:
            check_scalar(self.checkpoint_every, "checkpoint_every", kind=numbers.Integral, low=1)
        check_option(self.device, "device", ("cpu", "cuda"))
        check_scalar(self.seed, "seed", kind=numbers.Integral, low=0)
        object.__setattr__(self, "record_epochs", self._check_record_epochs(self.record_epochs))

    @staticmethod
    def _check_record_epochs(value: Any) -> str | tuple[int, ...]:
        if isinstance(value, str):
            return check_option(value, "record_epochs", ("log", "all", "none"))
        try:
            epochs = tuple(value)
        except TypeError:
            raise ValueError(
                f"record_epochs: expected 'log', 'all', 'none' or a list of epochs, got {value!r}"
            ) from None
        bad = [e for e in epochs if isinstance(e, bool) or not isinstance(e, numbers.Integral)]
        if bad or any(e < 0 for e in epochs):
            raise ValueError(f"record_epochs: expected non-negative integers, got {list(epochs)}")
        return tuple(sorted({int(e) for e in epochs}))

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-able data."""
        d = asdict(self)
        if isinstance(d["record_epochs"], tuple):
            d["record_epochs"] = list(d["record_epochs"])
        return d

    @classmethod
    def from_section(cls, section: Mapping[str, Any], *, seed: int, **fixed: Any) -> TrainConfig:
        """A config from a study's ``training`` section (see :func:`structlearn.config.training_fragment`).

        Keys of the section that are not training settings (``ensemble``) are dropped; ``fixed``
        sets what the study decides itself (``record_gradients=False``, ...).

        >>> TrainConfig.from_section({"optimizer": "adam", "lr": 0.01, "epochs": 3,
        ...                           "ensemble": True}, seed=4, n_records=1).epochs
        3
        """
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in section.items() if k in known}
        if d.get("optimizer") == "adam":
            d["momentum"] = 0.0
        return cls.from_dict({**d, **fixed, "seed": seed})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build a config from a mapping; an unknown key is a ValueError listing the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"config: unknown key(s) {unknown}; known keys are {sorted(known)}")
        return cls(**dict(d))


def log_spaced_epochs(n_epochs: int, n_points: int) -> np.ndarray:
    """``min(n_points, n_epochs + 1)`` distinct epochs in [0, n_epochs], log-spaced, with both ends.

    The geometric grid :math:`\\mathrm{round}(g^{k}) - 1` on [1, n_epochs + 1] is refined until it
    holds ``n_points`` distinct integers (rounding merges points at small epochs), then thinned
    evenly to exactly ``n_points``.

    >>> log_spaced_epochs(1000, 6).tolist()
    [0, 3, 15, 62, 250, 1000]
    >>> log_spaced_epochs(3, 10).tolist()
    [0, 1, 2, 3]
    """
    check_scalar(n_epochs, "n_epochs", kind=numbers.Integral, low=0)
    check_scalar(n_points, "n_points", kind=numbers.Integral, low=1)
    if n_points >= n_epochs + 1:
        return np.arange(n_epochs + 1)
    if n_points == 1:
        return np.array([n_epochs])
    m = n_points
    while True:
        grid = np.unique(np.round(np.geomspace(1, n_epochs + 1, m)).astype(np.int64) - 1)
        if grid.size >= n_points:
            break
        m = int(m * 1.1) + 1
    keep = np.unique(np.round(np.linspace(0, grid.size - 1, n_points)).astype(np.int64))
    return grid[keep]


def resolve_record_epochs(config: TrainConfig) -> np.ndarray:
    """The epochs at which ``train`` records for ``config`` (sorted, within [0, epochs])."""
    if config.record_epochs == "log":
        return log_spaced_epochs(config.epochs, config.n_records)
    if config.record_epochs == "all":
        return np.arange(config.epochs + 1)
    if config.record_epochs == "none":
        return np.zeros(0, dtype=np.int64)
    epochs = np.asarray(config.record_epochs, dtype=np.int64)
    if epochs.size and epochs.max() > config.epochs:
        raise ValueError(
            f"record_epochs: {epochs[epochs > config.epochs].tolist()} exceed epochs={config.epochs}"
        )
    return epochs


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    final_metrics : dict of str to float
        Objective parts, ``loss`` and ``accuracy`` on the whole training set (``train_*``) and the
        evaluation set (``eval_*``, when ``eval_data`` was given), in evaluation mode.
    history : list of dict
        One row per epoch: ``epoch``, ``lr``, ``train_<part>`` (mean over the epoch's
        minibatches) and, at recorded epochs, ``eval_<part>`` / ``eval_accuracy``.
    recordings : Recordings or None
        The recordings (None on ranks other than 0); read from ``run_dir`` on first access when
        the run has one.
    run_dir : Path or None
    resumed_from : int or None
        The checkpoint's epoch when the run was resumed.
    config : dict
        The resolved config.
    timings : dict of str to float
        Wall-clock seconds of this call: ``total_s``; ``recording_s`` (evaluation forward passes
        at recorded epochs, storage conversion, reducers, gradient statistics, writing recording
        parts); ``checkpoint_s`` (state snapshots and checkpoint files). A resumed run counts only
        its own part.
    """

    final_metrics: dict[str, float]
    history: list[dict[str, float]]
    run_dir: Path | None = None
    resumed_from: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    _recordings: Recordings | None = field(default=None, repr=False)
    _has_recordings: bool = field(default=True, repr=False)

    @property
    def recordings(self) -> Recordings | None:
        if self._recordings is None and self._has_recordings and self.run_dir is not None:
            self._recordings = load_recordings(self.run_dir)
        return self._recordings if self._has_recordings else None


# ----------------------------------------------------------------------------------------- helpers


@dataclass
class _Data:
    x: torch.Tensor
    y: torch.Tensor | None
    labels: np.ndarray | None  # integer class labels, when y holds them


def _check_data(data: Any, name: str, dtype: torch.dtype) -> _Data:
    """Accept ``X`` or ``(X,)`` or ``(X, y)``; y integer-valued -> class labels, else targets."""
    if isinstance(data, tuple | list) and len(data) in (1, 2):
        x, y = data[0], (data[1] if len(data) == 2 else None)
    else:
        x, y = data, None
    x_np = np.ascontiguousarray(check_array(x, f"{name}[0] (inputs)", dtype=None))
    x_t = torch.as_tensor(x_np).to(dtype)
    if y is None:
        return _Data(x_t, None, None)
    y_np = np.ascontiguousarray(check_array(y, f"{name}[1] (targets)", ndim=(1, 2), dtype=None))
    check_consistent_length(**{f"{name}[0]": x_np, f"{name}[1]": y_np})
    if y_np.ndim == 1 and (np.issubdtype(y_np.dtype, np.integer) or y_np.dtype == np.bool_):
        labels = check_labels(y_np, f"{name}[1] (labels)")
        return _Data(x_t, torch.as_tensor(labels), labels)
    return _Data(x_t, torch.as_tensor(y_np).to(dtype), None)


def _seed_epoch(seed: int, rank: int, epoch: int) -> None:
    torch.manual_seed(int(np.random.SeedSequence([seed, rank, epoch]).generate_state(1)[0]))


def _clone_state(state: Any) -> Any:
    """Copy of a (nested) state dict with every tensor cloned (much faster than deepcopy)."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {k: _clone_state(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_clone_state(v) for v in state)
    return copy.deepcopy(state)


class _Step(nn.Module):
    """model + objective as one module, so DDP synchronises the objective's parameters too."""

    def __init__(self, model: nn.Module, objective: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, x: torch.Tensor, y: torch.Tensor | None):
        loss = self.objective(self.model(x), y)
        return loss.total, dict(loss.parts)


class _GradientStats:
    r"""Mean and standard deviation over minibatches of every layer's flattened gradient.

    Accumulates :math:`\sum_k g_k` and :math:`\sum_k g_k^2` in float64 over one vector holding
    every layer (three tensor operations per minibatch); the variance
    :math:`\frac1K\sum_k g_k^2 - \bar g^2` loses about :math:`10^{-16}\,\bar g^2/\sigma^2` of
    relative precision to cancellation, negligible for any signal-to-noise ratio below
    :math:`10^6`, and is clipped at 0. Per-layer norms are taken over slices at the end.
    """

    def __init__(self, groups: Sequence[Sequence[nn.Parameter]]) -> None:
        self.params = [p for g in groups for p in g]
        sizes = [sum(p.numel() for p in g) for g in groups]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.count = 0
        ref = self.params[0]
        self.total = torch.zeros(self.bounds[-1], dtype=torch.float64, device=ref.device)
        self.total_sq = torch.zeros_like(self.total)

    def update(self) -> None:
        g = torch.cat(
            [
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                for p in self.params
            ]
        )
        self.total.add_(g)
        self.total_sq.addcmul_(g, g)
        self.count += 1

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(||mean||_2, ||std||_2)`` per layer, std the population standard deviation."""
        mean = self.total / self.count
        std = torch.sqrt(torch.clamp(self.total_sq / self.count - mean * mean, min=0.0))
        cuts = list(zip(self.bounds[:-1], self.bounds[1:]))
        mean_norm = [float(torch.linalg.vector_norm(mean[a:b])) for a, b in cuts]
        std_norm = [float(torch.linalg.vector_norm(std[a:b])) for a, b in cuts]
        return np.array(mean_norm), np.array(std_norm)


def _gradient_groups(model: nn.Module, n_taps: int) -> tuple[list[str], list[list[nn.Parameter]]]:
    """One parameter group per tap when ``model.layers`` aligns with the taps, else per tensor."""
    layers = getattr(model, "layers", None)
    if isinstance(layers, nn.ModuleList) and len(layers) == n_taps:
        names = list(getattr(model, "layer_names", [f"layer_{i}" for i in range(n_taps)]))
        return names, [list(m.parameters()) for m in layers]
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [n for n, _ in named], [[p] for _, p in named]


def build_optimizer(params: Sequence[nn.Parameter], config: TrainConfig) -> tuple[Any, Any]:
    """``(optimizer, scheduler or None)`` of ``config`` over ``params`` (shared by the ensemble)."""
    c = config
    if c.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay
        )
    else:
        optimizer = torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
    scheduler = None
    if c.lr_schedule == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=c.lr_step_size, gamma=c.lr_gamma
        )
    elif c.lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=c.epochs)
    return optimizer, scheduler


def _signature(*modules: nn.Module) -> dict[str, list[int]]:
    return {
        f"{i}.{name}": list(t.shape)
        for i, m in enumerate(modules)
        for name, t in m.state_dict().items()
    }


def _accuracy(objective: nn.Module, taps: list[torch.Tensor], labels: torch.Tensor) -> float | None:
    """Accuracy of ``objective.predict(taps)`` or, failing that, of the last tap's argmax."""
    predict = getattr(objective, "predict", None)
    logits = predict(taps) if callable(predict) else taps[-1]
    if logits.dim() != 2 or (not callable(predict) and logits.shape[1] <= int(labels.max())):
        return None
    return float((logits.argmax(1) == labels).double().mean())


def _local_rank() -> int:
    """This process's device index on its node (torchrun sets LOCAL_RANK)."""
    default = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    return int(os.environ.get("LOCAL_RANK", default))


def _distributed(device: str) -> tuple[int, int, bool]:
    """``(world_size, rank, created)``; initialises the process group under torchrun.

    Under torchrun (``WORLD_SIZE > 1`` and no group yet) the group is created with NCCL for
    ``device="cuda"`` and gloo for ``device="cpu"``; an existing group is used as it is.
    """
    created = False
    if dist.is_available() and not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            if device == "cuda":
                torch.cuda.set_device(_local_rank())
            dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
            created = True
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank(), created
    return 1, 0, False


def _module_fingerprint(module: nn.Module) -> dict[str, str]:
    """What a module was built from: its class, its printed structure and the value of every
    constructor argument it keeps as an attribute (activation, noise_std, ... -- two models of
    equal parameter shapes still differ here). Random states are left out: they only draw the
    initial weights, which the checkpoint replaces."""
    out = {
        "class": f"{type(module).__module__}.{type(module).__qualname__}",
        "structure": repr(module),
    }
    try:
        params = inspect.signature(type(module).__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        params = {}
    for name, p in params.items():
        if name in ("self", "random_state", "generator") or p.kind in (
            p.VAR_POSITIONAL,
            p.VAR_KEYWORD,
        ):
            continue
        value = getattr(module, name, None)
        if value is None or isinstance(value, nn.Module | torch.Tensor | np.ndarray):
            continue  # modules and tensors are in the structure and the state
        out[name] = repr(value)
    return out


def _data_fingerprint(data: _Data) -> str:
    """SHA-256 of the inputs and targets (dtype, shape and bytes): a run resumed on other data or
    other labels is refused."""
    h = hashlib.sha256()
    for t in (data.x, data.y):
        if t is not None:
            a = t.detach().cpu().contiguous()
            h.update(f"{a.dtype}{tuple(a.shape)}".encode())
            h.update(a.numpy().tobytes())
    return h.hexdigest()


def _fingerprint(model: nn.Module, objective: nn.Module, train: _Data, evaluate: _Data) -> dict:
    """Fingerprint of a run's model (class, structure, constructor arguments) and data, stored in
    its checkpoints."""
    del objective  # its parameter shapes are in the signature; tests interrupt through a subclass
    return {
        "model": _module_fingerprint(model),
        "train_data": _data_fingerprint(train),
        "eval_data": _data_fingerprint(evaluate),
    }


def _fingerprint_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    diffs = []
    for part in ("model",):
        a, b = saved.get(part, {}), current[part]
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k) and k != "structure":
                diffs.append(f"{part}.{k}: {a.get(k, '(absent)')} -> {b.get(k, '(absent)')}")
        if not diffs and a.get("structure") != b.get("structure"):
            diffs.append(f"{part} structure: {a.get('structure')} -> {b.get('structure')}")
    for part in ("train_data", "eval_data"):
        if saved.get(part) != current[part]:
            diffs.append(
                f"{part}: other arrays (SHA-256 {str(saved.get(part))[:12]}... -> "
                f"{current[part][:12]}...)"
            )
    return diffs


def _check_fingerprint(payload: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """Refuse a checkpoint of another model or data set, naming what differs."""
    saved = payload.get("fingerprint")
    if saved is None:
        warnings.warn(
            "checkpoint: written before checkpoints recorded the model and data they belong to; "
            "resuming without that check",
            stacklevel=3,
        )
        return
    diffs = _fingerprint_differences(saved, current)
    if diffs:
        raise ValueError(
            "checkpoint: written for another model or data; "
            + "; ".join(diffs)
            + ". It was left untouched: resume with what it was written for, or start a new run "
            "in another out_dir"
        )


def _check_compatible(payload: Mapping[str, Any], config: TrainConfig, signature: dict) -> None:
    """Refuse a checkpoint written for another config or another model, naming what differs."""
    saved = payload["config"]
    current = config.to_dict()
    differ = sorted(
        k
        for k in set(saved) | set(current)
        if k not in RESUMABLE_KEYS and saved.get(k) != current.get(k)
    )
    if differ:
        detail = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in differ)
        raise ValueError(
            f"checkpoint: written for another config; differing keys {differ} ({detail}). "
            "Resume with the checkpoint's config or start a new run in another out_dir."
        )
    if payload["model_signature"] != signature:
        a, b = payload["model_signature"], signature
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise ValueError(
            f"checkpoint: written for another model or objective; differing parameters {keys}"
        )
    if saved["epochs"] != config.epochs and config.lr_schedule == "cosine":
        raise ValueError(
            f"epochs: the checkpoint's cosine schedule spans {saved['epochs']} epochs, got "
            f"epochs={config.epochs}; keep the same number of epochs or use lr_schedule='step'"
        )


# ----------------------------------------------------------------------------------------- trainer


class _Trainer:
    """State of one run; :func:`train` is its public face."""

    def __init__(self, model, objective, train, evaluate, has_eval, config, out_dir, reducers):
        self.config = config
        self.world, self.rank, self.created_group = _distributed(config.device)
        self.device = torch.device("cpu")
        if config.device == "cuda":
            self.device = torch.device("cuda", _local_rank())
            torch.cuda.set_device(self.device)
        self.model = model.to(self.device)
        self.objective = objective.to(self.device)
        self.train_data = _Data(
            train.x.to(self.device),
            None if train.y is None else train.y.to(self.device),
            train.labels,
        )
        self.eval_data = _Data(
            evaluate.x.to(self.device),
            None if evaluate.y is None else evaluate.y.to(self.device),
            evaluate.labels,
        )
        self.has_eval = has_eval
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.is_writer = self.rank == 0
        self._check_batch()
        self.record_at = set(resolve_record_epochs(config).tolist())
        self.history: list[dict[str, float]] = []
        self.epoch = 0
        self.snapshot: dict[str, Any] | None = None
        self.saved_epoch: int | None = None  # epoch of the checkpoint on disk
        self.fingerprint: dict | None = None  # model, objective and data (see _fingerprint)
        self.timings: dict[str, float] = defaultdict(float)
        self._build_optimisation()
        self._build_writer(reducers)
        step = _Step(self.model, self.objective)
        self.net = step
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(step, device_ids=ids)

    def _check_batch(self) -> None:
        n = self.train_data.x.shape[0]
        b = self.config.batch_size
        if b is not None and b % self.world:
            raise ValueError(
                f"batch_size: the global minibatch {b} must be divisible by the "
                f"world size {self.world}"
            )
        if n % self.world:
            warnings.warn(
                f"train_data: {n} samples do not split evenly over {self.world} ranks; "
                "DistributedSampler repeats a few, so the run differs slightly from one process",
                stacklevel=3,
            )
        self.sampler = DistributedSampler(
            range(n),
            num_replicas=self.world,
            rank=self.rank,
            shuffle=b is not None,
            seed=self.config.seed,
        )
        self.local_batch = None if b is None else b // self.world

    def _build_optimisation(self) -> None:
        params = list({id(p): p for p in self._parameters()}.values())
        self.optimizer, self.scheduler = build_optimizer(params, self.config)

    def _parameters(self) -> list[nn.Parameter]:
        return [p for m in (self.model, self.objective) for p in m.parameters() if p.requires_grad]

    def _probe_taps(self) -> list[torch.Tensor]:
        was = self.model.training
        self.model.eval()
        with torch.no_grad():
            taps = self.model(self.eval_data.x[:2])
        self.model.train(was)
        if not isinstance(taps, list | tuple) or not taps:
            raise ValueError(
                f"model: forward must return the list of every layer's output (the taps), "
                f"got {type(taps).__name__}"
            )
        return list(taps)

    def _build_writer(self, reducers: Mapping[str, Reducer] | None) -> None:
        taps = self._probe_taps()
        names, self.groups = _gradient_groups(self.model, len(taps))
        layer_names = list(getattr(self.model, "layer_names", []))
        if len(layer_names) != len(taps):
            layer_names = [f"tap_{i}" for i in range(len(taps))]
        c = self.config
        self.writer = RecordingWriter(
            layer_names=layer_names,
            n_units=[t.reshape(t.shape[0], -1).shape[1] for t in taps],
            n_eval=self.eval_data.x.shape[0],
            labels=self.eval_data.labels,
            activation_dtype=c.activation_dtype if c.store_activations else None,
            gradient_groups=names if c.record_gradients else None,
            reducers=reducers,
            run_dir=self.out_dir if self.is_writer else None,
        )

    @contextlib.contextmanager
    def clock(self, key: str) -> Iterator[None]:
        """Add the wall time of the block to ``self.timings[key]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[key] += time.perf_counter() - start

    # ------------------------------------------------------------------- checkpoints

    def take_snapshot(self) -> None:
        """Copy the state at the end of ``self.epoch`` (what an interruption saves)."""
        if self.out_dir is None or not self.is_writer:
            return
        with self.clock("checkpoint_s"):
            self.snapshot = self._state()

    def _state(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "config": self.config.to_dict(),
            "model_signature": _signature(self.model, self.objective),
            "fingerprint": self.fingerprint,
            "model": _clone_state(self.model.state_dict()),
            "objective": _clone_state(self.objective.state_dict()),
            "optimizer": _clone_state(self.optimizer.state_dict()),
            "scheduler": None
            if self.scheduler is None
            else _clone_state(self.scheduler.state_dict()),
            "history_length": len(self.history),
            "world_size": self.world,
        }

    def write_checkpoint(self) -> None:
        """Flush records up to the snapshot's epoch, write the checkpoint, then the index."""
        if self.snapshot is None or self.snapshot["epoch"] == self.saved_epoch:
            return
        with self.clock("recording_s"):
            self.writer.discard_after(self.snapshot["epoch"])
            self.writer.flush()
        with self.clock("checkpoint_s"):
            payload = dict(
                self.snapshot,
                history=self.history[: self.snapshot["history_length"]],
                recording_parts=list(self.writer.parts),
            )
            save_checkpoint(self.out_dir / "checkpoint.pt", payload)
        with self.clock("recording_s"):
            self.writer.write_index()
        self.saved_epoch = self.snapshot["epoch"]

    def restore(self, payload: Mapping[str, Any]) -> None:
        """Continue from a verified, compatible checkpoint payload."""
        missing = [
            p["file"]
            for p in payload["recording_parts"]
            if self.out_dir is not None and not (self.out_dir / "recordings" / p["file"]).is_file()
        ]
        if missing:
            raise ValueError(
                f"checkpoint: refers to recording parts {missing} that are missing from "
                f"{self.out_dir / 'recordings'}; the run folder is incomplete"
            )
        self.model.load_state_dict(payload["model"])
        self.objective.load_state_dict(payload["objective"])
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(payload["scheduler"])
        self.epoch = self.saved_epoch = int(payload["epoch"])
        self.history = [dict(r) for r in payload["history"]]
        self.writer.parts = [dict(p) for p in payload["recording_parts"]]

    # ------------------------------------------------------------------- one epoch

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training data; returns the minibatch means of the loss parts."""
        self.model.train()
        self.objective.train()
        _seed_epoch(self.config.seed, self.rank, epoch)
        self.sampler.set_epoch(epoch)
        idx = torch.tensor(list(iter(self.sampler)), dtype=torch.long, device=self.device)
        size = self.local_batch or len(idx)
        stats = self.gradient = None
        if self.config.record_gradients and epoch in self.record_at:
            stats = _GradientStats(self.groups)
        sums: dict[str, float] = {}
        n_batches = 0
        for start in range(0, len(idx), size):
            batch = idx[start : start + size]
            y = None if self.train_data.y is None else self.train_data.y[batch]
            self.optimizer.zero_grad(set_to_none=True)
            total, parts = self.net(self.train_data.x[batch], y)
            value = float(total.detach())
            if not np.isfinite(value):
                raise FloatingPointError(
                    f"loss: became {value} at epoch {epoch}, minibatch {n_batches}; "
                    "lower lr, clip the inputs, or check the objective's hyperparameters"
                )
            total.backward()
            if stats is not None:
                with self.clock("recording_s"):
                    stats.update()
            self.optimizer.step()
            for k, v in {"loss": value, **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            n_batches += 1
        if stats is not None:
            with self.clock("recording_s"):
                self.gradient = stats.result()
        return self._average(sums, n_batches)

    def _average(self, sums: dict[str, float], n_batches: int) -> dict[str, float]:
        keys = sorted(sums)
        values = torch.tensor([sums[k] for k in keys], dtype=torch.float64)
        if self.world > 1:
            if self.device.type == "cuda":
                values = values.to(self.device)
            dist.all_reduce(values)
            values = values.cpu()
        return {f"train_{k}": float(v) / (n_batches * self.world) for k, v in zip(keys, values)}

    # ------------------------------------------------------------------- recording

    def evaluate(self, data: _Data, prefix: str) -> tuple[list[torch.Tensor], dict[str, float]]:
        """Taps and metrics of the whole of ``data`` in evaluation mode."""
        self.model.eval()
        self.objective.eval()
        with torch.no_grad():
            taps = list(self.model(data.x))
            loss = self.objective(taps, data.y)
            metrics = {f"{prefix}_loss": float(loss.total)}
            metrics.update({f"{prefix}_{k}": float(v) for k, v in loss.parts.items()})
            if data.labels is not None and f"{prefix}_accuracy" not in metrics:
                acc = _accuracy(self.objective, taps, data.y)
                if acc is not None:
                    metrics[f"{prefix}_accuracy"] = acc
        return taps, metrics

    def record(self, epoch: int) -> dict[str, float]:
        """Record every layer on the evaluation set after ``epoch`` (rank 0 only)."""
        if not self.is_writer or epoch not in self.record_at:
            return {}
        with self.clock("recording_s"):
            taps, metrics = self.evaluate(self.eval_data, "eval")
            acts = [t.reshape(t.shape[0], -1) for t in taps]
            gradient = self.gradient if epoch > 0 else None
            self.writer.add(epoch, acts, gradient)
        return metrics

    # ------------------------------------------------------------------- the loop

    def run(self) -> None:
        c = self.config
        self.gradient = None
        if self.epoch == 0 and not self.history:
            self.history.append({"epoch": 0, **self.record(0)})
        self.take_snapshot()
        epochs = range(self.epoch + 1, c.epochs + 1)
        if self.is_writer:
            epochs = progress(epochs, desc="train", total=len(epochs))
        for epoch in epochs:
            lr = self.optimizer.param_groups[0]["lr"]
            if hasattr(self.objective, "set_epoch"):  # e.g. a β schedule: epochs finished so far
                self.objective.set_epoch(epoch - 1)
            row = {"epoch": epoch, "lr": lr, **self.train_epoch(epoch)}
            if self.scheduler is not None:
                self.scheduler.step()
            row.update(self.record(epoch))
            self.history.append(row)
            self.epoch = epoch
            self.take_snapshot()
            if c.checkpoint_every and epoch % c.checkpoint_every == 0:
                self.write_checkpoint()
            elif self.out_dir is not None and self.writer.buffer_nbytes > FLUSH_BYTES:
                with self.clock("recording_s"):  # bounded memory; parts <= this epoch
                    self.writer.flush()
                    self.writer.write_index()

    def final_metrics(self) -> dict[str, float]:
        metrics = self.evaluate(self.train_data, "train")[1]
        if self.has_eval:
            metrics.update(self.evaluate(self.eval_data, "eval")[1])
        return metrics

    def finish(self, final: dict[str, float]) -> None:
        """Write the final checkpoint, config, metrics and history (rank 0)."""
        if self.out_dir is None or not self.is_writer:
            return
        self.write_checkpoint()
        atomic_write_json(self.out_dir / "config.json", self.config.to_dict())
        atomic_write_json(
            self.out_dir / "metrics.json",
            {"final": final, "history": self.history, "information_unit": "nats"},
        )
        atomic_write_text(self.out_dir / "history.csv", _history_csv(self.history))


def _history_csv(history: Sequence[Mapping[str, float]]) -> str:
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buf.getvalue()


def _prepare_out_dir(out_dir: Path, resume: bool, overwrite: bool) -> dict | None:
    """The checkpoint payload to resume from, or None for a fresh run (after checks)."""
    ckpt = out_dir / "checkpoint.pt"
    if resume:
        if ckpt.is_file():
            return load_checkpoint(ckpt)
        warnings.warn(f"resume: no checkpoint in {out_dir}; starting from scratch", stacklevel=3)
        return None
    if ckpt.exists() and not overwrite:
        raise ValueError(
            f"out_dir: {out_dir} already holds a run (checkpoint.pt); pass resume=True to "
            "continue it, overwrite=True to replace it, or choose another folder"
        )
    return None


def train_section(
    model: nn.Module,
    objective: nn.Module,
    train_data: Any,
    section: Mapping[str, Any],
    *,
    seed: int,
    eval_data: Any = None,
    **fixed: Any,
) -> TrainResult:
    """:func:`train` with a study's ``training`` section (see :meth:`TrainConfig.from_section`).

    The section's ``batch_size`` is capped at the number of training samples (``null``: full
    batch); ``fixed`` sets what the caller decides itself (``record_epochs="none"``, ...).
    """
    X = train_data[0] if isinstance(train_data, tuple | list) else train_data
    n = len(X)
    section = {**section, "batch_size": min(section.get("batch_size") or n, n)}
    config = TrainConfig.from_section(section, seed=seed, **fixed)
    return train(model, objective, train_data, eval_data=eval_data, config=config)


def run_to_end(trainer: Any) -> tuple[dict[str, Any], float]:
    """Run ``trainer`` (single network or ensemble) to its last epoch and finish it.

    Ctrl-C writes a checkpoint before it propagates, so ``resume=True`` continues from the last
    finished epoch. Returns the final metrics and the wall time in seconds.
    """
    start = time.perf_counter()
    try:
        trainer.run()
    except KeyboardInterrupt:
        trainer.write_checkpoint()
        raise
    final = trainer.final_metrics()
    trainer.finish(final)
    return final, time.perf_counter() - start


def train(
    model: nn.Module,
    objective: nn.Module,
    train_data: Any,
    *,
    eval_data: Any = None,
    config: TrainConfig,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    reducers: Mapping[str, Reducer] | None = None,
    overwrite: bool = False,
) -> TrainResult:
    """Train ``model`` under ``objective``, recording every layer at chosen epochs.

    Minimises ``objective(model(x), y).total`` over ``model.parameters()`` and
    ``objective.parameters()`` with the optimiser and schedule of ``config``.

    Parameters
    ----------
    model : nn.Module
        ``model(x)`` returns the list of every layer's output (the taps), e.g. :class:`MLP`.
    objective : Objective
        ``objective(taps, y) -> Loss(total, parts)``; an optional ``predict(taps) -> logits``
        defines accuracy (else the argmax of the last tap, when it is wide enough).
    train_data : X or (X,) or (X, y)
        ``X`` of shape (n_samples, n_features); ``y`` of shape (n_samples,) holding integer
        class labels, or float targets of shape (n_samples,) or (n_samples, n_targets).
    eval_data : same as train_data, optional
        The fixed set on which layers are recorded; defaults to ``train_data``.
    config : TrainConfig
    out_dir : path, optional
        Run folder (see the module doc). Without it nothing is written and there are no
        checkpoints.
    resume : bool
        Continue from ``out_dir/checkpoint.pt``: the run then ends with the same weights,
        history and recordings as an uninterrupted one (bitwise on CPU).
    reducers : dict of str to callable, optional
        ``reducer(activations (n_eval, n_units) float32, labels (n_eval,) or None)`` -> float or
        array, applied to every layer at every recorded epoch; values land in
        ``recordings.reduced[name]``. With ``store_activations=False`` only these are kept.
    overwrite : bool
        Replace a run already in ``out_dir`` (otherwise refused).

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        Bad data or config; a checkpoint from another config (naming the differing keys) or
        a corrupt one (left untouched).
    FloatingPointError
        If the loss becomes NaN or infinite.

    Notes
    -----
    On ``KeyboardInterrupt`` the state at the end of the last completed epoch is checkpointed
    (rank 0, when ``out_dir`` is given) and the interrupt re-raised. Resuming restores model,
    objective, optimiser and scheduler states, the history and the recordings so far; random
    generator states need no saving because the global generator is reseeded from
    ``(seed, rank, epoch)`` at every epoch and the minibatch order from ``seed + epoch``.

    Under ``torchrun --nproc_per_node=N script.py`` (or any initialised process group) the same
    call trains with DistributedDataParallel: every rank passes the same arguments, the global
    minibatch ``batch_size`` is split over the ranks by a ``DistributedSampler``, the gradients of
    model and objective parameters are averaged, and only rank 0 records and writes. The process
    group is created here when torchrun's environment asks for one (gloo on CPU, NCCL with
    ``device="cuda"``, one GPU per rank from ``LOCAL_RANK``). An objective that needs every
    rank's features (the coding rate) gathers them itself.

    Examples
    --------
    >>> from structlearn.models.mlp import MLP
    >>> from structlearn.objectives.supervised import CrossEntropy
    >>> X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    >>> y = (X[:, 0] > 0).long()
    >>> config = TrainConfig(optimizer="adam", lr=0.05, epochs=30, n_records=5)
    >>> result = train(MLP([4, 8, 2], random_state=0), CrossEntropy(), (X, y), config=config)
    >>> result.recordings.epochs.tolist(), result.recordings.activations[0].shape
    ([0, 1, 5, 12, 30], (5, 64, 8))
    >>> result.final_metrics["train_accuracy"] > 0.9
    True
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    if resume and out_dir is None:
        raise ValueError("out_dir: resume=True needs the out_dir of the run to continue")
    params = list(model.parameters())
    dtype = params[0].dtype if params else torch.get_default_dtype()
    data = _check_data(train_data, "train_data", dtype)
    evaluate = data if eval_data is None else _check_data(eval_data, "eval_data", dtype)
    if data.x.shape[1:] != evaluate.x.shape[1:]:
        raise ValueError(
            f"eval_data: inputs of shape {tuple(evaluate.x.shape)} do not match train_data's "
            f"{tuple(data.x.shape)} beyond the sample axis"
        )
    payload, fingerprint = None, None
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise ValueError(f"out_dir: {out_dir} is a file; expected a folder for the run")
    if out_dir is not None:
        payload = _prepare_out_dir(Path(out_dir), resume, overwrite)
        if payload is not None:
            _check_compatible(payload, config, _signature(model, objective))
        fingerprint = _fingerprint(model, objective, data, evaluate)
        if payload is not None:
            _check_fingerprint(payload, fingerprint)
            if payload["config"]["epochs"] != config.epochs and config.record_epochs == "log":
                warnings.warn(
                    "epochs: changed since the checkpoint; log-spaced recordings follow the new "
                    "number of epochs from here on",
                    stacklevel=2,
                )
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for but torch sees no CUDA device; use 'cpu'")
    devices = [_local_rank()] if config.device == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        trainer = _Trainer(
            model, objective, data, evaluate, eval_data is not None, config, out_dir, reducers
        )
        trainer.fingerprint = fingerprint
        try:
            return _run(trainer, payload, out_dir, overwrite)
        finally:
            if trainer.created_group:
                dist.destroy_process_group()


def _run(trainer: _Trainer, payload: dict | None, out_dir, overwrite: bool) -> TrainResult:
    if payload is not None:
        trainer.restore(payload)
    elif out_dir is not None and trainer.is_writer:
        if overwrite:
            (Path(out_dir) / "checkpoint.pt").unlink(missing_ok=True)
            shutil.rmtree(Path(out_dir) / "recordings", ignore_errors=True)
        atomic_write_json(Path(out_dir) / "config.json", trainer.config.to_dict())
    final, total_s = run_to_end(trainer)
    timings = {"total_s": total_s, "recording_s": 0.0, "checkpoint_s": 0.0}
    timings.update(trainer.timings)
    in_memory = None
    if trainer.is_writer and out_dir is None:
        in_memory = trainer.writer.to_recordings()
    return TrainResult(
        final_metrics=final,
        history=trainer.history,
        _recordings=in_memory,
        _has_recordings=trainer.is_writer,
        run_dir=None if out_dir is None else Path(out_dir),
        resumed_from=None if payload is None else int(payload["epoch"]),
        config=trainer.config.to_dict(),
        timings=timings,
    )
