"""DDP: two CPU processes (gloo, localhost) end where one process ends, within float32 rounding.

The global minibatch is split over the ranks and DDP averages their gradients, so each step is
the single-process step up to the order of floating-point sums: we allow 1e-5 on weights after
10 epochs of SGD with momentum (observed differences are ~1e-7).
"""

import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from structlearn.models.mlp import MLP
from structlearn.objectives.base import Loss, Objective
from structlearn.objectives.supervised import cross_entropy
from structlearn.recordings import load_recordings
from structlearn.train import TrainConfig, train

CONFIG = TrainConfig(
    optimizer="sgd",
    lr=0.1,
    momentum=0.9,
    epochs=10,
    batch_size=16,
    record_epochs=[0, 1, 5, 10],
    seed=7,
)


class TemperedCrossEntropy(Objective):
    """Cross-entropy of logits / T with a trainable temperature T = exp(log_t): DDP must sync it."""

    def __init__(self):
        super().__init__()
        self.log_t = torch.nn.Parameter(torch.tensor(0.3))

    def predict(self, features):
        return self.select(features) / self.log_t.exp()

    def forward(self, features, targets=None):
        total = cross_entropy(self.predict(features), targets)
        return Loss(total, {"cross_entropy_nats": float(total.detach())})


def data():
    rng = np.random.default_rng(0)
    y = np.arange(64) % 3
    return (rng.normal(size=(64, 6)) + 1.5 * np.eye(3, 6)[y]).astype(np.float32), y


def fit(out_dir):
    net = MLP([6, 8, 5, 3], "tanh", random_state=0)
    objective = TemperedCrossEntropy()
    res = train(net, objective, data(), config=CONFIG, out_dir=out_dir)
    return net, objective, res


def ddp_worker(rank, world, port, out_dir, result_path):
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        net, objective, res = fit(out_dir)
        state = {"net": net.state_dict(), "objective": objective.state_dict()}
        try:  # bad input under DDP: a global minibatch that does not split over the ranks
            train(net, objective, data(), config=TrainConfig(epochs=1, batch_size=15))
        except ValueError as exc:
            state["batch_error"] = str(exc)
        if rank == 0:
            torch.save({**state, "history": res.history, "final": res.final_metrics}, result_path)
        else:
            assert res.recordings is None
            torch.save(state, f"{result_path}.rank1")
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_equals_single_process(tmp_path):
    result = tmp_path / "ddp.pt"
    mp.spawn(ddp_worker, args=(2, free_port(), tmp_path / "ddp", str(result)), nprocs=2, join=True)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net, objective, res = fit(tmp_path / "single")
    finally:
        torch.set_num_threads(n)
    got = torch.load(result, weights_only=True)
    rank1 = torch.load(f"{result}.rank1", weights_only=True)
    for name, value in net.state_dict().items():
        torch.testing.assert_close(got["net"][name], value, rtol=0, atol=1e-5)
        assert torch.equal(got["net"][name], rank1["net"][name])  # ranks stay in step
    torch.testing.assert_close(
        got["objective"]["log_t"], objective.log_t.detach(), rtol=0, atol=1e-5
    )
    assert float(objective.log_t.detach()) != pytest.approx(0.3, abs=1e-3)  # T did learn
    assert got["batch_error"].startswith("batch_size: the global minibatch 15 must be divisible")
    assert rank1["batch_error"] == got["batch_error"]
    for a, b in zip(got["history"], res.history):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), key
    for key, value in res.final_metrics.items():
        assert got["final"][key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    # rank 0 wrote the recordings; gradient statistics are those of the averaged gradient.
    ra, rb = load_recordings(tmp_path / "ddp"), load_recordings(tmp_path / "single")
    np.testing.assert_array_equal(ra.epochs, rb.epochs)
    np.testing.assert_allclose(ra.gradient_mean, rb.gradient_mean, rtol=1e-4)
    np.testing.assert_allclose(ra.gradient_std, rb.gradient_std, rtol=1e-4)
    for la, lb in zip(ra.activations, rb.activations):
        np.testing.assert_allclose(la.astype(np.float32), lb.astype(np.float32), atol=2e-3)
