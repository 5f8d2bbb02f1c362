"""Fit a network on in-memory arrays and read its layers: the glue studies share.

:func:`fit_arrays` trains ``model`` under ``objective`` with :func:`structlearn.train.train` on a
(X, y) pair of numpy arrays, recording nothing (the caller measures the trained network);
:func:`epochs_for_steps` turns a budget of optimiser steps into whole epochs, so data sets of any
size get the same amount of optimisation; :func:`layer_outputs` reads every layer in eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from structlearn.utils.validation import check_scalar

__all__ = ["epochs_for_steps", "fit_arrays", "layer_outputs"]


def epochs_for_steps(steps: int, n_samples: int, batch_size: int) -> int:
    """The fewest whole epochs of ``ceil(n_samples / batch_size)`` minibatches reaching ``steps``.

    >>> epochs_for_steps(500, 1347, 64)  # 22 minibatches per epoch
    23
    """
    check_scalar(steps, "steps", kind=(int, np.integer), low=1)
    check_scalar(n_samples, "n_samples", kind=(int, np.integer), low=1)
    check_scalar(batch_size, "batch_size", kind=(int, np.integer), low=1)
    return math.ceil(steps / math.ceil(n_samples / min(batch_size, n_samples)))


def fit_arrays(
    model: Any,
    objective: Any,
    X: np.ndarray,
    y: np.ndarray | None,
    training: Mapping[str, Any],
    seed: int,
) -> Any:
    """Train on X (n_samples, n_features) float and integer labels y (n_samples,) (or None).

    ``training`` is a study's ``training`` section (:func:`structlearn.config.training_fragment`);
    the minibatch is capped at the number of samples. Returns the :class:`TrainResult`.
    """
    import torch

    from structlearn.train import TrainConfig, train

    section = dict(training)
    if section.get("batch_size") is not None:
        section["batch_size"] = min(int(section["batch_size"]), X.shape[0])
    config = TrainConfig.from_section(
        section, seed=seed, record_epochs="none", store_activations=False, record_gradients=False
    )
    Xt = torch.as_tensor(X, dtype=torch.float32)
    data = (Xt,) if y is None else (Xt, torch.as_tensor(y))
    return train(model, objective, data, config=config)


def layer_outputs(model: Any, X: np.ndarray) -> list[np.ndarray]:
    """Every layer's output of a model in eval mode on X (n_samples, n_features), as float64."""
    import torch

    model.eval()
    with torch.no_grad():
        return [t.double().numpy() for t in model(torch.as_tensor(X, dtype=torch.float32))]
