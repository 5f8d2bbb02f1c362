r"""The rate reduction ΔR of a representation layer by layer, and layers that should not raise it.

Chan, Yu, You, Qi, Wright & Ma (2022), "ReduNet: a white-box deep network from the principle of
maximizing rate reduction" (JMLR 23(114)), write each ReduNet layer as one projected gradient
ascent step on ΔR of the training features, so ΔR should rise from layer to layer.
:func:`layer_rate_reduction` measures ΔR (nats) of a list of representations (the input, then each
layer's output, as ``transform_all`` of :mod:`structlearn.models.redunet` returns them) with the
labels and ε the caller chooses:

- vectors (n, d): :func:`~structlearn.objectives.coding_rate.delta_R_nats`;
- signals (n, C, T) or images (n, C, H, W): ΔR of all their circular shifts
  (:func:`~structlearn.models.blocks.fourier_delta_R`), the quantity the shift-invariant ReduNet
  ascends.

It reports the per-layer increments, how many layers lowered ΔR, and where ΔR starts against its
ceiling :math:`\tfrac D2\log(1 + 1/\varepsilon^2)` nats, the largest coding rate R of any set of
unit-norm vectors of dimension D (equal eigenvalues of :math:`Z^\top Z` maximise the log-det at a
fixed trace), so ΔR = R − R_c never exceeds it.

:func:`scramble_operators` is the control: a copy of a fitted ReduNet whose expansion and
compression operators are conjugated by independent random signed permutations, which keeps every
operator's eigenvalues (so its norm) and breaks its alignment with the data.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from structlearn.models.blocks import fourier_delta_R
from structlearn.objectives.coding_rate import delta_R_nats
from structlearn.results import AnalysisResult, new_axes
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_labels, check_random_state, check_scalar

__all__ = ["LayerRateReduction", "layer_rate_reduction", "scramble_operators"]


@dataclass
class LayerRateReduction(AnalysisResult, Summarised):
    """ΔR (nats) of a representation after each layer (see :func:`layer_rate_reduction`).

    delta_R : (n_layers + 1,) ΔR of the input (entry 0) and after each layer, nats
    increments : (n_layers,) ΔR after layer l minus before it, nats
    """

    delta_R: np.ndarray
    increments: np.ndarray
    ceiling: float
    start: float
    total_increase: float
    min_increment: float
    n_decreasing: int
    first_decrease: int | None
    start_fraction: float

    scalars: ClassVar[dict[str, Scalar]] = {
        "start": Scalar("nats", None, doc="ΔR of the input representation"),
        "total_increase": Scalar("nats", True, doc="ΔR after the last layer minus the input's"),
        "min_increment": Scalar("nats", True, doc="smallest per-layer change of ΔR"),
        "n_decreasing": Scalar("count", False, doc="layers that lowered ΔR"),
        "first_decrease": Scalar(
            "count", None, doc="first layer (1 = first) lowering ΔR; None: none"
        ),
        "ceiling": Scalar("nats", None, doc="(D/2) log(1 + 1/ε²): no unit-norm set exceeds it"),
        "start_fraction": Scalar("fraction", None, doc="ΔR of the input over the ceiling"),
    }

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """ΔR against the layer index (0 = input)."""
        ax = new_axes(ax)
        ax.plot(np.arange(self.delta_R.size), self.delta_R, **kwargs)
        ax.set(xlabel="layer (0 = input)", ylabel="ΔR (nats)")
        return ax


def _delta_R(Z: np.ndarray, y: np.ndarray, k: int, eps: float) -> float:
    if Z.ndim == 2:
        return delta_R_nats(Z, y, eps, n_classes=k)
    return fourier_delta_R(Z, y, k, eps)


def layer_rate_reduction(
    layers: Sequence[Any], y: Any, eps: float, n_classes: int | None = None
) -> LayerRateReduction:
    """ΔR (nats) of every representation in ``layers`` with labels y at distortion ε.

    Parameters
    ----------
    layers : list of arrays, each (n, d) vectors or (n, C, T) / (n, C, H, W) signals (ΔR of all
        circular shifts), rows on the unit sphere for the ceiling to bound them; at least two
    y : int labels (n,) in ``0..n_classes-1``
    eps : float > 0, the distortion ε (not ε²)
    n_classes : int or None (default ``max(y) + 1``)

    Examples
    --------
    Two classes on orthogonal axes gain ΔR when each collapses onto its axis:

    >>> y = np.array([0, 0, 1, 1])
    >>> before = np.array([[1.0, 0.2], [1.0, -0.2], [0.2, 1.0], [-0.2, 1.0]])
    >>> after = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> r = layer_rate_reduction([before / np.linalg.norm(before, axis=1, keepdims=True), after],
    ...                          y, eps=0.5)
    >>> r.n_decreasing, r.first_decrease, r.min_increment > 0
    (0, None, True)
    """
    if isinstance(layers, np.ndarray) or len(layers) < 2:
        raise ValueError("layers: expected a list of at least two representations (input, layer 1)")
    check_scalar(eps, "eps", low=0, low_inclusive=False)
    arrays = [check_array(Z, f"layers[{i}]", ndim=(2, 3, 4)) for i, Z in enumerate(layers)]
    y = check_labels(y, "y", n_samples=arrays[0].shape[0])
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    for i, Z in enumerate(arrays):
        if Z.shape[0] != y.size:
            raise ValueError(f"layers[{i}]: has {Z.shape[0]} samples, y has {y.size}")
    dR = np.array([_delta_R(Z, y, k, eps) for Z in arrays])
    inc = np.diff(dR)
    dim = int(np.prod(arrays[0].shape[1:]))
    ceiling = 0.5 * dim * float(np.log1p(1.0 / eps**2))
    return LayerRateReduction(
        delta_R=dR,
        increments=inc,
        ceiling=ceiling,
        start=float(dR[0]),
        total_increase=float(dR[-1] - dR[0]),
        min_increment=float(inc.min()),
        n_decreasing=int(np.sum(inc < 0)),
        first_decrease=int(np.argmax(inc < 0)) + 1 if np.any(inc < 0) else None,
        start_fraction=float(dR[0] / ceiling),
    )


def _signed_permutation(d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.permutation(d), rng.choice([-1.0, 1.0], size=d)


def _conjugate(A: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """P A Pᵀ for one random signed permutation P, applied to the last two axes of A."""
    perm, sign = _signed_permutation(A.shape[-1], rng)
    return A[..., perm[:, None], perm[None, :]] * sign[:, None] * sign[None, :]


def scramble_operators(net: Any, random_state: int | np.random.Generator | None = None) -> Any:
    """A copy of a fitted ReduNet whose operators are conjugated by random signed permutations.

    Every layer's expansion operator ``E_[l]`` and each compression operator ``C_[l, j]`` (vector
    ReduNet: ``(d, d)``; shift-invariant: one ``(C, C)`` block per frequency, all blocks of an
    operator conjugated alike) becomes :math:`PAP^\\top` with its own random signed permutation
    P: the same eigenvalues and norms, the alignment with the training features gone. The copy
    keeps η, λ and γ, so its layers have the form of a ReduNet layer without being one.

    >>> from structlearn.models.redunet import ReduNet
    >>> X, y = np.random.default_rng(0).standard_normal((20, 4)), np.arange(20) % 2
    >>> net = ReduNet(n_layers=2).fit(X, y)
    >>> other = scramble_operators(net, 0)
    >>> bool(np.allclose(np.linalg.eigvalsh(other.E_[1]), np.linalg.eigvalsh(net.E_[1])))
    True
    """
    if not (hasattr(net, "E_") and hasattr(net, "C_")):
        raise TypeError(
            f"net: expected a fitted ReduNet (with E_ and C_), got {type(net).__name__}"
        )
    rng = check_random_state(random_state)
    out = copy.deepcopy(net)
    out.E_ = np.stack([_conjugate(E, rng) for E in net.E_])
    out.C_ = np.stack([np.stack([_conjugate(C, rng) for C in layer]) for layer in net.C_])
    return out
