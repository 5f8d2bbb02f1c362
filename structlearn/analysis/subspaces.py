r"""Grouped units: do groups hold shifted copies of one filter, and does pooling a group buy shift
invariance beyond what pooling any units of the same number buys?

For learners whose units come in groups (independent subspace analysis, topographic ICA, group
sparse coding; Hyvärinen & Hoyer 2000, Hyvärinen, Hoyer & Inki 2001, Kavukcuoglu et al. 2009):

- :func:`subspace_capture`: the share of a 1-px-shifted group's energy that its own subspace
  captures, minus the share the best other group captures. It depends only on the
  subspaces, not on the basis chosen inside them (ISA's likelihood fixes the subspace, not the
  basis), so it judges "a group spans shifted copies" where pairwise filter similarity cannot.
- :func:`sign_free_shift_similarity` and :func:`group_similarity`: the pairwise measure (similarity
  after the best translation, sign ignored), within against between groups.
- :func:`pooling_invariance`: correlation over patches between a code for a patch and for the same
  scene shifted, for single units, for the learned groups pooled, and for the **same codes pooled
  over random groups of the same size** (the regrouping control: pooling any units raises the
  correlation, so only the difference to it speaks for the learned groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from structlearn.analysis.base import AnalysisResult
from structlearn.analysis.filters import shift_similarity
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_random_state, check_scalar

__all__ = [
    "PoolingInvariance",
    "SubspaceCapture",
    "code_invariance",
    "group_similarity",
    "pool_by_groups",
    "pooling_invariance",
    "shift_image",
    "sign_free_shift_similarity",
    "subspace_capture",
]

_UNIT_SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _check_groups(groups: Any, n: int) -> np.ndarray:
    g = np.asarray(groups)
    if g.shape != (n,) or not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"groups: expected {n} integer group ids (one per unit), got {g.shape}")
    if np.unique(g).size < 2:
        raise ValueError("groups: expected at least two groups (own vs other is undefined)")
    return g


def shift_image(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` (H, W) moved by (dy, dx) pixels, zeros shifted in.

    >>> shift_image(np.arange(4.0).reshape(2, 2), 0, 1).tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """
    out = np.zeros_like(image)
    h, w = image.shape
    src_y = slice(max(-dy, 0), h - max(dy, 0))
    dst_y = slice(max(dy, 0), h - max(-dy, 0))
    src_x = slice(max(-dx, 0), w - max(dx, 0))
    dst_x = slice(max(dx, 0), w - max(-dx, 0))
    out[dst_y, dst_x] = image[src_y, src_x]
    return out


@dataclass
class SubspaceCapture(AnalysisResult, Summarised):
    """Mean over groups and the four 1-px shifts of the captured share of a shifted group's energy.

    own : by its own subspace; other : by the best other group's; gap = own − other;
    gap_regrouped : the mean gap of the same units cut into random groups of the same sizes (a
    unit's shift overlaps the unit itself, which stays in its own group, so smooth units give a
    positive gap under any grouping); gap_over_regrouped = gap − gap_regrouped (None without
    regroupings).
    """

    own: float
    other: float
    gap: float
    gap_regrouped: float | None = None
    gap_over_regrouped: float | None = None

    scalars: ClassVar[dict[str, Scalar]] = {
        "own": Scalar("fraction", True, doc="shifted unit's energy in its own group's span"),
        "other": Scalar("fraction", None, doc="the same, best other group"),
        "gap": Scalar("fraction", True, chance=0.0, doc="own minus best other"),
        "gap_regrouped": Scalar("fraction", None, doc="the gap under random regroupings"),
        "gap_over_regrouped": Scalar(
            "fraction", True, chance=0.0, doc="learned groups' gap minus random regroupings'"
        ),
    }


def subspace_capture(
    basis: Any,
    groups: Any,
    image_shape: tuple[int, int],
    *,
    n_regroupings: int = 0,
    random_state: int | np.random.Generator | None = 0,
) -> SubspaceCapture:
    r"""Do groups span 1-px shifts of their own units? (invariant to the basis inside a group).

    For group :math:`g` with orthonormal basis :math:`Q_g` of its units' span and each unit shift
    :math:`T` (zero-filled), the shifted subspace :math:`M = TQ_g` leaves the share
    :math:`c_h = \|Q_h^\top M\|_F^2 / \|M\|_F^2` of its energy in group :math:`h`'s span (the mean
    captured share over an orthonormal basis of the group: a function of the subspace only).
    ``own`` averages :math:`c_g` over groups and shifts, ``other`` averages
    :math:`\max_{h \ne g} c_h`. Rotating or re-mixing units inside a group changes nothing.

    Parameters
    ----------
    basis : array (n_units, H*W), generative basis vectors or atoms as rows
    groups : int array (n_units,), at least two groups
    image_shape : (H, W)
    n_regroupings : int >= 0, random regroupings of the units (same group sizes) for the control
    random_state : int, Generator or None (the regroupings)

    Examples
    --------
    >>> a = np.zeros((4, 4)); a[1:3, 1] = 1.0
    >>> B = np.stack([a.ravel(), shift_image(a, 0, 1).ravel(), np.eye(16)[0], np.eye(16)[15]])
    >>> res = subspace_capture(B, np.array([0, 0, 1, 1]), (4, 4))
    >>> round(res.own, 3), round(res.other, 3)
    (0.187, 0.0)
    """
    B = check_array(basis, "basis", ndim=2)
    g = _check_groups(groups, len(B))
    h, w = image_shape
    if B.shape[1] != h * w:
        raise ValueError(f"image_shape: {image_shape} has {h * w} pixels, basis has {B.shape[1]}")
    check_scalar(n_regroupings, "n_regroupings", kind=int, low=0)
    own, other = _capture(B, g, h, w)
    res = SubspaceCapture(own=own, other=other, gap=own - other)
    if n_regroupings:
        rng = check_random_state(random_state)
        gaps = [np.subtract(*_capture(B, rng.permutation(g), h, w)) for _ in range(n_regroupings)]
        res.gap_regrouped = float(np.mean(gaps))
        res.gap_over_regrouped = res.gap - res.gap_regrouped
    return res


def _capture(B: np.ndarray, g: np.ndarray, h: int, w: int) -> tuple[float, float]:
    ids = np.unique(g)
    spans = {i: np.linalg.qr(B[g == i].T)[0] for i in ids}  # orthonormal columns per group
    own, other = [], []
    for i, Q in spans.items():
        for dy, dx in _UNIT_SHIFTS:
            M = np.stack([shift_image(q.reshape(h, w), dy, dx).ravel() for q in Q.T], axis=1)
            energy = float(np.sum(M**2))
            if energy < 1e-12:
                continue
            caps = {j: float(np.sum((P.T @ M) ** 2)) / energy for j, P in spans.items()}
            own.append(caps[i])
            other.append(max(c for j, c in caps.items() if j != i))
    return float(np.mean(own)), float(np.mean(other))


def sign_free_shift_similarity(D: np.ndarray, shape: tuple[int, int], r: int) -> np.ndarray:
    """:func:`~structlearn.analysis.filters.shift_similarity` maximised also over the sign of the
    second unit (a group's l2 pooling does not see signs), shape (n_units, n_units).

    >>> a = np.zeros((5, 5)); a[2, 1:3] = [1.0, -1.0]
    >>> sign_free_shift_similarity(np.stack([a.ravel(), -a.ravel()]), (5, 5), 0).round(6).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    n = len(D)
    S = shift_similarity(np.vstack([D, -D]), shape, max_residual_shift=r)
    return np.maximum(S[:n, :n], S[:n, n:])


def group_similarity(S: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Mean similarity over pairs of distinct units in the same group, and in different groups.

    >>> S = np.array([[1, .9, .1, .2], [.9, 1, .3, .0], [.1, .3, 1, .7], [.2, .0, .7, 1]])
    >>> [round(v, 4) for v in group_similarity(S, np.array([0, 0, 1, 1]))]
    [0.8, 0.15]
    """
    same = groups[:, None] == groups[None, :]
    off = ~np.eye(len(S), dtype=bool)
    return float(S[same & off].mean()), float(S[~same].mean())


def code_invariance(codes: np.ndarray, shifted: np.ndarray) -> float:
    """Mean over units of the Pearson correlation, over samples, between a unit's code for a patch
    and for the shifted patch; units constant in either set are left out (nan if all are).

    >>> c = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> round(code_invariance(c, c * 2 + 1), 6)
    1.0
    """
    a = codes - codes.mean(0)
    b = shifted - shifted.mean(0)
    den = np.sqrt((a * a).sum(0) * (b * b).sum(0))
    ok = den > 1e-12
    if not ok.any():
        return float("nan")
    return float(np.mean((a * b).sum(0)[ok] / den[ok]))


def pool_by_groups(codes: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """l2 norm of each group's codes, (n_samples, n_groups), groups in order of their ids.

    >>> pool_by_groups(np.array([[3.0, 1.0, 4.0]]), np.array([0, 1, 0])).tolist()
    [[5.0, 1.0]]
    """
    ids = np.unique(groups)
    member = (groups[None, :] == ids[:, None]).astype(float)
    return np.sqrt((codes**2) @ member.T)


@dataclass
class PoolingInvariance(AnalysisResult, Summarised):
    """Shift invariance of single and pooled codes (see :func:`pooling_invariance`)."""

    single: float
    single_signed: float
    pooled: float
    pooled_regrouped: float
    fraction_nonzero: float
    gain: float
    gain_over_regrouped: float

    scalars: ClassVar[dict[str, Scalar]] = {
        "single": Scalar("correlation", True, doc="|a_k| of a patch vs of the shifted patch"),
        "single_signed": Scalar("correlation", True, doc="signed a_k"),
        "pooled": Scalar("correlation", True, doc="learned groups' l2 norms"),
        "pooled_regrouped": Scalar(
            "correlation", True, doc="the same codes pooled over random groups of the same size"
        ),
        "fraction_nonzero": Scalar("fraction", None, doc="share of non-zero codes"),
        "gain": Scalar("correlation", True, chance=0.0, doc="pooled minus single"),
        "gain_over_regrouped": Scalar(
            "correlation", True, chance=0.0, doc="pooled over learned minus over random groups"
        ),
    }


def pooling_invariance(
    codes: Any,
    shifted: Any,
    groups: Any,
    *,
    n_regroupings: int = 5,
    random_state: int | np.random.Generator | None = 0,
) -> PoolingInvariance:
    """Shift invariance of codes, pooled over the learned groups and over random regroupings.

    Parameters
    ----------
    codes, shifted : arrays (n_samples, n_units), codes of patches and of the same scenes shifted
    groups : int array (n_units,), equal-size learned groups
    n_regroupings : int >= 1, random permutations of the units cut into groups of the same sizes
    random_state : int, Generator or None

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.laplace(size=(300, 4)); b = a + 0.1 * rng.normal(size=a.shape)
    >>> res = pooling_invariance(a, b, np.array([0, 0, 1, 1]), n_regroupings=2)
    >>> res.single > 0.9, round(res.gain, 3) == round(res.pooled - res.single, 3)
    (True, True)
    """
    A = check_array(codes, "codes", ndim=2)
    B = check_array(shifted, "shifted", ndim=2)
    if A.shape != B.shape:
        raise ValueError(f"shifted: expected shape {A.shape} (the codes'), got {B.shape}")
    g = _check_groups(groups, A.shape[1])
    check_scalar(n_regroupings, "n_regroupings", kind=int, low=1)
    rng = check_random_state(random_state)
    single = code_invariance(np.abs(A), np.abs(B))
    pooled = code_invariance(pool_by_groups(A, g), pool_by_groups(B, g))
    regrouped = []
    for _ in range(n_regroupings):
        p = rng.permutation(A.shape[1])
        regrouped.append(code_invariance(pool_by_groups(A[:, p], g), pool_by_groups(B[:, p], g)))
    rg = float(np.mean(regrouped))
    return PoolingInvariance(
        single=single,
        single_signed=code_invariance(A, B),
        pooled=pooled,
        pooled_regrouped=rg,
        fraction_nonzero=float(np.mean(A != 0)),
        gain=pooled - single,
        gain_over_regrouped=pooled - rg,
    )
