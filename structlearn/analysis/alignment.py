"""Teacher–student alignment: which student units specialise to which teacher units.

A student ReLU network trained on the outputs of a teacher network tends to *specialise*: some
student units become copies of teacher units (correlation near 1 over inputs), one teacher unit
may be copied by several students, and the students that stay unaligned have small fan-out
weights, so removing them barely changes the loss. This module measures that: Pearson
correlation of every teacher unit with every student unit from streamed sufficient statistics,
the best teacher per student, the number of students per teacher above thresholds, the
"L-shaped" plot (best correlation vs fan-out norm), and the pruning curve.

Sign-aware alignment: with ReLU, relu(z) = z + relu(−z), so a student unit relu(−wᵀx − b) (the
*mirror* of teacher unit relu(wᵀx + b)) represents it exactly up to a linear term that the rest of
the network can absorb, while its Pearson correlation with the teacher unit is far from 1. Pass
the students' correlations with the teacher's mirrored units (``mirror_correlation``) and the
result reports both alignments; which one decides a claim is the caller's statement.

References
----------
- Y. Tian, "Student specialization in deep rectified networks with finite width and input
  dimension", ICML (2020); Y. Tian, T. Jiang, Q. Gong, A. Morcos, "Luck matters: understanding
  training dynamics of deep ReLU networks", arXiv:1905.13405 (2019): specialisation, the L-shaped
  plot and pruning by fan-out norm.
- T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the sample variance", The
  American Statistician 37 (1983): the pairwise update of centred co-moments used for streaming.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import (
    check_array,
    check_random_state,
    check_scalar,
    to_numpy,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "AlignmentResult",
    "PrunedAt",
    "PruningCurve",
    "StreamingCorrelation",
    "analyze_alignment",
    "fanout_norm",
    "hidden_mask_evaluator",
    "merged_fanout_norm",
    "pruning_curve",
    "unit_correlation",
]

#: Correlation levels at which students are counted per teacher.
DEFAULT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


# ---------------------------------------------------------------------------------- correlation
def _check_acts(teacher_acts: Any, student_acts: Any) -> tuple[np.ndarray, np.ndarray]:
    t = check_array(teacher_acts, "teacher_acts", ndim=2)
    s = check_array(student_acts, "student_acts", ndim=2)
    if len(t) != len(s):
        raise ValueError(
            f"student_acts: has {len(s)} samples but teacher_acts has {len(t)}; both must be the "
            "activations on the same inputs, row for row"
        )
    return t, s


def _correlation_from_moments(
    m2_t: np.ndarray, m2_s: np.ndarray, c_ts: np.ndarray
) -> tuple[np.ndarray, int, int]:
    """C / sqrt(M2_t M2_s), 0 where a unit is constant; also the numbers of constant units."""
    tol_t = 1e-12 * max(float(m2_t.max(initial=0.0)), 1e-300)
    tol_s = 1e-12 * max(float(m2_s.max(initial=0.0)), 1e-300)
    live_t, live_s = m2_t > tol_t, m2_s > tol_s
    denom = np.sqrt(np.outer(m2_t, m2_s))
    ok = np.outer(live_t, live_s)
    corr = np.divide(c_ts, denom, out=np.zeros_like(c_ts), where=ok)
    return np.clip(corr, -1.0, 1.0), int((~live_t).sum()), int((~live_s).sum())


def _warn_constant(n_t: int, n_s: int) -> None:
    if n_t or n_s:
        warnings.warn(
            f"{n_t} teacher and {n_s} student unit(s) are constant over the inputs (e.g. dead "
            "ReLUs); their correlations are undefined and reported as 0. Drop them, or feed "
            "inputs that activate them, if they matter.",
            UserWarning,
            stacklevel=3,
        )


def _column_scale(x: np.ndarray) -> np.ndarray:
    """Largest magnitude of each column (1 for all-zero columns), shape (n_columns,)."""
    top = np.abs(x).max(axis=0)
    return np.where(top > 0, top, 1.0)


def unit_correlation(teacher_acts: Any, student_acts: Any) -> np.ndarray:
    r"""Pearson correlation of every teacher unit with every student unit over samples (float64).

    .. math:: \rho_{jk} = \frac{\sum_n (t_{nj} - \bar t_j)(s_{nk} - \bar s_k)}
              {\sqrt{\sum_n (t_{nj} - \bar t_j)^2 \sum_n (s_{nk} - \bar s_k)^2}}

    Parameters
    ----------
    teacher_acts : array-like of shape (n_samples, n_teacher)
    student_acts : array-like of shape (n_samples, n_student)
        Activations of the same layer depth on the same inputs, row for row.

    Returns
    -------
    ndarray of shape (n_teacher, n_student)
        Constant units (dead ReLUs) get correlation 0, with a warning.

    Examples
    --------
    >>> t = np.array([[0.0], [1.0], [2.0]])
    >>> unit_correlation(t, np.hstack([2 * t + 1, -t, t**2])).round(4)
    array([[ 1.    , -1.    ,  0.9608]])
    """
    t, s = _check_acts(teacher_acts, student_acts)
    if len(t) < 2:
        raise ValueError(f"teacher_acts: expected at least 2 samples, got {len(t)}")
    t, s = t / _column_scale(t), s / _column_scale(s)  # Pearson is scale-free; x1e300 overflows
    dt, ds = t - t.mean(axis=0), s - s.mean(axis=0)
    corr, n_t, n_s = _correlation_from_moments((dt * dt).sum(0), (ds * ds).sum(0), dt.T @ ds)
    _warn_constant(n_t, n_s)
    return corr


class StreamingCorrelation:
    """Teacher–student Pearson correlations from batches, without storing activations.

    Keeps, in float64, the sample count, the means and the centred (co-)moments
    :math:`M_t = \\sum (t - \\bar t)^2`, :math:`M_s`, :math:`C = \\sum (t - \\bar t)(s - \\bar s)^T`,
    merged batch by batch with the pairwise update of Chan et al. (1983): for parts a and b,

    .. math:: C = C_a + C_b + \\delta_t \\delta_s^T \\frac{n_a n_b}{n_a + n_b},
              \\quad \\delta = \\bar x_b - \\bar x_a,

    which stays accurate when the activations' means are large compared with their spread (the
    raw-sums formula does not). Memory is O(n_teacher * n_student) whatever the sample count.

    Use ``update(teacher_acts, student_acts)`` per batch (numpy arrays or torch tensors of shape
    (batch, n_teacher) and (batch, n_student)), then ``compute()``. ``merge(other)`` adds another
    accumulator's statistics (e.g. from another process).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t, s = rng.normal(size=(100, 3)), rng.normal(size=(100, 5))
    >>> acc = StreamingCorrelation()
    >>> for i in range(0, 100, 32):
    ...     acc.update(t[i : i + 32], s[i : i + 32])
    >>> bool(np.allclose(acc.compute(), unit_correlation(t, s), atol=1e-12)), acc.n_samples
    (True, 100)
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every batch."""
        self.n_samples = 0
        self._mean_t: np.ndarray | None = None
        self._mean_s: np.ndarray | None = None
        self._m2_t: np.ndarray | None = None
        self._m2_s: np.ndarray | None = None
        self._c: np.ndarray | None = None

    def update(self, teacher_acts: Any, student_acts: Any) -> None:
        """Add one batch: teacher_acts (batch, n_teacher), student_acts (batch, n_student)."""
        t, s = _check_acts(teacher_acts, student_acts)
        if self._c is not None:
            for name, arr, known in (
                ("teacher_acts", t, self._mean_t),
                ("student_acts", s, self._mean_s),
            ):
                if arr.shape[1] != len(known):  # type: ignore[arg-type]
                    raise ValueError(
                        f"{name}: has {arr.shape[1]} units but earlier batches had "
                        f"{len(known)}; every batch must carry the same units"  # type: ignore[arg-type]
                    )
        mt, ms = t.mean(axis=0), s.mean(axis=0)
        dt, ds = t - mt, s - ms
        self._merge(len(t), mt, ms, (dt * dt).sum(0), (ds * ds).sum(0), dt.T @ ds)

    def merge(self, other: StreamingCorrelation) -> StreamingCorrelation:
        """Add the statistics of another accumulator over the same units."""
        if not isinstance(other, StreamingCorrelation):
            raise TypeError(f"other: expected a StreamingCorrelation, got {type(other).__name__}")
        if other.n_samples:
            if self._c is not None and other._c.shape != self._c.shape:  # type: ignore[union-attr]
                raise ValueError(
                    f"other: tracks {other._c.shape} teacher x student units, this one "  # type: ignore[union-attr]
                    f"{self._c.shape}"
                )
            self._merge(
                other.n_samples, other._mean_t, other._mean_s, other._m2_t, other._m2_s, other._c
            )
        return self

    def _merge(self, nb: int, mt: Any, ms: Any, m2t: Any, m2s: Any, c: Any) -> None:
        if self._c is None:
            self.n_samples = nb
            self._mean_t, self._mean_s = mt.copy(), ms.copy()
            self._m2_t, self._m2_s, self._c = m2t.copy(), m2s.copy(), c.copy()
            return
        na = self.n_samples
        n = na + nb
        d_t, d_s = mt - self._mean_t, ms - self._mean_s
        w = na * nb / n
        self._m2_t += m2t + d_t * d_t * w
        self._m2_s += m2s + d_s * d_s * w
        self._c += c + np.outer(d_t, d_s) * w
        self._mean_t += d_t * (nb / n)
        self._mean_s += d_s * (nb / n)
        self.n_samples = n

    def compute(self) -> np.ndarray:
        """Correlations (n_teacher, n_student), float64; constant units get 0 (with a warning)."""
        if self.n_samples < 2:
            raise ValueError(
                f"StreamingCorrelation: needs at least 2 samples before compute(), got "
                f"{self.n_samples}; call update(teacher_acts, student_acts) first"
            )
        corr, n_t, n_s = _correlation_from_moments(self._m2_t, self._m2_s, self._c)  # type: ignore[arg-type]
        _warn_constant(n_t, n_s)
        return corr


# ----------------------------------------------------------------------------------- fan-out norm
def fanout_norm(next_weight: Any) -> np.ndarray:
    """Fan-out weight norm of every hidden unit: the norm of its COLUMN of the next layer's weight.

    ``nn.Linear.weight`` has shape (out_features, in_features), so hidden unit ``k`` (an input of
    the next layer) sends its output through ``weight[:, k]``:
    :math:`\\|w^{\\text{out}}_k\\| = \\sqrt{\\sum_i W_{ik}^2}`.

    Parameters
    ----------
    next_weight : array-like, torch.Tensor or torch.nn.Linear
        The next layer's weight, shape (n_next, n_hidden), or the layer itself.

    Returns
    -------
    ndarray of shape (n_hidden,)

    Examples
    --------
    >>> fanout_norm(torch.nn.Linear(5, 2).weight).shape  # 5 hidden units feed 2 outputs
    (5,)
    >>> fanout_norm([[3.0, 0.0, 1.0], [4.0, 0.0, 0.0]])
    array([5., 0., 1.])
    """
    if isinstance(next_weight, torch.nn.Linear):
        next_weight = next_weight.weight
    w = check_array(next_weight, "next_weight", ndim=2)
    top = _column_scale(w)  # squares of 1e300 overflow: norms of the scaled columns, rescaled
    return np.sqrt(((w / top) ** 2).sum(axis=0)) * top


def merged_fanout_norm(
    correlation: Any, next_weight: Any, threshold: float, mirror_correlation: Any = None
) -> np.ndarray:
    """Per teacher unit, the norm of the summed fan-out of the students aligned to it.

    Several students align with one teacher unit and split its fan-out (Tian 2020), so one
    student's fan-out understates what the unit sends on; the students whose best (sign-aware when
    ``mirror_correlation`` is given) correlation is at least ``threshold`` are merged into their
    best teacher unit: ||sum over k -> j of W[:, k]||. 0 for a unit with no aligned student.

    Parameters
    ----------
    correlation, mirror_correlation : array-like (n_teacher, n_student)
    next_weight : array-like (n_next, n_student) or torch.nn.Linear, the students' next layer
    threshold : float

    Examples
    --------
    >>> merged_fanout_norm([[0.99, 0.98, 0.1]], [[1.0, 2.0, 5.0]], 0.95).tolist()
    [3.0]
    """
    corr = check_array(correlation, "correlation", ndim=2)
    if mirror_correlation is not None:
        corr = np.maximum(corr, check_array(mirror_correlation, "mirror_correlation", ndim=2))
    if isinstance(next_weight, torch.nn.Linear):
        next_weight = next_weight.weight
    w = check_array(next_weight, "next_weight", ndim=2)
    if w.shape[1] != corr.shape[1]:
        raise ValueError(
            f"next_weight: expected {corr.shape[1]} columns (one per student), got {w.shape[1]}"
        )
    best, aligned = corr.argmax(axis=0), corr.max(axis=0) >= threshold
    out = np.zeros(corr.shape[0])
    for j in range(corr.shape[0]):
        members = aligned & (best == j)
        out[j] = float(np.linalg.norm(w[:, members].sum(axis=1)))
    return out


# ------------------------------------------------------------------------------------------ result
def _median_ratio(norms: np.ndarray | None, aligned: np.ndarray) -> float | None:
    """Median fan-out of unaligned students over that of aligned ones (None if a side is empty)."""
    if norms is None or not aligned.any() or aligned.all():
        return None
    top = float(np.median(norms[aligned]))
    return float(np.median(norms[~aligned])) / top if top > 0 else None


@dataclass
class AlignmentResult(AnalysisResult, Summarised):
    """Teacher–student alignment of one layer.

    Attributes
    ----------
    student_best_corr, student_best_teacher : ndarray (n_student,)
        Per student unit, the largest correlation with any teacher unit and which teacher.
    teacher_best_corr, teacher_best_student : ndarray (n_teacher,)
        Per teacher unit, its best-aligned student and that correlation.
    thresholds : ndarray (n_thresholds,)
    teacher_counts : ndarray (n_teacher, n_thresholds)
        Number of students whose correlation with the teacher is at least each threshold.
    fanout_norm : ndarray (n_student,) or None
        The students' fan-out weight norms, for the L-shaped plot.
    share_teachers_covered : ndarray (n_thresholds,)
        Share of teacher units with at least one student at or above each threshold.
    correlation : ndarray (n_teacher, n_student)
        The full matrix (left out of :meth:`to_dict`).
    mirror_correlation : ndarray (n_teacher, n_student) or None
        Correlations with the mirrored teacher units relu(−wᵀx − b) (left out of :meth:`to_dict`).
    threshold : float
        The level at which a student counts as aligned in the scalar summaries.
    student_best_corr_sign_aware, teacher_best_corr_sign_aware : ndarray or None
        As above with, for each pair, the larger of the correlation with the teacher unit and with
        its mirror (None without ``mirror_correlation``).

    Scalar summaries (:meth:`summary`): ``share_covered``, ``n_aligned``, ``fanout_ratio`` and
    their ``_sign_aware`` twins (None without mirror correlations), ``mean_teacher_best_corr``.
    """

    student_best_corr: np.ndarray
    student_best_teacher: np.ndarray
    teacher_best_corr: np.ndarray
    teacher_best_student: np.ndarray
    thresholds: np.ndarray
    teacher_counts: np.ndarray
    fanout_norm: np.ndarray | None = None
    correlation: np.ndarray | None = field(default=None, repr=False)
    mirror_correlation: np.ndarray | None = field(default=None, repr=False)
    threshold: float = 0.9
    share_teachers_covered: np.ndarray = field(init=False)
    student_best_corr_sign_aware: np.ndarray | None = field(init=False)
    teacher_best_corr_sign_aware: np.ndarray | None = field(init=False)
    share_covered: float = field(init=False)
    share_covered_sign_aware: float | None = field(init=False)
    n_aligned: int = field(init=False)
    n_aligned_sign_aware: int | None = field(init=False)
    fanout_ratio: float | None = field(init=False)
    fanout_ratio_sign_aware: float | None = field(init=False)
    mean_teacher_best_corr: float = field(init=False)

    scalars: ClassVar[dict[str, Scalar]] = {
        "share_covered": Scalar(
            "fraction", True, doc="teacher units with a student at correlation >= threshold"
        ),
        "share_covered_sign_aware": Scalar(
            "fraction", True, doc="the same, a mirrored student relu(-w.x-b) counting as aligned"
        ),
        "n_aligned": Scalar("count", None, doc="students whose best correlation >= threshold"),
        "n_aligned_sign_aware": Scalar("count", None, doc="the same, sign-aware"),
        "fanout_ratio": Scalar(
            "ratio", False, doc="median fan-out norm of unaligned over aligned students"
        ),
        "fanout_ratio_sign_aware": Scalar("ratio", False, doc="the same, sign-aware"),
        "mean_teacher_best_corr": Scalar("correlation", True, doc="mean over teacher units"),
    }

    def __post_init__(self) -> None:
        self.share_teachers_covered = (self.teacher_counts > 0).mean(axis=0)
        thr = float(self.threshold)
        self.share_covered = float(np.mean(self.teacher_best_corr >= thr))
        aligned = self.student_best_corr >= thr
        self.n_aligned = int(aligned.sum())
        self.fanout_ratio = _median_ratio(self.fanout_norm, aligned)
        self.mean_teacher_best_corr = float(np.mean(self.teacher_best_corr))
        self.student_best_corr_sign_aware = self.teacher_best_corr_sign_aware = None
        self.share_covered_sign_aware = self.n_aligned_sign_aware = None
        self.fanout_ratio_sign_aware = None
        if self.mirror_correlation is not None and self.correlation is not None:
            both = np.maximum(self.correlation, self.mirror_correlation)
            self.student_best_corr_sign_aware = both.max(axis=0)
            self.teacher_best_corr_sign_aware = both.max(axis=1)
            self.share_covered_sign_aware = float(np.mean(self.teacher_best_corr_sign_aware >= thr))
            aligned_s = self.student_best_corr_sign_aware >= thr
            self.n_aligned_sign_aware = int(aligned_s.sum())
            self.fanout_ratio_sign_aware = _median_ratio(self.fanout_norm, aligned_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summaries (the full correlation matrix is left out)."""
        out = super().to_dict()
        out.pop("correlation", None)
        out.pop("mirror_correlation", None)
        return out

    def plot(self, ax: Any = None) -> Any:
        """The L-shaped plot: each student's fan-out weight norm against its best correlation (or a
        histogram of best correlations without fan-out norms)."""
        ax = new_axes(ax)
        if self.fanout_norm is None:
            ax.hist(self.student_best_corr, bins=np.linspace(-1, 1, 41), color="C0")
            ax.set_xlabel("best correlation with a teacher unit")
            ax.set_ylabel("number of student units")
            return ax
        # Tian's axes: x = best correlation, y = fan-out norm (an L: low-correlation students sit
        # at the bottom, the aligned ones rise at the right)
        ax.scatter(self.student_best_corr, self.fanout_norm, s=8, alpha=0.6, color="C0")
        ax.set_xlabel("best correlation with a teacher unit")
        ax.set_ylabel("fan-out weight norm ||W_next[:, k]||")
        ax.set_xlim(min(-0.05, float(self.student_best_corr.min()) - 0.05), 1.05)
        ax.set_title("student specialisation (L-shape)", fontsize="small")
        return ax

    def plot_counts(self, ax: Any = None) -> Any:
        """Per teacher unit (sorted by best correlation), students above each threshold."""
        ax = new_axes(ax)
        order = np.argsort(-self.teacher_best_corr, kind="stable")
        for j, thr in enumerate(self.thresholds):
            ax.plot(self.teacher_counts[order, j], drawstyle="steps-mid", label=f">= {thr:g}")
        ax.set_xlabel("teacher unit (sorted by best correlation)")
        ax.set_ylabel("number of aligned student units")
        ax.legend(frameon=False, fontsize="small", title="correlation")
        return ax


def _check_thresholds(thresholds: Sequence[float]) -> np.ndarray:
    thr = np.asarray(thresholds, dtype=float).reshape(-1)
    if thr.size == 0 or not np.all(np.isfinite(thr)) or np.any(np.abs(thr) > 1):
        raise ValueError(f"thresholds: expected correlations in [-1, 1], got {thresholds!r}")
    return np.sort(thr)


def analyze_alignment(
    correlation: Any,
    fanout_norms: Any = None,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    threshold: float = 0.9,
    mirror_correlation: Any = None,
) -> AlignmentResult:
    """Summarise teacher–student correlations of one layer.

    Parameters
    ----------
    correlation : array-like (n_teacher, n_student) or StreamingCorrelation
        From :func:`unit_correlation` or a filled :class:`StreamingCorrelation`.
    fanout_norms : array-like (n_student,), optional
        The students' fan-out norms (:func:`fanout_norm` of the next layer's weight).
    thresholds : sequence of float
        Levels at which students are counted per teacher.
    threshold : float in [-1, 1]
        The level at which a student counts as aligned in the scalar summaries.
    mirror_correlation : array-like (n_teacher, n_student) or StreamingCorrelation, optional
        Correlations of the students with the mirrored teacher units relu(−wᵀx − b); adds the
        sign-aware alignment (see the module docstring).

    Returns
    -------
    AlignmentResult

    Examples
    --------
    >>> res = analyze_alignment([[0.99, 0.2, 0.97], [0.1, 0.6, 0.0]], thresholds=[0.5, 0.95])
    >>> res.teacher_counts.tolist(), res.student_best_teacher.tolist()
    ([[2, 2], [1, 0]], [0, 1, 0])
    """
    if isinstance(correlation, StreamingCorrelation):
        correlation = correlation.compute()
    corr = check_array(correlation, "correlation", ndim=2)
    if np.any(np.abs(corr) > 1 + 1e-9):
        raise ValueError("correlation: expected values in [-1, 1]; pass correlations, not moments")
    thr = _check_thresholds(thresholds)
    level = float(_check_thresholds([threshold])[0])
    mirror = None
    if mirror_correlation is not None:
        if isinstance(mirror_correlation, StreamingCorrelation):
            mirror_correlation = mirror_correlation.compute()
        mirror = check_array(mirror_correlation, "mirror_correlation", ndim=2)
        if mirror.shape != corr.shape or np.any(np.abs(mirror) > 1 + 1e-9):
            raise ValueError(
                f"mirror_correlation: expected correlations of shape {corr.shape} (the "
                f"correlation's), got shape {mirror.shape}"
            )
    norms = None
    if fanout_norms is not None:
        norms = check_array(fanout_norms, "fanout_norms", ndim=1)
        if len(norms) != corr.shape[1]:
            raise ValueError(
                f"fanout_norms: expected one norm per student unit ({corr.shape[1]}), got "
                f"{len(norms)}; take column norms of the next layer's weight (fanout_norm)"
            )
    return AlignmentResult(
        student_best_corr=corr.max(axis=0),
        student_best_teacher=corr.argmax(axis=0),
        teacher_best_corr=corr.max(axis=1),
        teacher_best_student=corr.argmax(axis=1),
        thresholds=thr,
        teacher_counts=(corr[:, :, None] >= thr[None, None, :]).sum(axis=1),
        fanout_norm=norms,
        correlation=corr,
        mirror_correlation=mirror,
        threshold=level,
    )


# ---------------------------------------------------------------------------------------- pruning
@dataclass
class PrunedAt(AnalysisResult, Summarised):
    """Evaluation losses with ``n_kept`` students kept, by each removal order (one curve point)."""

    n_kept: int
    loss_by_norm: float
    loss_random: float
    loss_random_sd: float
    loss_by_corr: float | None

    scalars: ClassVar[dict[str, Scalar]] = {
        "n_kept": Scalar("count", None, doc="students kept"),
        "loss_by_norm": Scalar("loss", False, doc="largest fan-out norms kept"),
        "loss_random": Scalar("loss", False, doc="random students kept (mean over orders)"),
        "loss_random_sd": Scalar("loss", None, doc="sd over random orders"),
        "loss_by_corr": Scalar("loss", False, doc="best-correlated students kept"),
    }


@dataclass
class PruningCurve(AnalysisResult):
    """Evaluation loss as k student units are removed, by three orders.

    Attributes
    ----------
    n_removed : ndarray (n_points,)
    loss_by_norm : ndarray (n_points,)
        Removing the units with the smallest fan-out norm first.
    loss_random_mean, loss_random_sd : ndarray (n_points,)
        Random removal order, over ``n_random`` orders.
    loss_by_corr : ndarray (n_points,) or None
        Removing the units least correlated with any teacher first.
    """

    n_removed: np.ndarray
    loss_by_norm: np.ndarray
    loss_random_mean: np.ndarray
    loss_random_sd: np.ndarray
    loss_by_corr: np.ndarray | None
    n_units: int
    n_random: int

    def at(self, n_kept: int) -> PrunedAt:
        """The curve's losses with ``n_kept`` students kept (a point it was evaluated at).

        >>> w = np.array([3.0, 0.1, 1.0])
        >>> c = pruning_curve(lambda m: float((w.sum() - w[m].sum()) ** 2), np.abs(w),
        ...                   n_removed=[0, 1, 2, 3], n_random=2)
        >>> round(c.at(2).loss_by_norm, 4)
        0.01
        """
        hit = np.flatnonzero(self.n_removed == self.n_units - int(n_kept))
        if hit.size == 0:
            kept = sorted((self.n_units - self.n_removed).tolist())
            raise ValueError(f"n_kept: the curve was evaluated at {kept} kept, got {n_kept}")
        i = int(hit[0])
        return PrunedAt(
            n_kept=int(n_kept),
            loss_by_norm=float(self.loss_by_norm[i]),
            loss_random=float(self.loss_random_mean[i]),
            loss_random_sd=float(self.loss_random_sd[i]),
            loss_by_corr=None if self.loss_by_corr is None else float(self.loss_by_corr[i]),
        )

    def plot(self, ax: Any = None) -> Any:
        """Loss vs number of removed students, for the three orders."""
        ax = new_axes(ax)
        k = self.n_removed
        ax.plot(k, self.loss_by_norm, "o-", ms=3, label="smallest fan-out norm first")
        ax.plot(k, self.loss_random_mean, "s-", ms=3, color="0.4", label="random order")
        ax.fill_between(
            k,
            self.loss_random_mean - self.loss_random_sd,
            self.loss_random_mean + self.loss_random_sd,
            color="0.4",
            alpha=0.2,
        )
        if self.loss_by_corr is not None:
            ax.plot(k, self.loss_by_corr, "^-", ms=3, label="least correlated first")
        ax.set_xlabel(f"student units removed (of {self.n_units})")
        ax.set_ylabel("evaluation loss")
        ax.legend(frameon=False, fontsize="small")
        return ax


def _evaluate(evaluate: Callable[[np.ndarray], float], mask: np.ndarray) -> float:
    value = evaluate(mask.copy())
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"evaluate: expected a callable returning a float loss, got {type(value).__name__}"
        ) from exc
    if not np.isfinite(value):
        raise ValueError(
            f"evaluate: returned {value} with {int((~mask).sum())} unit(s) removed; expected a "
            "finite loss"
        )
    return value


def _curve(evaluate: Callable, order: np.ndarray, ks: np.ndarray) -> np.ndarray:
    out = []
    for k in ks:
        mask = np.ones(len(order), dtype=bool)
        mask[order[:k]] = False
        out.append(_evaluate(evaluate, mask))
    return np.array(out)


def pruning_curve(
    evaluate: Callable[[np.ndarray], float],
    fanout_norms: Any,
    best_corr: Any = None,
    *,
    n_removed: Any = None,
    n_random: int = 5,
    random_state: int | np.random.Generator | None = 0,
) -> PruningCurve:
    """Evaluation loss as the k student units with smallest fan-out norm are removed, against
    random removal and removal by (smallest) best-teacher correlation.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(mask) -> float``: the evaluation loss with only the student units where the
        boolean ``mask`` (n_student,) is True kept (see :func:`hidden_mask_evaluator` for torch
        models); any model works.
    fanout_norms : array-like (n_student,)
    best_corr : array-like (n_student,), optional
        ``AlignmentResult.student_best_corr``; adds the removal-by-correlation curve.
    n_removed : sequence of int, optional
        Values of k (default: 21 evenly spaced from 0 to n_student).
    n_random : int
        Random orders averaged.
    random_state : int, Generator or None

    Returns
    -------
    PruningCurve

    Examples
    --------
    >>> w = np.array([3.0, 0.1, 1.0])        # a linear read-out of three units with value 1
    >>> loss = lambda mask: float((w.sum() - w[mask].sum()) ** 2)
    >>> pruning_curve(loss, np.abs(w), n_removed=[0, 1, 2], n_random=2).loss_by_norm.round(2)
    array([0.  , 0.01, 1.21])
    """
    norms = check_array(fanout_norms, "fanout_norms", ndim=1)
    n = len(norms)
    if not callable(evaluate):
        raise TypeError(
            f"evaluate: expected a callable(mask) -> float, got {type(evaluate).__name__}"
        )
    corr = None
    if best_corr is not None:
        corr = check_array(best_corr, "best_corr", ndim=1)
        if len(corr) != n:
            raise ValueError(f"best_corr: expected {n} values (one per student), got {len(corr)}")
    ks = np.unique(np.linspace(0, n, 21).round().astype(int)) if n_removed is None else n_removed
    ks = np.asarray(ks)
    if ks.ndim != 1 or not np.issubdtype(ks.dtype, np.integer) or ks.min() < 0 or ks.max() > n:
        raise ValueError(f"n_removed: expected integers in [0, {n}], got {n_removed!r}")
    n_random = check_scalar(n_random, "n_random", kind=(int, np.integer), low=1)
    rng = check_random_state(random_state)
    random = np.stack([_curve(evaluate, rng.permutation(n), ks) for _ in range(n_random)])
    return PruningCurve(
        n_removed=ks,
        loss_by_norm=_curve(evaluate, np.argsort(norms, kind="stable"), ks),
        loss_random_mean=random.mean(axis=0),
        loss_random_sd=random.std(axis=0),
        loss_by_corr=None
        if corr is None
        else _curve(evaluate, np.argsort(corr, kind="stable"), ks),
        n_units=n,
        n_random=int(n_random),
    )


def hidden_mask_evaluator(
    model: torch.nn.Module,
    module: torch.nn.Module,
    inputs: Any,
    targets: Any,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> Callable[[np.ndarray], float]:
    """Build ``evaluate(mask)`` for :func:`pruning_curve` from a torch model.

    The returned callable runs ``model(inputs)`` under ``torch.no_grad()`` with a forward hook on
    ``module`` (the layer whose outputs are the student units, e.g. the ReLU after a hidden
    ``nn.Linear``) that multiplies its output by ``mask`` along the last axis, and returns
    ``loss_fn(output, targets)`` (default: mean squared error).

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    >>> x, y = torch.randn(8, 2), torch.randn(8, 1)
    >>> ev = hidden_mask_evaluator(net, net[1], x, y)
    >>> ev(np.ones(3, bool)) == torch.nn.functional.mse_loss(net(x), y).item()
    True
    """
    loss_fn = loss_fn or torch.nn.functional.mse_loss
    dtype = next(model.parameters(), torch.empty(0)).dtype
    x = torch.as_tensor(to_numpy(inputs), dtype=dtype)
    y = torch.as_tensor(to_numpy(targets), dtype=dtype)

    def evaluate(mask: np.ndarray) -> float:
        m = torch.as_tensor(np.asarray(mask, dtype=bool))

        def hook(_mod: torch.nn.Module, _inp: Any, out: torch.Tensor) -> torch.Tensor:
            if out.shape[-1] != len(m):
                raise ValueError(
                    f"mask: has {len(m)} entries but the hooked module outputs {out.shape[-1]} "
                    "units; pass the module whose outputs are the student units"
                )
            return out * m.to(out.dtype)

        handle = module.register_forward_hook(hook)
        try:
            with torch.no_grad():
                return float(loss_fn(model(x), y))
        finally:
            handle.remove()

    return evaluate
