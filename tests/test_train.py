"""Trainer: minibatches, optimiser and gradient statistics against a plain loop; recordings; metrics."""

import copy
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from structlearn.models.mlp import MLP
from structlearn.objectives.base import Loss, Objective
from structlearn.objectives.supervised import CrossEntropy
from structlearn.recordings import load_recordings
from structlearn.train import TrainConfig, log_spaced_epochs, train

pytestmark = pytest.mark.usefixtures("one_thread")


def blobs(n=48, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(size=(n, d)) + 2.0 * np.eye(k, d)[y]
    return X.astype(np.float32), y


def flat_grads(net):
    return [
        torch.cat([l.weight.grad.flatten(), l.bias.grad.flatten()]).double().numpy()
        for l in net.layers
    ]


def test_sgd_minibatches_and_gradient_stats_match_a_plain_loop():
    X, y = blobs()
    cfg = TrainConfig(
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-3,
        epochs=2,
        batch_size=12,
        record_epochs=[0, 2],
        seed=5,
    )
    net = MLP([5, 4, 3], "tanh", random_state=0)
    ref = copy.deepcopy(net)
    res = train(net, CrossEntropy(), (X, y), config=cfg)

    # Reference: the documented order (randperm seeded seed + epoch), SGD, per-batch gradients.
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    losses = {}
    for epoch in (1, 2):
        perm = torch.randperm(48, generator=torch.Generator().manual_seed(5 + epoch))
        grads, batch_losses = [], []
        for k in range(4):
            b = perm[12 * k : 12 * (k + 1)]
            opt.zero_grad()
            loss = F.cross_entropy(ref(Xt[b])[-1], yt[b])
            loss.backward()
            grads.append(flat_grads(ref))
            batch_losses.append(loss.item())
            opt.step()
        losses[epoch] = np.mean(batch_losses)
    for a, b in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)
    assert res.history[2]["train_loss"] == pytest.approx(losses[2], rel=1e-6)

    rec = res.recordings
    assert rec.gradient_epochs.tolist() == [2]
    for layer in range(2):
        G = np.stack([g[layer] for g in grads])  # (n_batches, n_params) of epoch 2
        assert rec.gradient_mean[0, layer] == pytest.approx(np.linalg.norm(G.mean(0)), rel=1e-6)
        assert rec.gradient_std[0, layer] == pytest.approx(np.linalg.norm(G.std(0)), rel=1e-6)


def test_full_batch_gradient_std_is_zero_and_mean_is_full_gradient():
    X, y = blobs()
    net = MLP([5, 4, 3], "relu", random_state=1)
    ref = copy.deepcopy(net)
    res = train(
        net, CrossEntropy(), (X, y), config=TrainConfig(lr=0.05, epochs=1, record_epochs="all")
    )
    F.cross_entropy(ref(torch.as_tensor(X))[-1], torch.as_tensor(y)).backward()
    full = flat_grads(ref)
    rec = res.recordings
    np.testing.assert_array_equal(rec.gradient_std, 0.0)
    for layer in range(2):
        assert rec.gradient_mean[0, layer] == pytest.approx(np.linalg.norm(full[layer]), rel=1e-6)


def test_recordings_shapes_epochs_and_values(tmp_path):
    X, y = blobs(n=60)
    Xe, ye = blobs(n=30, seed=1)
    cfg = TrainConfig(optimizer="adam", lr=0.01, epochs=40, batch_size=20, n_records=12)
    net = MLP([5, 6, 4, 3], "tanh", random_state=0)
    res = train(net, CrossEntropy(), (X, y), eval_data=(Xe, ye), config=cfg, out_dir=tmp_path)
    rec = load_recordings(tmp_path)
    assert rec.epochs.tolist() == log_spaced_epochs(40, 12).tolist()
    assert [a.shape for a in rec.activations] == [(12, 30, 6), (12, 30, 4), (12, 30, 3)]
    assert rec.layer_names == ["hidden_1", "hidden_2", "output"]
    np.testing.assert_array_equal(rec.labels, ye)
    assert rec.gradient_epochs.tolist() == rec.epochs[1:].tolist()
    assert rec.gradient_mean.shape == (11, 3)
    # The last record is the final network on the evaluation set (float16: rel. error <= 2**-11).
    net.eval()
    taps = net(torch.as_tensor(Xe))
    for layer in range(3):
        np.testing.assert_allclose(
            rec.at(layer, 40), taps[layer].detach().numpy(), rtol=2**-10, atol=1e-4
        )
    # Evaluation metrics at recorded epochs and final metrics equal a direct computation.
    logits = taps[-1].detach()
    acc = float((logits.argmax(1).numpy() == ye).mean())
    ce = float(F.cross_entropy(logits, torch.as_tensor(ye)))
    assert res.history[-1]["eval_accuracy"] == pytest.approx(acc, abs=1e-7)
    assert res.final_metrics["eval_accuracy"] == res.history[-1]["eval_accuracy"]
    assert res.final_metrics["eval_cross_entropy_nats"] == pytest.approx(ce, rel=1e-6)
    assert [r["epoch"] for r in res.history] == list(range(41))
    assert ("eval_loss" in res.history[3]) == (3 in rec.epochs)
    # The files the format promises.
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["final"]["train_accuracy"] == res.final_metrics["train_accuracy"]
    assert len(metrics["history"]) == 41
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 40
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert len(lines) == 42 and lines[0].startswith("epoch,")


def test_reducers_without_stored_activations():
    X, y = blobs()
    cfg = TrainConfig(epochs=3, record_epochs="all", store_activations=False, lr=0.1)
    net = MLP([5, 4, 3], random_state=0)
    seen = []

    def mean_abs(a, labels):
        seen.append(a.dtype)
        return float(np.abs(a).mean())

    res = train(net, CrossEntropy(), (X, y), config=cfg, reducers={"mean_abs": mean_abs})
    rec = res.recordings
    assert rec.reduced["mean_abs"].shape == (4, 2)
    net.eval()
    last = net(torch.as_tensor(X))
    for layer in range(2):
        want = float(last[layer].detach().abs().mean())
        assert rec.reduced["mean_abs"][-1, layer] == pytest.approx(want, rel=1e-6)
    assert set(seen) == {np.dtype(np.float32)}
    with pytest.raises(ValueError, match="layer"):
        rec.activations[0]


@pytest.mark.parametrize("schedule", ["step", "cosine"])
def test_learning_rate_schedules(schedule):
    X, y = blobs()
    cfg = TrainConfig(
        lr=0.1, epochs=7, lr_schedule=schedule, lr_step_size=3, lr_gamma=0.5, record_epochs="none"
    )
    res = train(MLP([5, 3], random_state=0), CrossEntropy(), (X, y), config=cfg)
    got = [r["lr"] for r in res.history[1:]]
    if schedule == "step":
        want = [0.1 * 0.5 ** ((e - 1) // 3) for e in range(1, 8)]
    else:
        want = [0.1 * (1 + math.cos(math.pi * (e - 1) / 7)) / 2 for e in range(1, 8)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


class Shift(Objective):
    """loss = (c - 3)^2 + 0 * taps: only the objective's own parameter c learns."""

    def __init__(self):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(1.0))

    def forward(self, features, targets=None):
        z = self.select(features)
        total = (self.c - 3.0) ** 2 + 0.0 * z.sum()
        return Loss(total, {"c": float(self.c.detach())})


def test_objective_parameters_are_optimised():
    X, _ = blobs()
    obj = Shift()
    cfg = TrainConfig(lr=0.25, epochs=5, record_epochs="none")
    res = train(MLP([5, 3], random_state=0), obj, X, config=cfg)
    # gradient descent on (c - 3)^2 with step 0.25 halves the distance each epoch
    assert obj.c.item() == pytest.approx(3 - 2 * 0.5**5, abs=1e-6)
    assert "train_accuracy" not in res.final_metrics


class SquaredLogits(Objective):
    def forward(self, features, targets=None):
        z = self.select(features)
        return Loss((z**2).mean(), {})


def test_accuracy_falls_back_to_argmax_of_last_tap():
    X, y = blobs()
    net = MLP([5, 4, 3], random_state=0)
    res = train(net, SquaredLogits(), (X, y), config=TrainConfig(epochs=1, record_epochs="none"))
    net.eval()
    pred = net(torch.as_tensor(X))[-1].argmax(1).numpy()
    assert res.final_metrics["train_accuracy"] == float((pred == y).mean())


def test_end_to_end_tishby_task_reaches_95_percent():
    from structlearn.data.tishby import load_tishby_task

    task = load_tishby_task()
    net = MLP([12, 10, 7, 5, 4, 3, 2], "tanh", random_state=0)
    cfg = TrainConfig(optimizer="adam", lr=0.02, epochs=40, batch_size=256, n_records=10)
    res = train(net, CrossEntropy(), (task.X, task.y), config=cfg)
    assert res.final_metrics["train_accuracy"] >= 0.95
    assert res.history[0]["eval_accuracy"] < 0.6  # an untrained net is near chance (51.7%)
    assert res.recordings.activations[0].shape == (10, 4096, 10)


class NaNLoss(Objective):
    def forward(self, features, targets=None):
        return Loss(self.select(features).sum() * float("nan"), {})


def test_nan_loss_raises():
    X, y = blobs()
    with pytest.raises(FloatingPointError, match="loss: became nan at epoch 1"):
        train(MLP([5, 3], random_state=0), NaNLoss(), (X, y), config=TrainConfig(epochs=2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"lr": 0.0}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr_schedule": "exp"}, "lr_schedule"),
        ({"record_epochs": "sometimes"}, "record_epochs"),
        ({"record_epochs": [1, -2]}, "record_epochs"),
        ({"n_records": 0}, "n_records"),
        ({"activation_dtype": "int8"}, "activation_dtype"),
        ({"checkpoint_every": 0}, "checkpoint_every"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_config_round_trip_and_unknown_key():
    cfg = TrainConfig(record_epochs=[3, 1, 3], batch_size=8)
    assert cfg.record_epochs == (1, 3)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match=r"config: unknown key\(s\) \['learning_rate'\]"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_bad_data_and_arguments(tmp_path):
    X, y = blobs()
    net, ce = MLP([5, 3], random_state=0), CrossEntropy()
    cfg = TrainConfig(epochs=1)
    with pytest.raises(ValueError, match="train_data"):
        train(net, ce, (X, y[:-1]), config=cfg)
    with pytest.raises(ValueError, match="train_data"):
        train(net, ce, (X[:, :, None], y), config=cfg)
    with pytest.raises(ValueError, match="eval_data"):
        train(net, ce, (X, y), eval_data=(X[:, :4], y), config=cfg)
    with pytest.raises(ValueError, match="out_dir"):
        train(net, ce, (X, y), config=cfg, resume=True)
    with pytest.raises(ValueError, match="record_epochs"):
        train(net, ce, (X, y), config=TrainConfig(epochs=2, record_epochs=[5]))
    with pytest.raises(TypeError, match="config"):
        train(net, ce, (X, y), config={"epochs": 1})
    train(net, ce, (X, y), config=cfg, out_dir=tmp_path)
    with pytest.raises(ValueError, match=r"out_dir: .* already holds a run"):
        train(net, ce, (X, y), config=cfg, out_dir=tmp_path)


class TwoLayer(torch.nn.Module):
    """A model without ``layers``/``layer_names``: gradient statistics fall back to per tensor."""

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.a = torch.nn.Linear(5, 4)
            self.b = torch.nn.Linear(4, 2)

    def forward(self, x):
        h = torch.relu(self.a(x))
        return [h, self.b(h)]


class MeanSquaredError(Objective):
    def forward(self, features, targets=None):
        z = self.select(features)
        total = ((z - targets) ** 2).mean()
        return Loss(total, {"mse": float(total.detach())})


def test_regression_targets_and_a_model_without_layers():
    X, _ = blobs()
    targets = np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1)  # float targets (n_samples, 2)
    net = TwoLayer()
    res = train(
        net,
        MeanSquaredError(),
        (X, targets),
        config=TrainConfig(epochs=30, lr=0.05, batch_size=16, n_records=4),
    )
    rec = res.recordings
    assert rec.labels is None
    assert rec.layer_names == ["tap_0", "tap_1"]
    assert rec.gradient_groups == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert rec.gradient_mean.shape == (3, 4)
    assert "train_accuracy" not in res.final_metrics
    net.eval()
    with torch.no_grad():
        mse = float(((net(torch.as_tensor(X))[-1] - torch.as_tensor(targets)) ** 2).mean())
    assert res.final_metrics["train_mse"] == pytest.approx(mse, rel=1e-6)
    assert res.final_metrics["train_mse"] < 0.5 * res.history[1]["train_mse"]


def test_beta_schedule_advances_once_per_epoch():
    """The trainer calls ``objective.set_epoch`` so a β schedule moves with training."""
    from structlearn.objectives.bottleneck import BetaSchedule, VariationalIB

    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 6, generator=g)
    y = (X[:, 0] > 0).long()
    model = MLP([6, 5], activation="tanh", random_state=0)
    vib = VariationalIB(5, 2, 2, beta=BetaSchedule("linear", 0.0, 1.0, n_epochs=4), random_state=0)
    config = TrainConfig(
        epochs=5, lr=0.01, record_gradients=False, store_activations=False, n_records=1
    )
    result = train(model, vib, (X, y), config=config)
    betas = [row["train_beta"] for row in result.history if "train_beta" in row]
    assert betas == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
