"""Sweeps: one study config over a grid of overrides × seeds, fanned out on Dask's distributed scheduler.

A sweep is the cartesian product of ``grid`` values (dotted config keys, as for ``--set``) times a
list of seeds. Every run is an ordinary :func:`structlearn.experiment.run_experiment` call that
writes its own results folder under ``root``, named from its grid values and seed, e.g.
``root/sparse_coding.lambda1=0.1__seed=2``. Results folders are atomic, so one holding
``metrics.json`` is complete: a rerun of an interrupted sweep skips it. Every run's config is
validated before anything is submitted (an unknown key fails at once); runs that fail at run time are
reported one by one (status and error line) and never stop the others.

The runs go to a ``distributed.Client`` with ``client.submit`` and are collected with
``as_completed``: by default on a ``LocalCluster`` of worker processes with one thread each (Dask
sets ``OMP_NUM_THREADS=1`` in them, so torch and BLAS do not oversubscribe the cores), or on an
existing cluster given by its scheduler address. On SLURM, PBS or SGE start that cluster with
``dask-jobqueue`` (e.g. ``SLURMCluster(cores=1, processes=1, memory="8GB").scale(jobs=20)``) and pass
its ``cluster.scheduler_address``; ``root`` and the config file must then be on a filesystem that the
workers share.

The summary aggregates across seeds, per grid point, every numeric cell of ``metrics.json``'s
``summary`` rows (rows are matched across seeds by their first column, the study's label column):
the mean, the sample standard deviation :math:`s` (``ddof=1``) and the two-sided 95% Student-t
interval of the mean, :math:`\\bar x \\pm t_{0.975,\\,n-1}\\, s/\\sqrt n` (``null`` with fewer than two
finished seeds). It is written as ``sweep.json`` (runs, statuses, per-seed values, aggregates),
``sweep.csv`` (one line per grid point, row and metric) and ``index.html`` (the aggregates as a
table, then links to every run's report; :func:`structlearn.report.render_index`). Metrics keep
the units their study gives them (nats).
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import itertools
import json
import logging
import math
import os
import re
import shutil
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from structlearn.config import ConfigError
from structlearn.experiment import load_config, run_experiment
from structlearn.studies._stats import mean_interval
from structlearn.utils.io import atomic_write_json, atomic_write_text, read_json, to_jsonable
from structlearn.utils.progress import progress

CONFIDENCE = 0.95
INTERVAL = (
    "two-sided 95% Student-t interval of the mean over seeds: "
    "mean ± t(0.975, n-1) · s / sqrt(n), s the sample standard deviation (ddof=1); "
    "null with fewer than 2 finished seeds"
)
_SAFE = re.compile(r"[^A-Za-z0-9._+-]")
_MAX_NAME = 120
SCHEDULER_TIMEOUT_S = 10  # seconds to wait for --scheduler to answer


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its grid point (dotted key -> value), seed, folder name and config."""

    name: str
    point: dict[str, Any]
    seed: int
    overrides: tuple[str, ...]
    config: dict[str, Any] = field(repr=False, compare=False)


@dataclass
class SweepResult:
    """What a sweep did: ``runs`` (one record each: name, point, seed, status, error, wall time)
    with status ``"ran"``, ``"cached"`` (finished earlier, skipped), ``"failed"`` or ``"pending"``
    (interrupted before it finished); ``points`` holds the aggregates per grid point."""

    root: Path
    runs: list[dict[str, Any]]
    points: list[dict[str, Any]]

    def count(self, status: str) -> int:
        """Number of runs with ``status``."""
        return sum(r["status"] == status for r in self.runs)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The records of the runs that raised."""
        return [r for r in self.runs if r["status"] == "failed"]


# --------------------------------------------------------------------------- grid and folder names


def split_values(text: str) -> list[str]:
    """Split ``text`` on the commas outside brackets and quotes.

    >>> split_values("1,2,[3, 4],'a,b'")
    ['1', '2', '[3, 4]', "'a,b'"]
    """
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """Parse ``--grid key=v1,v2,...``; each value is read as YAML, as ``--set`` reads it.

    >>> parse_grid("data.grid=[2, 2],[3, 3]")
    ('data.grid', [[2, 2], [3, 3]])
    >>> parse_grid("sparse_coding.lambda1=0.1,0.2")
    ('sparse_coding.lambda1', [0.1, 0.2])
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise ConfigError(f"--grid {text!r}: expected key=v1,v2,..., e.g. data.n_samples=2000,4000")
    values = []
    for token in split_values(raw):
        if not token:
            raise ConfigError(f"--grid {key}: empty value in {raw!r}")
        try:
            values.append(yaml.safe_load(token))
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"--grid {key}: could not parse value {token!r} ({exc.__class__.__name__})"
            ) from None
    return key, values


def _yaml_text(value: Any) -> str:
    """``value`` as YAML text for ``--set`` (checked to read back equal in :func:`_check_grid`)."""
    return yaml.safe_dump([value], default_flow_style=True, width=math.inf).strip()[1:-1]


def _slug(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "-".join(_slug(v) for v in value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return _SAFE.sub("_", str(value))


def _canonical(point: Mapping[str, Any], seed: int) -> str:
    return json.dumps([sorted(point.items()), seed], sort_keys=True)


def run_name(point: Mapping[str, Any], seed: int) -> str:
    """Folder name of the run at grid ``point`` (dotted key -> value) with ``seed``.

    Keys keep their order; characters other than letters, digits and ``._+-`` become ``_``; a name
    longer than 120 characters is cut and ends with a hash of the point, so it stays unique.

    >>> run_name({"sparse_coding.lambda1": 0.1, "data.grid": [2, 2]}, 3)
    'sparse_coding.lambda1=0.1__data.grid=2-2__seed=3'
    """
    name = "__".join([*(f"{k}={_slug(v)}" for k, v in point.items()), f"seed={seed}"])
    if len(name) > _MAX_NAME:
        digest = hashlib.sha1(_canonical(point, seed).encode()).hexdigest()[:10]
        name = f"{name[: _MAX_NAME - 11]}-{digest}"
    return name


def _check_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid: expected a mapping of dotted key -> values, got {grid!r}")
    out = {}
    for key, values in grid.items():
        if key == "seed":
            raise ConfigError("--grid seed: the seed is not a grid key; use --seeds N")
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"--grid {key}: expected a non-empty list of values, got {values!r}")
        try:
            plain = to_jsonable(list(values))  # numpy scalars, tuples -> plain Python
        except TypeError:
            plain = None
        if plain is None or any(yaml.safe_load(_yaml_text(v)) != v for v in plain):
            raise ConfigError(
                f"--grid {key}: expected finite numbers, strings, booleans, null or lists of "
                f"them, got {values!r}"
            )
        if len({_yaml_text(v) for v in plain}) != len(plain):
            raise ConfigError(f"--grid {key}: repeated value in {plain!r}")
        out[key] = plain
    return out


def _seed_list(seeds: int | Sequence[int], base: int) -> list[int]:
    if isinstance(seeds, bool) or not isinstance(seeds, int | Sequence):
        raise TypeError(f"seeds: expected a count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"--seeds: expected a count >= 1, got {seeds}")
        return list(range(base, base + seeds))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out) or min(out) < 0:
        raise ConfigError(f"--seeds: expected distinct seeds >= 0, got {list(seeds)!r}")
    return out


def plan_sweep(
    config_path: str | Path,
    grid: Mapping[str, Sequence[Any]],
    seeds: int | Sequence[int] = 1,
    *,
    preset: str | None = None,
    overrides: Sequence[str] = (),
) -> list[SweepRun]:
    """Every run of the sweep, each config validated; raises ConfigError naming the first bad key.

    ``seeds`` is a count (the config's ``seed`` and the ones after it) or a list of seeds. Grid
    values are applied after ``overrides``, which apply after ``preset``.
    """
    grid = _check_grid(grid)
    base = load_config(config_path, overrides=overrides, preset=preset)
    seed_list = _seed_list(seeds, base["seed"])
    runs = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values))
        point_overrides = (*overrides, *(f"{k}={_yaml_text(v)}" for k, v in point.items()))
        for seed in seed_list:
            config = load_config(config_path, overrides=point_overrides, preset=preset, seed=seed)
            runs.append(SweepRun(run_name(point, seed), point, seed, point_overrides, config))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):  # distinct values whose folder names coincide: add a hash
        runs = [
            SweepRun(
                f"{r.name}-{hashlib.sha1(_canonical(r.point, r.seed).encode()).hexdigest()[:8]}",
                r.point,
                r.seed,
                r.overrides,
                r.config,
            )
            if names.count(r.name) > 1
            else r
            for r in runs
        ]
    return runs


# ------------------------------------------------------------------------------ running on Dask


def _run_one(
    config_path: str, out: str, overrides: list[str], preset: str | None, seed: int, resume: bool
) -> float:
    """The task a worker runs: one study run into ``out``; returns its wall time in seconds."""
    started = time.perf_counter()
    run_experiment(
        config_path,
        out=out,
        overrides=overrides,
        preset=preset,
        seed=seed,
        quiet=True,
        resume=resume,
    )
    return round(time.perf_counter() - started, 3)


def _first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            d = _first_difference(a.get(k), b.get(k), f"{prefix}{k}.")
            if d is not None:
                return d
        return None
    return None if a == b else prefix.rstrip(".")


def _finished(root: Path, run: SweepRun) -> bool:
    """Whether ``run``'s folder is complete; a folder made from another config is an error."""
    folder = root / run.name
    if not (folder / "metrics.json").is_file():
        return False
    diff = _first_difference(read_json(folder / "config.json"), to_jsonable(run.config))
    if diff is not None:
        raise ConfigError(
            f"--out: {folder} holds results of another config ({diff} differs); "
            "use another --out or remove that folder"
        )
    return True


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int, quiet: bool) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ValueError(
                f"--scheduler: no Dask scheduler answered at {scheduler} within "
                f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}); check the address and that the "
                "scheduler is running"
            ) from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            silence_logs=logging.CRITICAL if quiet else logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _error_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _record(run: SweepRun, status: str) -> dict[str, Any]:
    return {
        "name": run.name,
        "point": run.point,
        "seed": run.seed,
        "status": status,
        "error": None,
        "wall_time_s": None,
    }


def _execute(
    client: Any,
    todo: list[tuple[SweepRun, dict[str, Any]]],
    *,
    config_path: str,
    root: Path,
    preset: str | None,
    resume: bool,
) -> None:
    """Submit every run in ``todo`` and fill its record as results arrive (in completion order)."""
    from distributed import as_completed

    for run, _ in todo:  # half-built folders of runs killed earlier (a live run makes a new one)
        for stale in root.glob(f".{glob.escape(run.name)}.*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
    futures = {
        client.submit(
            _run_one,
            config_path,
            str(root / run.name),
            list(run.overrides),
            preset,
            run.seed,
            resume,
            key=f"structlearn-{run.name}-{os.urandom(4).hex()}",  # unique: never reuses a result
        ): record
        for run, record in todo
    }
    for future in progress(as_completed(futures), total=len(futures), desc="sweep runs"):
        record = futures[future]
        try:
            record["wall_time_s"] = future.result()
            record["status"] = "ran"
        except Exception as exc:
            record["status"] = "failed"
            record["error"] = _error_line(exc)
            record["traceback"] = "".join(traceback.format_exception(exc)).strip()
        future.release()


def run_sweep(
    config_path: str | Path,
    grid: Mapping[str, Sequence[Any]],
    seeds: int | Sequence[int] = 1,
    *,
    out: str | Path | None = None,
    preset: str | None = None,
    overrides: Sequence[str] = (),
    scheduler: str | None = None,
    n_workers: int | None = None,
    client: Any | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> SweepResult:
    """Run a study over ``grid`` × ``seeds`` on Dask and write the sweep summary under ``out``.

    Parameters
    ----------
    config_path : a study config, e.g. ``experiments/mosaic_filters.yaml``.
    grid : dotted config key -> list of values (the cartesian product is run).
    seeds : how many seeds (the config's ``seed`` and the ones after it), or a list of seeds.
    out : root folder of the sweep (default ``results/sweeps/<config name>``).
    preset, overrides : as for ``structlearn run`` (``--preset``, ``--set``); grid values win.
    scheduler : address of an existing Dask scheduler (e.g. ``tcp://10.0.0.5:8786``); default: a
        LocalCluster of ``n_workers`` processes with one thread each.
    n_workers : workers of the LocalCluster (default: one per core, at most one per run to do).
    client : an existing ``distributed.Client`` to use instead (then ``scheduler`` and
        ``n_workers`` must be None).
    resume : runs that were interrupted continue from their checkpoints.
    quiet : no progress bar and quieter Dask logs.

    Returns
    -------
    SweepResult
        Per-run records and per-point aggregates (also in ``sweep.json``, ``sweep.csv``).
    """
    if client is not None and (scheduler is not None or n_workers is not None):
        raise ValueError("client: pass either client or scheduler/n_workers, not both")
    if scheduler is not None and n_workers is not None:
        raise ValueError(
            "n_workers: only for the local cluster; an existing scheduler has its own workers"
        )
    if n_workers is not None and (isinstance(n_workers, bool) or n_workers < 1):
        raise ValueError(f"n_workers: expected an int >= 1, got {n_workers!r}")
    config_path = Path(config_path).resolve()
    root = Path(out) if out is not None else Path("results") / "sweeps" / config_path.stem
    root = root.resolve()
    runs = plan_sweep(config_path, grid, seeds, preset=preset, overrides=overrides)
    records = [_record(r, "cached" if _finished(root, r) else "pending") for r in runs]
    todo = [(r, rec) for r, rec in zip(runs, records) if rec["status"] == "pending"]
    result = SweepResult(root, records, [])
    root.mkdir(parents=True, exist_ok=True)
    try:
        if todo:
            kwargs = dict(config_path=str(config_path), root=root, preset=preset, resume=resume)
            if client is not None:
                _execute(client, todo, **kwargs)
            else:
                workers = n_workers or max(1, min(os.cpu_count() or 1, len(todo)))
                with _client(scheduler, workers, quiet) as own:
                    _execute(own, todo, **kwargs)
    finally:
        for run, rec in zip(runs, records):  # finished while the sweep was being interrupted
            if rec["status"] == "pending" and (root / run.name / "metrics.json").is_file():
                rec["status"] = "ran"
        result.points = aggregate_runs(root, runs, records)
        write_summary(
            result, config_path=config_path, grid=grid, preset=preset, overrides=overrides
        )
    return result


# -------------------------------------------------------------------------------- aggregation


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Mean, sample std (ddof=1) and the 95% Student-t interval of the mean of ``values``.

    >>> summarize([1.0, 2.0, 3.0])
    {'n': 3, 'mean': 2.0, 'std': 1.0, 'ci95_low': -0.484..., 'ci95_high': 4.484...}
    >>> summarize([5.0])
    {'n': 1, 'mean': 5.0, 'std': None, 'ci95_low': None, 'ci95_high': None}
    """
    iv = mean_interval(values, CONFIDENCE)
    if iv.n < 2:
        return {"n": 1, "mean": iv.mean, "std": None, "ci95_low": None, "ci95_high": None}
    std = float(np.std(np.asarray(values, dtype=np.float64), ddof=1))
    return {"n": iv.n, "mean": iv.mean, "std": std, "ci95_low": iv.low, "ci95_high": iv.high}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def aggregate_summaries(summaries: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Aggregate the ``summary`` rows of several seeds' runs of one grid point.

    Rows are matched by the value of their first column (the study's label column); every other
    numeric cell is summarised with :func:`summarize` over the seeds that have it. Returns one
    entry per label, in first-seen order: ``{"label_key", "label", "metrics": {name: stats}}``,
    where stats also holds the per-seed ``values``.

    >>> rows = [[{"method": "pca", "score": 1.0}], [{"method": "pca", "score": 3.0}]]
    >>> agg = aggregate_summaries(rows)
    >>> agg[0]["label"], agg[0]["metrics"]["score"]["mean"], agg[0]["metrics"]["score"]["values"]
    ('pca', 2.0, [1.0, 3.0])
    """
    table: dict[Any, dict[str, Any]] = {}
    for rows in summaries:
        for row in rows:
            if not row:
                continue
            label_key = next(iter(row))
            label = row[label_key]
            entry = table.setdefault(
                json.dumps([label_key, label]),
                {"label_key": label_key, "label": label, "values": {}},
            )
            for k, v in row.items():
                if k != label_key and _is_number(v):
                    entry["values"].setdefault(k, []).append(float(v))
    return [
        {
            "label_key": e["label_key"],
            "label": e["label"],
            "metrics": {k: {**summarize(v), "values": v} for k, v in e["values"].items()},
        }
        for e in table.values()
    ]


def aggregate_runs(
    root: Path, runs: Sequence[SweepRun], records: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Per grid point: its finished runs and :func:`aggregate_summaries` of their metrics.json."""
    points: dict[str, dict[str, Any]] = {}
    for run, rec in zip(runs, records):
        key = json.dumps(to_jsonable(run.point), sort_keys=True)
        entry = points.setdefault(key, {"point": run.point, "runs": [], "summaries": []})
        if rec["status"] in ("ran", "cached"):
            entry["runs"].append(run.name)
            entry["summaries"].append(
                read_json(root / run.name / "metrics.json").get("summary", [])
            )
    return [
        {
            "point": e["point"],
            "n_finished": len(e["runs"]),
            "runs": e["runs"],
            "rows": aggregate_summaries(e["summaries"]),
        }
        for e in points.values()
    ]


# ---------------------------------------------------------------------------------- the summary


def _csv_text(points: list[dict[str, Any]], grid_keys: list[str]) -> str:
    label_keys = {r["label_key"] for p in points for r in p["rows"]}
    label_col = label_keys.pop() if len(label_keys) == 1 else "row"
    stats = ["n", "mean", "std", "ci95_low", "ci95_high"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*grid_keys, label_col, "metric", *stats])
    for p in points:
        grid_cells = [
            json.dumps(p["point"][k]) if isinstance(p["point"][k], list | dict) else p["point"][k]
            for k in grid_keys
        ]
        for row in p["rows"]:
            for metric, s in row["metrics"].items():
                cells = ["" if s[k] is None else s[k] for k in stats]
                writer.writerow([*grid_cells, row["label"], metric, *cells])
    return buf.getvalue()


def write_summary(
    result: SweepResult,
    *,
    config_path: str | Path,
    grid: Mapping[str, Sequence[Any]],
    preset: str | None = None,
    overrides: Sequence[str] = (),
) -> None:
    """Write ``sweep.json``, ``sweep.csv`` and (when a run finished) ``index.html`` in the root."""
    from structlearn.report import render_index

    root = result.root
    counts = {s: result.count(s) for s in ("ran", "cached", "failed", "pending")}
    atomic_write_json(
        root / "sweep.json",
        {
            "config": str(config_path),
            "grid": {k: list(v) for k, v in grid.items()},
            "seeds": sorted({r["seed"] for r in result.runs}),
            "preset": preset,
            "overrides": list(overrides),
            "interval": INTERVAL,
            "counts": counts,
            "runs": result.runs,
            "points": result.points,
        },
    )
    atomic_write_text(root / "sweep.csv", _csv_text(result.points, list(grid)))
    if counts["ran"] + counts["cached"]:
        render_index(root)
