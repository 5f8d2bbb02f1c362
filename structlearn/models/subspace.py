r"""The nearest-subspace classifier of MCR² and ReduNet, and measures of class subspaces.

Yu, Chan, You, Song & Ma (2020), "Learning diverse and discriminative representations via the
principle of maximal coding rate reduction", and Chan, Yu, You, Qi, Wright & Ma (2022), "ReduNet",
classify a feature vector :math:`z` by the class whose principal subspace leaves the smallest
residual, :math:`\arg\min_j \|z - U_jU_j^\top z\|`, with :math:`U_j` the top right singular vectors
of class j's (uncentred) training features. The principal angles between class subspaces
(Björck & Golub 1973) say how orthogonal the classes are, the geometry MCR² aims at.
"""

from __future__ import annotations

import numpy as np

from structlearn.utils.validation import check_array, check_labels, check_scalar

__all__ = ["class_subspaces", "nearest_subspace_predict", "principal_angle_cosines"]


def class_subspaces(Z: np.ndarray, y: np.ndarray, n_components: int | None = None) -> np.ndarray:
    """Orthonormal bases (n_classes, n_features, r) of each class's principal (uncentred) subspace.

    ``r = n_components`` or ``max(1, n_features // n_classes)``, capped by the smallest class.
    Labels must be ``0..k-1`` with every class present.
    """
    Z = check_array(Z, "Z", ndim=2)
    y = check_labels(y, "y", n_samples=Z.shape[0])
    if y.size == 0 or y.min() < 0:
        raise ValueError("y: expected labels 0..k-1 for at least one sample")
    k, d = int(y.max()) + 1, Z.shape[1]
    if n_components is not None:
        check_scalar(n_components, "n_components", kind=(int, np.integer), low=1)
    r = n_components if n_components is not None else max(1, d // k)
    counts = np.bincount(y, minlength=k)
    if counts.min() < 1:
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"y: every class 0..{k - 1} needs at least one sample; missing {missing}")
    r = min(r, d, int(counts.min()))
    bases = np.empty((k, d, r))
    for j in range(k):
        bases[j] = np.linalg.svd(Z[y == j], full_matrices=False)[2][:r].T
    return bases


def nearest_subspace_predict(
    Z_train: np.ndarray, y_train: np.ndarray, Z_test: np.ndarray, n_components: int | None = None
) -> np.ndarray:
    r"""Class :math:`\arg\min_j \|z - U_jU_j^\top z\|` of each row of Z_test (n_test, n_features).

    :math:`U_j` spans the top ``n_components`` right singular vectors of class j's training
    features Z_train (n_train, n_features) (see :func:`class_subspaces`).

    >>> Z = np.array([[1.0, 0.1], [2.0, -0.1], [0.1, 1.0], [-0.1, 3.0]])
    >>> nearest_subspace_predict(Z, np.array([0, 0, 1, 1]), np.array([[5.0, 1.0], [0.0, -1.0]]))
    array([0, 1])
    """
    return predict_with_subspaces(class_subspaces(Z_train, y_train, n_components), Z_test)


def predict_with_subspaces(bases: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Index of the basis (n_classes, n_features, r) leaving the smallest residual, per row of Z."""
    Z = check_array(Z, "Z", ndim=2)
    if Z.shape[1] != bases.shape[1]:
        raise ValueError(f"Z: expected {bases.shape[1]} features, got {Z.shape[1]}")
    proj = np.einsum("nd,jdr->jnr", Z, bases)
    residual = np.sum(Z**2, axis=1)[None] - np.sum(proj**2, axis=2)
    return np.argmin(residual, axis=0)


def principal_angle_cosines(bases: np.ndarray) -> np.ndarray:
    """Largest cosine of the principal angles between every pair of class subspaces, (k, k).

    Entry (i, j) is the top singular value of :math:`U_i^\top U_j`: 0 for orthogonal subspaces,
    1 when they share a direction; the diagonal is 1.

    >>> b = np.eye(3)[None, :, :1].repeat(2, 0); b[1] = np.eye(3)[:, 1:2]
    >>> principal_angle_cosines(b).round(6).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    k = bases.shape[0]
    out = np.ones((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = np.linalg.svd(bases[i].T @ bases[j], compute_uv=False)[0]
    return np.clip(out, 0.0, 1.0)
