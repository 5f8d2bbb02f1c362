"""The shape every analyzer's result takes (:class:`~structlearn.results.AnalysisResult`, re-exported
here) and the validation of a network's layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from structlearn.results import AnalysisResult, new_axes
from structlearn.utils.validation import check_array, to_numpy

__all__ = ["AnalysisResult", "check_layers", "new_axes"]


def check_layers(layers: Any, *, min_samples: int = 1) -> tuple[list[str], list[np.ndarray]]:
    """Validate a network's or a stack's layers; return their names and 2-D float arrays.

    Parameters
    ----------
    layers : mapping name -> features, or a sequence of features (named "layer 1", ...), e.g. an
        MLP's taps or ``stack.transform_all(X)``. Features of shape (n_samples, ...) are flattened
        to (n_samples, n_units); every layer must hold the same samples, row for row.
    min_samples : int
        Minimum number of samples.
    """
    if isinstance(layers, Mapping):
        names, feats = [str(k) for k in layers], list(layers.values())
    elif isinstance(layers, Sequence) and not isinstance(layers, str):
        names, feats = [f"layer {i + 1}" for i in range(len(layers))], list(layers)
    else:
        raise TypeError(
            "layers: expected a mapping name -> features or a list of arrays (n_samples, "
            f"n_units) such as a network's taps, got {type(layers).__name__}"
        )
    if not feats:
        raise ValueError("layers: expected at least one layer, got none")
    arrays = []
    for name, f in zip(names, feats, strict=True):
        a = to_numpy(f)
        a = a.reshape(len(a), -1) if a.ndim > 2 else a
        arrays.append(check_array(a, f"layers[{name!r}]", ndim=2, min_samples=min_samples))
    n = len(arrays[0])
    for name, a in zip(names, arrays, strict=True):
        if len(a) != n:
            raise ValueError(
                f"layers[{name!r}]: has {len(a)} samples but layers[{names[0]!r}] has {n}; every "
                "layer must hold the features of the same inputs, row for row"
            )
    return names, arrays
