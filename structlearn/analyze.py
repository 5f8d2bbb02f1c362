"""``structlearn analyze KIND INPUT [options] --out DIR``: analyzers on things a researcher already has.

``locality`` -- INPUT: a weight matrix (``.npy``, ``.npz`` or ``.pt``) of shape ``(n_filters, H*W)``
    and its geometry (``--image-shape``, ``--tile-map`` or ``--grid`` with ``--tile``). Locality,
    spread, sparsity and conv-likeness of the filters
    (:func:`~structlearn.analysis.filters.analyze_filters`; Ingrosso & Goldt 2022).
``pixel-mi`` -- INPUT: a folder of images. Pixel-pair MI (nats) against distance with its
    permutation floor (:func:`~structlearn.analysis.pixel_mi.analyze_pixel_mi`).
``depth`` -- INPUT: an ``.npz`` with one array per layer (rows = the same inputs). Entropy gain per
    layer and the recommended depth
    (:func:`~structlearn.analysis.entropy_gain.analyze_entropy_gain`), and linear probes per
    layer with ``--labels KEY`` (:func:`~structlearn.analysis.probes.analyze_probes`).
``info-plane`` -- INPUT: a run folder with ``recordings/``. The information plane and the
    gradient-SNR phases
    (:func:`~structlearn.analysis.info_plane.analyze_information_plane`; Shwartz-Ziv & Tishby
    2017).
``alignment`` -- INPUT: teacher activations ``(n, n_teacher)``, with ``--student`` activations
    ``(n, n_student)`` and optionally ``--fanout`` (the student's next-layer weight). Teacher–student
    correlations, coverage and the L-shaped plot
    (:func:`~structlearn.analysis.alignment.analyze_alignment`; Tian 2019).

Every kind leaves the same results folder as ``structlearn run``: ``config.json`` (kind, input,
options), ``metrics.json`` (everything measured, in nats, with a summary table), ``run.json``
(versions, wall time), ``summary.csv``, ``figures/*.png`` and a self-contained ``report.html``. The
folder is built under a temporary name and renamed when complete; an existing ``--out`` that is not
a structlearn results folder is refused, so a user's files are never replaced. Bad input (a weight
matrix whose width does not match the geometry, layers with different sample counts, a missing
file) raises a ValueError of one line naming the argument; the command line exits 2 with it.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["KINDS", "Analysis", "add_parser", "load_array", "run_analysis"]


@dataclass
class Analysis:
    """What one analyzer kind hands to the writer."""

    metrics: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    description: str = ""


# ------------------------------------------------------------------------------------- inputs
def load_array(path: str | Path, name: str = "INPUT", key: str | None = None) -> np.ndarray:
    """A float64 array from ``.npy``, ``.npz`` (``key`` or its only array) or ``.pt``/``.pth`` (a
    tensor, or ``key`` of a state dict), read without running pickled code.

    Raises
    ------
    ValueError
        Naming ``name`` for a missing file, an unknown suffix, a missing or ambiguous key, or
        non-finite values.
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{name}: no such file {str(file)!r}")
    suffix = file.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(file, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(file, allow_pickle=False) as z:
                arr = _pick(dict(z.items()), key, name, file)
        elif suffix in (".pt", ".pth"):
            import torch

            obj = torch.load(file, map_location="cpu", weights_only=True)
            if isinstance(obj, dict):
                obj = _pick(obj, key, name, file)
            if not torch.is_tensor(obj):
                raise ValueError(f"{name}: {file.name} holds a {type(obj).__name__}, not a tensor")
            arr = obj.detach().double().numpy()
        else:
            raise ValueError(f"{name}: expected a .npy, .npz, .pt or .pth file, got {file.name}")
    except ValueError:
        raise
    except Exception as exc:  # unpickling / zip errors come in many types
        raise ValueError(f"{name}: cannot read {file.name} ({type(exc).__name__}: {exc})") from None
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: {file.name} holds NaN or infinite values")
    return arr


def _pick(items: dict[str, Any], key: str | None, name: str, file: Path) -> Any:
    if key is None and len(items) == 1:
        return next(iter(items.values()))
    if key is None or key not in items:
        what = "holds several arrays; choose one with --key" if key is None else f"has no {key!r}"
        raise ValueError(f"{name}: {file.name} {what}; keys: {sorted(items)}")
    return items[key]


def _figure() -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    return fig, ax


def _figures(**draws: Any) -> dict[str, Any]:
    """One figure per ``name=plot_method`` (each drawn on a fresh axes)."""
    figs = {}
    for name, draw in draws.items():
        fig, ax = _figure()
        draw(ax=ax)
        figs[name] = fig
    return figs


# -------------------------------------------------------------------------------------- kinds
def _geometry(args: argparse.Namespace) -> tuple[tuple[int, int], np.ndarray | None, str]:
    """(H, W), the tile map or None, and the geometry in words, from the locality options."""
    if args.tile_map is not None:
        tile_map = load_array(args.tile_map, "--tile-map", args.key)
        if tile_map.ndim != 2 or not np.all(tile_map == np.round(tile_map)) or tile_map.min() < 0:
            raise ValueError(
                f"--tile-map: expected non-negative integer tile ids of shape (H, W), got shape "
                f"{tile_map.shape}"
            )
        shape = tile_map.shape
        return shape, tile_map.astype(np.int64), f"tile map {shape[0]}x{shape[1]}"
    if args.grid is not None or args.tile is not None:
        if args.grid is None or args.tile is None:
            raise ValueError("--grid: give both --grid ROWS COLS and --tile PIXELS for a mosaic")
        from structlearn.data.mosaic import make_tile_map

        tile_map = make_tile_map(tuple(args.grid), args.tile)
        h, w = tile_map.shape
        return (h, w), tile_map, f"{args.grid[0]}x{args.grid[1]} tiles of {args.tile} px"
    if args.image_shape is None:
        raise ValueError(
            "--image-shape: the filters' geometry is needed: --image-shape H W, --tile-map FILE "
            "or --grid ROWS COLS --tile PIXELS"
        )
    h, w = args.image_shape
    if h < 1 or w < 1:
        raise ValueError(f"--image-shape: expected two positive ints, got {h} {w}")
    return (h, w), None, f"images of {h}x{w}"


def _locality(args: argparse.Namespace) -> Analysis:
    from structlearn.analysis.filters import analyze_filters

    shape, tile_map, where = _geometry(args)
    W = load_array(args.input, "INPUT", args.key)
    if W.ndim != 2:
        raise ValueError(f"INPUT: expected a weight matrix (n_filters, H*W), got shape {W.shape}")
    W = W.T if args.transpose else W
    if W.shape[1] != shape[0] * shape[1]:
        raise ValueError(
            f"INPUT: the weight matrix has filters of {W.shape[1]} weights (shape {W.shape}) but "
            f"the geometry ({where}) has {shape[0] * shape[1]} pixels; pass the geometry the "
            "layer was trained on, or --transpose when filters are columns"
        )
    res = analyze_filters(W, shape, tile_map, threshold=args.threshold)
    figs = _figures(locality=res.plot, filters=res.plot_gallery)
    return Analysis(
        metrics=res.to_dict(),
        figures=figs,
        captions={
            "locality": "Share of each filter's energy in its best tile (or window); dashed: "
            "what a filter spread evenly would score.",
            "filters": "The filters, grouped by shape (shift-aligned similarity).",
        },
        description=f"locality of {W.shape[0]} filters on {where}",
    )


def _pixel_mi(args: argparse.Namespace) -> Analysis:
    from structlearn.analysis.pixel_mi import analyze_pixel_mi
    from structlearn.data.sources import load_source

    data = load_source(f"images:{args.input}")
    res = analyze_pixel_mi(
        data.images, args.max_distance, n_bins=args.n_bins, random_state=args.seed
    )
    figs = _figures(decay=res.plot, map=res.plot_map)
    metrics = {"data": data.to_dict(), **res.to_dict()}
    return Analysis(
        metrics=metrics,
        figures=figs,
        captions={
            "decay": "Pixel-pair MI (nats) against distance, with the permutation floor.",
            "map": "MI at every offset (dy, dx).",
        },
        description=data.description,
    )


def _depth(args: argparse.Namespace) -> Analysis:
    from structlearn.analysis.entropy_gain import analyze_entropy_gain

    file = Path(args.input)
    if file.suffix.lower() != ".npz" or not file.is_file():
        raise ValueError(
            f"INPUT: expected an .npz file with one array per layer, got {str(file)!r}"
        )
    with np.load(file, allow_pickle=False) as z:
        arrays = {k: np.asarray(z[k], dtype=np.float64) for k in z.files}
    extra = {k: arrays.pop(k, None) for k in (args.inputs, args.labels) if k is not None}
    missing = [k for k, v in extra.items() if v is None]
    if missing:
        raise ValueError(f"INPUT: {file.name} has no array {missing[0]!r}; keys: {sorted(arrays)}")
    if not arrays:
        raise ValueError(f"INPUT: {file.name} holds no layer arrays")
    layers = {k: a.reshape(len(a), -1) if a.ndim != 2 else a for k, a in arrays.items()}
    _same_samples(layers, extra)
    inputs = extra.get(args.inputs) if args.inputs else None
    res = analyze_entropy_gain(
        layers,
        inputs=None if inputs is None else inputs.reshape(len(inputs), -1),
        measure=args.measure,
        tolerance=args.tolerance,
        n_bootstrap=args.n_bootstrap,
        random_state=args.seed,
    )
    fig, ax = _figure()
    res.plot(ax=ax)
    figs = {"entropy_gain": fig}
    metrics: dict[str, Any] = {"recommended_depth": res.depth, **res.to_dict()}
    if args.labels:
        from structlearn.analysis.probes import analyze_probes

        probes = analyze_probes(layers, extra[args.labels].astype(np.int64), random_state=args.seed)
        fig, ax = _figure()
        probes.plot(ax=ax)
        figs["probes"] = fig
        metrics["probes"] = probes.to_dict()
        metrics["probe_saturation_layer"] = probes.saturation_layer
    return Analysis(
        metrics=metrics,
        figures=figs,
        captions={
            "entropy_gain": f"{args.measure} entropy per layer (nats) and its gain; the "
            f"recommended depth is the first after which every gain stays below "
            f"{args.tolerance:g} nats.",
            "probes": "Held-out accuracy of a linear probe on every layer.",
        },
        description=f"depth of {len(layers)} layers in {file.name}",
    )


def _same_samples(layers: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
    first = next(iter(layers))
    n = len(layers[first])
    for name, a in {**layers, **extra}.items():
        if len(a) != n:
            raise ValueError(
                f"INPUT: layer {name!r} has {len(a)} samples but layer {first!r} has {n}; every "
                "array must hold the same inputs, row for row"
            )


def _info_plane(args: argparse.Namespace) -> Analysis:
    from structlearn.analysis.info_plane import analyze_information_plane

    run = Path(args.input)
    if not (run / "recordings").is_dir():
        raise ValueError(
            f"INPUT: {str(run)!r} is not a run folder with recordings/ (write one with "
            "structlearn.train.train(..., out_dir=...))"
        )
    res = analyze_information_plane(
        run, estimator=args.estimator, n_bins=args.n_bins, random_state=args.seed
    )
    figs = _figures(information_plane=res.plot, gradient_snr=res.plot_snr)
    return Analysis(
        metrics=res.to_dict(),
        figures=figs,
        captions={
            "information_plane": f"I(X;T) and I(T;Y) (nats, {args.estimator}) of every layer "
            "over the recorded epochs.",
            "gradient_snr": "Per-layer gradient signal-to-noise ratio over epochs.",
        },
        description=f"information plane of {run.name}",
    )


def _alignment(args: argparse.Namespace) -> Analysis:
    from structlearn.analysis.alignment import analyze_alignment, fanout_norm, unit_correlation

    if args.student is None:
        raise ValueError("--student: the student's activations (n_samples, n_student) are needed")
    teacher = load_array(args.input, "INPUT", args.key)
    student = load_array(args.student, "--student", args.key)
    for name, a in (("INPUT", teacher), ("--student", student)):
        if a.ndim != 2:
            raise ValueError(f"{name}: expected activations (n_samples, n_units), got {a.shape}")
    if len(teacher) != len(student):
        raise ValueError(
            f"--student: has {len(student)} samples but the teacher's activations have "
            f"{len(teacher)}; both must be recorded on the same inputs, row for row"
        )
    norms = None
    if args.fanout is not None:
        weight = load_array(args.fanout, "--fanout", args.key)
        if weight.ndim != 2 or weight.shape[1] != student.shape[1]:
            raise ValueError(
                f"--fanout: expected the next layer's weight (n_next, {student.shape[1]}), got "
                f"shape {weight.shape}"
            )
        norms = fanout_norm(weight)
    res = analyze_alignment(unit_correlation(teacher, student), norms)
    figs = _figures(specialisation=res.plot, coverage=res.plot_counts)
    return Analysis(
        metrics=res.to_dict(),
        figures=figs,
        captions={
            "specialisation": "Each student unit's best correlation with a teacher unit"
            + (" against its fan-out weight norm." if norms is not None else "."),
            "coverage": "Per teacher unit, the student units correlated above each threshold.",
        },
        description=f"alignment of {student.shape[1]} student units to {teacher.shape[1]} "
        f"teacher units on {len(teacher)} inputs",
    )


#: kind name -> the function that measures it (argparse options in, :class:`Analysis` out)
KINDS: dict[str, Callable[[argparse.Namespace], Analysis]] = {
    "locality": _locality,
    "pixel-mi": _pixel_mi,
    "depth": _depth,
    "info-plane": _info_plane,
    "alignment": _alignment,
}


# ------------------------------------------------------------------------------------- writing
def _summary(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per top-level scalar of ``metrics``."""
    return [
        {"quantity": k, "value": v}
        for k, v in metrics.items()
        if v is None or isinstance(v, int | float | str | bool)
    ]


def _write(out: Path, kind: str, options: dict[str, Any], result: Analysis, wall: float) -> Path:
    import matplotlib.pyplot as plt

    from structlearn.experiment import package_versions
    from structlearn.report import render_report
    from structlearn.utils.io import atomic_directory, atomic_write_json, atomic_write_text

    summary = _summary(result.metrics)
    config = {
        "study": f"analyze {kind}",
        "description": result.description,
        "seed": options.get("seed", 0),
        "preset": "analyze",
        "options": options,
    }
    metrics = {**result.metrics, "summary": summary, "verdicts": [], "captions": result.captions}
    with atomic_directory(out) as tmp:
        atomic_write_json(tmp / "config.json", config)
        atomic_write_json(tmp / "metrics.json", metrics)
        run = {
            "study": config["study"],
            "command": " ".join(sys.argv),
            "wall_time_s": round(wall, 2),
        }
        atomic_write_json(tmp / "run.json", {**run, "versions": package_versions()})
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["quantity", "value"])
        writer.writeheader()
        writer.writerows(summary)
        atomic_write_text(tmp / "summary.csv", buf.getvalue())
        (tmp / "figures").mkdir()
        for name, fig in result.figures.items():
            fig.savefig(tmp / "figures" / f"{name}.png", dpi=110, metadata={"Software": None})
            plt.close(fig)
        render_report(tmp)
    return out


def run_analysis(kind: str, input: str | Path, *, out: str | Path, **options: Any) -> Path:
    """Run one analyzer kind on ``input`` and write its results folder ``out``; returns ``out``.

    ``options`` are the command line's (``image_shape=(8, 8)``, ``n_bins=30``, ...); absent ones
    take the command line's defaults.

    >>> import tempfile, os
    >>> root = tempfile.mkdtemp()
    >>> np.save(os.path.join(root, "W.npy"), np.eye(16)[:4])      # 4 one-pixel filters on 4x4
    >>> out = run_analysis("locality", os.path.join(root, "W.npy"), out=os.path.join(root, "r"),
    ...                    image_shape=(4, 4))
    >>> import json; m = json.load(open(os.path.join(out, "metrics.json")))
    >>> m["median_locality_fraction"], sorted(os.listdir(out))
    (1.0, ['config.json', 'figures', 'metrics.json', 'report.html', 'run.json', 'summary.csv'])
    """
    import matplotlib

    matplotlib.use("Agg")
    if kind not in KINDS:
        raise ValueError(f"KIND: expected one of {', '.join(KINDS)}, got {kind!r}")
    parser = argparse.ArgumentParser(prog="structlearn analyze")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["analyze", kind, str(input), "--out", str(out)])
    for k, v in options.items():
        if not hasattr(args, k):
            raise ValueError(f"options: {kind} has no option {k!r}")
        setattr(args, k, v)
    return _run(args)


def _run(args: argparse.Namespace) -> Path:
    from structlearn.experiment import check_out

    out = Path(args.out)
    check_out(out)
    if not Path(args.input).exists():
        raise ValueError(f"INPUT: no such file or folder {args.input!r}")
    started = time.time()
    result = KINDS[args.kind](args)
    options = {k: v for k, v in vars(args).items() if k not in ("command", "out", "func")}
    return _write(out, args.kind, options, result, time.time() - started)


def cmd_analyze(args: argparse.Namespace) -> int:
    """The ``structlearn analyze`` command: run, then print where the results are."""
    out = _run(args)
    if not getattr(args, "quiet", False):
        print(f"results: {out}/ (report: {out}/report.html)")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``analyze`` and its kinds on the CLI's subcommand parsers."""
    p = sub.add_parser(
        "analyze",
        help="analyze a saved weight matrix, image folder, layer features, run or activations",
        description="Analyzers on things a researcher already has; each leaves a results folder "
        "(metrics.json, figures/, report.html). See structlearn analyze KIND --help.",
    )
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")

    def kind(name: str, help: str, input_help: str) -> argparse.ArgumentParser:
        k = kinds.add_parser(name, help=help)
        k.add_argument("input", metavar="INPUT", help=input_help)
        k.add_argument("--out", required=True, help="results folder to write")
        k.add_argument("--seed", type=int, default=0, help="seeds every random choice")
        k.add_argument("--quiet", action="store_true", help="print nothing on success")
        return k

    loc = kind("locality", "locality of filters from full connections", ".npy/.npz/.pt weights")
    loc.add_argument("--image-shape", type=int, nargs=2, metavar=("H", "W"), help="plain images")
    loc.add_argument("--tile-map", help=".npy of integer tile ids (H, W)")
    loc.add_argument("--grid", type=int, nargs=2, metavar=("ROWS", "COLS"), help="mosaic tiles")
    loc.add_argument("--tile", type=int, help="mosaic tile side (pixels)")
    loc.add_argument("--key", help="array name in an .npz or state dict")
    loc.add_argument("--transpose", action="store_true", help="filters are columns, not rows")
    loc.add_argument("--threshold", type=float, default=0.2, help="pruning level (share of max)")

    pmi = kind("pixel-mi", "pixel-pair MI against distance", "a folder of images")
    pmi.add_argument("--max-distance", type=int, default=16, help="largest offset (pixels)")
    pmi.add_argument("--n-bins", type=int, default=32, help="equal-population bins per pixel")

    dep = kind("depth", "entropy gain per layer and the recommended depth", ".npz of layers")
    dep.add_argument("--inputs", help="array of the npz holding the inputs (not a layer)")
    dep.add_argument("--labels", help="array of the npz holding class labels (adds probes)")
    dep.add_argument(
        "--measure", default="gaussian", choices=["gaussian", "marginal", "total_correlation"]
    )
    dep.add_argument("--tolerance", type=float, default=0.1, help="gain (nats) counted as none")
    dep.add_argument("--n-bootstrap", type=int, default=100, help="resamples for intervals")

    ip = kind("info-plane", "the information plane of a recorded run", "a run folder")
    ip.add_argument("--estimator", default="binning", choices=["binning", "kde"])
    ip.add_argument("--n-bins", type=int, default=30, help="bins per unit (binning)")

    al = kind("alignment", "teacher-student alignment", "teacher activations (n, n_teacher)")
    al.add_argument("--student", help="student activations (n, n_student)")
    al.add_argument("--fanout", help="the student's next-layer weight (n_next, n_student)")
    al.add_argument("--key", help="array name in an .npz or state dict")
