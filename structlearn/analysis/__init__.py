"""Analyzers: from a trained model, a run's recordings or a data set to numbers and pictures.

Every analyzer returns a result dataclass with ``.to_dict()`` (JSON-ready, information in nats)
and ``.plot(ax)``:

- :mod:`~structlearn.analysis.filters`: locality, spread, sparsity and conv-likeness of filter banks;
- :mod:`~structlearn.analysis.pixel_mi`: pixel-pair mutual information vs distance;
- :mod:`~structlearn.analysis.entropy_gain`: per-layer entropy, gain and the recommended depth;
- :mod:`~structlearn.analysis.info_plane`: the information plane and gradient-SNR phases;
- :mod:`~structlearn.analysis.alignment`: teacher–student correlations, the L-shaped plot, pruning;
- :mod:`~structlearn.analysis.random_networks`: entropy vs accuracy of random-network features;
- :mod:`~structlearn.analysis.probes`: linear probes and t-SNE maps of every layer.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The analyzer modules, searched in this order for a name asked of the package. They load on
#: first use: ``structlearn.estimators`` imports ``analysis.base``, so eager imports here would
#: be circular.
MODULES = (
    "filters",
    "pixel_mi",
    "entropy_gain",
    "info_plane",
    "alignment",
    "random_networks",
    "probes",
)


def __getattr__(name: str) -> Any:
    for module in MODULES:
        mod = importlib.import_module(f"{__name__}.{module}")
        if name in getattr(mod, "__all__", ()):
            return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
