"""Tapped: any nn.Module through the trainer, recordings, information plane, probes and alignment."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from structlearn.models import Tapped


class SmallConvNet(nn.Module):
    """A user's conv net: conv -> ReLU -> pool -> linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        h = self.pool(self.act(self.conv(x)))
        return self.fc(h.flatten(1))


class Residual(nn.Module):
    """A model with a residual branch: the tapped block returns x + f(x)."""

    def __init__(self, d: int = 6) -> None:
        super().__init__()
        self.inp = nn.Linear(3, d)
        self.block = nn.Sequential(nn.Linear(d, d), nn.Tanh())
        self.out = nn.Linear(d, 2)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        h = h + self.block(h)
        return self.out(h)


def test_sequential_taps_equal_the_layers_computed_by_hand():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(10, 4)
    with Tapped(net, ["1", "2"]) as model:
        relu, logits = model(x)
    torch.testing.assert_close(relu, torch.relu(net[0](x)), rtol=0, atol=0)
    torch.testing.assert_close(logits, net(x), rtol=0, atol=0)
    assert not net[1]._forward_hooks and not net[2]._forward_hooks  # closed: hooks gone
    with pytest.raises(RuntimeError, match="closed"):
        model(x)


def test_conv_net_taps_keep_their_shapes_and_the_root_tap_is_the_output():
    torch.manual_seed(1)
    net = SmallConvNet()
    x = torch.randn(5, 1, 6, 6)
    model = Tapped(net, ["conv", "pool", ""])
    conv, pool, out = model(x)
    assert conv.shape == (5, 3, 6, 6) and pool.shape == (5, 3, 2, 2)
    torch.testing.assert_close(out, net(x), rtol=0, atol=0)
    torch.testing.assert_close(pool, nn.functional.adaptive_avg_pool2d(torch.relu(conv), 2))
    model.close()


def test_residual_branch_taps_see_the_branch_not_the_sum():
    torch.manual_seed(2)
    net = Residual()
    x = torch.randn(7, 3)
    with Tapped(net, ["inp", "block", "out"]) as model:
        _, block, out = model(x)
    h = torch.tanh(net.inp(x))
    torch.testing.assert_close(block, net.block(h), rtol=0, atol=0)
    torch.testing.assert_close(out, net.out(h + net.block(h)), rtol=0, atol=0)


def test_unknown_layers_are_refused_with_the_available_names():
    with pytest.raises(ValueError) as info:
        Tapped(Residual(), ["block.0", "blok"])
    msg = str(info.value)
    assert msg.startswith("layers: unknown layer 'blok'; available: '' (Residual), 'inp' (Linear)")
    assert "'block.1' (Tanh)" in msg
    with pytest.raises(ValueError, match="layers: expected a non-empty list"):
        Tapped(Residual(), "block")
    with pytest.raises(TypeError, match=r"module: expected a torch.nn.Module, got function"):
        Tapped(lambda x: x, ["a"])


def test_a_layer_that_runs_twice_is_refused():
    shared = nn.Linear(3, 3)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = shared

        def forward(self, x):
            return self.f(self.f(x))

    with Tapped(Twice(), ["f"]) as model, pytest.raises(RuntimeError, match="'f' ran 2 times"):
        model(torch.zeros(2, 3))


def test_gradient_groups_give_each_tap_the_parameters_before_it():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    model = Tapped(net, ["1", "3", ""])
    ids = [{id(p) for p in g.parameters()} for g in model.layers]
    assert ids == [
        {id(net[0].weight), id(net[0].bias)},
        {id(net[2].weight), id(net[2].bias)},
        {id(net[4].weight), id(net[4].bias)},
    ]
    # groups are not children: the state dict is the wrapped module's, once
    assert sorted(model.state_dict()) == sorted(f"module.{k}" for k in net.state_dict())


class UserNet(nn.Module):
    """Written here, not in structlearn: two hidden tanh layers with a residual add, then logits."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden1 = nn.Linear(12, 10)
        self.hidden2 = nn.Linear(10, 10)
        self.head = nn.Linear(10, 2)

    def forward(self, x):
        a = torch.tanh(self.hidden1(x))
        b = torch.tanh(self.hidden2(a)) + a
        return self.head(b)


def test_user_module_trains_with_recordings_information_plane_probes_and_alignment():
    from structlearn.analysis.alignment import unit_correlation
    from structlearn.analysis.info_plane import analyze_information_plane
    from structlearn.analysis.probes import analyze_probes
    from structlearn.data.sources import load_source
    from structlearn.objectives.supervised import CrossEntropy
    from structlearn.train import TrainConfig, train

    data = load_source("tishby12")
    X = torch.as_tensor(data.X, dtype=torch.float32)
    y = torch.as_tensor(data.y)
    torch.manual_seed(0)
    net = UserNet()
    model = Tapped(net, ["hidden1", "hidden2", "head"])
    config = TrainConfig(optimizer="adam", lr=0.01, epochs=40, batch_size=512, n_records=6)
    result = train(model, CrossEntropy(), (X, y), config=config)
    rec = result.recordings
    assert rec.layer_names == ["hidden1", "hidden2", "head"] and rec.n_units == [10, 10, 2]
    assert rec.gradient_groups == ["hidden1", "hidden2", "head"]
    assert rec.activations[2][0].shape == (4096, 2)
    assert result.final_metrics["train_accuracy"] > 0.85  # the rule is learnable by this net
    # recordings are the wrapped module's layers, computed by hand at the last epoch
    with torch.no_grad():
        hand = net.hidden1(X).numpy()
    np.testing.assert_allclose(rec.activations[0][-1], hand, atol=2e-2)  # float16 storage
    plane = analyze_information_plane(rec, n_bins=30)
    assert plane.layer_names == rec.layer_names
    assert np.all(plane.I_XT_nats <= np.log(4096) + 1e-9)
    assert np.all(plane.I_TY_nats <= plane.H_Y_nats + 1e-9)
    assert plane.I_TY_nats[2, -1] > plane.I_TY_nats[2, 0]  # the output fitted the labels
    assert plane.gradient_snr.shape == (rec.gradient_epochs.size, 3)
    last = {name: rec.activations[i][-1] for i, name in enumerate(rec.layer_names)}
    probes = analyze_probes(last, data.y, random_state=0)
    assert probes.test_accuracy[2] > 0.8 > probes.chance_accuracy
    rho = unit_correlation(last["head"], last["head"])
    np.testing.assert_allclose(np.diag(rho), 1.0, atol=1e-9)
