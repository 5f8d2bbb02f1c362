"""Many networks of one architecture trained in one pass: stacked weights, one optimiser.

The information-plane protocol of Shwartz-Ziv & Tishby (2017), "Opening the black box of deep
neural networks via information", averages 50 randomly initialised networks trained for 8,000
epochs; the networks are so small that a training step costs PyTorch's per-call overhead, not
arithmetic. :func:`train_ensemble` trains S networks (a :class:`StackedMLP`) together and hands
back, for each one, what :func:`structlearn.train.train` would have given for its seed.

Equality with the single-network path (network ``s`` vs ``train(..., seed=seeds[s])``)
---------------------------------------------------------------------------------------
- Bitwise: the initial weights (copied from the S :class:`MLP` by
  :meth:`~structlearn.models.stacked_mlp.StackedMLP.from_mlps`); the minibatch order (``torch.randperm`` under a generator seeded
  ``seed + epoch``, what ``DistributedSampler(seed=seed).set_epoch(epoch)`` draws); the noise of
  noisy layers (drawn from a per-network generator reseeded from ``(seed, 0, epoch)`` at every
  epoch, as the single trainer reseeds torch's global one); the optimiser's update given the same
  gradients (Adam and SGD with momentum act elementwise, their state is per element and the step
  count is shared, so one optimiser over the stacked tensors performs S separate optimisers'
  updates).
- Within float32 rounding: the forward and backward passes (batched products sum in another
  order; tanh as :math:`2\\sigma(2z)-1`, see :mod:`structlearn.models.stacked_mlp`), hence weights,
  recorded activations and gradient statistics. ``tests/test_ensemble.py`` states the tolerances
  after 200 epochs.

Run folder (``out_dir``)
------------------------
``checkpoint.pt`` (the whole ensemble: stacked weights, optimiser, histories, recording parts),
``ensemble.json`` (config, seeds, order) and one folder per network, ``network-000/`` ...,
laid out as a single run's folder: ``config.json`` (its seed), ``recordings/`` (read by
:func:`structlearn.recordings.load_recordings`, hence by every analyzer, unchanged),
``metrics.json`` and ``history.csv``.

Memory: recorded activations are buffered per network and written as parts whenever the buffers
of all networks together exceed :data:`structlearn.train.FLUSH_BYTES` (64 MiB), so memory stays
bounded with ``out_dir``. Without ``out_dir`` everything stays in memory; a run that would hold
more than :data:`IN_MEMORY_LIMIT` bytes is refused (:func:`recording_bytes` gives the size).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from structlearn.checkpoint import save_checkpoint
from structlearn.models.stacked_mlp import StackedMLP
from structlearn.objectives.stacked import class_argmax, stacked_objective
from structlearn.recordings import RecordingWriter, Reducer
from structlearn.train import (
    FLUSH_BYTES,
    RESUMABLE_KEYS,
    TrainConfig,
    TrainResult,
    _history_csv,
    _prepare_out_dir,
    build_optimizer,
    resolve_record_epochs,
    run_to_end,
)
from structlearn.utils.io import atomic_write_json, atomic_write_text
from structlearn.utils.progress import progress
from structlearn.utils.validation import check_option

ORDERS = ("per_network", "shared")
#: recordings held in memory (no ``out_dir``) beyond this many bytes are refused
IN_MEMORY_LIMIT = 2 * 2**30
KIND = "structlearn-ensemble"


# ----------------------------------------------------------------------------------------- helpers
def minibatch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order in which the single-network trainer visits ``n`` samples in ``epoch``.

    ``DistributedSampler(range(n), shuffle=True, seed=seed)`` on one process, after
    ``set_epoch(epoch)``: a permutation drawn under a generator seeded ``seed + epoch``.

    >>> minibatch_order(5, 0, 1).tolist() == torch.randperm(5, generator=torch.Generator().manual_seed(1)).tolist()
    True
    """
    return torch.randperm(n, generator=torch.Generator().manual_seed(int(seed) + int(epoch)))


def epoch_noise_seed(seed: int, epoch: int) -> int:
    """The seed the single-network trainer gives torch's generator before ``epoch`` (rank 0)."""
    return int(np.random.SeedSequence([int(seed), 0, int(epoch)]).generate_state(1)[0])


def recording_bytes(
    n_networks: int, n_units: Sequence[int], n_records: int, n_eval: int, dtype: str = "float16"
) -> int:
    """Bytes of stored activations: S x records x n_eval x sum(units) x itemsize.

    >>> recording_bytes(50, [10, 7, 5, 4, 3, 2], 270, 4096) / 2**30  # the paper's protocol
    3.19...
    """
    return int(n_networks * n_records * n_eval * sum(n_units) * np.dtype(dtype).itemsize)


def _check_seeds(seeds: Any, n_networks: int) -> list[int]:
    try:
        out = [int(s) for s in seeds]
        ok = all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in seeds)
    except TypeError:
        ok, out = False, []
    if not ok or any(s < 0 for s in out):
        raise ValueError(f"seeds: expected a sequence of non-negative ints, got {seeds!r}")
    if len(out) != n_networks:
        raise ValueError(
            f"seeds: expected one seed per network ({n_networks}), got {len(out)}: {out}"
        )
    return out


@dataclass
class _Stacked:
    """Inputs (n, d) shared or (S, n, d) per network; targets (n,...) or (S, n, ...)."""

    x: torch.Tensor
    y: torch.Tensor | None
    labels: np.ndarray | None  # (n,) or (S, n) integer class labels, when y holds them
    shared: bool

    @property
    def n(self) -> int:
        return self.x.shape[-2]

    def take(
        self, order: torch.Tensor, n_networks: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Rows ``order``, (S, b) one row per network or (b,) for every network.

        Returns x of shape (b, d) (shared inputs, one order) or (S, b, d), and y of shape
        (S, b, ...) or None.
        """
        d = self.x.shape[-1]
        if order.dim() == 1:
            axis = 0 if self.shared else 1
            xb = self.x.index_select(axis, order)
            yb = None if self.y is None else self.y.index_select(axis, order)
            if yb is not None and self.shared:
                yb = yb.unsqueeze(0).expand(n_networks, *yb.shape)
            return xb, yb
        if self.shared:
            flat = order.reshape(-1)
            xb = self.x.index_select(0, flat).view(*order.shape, d)
            yb = None if self.y is None else self.y.index_select(0, flat)
        else:
            offsets = torch.arange(n_networks, device=order.device).unsqueeze(1) * self.n
            flat = (order + offsets).reshape(-1)
            xb = self.x.reshape(-1, d).index_select(0, flat).view(*order.shape, d)
            yb = None
            if self.y is not None:
                yb = self.y.reshape(n_networks * self.n, *self.y.shape[2:]).index_select(0, flat)
        if yb is not None:
            yb = yb.view(*order.shape, *yb.shape[1:])
        return xb, yb

    def digest(self) -> str:
        h = hashlib.sha256()
        for t in (self.x, self.y):
            if t is not None:
                h.update(str((tuple(t.shape), str(t.dtype))).encode())
                h.update(t.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()


def _check_stacked_data(data: Any, name: str, n_networks: int, dtype: torch.dtype) -> _Stacked:
    """``X`` or ``(X,)`` or ``(X, y)``: X (n, d) for every network or (S, n, d) one per network."""
    if isinstance(data, tuple | list) and len(data) in (1, 2):
        x, y = data[0], (data[1] if len(data) == 2 else None)
    else:
        x, y = data, None
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if x.dim() not in (2, 3) or (x.dim() == 3 and x.shape[0] != n_networks):
        raise ValueError(
            f"{name}[0] (inputs): expected shape (n_samples, n_features) or ({n_networks}, "
            f"n_samples, n_features), got {tuple(x.shape)}"
        )
    if x.shape[-2] < 1 or not torch.isfinite(x.to(torch.float64)).all():
        raise ValueError(f"{name}[0] (inputs): expected finite values and at least one sample")
    shared = x.dim() == 2
    x = x.to(dtype)
    lead = (x.shape[0],) if shared else tuple(x.shape[:2])
    if y is None:
        return _Stacked(x, None, None, shared)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if tuple(y.shape[: len(lead)]) != lead or y.dim() > len(lead) + 1:
        raise ValueError(
            f"{name}[1] (targets): expected shape {lead} (labels) or {(*lead, 'n_targets')}, "
            f"got {tuple(y.shape)}"
        )
    if y.dim() == len(lead) and (not y.is_floating_point()):
        labels = y.cpu().numpy().astype(np.int64)
        if labels.min() < 0:
            raise ValueError(f"{name}[1] (labels): expected non-negative integers")
        return _Stacked(x, y.to(torch.long), labels, shared)
    y = y.to(dtype)
    if y.dim() == len(lead):
        y = y.unsqueeze(-1)
    return _Stacked(x, y, None, shared)


class _StackedGradientStats:
    """Per network: mean and std over minibatches of every layer's flattened gradient.

    The per-network counterpart of the single trainer's statistics (same float64 sums, same
    population standard deviation, same per-layer Euclidean norms).
    """

    def __init__(self, model: StackedMLP) -> None:
        self.params = [p for layer in range(model.n_layers) for p in model.layer_parameters(layer)]
        per_layer = [
            sum(p[0].numel() for p in model.layer_parameters(layer))
            for layer in range(model.n_layers)
        ]
        self.bounds = np.concatenate([[0], np.cumsum(per_layer)]).tolist()
        self.s = model.n_networks
        dev = self.params[0].device
        self.total = torch.zeros(self.s, self.bounds[-1], dtype=torch.float64, device=dev)
        self.total_sq = torch.zeros_like(self.total)
        self.count = 0

    def update(self) -> None:
        g = torch.cat(
            [
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(self.s, -1)
                for p in self.params
            ],
            dim=1,
        )
        self.total.add_(g)
        self.total_sq.addcmul_(g, g)
        self.count += 1

    def result(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per network ``(||mean||_2, ||std||_2)``, each of shape (n_layers,)."""
        mean = self.total / self.count
        std = torch.sqrt(torch.clamp(self.total_sq / self.count - mean * mean, min=0.0))
        cuts = list(zip(self.bounds[:-1], self.bounds[1:]))
        m = torch.stack([torch.linalg.vector_norm(mean[:, a:b], dim=1) for a, b in cuts], 1)
        s = torch.stack([torch.linalg.vector_norm(std[:, a:b], dim=1) for a, b in cuts], 1)
        m_np, s_np = m.cpu().numpy(), s.cpu().numpy()
        return [(m_np[i], s_np[i]) for i in range(self.s)]


def _clone(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {k: _clone(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_clone(v) for v in state)
    return state


# ----------------------------------------------------------------------------------------- result
@dataclass
class EnsembleResult:
    """What :func:`train_ensemble` returns.

    Attributes
    ----------
    networks : list of TrainResult
        Network ``s``'s result, as :func:`structlearn.train.train` returns it for ``seeds[s]``
        (``recordings`` read lazily from ``run_dir/network-<s>`` when there is a run folder).
    model : StackedMLP
        The trained networks (``model.network(s)`` is network ``s`` as an :class:`MLP`).
    seeds : list of int
    run_dir : Path or None
    resumed_from : int or None
    timings : dict of str to float
        ``total_s``, ``recording_s`` and ``checkpoint_s`` of this call, for the whole ensemble.
    """

    networks: list[TrainResult]
    model: StackedMLP
    seeds: list[int]
    run_dir: Path | None = None
    resumed_from: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


class _StreamedResult(TrainResult):
    """A network's result whose recordings are read from its folder at every access, never
    cached: a study going through 50 networks holds one network's recordings at a time."""

    @property
    def recordings(self):  # type: ignore[override]
        from structlearn.recordings import load_recordings

        return None if self.run_dir is None else load_recordings(self.run_dir)


def network_dir(run_dir: str | Path, index: int) -> Path:
    """Folder of network ``index`` inside an ensemble's run folder."""
    return Path(run_dir) / f"network-{index:03d}"


# ----------------------------------------------------------------------------------------- trainer
class _EnsembleTrainer:
    """State of one ensemble run; :func:`train_ensemble` is its public face."""

    def __init__(self, model, objective, data, evaluate, has_eval, config, seeds, order, out_dir):
        self.config = config
        self.device = torch.device(config.device)
        self.model = model.to(self.device)
        self.objective = objective.to(self.device)
        self.train_data = _to(data, self.device)
        self.eval_data = _to(evaluate, self.device)
        self.has_eval = has_eval
        self.seeds = seeds
        self.order = order
        self.s = model.n_networks
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.record_at = set(resolve_record_epochs(config).tolist())
        self.histories: list[list[dict[str, float]]] = [[] for _ in range(self.s)]
        self.epoch = 0
        self.snapshot: dict[str, Any] | None = None
        self.saved_epoch: int | None = None
        self.timings: dict[str, float] = {"recording_s": 0.0, "checkpoint_s": 0.0}
        self.gradients: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.optimizer, self.scheduler = build_optimizer(list(self.model.parameters()), config)
        self.noisy = any(s > 0 for s in model.noise_std)
        self.model.generators = [torch.Generator(device=self.device) for _ in range(self.s)]
        self.digest = (data.digest(), evaluate.digest())

    def build_writers(self, reducers: Mapping[str, Reducer] | None) -> None:
        c = self.config
        labels = self.eval_data.labels
        self.writers = [
            RecordingWriter(
                layer_names=self.model.layer_names,
                n_units=list(self.model.widths[1:]),
                n_eval=self.eval_data.n,
                labels=None if labels is None else (labels if labels.ndim == 1 else labels[i]),
                activation_dtype=c.activation_dtype if c.store_activations else None,
                gradient_groups=self.model.layer_names if c.record_gradients else None,
                reducers=reducers,
                run_dir=None if self.out_dir is None else network_dir(self.out_dir, i),
            )
            for i in range(self.s)
        ]

    def clock(self, key: str, start: float) -> None:
        self.timings[key] += time.perf_counter() - start

    # ------------------------------------------------------------------- one epoch
    def _orders(self, epoch: int) -> torch.Tensor:
        n = self.train_data.n
        if self.config.batch_size is None:
            return torch.arange(n, device=self.device)
        if self.order == "shared":
            return minibatch_order(n, self.seeds[0], epoch).to(self.device)
        return torch.stack([minibatch_order(n, s, epoch) for s in self.seeds]).to(self.device)

    def train_epoch(self, epoch: int) -> list[dict[str, float]]:
        """One pass; per network, the minibatch means of the loss parts (``train_*``)."""
        self.model.train()
        self.objective.train()
        if self.noisy:
            for g, seed in zip(self.model.generators, self.seeds):
                g.manual_seed(epoch_noise_seed(seed, epoch))
        order = self._orders(epoch)
        size = self.config.batch_size or self.train_data.n
        stats = self.gradients = None
        if self.config.record_gradients and epoch in self.record_at:
            stats = _StackedGradientStats(self.model)
        sums, keys, n_batches = None, None, 0
        for start in range(0, self.train_data.n, size):
            xb, yb = self.train_data.take(order[..., start : start + size], self.s)
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.objective(self.model(xb), yb)
            values = torch.stack([loss.total.detach(), *loss.parts.values()]).double()
            self._check_finite(values[0], epoch, n_batches)
            loss.total.sum().backward()
            if stats is not None:
                t0 = time.perf_counter()
                stats.update()
                self.clock("recording_s", t0)
            self.optimizer.step()
            keys = ["loss", *loss.parts]
            sums = values if sums is None else sums + values
            n_batches += 1
        if stats is not None:
            t0 = time.perf_counter()
            self.gradients = stats.result()
            self.clock("recording_s", t0)
        means = (sums / n_batches).cpu().numpy()  # type: ignore[operator]
        return [
            {f"train_{k}": float(means[j, i]) for j, k in enumerate(keys)}  # type: ignore[arg-type]
            for i in range(self.s)
        ]

    def _check_finite(self, totals: torch.Tensor, epoch: int, batch: int) -> None:
        bad = torch.nonzero(~torch.isfinite(totals)).flatten().tolist()
        if bad:
            which = ", ".join(f"network {i} (seed {self.seeds[i]})" for i in bad)
            raise FloatingPointError(
                f"loss: became non-finite at epoch {epoch}, minibatch {batch} for {which}; "
                "lower lr, clip the inputs, or check the objective's hyperparameters"
            )

    # ------------------------------------------------------------------- recording
    def evaluate(self, data: _Stacked, prefix: str):
        """Taps (contiguous, (S, n, units)) and per-network metrics on the whole of ``data``."""
        self.model.eval()
        self.objective.eval()
        with torch.no_grad():
            taps = [t.contiguous() for t in self.model(data.x)]
            y = data.y
            if y is not None and data.shared:
                y = y.unsqueeze(0).expand(self.s, *y.shape)
            loss = self.objective(taps, y)
            cols = {f"{prefix}_loss": loss.total}
            cols.update({f"{prefix}_{k}": v for k, v in loss.parts.items()})
            acc_key = f"{prefix}_accuracy"
            if data.labels is not None and acc_key not in cols:
                logits = taps[-1]
                if logits.shape[2] > int(data.labels.max()):
                    cols[acc_key] = (class_argmax(logits.transpose(1, 2)) == y).double().mean(1)
        table = {k: v.double().cpu().numpy() for k, v in cols.items()}
        metrics = [{k: float(v[i]) for k, v in table.items()} for i in range(self.s)]
        return taps, metrics

    def record(self, epoch: int) -> list[dict[str, float]]:
        if epoch not in self.record_at:
            return [{} for _ in range(self.s)]
        t0 = time.perf_counter()
        taps, metrics = self.evaluate(self.eval_data, "eval")
        for i, writer in enumerate(self.writers):
            grad = self.gradients[i] if (self.gradients is not None and epoch > 0) else None
            writer.add(epoch, [t[i] for t in taps], grad)
        self.clock("recording_s", t0)
        return metrics

    # ------------------------------------------------------------------- checkpoints
    def _state(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "epoch": self.epoch,
            "config": self.config.to_dict(),
            "seeds": list(self.seeds),
            "minibatch_order": self.order,
            "model_signature": {k: list(v.shape) for k, v in self.model.state_dict().items()},
            "data_digest": list(self.digest),
            "model": _clone(self.model.state_dict()),
            "optimizer": _clone(self.optimizer.state_dict()),
            "scheduler": None if self.scheduler is None else _clone(self.scheduler.state_dict()),
            "history_length": len(self.histories[0]),
        }

    def take_snapshot(self) -> None:
        if self.out_dir is not None:
            t0 = time.perf_counter()
            self.snapshot = self._state()
            self.clock("checkpoint_s", t0)

    def flush(self) -> None:
        t0 = time.perf_counter()
        for w in self.writers:
            w.flush()
        self.clock("recording_s", t0)

    def write_checkpoint(self) -> None:
        """Flush records up to the snapshot's epoch, write the checkpoint, then the indexes."""
        if self.snapshot is None or self.snapshot["epoch"] == self.saved_epoch:
            return
        for w in self.writers:
            w.discard_after(self.snapshot["epoch"])
        self.flush()
        t0 = time.perf_counter()
        n = self.snapshot["history_length"]
        payload = dict(
            self.snapshot,
            histories=[h[:n] for h in self.histories],
            recording_parts=[list(w.parts) for w in self.writers],
        )
        save_checkpoint(self.out_dir / "checkpoint.pt", payload)  # type: ignore[operator]
        self.clock("checkpoint_s", t0)
        t0 = time.perf_counter()
        for w in self.writers:
            w.write_index()
        self.clock("recording_s", t0)
        self.saved_epoch = self.snapshot["epoch"]

    def check_compatible(self, payload: Mapping[str, Any]) -> None:
        if payload.get("kind") != KIND:
            raise ValueError(
                f"checkpoint: {self.out_dir} holds a single-network run, not an ensemble; resume "
                "it with structlearn.train.train or choose another out_dir"
            )
        saved, current = payload["config"], self.config.to_dict()
        differ = sorted(
            k
            for k in set(saved) | set(current)
            if k not in RESUMABLE_KEYS and k != "seed"
            if saved.get(k) != current.get(k)
        )
        for key, value in (("seeds", list(self.seeds)), ("minibatch_order", self.order)):
            if payload[key] != value:
                differ.append(key)
        if differ:
            raise ValueError(
                f"checkpoint: written for another ensemble config; differing keys {differ}. "
                "Resume with the checkpoint's settings or start a new run in another out_dir."
            )
        signature = {k: list(v.shape) for k, v in self.model.state_dict().items()}
        if payload["model_signature"] != signature:
            raise ValueError("checkpoint: written for another architecture or number of networks")
        if list(payload["data_digest"]) != list(self.digest):
            raise ValueError(
                "checkpoint: written for other train_data or eval_data (their SHA-256 differ); "
                "resume with the same data or start a new run in another out_dir"
            )
        if saved["epochs"] != self.config.epochs and self.config.lr_schedule == "cosine":
            raise ValueError(
                f"epochs: the checkpoint's cosine schedule spans {saved['epochs']} epochs, got "
                f"epochs={self.config.epochs}; keep the same number of epochs"
            )

    def restore(self, payload: Mapping[str, Any]) -> None:
        for i, parts in enumerate(payload["recording_parts"]):
            folder = network_dir(self.out_dir, i) / "recordings"  # type: ignore[arg-type]
            missing = [p["file"] for p in parts if not (folder / p["file"]).is_file()]
            if missing:
                raise ValueError(
                    f"checkpoint: refers to recording parts {missing} missing from {folder}; "
                    "the run folder is incomplete"
                )
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(payload["scheduler"])
        self.epoch = self.saved_epoch = int(payload["epoch"])
        self.histories = [[dict(r) for r in h] for h in payload["histories"]]
        for w, parts in zip(self.writers, payload["recording_parts"]):
            w.parts = [dict(p) for p in parts]

    # ------------------------------------------------------------------- the loop
    def run(self, quiet: bool = False) -> None:
        c = self.config
        self.gradients = None
        if self.epoch == 0 and not self.histories[0]:
            for h, m in zip(self.histories, self.record(0)):
                h.append({"epoch": 0, **m})
        self.take_snapshot()
        epochs = range(self.epoch + 1, c.epochs + 1)
        for epoch in progress(epochs, desc=f"train {self.s} networks", total=len(epochs)):
            lr = self.optimizer.param_groups[0]["lr"]
            rows = self.train_epoch(epoch)
            if self.scheduler is not None:
                self.scheduler.step()
            for h, row, m in zip(self.histories, rows, self.record(epoch)):
                h.append({"epoch": epoch, "lr": lr, **row, **m})
            self.epoch = epoch
            self.take_snapshot()
            if c.checkpoint_every and epoch % c.checkpoint_every == 0:
                self.write_checkpoint()
            elif self.out_dir is not None and sum(w.buffer_nbytes for w in self.writers) > (
                FLUSH_BYTES
            ):
                # bounded memory; the indexes list these parts from the next checkpoint on (a
                # crash before it resumes from the checkpoint's parts, as the single trainer)
                self.flush()

    def final_metrics(self) -> list[dict[str, float]]:
        out = self.evaluate(self.train_data, "train")[1]
        if self.has_eval:
            out = [dict(a, **b) for a, b in zip(out, self.evaluate(self.eval_data, "eval")[1])]
        return out

    def network_config(self, i: int) -> TrainConfig:
        return replace(self.config, seed=self.seeds[i])

    def finish(self, finals: list[dict[str, float]]) -> None:
        if self.out_dir is None:
            return
        self.write_checkpoint()
        for i, final in enumerate(finals):
            folder = network_dir(self.out_dir, i)
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(folder / "config.json", self.network_config(i).to_dict())
            atomic_write_json(
                folder / "metrics.json",
                {"final": final, "history": self.histories[i], "information_unit": "nats"},
            )
            atomic_write_text(folder / "history.csv", _history_csv(self.histories[i]))


def _to(data: _Stacked, device: torch.device) -> _Stacked:
    y = None if data.y is None else data.y.to(device)
    return _Stacked(data.x.to(device), y, data.labels, data.shared)


def _check_args(model, config, seeds, minibatch_order_, out_dir, resume):
    if not isinstance(model, StackedMLP):
        raise TypeError(
            f"model: expected a StackedMLP (StackedMLP.from_mlps(networks)), got "
            f"{type(model).__name__}"
        )
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    check_option(minibatch_order_, "minibatch_order", ORDERS)
    if resume and out_dir is None:
        raise ValueError("out_dir: resume=True needs the out_dir of the run to continue")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for but torch sees no CUDA device; use 'cpu'")
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        if torch.distributed.get_world_size() > 1:
            raise ValueError(
                "train_ensemble: runs in one process; under torchrun train the networks one by "
                "one with structlearn.train.train (DistributedDataParallel)"
            )
    return _check_seeds(seeds, model.n_networks)


def train_ensemble(
    model: StackedMLP,
    objective: nn.Module,
    train_data: Any,
    *,
    seeds: Sequence[int],
    config: TrainConfig,
    eval_data: Any = None,
    minibatch_order: str = "per_network",
    out_dir: str | Path | None = None,
    resume: bool = False,
    reducers: Mapping[str, Reducer] | None = None,
    overwrite: bool = False,
) -> EnsembleResult:
    """Train the S networks of ``model`` together; network ``s`` as ``train`` would with ``seeds[s]``.

    Parameters
    ----------
    model : StackedMLP
        Usually ``StackedMLP.from_mlps([MLP(..., random_state=s) for s in seeds])``; trained in
        place.
    objective : StackedObjective, CrossEntropy, or an objective with ``stacked()``
        See :func:`structlearn.objectives.stacked.stacked_objective`.
    train_data : X or (X,) or (X, y)
        ``X`` of shape (n, d) for every network, or (S, n, d) with network ``s`` training on
        ``X[s]`` (e.g. one train split per seed); ``y`` of shape (n,) / (S, n) integer labels or
        (n[, k]) / (S, n[, k]) float targets accordingly.
    seeds : sequence of int
        One per network: its minibatch order and its noise, as ``TrainConfig.seed`` of a single
        run (``config.seed`` is replaced by ``seeds[s]`` in network ``s``'s ``config.json``).
    config : TrainConfig
        Shared by every network (optimiser, schedule, epochs, batch, recording, checkpoints).
    eval_data : same as train_data, optional
        The set every layer is recorded on (defaults to ``train_data``).
    minibatch_order : {"per_network", "shared"}
        "per_network": network ``s`` sees the minibatches its own seed gives in the single
        trainer; "shared": every network sees the order of ``seeds[0]``.
    out_dir, resume, reducers, overwrite
        As :func:`structlearn.train.train` (layout in the module doc).

    Returns
    -------
    EnsembleResult

    Raises
    ------
    ValueError, TypeError
        Bad model, data, seeds or config (naming the argument); a checkpoint of another ensemble,
        data or architecture; in-memory recordings beyond :data:`IN_MEMORY_LIMIT`.
    FloatingPointError
        When a network's loss becomes non-finite (naming the network and its seed).

    Examples
    --------
    >>> from structlearn.models.mlp import MLP
    >>> from structlearn.objectives.supervised import CrossEntropy
    >>> X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    >>> y = (X[:, 0] > 0).long()
    >>> model = StackedMLP.from_mlps([MLP([4, 8, 2], random_state=s) for s in (0, 1, 2)])
    >>> config = TrainConfig(optimizer="adam", lr=0.05, epochs=30, batch_size=16, n_records=5)
    >>> result = train_ensemble(model, CrossEntropy(), (X, y), seeds=[0, 1, 2], config=config)
    >>> [r.final_metrics["train_accuracy"] > 0.9 for r in result.networks]
    [True, True, True]
    >>> result.networks[2].recordings.activations[0].shape
    (5, 64, 8)
    """
    seeds = _check_args(model, config, seeds, minibatch_order, out_dir, resume)
    objective = stacked_objective(objective)
    if any(True for _ in objective.parameters()):
        raise ValueError("objective: objectives with parameters are not supported by ensembles")
    dtype = model.weights[0].dtype
    data = _check_stacked_data(train_data, "train_data", model.n_networks, dtype)
    evaluate = (
        data
        if eval_data is None
        else _check_stacked_data(eval_data, "eval_data", model.n_networks, dtype)
    )
    for name, d in (("train_data", data), ("eval_data", evaluate)):
        if d.x.shape[-1] != model.widths[0]:
            raise ValueError(
                f"{name}[0] (inputs): expected {model.widths[0]} features (widths[0]), "
                f"got {d.x.shape[-1]}"
            )
    n_records = len(resolve_record_epochs(config))
    size = recording_bytes(
        model.n_networks, model.widths[1:], n_records, evaluate.n, config.activation_dtype
    )
    if out_dir is None and config.store_activations and size > IN_MEMORY_LIMIT:
        raise ValueError(
            f"out_dir: the recordings would hold {size / 2**30:.2f} GiB in memory "
            f"({model.n_networks} networks x {n_records} records x {evaluate.n} inputs); pass "
            "out_dir (they stream to disk in parts of at most 64 MiB) or store_activations=False "
            "with reducers"
        )
    return _train(
        model,
        objective,
        data,
        evaluate,
        eval_data is not None,
        config,
        seeds,
        minibatch_order,
        out_dir,
        resume,
        reducers,
        overwrite,
    )


def _train(
    model,
    objective,
    data,
    evaluate,
    has_eval,
    config,
    seeds,
    order,
    out_dir,
    resume,
    reducers,
    overwrite,
) -> EnsembleResult:
    payload = None if out_dir is None else _prepare_out_dir(Path(out_dir), resume, overwrite)
    trainer = _EnsembleTrainer(
        model, objective, data, evaluate, has_eval, config, seeds, order, out_dir
    )
    trainer.build_writers(reducers)
    if payload is not None:
        trainer.check_compatible(payload)
        trainer.restore(payload)
    elif out_dir is not None:
        out = Path(out_dir)
        if overwrite:
            (out / "checkpoint.pt").unlink(missing_ok=True)
            for old in out.glob("network-*"):
                shutil.rmtree(old, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            out / "ensemble.json",
            {"config": config.to_dict(), "seeds": seeds, "minibatch_order": order},
        )
    finals, total_s = run_to_end(trainer)
    timings = {"total_s": total_s, **trainer.timings}
    networks = []
    for i in range(model.n_networks):
        rd = None if out_dir is None else network_dir(out_dir, i)
        networks.append(
            (TrainResult if out_dir is None else _StreamedResult)(
                final_metrics=finals[i],
                history=trainer.histories[i],
                run_dir=rd,
                resumed_from=None if payload is None else int(payload["epoch"]),
                config=trainer.network_config(i).to_dict(),
                timings={},
                _recordings=None if out_dir is not None else trainer.writers[i].to_recordings(),
            )
        )
    return EnsembleResult(
        networks=networks,
        model=model,
        seeds=seeds,
        run_dir=None if out_dir is None else Path(out_dir),
        resumed_from=None if payload is None else int(payload["epoch"]),
        timings=timings,
    )


# ----------------------------------------------------------------------------------------- studies
def _stackable(models: Sequence[Any], datas: Sequence[Any]) -> str | None:
    """Why ``models`` cannot be trained as one ensemble, or None when they can."""
    from structlearn.models.mlp import MLP

    if not all(isinstance(m, MLP) for m in models):
        return "ensembles hold MLP networks only"
    if len({m.extra_repr() for m in models}) > 1:
        return "the networks differ in architecture"
    sizes = {np.asarray(d[0] if isinstance(d, tuple | list) else d).shape for d in datas}
    if len(sizes) > 1:
        return f"the networks' training sets differ in shape {sorted(sizes)}"
    return None


def _stack_data(datas: Sequence[Any]) -> Any:
    """Per-network ``(X, y)`` -> ``(X (S, n, d), y (S, n, ...))`` (or X alone)."""
    first = datas[0]
    if not isinstance(first, tuple | list):
        return np.stack([np.asarray(d) for d in datas])
    return tuple(np.stack([np.asarray(d[k]) for d in datas]) for k in range(len(first)))


class _Scratch:
    """A temporary folder deleted when the last object holding it is garbage-collected."""

    def __init__(self, path: str) -> None:
        self.path = path
        weakref.finalize(self, shutil.rmtree, path, True)


def _too_big_for_memory(model: StackedMLP, config: TrainConfig, eval_data: Any) -> bool:
    if not config.store_activations:
        return False
    x = eval_data[0] if isinstance(eval_data, tuple | list) else eval_data
    n_eval = np.asarray(x).shape[-2]
    n_records = len(resolve_record_epochs(config))
    size = recording_bytes(
        model.n_networks, model.widths[1:], n_records, n_eval, config.activation_dtype
    )
    return size > IN_MEMORY_LIMIT


def train_networks(
    models: Sequence[Any],
    objective: nn.Module,
    train_data: Sequence[Any],
    *,
    seeds: Sequence[int],
    config: TrainConfig,
    eval_data: Any = None,
    ensemble: bool = True,
    out_dir: str | Path | None = None,
    resume: bool = False,
    reducers: Mapping[str, Reducer] | None = None,
) -> list[TrainResult]:
    """Train ``models[i]`` on ``train_data[i]`` with seed ``seeds[i]``: together or one by one.

    The hook through which a study trains several networks of one architecture: with
    ``ensemble=True`` (the studies' ``training.ensemble``) they are stacked and trained by
    :func:`train_ensemble`; with ``False`` each is trained by :func:`structlearn.train.train`
    (the reference path). Either way ``models`` end with their trained weights (copied back in
    place) and the results are one :class:`TrainResult` per network, in a run folder
    ``out_dir/network-<i>`` when ``out_dir`` is given. The two paths agree within float32
    rounding (module doc).

    Parameters
    ----------
    models : sequence of MLP
        Initialised networks (their initialisation is kept bitwise).
    objective : nn.Module
        The single-network objective (``CrossEntropy`` or one with ``stacked()``).
    train_data : sequence of X or (X, y)
        One training set per network (same shape for the ensemble path).
    seeds : sequence of int
        One per network (minibatch order and noise).
    config : TrainConfig
        Shared settings; ``config.seed`` is replaced by each network's seed.
    eval_data : X or (X, y), optional
        The recording set shared by every network.
    ensemble : bool
    out_dir, resume, reducers
        As :func:`train_ensemble` / :func:`structlearn.train.train`, except that ``resume``
        continues the runs whose folder holds a checkpoint and starts the others afresh (a study
        resumed before its training wrote a checkpoint). Without ``out_dir``, an
        ensemble whose recordings would pass :data:`IN_MEMORY_LIMIT` streams them to a temporary
        folder instead, deleted once no returned result refers to it; its results read each
        network's recordings from disk at every ``result.recordings`` access (never cached).

    Returns
    -------
    list of TrainResult
    """
    models, datas = list(models), list(train_data)
    if len(models) != len(datas):
        raise ValueError(
            f"train_data: expected one training set per network ({len(models)}), got {len(datas)}"
        )
    seeds = _check_seeds(seeds, len(models))
    if not isinstance(ensemble, bool):
        raise TypeError(f"ensemble: expected True or False, got {ensemble!r}")
    if ensemble:
        why = _stackable(models, datas)
        if why is not None:
            raise ValueError(
                f"ensemble: these networks cannot be trained together ({why}); group them by "
                "architecture and training-set shape, or pass ensemble=False"
            )
        stacked = StackedMLP.from_mlps(models)
        scratch = None
        if out_dir is None and _too_big_for_memory(stacked, config, eval_data or datas[0]):
            scratch = tempfile.mkdtemp(prefix="structlearn-ensemble-")
            out_dir = Path(scratch) / "run"
        go_on = _has_checkpoint(out_dir) and resume
        result = train_ensemble(
            stacked,
            objective,
            _stack_data(datas),
            seeds=seeds,
            config=config,
            eval_data=eval_data,
            out_dir=out_dir,
            resume=go_on,
            reducers=reducers,
            overwrite=not go_on,
        )
        with torch.no_grad():
            for i, m in enumerate(models):
                for p, q in zip(m.parameters(), stacked.network(i).parameters()):
                    p.copy_(q)
        if scratch is not None:  # removed once no result refers to it any more
            holder = _Scratch(scratch)
            for r in result.networks:
                r._scratch = holder  # type: ignore[attr-defined]
        return result.networks
    from structlearn.train import train

    out = []
    for i, (m, d, s) in enumerate(zip(models, datas, seeds)):
        folder = None if out_dir is None else network_dir(out_dir, i)
        go_on = _has_checkpoint(folder) and resume
        out.append(
            train(
                m,
                objective,
                d,
                eval_data=eval_data,
                config=replace(config, seed=s),
                out_dir=folder,
                resume=go_on,
                reducers=reducers,
                overwrite=not go_on,
            )
        )
    return out


def _has_checkpoint(out_dir: str | Path | None) -> bool:
    return out_dir is not None and (Path(out_dir) / "checkpoint.pt").is_file()


def train_classifier_mlps(
    widths: Sequence[int],
    activation: str,
    X: Any,
    y: Any,
    *,
    seeds: Sequence[int],
    section: Mapping[str, Any],
) -> tuple[list[Any], list[TrainResult]]:
    """One MLP classifier of ``widths`` per seed, trained with a study's ``training`` section.

    Each network starts as ``MLP(widths, activation, random_state=seed)``; they are trained by
    :func:`train_networks` (together unless ``section["ensemble"]`` is False), cross-entropy,
    batch size capped at the sample count, nothing recorded. ``X`` (n, d) and ``y`` (n,) are
    one training set for every network, or lists with one (X, y) per seed (e.g. each seed's
    split and label noise; equal shapes for the ensemble path). Returns the trained networks
    (in evaluation mode) and one :class:`TrainResult` each (its ``history`` per epoch).
    """
    from structlearn.models.mlp import MLP
    from structlearn.objectives.supervised import CrossEntropy

    per_network = isinstance(X, list | tuple)
    Xs, ys = (list(X), list(y)) if per_network else ([X] * len(seeds), [y] * len(seeds))
    if len(Xs) != len(seeds) or len(ys) != len(seeds):
        raise ValueError(
            f"X, y: expected one training set per seed ({len(seeds)}), got {len(Xs)} and {len(ys)}"
        )
    data = [
        (torch.as_tensor(np.asarray(a), dtype=torch.float32), torch.as_tensor(np.asarray(b)))
        for a, b in zip(Xs, ys, strict=True)
    ]
    n = min(len(d[0]) for d in data)
    config = TrainConfig.from_section(
        {**section, "batch_size": min(section.get("batch_size") or n, n)}, seed=int(seeds[0]),
        record_epochs="none", record_gradients=False, store_activations=False,
    )  # fmt: skip
    nets = [MLP(list(widths), activation, random_state=int(s)) for s in seeds]
    results = train_networks(
        nets, CrossEntropy(), data, seeds=list(seeds), config=config,
        ensemble=bool(section.get("ensemble", True)),
    )  # fmt: skip
    return [n.eval() for n in nets], results
