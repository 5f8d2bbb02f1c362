"""The study contract: a study declares its science, the runner does the rest.

A study file reads top to bottom as **schema → measure one seed → claims → figures**. It subclasses
:class:`Study` and fills in

- ``schema``: its config keys (with :func:`structlearn.config.seeds_fragment` for ``n_seeds`` and
  :func:`structlearn.config.training_fragment` for a ``training`` section);
- :meth:`Study.measure`: one seed's measurements, a :class:`SeedResult` whose ``metrics`` are named
  JSON numbers and arrays (analyzer results' ``summary()`` stored verbatim) and whose ``artefacts``
  are whatever the figures need (arrays, small objects; never read by claims);
- :meth:`Study.claims`: the claims (:mod:`structlearn.studies.claims`), each with a rule, a
  premise, alternatives and controls, read from the per-seed metrics;
- :meth:`Study.figures` and :meth:`Study.summary`: pictures and the table shown first.

:meth:`Study.run` (not overridden) owns what every study repeats: thread pinning, the seed loop
(seeds ``seed, seed + 1, ...``), a progress bar, per-seed timings, a checkpoint of every finished
seed in the run's work folder (``--resume`` skips finished seeds and gives a byte-identical
``metrics.json``; a checkpoint made under another config is refused, naming the keys that
differ), evaluating the claims from per-seed values and assembling the :class:`StudyOutput`.

Studies that train several networks of one architecture per seed batch set ``batch_seeds = True``
and override :meth:`Study.measure_seeds`: the runner then hands them every unfinished seed at once
(the ensemble trainer trains them together) and checkpoints each seed's result it returns. While
measuring, :attr:`Study.context` is the run's :class:`RunContext`: a long training inside one call
can keep its own checkpoints under ``context.work_dir`` and resume them when ``context.resume``.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from structlearn.config import Schema
from structlearn.studies.claims import Claim, evaluate
from structlearn.studies.claims import Verdict as ClaimVerdict
from structlearn.utils.io import atomic_write_bytes, to_jsonable

CHECKPOINT_VERSION = 1


@dataclass
class Verdict:
    """A verdict of the first format (claim, measured text, held True/False/None).

    Kept so that results folders written before the study contract still render; new studies
    return :class:`structlearn.studies.claims.Verdict`.
    """

    claim: str
    measured: str
    held: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "measured": self.measured, "held": self.held}

    def console_line(self) -> str:
        word = {True: "held", False: "did NOT hold"}.get(self.held, "not decided")
        return f"[{word}] {self.claim} -- {self.measured}"


@dataclass
class StudyOutput:
    """Everything a study hands back to the runner.

    ``metrics`` is written to ``metrics.json`` (with ``summary`` and ``verdicts`` added), ``figures``
    (name -> matplotlib Figure) to ``figures/<name>.png``, ``summary`` (a list of rows with the same
    keys) is printed as a table and shown first in the report. ``timings`` go to ``run.json``.
    """

    metrics: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    summary: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Any] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)
    #: wall times in seconds, written to run.json (not metrics.json, which must repeat exactly)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RunContext:
    """Where a study may write (``work_dir`` survives interruption: checkpoints live there)."""

    out_dir: Path
    work_dir: Path
    seed: int
    resume: bool = False
    quiet: bool = False


@dataclass
class SeedResult:
    """One seed's measurements.

    ``metrics``: named numbers and arrays (JSON-ready after :func:`to_jsonable`), what the claims
    and the summary read; ``artefacts``: anything the figures need (picklable), kept out of
    ``metrics.json``.
    """

    metrics: dict[str, Any]
    artefacts: Any = None


@dataclass
class SeedRecord:
    """A finished seed as the runner keeps it: the seed, its metrics, artefacts and wall time."""

    seed: int
    metrics: dict[str, Any]
    artefacts: Any
    time_s: float


class Study:
    """Base class of every study (see the module docstring for the reading order)."""

    name: ClassVar[str] = ""
    #: one line for ``structlearn list``
    summary: ClassVar[str] = ""
    schema: ClassVar[Schema] = {}
    #: BLAS/torch threads while measuring (1: seeds are reproducible at any core count)
    threads: ClassVar[int | None] = 1
    #: hand every unfinished seed to :meth:`measure_seeds` at once (ensembles)
    batch_seeds: ClassVar[bool] = False
    #: the run being measured (set by :meth:`run`; None outside a run)
    context: RunContext | None = None

    # ---- what a study declares -------------------------------------------------------------

    def prepare(self, config: dict[str, Any]) -> Any:
        """Work shared by every seed (data that does not depend on the seed); default none."""
        return None

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        """Measure one seed."""
        raise NotImplementedError(f"{type(self).__name__}.measure")

    def measure_seeds(
        self, config: dict[str, Any], seeds: Sequence[int], shared: Any
    ) -> list[SeedResult]:
        """Measure several seeds (override with ``batch_seeds = True`` to train them together)."""
        return [self.measure(config, s, shared) for s in seeds]

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        """The claims this study decides (thresholds may come from the config)."""
        return []

    def figures(
        self, config: dict[str, Any], records: list[SeedRecord]
    ) -> dict[str, tuple[Any, str]]:
        """Figures as ``name -> (matplotlib Figure, caption)``."""
        return {}

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        """The summary table (rows with the same keys), shown first in the report."""
        return []

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        """Run-level metrics beside the per-seed ones (a description of the data, say)."""
        return {}

    # ---- what the runner does --------------------------------------------------------------

    def run(self, config: dict[str, Any], context: RunContext) -> StudyOutput:
        """Measure every seed (resuming finished ones), decide the claims, assemble the output."""
        seeds = [int(config["seed"]) + i for i in range(int(config.get("n_seeds", 1)))]
        started = time.perf_counter()
        self.context = context
        try:
            with pinned_threads(self.threads):
                shared = self.prepare(config)
                records = self._measure_all(config, seeds, shared, context)
        finally:
            self.context = None
        verdicts = [evaluate(c, [r.metrics for r in records]) for c in self.claims(config)]
        figures = self.figures(config, records)
        metrics = {
            **self.run_metrics(config, records),
            "seeds": [{"seed": r.seed, **r.metrics} for r in records],
        }
        timings = {f"seed_{r.seed}": round(r.time_s, 2) for r in records}
        timings["measure_total"] = round(time.perf_counter() - started, 2)
        return StudyOutput(
            metrics=metrics,
            figures={k: v[0] for k, v in figures.items()},
            captions={k: v[1] for k, v in figures.items()},
            summary=self.table(config, records),
            verdicts=verdicts,
            timings=timings,
        )

    def _measure_all(
        self, config: dict[str, Any], seeds: list[int], shared: Any, context: RunContext
    ) -> list[SeedRecord]:
        from structlearn.utils.progress import progress

        store = SeedStore(context.work_dir, self.name, config)
        done = {s: store.load(s) for s in seeds} if context.resume else {}
        done = {s: r for s, r in done.items() if r is not None}
        todo = [s for s in seeds if s not in done]
        if self.batch_seeds and todo:
            t0 = time.perf_counter()
            _seed_globals(todo[0])
            results = self.measure_seeds(config, todo, shared)
            each = (time.perf_counter() - t0) / len(todo)
            for s, res in zip(todo, results, strict=True):
                done[s] = store.save(s, res, each)
        else:
            for s in progress(todo, desc=f"{self.name}: seeds"):
                t0 = time.perf_counter()
                _seed_globals(s)
                res = self.measure(config, s, shared)
                done[s] = store.save(s, res, time.perf_counter() - t0)
        return [done[s] for s in seeds]


def _seed_globals(seed: int) -> None:
    from structlearn.experiment import seed_everything

    seed_everything(seed)


@contextmanager
def pinned_threads(n: int | None):
    """Limit torch and BLAS/OpenMP threads to ``n`` inside the block (None: leave them)."""
    if n is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


def config_fingerprint(config: dict[str, Any]) -> str:
    """Hash of everything in a config that decides a seed's result (not ``n_seeds``, ``preset``)."""
    relevant = {k: v for k, v in config.items() if k not in ("n_seeds", "preset")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def _differing_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _differing_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [prefix.rstrip(".") or "config"]


class SeedStore:
    """Per-seed checkpoints in a run's work folder: ``seeds/seed-<s>.pkl``, written atomically.

    Each file holds the config it was measured under; loading one made under another config is a
    ValueError naming the keys that differ (the file is left untouched).
    """

    def __init__(self, work_dir: Path, study: str, config: dict[str, Any]):
        self.folder = Path(work_dir) / "seeds"
        self.study = study
        self.config = {k: v for k, v in config.items() if k not in ("n_seeds", "preset")}
        self.fingerprint = config_fingerprint(config)

    def path(self, seed: int) -> Path:
        return self.folder / f"seed-{seed}.pkl"

    def load(self, seed: int) -> SeedRecord | None:
        path = self.path(seed)
        if not path.is_file():
            return None
        try:
            with path.open("rb") as fh:
                blob = pickle.load(fh)
        except Exception as exc:  # a torn or foreign file: say which, never use it
            raise ValueError(
                f"--resume: cannot read the checkpoint {path} ({exc.__class__.__name__}); "
                "remove it or rerun without --resume"
            ) from None
        if blob.get("version") != CHECKPOINT_VERSION or blob.get("study") != self.study:
            raise ValueError(f"--resume: {path} is not a checkpoint of study {self.study!r}")
        if blob["fingerprint"] != self.fingerprint:
            keys = ", ".join(_differing_keys(blob["config"], self.config)) or "unknown"
            raise ValueError(
                f"--resume: the checkpoint {path} was measured under another config "
                f"(differs in: {keys}); rerun without --resume or restore that config"
            )
        return SeedRecord(seed, blob["metrics"], blob["artefacts"], blob["time_s"])

    def save(self, seed: int, result: SeedResult, time_s: float) -> SeedRecord:
        if not isinstance(result, SeedResult):
            raise TypeError(f"measure: expected a SeedResult, got {type(result).__name__}")
        metrics = to_jsonable(result.metrics)
        _check_finite(metrics, f"seed {seed}")
        blob = {
            "version": CHECKPOINT_VERSION,
            "study": self.study,
            "fingerprint": self.fingerprint,
            "config": self.config,
            "metrics": metrics,
            "artefacts": result.artefacts,
            "time_s": time_s,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path(seed), pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL))
        return SeedRecord(seed, metrics, result.artefacts, time_s)


def _check_finite(obj: Any, where: str) -> None:
    """Per-seed metrics must be finite numbers (None marks a value that does not exist)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"metrics: non-finite value at {where}; a study must say why instead")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_finite(v, f"{where}[{i}]")


def per_seed(records: Sequence[SeedRecord], key: str) -> np.ndarray:
    """One metric (dotted key) over seeds, shape (n_seeds,) (or (n_seeds, ...) for arrays)."""
    out = []
    for r in records:
        node: Any = r.metrics
        for part in key.split("."):
            node = node[part]
        out.append(node)
    return np.asarray(out, dtype=np.float64)


def quantity_rows(
    records: Sequence[SeedRecord], quantities: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """A two-column summary table: each ``(dotted key, label)`` with its value over seeds.

    Seeds whose value is ``None`` (a quantity that does not exist there) are left out and counted.
    """
    rows = []
    for key, label in quantities:
        values = []
        for r in records:
            node: Any = r.metrics
            for part in key.split("."):
                node = node[part]
            if node is not None:
                values.append(float(node))
        missing = len(records) - len(values)
        cell = seed_summary(values) if values else "none"
        if values and missing:
            cell += f" ({missing} seeds without a value)"
        rows.append({"quantity": label, "value over seeds": cell})
    return rows


def seed_summary(values: Sequence[float], digits: int = 3) -> str:
    """``"0.943 [0.931, 0.955]"`` (mean and 95% t-interval) for a summary-table cell.

    Identical values (or one seed) are shown once, with the count of seeds, never as a
    zero-width interval.

    >>> seed_summary([0.5, 0.6, 0.7])
    '0.6 [0.352, 0.848]'
    >>> seed_summary([3, 3, 3])
    '3 (all 3 seeds)'
    >>> seed_summary([5.4414, 5.4412, 5.4416])
    '5.441 [5.441, 5.442]'
    """
    from structlearn.studies._stats import mean_interval

    v = np.asarray(values, dtype=np.float64)
    if v.size == 1 or np.all(v == v[0]):
        return f"{v[0]:.{digits}g}" + (f" (all {v.size} seeds)" if v.size > 1 else "")
    return mean_interval(v).text(digits)


__all__ = [
    "ClaimVerdict",
    "RunContext",
    "SeedRecord",
    "SeedResult",
    "SeedStore",
    "Study",
    "StudyOutput",
    "Verdict",
    "config_fingerprint",
    "per_seed",
    "pinned_threads",
    "quantity_rows",
    "seed_summary",
]
