"""fit_arrays equals train() with the same settings; epochs from a step budget."""

import numpy as np
import pytest
import torch

from structlearn.fit import epochs_for_steps, fit_arrays, layer_outputs
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import CrossEntropy
from structlearn.train import TrainConfig, train


def test_epochs_for_steps():
    assert epochs_for_steps(500, 1347, 64) == 23  # 22 batches per epoch
    assert epochs_for_steps(10, 5, 64) == 10  # batch capped at n: one step per epoch
    with pytest.raises(ValueError, match="steps"):
        epochs_for_steps(0, 10, 2)


def test_fit_arrays_is_train_with_the_batch_capped():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    section = {"optimizer": "adam", "lr": 0.01, "epochs": 3, "batch_size": 1000}
    a = MLP([3, 4, 2], "tanh", random_state=0)
    fit_arrays(a, CrossEntropy(), X, y, section, seed=5)
    b = MLP([3, 4, 2], "tanh", random_state=0)
    cfg = TrainConfig(
        optimizer="adam",
        lr=0.01,
        epochs=3,
        batch_size=40,
        record_epochs="none",
        store_activations=False,
        record_gradients=False,
        seed=5,
    )
    train(b, CrossEntropy(), (torch.tensor(X, dtype=torch.float32), torch.tensor(y)), config=cfg)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    outs = layer_outputs(a, X)
    assert [o.shape for o in outs] == [(40, 4), (40, 2)] and outs[0].dtype == np.float64
