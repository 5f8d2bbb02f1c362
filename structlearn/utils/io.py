"""Atomic writes: a reader never sees a half-written file or a results folder that looks complete.

Files are written to a temporary sibling and renamed (``os.replace`` is atomic on POSIX); results
folders are built under a temporary name and renamed when every file is in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _check_finite_json(obj: Any, where: str = "") -> None:
    """JSON has no NaN: refuse to write one rather than emit invalid JSON silently."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"refusing to write non-finite number {obj} to JSON at {where or 'root'}")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite_json(v, f"{where}.{k}" if where else str(k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _check_finite_json(v, f"{where}[{i}]")


def to_jsonable(obj: Any) -> Any:
    """Round-trip ``obj`` through JSON so numpy scalars and arrays become plain Python."""
    return json.loads(json.dumps(obj, default=_json_default))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically; NaN/Inf are refused (JSON has none).

    Objects and nested lists are indented by two spaces, a list of plain values (numbers,
    strings, booleans, nulls) is written on one line: a record of 8,000 epochs is one line, not
    8,000 (:func:`dumps_compact`).
    """
    plain = to_jsonable(obj)
    _check_finite_json(plain)
    return atomic_write_text(path, dumps_compact(plain) + "\n")


def dumps_compact(plain: Any, indent: int = 2) -> str:
    """JSON text of ``plain`` (already JSON-ready), indented, with lists of plain values inline.

    ``json.loads(dumps_compact(x)) == x`` for every JSON-ready ``x``; values are written exactly
    as ``json.dumps`` writes them.

    >>> print(dumps_compact({"a": [1, 2.5, None], "b": {"c": [[1, 2], [3]]}}))
    {
      "a": [1, 2.5, null],
      "b": {
        "c": [
          [1, 2],
          [3]
        ]
      }
    }
    """
    return _dumps(plain, indent, 0)


def _dumps(x: Any, indent: int, level: int) -> str:
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(x, dict) and x:
        items = (
            f"{inner}{json.dumps(str(k))}: {_dumps(v, indent, level + 1)}" for k, v in x.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(x, list) and x and any(isinstance(v, dict | list) for v in x):
        items = (f"{inner}{_dumps(v, indent, level + 1)}" for v in x)
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(x)


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a file that is not UTF-8 JSON raises a ``ValueError`` naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _umask() -> int:
    """The process's file-creation mask (read without changing it for longer than a call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace_dir(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` onto ``final``; an existing ``final`` is moved aside first, then removed."""
    if not final.exists():
        os.replace(tmp, final)
        return
    trash = final.with_name(f".{final.name}.old-{os.getpid()}")
    os.replace(final, trash)
    try:
        os.replace(tmp, final)
    except BaseException:
        os.replace(trash, final)  # put the previous results back
        raise
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(final: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Build a folder under a temporary name and rename it to ``final`` only on success.

    On an exception -- in the body or in the final rename (a full disk, a read-only or immutable
    target) -- the temporary folder is removed and ``final`` is left as it was. The folder gets the
    permissions the umask allows (as ``mkdir`` would), not ``mkdtemp``'s private 0700. A ``final``
    that is not a folder (a user's file) is never replaced.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_directory(root / "out") as tmp:
    ...     _ = (tmp / "a.txt").write_text("x")
    >>> sorted(p.name for p in (root / "out").iterdir())
    ['a.txt']
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists() and not overwrite:
        raise FileExistsError(f"out: {final} exists; pass overwrite=True or choose another folder")
    if (final.exists() and not final.is_dir()) or final.is_symlink():
        raise FileExistsError(f"out: {final} exists and is not a folder; it is never replaced")
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale_litter(final: str | os.PathLike) -> list[Path]:
    """Remove the hidden leftovers of killed runs beside ``final``; returns what was removed.

    These are ``.NAME.XXXX.partial`` folders (a run killed before its rename) and
    ``.NAME.old-PID`` folders (killed between the two renames). Call it only while holding
    :func:`exclusive_lock` for ``final``, so that no live run's folder is taken for litter.
    """
    final = Path(final)
    if not final.parent.is_dir():
        return []
    pattern = glob.escape(f".{final.name}.")
    stale = [*final.parent.glob(pattern + "*.partial"), *final.parent.glob(pattern + "old-*")]
    for p in stale:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
    return stale


@contextlib.contextmanager
def exclusive_lock(final: str | os.PathLike, what: str = "out") -> Iterator[Path]:
    """Hold an exclusive lock on ``final`` (a ``.NAME.lock`` file beside it) or refuse at once.

    A second process asking for the same lock gets a ``ValueError`` naming ``what`` and the
    holder's pid instead of racing the first. The lock dies with its process (``flock``), so a
    killed run never leaves ``final`` locked; the file is removed on release.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    path = final.with_name(f".{final.name}.lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise ValueError(
                f"{what}: {final} is being written by another structlearn process (pid "
                f"{holder}); wait for it to finish or choose another {what}"
            ) from None
        try:  # the holder before us may have removed the file after we opened it: retry
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
