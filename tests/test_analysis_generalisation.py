"""The generalisation gap: closed forms, invariances, a torch reference, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from structlearn.analysis.generalisation import generalisation_gap, loss_and_accuracy


def test_uniform_scores_give_log_k_and_the_first_class():
    loss, acc = loss_and_accuracy(np.zeros((6, 3)), [0, 0, 1, 2, 0, 1])
    assert loss == pytest.approx(math.log(3), abs=1e-12)
    assert acc == pytest.approx(3 / 6)  # a tie goes to class 0


def test_loss_matches_torch_cross_entropy_and_ignores_row_shifts():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(50, 4)) * 3, rng.integers(0, 4, 50)
    ref = float(torch.nn.functional.cross_entropy(torch.as_tensor(z), torch.as_tensor(y)))
    loss, acc = loss_and_accuracy(z, y)
    assert loss == pytest.approx(ref, rel=1e-12)
    assert acc == pytest.approx(float(np.mean(z.argmax(1) == y)))
    shifted = z + rng.normal(size=(50, 1)) * 1e3
    assert loss_and_accuracy(shifted, y)[0] == pytest.approx(loss, rel=1e-9)


def test_huge_scores_stay_finite():
    loss, acc = loss_and_accuracy([[1e300, -1e300], [-1e300, 1e300]], [1, 1])
    assert loss == pytest.approx(1e300, rel=1e-12) and acc == 0.5  # one sample costs 2e300 / 2


def test_gaps_are_differences_and_vanish_on_the_same_samples():
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    same = generalisation_gap(z, y, z, y)
    assert same.accuracy_gap == 0.0 and same.loss_gap_nats == 0.0
    res = generalisation_gap(z[:30], y[:30], z[30:], y[30:])
    tr, te = loss_and_accuracy(z[:30], y[:30]), loss_and_accuracy(z[30:], y[30:])
    assert res.accuracy_gap == pytest.approx(tr[1] - te[1])
    assert res.loss_gap_nats == pytest.approx(te[0] - tr[0])
    s = res.summary()
    assert (s["n_train"], s["n_test"]) == (30, 10)
    assert s["accuracy_gap"] == pytest.approx(res.accuracy_gap)
    assert s["loss_gap_nats"] == pytest.approx(res.loss_gap_nats)


def test_memoriser_has_the_largest_gap():
    """Scores that copy the training labels and are wrong on every held-out sample."""
    y_tr, y_te = np.array([0, 1, 1, 0]), np.array([1, 0])
    res = generalisation_gap(np.eye(2)[y_tr] * 50, y_tr, np.eye(2)[1 - y_te] * 50, y_te)
    assert (res.train_accuracy, res.test_accuracy, res.accuracy_gap) == (1.0, 0.0, 1.0)
    assert res.loss_gap_nats == pytest.approx(50.0, abs=1e-12)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((3, 2)), [0, 1], np.zeros((2, 2)), [0, 1]), "labels of train_logits"),
        ((np.zeros((3, 2)), [0, 1, 2], np.zeros((2, 2)), [0, 1]), r"\[0, 2\)"),
        ((np.zeros((3, 2)), [0, 1, 1], np.zeros((2, 3)), [0, 1]), "test_logits: expected 2"),
        ((np.zeros(3), [0, 1, 1], np.zeros((2, 2)), [0, 1]), "train_logits"),
        ((np.zeros((3, 1)), [0, 0, 0], np.zeros((2, 1)), [0, 0]), "train_logits"),
        ((np.full((2, 2), np.nan), [0, 1], np.zeros((2, 2)), [0, 1]), "train_logits"),
    ],
)
def test_bad_input_names_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        generalisation_gap(*args)
