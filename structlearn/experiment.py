"""Config -> study run -> results folder.

A results folder holds ``config.json`` (the resolved config), ``metrics.json`` (every number the
study measured, with its summary table and verdicts; identical for identical seeds), ``run.json``
(package versions, seed, command, wall time), ``summary.csv``, ``figures/*.png`` and a
self-contained ``report.html``. It is built under a temporary name and renamed when complete, so a
folder that exists is a folder that finished. Checkpoints of long runs live in a sibling work folder
(``.<name>.work``) that survives interruption and is removed after success; ``resume=True`` reuses it.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import random
import shutil
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field, load_yaml, resolve_config
from structlearn.studies import RunContext, StudyOutput, get_study
from structlearn.utils.io import (
    atomic_directory,
    atomic_write_json,
    atomic_write_text,
    exclusive_lock,
    read_json,
    remove_stale_litter,
)
from structlearn.utils.progress import set_quiet

COMMON_SCHEMA = {
    "study": Field(str, "", doc="which study runs this config (see `structlearn list`)"),
    "description": Field(str, "", doc="one line shown by `structlearn list`"),
    "seed": Field(int, 0, low=0, high=2**63 - 1, doc="fixes every random choice of the run"),
}

_VERSIONED = (
    "structlearn",
    "torch",
    "numpy",
    "scipy",
    "scikit-learn",
    "spams-bin",
    "matplotlib",
    "scikit-image",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages results depend on."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def thread_counts() -> dict[str, Any]:
    """The thread counts results may depend on (BLAS reductions sum in a thread-dependent order,
    so PCA, ICA and sparse coding agree across thread counts only to about 1e-9 relative)."""
    import torch

    env = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    return {
        "torch": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        **{k: os.environ.get(k) for k in env},
    }


def is_results_folder(path: Path) -> bool:
    """Whether ``path`` is a folder a structlearn run wrote: it holds a ``run.json`` naming a
    study (what ``run`` may replace without ``--force``)."""
    try:
        info = read_json(path / "run.json")
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and isinstance(info.get("study"), str)


def check_out(out_dir: Path, *, force: bool = False) -> None:
    """Refuse, before any work, an ``--out`` whose replacement would lose a user's files.

    ``out_dir`` may be absent, an empty folder, or a structlearn results folder (recognised by its
    ``run.json``); any other folder is replaced only with ``force``. A file, the current folder or
    one of its parents, and a path below a file are always refused. Raises ``ValueError`` naming
    ``--out``.
    """
    here = Path.cwd().resolve()
    target = out_dir.resolve()
    if target == here or target in here.parents:
        raise ValueError(
            f"--out: {out_dir} is the current folder or holds it; replacing it would delete "
            "your files. Name a new folder, e.g. --out results/run1"
        )
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"--out: {out_dir}: {parent} is a file, not a folder")
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ValueError(
            f"--out: {out_dir} exists and is not a folder; it is never replaced. Choose another "
            "--out"
        )
    if out_dir.is_dir() and any(out_dir.iterdir()) and not is_results_folder(out_dir):
        if not force:
            raise ValueError(
                f"--out: {out_dir} holds files but is not a structlearn results folder (no "
                "run.json); choose another --out, or pass --force to replace it and everything "
                "in it"
            )
    parent = next(p for p in target.parents if p.exists())
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out: cannot write in {parent} (permission denied or read-only)")


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's legacy and torch's global generators (studies also pass seeds on)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - third-party code may draw from the legacy global RNG
    torch.manual_seed(seed)


def load_config(
    path: str | Path,
    *,
    overrides: Sequence[str] = (),
    preset: str | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Read, merge and validate a study config; raises ConfigError naming the offending key."""
    raw = load_yaml(path)
    presets = raw.pop("presets", {}) or {}
    if not isinstance(presets, dict):
        raise ConfigError(
            f"presets: expected a mapping of name -> {{dotted.key: value}}, got {presets!r}"
        )
    name = raw.get("study")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: study: missing; name the study this config runs")
    try:
        study = get_study(name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    chosen: dict[str, Any] | None = None
    if preset is not None:
        if preset not in presets:
            listed = ", ".join(repr(p) for p in presets) or "none"
            raise ConfigError(f"--preset {preset!r}: not in this config; presets: {listed}")
        chosen = presets[preset]
        if not isinstance(chosen, dict):
            raise ConfigError(f"presets.{preset}: expected a mapping of dotted keys to values")
    schema = {**COMMON_SCHEMA, **study.schema}
    config = resolve_config(schema, raw, overrides=overrides, preset=chosen)
    if config["study"] != name:
        raise ConfigError(
            f"study: set to {name!r} by {path}; --set and --preset cannot change it. Run a config "
            f"of study {config['study']!r} instead (see `structlearn list`)"
        )
    if seed is not None:
        config["seed"] = resolve_config(COMMON_SCHEMA, {"seed": seed, "study": name})["seed"]
    config["preset"] = preset or "default"
    return config


def format_table(rows: list[dict[str, Any]]) -> str:
    """Fixed-width text table of ``rows`` (dicts with the same keys); floats to 3 decimals."""
    if not rows:
        return ""
    keys = list(rows[0])

    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _write_outputs(tmp: Path, config: dict[str, Any], output: StudyOutput, run_info: dict) -> None:
    import matplotlib.pyplot as plt

    from structlearn.report import render_report

    metrics = dict(output.metrics)
    metrics["summary"] = output.summary
    metrics["verdicts"] = [v.to_dict() for v in output.verdicts]
    metrics["captions"] = output.captions
    atomic_write_json(tmp / "config.json", config)
    atomic_write_json(tmp / "metrics.json", metrics)
    atomic_write_json(tmp / "run.json", run_info)
    if output.summary:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(output.summary[0]))
        writer.writeheader()
        writer.writerows(output.summary)
        atomic_write_text(tmp / "summary.csv", buf.getvalue())
    (tmp / "figures").mkdir(exist_ok=True)
    for name, fig in output.figures.items():
        fig.savefig(tmp / "figures" / f"{name}.png", dpi=110, metadata={"Software": None})
        plt.close(fig)
    render_report(tmp)


def run_experiment(
    config_path: str | Path,
    *,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    preset: str | None = None,
    seed: int | None = None,
    quiet: bool = False,
    resume: bool = False,
    force: bool = False,
) -> tuple[Path, StudyOutput]:
    """Run the study a config names and write its results folder; returns (folder, output).

    ``out`` may be new, an empty folder or an earlier results folder (replaced when the run
    completes); any other existing folder is replaced only with ``force``, and a file never (see
    :func:`check_out`). A second run to the same ``out`` while one is going is refused.
    """
    import matplotlib

    matplotlib.use("Agg")
    config = load_config(config_path, overrides=overrides, preset=preset, seed=seed)
    study = get_study(config["study"])
    out_dir = Path(out) if out is not None else Path("results") / Path(config_path).stem
    check_out(out_dir, force=force)
    with exclusive_lock(out_dir, "--out"):
        remove_stale_litter(out_dir)
        return out_dir, _run_locked(study, config, out_dir, resume=resume, quiet=quiet)


def _run_locked(
    study: Any, config: dict[str, Any], out_dir: Path, *, resume: bool, quiet: bool
) -> StudyOutput:
    work_dir = out_dir.parent / f".{out_dir.name}.work"
    if work_dir.exists() and not resume:
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    set_quiet(quiet)
    seed_everything(config["seed"])
    started = time.time()
    with atomic_directory(out_dir) as tmp:
        ctx = RunContext(
            out_dir=tmp, work_dir=work_dir, seed=config["seed"], resume=resume, quiet=quiet
        )
        output = study.run(config, ctx)
        run_info = {
            "study": config["study"],
            "seed": config["seed"],
            "preset": config["preset"],
            "command": " ".join(sys.argv),
            "wall_time_s": round(time.time() - started, 2),
            "timings_s": output.timings,
            "versions": package_versions(),
            "machine": {"platform": platform.platform(), "processor": platform.machine()},
            "threads": thread_counts(),
        }
        _write_outputs(tmp, config, output, run_info)
    shutil.rmtree(work_dir, ignore_errors=True)
    return output
