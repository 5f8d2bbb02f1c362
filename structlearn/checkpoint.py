"""Checkpoint files of :func:`structlearn.train.train`: written atomically, verified on reading.

A checkpoint is one file: a line holding the SHA-256 of the payload in hex, then the payload
(``torch.save`` of a dict of tensors and plain Python values, read back with
``torch.load(weights_only=True)``, which executes no code). A truncated or altered file fails the
digest and is refused with a ``ValueError``; it is never overwritten by the refusing call.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from structlearn.utils.io import atomic_write_bytes

FORMAT = "structlearn-checkpoint"
VERSION = 1
_DIGEST_LEN = 64  # hex characters of a SHA-256


def save_checkpoint(path: str | os.PathLike, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically, prefixed by its SHA-256.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "checkpoint.pt"
    >>> _ = save_checkpoint(p, {"epoch": 3, "w": torch.ones(2)})
    >>> load_checkpoint(p)["epoch"]
    3
    """
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **payload}, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest().encode("ascii")
    return atomic_write_bytes(path, digest + b"\n" + data)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read and verify a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    ValueError
        Naming ``checkpoint`` and the path when the file is truncated, altered, unreadable or of
        another format.
    """
    path = Path(path)
    raw = path.read_bytes()
    head, data = raw[:_DIGEST_LEN], raw[_DIGEST_LEN + 1 :]
    if len(raw) <= _DIGEST_LEN or hashlib.sha256(data).hexdigest().encode("ascii") != head:
        raise ValueError(
            f"checkpoint: {path} is corrupt (its SHA-256 does not match its content: truncated "
            "or altered); it was left untouched. Delete it to start again, or restore a copy."
        )
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ValueError(f"checkpoint: {path} could not be read: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"checkpoint: {path} is not a {FORMAT} file")
    if payload.get("version") != VERSION:
        raise ValueError(
            f"checkpoint: {path} has version {payload.get('version')}, expected {VERSION}"
        )
    return payload
