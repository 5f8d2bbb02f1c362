"""One loader per source kind (see :mod:`structlearn.data.sources`): ``(spec, options, rng) ->
Dataset``. Errors are plain ValueErrors; :func:`~structlearn.data.sources.load_source` prefixes
them with ``data.source`` and the source string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from structlearn.data.sources import _GENERATED_DEFAULT, Dataset, SourceSpec


def _classes(y: np.ndarray | None) -> dict[str, int]:
    if y is None or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return {}
    return {"n_classes": int(np.unique(y).size)}


def _photos(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.natural import load_natural_images

    photos = load_natural_images(opts["images"] or None)
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=None,
        images=[p.image for p in photos],
        names=[p.name for p in photos],
        description=f"photos: {len(photos)} bundled photographs (grey)",
        counts={"n_samples": len(photos), "n_files": len(photos), "n_skipped": 0, "skipped": []},
    )


def _image_dir(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.natural import scan_image_directory

    images, skipped = scan_image_directory(spec.path, color=opts["color"])
    if not images:
        listed = ", ".join(f"{n} ({why})" for n, why in skipped[:3]) or "the folder is empty"
        raise ValueError(f"no readable image in {spec.path}: {listed}")
    word = "file" if len(skipped) == 1 else "files"
    note = f", {len(skipped)} {word} skipped" if skipped else ""
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=None,
        images=[im.image for im in images],
        names=[im.name for im in images],
        description=f"{spec.text}: {len(images)} images ({opts['color']}){note}",
        counts={
            "n_samples": len(images),
            "n_files": len(images),
            "n_skipped": len(skipped),
            "skipped": [list(s) for s in skipped],
        },
    )


def _mosaic(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.mosaic import make_mosaic
    from structlearn.data.natural import NaturalImage, load_natural_images

    if spec.path is None:
        sources = load_natural_images(opts["images"] or None)
        counts = {"n_files": len(sources), "n_skipped": 0, "skipped": []}
    else:
        base = _image_dir(spec, {"color": "grey"}, rng)
        sources = [
            NaturalImage(name=n, source=str(spec.path), image=im)
            for n, im in zip(base.names, base.images)
        ]
        counts = {k: base.counts[k] for k in ("n_files", "n_skipped", "skipped")}
    n = opts["n_samples"] or _GENERATED_DEFAULT
    m = make_mosaic(n, tuple(opts["grid"]), opts["tile"], images=sources, random_state=rng)
    centre = m.n_tiles // 2
    y = m.sources[:, centre, 0]
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=m.X,
        y=y,
        image_shape=m.image_shape,
        names=list(m.image_names),
        description=(
            f"{spec.text}: {n} mosaics of {m.grid[0]}x{m.grid[1]} tiles of {m.tile} px from "
            f"{len(m.image_names)} images; y = the centre tile's image"
        ),
        counts={**counts, "n_samples": n, "n_features": m.X.shape[1], **_classes(y)},
        meta={"tile_map": m.tile_map, "mosaic_sources": m.sources},
    )


def _vision(name: str, data: Any, spec: SourceSpec) -> Dataset:
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=data.X,
        y=data.y,
        image_shape=tuple(data.image_shape),
        description=f"{name}: {data.X.shape[0]} images of {'x'.join(map(str, data.image_shape))}",
        counts={"n_samples": int(data.X.shape[0]), "n_features": int(data.X.shape[1])}
        | _classes(data.y),
    )


def _digits(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.vision import load_digits_data

    return _vision("digits", load_digits_data(), spec)


def _mnist(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.vision import load_mnist

    return _vision(f"{spec.text} ({opts['split']})", load_mnist(spec.path, opts["split"]), spec)


def _mnist5k(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.tables import load_mnist5k
    from structlearn.data.vision import VisionData

    X, y = load_mnist5k()
    return _vision("mnist5k", VisionData(X=X, y=y, image_shape=(28, 28), name="mnist5k"), spec)


def _cifar10(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.vision import load_cifar10

    data = load_cifar10(spec.path, opts["split"], color=opts["color"])
    return _vision(f"{spec.text} ({opts['split']}, {opts['color']})", data, spec)


def _npz(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.tables import read_npz

    arrays = read_npz(spec.path)
    X = arrays["X"]
    shape = tuple(X.shape[1:])
    flat = X.reshape(X.shape[0], -1)
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=flat,
        y=arrays["y"],
        groups=arrays["groups"],
        image_shape=shape if len(shape) in (2, 3) else None,
        description=f"{spec.text}: {flat.shape[0]} samples of shape {shape}",
        counts={"n_samples": int(flat.shape[0]), "n_features": int(flat.shape[1])}
        | _classes(arrays["y"]),
    )


def _csv(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.tables import read_csv

    X, y, columns = read_csv(spec.path, opts["label_column"])
    label = "" if y is None else f", labels from column {opts['label_column']!r}"
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=X,
        y=y,
        names=columns,
        description=f"{spec.text}: {X.shape[0]} rows of {X.shape[1]} features{label}",
        counts={"n_samples": int(X.shape[0]), "n_features": int(X.shape[1])} | _classes(y),
    )


def _tishby(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.tishby import load_tishby_task
    from structlearn.data.tishby_rule import tishby_joint

    task = load_tishby_task()
    if spec.arg is None:
        y, p1, how = task.y, task.y.astype(np.float64), "deterministic labels"
    else:
        t = opts["temperature"]
        joint = tishby_joint(t)
        p1 = joint[:, 1] / joint.sum(axis=1)
        y = (rng.random(p1.shape[0]) < p1).astype(np.int64)
        how = f"labels drawn from p(y=1|x) = sigmoid(s(x)/{t:g})"
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=task.X,
        y=y,
        description=f"{spec.text}: {task.n_samples} binary inputs of {task.n_bits} bits, {how}",
        counts={"n_samples": task.n_samples, "n_features": task.n_bits, "n_classes": 2},
        meta={"p_y1": p1},
    )


def _teacher(spec: SourceSpec, opts: dict, rng: np.random.Generator) -> Dataset:
    from structlearn.data.teacher import make_teacher, sample_teacher_data

    t = opts["teacher"]
    n = opts["n_samples"] or _GENERATED_DEFAULT
    teacher = make_teacher(
        t["input_dim"], t["widths"], output_decay=t["output_decay"], random_state=rng
    )
    X, Y = sample_teacher_data(teacher, n, random_state=rng)
    widths = "-".join(map(str, [t["input_dim"], *t["widths"]]))
    return Dataset(
        source=spec.text,
        kind=spec.kind,
        X=X.numpy().astype(np.float64),
        y=Y.numpy().astype(np.float64),
        description=f"teacher: {n} Gaussian inputs labelled by a {widths} ReLU teacher "
        f"(fan-out decay {t['output_decay']:g})",
        counts={"n_samples": n, "n_features": t["input_dim"]},
        meta={"teacher": teacher},
    )


LOADERS: dict[str, Callable[[SourceSpec, dict, np.random.Generator], Dataset]] = {
    "photos": _photos,
    "images": _image_dir,
    "mosaic": _mosaic,
    "digits": _digits,
    "mnist": _mnist,
    "mnist5k": _mnist5k,
    "cifar10": _cifar10,
    "npz": _npz,
    "csv": _csv,
    "tishby12": _tishby,
    "teacher": _teacher,
}
