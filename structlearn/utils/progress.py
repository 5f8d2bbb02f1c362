"""Progress bars for long work, silenced by ``--quiet`` or ``STRUCTLEARN_QUIET=1``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

_QUIET = os.environ.get("STRUCTLEARN_QUIET", "") not in ("", "0")


def set_quiet(quiet: bool) -> None:
    """Silence (``True``) or show (``False``) every progress bar of this process."""
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    """Whether progress bars are silenced."""
    return _QUIET


def progress(
    iterable: Iterable[T], *, desc: str | None = None, total: int | None = None
) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar (on stderr) unless quiet."""
    return iter(
        tqdm(iterable, desc=desc, total=total, disable=_QUIET, leave=False, dynamic_ncols=True)
    )
