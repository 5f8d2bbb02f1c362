"""The rule behind the labels of Shwartz-Ziv & Tishby's 12-bit task, and its joint p(x, y).

Shwartz-Ziv & Tishby (2017), *Opening the black box of deep neural networks via information*
(arXiv:1703.00810), describe the task as 12 binary inputs on 12 uniformly spread points of the
sphere, labelled by thresholding an O(3)-invariant function; the generating code is not in their
public repository (only ``var_u.mat``). We recovered it from ``var_u.mat`` itself:

1. The label correlations :math:`E[(2y-1)(2x_i-1)(2x_j-1)]` take exactly three off-diagonal values
   with multiplicities 5, 5 and 1 per bit: the 12 bits sit on the vertices of a regular
   icosahedron (5 neighbours, 5 second neighbours, 1 antipode), whose edges are listed below
   (bit indices as columns of ``var_u.mat``'s ``F``).
2. With unit vectors :math:`v_i` on those vertices (Gram matrix :math:`v_i\\cdot v_j = 1, \\pm
   1/\\sqrt5, -1`), the labels are exactly (4096 of 4096)

   .. math:: y = \\mathbb 1\\Big[\\;\\sum_i x_i + \\Big\\|\\sum_i x_i v_i\\Big\\| > \\theta\\Big],

   the number of active points plus the length of their resultant vector. The data pin the
   weight of the second term to (0.879, 1.08) and :math:`\\theta` to (7.563, 7.701) for weight 1;
   we take weight 1 and the midpoint :math:`\\theta = 7.632`. The score
   :math:`s(x) = \\sum_i x_i + \\|\\sum_i x_i v_i\\| - \\theta` is then the rule's decision function.
"""

from __future__ import annotations

import numpy as np

from structlearn.data.tishby import load_tishby_task
from structlearn.utils.validation import check_scalar

__all__ = [
    "ICOSAHEDRON_EDGES",
    "TISHBY_THRESHOLD",
    "icosahedron_gram",
    "tishby_joint",
    "tishby_score",
]

#: the 30 edges of the icosahedron on which the 12 input bits lie (recovered from var_u.mat)
ICOSAHEDRON_EDGES = (
    (0, 1), (0, 3), (0, 5), (0, 10), (0, 11), (1, 2), (1, 3), (1, 4), (1, 11), (2, 3),
    (2, 4), (2, 8), (2, 9), (3, 8), (3, 10), (4, 6), (4, 9), (4, 11), (5, 6), (5, 7),
    (5, 10), (5, 11), (6, 7), (6, 9), (6, 11), (7, 8), (7, 9), (7, 10), (8, 9), (8, 10),
)  # fmt: skip

#: midpoint of the interval of thresholds that reproduce every label (7.5628, 7.7013)
TISHBY_THRESHOLD = 0.5 * (7.56277742225524 + 7.70130161670408)


def icosahedron_gram() -> np.ndarray:
    """Gram matrix (12, 12) of the unit vectors on the icosahedron's vertices, in bit order."""
    adjacency = np.zeros((12, 12), dtype=bool)
    for i, j in ICOSAHEDRON_EDGES:
        adjacency[i, j] = adjacency[j, i] = True
    hops = adjacency.astype(int)
    two_hop = (hops @ hops > 0) & ~adjacency & ~np.eye(12, dtype=bool)
    antipode = ~adjacency & ~two_hop & ~np.eye(12, dtype=bool)
    r5 = 1.0 / np.sqrt(5.0)
    return np.eye(12) + r5 * adjacency - r5 * two_hop - 1.0 * antipode


def tishby_score(X: np.ndarray) -> np.ndarray:
    r"""Decision function :math:`\sum_i x_i + \|\sum_i x_i v_i\| - \theta` of the 12-bit rule.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_samples, 12)
        Binary inputs in {0, 1}.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        Positive exactly where the task's label is 1.

    Examples
    --------
    >>> tishby_score(np.ones((1, 12))).round(3).tolist()   # all on: 12 + 0 - 7.632
    [4.368]
    """
    X = np.asarray(X, dtype=np.float64)
    resultant_sq = np.einsum("si,ij,sj->s", X, icosahedron_gram(), X)
    return X.sum(axis=1) + np.sqrt(np.maximum(resultant_sq, 0.0)) - TISHBY_THRESHOLD


def tishby_joint(temperature: float | None = None) -> np.ndarray:
    r"""Joint p(x, y), shape (4096, 2), of Shwartz-Ziv & Tishby's 12-bit task (rows as loaded).

    :math:`p(x) = 1/4096` on the inputs of :func:`structlearn.data.tishby.load_tishby_task`.
    ``temperature`` None or 0: the task's deterministic labels. ``T > 0``:
    :math:`p(y=1\mid x) = \sigma(s(x)/T)`, the logistic function of the rule's decision function
    :func:`tishby_score` divided by T, so the labels are the :math:`T \to 0` limit and the IB
    curve is not trivial for T > 0.

    Examples
    --------
    >>> p = tishby_joint(0.5)
    >>> p.shape, round(float(p.sum()), 12)
    ((4096, 2), 1.0)
    >>> x_all_on = int(np.flatnonzero(load_tishby_task().X.sum(axis=1) == 12)[0])
    >>> round(float(p[x_all_on, 1] * 4096), 6)   # sigma(4.368 / 0.5): all 12 bits on
    0.99984
    """
    task = load_tishby_task()
    X, y = np.asarray(task.X), np.asarray(task.y)
    n = X.shape[0]
    if temperature is None or temperature == 0:
        p1 = y.astype(np.float64)
    else:
        t = float(check_scalar(temperature, "temperature", low=0.0, low_inclusive=False))
        # sigma(u) = (1 + tanh(u / 2)) / 2: the logistic function without overflow
        p1 = 0.5 * (1.0 + np.tanh(tishby_score(X) / (2.0 * t)))
    return np.column_stack([1.0 - p1, p1]) / n
