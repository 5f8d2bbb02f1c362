"""Equal-width binning estimators and the binned information plane (nats).

Implements the estimator of Shwartz-Ziv & Tishby (2017), *Opening the black box of deep neural
networks via information* (arXiv:1703.00810), also used by Saxe et al. (2018), *On the information
bottleneck theory of deep learning* (ICLR): each unit's activation is put into one of ``n_bins``
equal-width bins, a layer's state is the whole row of bin indices, and entropies are plug-in
entropies of the row histogram (optionally Miller--Madow corrected).

For a deterministic network evaluated once on each of a finite set of distinct, equally likely
inputs, T = h(X) is a function of X, hence

.. math:: I(X;T) = H(T), \\qquad I(T;Y) = H(T) - H(T \\mid Y).

Rows are turned into integer keys (mixed radix over the bin indices) so one ``np.unique`` does the
counting; a (4096, 10) layer takes well under a millisecond on one core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from structlearn.estimators._common import (
    as_sample_pair,
    as_samples,
    entropy_from_counts,
    row_keys,
)
from structlearn.estimators.discrete import symbol_ids
from structlearn.utils.validation import (
    check_array,
    check_labels,
    check_scalar,
    to_numpy,
)

__all__ = [
    "bin_indices",
    "binning_entropy",
    "binning_mutual_information",
    "information_plane_binning",
    "information_plane_binning_batch",
]


def _check_bins(n_bins: int, value_range: Any, bin_width: float | None) -> tuple | None:
    check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=1)
    if bin_width is not None:
        check_scalar(bin_width, "bin_width", low=0, low_inclusive=False)
    if value_range is None:
        return None
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"value_range: expected a pair (low, high) or None, got {value_range!r}"
        ) from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"value_range: expected finite low < high, got ({lo}, {hi})")
    return lo, hi


def _digitize(
    x: np.ndarray, n_bins: int, value_range: tuple | None, bin_width: float | None
) -> np.ndarray:
    """Bin indices of every entry (private, no validation); see :func:`bin_indices`."""
    if bin_width is not None:
        codes = np.floor(x / bin_width)
        return (codes - codes.min(initial=0.0)).astype(np.int64)
    lo, hi = value_range if value_range is not None else (float(x.min()), float(x.max()))
    if hi <= lo:
        return np.zeros(x.shape, dtype=np.int64)
    scale = max(abs(lo), abs(hi))  # work in units of the range's magnitude: no overflow or 0·inf
    frac = (x / scale - lo / scale) / (hi / scale - lo / scale)
    return np.clip(np.floor(frac * n_bins), 0, n_bins - 1).astype(np.int64)


def bin_indices(
    x: Any,
    n_bins: int = 30,
    value_range: tuple[float, float] | None = None,
    *,
    bin_width: float | None = None,
) -> np.ndarray:
    """Equal-width bin index of every entry of ``x``.

    Parameters
    ----------
    x : array-like, shape (n_samples,) or (n_samples, n_features)
        Values to bin.
    n_bins : int
        Number of equal-width bins spanning ``value_range``.
    value_range : (float, float) or None
        Range covered by the bins; values outside go to the edge bins. ``None``: ``(x.min(),
        x.max())`` over the whole array (all units share the bins, as in the information-plane
        papers).
    bin_width : float or None
        If given, bins of this width anchored at 0 (``floor(x / bin_width)``, the convention of
        Saxe et al.'s code) replace ``n_bins``/``value_range``.

    Returns
    -------
    numpy.ndarray of int64, shape (n_samples, n_features)
        Non-negative bin indices.

    Examples
    --------
    >>> bin_indices([[0.0], [0.49], [0.5], [1.0]], n_bins=2).ravel().tolist()
    [0, 0, 1, 1]
    """
    vr = _check_bins(n_bins, value_range, bin_width)
    return _digitize(as_samples(x, "x"), n_bins, vr, bin_width)


def binning_entropy(
    x: Any,
    n_bins: int = 30,
    value_range: tuple[float, float] | None = None,
    *,
    bin_width: float | None = None,
    miller_madow: bool = False,
) -> float:
    r"""Plug-in entropy (nats) of the binned rows of ``x``: :math:`-\sum_t \hat p(t)\log \hat p(t)`.

    Parameters are those of :func:`bin_indices`; ``miller_madow`` adds :math:`(m-1)/(2n)`.

    Examples
    --------
    >>> x = np.repeat(np.arange(4.0), 25).reshape(-1, 1)   # four equally filled bins
    >>> round(binning_entropy(x, n_bins=4), 6) == round(float(np.log(4)), 6)
    True
    """
    vr = _check_bins(n_bins, value_range, bin_width)
    codes = _digitize(as_samples(x, "x"), n_bins, vr, bin_width)
    return entropy_from_counts(np.bincount(row_keys(codes)), miller_madow=miller_madow)


def _is_label_vector(y: Any) -> bool:
    arr = to_numpy(y)
    return arr.ndim == 1 and (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_)


def binning_mutual_information(
    x: Any,
    y: Any,
    n_bins: int = 30,
    value_range: tuple[float, float] | None = None,
    *,
    bin_width: float | None = None,
    miller_madow: bool = False,
) -> float:
    r""":math:`I(X;Y) = H(X) + H(Y) - H(X,Y)` (nats) from equal-width binning of both variables.

    ``x`` and ``y`` are binned separately (each over its own range, or ``value_range``); an integer
    label vector ``y`` is used as is (its values are the symbols).

    Examples
    --------
    >>> x = np.arange(8.0).reshape(-1, 1)
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> round(binning_mutual_information(x, y, n_bins=2), 6) == round(float(np.log(2)), 6)
    True
    """
    vr = _check_bins(n_bins, value_range, bin_width)
    y_is_labels = _is_label_vector(y)
    xa, ya = as_sample_pair(x, y)
    ix = row_keys(_digitize(xa, n_bins, vr, bin_width))
    iy = symbol_ids(y, "y") if y_is_labels else row_keys(_digitize(ya, n_bins, vr, bin_width))
    joint = row_keys(np.column_stack([ix, iy]))
    h = sum(
        sign * entropy_from_counts(np.bincount(ids), miller_madow=miller_madow)
        for sign, ids in ((1, ix), (1, iy), (-1, joint))
    )
    return max(float(h), 0.0)


def _plane_from_codes(codes: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[float, float]:
    t = row_keys(codes)
    h_t = entropy_from_counts(np.bincount(t))
    h_ty = entropy_from_counts(np.bincount(t * n_classes + labels))
    h_y = entropy_from_counts(np.bincount(labels))
    return h_t, max(h_t + h_y - h_ty, 0.0)


def information_plane_binning(
    activations: Any,
    labels: Any,
    n_bins: int = 30,
    value_range: tuple[float, float] | None = None,
) -> tuple[float, float]:
    r"""The binned information-plane point (I(X;T), I(T;Y)) in nats of one layer.

    Assumes a deterministic network evaluated once on each of ``n_inputs`` distinct, equally
    likely inputs, so that :math:`I(X;T) = H(T)` and :math:`I(T;Y) = H(T) - H(T\mid Y)` with the
    plug-in entropies of the binned rows (Shwartz-Ziv & Tishby, 2017).

    Parameters
    ----------
    activations : array-like or torch.Tensor, shape (n_inputs, n_units)
        The layer's output, one row per distinct input.
    labels : array-like of int, shape (n_inputs,)
        Class label of each input.
    n_bins : int
        Equal-width bins over ``value_range``.
    value_range : (float, float) or None
        Range of the bins (e.g. ``(-1, 1)`` for tanh); ``None``: the layer's own min and max.

    Returns
    -------
    (float, float)
        ``(I(X;T), I(T;Y))`` in nats.

    Examples
    --------
    >>> t = np.array([[0.0], [0.0], [1.0], [1.0]])           # two inputs per state
    >>> ixt, ity = information_plane_binning(t, [0, 0, 1, 1], n_bins=2)
    >>> round(ixt, 6) == round(ity, 6) == round(float(np.log(2)), 6)
    True
    """
    vr = _check_bins(n_bins, value_range, None)
    act = check_array(activations, "activations", ndim=2)
    y = np.unique(check_labels(labels, "labels", n_samples=act.shape[0]), return_inverse=True)[1]
    return _plane_from_codes(_digitize(act, n_bins, vr, None), y, int(y.max()) + 1)


def information_plane_binning_batch(
    activations: Sequence[Any] | np.ndarray,
    labels: Any,
    n_bins: int = 30,
    value_range: tuple[float, float] | str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`information_plane_binning` over many snapshots (layers and/or epochs).

    Parameters
    ----------
    activations : sequence of arrays (n_inputs, n_units_i), or array (n_snapshots, n_inputs, n_units)
        One layer's outputs per snapshot (units may differ between snapshots).
    labels : array-like of int, shape (n_inputs,)
        Shared by every snapshot.
    n_bins : int
        Number of equal-width bins.
    value_range : (float, float), "global" or None
        ``None``: each snapshot binned over its own range; ``"global"``: one range, the min and max
        over all snapshots (as for a ReLU layer tracked over training); a pair: that range.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        I(X;T) and I(T;Y) in nats, each of shape (n_snapshots,).

    Examples
    --------
    >>> acts = np.stack([np.zeros((4, 2)), np.eye(4)[:, :2]])
    >>> ixt, ity = information_plane_binning_batch(acts, [0, 0, 1, 1], n_bins=2)
    >>> ixt.round(4).tolist()
    [0.0, 1.0397]
    """
    snaps = [check_array(a, f"activations[{i}]", ndim=2) for i, a in enumerate(activations)]
    if not snaps:
        raise ValueError("activations: expected at least one snapshot, got none")
    # classes coded 0..k-1 by class, not by value: a label of 10**9 costs nothing
    y = np.unique(check_labels(labels, "labels", n_samples=snaps[0].shape[0]), return_inverse=True)[
        1
    ]
    for i, a in enumerate(snaps):
        if a.shape[0] != y.shape[0]:
            raise ValueError(
                f"activations[{i}]: has {a.shape[0]} rows but labels has {y.shape[0]}; they must match"
            )
    if isinstance(value_range, str):
        if value_range != "global":
            raise ValueError(
                f"value_range: expected None, 'global' or (low, high), got {value_range!r}"
            )
        value_range = (min(float(a.min()) for a in snaps), max(float(a.max()) for a in snaps))
        if value_range[1] <= value_range[0]:
            value_range = None
    vr = _check_bins(n_bins, value_range, None)
    n_classes = int(y.max()) + 1
    out = np.array([_plane_from_codes(_digitize(a, n_bins, vr, None), y, n_classes) for a in snaps])
    return out[:, 0], out[:, 1]
