"""Command line: ``structlearn run | list | report | sweep | analyze``.

Exit status 0 on success, 2 on a user error (bad config, bad data, bad arguments) with one line on
stderr naming what was wrong, 130 on Ctrl-C (checkpoints are kept for ``--resume``). ``sweep`` exits
1 when some of its runs failed (each is listed with its error; the others finished).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from structlearn.analyze import add_parser as add_analyze_parser
from structlearn.config import ConfigError, load_yaml


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="structlearn",
        description="Which information-theoretic principle makes a network learn which structure?",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the study a config file describes")
    run.add_argument("config", help="a study config, e.g. experiments/mosaic_filters.yaml")
    run.add_argument("--out", help="results folder (default: results/<config name>)")
    run.add_argument("--seed", type=int, help="override the config's seed")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set data.n_samples=5000 (repeatable)",
    )
    run.add_argument("--preset", help="apply a named preset of the config (e.g. full)")
    run.add_argument("--quiet", action="store_true", help="no progress bars or table")
    run.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    run.add_argument(
        "--force",
        action="store_true",
        help="let --out replace an existing folder that is not a structlearn results folder "
        "(everything in it is deleted); without it such a folder is refused",
    )

    ls = sub.add_parser("list", help="list the studies in experiments/")
    ls.add_argument("--dir", default="experiments", help="folder of study configs")
    ls.add_argument("-v", "--verbose", action="store_true", help="also list every config key")

    rep = sub.add_parser("report", help="re-render report.html from saved results")
    rep.add_argument("results", help="a results folder, or a root holding several")

    sw = sub.add_parser(
        "sweep",
        help="run a study over a grid of config values x seeds on Dask",
        description="Run a study over the cartesian product of --grid values x --seeds on Dask's "
        "distributed scheduler (a local cluster, or --scheduler ADDRESS; on SLURM start one with "
        "dask-jobqueue). Each run writes ROOT/<grid values>__seed=<s>/; a rerun skips finished "
        "runs. ROOT gets sweep.json, sweep.csv (mean, std, 95% t-interval over seeds) and "
        "index.html.",
    )
    sw.add_argument("config", help="a study config, e.g. experiments/mosaic_filters.yaml")
    sw.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a config key and its values, e.g. --grid sparse_coding.lambda1=0.1,0.2 "
        "(repeatable; lists in brackets: --grid 'data.grid=[2,2],[3,3]')",
    )
    sw.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="seeds per grid point: the config's seed and the ones after it (default 1)",
    )
    sw.add_argument("--out", help="sweep root folder (default: results/sweeps/<config name>)")
    sw.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786)")
    sw.add_argument("--workers", type=int, help="local cluster workers (default: one per core)")
    sw.add_argument("--preset", help="apply a named preset of the config to every run")
    sw.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key in every run (repeatable)",
    )
    sw.add_argument("--resume", action="store_true", help="interrupted runs resume checkpoints")
    sw.add_argument("--quiet", action="store_true", help="no progress bar or table")
    add_analyze_parser(sub)
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    from structlearn.experiment import format_table, run_experiment

    out_dir, output = run_experiment(
        args.config,
        out=args.out,
        overrides=args.overrides,
        preset=args.preset,
        seed=args.seed,
        quiet=args.quiet,
        resume=args.resume,
        force=args.force,
    )
    if not args.quiet:
        print(format_table(output.summary))
        for v in output.verdicts:
            print(v.console_line())
        print(f"results: {out_dir}/ (report: {out_dir}/report.html)")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from structlearn.config import describe_schema
    from structlearn.experiment import COMMON_SCHEMA
    from structlearn.studies import get_study

    folder = Path(args.dir)
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(f"--dir: no *.yaml study configs in {folder}")
    for f in files:
        raw = load_yaml(f)
        presets = ", ".join(raw.get("presets", {}) or {}) or "-"
        print(f"{f.stem:24s} {raw.get('description', '')}  [presets: {presets}]")
        if args.verbose:
            name = raw.get("study")
            if not isinstance(name, str) or not name:
                raise ConfigError(f"{f}: study: missing; name the study this config runs")
            try:
                study = get_study(name)
            except KeyError as exc:
                raise ConfigError(f"{f}: {exc.args[0]}") from None
            schema = {**COMMON_SCHEMA, **study.schema}
            for key, expected, default in describe_schema(schema):
                print(f"    {key} = {default!r}    ({expected})")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from structlearn.report import find_results, render_index, render_report

    root = Path(args.results)
    if not root.is_dir():
        raise ValueError(f"results: {root} is not a folder")
    if (root / "metrics.json").is_file():
        print(render_report(root))
        return 0
    bad = []
    for d in find_results(root):
        try:
            render_report(d)
        except (ValueError, OSError) as exc:  # listed in the index as unreadable
            bad.append(f"{d}: {exc}")
    print(render_index(root))
    if bad:
        raise ValueError(
            f"{len(bad)} results folder(s) could not be rendered (listed in index.html as "
            f"unreadable): {'; '.join(bad)}"
        )
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from structlearn.sweep import parse_grid, run_sweep

    if not args.grid:
        raise ConfigError("--grid: expected at least one, e.g. --grid data.n_samples=2000,4000")
    grid: dict[str, list] = {}
    for text in args.grid:
        key, values = parse_grid(text)
        if key in grid:
            raise ConfigError(f"--grid {key}: given twice; list every value in one --grid")
        grid[key] = values
    try:
        result = run_sweep(
            args.config,
            grid,
            args.seeds,
            out=args.out,
            preset=args.preset,
            overrides=args.overrides,
            scheduler=args.scheduler,
            n_workers=args.workers,
            resume=args.resume,
            quiet=args.quiet,
        )
    except KeyboardInterrupt:
        print("structlearn sweep: interrupted; rerun the same command to continue", file=sys.stderr)
        return 130
    counts = ", ".join(f"{result.count(s)} {s}" for s in ("ran", "cached", "failed"))
    for rec in result.failed:
        print(f"structlearn sweep: run {rec['name']} failed: {rec['error']}", file=sys.stderr)
    if not args.quiet:
        print(f"{len(result.runs)} runs: {counts}")
        print(f"summary: {result.root}/sweep.csv, sweep.json, index.html")
    return 1 if result.failed else 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from structlearn.analyze import cmd_analyze

    return cmd_analyze(args)


def _one_line(exc: BaseException) -> str:
    """The error as one line: the file an OSError is about, what ran out of memory."""
    if isinstance(exc, MemoryError):
        return (
            f"out of memory ({exc or 'allocation failed'}); lower the config's sizes "
            "(samples, units, filters) with --set or use --preset smoke"
        )
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror} (errno {exc.errno})"
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    commands = {"run": _cmd_run, "list": _cmd_list, "report": _cmd_report, "sweep": _cmd_sweep}
    commands["analyze"] = _cmd_analyze
    try:
        return commands[args.command](args)
    except (ConfigError, ValueError, OSError, MemoryError) as exc:
        print(f"structlearn {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("structlearn: interrupted; rerun with --resume to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
