"""Shared splits, standardisation, patch whitening and random patches (structlearn.data.preprocess).

The equivalence tests pin the shared functions to the study-local copies they replace, so a study
can switch without its numbers moving.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from structlearn.data.mosaic import zca_whitening
from structlearn.data.preprocess import PatchWhitener, random_patches, split_dataset, standardize


def test_group_split_never_puts_one_group_on_both_sides():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 7, size=200)
    X = rng.normal(size=(200, 3))
    s = split_dataset(X, groups=groups, test_fraction=0.3, random_state=1)
    assert not set(groups[s.train_index]) & set(groups[s.test_index])
    assert len(s.train_index) + len(s.test_index) == 200
    np.testing.assert_array_equal(s.X_test, X[s.test_index])
    with pytest.raises(ValueError, match="groups: a group-wise split needs at least 2 groups"):
        split_dataset(X, groups=np.zeros(200), random_state=1)


def test_stratified_split_matches_the_study_copy_it_replaces():
    # the study copy (layerwise_vs_backprop, now data.tabular.split_table): scikit-learn's
    # stratified train_test_split, then StandardScaler fitted on the training part
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from structlearn.data.tabular import split_table

    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 4)) * [1, 10, 100, 0.1] + 5
    y = np.repeat([0, 1, 2], 30)
    Xtr, Xte, _, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=7)
    scaler = StandardScaler().fit(Xtr)
    np.testing.assert_allclose(split_table(X, y, 0.25, 7).X_test, scaler.transform(Xte))
    old = SimpleNamespace(
        X_train=scaler.transform(Xtr), X_test=scaler.transform(Xte), y_test=yte, n_classes=3
    )
    new = split_dataset(X, y, test_fraction=0.25, random_state=7, standardize_features=True)
    np.testing.assert_allclose(new.X_train, old.X_train, atol=1e-12)
    np.testing.assert_allclose(new.X_test, old.X_test, atol=1e-12)
    np.testing.assert_array_equal(new.y_test, old.y_test)
    assert new.n_classes == old.n_classes == 3
    assert np.bincount(new.y_test).tolist() == [8, 8, 7] or sorted(np.bincount(new.y_test)) == [
        7,
        8,
        8,
    ]


def test_plain_split_matches_the_information_plane_permutation():
    from structlearn.studies.information_plane import split_inputs

    tr, te = split_inputs(4096, 0.8, 3)
    s = split_dataset(np.zeros((4096, 1)), test_fraction=0.2, random_state=3)
    np.testing.assert_array_equal(s.train_index, tr)
    np.testing.assert_array_equal(s.test_index, te)


def test_standardize_uses_training_statistics_and_keeps_constant_columns_finite():
    Xtr = np.array([[1.0, 3.0], [3.0, 3.0]])
    mean, scale, (_, b) = standardize(Xtr, np.array([[5.0, 4.0]]))
    assert mean.tolist() == [2.0, 3.0] and scale.tolist() == [1.0, 1.0]
    assert b.tolist() == [[3.0, 1.0]]


def _whitener_written_out(X, eps):
    """Per-row mean removal, ZCA fitted on X, one scale: the copy depth_by_entropy once held."""
    Xc = X - X.mean(axis=1, keepdims=True)
    W, mu = zca_whitening(Xc, eps)
    scale = np.sqrt(np.mean(np.sum(((Xc - mu) @ W) ** 2, axis=1)))
    return lambda H: ((H - H.mean(axis=1, keepdims=True)) - mu) @ W / scale


def test_patch_whitener_equals_both_study_whiteners():
    from structlearn.studies._group_sparse_learners import Preprocess as _Preprocess

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 16)) @ rng.normal(size=(16, 16))
    held = rng.normal(size=(30, 16))
    for eps, old in ((0.01, _whitener_written_out(X, 0.01)), (1.0, _Preprocess(X, 1.0))):
        new = PatchWhitener(eps).fit(X)
        np.testing.assert_allclose(new.transform(held), old(held), rtol=1e-10, atol=1e-12)
        assert np.mean(np.sum(new.transform(X) ** 2, axis=1)) == pytest.approx(1.0, rel=1e-12)


def test_patch_whitener_refuses_transform_before_fit_and_wrong_width():
    with pytest.raises(RuntimeError, match="call fit"):
        PatchWhitener().transform(np.zeros((2, 3)))
    w = PatchWhitener().fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(ValueError, match="X: expected 3 features as in fit, got 4"):
        w.transform(np.zeros((2, 4)))


def _cut_written_out(images, patch, per_image, rng):
    """Rows, then columns, uniform per image: the cutter depth_by_entropy once held."""
    X, y = [], []
    for k, img in enumerate(images):
        rows = rng.integers(0, img.shape[0] - patch + 1, per_image)
        cols = rng.integers(0, img.shape[1] - patch + 1, per_image)
        X += [img[r : r + patch, c : c + patch].ravel() for r, c in zip(rows, cols)]
        y += [k] * per_image
    return np.array(X), np.array(y)


def test_random_patches_equal_the_depth_study_cutter_for_one_seed():
    rng = np.random.default_rng(5)
    images = [rng.random((20, 25)), rng.random((12, 30))]
    old_X, old_y = _cut_written_out(images, 6, 11, np.random.default_rng(9))
    new_X, groups = random_patches(images, 6, 11, np.random.default_rng(9))
    np.testing.assert_array_equal(new_X, old_X)
    np.testing.assert_array_equal(groups, old_y)
    with pytest.raises(ValueError, match="size: patches of 13 pixels do not fit in image"):
        random_patches(images, 13, 1)
