"""The generalisation gap of a classifier: training against held-out accuracy and loss.

A classifier's outputs on its training set and on held-out samples give the four numbers every
sample-size study reads: accuracy and cross-entropy (nats) on each, and the gaps
``train accuracy - test accuracy`` and ``test loss - train loss`` (both 0 for a classifier that
does equally well on unseen samples, positive when it has fitted its training set better than the
rule). Shwartz-Ziv & Tishby (2017, "Opening the black box of deep neural networks via
information") compare them across training-set sizes (5%, 45% and 85% of the 12-bit task).

>>> good = np.array([[4.0, 0.0], [0.0, 4.0]])
>>> res = generalisation_gap(good, [0, 1], good, [1, 0])
>>> res.train_accuracy, res.test_accuracy, res.accuracy_gap
(1.0, 0.0, 1.0)
>>> round(res.loss_gap_nats, 4)   # log(1 + e^4) - log(1 + e^-4)
4.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_labels

__all__ = ["GeneralisationGap", "generalisation_gap", "loss_and_accuracy"]


def loss_and_accuracy(logits: Any, labels: Any, name: str = "logits") -> tuple[float, float]:
    """Mean cross-entropy (nats) and accuracy of class scores ``logits`` (n, n_classes).

    The loss is :math:`-\\frac1n\\sum_i \\log \\mathrm{softmax}(z_i)_{y_i}`, computed with the
    log-sum-exp shift (finite for any finite scores); a tie counts for the first maximal class.

    >>> loss, acc = loss_and_accuracy([[0.0, 0.0], [0.0, 0.0]], [0, 1])
    >>> round(loss, 6), acc   # uniform scores: log 2
    (0.693147, 0.5)
    """
    z = check_array(logits, name, ndim=2, min_features=2)
    y = check_labels(labels, f"labels of {name}", n_samples=z.shape[0], n_classes=z.shape[1])
    m = z.max(axis=1, keepdims=True)
    log_norm = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    loss = float(np.mean(log_norm - z[np.arange(y.size), y]))
    return loss, float(np.mean(z.argmax(axis=1) == y))


@dataclass
class GeneralisationGap(Summarised):
    """Accuracy and cross-entropy on the training and the held-out samples, and their gaps.

    Attributes
    ----------
    train_accuracy, test_accuracy : float
        Share of samples whose largest score is the label's.
    train_loss_nats, test_loss_nats : float
        Mean cross-entropy of the softmax of the scores (nats).
    n_train, n_test : int
    """

    train_accuracy: float
    test_accuracy: float
    train_loss_nats: float
    test_loss_nats: float
    n_train: int
    n_test: int

    scalars: ClassVar[dict[str, Scalar]] = {
        "train_accuracy": Scalar("accuracy", True, doc="accuracy on the training samples"),
        "test_accuracy": Scalar("accuracy", True, doc="accuracy on the held-out samples"),
        "train_loss_nats": Scalar("nats", False, doc="cross-entropy on the training samples"),
        "test_loss_nats": Scalar("nats", False, doc="cross-entropy on the held-out samples"),
        "accuracy_gap": Scalar("accuracy", False, chance=0.0, doc="train accuracy - test accuracy"),
        "loss_gap_nats": Scalar("nats", False, chance=0.0, doc="test loss - train loss"),
        "n_train": Scalar("count", doc="training samples"),
        "n_test": Scalar("count", doc="held-out samples"),
    }

    @property
    def accuracy_gap(self) -> float:
        return self.train_accuracy - self.test_accuracy

    @property
    def loss_gap_nats(self) -> float:
        return self.test_loss_nats - self.train_loss_nats


def generalisation_gap(
    train_logits: Any, train_labels: Any, test_logits: Any, test_labels: Any
) -> GeneralisationGap:
    """Accuracy and cross-entropy of a classifier on its training and held-out samples.

    Parameters
    ----------
    train_logits : array-like (n_train, n_classes)
        Class scores (logits; any shift per row gives the same numbers) on the training samples.
    train_labels : array-like of int (n_train,)
    test_logits : array-like (n_test, n_classes)
        The same on held-out samples (the same number of classes).
    test_labels : array-like of int (n_test,)

    Returns
    -------
    GeneralisationGap
    """
    n_tr = check_array(train_logits, "train_logits", ndim=2, min_features=2).shape[1]
    n_te = check_array(test_logits, "test_logits", ndim=2, min_features=2).shape[1]
    if n_tr != n_te:
        raise ValueError(
            f"test_logits: expected {n_tr} class scores per row like train_logits, got {n_te}"
        )
    tr = loss_and_accuracy(train_logits, train_labels, "train_logits")
    te = loss_and_accuracy(test_logits, test_labels, "test_logits")
    return GeneralisationGap(
        train_accuracy=tr[1],
        test_accuracy=te[1],
        train_loss_nats=tr[0],
        test_loss_nats=te[0],
        n_train=int(np.shape(train_labels)[0]),
        n_test=int(np.shape(test_labels)[0]),
    )
