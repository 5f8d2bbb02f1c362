"""MLP: taps against a plain numpy forward pass, fan-in/fan-out orientation, seeding, noise."""

import numpy as np
import pytest
import torch

from structlearn.models.mlp import MLP, fan_in_norms, fan_out_norms

WIDTHS = [12, 10, 7, 5, 4, 3, 2]

NUMPY_ACT = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "linear": lambda z: z,
}


def numpy_taps(net, x, activation, output_activation=None):
    """Reference forward pass written with numpy: h_l = act(h_{l-1} W_l^T + b_l)."""
    taps, h = [], x
    weights = [
        (l.weight.detach().double().numpy(), l.bias.detach().double().numpy()) for l in net.layers
    ]
    for W, b in weights[:-1]:
        h = NUMPY_ACT[activation](h @ W.T + b)
        taps.append(h)
    W, b = weights[-1]
    out = h @ W.T + b
    if output_activation is not None:
        out = NUMPY_ACT[output_activation](out)
    taps.append(out)
    return taps


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_taps_equal_numpy_forward(activation):
    net = MLP(WIDTHS, activation, random_state=0)
    x = np.random.default_rng(1).normal(size=(17, 12))
    got = net(torch.as_tensor(x, dtype=torch.float32))
    want = numpy_taps(net, x, activation)
    assert [tuple(t.shape) for t in got] == [(17, w) for w in WIDTHS[1:]]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-5, atol=1e-5)


def test_output_activation_applied_to_last_tap_only():
    net = MLP([3, 4, 2], "relu", output_activation="sigmoid", random_state=2)
    x = np.random.default_rng(0).normal(size=(9, 3))
    got = net(torch.as_tensor(x, dtype=torch.float32))
    want = numpy_taps(net, x, "relu", "sigmoid")
    np.testing.assert_allclose(got[-1].detach().numpy(), want[-1], rtol=1e-5, atol=1e-6)
    assert float(got[-1].detach().min()) > 0 and float(got[-1].detach().max()) < 1


def test_fan_out_is_a_column_of_the_next_weight():
    net = MLP([2, 3, 4], "tanh", random_state=0)
    # next weight (out=4, in=3): column norms (5, 0, 1) differ from row norms.
    W = torch.tensor([[3.0, 0.0, 1.0], [4.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with torch.no_grad():
        net.layers[1].weight.copy_(W)
    np.testing.assert_allclose(net.hidden_fan_out(0).numpy(), [5.0, 0.0, 1.0])
    np.testing.assert_allclose(fan_out_norms(W).numpy(), [5.0, 0.0, 1.0])
    # Meaning of the orientation: a unit with zero fan-out cannot affect the output, whatever its
    # fan-in (row 1 of the first layer's weight).
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    before = net(x)[-1]
    with torch.no_grad():
        net.layers[0].weight[1] += 10.0
    after = net(x)[-1]
    assert torch.equal(before, after)
    with torch.no_grad():
        net.layers[0].weight[0] += 10.0
    assert not torch.allclose(net(x)[-1], after)


def test_fan_in_is_a_row_of_the_layer_weight():
    net = MLP([3, 2, 1], "tanh", random_state=0)
    W = torch.tensor([[1.0, 2.0, 2.0], [0.0, 0.0, 4.0]])
    with torch.no_grad():
        net.layers[0].weight.copy_(W)
    np.testing.assert_allclose(net.fan_in(0).numpy(), [3.0, 4.0])
    np.testing.assert_allclose(fan_in_norms(W, p=1).numpy(), [5.0, 4.0])
    assert net.fan_in(-1).shape == (1,)


def test_seeded_construction_and_init_bounds():
    a, b = MLP(WIDTHS, random_state=3), MLP(WIDTHS, random_state=3)
    c = MLP(WIDTHS, random_state=torch.Generator().manual_seed(3))
    d = MLP(WIDTHS, random_state=4)
    for la, lb, lc, ld in zip(a.layers, b.layers, c.layers, d.layers):
        assert torch.equal(la.weight, lb.weight) and torch.equal(la.bias, lb.bias)
        assert torch.equal(la.weight, lc.weight)
        assert not torch.equal(la.weight, ld.weight)
        bound = 1 / np.sqrt(la.in_features)
        assert float(la.weight.detach().abs().max()) <= bound
    # Uniform(-b, b) has variance b^2/3: check on the widest layer (120 weights) loosely.
    w = a.layers[0].weight.detach().numpy()
    assert abs(w.var() - (1 / 12) / 3) < 0.01


def test_noise_has_the_given_standard_deviation_in_training_mode_only():
    net = MLP([4, 50, 3], "tanh", noise_std=0.3, random_state=0)
    x = torch.randn(2000, 4, generator=torch.Generator().manual_seed(1))
    net.eval()
    clean = net(x)[0]
    assert torch.equal(clean, net(x)[0])
    net.train()
    torch.manual_seed(0)
    noise = (net(x)[0] - clean).detach().numpy()
    assert abs(noise.std() - 0.3) < 0.005  # 100k draws: std error ~0.0007
    assert abs(noise.mean()) < 0.005
    assert net.noise_variance == pytest.approx((0.09,))


def test_noise_per_layer():
    net = MLP([4, 5, 5, 3], "relu", noise_std=[0.0, 1.0], random_state=0)
    x = torch.randn(500, 4, generator=torch.Generator().manual_seed(1))
    net.eval()
    clean = net(x)
    net.train()
    noisy = net(x)
    assert torch.equal(noisy[0], clean[0])
    assert not torch.equal(noisy[1], clean[1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": [3]}, "widths"),
        ({"widths": [3, 0, 2]}, "widths"),
        ({"widths": [3, 2.5, 2]}, "widths"),
        ({"widths": [3, 2], "activation": "gelu"}, "activation"),
        ({"widths": [3, 2], "output_activation": "softmax"}, "output_activation"),
        ({"widths": [3, 4, 2], "noise_std": -0.1}, "noise_std"),
        ({"widths": [3, 4, 2], "noise_std": [0.1, 0.2]}, "noise_std"),
    ],
)
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_bad_input_and_layer_index():
    net = MLP([3, 4, 2], random_state=0)
    with pytest.raises(ValueError, match="x: expected shape"):
        net(torch.zeros(5, 4))
    with pytest.raises(ValueError, match="layer"):
        net.hidden_fan_out(1)  # only one hidden layer
    with pytest.raises(ValueError, match="layer"):
        net.fan_in(2)
    with pytest.raises(TypeError, match="random_state"):
        MLP([3, 2], random_state="seed")


def test_accuracy_is_the_share_of_rows_whose_argmax_logit_is_the_label():
    from structlearn.models.mlp import accuracy

    net = MLP([3, 4], "linear", random_state=0)
    X = np.random.default_rng(0).standard_normal((50, 3))
    with torch.no_grad():
        logits = net(torch.as_tensor(X, dtype=torch.float32))[-1].numpy()
    y = logits.argmax(1)
    y[:7] = (y[:7] + 1) % 4  # seven rows wrong
    assert accuracy(net, X, y) == pytest.approx(43 / 50, abs=0)
    with pytest.raises(
        ValueError, match=r"X, y: expected shapes \(n, d\) and \(n,\), got \(50, 3\) and \(49,\)"
    ):
        accuracy(net, X, y[:49])


def test_idnns_init_draws_a_two_sigma_truncated_normal_of_std_one_over_root_fan_in():
    from scipy.stats import truncnorm

    from structlearn.models.mlp import idnns_init_

    net = idnns_init_(MLP([400, 500, 3], "tanh", random_state=0), seed=7)
    W = net.layers[0].weight.detach().double().numpy() * np.sqrt(400)  # in units of the std
    assert np.abs(W).max() <= 2.0
    assert W.std() == pytest.approx(truncnorm(-2, 2).std(), rel=0.01)  # 0.8796, not 1
    assert all(float(layer.bias.detach().abs().max()) == 0.0 for layer in net.layers)
    again = idnns_init_(MLP([400, 500, 3], "tanh", random_state=1), seed=7)
    assert torch.equal(again.layers[1].weight, net.layers[1].weight)  # the seed fixes the net
    other = idnns_init_(MLP([400, 500, 3], "tanh", random_state=0), seed=8)
    assert not torch.equal(other.layers[0].weight, net.layers[0].weight)
    with pytest.raises(ValueError, match="seed: expected an integer >= 0, got -1"):
        idnns_init_(net, -1)
    with pytest.raises(TypeError, match="model: expected an MLP, got Linear"):
        idnns_init_(torch.nn.Linear(2, 2), 0)
