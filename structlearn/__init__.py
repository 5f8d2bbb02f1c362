"""structlearn: which information-theoretic principle makes a network learn which structure?

Subpackages follow the data flow: ``data`` -> ``models`` -> ``objectives`` -> ``train`` ->
``analysis`` -> report. ``estimators`` holds entropy and mutual-information estimators (nats).
The most used names are importable from the top level (loaded on first use, so
``import structlearn`` stays fast):

>>> import structlearn
>>> structlearn.mutual_information([0, 1, 0, 1], [1, 0, 1, 0], method="discrete")  # log 2
0.6931...
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# SPAMS bundles its own OpenMP runtime whose idle workers spin and starve later torch steps
# (measured: an MLP fit 2.5 s CPU alone, ~60 s right after a SPAMS call). Idle OpenMP threads must
# sleep instead; this only takes effect if set before the runtime loads, i.e. before torch,
# scikit-learn or SPAMS are imported. A value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_LAZY = {
    "make_mosaic": "structlearn.data",
    "load_natural_images": "structlearn.data",
    "load_tishby_task": "structlearn.data",
    "load_digits_data": "structlearn.data",
    "MLP": "structlearn.models",
    "R2SVMClassifier": "structlearn.models",
    "ReduNet": "structlearn.models",
    "SparseCodingStack": "structlearn.models",
    "TrainConfig": "structlearn.train",
    "train": "structlearn.train",
    "load_recordings": "structlearn.recordings",
    "entropy": "structlearn.estimators",
    "mutual_information": "structlearn.estimators",
    "rate_reduction": "structlearn.objectives",
    "MaximalCodingRateReduction": "structlearn.objectives",
    "run_experiment": "structlearn.experiment",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'structlearn' has no attribute {name!r}")
