"""Random-weight fully connected networks: the architecture space and the features they compute.

Networks whose weights are drawn at random and never trained, followed by a trained linear
read-out, are the cheapest features there are: random features for kernel machines (Rahimi & Recht
2007), random-weight multi-stage architectures (Jarrett, Kavukcuoglu, Ranzato & LeCun 2009) and
ranking architectures by their random-weight performance (Saxe, Koh, Chen, Bhand, Suresh & Ng
2011). :func:`sample_architectures` draws architectures from a space of choices and
:func:`random_features` computes one network's output on standardised inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from structlearn.utils.validation import (
    check_array,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_SPACE",
    "check_space",
    "random_features",
    "sample_architectures",
]

#: choices per key (``depth``, ``width``, ``activation``: drawn uniformly from the list) and ranges
#: (``weight_scale``: log-uniform on [low, high]; ``bias_scale``: uniform on [low, high])
DEFAULT_SPACE: dict[str, Any] = {
    "depth": [1, 2, 3],
    "width": [16, 32, 64, 128],
    "activation": ["relu", "tanh", "sigmoid"],
    "weight_scale": [0.1, 10.0],
    "bias_scale": [0.0, 0.5],
}
_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "linear": lambda z: z,
}
ACTIVATIONS = tuple(_ACTIVATIONS)


def _check_choices(key: str, values: Any, kind: str) -> list:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"{key}: expected a non-empty list of choices, got []")
    for v in values:
        if kind == "activation":
            check_option(v, key, ACTIVATIONS)
        elif isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{key}: expected positive integers, got {values}")
    return values


def _check_range(key: str, values: Any, low_positive: bool) -> list[float]:
    pair = [values, values] if isinstance(values, numbers.Real) else list(values)
    if len(pair) != 2:
        raise ValueError(f"{key}: expected a number or a pair [low, high], got {values}")
    lo, hi = (float(check_scalar(v, key, low=0.0)) for v in pair)
    if hi < lo or (low_positive and lo <= 0):
        want = "0 < low <= high" if low_positive else "0 <= low <= high"
        raise ValueError(f"{key}: expected {want}, got {pair}")
    return [lo, hi]


def check_space(space: Mapping[str, Any] | None, name: str = "space") -> dict[str, Any]:
    """Merge ``space`` into :data:`DEFAULT_SPACE` and validate it; an unknown key is an error.

    ``name`` is how errors call the mapping (``space['depth']: ...``).

    >>> check_space({"depth": 2})["depth"]
    [2]
    >>> check_space({"depht": 2})
    Traceback (most recent call last):
    ...
    ValueError: space: unknown key(s) ['depht']; known keys are ['activation', 'bias_scale', 'depth', 'weight_scale', 'width']
    """
    space = {} if space is None else dict(space)
    unknown = sorted(set(space) - set(DEFAULT_SPACE))
    if unknown:
        raise ValueError(
            f"{name}: unknown key(s) {unknown}; known keys are {sorted(DEFAULT_SPACE)}"
        )
    merged = {**DEFAULT_SPACE, **space}

    def key(k: str) -> str:
        return f"{name}[{k!r}]"

    return {
        "depth": _check_choices(key("depth"), merged["depth"], "int"),
        "width": _check_choices(key("width"), merged["width"], "int"),
        "activation": _check_choices(key("activation"), merged["activation"], "activation"),
        "weight_scale": _check_range(key("weight_scale"), merged["weight_scale"], True),
        "bias_scale": _check_range(key("bias_scale"), merged["bias_scale"], False),
    }


def sample_architectures(
    space: Mapping[str, Any] | None, n_networks: int, random_state: Any = 0
) -> list[dict[str, Any]]:
    """Draw ``n_networks`` architectures from ``space`` (overrides of :data:`DEFAULT_SPACE`).

    Each is a dict with ``depth``, ``width``, ``activation``, ``weight_scale``, ``bias_scale``
    and ``seed`` (for its weights).

    >>> archs = sample_architectures({"depth": [2], "width": [8]}, 3, random_state=0)
    >>> [(a["depth"], a["width"]) for a in archs]
    [(2, 8), (2, 8), (2, 8)]
    """
    cfg = check_space(space)
    check_scalar(n_networks, "n_networks", kind=(int, np.integer), low=1)
    rng = check_random_state(random_state)
    archs = []
    for _ in range(int(n_networks)):
        lo, hi = np.log(cfg["weight_scale"])
        archs.append(
            {
                "depth": int(rng.choice(cfg["depth"])),
                "width": int(rng.choice(cfg["width"])),
                "activation": str(rng.choice(cfg["activation"])),
                "weight_scale": float(np.exp(rng.uniform(lo, hi))),
                "bias_scale": float(rng.uniform(*cfg["bias_scale"])),
                "seed": int(rng.integers(2**31 - 1)),
            }
        )
    return archs


def random_features(
    X: Any,
    depth: int,
    width: int,
    activation: str = "relu",
    weight_scale: float = 1.0,
    bias_scale: float = 0.0,
    *,
    random_state: Any = 0,
) -> np.ndarray:
    r"""Output of a random fully connected network on ``X``.

    :math:`h_0 = X`, :math:`h_l = \sigma(h_{l-1}W_l^\top + b_l)` with
    :math:`W_l \in \mathbb R^{\text{width}\times n_{l-1}}`,
    :math:`(W_l)_{ij}\sim\mathcal N(0, s^2/n_{l-1})` (``s = weight_scale``; 1 keeps the
    pre-activation variance of unit-variance inputs) and :math:`(b_l)_i\sim\mathcal N(0,
    \text{bias\_scale}^2)`.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    depth, width : int
    activation : {"relu", "tanh", "sigmoid", "linear"}
    weight_scale, bias_scale : float
    random_state : int, Generator or None

    Returns
    -------
    numpy.ndarray, shape (n_samples, width)

    Examples
    --------
    >>> random_features(np.eye(3), depth=2, width=4, random_state=0).shape
    (3, 4)
    """
    h = check_array(X, "X", ndim=2)
    check_scalar(depth, "depth", kind=(int, np.integer), low=1)
    check_scalar(width, "width", kind=(int, np.integer), low=1)
    act = _ACTIVATIONS[check_option(activation, "activation", ACTIVATIONS)]
    check_scalar(weight_scale, "weight_scale", low=0.0, low_inclusive=False)
    check_scalar(bias_scale, "bias_scale", low=0.0)
    rng = check_random_state(random_state)
    for _ in range(int(depth)):
        w = rng.normal(0.0, weight_scale / np.sqrt(h.shape[1]), size=(int(width), h.shape[1]))
        b = rng.normal(0.0, 1.0, size=int(width)) * bias_scale
        h = act(h @ w.T + b)
    return h
