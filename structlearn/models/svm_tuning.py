"""Cross-validated choice of SVM settings, the same way for every learner compared.

The public replication of R²SVM (Vinyals, Jia, Deng & Darrell 2012) grid-searched C, β and depth
with k-fold cross-validation for R²SVM and C for the linear SVM; :func:`tune` does that for a
linear SVM (C), an RBF SVM (C and γ) and R²SVM (C, β and depth: one fit per (C, β) scores every
depth on the validation fold). Ties go to the first setting of the grid (smallest values first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from structlearn.utils.validation import check_option, check_scalar

__all__ = ["fit_tuned", "tune"]


def _curve(kind: str, params: dict[str, Any], Xa, ya, Xb, yb, seed: int) -> np.ndarray:
    """Validation accuracy of one setting (R²SVM: one value per depth)."""
    from sklearn.svm import SVC, LinearSVC

    from structlearn.models.r2svm import R2SVMClassifier

    if kind == "linear":
        return np.array([LinearSVC(C=params["C"], random_state=seed).fit(Xa, ya).score(Xb, yb)])
    if kind == "rbf":
        gamma = params["gamma_factor"] / (Xa.shape[1] * Xa.var())  # x sklearn's "scale"
        return np.array([SVC(C=params["C"], gamma=gamma).fit(Xa, ya).score(Xb, yb)])
    clf = R2SVMClassifier(n_layers=params["n_layers"], beta=params["beta"], C=params["C"],
                          random_state=seed)  # fmt: skip
    return clf.fit(Xa, ya).layer_scores(Xb, yb)


def tune(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    grid: Sequence[dict[str, Any]],
    *,
    n_folds: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """The setting of ``grid`` with the best mean accuracy over stratified ``n_folds`` folds.

    Parameters
    ----------
    kind : str
        "linear" (grid of ``{"C"}``), "rbf" (``{"C", "gamma_factor"}``; γ = factor / (n_features
        · var X), scikit-learn's "scale" times the factor) or "r2svm" (``{"C", "beta", "n_layers"}``;
        the depth ``n_layers`` chosen is the best layer, 1 to n_layers).

    Returns
    -------
    dict
        The chosen setting with ``cv_accuracy``.
    """
    from sklearn.model_selection import StratifiedKFold

    check_option(kind, "kind", ["linear", "rbf", "r2svm"])
    check_scalar(n_folds, "n_folds", kind=(int, np.integer), low=2)
    if not grid:
        raise ValueError("grid: expected at least one setting, got none")
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, y))
    best: dict[str, Any] | None = None
    for params in grid:
        scores = np.mean([_curve(kind, params, X[a], y[a], X[b], y[b], seed) for a, b in folds], 0)
        depth = int(np.argmax(scores))
        if best is None or scores[depth] > best["cv_accuracy"]:
            best = {**params, "cv_accuracy": float(scores[depth])}
            if kind == "r2svm":
                best["n_layers"] = depth + 1
    return best


def fit_tuned(kind: str, params: dict[str, Any], X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """The estimator of ``kind`` with ``params`` (as :func:`tune` returns them), fitted on (X, y)."""
    from sklearn.svm import SVC, LinearSVC

    from structlearn.models.r2svm import R2SVMClassifier

    if kind == "linear":
        return LinearSVC(C=params["C"], random_state=seed).fit(X, y)
    if kind == "rbf":
        return SVC(C=params["C"], gamma=params["gamma_factor"] / (X.shape[1] * X.var())).fit(X, y)
    return R2SVMClassifier(n_layers=params["n_layers"], beta=params["beta"], C=params["C"],
                           random_state=seed).fit(X, y)  # fmt: skip
