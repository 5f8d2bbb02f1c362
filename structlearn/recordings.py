"""Recordings of a training run: their on-disk format and the reader analyzers use.

What is recorded follows the information-plane studies: Shwartz-Ziv & Tishby (2017), "Opening the
black box of deep neural networks via information" (every layer's activations on a fixed set at
log-spaced epochs, and per layer the mean and standard deviation of the stochastic gradients over
the minibatches of an epoch, whose ratio separates the fitting from the diffusion phase), and Saxe
et al. (2018), "On the information bottleneck theory of deep learning".

Format (version 1)
------------------
A run folder holds a ``recordings/`` folder::

    recordings/index.json      the commit point; a reader trusts nothing it does not list
    recordings/meta.npz        "labels": (n_eval,) int64, present when the evaluation set has labels
    recordings/part-00000.npz  records in epoch order, one part per checkpoint (and one at the end)
    recordings/part-00001.npz  ...

``index.json``::

    {"format": "structlearn-recordings", "version": 1,
     "layer_names": [...], "n_units": [...], "n_eval": int,
     "activation_dtype": "float16" | "float32" | null (activations not stored),
     "gradient_groups": [...] (one name per layer) or null, "reducers": [...],
     "parts": [{"file": "part-00000.npz", "epochs": [...], "gradient_epochs": [...]}, ...]}

Each part (``numpy.savez``, uncompressed) holds, for its ``n`` records and ``m`` gradient records:

- ``epochs`` (n,) int64: the epoch after which the record was taken (0 = initial weights);
- ``activations_<l>`` (n, n_eval, n_units_l) for each layer ``l`` (tap ``l`` of the model,
  input excluded, last = output), float16 by default: tanh/sigmoid outputs lie in [-1, 1] where
  float16 keeps ~3 significant digits, far below the bin widths of the binning estimators; a record
  whose values exceed float16's range is stored as float32;
- ``gradient_epochs`` (m,) int64, ``gradient_mean`` (m, n_layers), ``gradient_std`` (m, n_layers)
  float64: for layer ``l`` with parameters :math:`\\theta_l` (weight and bias, flattened) and the
  minibatch gradients :math:`g_1, \\dots, g_K` of epoch ``e``,
  ``gradient_mean = ||(1/K) sum_k g_k||_2`` and
  ``gradient_std = ||sqrt((1/K) sum_k (g_k - mean)^2)||_2`` (elementwise population standard
  deviation, then the Euclidean norm), as in Shwartz-Ziv & Tishby's Fig. 4;
- ``reduced_<name>`` (n, n_layers, ...) float64: the value of reducer ``name`` per record and layer.
"""

from __future__ import annotations

import io
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from structlearn.utils.io import atomic_write_bytes, atomic_write_json, read_json
from structlearn.utils.validation import check_array, check_labels

FORMAT = "structlearn-recordings"
VERSION = 1
FLOAT16_MAX = float(np.finfo(np.float16).max)

Reducer = Callable[[np.ndarray, "np.ndarray | None"], Any]
"""``reducer(activations (n_eval, n_units) float32, labels (n_eval,) or None) -> float or array``."""


class LayerActivations(Sequence):
    """``activations[layer]`` -> array (n_records, n_eval, n_units); a missing layer is a ValueError."""

    def __init__(self, arrays: Sequence[np.ndarray] | None, layer_names: Sequence[str]) -> None:
        self._arrays = None if arrays is None else list(arrays)
        self._names = list(layer_names)

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self):
        return (self[layer] for layer in range(len(self)))

    def __getitem__(self, layer):  # type: ignore[override]
        n = len(self._names)
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
            raise TypeError(f"layer: expected an int in [0, {n}), got {layer!r}")
        if not -n <= layer < n:
            raise ValueError(
                f"layer: no layer {layer}; the recordings hold {n} layers {self._names}"
            )
        if self._arrays is None:
            raise ValueError(
                "layer: activations were not stored in this run (store_activations=False); "
                "read the reducers' values in `reduced` instead"
            )
        return self._arrays[layer]


@dataclass
class Recordings:
    """Everything recorded during a run, as arrays.

    Attributes
    ----------
    epochs : ndarray of shape (n_records,)
        Epochs at which activations were recorded (0 = before training), increasing.
    activations : LayerActivations
        ``activations[layer][epoch_index]`` has shape ``(n_eval, n_units)``.
    labels : ndarray of shape (n_eval,) or None
        Labels of the evaluation set.
    layer_names : list of str
    n_units : list of int
    gradient_epochs : ndarray of shape (n_gradient_records,)
    gradient_mean, gradient_std : ndarray of shape (n_gradient_records, n_layers)
        Norms of the mean and of the standard deviation of the minibatch gradients (module doc).
    gradient_groups : list of str
        Name of each gradient column.
    reduced : dict of str to ndarray of shape (n_records, n_layers, ...)
        Values of the on-the-fly reducers.
    """

    epochs: np.ndarray
    activations: LayerActivations
    labels: np.ndarray | None
    layer_names: list[str]
    n_units: list[int]
    gradient_epochs: np.ndarray
    gradient_mean: np.ndarray
    gradient_std: np.ndarray
    gradient_groups: list[str]
    reduced: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return len(self.layer_names)

    def epoch_index(self, epoch: int) -> int:
        """Position of ``epoch`` in :attr:`epochs`; ValueError naming the epoch if not recorded."""
        hits = np.flatnonzero(self.epochs == epoch)
        if hits.size == 0:
            shown = self.epochs[:5].tolist() + (["..."] if self.epochs.size > 5 else [])
            raise ValueError(
                f"epoch: epoch {epoch} was not recorded; recorded epochs are {shown} "
                f"({self.epochs.size} in all)"
            )
        return int(hits[0])

    def at(self, layer: int, epoch: int) -> np.ndarray:
        """Activations of ``layer`` recorded after ``epoch``, shape (n_eval, n_units)."""
        return self.activations[layer][self.epoch_index(epoch)]

    @classmethod
    def from_arrays(
        cls,
        activations: Sequence[Any],
        labels: Any,
        epochs: Any = None,
        *,
        gradient_mean: Any = None,
        gradient_std: Any = None,
        gradient_epochs: Any = None,
        layer_names: Sequence[str] | None = None,
    ) -> Recordings:
        """Recordings from plain arrays (what :func:`structlearn.train.train` writes).

        Parameters
        ----------
        activations : sequence of arrays, one per layer, each (n_epochs, n_inputs, n_units_l)
            Every layer's output on the evaluation inputs at each logged epoch.
        labels : array-like of int, shape (n_inputs,), or None
        epochs : array-like of int, shape (n_epochs,), or None
            The logged epochs, increasing (default ``0, 1, ..., n_epochs - 1``).
        gradient_mean, gradient_std : array-like, shape (n_gradient_epochs, n_layers), optional
            Norms of the mean and standard deviation of the minibatch gradients per layer.
        gradient_epochs : array-like of int, shape (n_gradient_epochs,), optional
            Default: ``epochs``.
        layer_names : sequence of str, optional
            Default ``"layer 1"``, ...

        Examples
        --------
        >>> rec = Recordings.from_arrays([np.zeros((3, 4, 2))], [0, 1, 0, 1])
        >>> rec.epochs.tolist(), rec.layer_names, rec.at(0, 2).shape
        ([0, 1, 2], ['layer 1'], (4, 2))
        """
        acts = _check_activation_list(activations)
        n_epochs, n_inputs = acts[0].shape[:2]
        if epochs is None:
            ep = np.arange(n_epochs)
        else:
            ep = check_array(epochs, "epochs", ndim=1, dtype=np.int64)
        if ep.size != n_epochs:
            raise ValueError(
                f"epochs: expected {n_epochs} epochs (axis 0 of the activations), got {ep.size}"
            )
        if np.any(np.diff(ep) <= 0):
            raise ValueError(f"epochs: expected increasing epochs, got {ep[:10].tolist()}")
        if layer_names is None:
            names = [f"layer {i + 1}" for i in range(len(acts))]
        else:
            names = [str(n) for n in layer_names]
        if len(names) != len(acts):
            raise ValueError(f"layer_names: expected {len(acts)} names, got {len(names)}")
        y = None if labels is None else check_labels(labels, "labels", n_samples=n_inputs)
        g_ep, g_mean, g_std = _gradient_arrays(
            gradient_mean, gradient_std, gradient_epochs, ep, len(acts)
        )
        return cls(
            epochs=ep,
            activations=LayerActivations(acts, names),
            labels=y,
            layer_names=names,
            n_units=[int(a.shape[2]) for a in acts],
            gradient_epochs=g_ep,
            gradient_mean=g_mean,
            gradient_std=g_std,
            gradient_groups=names if gradient_mean is not None else [],
        )

    def subset(
        self,
        *,
        layers: Sequence[int] | None = None,
        rows: Any = None,
        epochs: Sequence[int] | None = None,
    ) -> Recordings:
        """The same recordings restricted to some layers, evaluation inputs and epochs.

        Parameters
        ----------
        layers : sequence of int, optional
            Layer positions to keep, in the order given (default all); the gradient statistics
            keep the same columns.
        rows : array-like of int, optional
            Evaluation inputs to keep (indices into axis 1 of the activations and the labels).
        epochs : sequence of int, optional
            Recorded epochs to keep (values, increasing; a missing one is a ValueError naming it);
            gradient records are kept at the same epochs when they were recorded there.

        Returns
        -------
        Recordings
            Arrays are views or copies of these; reducers' values are dropped when ``layers`` or
            ``epochs`` change their axes.

        Examples
        --------
        >>> rec = Recordings.from_arrays([np.arange(24.0).reshape(3, 4, 2)] * 2, [0, 1, 0, 1])
        >>> sub = rec.subset(layers=[1], rows=[0, 3], epochs=[0, 2])
        >>> sub.layer_names, sub.labels.tolist(), sub.at(0, 2).tolist()
        (['layer 2'], [0, 1], [[16.0, 17.0], [22.0, 23.0]])
        """
        keep = list(range(self.n_layers)) if layers is None else self._layer_positions(layers)
        e_idx = (
            np.arange(self.epochs.size)
            if epochs is None
            else np.array([self.epoch_index(int(e)) for e in epochs], dtype=np.int64)
        )
        if e_idx.size == 0 or np.any(np.diff(e_idx) <= 0):
            raise ValueError(f"epochs: expected increasing recorded epochs, got {epochs}")
        r_idx = self._row_positions(rows)
        acts = None
        if self.activations._arrays is not None:
            acts = [self.activations[i][e_idx][:, r_idx] for i in keep]
        names = [self.layer_names[i] for i in keep]
        g_ep, g_mean, g_std, groups = self._gradient_subset(keep, epochs)
        same_axes = layers is None and epochs is None
        return Recordings(
            epochs=self.epochs[e_idx],
            activations=LayerActivations(acts, names),
            labels=None if self.labels is None else self.labels[r_idx],
            layer_names=names,
            n_units=[self.n_units[i] for i in keep],
            gradient_epochs=g_ep,
            gradient_mean=g_mean,
            gradient_std=g_std,
            gradient_groups=groups,
            reduced=dict(self.reduced) if same_axes and rows is None else {},
        )

    def _layer_positions(self, layers: Sequence[int]) -> list[int]:
        n = self.n_layers
        out = []
        for layer in layers:
            if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
                raise TypeError(f"layers: expected ints in [0, {n}), got {layer!r}")
            if not -n <= layer < n:
                raise ValueError(f"layers: no layer {layer}; the recordings hold {n} layers")
            out.append(int(layer) % n)
        if not out:
            raise ValueError("layers: expected at least one layer, got none")
        return out

    def _row_positions(self, rows: Any) -> np.ndarray | slice:
        if rows is None:
            return slice(None)
        n_eval = self.activations[0].shape[1] if self.activations._arrays is not None else None
        r = np.asarray(rows)
        if r.ndim != 1 or r.size == 0 or not np.issubdtype(r.dtype, np.integer):
            raise ValueError(f"rows: expected a non-empty 1-D array of ints, got {rows!r}")
        if n_eval is not None and (r.min() < 0 or r.max() >= n_eval):
            raise ValueError(f"rows: expected indices in [0, {n_eval}), got {r.min()}..{r.max()}")
        return r.astype(np.int64)

    def _gradient_subset(self, keep: list[int], epochs: Sequence[int] | None) -> tuple:
        """Gradient records at the kept epochs; columns of the kept layers (one per layer)."""
        g = np.ones(self.gradient_epochs.size, dtype=bool)
        if epochs is not None:
            g = np.isin(self.gradient_epochs, np.asarray(epochs, dtype=np.int64))
        mean, std = self.gradient_mean[g], self.gradient_std[g]
        if self.gradient_mean.shape[1] == self.n_layers:
            groups = [self.gradient_groups[i] for i in keep]
            return self.gradient_epochs[g], mean[:, keep], std[:, keep], groups
        if keep != list(range(self.n_layers)):  # columns are not layers: cannot select them
            return np.zeros(0, np.int64), np.zeros((0, 0)), np.zeros((0, 0)), []
        return self.gradient_epochs[g], mean, std, list(self.gradient_groups)

    def gradient_snr(self) -> np.ndarray:
        """Signal-to-noise ratio ``gradient_mean / gradient_std``, shape (n_gradient_records, n_layers).

        Entries whose standard deviation is 0 (a single minibatch per epoch) are ``inf``.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.gradient_std > 0, self.gradient_mean / self.gradient_std, np.inf)


def _check_activation_list(activations: Any) -> list[np.ndarray]:
    """One 3-D array per layer, all with the same epochs and inputs (axes 0 and 1)."""
    if isinstance(activations, np.ndarray | str) or not isinstance(activations, Sequence):
        raise TypeError(
            "activations: expected a list with one array (n_epochs, n_inputs, n_units) per layer, "
            f"got {type(activations).__name__}"
        )
    acts = [
        check_array(a, f"activations[{i}]", ndim=3, dtype=None) for i, a in enumerate(activations)
    ]
    if not acts:
        raise ValueError("activations: expected at least one layer, got none")
    n_epochs, n_inputs = acts[0].shape[:2]
    for i, a in enumerate(acts):
        if a.shape[:2] != (n_epochs, n_inputs):
            raise ValueError(
                f"activations[{i}]: has {a.shape[0]} epochs and {a.shape[1]} inputs but "
                f"activations[0] has {n_epochs} and {n_inputs}; every layer must be recorded on "
                "the same inputs at the same epochs"
            )
    return acts


def _gradient_arrays(
    mean: Any, std: Any, epochs: Any, default_epochs: np.ndarray, n_layers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (gradient_epochs, gradient_mean, gradient_std); empty when both are None."""
    if mean is None and std is None:
        return np.zeros(0, np.int64), np.zeros((0, 0)), np.zeros((0, 0))
    if mean is None or std is None:
        raise ValueError("gradient_mean: gradient_mean and gradient_std go together; got only one")
    m = check_array(mean, "gradient_mean", ndim=2)
    s = check_array(std, "gradient_std", ndim=2)
    ep = (
        default_epochs
        if epochs is None
        else check_array(epochs, "gradient_epochs", ndim=1, dtype=np.int64)
    )
    if m.shape != s.shape or m.shape != (len(ep), n_layers):
        raise ValueError(
            f"gradient_std: expected gradient_mean and gradient_std of shape ({len(ep)}, "
            f"{n_layers}) (gradient epochs, layers), got {m.shape} and {s.shape}"
        )
    return ep, m, s


# --------------------------------------------------------------------------------------- writing


@dataclass
class _Record:
    epoch: int
    activations: list[np.ndarray] | None
    reduced: dict[str, np.ndarray]
    gradient: tuple[np.ndarray, np.ndarray] | None  # (mean, std) of shape (n_layers,)


def _compact(a: np.ndarray | torch.Tensor, dtype: str) -> np.ndarray:
    """``a`` as float16 when asked and in range, else float32 (torch converts ~10x faster)."""
    t = torch.as_tensor(a).detach().cpu()
    if dtype == "float16" and float(t.abs().max()) <= FLOAT16_MAX:
        return t.half().numpy()
    return t.float().numpy()


class RecordingWriter:
    """Collects records in memory and writes them as parts of the format above.

    Used by :func:`structlearn.train.train`; analyzers only read, with :func:`load_recordings`.
    """

    def __init__(
        self,
        *,
        layer_names: Sequence[str],
        n_units: Sequence[int],
        n_eval: int,
        labels: np.ndarray | None,
        activation_dtype: str | None,
        gradient_groups: Sequence[str] | None,
        reducers: Mapping[str, Reducer] | None = None,
        run_dir: str | os.PathLike | None = None,
        parts: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.layer_names = list(layer_names)
        self.n_units = [int(n) for n in n_units]
        self.n_eval = int(n_eval)
        self.labels = labels
        self.activation_dtype = activation_dtype
        self.gradient_groups = None if gradient_groups is None else list(gradient_groups)
        self.reducers = dict(reducers or {})
        self.folder = None if run_dir is None else Path(run_dir) / "recordings"
        self.parts: list[dict[str, Any]] = [dict(p) for p in parts]
        self.buffer: list[_Record] = []
        self._nbytes = 0
        self._reduced_shapes: dict[str, tuple[int, ...]] = {}

    def add(
        self,
        epoch: int,
        activations: Sequence[np.ndarray | torch.Tensor],
        gradient: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        """Record ``activations`` (one array (n_eval, n_units) per layer) after ``epoch``."""
        reduced = {}
        if self.reducers:
            as_float32 = [_compact(a, "float32") for a in activations]
            reduced = {
                name: self._reduce(name, fn, as_float32) for name, fn in self.reducers.items()
            }
        stored = None
        if self.activation_dtype is not None:
            stored = [_compact(a, self.activation_dtype) for a in activations]
        record = _Record(int(epoch), stored, reduced, gradient)
        self.buffer.append(record)
        self._nbytes += self._record_nbytes(record)

    @property
    def buffer_nbytes(self) -> int:
        """Bytes of activations held in memory, not yet written."""
        return self._nbytes

    @staticmethod
    def _record_nbytes(record: _Record) -> int:
        return sum(a.nbytes for a in record.activations or [])

    def _reduce(self, name: str, fn: Reducer, activations: Sequence[np.ndarray]) -> np.ndarray:
        values = []
        for layer, a in enumerate(activations):
            try:
                v = np.asarray(fn(a, self.labels), dtype=np.float64)
            except Exception as exc:
                raise type(exc)(f"reducers[{name!r}] failed on layer {layer}: {exc}") from exc
            values.append(v)
        shapes = {v.shape for v in values} | {self._reduced_shapes.get(name, values[0].shape)}
        if len(shapes) > 1:
            raise ValueError(
                f"reducers: {name!r} must return the same shape for every layer and epoch, "
                f"got shapes {sorted(shapes)}"
            )
        self._reduced_shapes[name] = values[0].shape
        return np.stack(values)

    def discard_after(self, epoch: int) -> None:
        """Drop buffered records taken after ``epoch`` (work lost to an interruption)."""
        self.buffer = [r for r in self.buffer if r.epoch <= epoch]
        self._nbytes = sum(self._record_nbytes(r) for r in self.buffer)

    def _part_arrays(self, records: Sequence[_Record]) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "epochs": np.array([r.epoch for r in records], dtype=np.int64)
        }
        if self.activation_dtype is not None:
            for layer in range(len(self.layer_names)):
                per = [r.activations[layer] for r in records]  # type: ignore[index]
                common = np.result_type(*per) if per else np.dtype(self.activation_dtype)
                arrays[f"activations_{layer}"] = (
                    np.stack([a.astype(common, copy=False) for a in per])
                    if per
                    else np.zeros((0, self.n_eval, self.n_units[layer]), dtype=common)
                )
        grads = [r for r in records if r.gradient is not None]
        n_groups = len(self.gradient_groups or [])
        arrays["gradient_epochs"] = np.array([r.epoch for r in grads], dtype=np.int64)
        for i, key in enumerate(("gradient_mean", "gradient_std")):
            arrays[key] = np.array(
                [r.gradient[i] for r in grads],  # type: ignore[index]
                dtype=np.float64,
            ).reshape(len(grads), n_groups)
        for name in self.reducers:
            arrays[f"reduced_{name}"] = np.stack([r.reduced[name] for r in records])
        return arrays

    def index(self) -> dict[str, Any]:
        """The content of ``index.json`` for the parts written so far."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "layer_names": self.layer_names,
            "n_units": self.n_units,
            "n_eval": self.n_eval,
            "activation_dtype": self.activation_dtype,
            "gradient_groups": self.gradient_groups,
            "reducers": list(self.reducers),
            "parts": self.parts,
        }

    def flush(self) -> None:
        """Write the buffered records as a new part (if any) and empty the buffer.

        ``index.json`` is not rewritten here: call :meth:`write_index` once the checkpoint that
        refers to the new part is safely on disk.
        """
        if self.folder is None or not self.buffer:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{len(self.parts):05d}.npz"
        arrays = self._part_arrays(self.buffer)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(self.folder / name, buf.getbuffer())
        self.parts.append(
            {
                "file": name,
                "epochs": arrays["epochs"].tolist(),
                "gradient_epochs": arrays["gradient_epochs"].tolist(),
            }
        )
        self.buffer = []
        self._nbytes = 0

    def write_index(self) -> None:
        """Write ``meta.npz`` and ``index.json``, and delete parts it does not list."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        extra = {} if self.labels is None else {"labels": np.asarray(self.labels, np.int64)}
        np.savez(buf, **extra)
        atomic_write_bytes(self.folder / "meta.npz", buf.getvalue())
        atomic_write_json(self.folder / "index.json", self.index())
        listed = {p["file"] for p in self.parts}
        for stale in self.folder.glob("part-*.npz"):
            if stale.name not in listed:
                stale.unlink()

    def to_recordings(self) -> Recordings:
        """The records held in memory (all of them when nothing was flushed) as :class:`Recordings`."""
        return _assemble(self.index(), self.labels, [self._part_arrays(self.buffer)])


# --------------------------------------------------------------------------------------- reading


def _assemble(
    index: Mapping[str, Any], labels: np.ndarray | None, parts: Sequence[Mapping[str, np.ndarray]]
) -> Recordings:
    names = list(index["layer_names"])
    n_units = [int(n) for n in index["n_units"]]
    groups = list(index["gradient_groups"] or [])

    def cat(key: str, empty: np.ndarray) -> np.ndarray:
        got = [p[key] for p in parts if key in p]
        return np.concatenate(got) if got else empty

    activations = None
    if index["activation_dtype"] is not None:
        activations = [
            cat(f"activations_{l}", np.zeros((0, index["n_eval"], n), np.float32))
            for l, n in enumerate(n_units)
        ]
    empty_grad = np.zeros((0, len(groups)))
    return Recordings(
        epochs=cat("epochs", np.zeros(0, np.int64)),
        activations=LayerActivations(activations, names),
        labels=labels,
        layer_names=names,
        n_units=n_units,
        gradient_epochs=cat("gradient_epochs", np.zeros(0, np.int64)),
        gradient_mean=cat("gradient_mean", empty_grad),
        gradient_std=cat("gradient_std", empty_grad),
        gradient_groups=groups,
        reduced={
            name: cat(f"reduced_{name}", np.zeros((0, len(names)))) for name in index["reducers"]
        },
    )


def load_recordings(run_dir: str | os.PathLike) -> Recordings:
    """Read the recordings of the run in ``run_dir`` (written by :func:`structlearn.train.train`).

    Parameters
    ----------
    run_dir : path
        The run's results folder (the ``out_dir`` given to ``train``).

    Returns
    -------
    Recordings
        ``rec.activations[layer][epoch_index]`` of shape (n_eval, n_units), ``rec.epochs``,
        ``rec.labels``, ``rec.gradient_mean`` / ``rec.gradient_std``, ``rec.reduced``.

    Raises
    ------
    ValueError
        If ``run_dir`` holds no recordings, or a listed part is missing or unreadable.
    """
    folder = Path(run_dir) / "recordings"
    index_path = folder / "index.json"
    if not index_path.is_file():
        raise ValueError(
            f"run_dir: {run_dir} holds no recordings ({index_path} is missing); "
            "pass the out_dir of a finished or checkpointed train() run"
        )
    index = read_json(index_path)
    if index.get("format") != FORMAT or index.get("version") != VERSION:
        raise ValueError(
            f"run_dir: {index_path} is not {FORMAT} version {VERSION} "
            f"(format={index.get('format')!r}, version={index.get('version')!r})"
        )
    labels = None
    meta = folder / "meta.npz"
    if meta.is_file():
        with np.load(meta) as m:
            labels = m["labels"] if "labels" in m else None
    parts = []
    for part in index["parts"]:
        path = folder / part["file"]
        try:
            with np.load(path) as z:
                parts.append({k: z[k] for k in z.files})
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"run_dir: recording part {path} is missing or corrupt: {exc}"
            ) from exc
    return _assemble(index, labels, parts)
