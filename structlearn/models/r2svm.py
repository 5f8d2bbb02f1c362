r"""R²SVM: a deep classifier built from linear SVMs and random projections, without backprop.

Implements Vinyals, Jia, Deng & Darrell (2012), "Learning with recursive perceptual
representations", NIPS. Layer l trains a linear SVM on :math:`x_l` (one-vs-rest scores
:math:`o_l`); the next layer's input restarts from the original input :math:`x_1`, shifted by a fixed
Gaussian random projection of every score so far:

.. math::

    x_{l+1} = \sigma\big(x_1 + \beta W_{l+1}[o_1; \dots; o_l]\big),

σ the logistic sigmoid. The prediction is the last layer's SVM. Because each layer sees
:math:`x_1` again, depth can only move the classes apart along directions the earlier SVMs found.
Scale the input first (e.g. ``StandardScaler``): σ saturates on features of size ≫ 1.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from structlearn.models.blocks import (
    check_class_labels,
    check_features,
    check_fitted_features,
    r2svm_next_input,
)
from structlearn.utils.validation import check_count, check_random_state, check_scalar

__all__ = ["R2SVMClassifier"]


def _scores(svm: LinearSVC, X: np.ndarray) -> np.ndarray:
    """One-vs-rest scores (n_samples, n_scores); a binary SVM has one score column."""
    s = svm.decision_function(X)
    return s[:, None] if s.ndim == 1 else s


#: Largest ``|X|`` that :meth:`R2SVMClassifier.fit` accepts (liblinear converges up to 1e30 here;
#: at 1e100 it never returned).
MAX_MAGNITUDE = 1e30


class R2SVMClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    r"""Recursive perceptual representation classifier (R²SVM, Vinyals et al. 2012).

    Parameters
    ----------
    n_layers : int >= 1
        Maximum number of layers (SVMs).
    beta : float > 0
        Scale β of the random projection of the scores (0.1 in a public replication).
    C : float > 0
        Regularisation of every layer's ``LinearSVC``.
    early_stopping : bool
        Hold out ``validation_fraction`` of the training set (stratified) and stop adding layers
        once validation accuracy stops improving; the layers up to the best one are kept.
    validation_fraction : float in (0, 1)
    random_state : int, Generator or None
        Seeds the random projections, the validation split and each LinearSVC.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    svms_ : list of LinearSVC, one per layer
    projections_ : list of ndarray, ``projections_[l]`` of shape (n_features, (l+1) * n_scores) is
        :math:`W_{l+2}` (n_scores = n_classes, or 1 for two classes)
    n_layers_ : int, the number of layers kept
    train_scores_ : ndarray of shape (n_layers_fitted,), training accuracy of each layer's SVM
    validation_scores_ : ndarray or None, validation accuracy of each layer (early stopping only)
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = R2SVMClassifier(n_layers=3, random_state=0).fit(X[:300] / 16, y[:300])
    >>> clf.train_scores_.shape, clf.transform(X[:2] / 16).shape, clf.predict(X[:2] / 16)
    ((3,), (2, 64), array([0, 1]))
    """

    def __init__(
        self,
        n_layers: int = 5,
        beta: float = 0.1,
        C: float = 1.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.2,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.beta = beta
        self.C = C
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _check_params(self) -> None:
        check_count(self.n_layers, "n_layers")
        check_scalar(self.beta, "beta", low=0, low_inclusive=False)
        check_scalar(self.C, "C", low=0, low_inclusive=False)
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise TypeError(
                f"early_stopping: expected bool, got {type(self.early_stopping).__name__}"
            )
        check_scalar(
            self.validation_fraction,
            "validation_fraction",
            low=0,
            high=1,
            low_inclusive=False,
            high_inclusive=False,
        )

    def fit(self, X: np.ndarray, y: np.ndarray) -> R2SVMClassifier:
        """Grow the layers on X (n_samples, n_features) and labels y (n_samples,)."""
        self._check_params()
        X = check_features(X)
        top = float(np.abs(X).max())
        if top > MAX_MAGNITUDE:
            raise ValueError(
                f"X: values up to {top:.3g}; liblinear's LinearSVC never returns beyond about "
                f"1e100 (the audit's x1e300 fit hung), so fit refuses |X| > {MAX_MAGNITUDE:.0e}. "
                "Standardise X first (e.g. sklearn's StandardScaler)"
            )
        self.classes_, codes = check_class_labels(y, X.shape[0])
        rng = check_random_state(self.random_state)
        X_val = codes_val = None
        if self.early_stopping:
            X, X_val, codes, codes_val = train_test_split(
                X,
                codes,
                test_size=self.validation_fraction,
                stratify=codes,
                random_state=int(rng.integers(2**31 - 1)),
            )
        self._grow(X, codes, X_val, codes_val, rng)
        self.n_features_in_ = X.shape[1]
        self.input_shape_ = X.shape[1:]
        return self

    def _grow(self, X, codes, X_val, codes_val, rng: np.random.Generator) -> None:
        n_scores = 1 if self.classes_.size == 2 else self.classes_.size
        self.svms_, self.projections_, train, val = [], [], [], []
        X_l, O = X, np.empty((X.shape[0], 0))
        V_l, O_val = X_val, None if X_val is None else np.empty((X_val.shape[0], 0))
        for layer in range(self.n_layers):
            svm = LinearSVC(C=self.C, random_state=int(rng.integers(2**31 - 1)))
            svm.fit(X_l, codes)
            self.svms_.append(svm)
            train.append(svm.score(X_l, codes))
            if X_val is not None:
                val.append(svm.score(V_l, codes_val))
                if layer > 0 and val[-1] <= max(val[:-1]):
                    break
            if layer + 1 == self.n_layers:
                break
            W = rng.standard_normal((X.shape[1], (layer + 1) * n_scores))
            self.projections_.append(W)
            O = np.hstack([O, _scores(svm, X_l)])
            X_l = r2svm_next_input(X, O, W, self.beta)
            if X_val is not None:
                O_val = np.hstack([O_val, _scores(svm, V_l)])
                V_l = r2svm_next_input(X_val, O_val, W, self.beta)
        self.train_scores_ = np.array(train)
        self.validation_scores_ = np.array(val) if X_val is not None else None
        self.n_layers_ = int(np.argmax(val)) + 1 if X_val is not None else len(self.svms_)
        del self.svms_[self.n_layers_ :], self.projections_[self.n_layers_ - 1 :]

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The last layer's input :math:`x_L` (n_samples, n_features) (X itself for one layer)."""
        return self._last_input(check_fitted_features(self, X))

    def _last_input(self, X: np.ndarray) -> np.ndarray:
        X_l, O = X, np.empty((X.shape[0], 0))
        for svm, W in zip(self.svms_, self.projections_):
            O = np.hstack([O, _scores(svm, X_l)])
            X_l = r2svm_next_input(X, O, W, self.beta)
        return X_l

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The last SVM's scores: (n_samples,) for two classes, else (n_samples, n_classes)."""
        X_last = self.transform(X)
        return self.svms_[-1].decision_function(X_last)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The last layer's SVM prediction for X (n_samples, n_features)."""
        X_last = self.transform(X)
        return self.classes_[self.svms_[-1].predict(X_last)]

    def layer_scores(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Accuracy of every kept layer's SVM on (X, y): shape ``(n_layers_,)``."""
        X = check_fitted_features(self, X)
        y = np.asarray(y)
        X_l, O, acc = X, np.empty((X.shape[0], 0)), []
        for layer, svm in enumerate(self.svms_):
            acc.append(np.mean(self.classes_[svm.predict(X_l)] == y))
            if layer < len(self.projections_):
                O = np.hstack([O, _scores(svm, X_l)])
                X_l = r2svm_next_input(X, O, self.projections_[layer], self.beta)
        return np.array(acc)
