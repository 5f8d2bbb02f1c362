r"""Does a representation, and a classifier on it, ignore circular shifts of its input signals?

Chan, Yu, You, Qi, Wright & Ma (2022), "ReduNet: a white-box deep network from the principle of
maximizing rate reduction" (JMLR 23(114)), build a ReduNet whose operators are circulant: it
*commutes* with circular shifts (its features of a shifted signal are the shifted features), so a
classifier that ignores where along the signal a pattern sits classifies every shift alike.
:func:`shift_invariance` measures both halves on held-out signals
:math:`x \in \mathbb{R}^{C\times T}` and their shifts :math:`S_s x`:

- ``agreement`` (per classifier): the share of (sample, shift) pairs whose predicted class equals
  that of the unshifted sample (1: invariant predictions), and the accuracy before and after;
- ``feature_cosine``: :math:`\cos(f(S_sx), f(x))`, strict invariance of the features (an
  equivariant map scores low here: its features move with the input);
- ``aligned_cosine``: :math:`\max_t \cos(f(S_sx), S_tf(x))`, invariance up to a re-alignment
  (1 for any map that commutes with shifts, whatever the shift);
- ``equivariant_cosine``: :math:`\cos(f(S_sx), S_sf(x))`, whether the features moved by exactly s.

Cosines are of whole feature maps (all channels, flattened) and averaged over samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from structlearn.results import AnalysisResult, new_axes
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_count, check_labels

__all__ = [
    "PredictionShift",
    "ShiftInvariance",
    "aligned_cosines",
    "even_shifts",
    "shift_invariance",
]

Features = Callable[[np.ndarray], np.ndarray]
Classifier = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class PredictionShift(AnalysisResult, Summarised):
    """How one classifier's predictions move under shifts (see :func:`shift_invariance`).

    agreement_by_shift : (n_shifts,) share of samples whose class is unchanged by each shift
    """

    agreement_by_shift: np.ndarray
    agreement: float
    changed_fraction: float
    accuracy: float | None
    shifted_accuracy: float | None

    scalars: ClassVar[dict[str, Scalar]] = {
        "agreement": Scalar("fraction", True, doc="share of (sample, shift) pairs, same class"),
        "changed_fraction": Scalar("fraction", False, doc="1 − agreement"),
        "accuracy": Scalar("accuracy", True, doc="accuracy on the unshifted signals"),
        "shifted_accuracy": Scalar("accuracy", True, doc="accuracy over all shifted signals"),
    }


@dataclass
class ShiftInvariance(AnalysisResult, Summarised):
    """Feature and prediction invariance to circular shifts (see :func:`shift_invariance`).

    shifts : (n_shifts,) the shifts s applied (samples along the last axis)
    feature_cosine_by_shift, aligned_cosine_by_shift, equivariant_cosine_by_shift : (n_shifts,)
    predictions : classifier name -> :class:`PredictionShift`
    """

    shifts: np.ndarray
    feature_cosine_by_shift: np.ndarray
    aligned_cosine_by_shift: np.ndarray
    equivariant_cosine_by_shift: np.ndarray
    feature_cosine: float
    aligned_cosine: float
    equivariant_cosine: float
    predictions: dict[str, PredictionShift] = field(default_factory=dict)

    scalars: ClassVar[dict[str, Scalar]] = {
        "feature_cosine": Scalar("", True, doc="mean cos(f(S_s x), f(x)): strict invariance"),
        "aligned_cosine": Scalar("", True, doc="mean max_t cos(f(S_s x), S_t f(x))"),
        "equivariant_cosine": Scalar("", True, doc="mean cos(f(S_s x), S_s f(x))"),
    }

    def plot(self, ax: Any = None) -> Any:
        """The three cosines and every classifier's agreement against the shift."""
        ax = new_axes(ax)
        ax.plot(self.shifts, self.feature_cosine_by_shift, "o-", label="cos(f(Sx), f(x))")
        ax.plot(self.shifts, self.aligned_cosine_by_shift, "s-", label="max_t cos(f(Sx), S_t f(x))")
        for name, p in self.predictions.items():
            ax.plot(self.shifts, p.agreement_by_shift, "^--", label=f"agreement: {name}")
        ax.set(xlabel="circular shift s (samples)", ylabel="cosine / agreement", ylim=(-0.05, 1.05))
        ax.legend(fontsize=7)
        return ax


def _unit(F: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.sum(F * F, axis=(1, 2), keepdims=True))
    return F / np.maximum(norms, np.finfo(np.float64).tiny)


def aligned_cosines(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    r"""Per sample :math:`\max_t \cos(a, S_t b)` of feature maps A, B (n, C, T), one FFT pass.

    >>> a = np.random.default_rng(0).standard_normal((2, 3, 8))
    >>> np.round(aligned_cosines(np.roll(a, 5, axis=-1), a), 12).tolist()
    [1.0, 1.0]
    """
    T = A.shape[-1]
    spec = np.fft.rfft(_unit(A), axis=-1) * np.conj(np.fft.rfft(_unit(B), axis=-1))
    corr = np.fft.irfft(spec.sum(axis=1), n=T, axis=-1)  # (n, T): <a, S_t b> for every t
    return corr.max(axis=1)


def _cos(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.sum(_unit(A) * _unit(B), axis=(1, 2))


def _check_shifts(shifts: Sequence[int]) -> np.ndarray:
    s = np.asarray(shifts)
    if s.ndim != 1 or s.size == 0 or not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"shifts: expected a non-empty list of integers, got {shifts!r}")
    return s.astype(np.int64)


def shift_invariance(
    features: Features,
    X: Any,
    shifts: Sequence[int],
    classifiers: Mapping[str, Classifier] | None = None,
    y: Any = None,
) -> ShiftInvariance:
    """Feature and prediction invariance of ``features`` to circular shifts of the signals X.

    Parameters
    ----------
    features : callable, signals (n, C, T) -> feature maps (n, C', T) with the same last axis
        (reshape a flat representation to (n, C', T) to compare its positions)
    X : array (n, C, T), held-out signals (shifted along the last axis)
    shifts : list of int, the circular shifts s (0 and multiples of T compare x with itself)
    classifiers : name -> callable(signals (n, C, T), their features (n, C', T)) -> labels (n,)
    y : labels (n,) or None, for the accuracies

    Returns
    -------
    ShiftInvariance

    Examples
    --------
    Taking the magnitude of the DFT is invariant; the identity is only equivariant:

    >>> X = np.random.default_rng(0).standard_normal((4, 2, 6))
    >>> mag = lambda X: np.abs(np.fft.fft(X, axis=-1))
    >>> shift_invariance(mag, X, [1, 3]).feature_cosine
    1.0
    >>> r = shift_invariance(lambda X: X, X, [1, 3])
    >>> r.feature_cosine < 0.9, round(r.aligned_cosine, 12), round(r.equivariant_cosine, 12)
    (True, 1.0, 1.0)
    """
    X = check_array(X, "X", ndim=3)
    s = _check_shifts(shifts)
    y = None if y is None else check_labels(y, "y", n_samples=X.shape[0])
    F0 = np.asarray(features(X), dtype=np.float64)
    if F0.ndim != 3 or F0.shape[0] != X.shape[0] or F0.shape[-1] != X.shape[-1]:
        raise ValueError(
            f"features: expected feature maps of shape ({X.shape[0]}, C', {X.shape[-1]}) for "
            f"signals of shape {X.shape}, got {F0.shape}"
        )
    classifiers = dict(classifiers or {})
    base = {n: np.asarray(c(X, F0)) for n, c in classifiers.items()}
    cos, aligned, equi = (np.empty(s.size) for _ in range(3))
    same = {n: np.empty((s.size, X.shape[0]), dtype=bool) for n in classifiers}
    right = {n: np.empty((s.size, X.shape[0]), dtype=bool) for n in classifiers}
    for i, shift in enumerate(s):
        Xs = np.roll(X, int(shift), axis=-1)
        Fs = np.asarray(features(Xs), dtype=np.float64)
        cos[i] = _cos(Fs, F0).mean()
        aligned[i] = aligned_cosines(Fs, F0).mean()
        equi[i] = _cos(Fs, np.roll(F0, int(shift), axis=-1)).mean()
        for n, c in classifiers.items():
            pred = np.asarray(c(Xs, Fs))
            same[n][i] = pred == base[n]
            right[n][i] = pred == y if y is not None else False
    preds = {}
    for n in classifiers:
        agree = float(same[n].mean())
        preds[n] = PredictionShift(
            agreement_by_shift=same[n].mean(axis=1),
            agreement=agree,
            changed_fraction=1.0 - agree,
            accuracy=None if y is None else float(np.mean(base[n] == y)),
            shifted_accuracy=None if y is None else float(right[n].mean()),
        )
    return ShiftInvariance(
        shifts=s,
        feature_cosine_by_shift=cos,
        aligned_cosine_by_shift=aligned,
        equivariant_cosine_by_shift=equi,
        feature_cosine=float(cos.mean()),
        aligned_cosine=float(aligned.mean()),
        equivariant_cosine=float(equi.mean()),
        predictions=preds,
    )


def even_shifts(length: int, n_shifts: int) -> list[int]:
    """``n_shifts`` distinct non-zero circular shifts of a signal of ``length``, evenly spaced.

    Shift i is ``round(i * length / (n_shifts + 1))``; fewer come back when ``length`` has fewer
    distinct non-zero shifts (``length - 1`` at most).

    >>> even_shifts(100, 3), even_shifts(4, 10)
    ([25, 50, 75], [1, 2, 3])
    """
    check_count(length, "length", low=2)
    check_count(n_shifts, "n_shifts")
    n = min(n_shifts, length - 1)
    return sorted({round(i * length / (n + 1)) for i in range(1, n + 1)})
