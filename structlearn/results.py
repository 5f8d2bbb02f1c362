"""Result objects shared by estimators and analyzers: a dataclass with ``to_dict()`` and ``plot(ax)``.

A neutral home (neither :mod:`structlearn.estimators` nor :mod:`structlearn.analysis`), so that
estimators can return plottable results without importing the analyzers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from structlearn.utils.io import to_jsonable

__all__ = ["AnalysisResult", "new_axes"]


class AnalysisResult:
    """Mixin for analyzer results (dataclasses).

    ``to_dict()`` returns a JSON-ready dict (numpy arrays become lists; information in nats, with the
    unit in the key names, e.g. ``mi_nats``). Subclasses implement ``plot(ax=None) -> Axes``.
    """

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = value.tolist()
            out[f.name] = value
        return to_jsonable(out)

    def plot(self, ax: Any = None) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def new_axes(ax: Any = None, figsize: tuple[float, float] = (5.0, 3.6)) -> Any:
    """Return ``ax`` or a fresh Axes on a new figure (Agg backend friendly)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return ax
