r"""How orthogonal and how low-dimensional are the classes of a representation?

Yu, Chan, You, Song & Ma (2020), "Learning diverse and discriminative representations via the
principle of maximal coding rate reduction" (NeurIPS), claim that MCR² maps the classes onto
(near) orthogonal low-dimensional subspaces. :func:`class_geometry` measures that geometry on
features (rows on the unit sphere or not; the subspaces are uncentred, as in the paper's
nearest-subspace classifier, :mod:`structlearn.models.subspace`):

- the largest cosine of the principal angles between every pair of class subspaces
  (Björck & Golub 1973), averaged over pairs (0: orthogonal, 1: sharing a direction);
- the mean squared cosine over *all* principal angles of a pair,
  :math:`\|U_i^\top U_j\|_F^2 / r` (the subspaces' overlap, an alternative summary that the top
  angle alone does not see);
- each class's effective rank (Roy & Vetterli 2007): :math:`\exp H(p)` with
  :math:`p_i = \sigma_i / \sum \sigma` the class's normalised singular values (1 for a line,
  ``n`` for ``n`` equal directions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from structlearn.models.subspace import class_subspaces, principal_angle_cosines
from structlearn.results import AnalysisResult
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_labels

__all__ = ["ClassGeometry", "class_geometry", "effective_rank"]


def effective_rank(Z: Any) -> float:
    r"""Effective rank :math:`\exp(-\sum_i p_i \log p_i)`, :math:`p = \sigma / \sum\sigma`, of
    Z (n_samples, n_features) (Roy & Vetterli 2007); 0 for an all-zero matrix.

    >>> round(effective_rank(np.eye(4)[:3]), 6), round(effective_rank(np.ones((5, 3))), 6)
    (3.0, 1.0)
    """
    Z = check_array(Z, "Z", ndim=2)
    s = np.linalg.svd(Z, compute_uv=False)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


@dataclass
class ClassGeometry(AnalysisResult, Summarised):
    """Class-subspace geometry of features (see :func:`class_geometry`).

    cosines : (k, k) largest principal-angle cosine per pair (diagonal 1)
    overlaps : (k, k) mean squared cosine over all principal angles per pair (diagonal 1)
    effective_ranks : (k,) effective rank of each class's features
    """

    cosines: np.ndarray
    overlaps: np.ndarray
    effective_ranks: np.ndarray
    n_components: int
    mean_cosine: float
    max_cosine: float
    mean_overlap: float
    mean_effective_rank: float

    scalars: ClassVar[dict[str, Scalar]] = {
        "mean_cosine": Scalar("", False, doc="mean over class pairs of the largest cosine"),
        "max_cosine": Scalar("", False, doc="largest cosine over all class pairs"),
        "mean_overlap": Scalar("", False, doc="mean over pairs of ||Ui'Uj||_F^2 / r"),
        "mean_effective_rank": Scalar("", None, doc="mean over classes of exp H(σ/Σσ)"),
        "n_components": Scalar("count", None, doc="dimension r of each class subspace"),
    }


def class_geometry(Z: Any, y: Any, n_components: int | None = None) -> ClassGeometry:
    """Principal angles between class subspaces and per-class effective ranks.

    Parameters
    ----------
    Z : array (n_samples, n_features), features (the caller chooses whether on the sphere)
    y : int array (n_samples,), labels 0..k-1, every class present, k >= 2
    n_components : int >= 1 or None, dimension r of each class subspace
        (None: ``max(1, n_features // k)``, capped by the smallest class; see
        :func:`~structlearn.models.subspace.class_subspaces`)

    Examples
    --------
    >>> Z = np.array([[1.0, 0, 0], [2, 0, 0], [0, 1, 0], [0, 0, 1]])
    >>> g = class_geometry(Z, np.array([0, 0, 1, 1]), n_components=1)
    >>> g.mean_cosine, round(g.mean_effective_rank, 6)
    (0.0, 1.5)
    """
    Z = check_array(Z, "Z", ndim=2)
    y = check_labels(y, "y", n_samples=Z.shape[0])
    bases = class_subspaces(Z, y, n_components)
    k, r = bases.shape[0], bases.shape[2]
    if k < 2:
        raise ValueError(f"y: expected at least two classes to compare subspaces, got {k}")
    cos = principal_angle_cosines(bases)
    overlap = np.einsum("idr,jds->ijrs", bases, bases)
    overlap = np.sum(overlap**2, axis=(2, 3)) / r
    ranks = np.array([effective_rank(Z[y == j]) for j in range(k)])
    off = ~np.eye(k, dtype=bool)
    return ClassGeometry(
        cosines=cos,
        overlaps=overlap,
        effective_ranks=ranks,
        n_components=int(r),
        mean_cosine=float(cos[off].mean()),
        max_cosine=float(cos[off].max()),
        mean_overlap=float(overlap[off].mean()),
        mean_effective_rank=float(ranks.mean()),
    )
