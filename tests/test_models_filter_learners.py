"""Filter learners: the layer each efficient-coding objective grows, on data with known answers."""

import numpy as np
import pytest

from structlearn.models import filter_learners as fl
from structlearn.train import TrainConfig


def _laplace_mixture(n=4000, d=6, seed=0):
    """Independent Laplace sources mixed by a random rotation: ICA must recover the rotation."""
    rng = np.random.default_rng(seed)
    S = rng.laplace(size=(n, d)) / np.sqrt(2.0)  # unit variance
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return S @ Q.T, Q


def test_ica_recovers_the_mixing_rotation_up_to_sign_and_order():
    X, Q = _laplace_mixture()
    cfg = TrainConfig(
        optimizer="adam",
        lr=1e-2,
        epochs=40,
        batch_size=500,
        n_records=1,
        store_activations=False,
        record_gradients=False,
        seed=0,
    )
    W = fl.ica_infomax_filters(X, 6, nonlinearity="logistic", config=cfg).W
    cos = np.abs((W / np.linalg.norm(W, axis=1, keepdims=True)) @ Q)
    assert cos.max(axis=1).min() > 0.97  # every unit is one source direction


def test_ica_refuses_more_units_than_the_data_rank():
    X, _ = _laplace_mixture()
    X = X - X.mean(axis=1, keepdims=True)  # rank 5 of 6
    cfg = TrainConfig(
        optimizer="adam", epochs=1, n_records=1, store_activations=False, record_gradients=False
    )
    with pytest.raises(ValueError, match="rank 5 < 6"):
        fl.ica_infomax_filters(X, 6, nonlinearity="logistic", config=cfg)


def test_pca_and_random_filters():
    X = np.random.default_rng(1).standard_normal((4000, 6)) * [3, 2, 1, 1, 1, 1]
    W = fl.pca_filters(X, 2).W  # the two axes of largest variance, signs fixed positive
    assert np.abs(W - np.eye(6)[:2]).max() < 0.05
    R = fl.random_filters(5, 7, random_state=3)
    assert np.allclose(np.linalg.norm(R.W, axis=1), 1.0)
    assert np.array_equal(R.W, fl.random_filters(5, 7, random_state=3).W)
    assert not np.array_equal(R.W, fl.random_filters(5, 7, random_state=4).W)
    assert np.allclose(R.encode(np.eye(7)), R.W.T)
