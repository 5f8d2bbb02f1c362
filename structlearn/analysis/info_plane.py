"""The information plane of a training run, its gradient phases, compression, and the IB bound.

From a run's recordings (every layer's activations on a fixed evaluation set at logged epochs, and
per layer the norms of the mean and standard deviation of the minibatch gradients), this module
measures

- the information plane: :math:`(I(X;T), I(T;Y))` of every layer at every logged epoch, by
  equal-width binning (:math:`I(X;T) = H(T)` for a deterministic network on distinct, equally likely
  inputs) or by the Kolchinsky--Tracey pairwise-distance estimate for a layer with added Gaussian
  noise (Saxe et al.), drawn as in Shwartz-Ziv & Tishby: one line per layer, points coloured by
  epoch;
- the gradient signal-to-noise ratio :math:`\\|\\bar g\\| / \\|\\mathrm{std}(g)\\|` per layer and
  the epoch where it falls from the "fitting" (drift) phase to the "diffusion" phase (the rule is
  in :func:`detect_phase_transition`);
- compression: how far each layer's :math:`I(X;T)` falls after its peak (measured, never assumed:
  Saxe et al. found that it depends on the activation and the estimator), whether the layer sits
  at the estimator's ceiling log n all run (then it cannot register a drop), and the share of
  training after its peak;
- for discrete inputs, the Information Bottleneck curve of the joint :math:`p(x, y)` on the same
  axes, and for each binned layer (an exact encoder under p(x, y)) its distance to the curve:
  the vertical gap below it, the horizontal excess (:func:`ib_excess`: the I(X;T) spent beyond
  the least any encoder needs for its I(T;Y)), the IB Lagrangian gap at the matched beta
  (:func:`ib_lagrangian_gap`), and how far its encoder is from the IB self-consistent equations.

References
----------
- R. Shwartz-Ziv & N. Tishby, "Opening the black box of deep neural networks via information",
  arXiv:1703.00810 (2017): the information plane, the two phases of SGD, the 12-bit task.
- A. M. Saxe, Y. Bansal, J. Dapello, M. Advani, A. Kolchinsky, B. D. Tracey, D. D. Cox, "On the
  information bottleneck theory of deep learning", ICLR (2018): compression depends on the
  activation and on the estimator; KDE bounds for noisy networks.
- N. Tishby, F. C. Pereira, W. Bialek, "The information bottleneck method", arXiv:physics/0004057
  (1999): the IB curve, an upper bound on :math:`I(T;Y)` at given :math:`I(X;T)` for any encoder.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.estimators import (
    IBCurve,
    bin_indices,
    check_joint,
    discrete_entropy,
    entropy_of_distribution,
    ib_curve,
    ib_self_consistency,
    information_plane_binning_batch,
    kde_mi_bounds,
    mutual_information_of_joint,
    row_keys,
)
from structlearn.recordings import Recordings, load_recordings
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import (
    check_array,
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
    relabel,
)

__all__ = [
    "ESTIMATORS",
    "InformationPlane",
    "LayerPlane",
    "analyze_information_plane",
    "binned_encoder",
    "compression",
    "detect_phase_transition",
    "end_of_fitting",
    "ib_bound_at",
    "ib_excess",
    "ib_lagrangian_gap",
    "ib_min_i_xt",
    "information_plane_points",
    "largest_drop",
    "recordings_from_arrays",
]

#: estimators of the information plane
ESTIMATORS = ("binning", "kde")
#: default trade-off parameters of the IB bound (log-spaced; the curve is flat beyond them)
DEFAULT_BETAS = np.geomspace(0.5, 1000.0, 50)

SNR_RULE = (
    "one change point in the level of log10(SNR) over the logged epochs: the split into an "
    "early and a late segment, each of constant level and at least 2 records, with the least "
    "squared error; reported when the early level exceeds the late one by at least "
    "min_snr_drop decades (else none). The transition epoch is the first of the late segment."
)


# ----------------------------------------------------------------------------- recordings in
def recordings_from_arrays(
    activations: Sequence[Any],
    labels: Any,
    epochs: Any = None,
    **kwargs: Any,
) -> Recordings:
    """Deprecated alias of :meth:`structlearn.recordings.Recordings.from_arrays` (warns).

    Recordings are a concept of :mod:`structlearn.recordings`, not of this analyzer.
    """
    warnings.warn(
        "recordings_from_arrays is deprecated; use structlearn.recordings.Recordings.from_arrays "
        "(same arguments)",
        DeprecationWarning,
        stacklevel=2,
    )
    return Recordings.from_arrays(activations, labels, epochs, **kwargs)


def _as_recordings(recordings: Any) -> Recordings:
    if isinstance(recordings, Recordings):
        return recordings
    if isinstance(recordings, str | os.PathLike):
        return load_recordings(recordings)
    raise TypeError(
        "recordings: expected a Recordings, or the path of a run folder written by train(); for "
        f"plain arrays use Recordings.from_arrays(...); got {type(recordings).__name__}"
    )


def _select_layers(rec: Recordings, layers: Any) -> list[int]:
    if layers is None:
        return list(range(rec.n_layers))
    chosen = []
    for layer in layers:
        if isinstance(layer, str):
            if layer not in rec.layer_names:
                raise ValueError(
                    f"layers: no layer {layer!r}; the recordings hold {rec.layer_names}"
                )
            chosen.append(rec.layer_names.index(layer))
        elif isinstance(layer, numbers.Integral) and -rec.n_layers <= layer < rec.n_layers:
            chosen.append(int(layer) % rec.n_layers)
        else:
            raise ValueError(
                f"layers: no layer {layer!r}; the recordings hold {rec.n_layers} layers "
                f"{rec.layer_names}"
            )
    if not chosen:
        raise ValueError("layers: expected at least one layer, got none")
    return chosen


def _check_recordings(rec: Recordings, layers: list[int], labels: Any) -> np.ndarray:
    """Every selected layer holds one record per listed epoch; returns the labels."""
    n_epochs = rec.epochs.size
    if n_epochs == 0:
        raise ValueError("recordings: no epoch was recorded; train with record_epochs != 'none'")
    if np.any(np.diff(rec.epochs) <= 0):
        raise ValueError(f"recordings: epochs must increase, got {rec.epochs[:10].tolist()}...")
    for layer in layers:
        name = rec.layer_names[layer]
        acts = rec.activations[layer]
        if acts.shape[0] != n_epochs:
            missing = rec.epochs[acts.shape[0] :].tolist()[:5] if acts.shape[0] < n_epochs else []
            raise ValueError(
                f"recordings: layer {name!r} holds {acts.shape[0]} records but {n_epochs} epochs "
                f"are listed" + (f"; missing epochs {missing}..." if missing else "")
            )
        if acts.shape[2] != rec.n_units[layer]:
            raise ValueError(
                f"recordings: layer {name!r} has {acts.shape[2]} units, its index says "
                f"{rec.n_units[layer]}"
            )
    n_eval = rec.activations[layers[0]].shape[1]
    y = rec.labels if labels is None else labels
    if y is None:
        raise ValueError("labels: the recordings hold no labels; pass labels=(n_eval,) ints")
    # coded 0..k-1: binning counts labels by position, and a label 10**9 asked for 440 GiB
    return relabel(check_labels(y, "labels", n_samples=n_eval))[0]


def _select_epochs(rec: Recordings, epochs: Any) -> np.ndarray:
    """Indices of the chosen epochs in ``rec.epochs``; a missing epoch is a ValueError naming it."""
    if epochs is None:
        return np.arange(rec.epochs.size)
    idx = np.array([rec.epoch_index(int(e)) for e in np.atleast_1d(epochs)], dtype=np.int64)
    if idx.size == 0 or np.any(np.diff(idx) <= 0):
        raise ValueError(f"epochs: expected increasing recorded epochs, got {list(epochs)}")
    return idx


# -------------------------------------------------------------------------------- the plane
def _value_range(acts: np.ndarray, value_range: Any) -> tuple[float, float] | None:
    if value_range is None:
        return None
    if isinstance(value_range, str):
        lo, hi = float(acts.min()), float(acts.max())
        return (lo, hi) if hi > lo else None
    lo, hi = value_range
    return float(lo), float(hi)


def _check_value_range(value_range: Any) -> Any:
    if value_range is None or value_range == "layer":
        return value_range
    if isinstance(value_range, str):
        raise ValueError(f"value_range: expected 'layer', None or (low, high), got {value_range!r}")
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"value_range: expected 'layer', None or (low, high), got {value_range!r}"
        ) from exc
    if not hi > lo:
        raise ValueError(f"value_range: expected low < high, got ({lo}, {hi})")
    return lo, hi


def _noise_per_layer(noise_variance: Any, n_layers: int) -> list[float]:
    if noise_variance is None:
        raise ValueError(
            "noise_variance: estimator='kde' needs the variance of the noise added to each layer "
            "(an MLP's noise_variance, i.e. noise_std**2)"
        )
    values = (
        [noise_variance] * n_layers
        if isinstance(noise_variance, numbers.Real)
        else list(noise_variance)
    )
    if len(values) != n_layers:
        raise ValueError(
            f"noise_variance: expected one value or {n_layers} (one per analysed layer), "
            f"got {len(values)}"
        )
    return [float(check_scalar(v, "noise_variance", low=0.0, low_inclusive=False)) for v in values]


def information_plane_points(
    recordings: Any,
    *,
    estimator: str = "binning",
    n_bins: int = 30,
    value_range: Any = "layer",
    noise_variance: Any = None,
    kde_bound: str = "upper",
    labels: Any = None,
    layers: Sequence[int | str] | None = None,
    epochs: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""(I(X;T), I(T;Y)) in nats of every selected layer at every selected epoch.

    Parameters
    ----------
    recordings : Recordings or path of a run folder
        See :meth:`~structlearn.recordings.Recordings.from_arrays` for plain arrays.
    estimator : {"binning", "kde"}
        ``"binning"``: ``n_bins`` equal-width bins per unit over ``value_range``, plug-in
        entropies of binned rows, :math:`I(X;T) = H(T)` (Shwartz-Ziv & Tishby).
        ``"kde"``: Kolchinsky--Tracey estimate for :math:`T = h(X) + N(0, \sigma^2 I)`, the
        ``kde_bound`` (KL ``"upper"`` or Bhattacharyya ``"lower"``) one (Saxe et al.); costs
        :math:`O(n^2)` per snapshot, so select ``epochs`` for large evaluation sets.
    n_bins : int
    value_range : "layer", None or (low, high)
        Bins of a layer span: ``"layer"`` its min and max over the selected epochs (one grid per
        layer through training); ``None`` each snapshot's own range; a pair: that range (the
        paper: ``(-1, 1)`` for tanh layers).
    noise_variance : float or sequence of float
        :math:`\sigma^2` for ``"kde"`` (one per selected layer, or one for all).
    kde_bound : {"upper", "lower"}
    labels : array-like of int (n_inputs,), optional
        Overrides the recordings' labels.
    layers : sequence of int or str, optional
        Layers to analyse (default all).
    epochs : sequence of int, optional
        Logged epochs to analyse (default all).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        I(X;T) and I(T;Y), each of shape (n_layers, n_epochs), in nats.
    """
    rec = _as_recordings(recordings)
    chosen = _select_layers(rec, layers)
    y = _check_recordings(rec, chosen, labels)
    idx = _select_epochs(rec, epochs)
    plan = _check_plan(estimator, n_bins, value_range, noise_variance, kde_bound, len(chosen))
    return _points(rec, chosen, idx, y, plan)[:2]


def _check_plan(estimator, n_bins, value_range, noise_variance, kde_bound, n_layers) -> dict:
    check_option(estimator, "estimator", ESTIMATORS)
    check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=2)
    plan = {
        "estimator": estimator,
        "n_bins": int(n_bins),
        "value_range": _check_value_range(value_range),
    }
    if estimator == "kde":
        plan["noise_variance"] = _noise_per_layer(noise_variance, n_layers)
        plan["kde_bound"] = check_option(kde_bound, "kde_bound", ("upper", "lower"))
    return plan


def _points(
    rec: Recordings,
    layers: list[int],
    idx: np.ndarray,
    y: np.ndarray,
    plan: dict,
    joint: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list]:
    """The plane, plus the bin range used per layer (for the IB comparison).

    With ``joint`` (binning only), each snapshot's binned encoder is evaluated exactly under
    p(x, y) instead of the empirical labels."""
    ixt = np.empty((len(layers), idx.size))
    ity = np.empty_like(ixt)
    ranges = []
    for row, layer in enumerate(layers):
        acts = rec.activations[layer][idx]
        if plan["estimator"] == "binning":
            vr = _value_range(acts, plan["value_range"])
            ranges.append(vr)
            if joint is None:
                ixt[row], ity[row] = information_plane_binning_batch(acts, y, plan["n_bins"], vr)
            else:
                for col, snap in enumerate(acts):
                    pt = _binned_point_under_joint(
                        snap.astype(np.float64), plan["n_bins"], vr, joint
                    )
                    ixt[row, col], ity[row, col] = pt
        else:
            var = plan["noise_variance"][row]
            for col, snap in enumerate(acts):
                b = kde_mi_bounds(snap.astype(np.float64), y, var)
                ixt[row, col] = b[f"I_XT_{plan['kde_bound']}_nats"]
                ity[row, col] = b[f"I_TY_{plan['kde_bound']}_nats"]
            ranges.append(_value_range(acts, plan["value_range"]))
    return ixt, ity, ranges


# ------------------------------------------------------------------------------ SNR phases
def check_epochs(epochs: Any, name: str = "epochs") -> np.ndarray:
    """Epoch numbers as int64 (n,): finite, whole, non-negative and increasing, else a
    ``ValueError`` naming ``name`` (a NaN epoch was cast to an integer with only a warning)."""
    raw = check_array(epochs, name, ndim=1, dtype=None)
    if not np.all(np.mod(raw, 1) == 0) or (raw < 0).any():
        raise ValueError(f"{name}: expected whole, non-negative epoch numbers, got {raw.tolist()}")
    ep = raw.astype(np.int64)
    if (np.diff(ep) <= 0).any():
        raise ValueError(f"{name}: expected increasing epochs, got {ep.tolist()}")
    return ep


def detect_phase_transition(epochs: Any, snr: Any, *, min_drop: float = 0.5) -> int | None:
    r"""Epoch where the gradient SNR falls from the fitting to the diffusion phase, or None.

    Rule: with :math:`s_i = \log_{10}\mathrm{SNR}_i` over the logged epochs (in order), choose the
    split :math:`k` (at least 2 records on each side) minimising
    :math:`\sum_{i<k}(s_i - \bar s_{<k})^2 + \sum_{i\ge k}(s_i - \bar s_{\ge k})^2` (one change
    in level, least squares); report ``epochs[k]`` when :math:`\bar s_{<k} - \bar s_{\ge k}
    \ge` ``min_drop`` decades, else None. On log-spaced epochs the fit is in log time, as the
    phases are drawn in the paper.

    Parameters
    ----------
    epochs : array-like of int, shape (n_records,)
    snr : array-like, shape (n_records,)
        Positive, finite :math:`\|\bar g\| / \|\mathrm{std}(g)\|`.
    min_drop : float
        Decades the level must fall by (0.5: about 3x).

    Returns
    -------
    int or None

    Examples
    --------
    >>> epochs = np.arange(10)
    >>> detect_phase_transition(epochs, [50, 40, 60, 45, 55, 0.5, 0.4, 0.6, 0.5, 0.45])
    5
    >>> detect_phase_transition(epochs, np.full(10, 3.0)) is None
    True
    """
    ep = check_epochs(epochs)
    s = check_array(snr, "snr", ndim=1)
    if s.shape != ep.shape:
        raise ValueError(f"snr: expected one value per epoch ({ep.size}), got {s.size}")
    if (s <= 0).any():
        raise ValueError("snr: expected positive values (a ratio of norms)")
    check_scalar(min_drop, "min_drop", low=0.0)
    x = np.log10(s)
    n = x.size
    if n < 4:
        return None
    k = np.arange(2, n - 1)
    c1, c2 = np.cumsum(x), np.cumsum(x * x)
    sse_left = c2[k - 1] - c1[k - 1] ** 2 / k
    right_sum, right_sq = c1[-1] - c1[k - 1], c2[-1] - c2[k - 1]
    sse_right = right_sq - right_sum**2 / (n - k)
    best = int(k[np.argmin(sse_left + sse_right)])
    drop = x[:best].mean() - x[best:].mean()
    return int(ep[best]) if drop >= min_drop else None


def _snr_transitions(rec: Recordings, layers: list[int], min_drop: float) -> tuple:
    """SNR (n_gradient_epochs, n_layers), transitions per layer and overall, and a status line."""
    ep = rec.gradient_epochs
    if ep.size == 0:
        status = "not measured: no gradient statistics were recorded (record_gradients=False)"
        return ep, np.zeros((0, len(layers))), [None] * len(layers), None, status
    if rec.gradient_mean.shape[1] != rec.n_layers:
        raise ValueError(
            f"recordings: gradient statistics have {rec.gradient_mean.shape[1]} columns but the "
            f"recordings hold {rec.n_layers} layers; expected one per layer"
        )
    snr = rec.gradient_snr()[:, layers]
    if not np.isfinite(snr).all() or (snr <= 0).any():
        status = (
            "not measured: the gradient standard deviation or mean is 0 at some epochs (full-batch "
            "training has one minibatch per epoch), so the SNR is infinite or zero there"
        )
        warnings.warn(
            f"recordings: SNR phases {status}; train with minibatches to see the phases",
            UserWarning,
            stacklevel=3,
        )
        return ep, snr, [None] * len(layers), None, status
    per_layer = [
        detect_phase_transition(ep, snr[:, j], min_drop=min_drop) for j in range(len(layers))
    ]
    overall = detect_phase_transition(ep, 10 ** np.log10(snr).mean(axis=1), min_drop=min_drop)
    return ep, snr, per_layer, overall, "measured"


# ------------------------------------------------------------------------------ compression
def compression(i_xt: Any, epochs: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Per layer, the epoch of the peak of I(X;T) and its drop from the peak to the last epoch.

    :math:`c_l = \max_e I_l(X;T)(e) - I_l(X;T)(e_{last}) \ge 0` (nats); 0 when the peak is last.

    Parameters
    ----------
    i_xt : array-like, shape (n_layers, n_epochs)
    epochs : array-like of int, shape (n_epochs,)

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Peak epochs (int, shape (n_layers,)) and drops (nats, shape (n_layers,)).

    Examples
    --------
    >>> peak, drop = compression([[1.0, 3.0, 2.5], [1.0, 2.0, 3.0]], [0, 10, 100])
    >>> peak.tolist(), drop.tolist()
    ([10, 100], [0.5, 0.0])
    """
    v = check_array(i_xt, "i_xt", ndim=2)
    ep = check_epochs(epochs)
    if v.shape[1] != ep.size:
        raise ValueError(f"epochs: expected {v.shape[1]} epochs (columns of i_xt), got {ep.size}")
    peak = v.argmax(axis=1)
    return ep[peak], v.max(axis=1) - v[:, -1]


def largest_drop(i_xt: Any) -> np.ndarray:
    r"""Per layer, the largest fall below the running maximum (nats), shape (n_layers,).

    :math:`\max_t (\max_{s \le t} I_s - I_t)`: compression that may be undone later (the
    peak-to-last drop of :func:`compression` misses it).

    >>> largest_drop([[1.0, 3.0, 2.0, 3.5], [1.0, 2.0, 3.0, 3.0]]).tolist()
    [1.0, 0.0]
    """
    v = check_array(i_xt, "i_xt", ndim=2)
    return (np.maximum.accumulate(v, axis=1) - v).max(axis=1)


def end_of_fitting(epochs: Any, i_ty: Any, fraction: float = 0.9) -> int:
    """First recorded epoch at which ``i_ty`` (one layer, shape (n_epochs,)) reaches ``fraction``
    of its maximum: the end of the fitting phase.

    >>> end_of_fitting([0, 10, 100, 1000], [0.0, 0.3, 0.65, 0.69], 0.9)
    100
    """
    ep = check_array(epochs, "epochs", ndim=1, dtype=np.int64)
    v = check_array(i_ty, "i_ty", ndim=1)
    if v.size != ep.size:
        raise ValueError(f"i_ty: expected one value per epoch ({ep.size}), got {v.size}")
    check_scalar(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    return int(ep[np.flatnonzero(v >= fraction * v.max())[0]])


# ------------------------------------------------------------------------------ the IB bound
def ib_bound_at(curve: IBCurve, i_xt: Any) -> np.ndarray:
    r"""The IB bound :math:`\max I(T;Y)` at given :math:`I(X;T)` (nats), from a computed curve.

    The curve's points, sorted by :math:`I(X;T)` with :math:`I(T;Y)` made non-decreasing (the
    bound is), are joined by straight lines from :math:`(0, 0)`; beyond the last point the bound
    is :math:`I(X;Y)` (no encoder exceeds it; the curve reaches it at large :math:`\beta`).
    The true curve is concave, so between points these chords lie at most slightly below it:
    choose ``betas`` densely.

    Examples
    --------
    >>> p = np.array([[0.25, 0.0], [0.0, 0.25], [0.25, 0.0], [0.0, 0.25]])
    >>> c = ib_curve(p, [0.1, 100.0])
    >>> ib_bound_at(c, [0.0, 2.0]).round(4).tolist()
    [0.0, 0.6931]
    """
    order = np.argsort(curve.I_XT, kind="stable")
    xs = np.concatenate([[0.0], curve.I_XT[order]])
    ys = np.maximum.accumulate(np.concatenate([[0.0], curve.I_TY[order]]))
    return np.interp(np.asarray(i_xt, dtype=np.float64), xs, ys, right=curve.I_XY)


def _curve_upper(curve: IBCurve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The curve's points sorted by I(X;T) from (0, 0), I(T;Y) made non-decreasing, with betas."""
    order = np.argsort(curve.I_XT, kind="stable")
    xs = np.concatenate([[0.0], curve.I_XT[order]])
    ys = np.maximum.accumulate(np.concatenate([[0.0], curve.I_TY[order]]))
    betas = np.concatenate([[curve.betas.min()], curve.betas[order]])
    return xs, ys, betas


def ib_min_i_xt(curve: IBCurve, i_ty: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""The least I(X;T) on the IB curve that reaches each ``i_ty``, and the beta there.

    Linear between the curve's points; a target above the computed curve's top (at most
    :math:`I(X;Y)`) gets the curve's last point, so the I(X;T) returned is then a lower bound.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Least I(X;T) (nats) and the beta of the first curve point reaching the target, shapes
        like ``i_ty``.

    Examples
    --------
    >>> c = IBCurve(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0.5, 0.6]),
    ...             np.array([2, 3]), np.array([1, 1]), 0.7, 3.0)
    >>> ib_min_i_xt(c, [0.25, 0.55, 0.69])[0].tolist()
    [0.5, 1.5, 2.0]
    """
    xs, ys, betas = _curve_upper(curve)
    target = np.atleast_1d(np.asarray(i_ty, dtype=np.float64))
    k = np.clip(np.searchsorted(ys, target, side="left"), 1, ys.size - 1)
    rise = ys[k] - ys[k - 1]
    frac = np.where(rise > 0, (target - ys[k - 1]) / np.where(rise > 0, rise, 1.0), 1.0)
    x = np.where(
        target >= ys[-1], xs[-1], xs[k - 1] + np.clip(frac, 0.0, 1.0) * (xs[k] - xs[k - 1])
    )
    return x, np.where(target >= ys[-1], betas[-1], betas[k])


def ib_excess(curve: IBCurve, i_xt: Any, i_ty: Any) -> np.ndarray:
    r"""Horizontal distance to the IB curve: the I(X;T) an encoder spends beyond the least I(X;T)
    any encoder needs for its I(T;Y) (nats; 0 on the curve).

    Unlike the vertical gap below the bound, this does not vanish for a sufficient encoder that
    keeps everything: the identity T = X scores :math:`H(X) - \min\{I(X;T): I(T;Y) = I(X;Y)\}`.

    >>> c = IBCurve(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0.5, 0.6]),
    ...             np.array([2, 3]), np.array([1, 1]), 0.7, 3.0)
    >>> ib_excess(c, [3.0, 1.5], [0.69, 0.55]).tolist()
    [1.0, 0.0]
    """
    return np.asarray(i_xt, dtype=np.float64) - ib_min_i_xt(curve, i_ty)[0]


def ib_lagrangian_gap(curve: IBCurve, i_xt: Any, i_ty: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""The IB Lagrangian of an encoder above the curve's, at the beta that suits it best (nats).

    :math:`\Delta\mathcal L(\beta) = [I(X;T) - \beta I(T;Y)] - \min_{p(t|x)}[I(X;T) - \beta
    I(T;Y)]`, the minimum read from the curve's point at each of its betas; returned is
    :math:`\min_\beta \Delta\mathcal L` and the matched beta. 0 (up to the solver) exactly for an
    encoder on the curve; an encoder the solver beats by nothing is >= 0.

    >>> c = IBCurve(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0.5, 0.6]),
    ...             np.array([2, 3]), np.array([1, 1]), 0.7, 3.0)
    >>> gap, beta = ib_lagrangian_gap(c, [2.0, 3.0], [0.6, 0.6])
    >>> gap.round(6).tolist(), beta.tolist()
    ([0.0, 1.0], [2.0, 2.0])
    """
    x = np.atleast_1d(np.asarray(i_xt, dtype=np.float64))[:, None]
    y = np.atleast_1d(np.asarray(i_ty, dtype=np.float64))[:, None]
    b = curve.betas[None, :]
    d = (x - b * y) - (curve.I_XT - b * curve.I_TY)
    k = d.argmin(axis=1)
    return d[np.arange(d.shape[0]), k], curve.betas[k]


def binned_encoder(act: Any, n_bins: int, value_range: Any) -> np.ndarray:
    """The deterministic encoder p(t|x) of a binned layer, one-hot, shape (n_inputs, n_states).

    ``act`` (n_inputs, n_units); each distinct row of bin indices is one state t.

    >>> binned_encoder([[0.1], [0.9], [0.12]], 2, (0.0, 1.0)).tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    """
    a = check_array(act, "act", ndim=2)
    t = row_keys(bin_indices(a, n_bins, value_range))
    return np.eye(int(t.max()) + 1)[t]


def _binned_point_under_joint(
    act: np.ndarray, n_bins: int, vr: tuple[float, float] | None, p: np.ndarray
) -> tuple[float, float]:
    """Exact (I(X;T), I(T;Y)) under p(x, y) of the deterministic binned encoder t = bins(h(x))."""
    t = row_keys(bin_indices(act, n_bins, vr))
    p_ty = np.column_stack([np.bincount(t, weights=col) for col in p.T])
    return float(entropy_of_distribution(p_ty.sum(axis=1))), mutual_information_of_joint(p_ty)


# ------------------------------------------------------------------------------ the result
def _end_labels(
    i_xt: np.ndarray,
    i_ty: np.ndarray,
    names: Sequence[str],
    tol: tuple[float, float] = (0.08, 0.04),
) -> list[tuple[tuple[float, float], list[str]]]:
    """Last points of the layers' paths (layers, epochs) with their names. Layers that end closer
    than ``tol`` (fractions of the plotted x and y spans: about a label's width and height) to a
    label already placed join it, so that names do not overprint."""
    span = np.array([np.ptp(i_xt), np.ptp(i_ty)])
    span[span == 0] = 1.0
    labels: list[tuple[tuple[float, float], list[str]]] = []
    for name, x, y in zip(names, i_xt[:, -1], i_ty[:, -1]):
        for (x0, y0), group in labels:
            if abs(x - x0) <= tol[0] * span[0] and abs(y - y0) <= tol[1] * span[1]:
                group.append(name)
                break
        else:
            labels.append(((float(x), float(y)), [name]))
    return labels


@dataclass
class LayerPlane(Summarised):
    """One layer's scalar summaries of an :class:`InformationPlane` (``summary()`` gives them)."""

    name: str
    peak_I_XT_nats: float
    final_I_XT_nats: float
    final_I_TY_nats: float
    peak_epoch: int
    compression_nats: float
    largest_drop_nats: float
    fit_end_epoch: int
    transition_epoch: int | None
    at_ceiling: bool = False
    share_after_peak: float = 0.0
    ib_I_XT_nats: float | None = None
    ib_I_TY_nats: float | None = None
    ib_gap_nats: float | None = None
    ib_excess_nats: float | None = None
    ib_lagrangian_gap_nats: float | None = None
    ib_beta: float | None = None
    ib_self_consistency: float | None = None
    ib_beta_horizontal: float | None = None
    ib_self_consistency_horizontal: float | None = None

    scalars: ClassVar[dict[str, Scalar]] = {
        "peak_I_XT_nats": Scalar("nats", doc="largest I(X;T) over the recorded epochs"),
        "final_I_XT_nats": Scalar("nats", doc="I(X;T) at the last recorded epoch"),
        "final_I_TY_nats": Scalar("nats", True, doc="I(T;Y) at the last recorded epoch"),
        "peak_epoch": Scalar("epoch", doc="epoch of the largest I(X;T)"),
        "compression_nats": Scalar(
            "nats", chance=0.0, doc="drop of I(X;T) from its peak to the last epoch"
        ),
        "largest_drop_nats": Scalar(
            "nats", chance=0.0, doc="largest fall of I(X;T) below its running peak"
        ),
        "fit_end_epoch": Scalar("epoch", doc="first epoch with I(T;Y) >= fit_fraction of its max"),
        "transition_epoch": Scalar("epoch", doc="this layer's gradient-SNR drop (None: none)"),
        "ib_I_XT_nats": Scalar("nats", doc="I(X;T) of the binned layer, exact under p_xy"),
        "ib_I_TY_nats": Scalar("nats", True, doc="I(T;Y) of the binned layer, exact under p_xy"),
        "at_ceiling": Scalar(
            "bool", doc="I(X;T) within ceiling_margin of log n at every epoch: cannot show a drop"
        ),
        "share_after_peak": Scalar(
            "fraction", doc="(last epoch - peak epoch) / (last - first): training after the peak"
        ),
        "ib_gap_nats": Scalar(
            "nats", False, doc="IB bound at the layer's I(X;T) minus its I(T;Y) (vertical)"
        ),
        "ib_excess_nats": Scalar(
            "nats", False, chance=0.0, doc="I(X;T) beyond the curve's least for its I(T;Y)"
        ),
        "ib_lagrangian_gap_nats": Scalar(
            "nats", False, chance=0.0, doc="IB Lagrangian above the curve's, at the matched beta"
        ),
        "ib_beta": Scalar("", doc="the beta at which the Lagrangian gap is least"),
        "ib_self_consistency": Scalar(
            "TV", False, doc="distance of p(t|x) from one IB update at ib_beta (0: fixed point)"
        ),
        "ib_beta_horizontal": Scalar("", doc="beta of the curve point with the layer's I(T;Y)"),
        "ib_self_consistency_horizontal": Scalar("TV", False, doc="the same at ib_beta_horizontal"),
    }


@dataclass
class InformationPlane(AnalysisResult, Summarised):
    """The information plane of a run, its gradient phases, compression and the IB bound.

    Attributes
    ----------
    layer_names : list of str
    epochs : ndarray (n_epochs,)
    I_XT_nats, I_TY_nats : ndarray (n_layers, n_epochs)
    H_X_nats : float
        :math:`\\log n_{inputs}` (distinct, equally likely inputs): the ceiling of I(X;T).
    H_Y_nats : float
        Entropy of the labels (of Y under ``p_xy`` when the plane is evaluated under it).
    estimator : str
    estimator_options : dict
        ``n_bins``, ``value_range``, ``noise_variance`` and ``kde_bound`` (kde), and
        ``I_TY_under``: ``"labels"`` (the recorded labels) or ``"p_xy"``.
    gradient_epochs : ndarray (n_gradient_epochs,)
    gradient_snr : ndarray (n_gradient_epochs, n_layers)
    transition_epoch : int or None
        Fitting -> diffusion transition of the SNR averaged (geometrically) over layers.
    transition_epoch_per_layer : list of (int or None)
    snr_rule : str
        The detection rule, in words.
    snr_status : str
        ``"measured"``, or why the phases were not (no gradient statistics; full batch).
    peak_epoch : ndarray (n_layers,)
        Epoch of each layer's largest I(X;T).
    compression_nats : ndarray (n_layers,)
        Drop of I(X;T) from its peak to the last epoch.
    compresses : list of bool
        ``compression_nats > compression_tol``.
    compression_tol : float
    ib : IBCurve or None
        The IB curve of ``p_xy`` (when given).
    ib_points_nats : ndarray (n_layers, 2) or None
        Each layer's binned encoder at the last epoch, (I(X;T), I(T;Y)) exactly under ``p_xy``.
    ib_gap_nats : ndarray (n_layers,) or None
        The bound at the layer's I(X;T) minus its I(T;Y): the distance below the bound.
    ib_excess_nats, ib_lagrangian_gap_nats, ib_beta : ndarray (n_layers,) or None
        :func:`ib_excess` and :func:`ib_lagrangian_gap` (with its matched beta) of each layer's
        point under ``p_xy``.
    ib_self_consistency : list of (float or None) or None
        :func:`~structlearn.estimators.ib_self_consistency` of each binned layer's encoder at
        ``ib_beta`` (None: more than ``max_encoder_states`` states); ``ib_beta_horizontal`` and
        ``ib_self_consistency_horizontal``: the same at the beta of the curve point with the
        layer's I(T;Y).
    identity_ib : dict or None
        The identity encoder T = X (a control): ``excess_nats``, ``lagrangian_gap_nats``.
    at_ceiling : list of bool
        I(X;T) within ``ceiling_margin`` nats of ``H_X_nats`` at every epoch: the estimator
        resolves every input there, so the layer cannot register a drop larger than the margin.
    share_after_peak : ndarray (n_layers,)
        (last epoch - peak epoch) / (last epoch - first epoch): the share of training after the
        peak of I(X;T) (Shwartz-Ziv & Tishby: most epochs are spent compressing).
    largest_drop_nats : ndarray (n_layers,)
        :func:`largest_drop`.
    fit_end_epoch : list of int
        :func:`end_of_fitting` of each layer's I(T;Y).
    I_TY_null_nats : ndarray (n_layers, n_epochs) or None
        Binned I(T;Y) with the labels shuffled (mean over ``null_shuffles`` seeded permutations):
        the value the estimator gives when T carries no information about Y. For a layer whose
        binned states are all distinct it equals H(Y): binning then cannot tell fitting from
        memorising. Binning under the recorded labels only.
    """

    layer_names: list[str]
    epochs: np.ndarray
    I_XT_nats: np.ndarray
    I_TY_nats: np.ndarray
    H_X_nats: float
    H_Y_nats: float
    estimator: str
    estimator_options: dict[str, Any]
    gradient_epochs: np.ndarray
    gradient_snr: np.ndarray
    transition_epoch: int | None
    transition_epoch_per_layer: list[int | None]
    snr_rule: str
    snr_status: str
    peak_epoch: np.ndarray
    compression_nats: np.ndarray
    compresses: list[bool]
    compression_tol: float
    ib: IBCurve | None = None
    ib_points_nats: np.ndarray | None = None
    ib_gap_nats: np.ndarray | None = None
    I_TY_null_nats: np.ndarray | None = None
    largest_drop_nats: np.ndarray | None = None
    fit_end_epoch: list[int] | None = None
    at_ceiling: list[bool] | None = None
    ceiling_margin: float | None = None
    share_after_peak: np.ndarray | None = None
    ib_excess_nats: np.ndarray | None = None
    ib_lagrangian_gap_nats: np.ndarray | None = None
    ib_beta: np.ndarray | None = None
    ib_self_consistency: list[float | None] | None = None
    ib_beta_horizontal: np.ndarray | None = None
    ib_self_consistency_horizontal: list[float | None] | None = None
    identity_ib: dict[str, float] | None = None

    scalars: ClassVar[dict[str, Scalar]] = {
        "H_X_nats": Scalar("nats", doc="log n_inputs: the ceiling of I(X;T) on this sample"),
        "H_Y_nats": Scalar("nats", doc="entropy of the labels: the ceiling of I(T;Y)"),
        "transition_epoch": Scalar(
            "epoch", doc="gradient-SNR drop of the geometric mean over layers (None: none found)"
        ),
        "I_XY_nats": Scalar("nats", doc="I(X;Y) under p_xy: the top of the IB curve"),
        "identity_ib_gap_nats": Scalar(
            "nats", doc="the identity encoder T = X's vertical gap below the IB bound (a control)"
        ),
        "identity_ib_excess_nats": Scalar("nats", doc="the identity encoder's horizontal excess"),
        "identity_ib_lagrangian_gap_nats": Scalar(
            "nats", doc="the identity encoder's Lagrangian gap at its matched beta"
        ),
    }

    @property
    def identity_ib_excess_nats(self) -> float | None:
        return None if self.identity_ib is None else self.identity_ib["excess_nats"]

    @property
    def identity_ib_lagrangian_gap_nats(self) -> float | None:
        return None if self.identity_ib is None else self.identity_ib["lagrangian_gap_nats"]

    @property
    def I_XY_nats(self) -> float | None:
        return None if self.ib is None else float(self.ib.I_XY)

    @property
    def identity_ib_gap_nats(self) -> float | None:
        """Bound at I(X;T) = H(X) minus I(X;Y): what the identity encoder scores (0 up to the
        curve's resolution: the vertical gap cannot tell a sufficient layer from no encoding)."""
        if self.ib is None:
            return None
        return float(ib_bound_at(self.ib, [self.H_X_nats])[0] - self.ib.I_XY)

    def layers(self) -> list[LayerPlane]:
        """Per-layer scalar summaries, in the order of :attr:`layer_names`."""
        drops = largest_drop(self.I_XT_nats) if self.largest_drop_nats is None else None
        drops = self.largest_drop_nats if drops is None else drops
        fits = self.fit_end_epoch or [end_of_fitting(self.epochs, row) for row in self.I_TY_nats]
        optional = {
            "at_ceiling": self.at_ceiling,
            "share_after_peak": self.share_after_peak,
            "ib_gap_nats": self.ib_gap_nats,
            "ib_excess_nats": self.ib_excess_nats,
            "ib_lagrangian_gap_nats": self.ib_lagrangian_gap_nats,
            "ib_beta": self.ib_beta,
            "ib_self_consistency": self.ib_self_consistency,
            "ib_beta_horizontal": self.ib_beta_horizontal,
            "ib_self_consistency_horizontal": self.ib_self_consistency_horizontal,
        }
        if self.ib_points_nats is not None:
            optional["ib_I_XT_nats"] = self.ib_points_nats[:, 0]
            optional["ib_I_TY_nats"] = self.ib_points_nats[:, 1]
        out = []
        for i, name in enumerate(self.layer_names):
            extra = {k: v[i] for k, v in optional.items() if v is not None}
            out.append(
                LayerPlane(
                    name=name,
                    peak_I_XT_nats=float(self.I_XT_nats[i].max()),
                    final_I_XT_nats=float(self.I_XT_nats[i, -1]),
                    final_I_TY_nats=float(self.I_TY_nats[i, -1]),
                    peak_epoch=int(self.peak_epoch[i]),
                    compression_nats=float(self.compression_nats[i]),
                    largest_drop_nats=float(drops[i]),
                    fit_end_epoch=int(fits[i]),
                    transition_epoch=self.transition_epoch_per_layer[i],
                    **extra,
                )
            )
        return out

    def layer_summaries(self) -> dict[str, dict[str, Any]]:
        """``{layer name: LayerPlane.summary()}``: what studies store per layer."""
        return {layer.name: layer.summary() for layer in self.layers()}

    def curves(self) -> dict[str, Any]:
        """The plane and the SNR per recorded epoch, JSON-ready (nats; log10 of the SNR)."""
        with np.errstate(divide="ignore"):
            log_snr = np.log10(self.gradient_snr) if self.gradient_snr.size else self.gradient_snr
        return {
            "epochs": self.epochs.tolist(),
            "I_XT_nats": self.I_XT_nats.round(6).tolist(),
            "I_TY_nats": self.I_TY_nats.round(6).tolist(),
            "gradient_epochs": self.gradient_epochs.tolist(),
            "log10_gradient_snr": (
                log_snr.round(6).tolist() if self.snr_status == "measured" else None
            ),
        }

    def plot(self, ax: Any = None, *, cmap: str = "viridis") -> Any:
        """The information plane: one line per layer, points coloured by epoch, IB bound dashed,
        and each layer's I(T;Y) with shuffled labels (the estimator's floor) dotted."""
        from matplotlib.colors import LogNorm

        ax = new_axes(ax, figsize=(5.5, 4.0))
        norm = LogNorm(vmin=self.epochs.min() + 1, vmax=self.epochs.max() + 1)
        for x, y in zip(self.I_XT_nats, self.I_TY_nats):
            ax.plot(x, y, "-", color="grey", lw=0.6, alpha=0.6, zorder=1)
            sc = ax.scatter(x, y, c=self.epochs + 1, cmap=cmap, norm=norm, s=12, zorder=2)
        if self.I_TY_null_nats is not None:
            for row, (x, y0) in enumerate(zip(self.I_XT_nats, self.I_TY_null_nats)):
                label = "I(T;Y), labels shuffled" if row == 0 else None
                ax.plot(x, y0, ":", color="C3", lw=1, alpha=0.7, zorder=1, label=label)
        for (x_end, y_end), names in _end_labels(self.I_XT_nats, self.I_TY_nats, self.layer_names):
            ax.annotate(
                ", ".join(names),
                (x_end, y_end),
                fontsize="x-small",
                xytext=(3, 3),
                textcoords="offset points",
            )
        if self.ib is not None:
            xs = np.linspace(0.0, self.H_X_nats, 200)
            ax.plot(xs, ib_bound_at(self.ib, xs), "k--", lw=1, label="IB bound")
            ax.plot(*self.ib_points_nats.T, "r*", ms=8, label="final layers under p(x,y)")
        if self.ib is not None or self.I_TY_null_nats is not None:
            ax.legend(frameon=False, fontsize="small", loc="lower right")
        ax.figure.colorbar(sc, ax=ax, label="epoch + 1")
        ax.set_xlabel("I(X;T) [nats]")
        ax.set_ylabel("I(T;Y) [nats]")
        ax.set_title(f"information plane ({self.estimator})", fontsize="small")
        return ax

    def plot_snr(self, ax: Any = None) -> Any:
        """Gradient SNR per layer vs epoch, with the detected transition."""
        ax = new_axes(ax)
        if self.gradient_epochs.size:
            for row, name in enumerate(self.layer_names):
                ax.loglog(self.gradient_epochs + 1, self.gradient_snr[:, row], lw=1, label=name)
        ax.axhline(1.0, color="grey", ls=":", lw=1)
        if self.transition_epoch is not None:
            ax.axvline(
                self.transition_epoch + 1,
                color="C3",
                lw=1.5,
                label=f"transition (epoch {self.transition_epoch})",
            )
        ax.set_xlabel("epoch + 1")
        ax.set_ylabel("gradient SNR  ||mean|| / ||std||")
        ax.legend(frameon=False, fontsize="x-small")
        return ax

    def figure(self) -> Any:
        """The plane and the SNR side by side."""
        import matplotlib.pyplot as plt

        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.0), constrained_layout=True)
        self.plot(a)
        self.plot_snr(b)
        return fig


def analyze_information_plane(
    recordings: Any,
    *,
    estimator: str = "binning",
    n_bins: int = 30,
    value_range: Any = "layer",
    noise_variance: Any = None,
    kde_bound: str = "upper",
    labels: Any = None,
    layers: Sequence[int | str] | None = None,
    epochs: Any = None,
    p_xy: Any = None,
    ib_betas: Any = None,
    compression_tol: float = 0.1,
    min_snr_drop: float = 0.5,
    fit_fraction: float = 0.9,
    ceiling_margin: float | None = None,
    max_encoder_states: int = 1024,
    null_shuffles: int = 1,
    random_state: int | np.random.Generator | None = 0,
) -> InformationPlane:
    r"""The information plane of a run, with SNR phases, compression and the IB bound.

    Parameters
    ----------
    recordings : Recordings or path of a run folder
        From :func:`structlearn.train.train` (or :meth:`~structlearn.recordings.Recordings.from_arrays`).
    estimator, n_bins, value_range, noise_variance, kde_bound, labels, layers, epochs :
        See :func:`information_plane_points`.
    p_xy : array-like (n_inputs, n_classes), optional
        Joint distribution of the evaluation inputs (rows in the recordings' order) and labels,
        for the IB bound; with ``estimator="binning"`` the whole plane is then evaluated under
        it (each snapshot's binned encoder, exactly), so that plane and bound are comparable
        (with the data's own deterministic labels this changes nothing). For the 12-bit task use
        :func:`structlearn.data.tishby_rule.tishby_joint` with a temperature > 0: with its
        deterministic labels the bound is the trivial diagonal :math:`\min(I(X;T), H(Y))`. The
        final layers are compared as binned encoders (``n_bins``, ``value_range``), whose
        (I(X;T), I(T;Y)) under ``p_xy`` are exact, whatever ``estimator`` drew the plane.
    ib_betas : array-like or IBCurve, optional
        Trade-offs for :func:`~structlearn.estimators.ib_curve` (default ``DEFAULT_BETAS``, 50
        values from 0.5 to 1000), or a curve of the same ``p_xy`` computed before (used as it is).
    compression_tol : float
        Drop of I(X;T) after its peak (nats) above which a layer is said to compress.
    min_snr_drop : float
        Decades the SNR must fall by (:func:`detect_phase_transition`).
    fit_fraction : float in (0, 1]
        A layer's fitting ends at the first epoch its I(T;Y) reaches this share of its maximum
        (:func:`end_of_fitting`).
    ceiling_margin : float or None
        A layer is at the ceiling when its I(X;T) stays within this many nats of log n_inputs at
        every epoch (default ``compression_tol``: such a layer cannot register a larger drop).
    max_encoder_states : int
        Self-consistency (``p_xy`` given) is evaluated for binned layers with at most this many
        states (the update is an (n_inputs, n_states) array); None for the others.
    null_shuffles : int
        Label permutations for ``I_TY_null_nats`` (binning under the recorded labels; 0: none).
    random_state : int, Generator or None
        Seeds the permutations.

    Returns
    -------
    InformationPlane

    Examples
    --------
    >>> acts = np.tile(np.eye(4)[None], (3, 1, 1))                 # a one-hot layer, 3 epochs
    >>> res = analyze_information_plane(Recordings.from_arrays([acts], [0, 0, 1, 1]))
    >>> round(float(res.I_XT_nats[0, -1]), 4), round(float(res.I_TY_nats[0, -1]), 4)
    (1.3863, 0.6931)
    """
    rec = _as_recordings(recordings)
    chosen = _select_layers(rec, layers)
    y = _check_recordings(rec, chosen, labels)
    idx = _select_epochs(rec, epochs)
    plan = _check_plan(estimator, n_bins, value_range, noise_variance, kde_bound, len(chosen))
    tol = float(check_scalar(compression_tol, "compression_tol", low=0.0))
    check_scalar(min_snr_drop, "min_snr_drop", low=0.0)
    check_scalar(fit_fraction, "fit_fraction", low=0.0, high=1.0, low_inclusive=False)
    margin = (
        tol
        if ceiling_margin is None
        else float(check_scalar(ceiling_margin, "ceiling_margin", low=0.0))
    )
    check_scalar(max_encoder_states, "max_encoder_states", kind=(int, np.integer), low=1)
    joint = None if p_xy is None else _check_p_xy(p_xy, y.size)
    check_scalar(null_shuffles, "null_shuffles", kind=(int, np.integer), low=0)
    ixt, ity, ranges = _points(rec, chosen, idx, y, plan, joint if estimator == "binning" else None)
    null = None
    if estimator == "binning" and joint is None and null_shuffles > 0:
        rng = check_random_state(random_state)
        null = np.mean(
            [_points(rec, chosen, idx, rng.permutation(y), plan)[1] for _ in range(null_shuffles)],
            axis=0,
        )
    ep = rec.epochs[idx]
    g_ep, snr, per_layer, overall, status = _snr_transitions(rec, chosen, float(min_snr_drop))
    peak, drop = compression(ixt, ep)
    ib_fields: dict[str, Any] = {}
    if joint is not None:
        last = [rec.activations[layer][idx[-1]].astype(np.float64) for layer in chosen]
        ib_fields = _ib_fields(joint, ib_betas, last, ranges, plan["n_bins"], max_encoder_states)
    options = {k: v for k, v in plan.items() if k != "estimator"}
    options["I_TY_under"] = "p_xy" if joint is not None and estimator == "binning" else "labels"
    return InformationPlane(
        layer_names=[rec.layer_names[i] for i in chosen],
        epochs=ep,
        I_XT_nats=ixt,
        I_TY_nats=ity,
        H_X_nats=float(np.log(y.size)),
        H_Y_nats=(
            float(entropy_of_distribution(joint.sum(axis=0)))
            if options["I_TY_under"] == "p_xy"
            else discrete_entropy(y)
        ),
        estimator=estimator,
        estimator_options=options,
        gradient_epochs=g_ep,
        gradient_snr=snr,
        transition_epoch=overall,
        transition_epoch_per_layer=per_layer,
        snr_rule=SNR_RULE,
        snr_status=status,
        peak_epoch=peak,
        compression_nats=drop,
        compresses=[bool(d > tol) for d in drop],
        compression_tol=tol,
        I_TY_null_nats=null,
        largest_drop_nats=largest_drop(ixt),
        fit_end_epoch=[end_of_fitting(ep, row, fit_fraction) for row in ity],
        at_ceiling=[bool(row.min() >= np.log(y.size) - margin) for row in ixt],
        ceiling_margin=margin,
        share_after_peak=(ep[-1] - peak) / max(int(ep[-1] - ep[0]), 1),
        **ib_fields,
    )


def _ib_fields(
    joint: np.ndarray,
    betas: Any,
    acts: list[np.ndarray],
    ranges: list,
    n_bins: int,
    max_states: int,
) -> dict[str, Any]:
    """The IB comparison of the binned layers ``acts`` (one snapshot each) under ``joint``."""
    curve = (
        betas
        if isinstance(betas, IBCurve)
        else ib_curve(joint, DEFAULT_BETAS if betas is None else betas)
    )
    points = np.array(
        [
            _binned_point_under_joint(a, n_bins, vr, joint)
            for a, vr in zip(acts, ranges, strict=True)
        ]
    )
    gap, beta = ib_lagrangian_gap(curve, points[:, 0], points[:, 1])
    beta_h = ib_min_i_xt(curve, points[:, 1])[1]
    sc, sc_h = [], []
    for a, vr, b, bh in zip(acts, ranges, beta, beta_h, strict=True):
        enc = binned_encoder(a, n_bins, vr) if _n_states(a, n_bins, vr) <= max_states else None
        sc.append(None if enc is None else ib_self_consistency(joint, enc, float(b)))
        sc_h.append(None if enc is None else ib_self_consistency(joint, enc, float(bh)))
    h_x = float(entropy_of_distribution(joint.sum(axis=1)))
    id_gap, _ = ib_lagrangian_gap(curve, [h_x], [curve.I_XY])
    return {
        "ib": curve,
        "ib_points_nats": points,
        "ib_gap_nats": ib_bound_at(curve, points[:, 0]) - points[:, 1],
        "ib_excess_nats": ib_excess(curve, points[:, 0], points[:, 1]),
        "ib_lagrangian_gap_nats": gap,
        "ib_beta": beta,
        "ib_self_consistency": sc,
        "ib_beta_horizontal": beta_h,
        "ib_self_consistency_horizontal": sc_h,
        "identity_ib": {
            "excess_nats": float(ib_excess(curve, [h_x], [curve.I_XY])[0]),
            "lagrangian_gap_nats": float(id_gap[0]),
        },
    }


def _n_states(act: np.ndarray, n_bins: int, vr: Any) -> int:
    return int(row_keys(bin_indices(act, n_bins, vr)).max()) + 1


def _check_p_xy(p_xy: Any, n_inputs: int) -> np.ndarray:
    p = check_joint(p_xy, "p_xy")
    if p.shape[0] != n_inputs:
        raise ValueError(
            f"p_xy: expected one row per evaluation input ({n_inputs}), got shape {p.shape}"
        )
    return p
