"""layer_rate_reduction: the ΔR it measures is the networks' own record and delta_R_nats; the ceiling
is attained by a tight frame; scramble_operators keeps spectra and breaks the ascent."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from structlearn.analysis.layer_rate_reduction import layer_rate_reduction, scramble_operators
from structlearn.models.blocks import sphere
from structlearn.models.redunet import ReduNet, ShiftInvariantReduNet1D
from structlearn.objectives.coding_rate import coding_rate, delta_R_nats


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _mixture(n_per_class=40, d=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per_class)
    return rng.standard_normal((k, d))[y] + 0.6 * rng.standard_normal((y.size, d)), y


@pytest.fixture(scope="module")
def vector_net():
    X, y = _mixture()
    return ReduNet(n_layers=6, eta=0.5, eps=0.5, lmbda=500.0).fit(X, y), X, y


def test_measured_delta_R_is_the_networks_record_and_delta_R_nats(vector_net):
    net, X, y = vector_net
    layers = net.transform_all(X)
    res = layer_rate_reduction(layers, y, eps=0.5)
    assert np.allclose(res.delta_R, net.delta_R_, atol=1e-10)
    by_hand = [delta_R_nats(Z, y, 0.5, n_classes=3) for Z in layers]
    assert np.allclose(res.increments, np.diff(by_hand), atol=1e-10)
    assert res.total_increase == pytest.approx(by_hand[-1] - by_hand[0], abs=1e-10)
    assert res.n_decreasing == int(np.sum(np.diff(by_hand) < 0)) == 0
    assert res.first_decrease is None
    assert res.min_increment == pytest.approx(np.diff(by_hand).min(), abs=1e-10)


def test_signals_are_measured_over_all_shifts_as_the_circulant_net_records():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], 12)
    X = rng.standard_normal((2, 2, 10))[y] + 0.4 * rng.standard_normal((24, 2, 10))
    net = ShiftInvariantReduNet1D(n_layers=3, lift_channels=3, random_state=0).fit(X, y)
    res = layer_rate_reduction(net.transform_all(X), y, eps=0.5)
    assert np.allclose(res.delta_R, net.delta_R_, atol=1e-9)
    # ceiling over D = C * T = 3 * 10 dimensions
    assert res.ceiling == pytest.approx(15 * np.log1p(4.0))


def test_first_decrease_counts_layers_from_one():
    y = np.array([0, 0, 1, 1])
    a = sphere(np.array([[1.0, 0.2], [1.0, -0.2], [0.2, 1.0], [-0.2, 1.0]]))
    b = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # more ΔR than a
    res = layer_rate_reduction([a, b, a, b, a], y, eps=0.5)
    assert res.first_decrease == 2 and res.n_decreasing == 2
    assert res.summary()["first_decrease"] == 2


def test_ceiling_is_attained_by_a_tight_frame():
    # m unit vectors with Z'Z = (m/d) I maximise R = 1/2 logdet(I + d/(m eps^2) Z'Z)
    d, eps = 4, 0.7
    Z = np.vstack([np.eye(d), -np.eye(d)])  # 8 unit rows, Z'Z = 2 I
    y = np.array([0, 1] * 4)
    R = float(coding_rate(torch.as_tensor(Z), eps))
    res = layer_rate_reduction([Z, Z], y, eps)
    assert res.ceiling == pytest.approx(R, rel=1e-12)
    assert res.start <= res.ceiling and res.start_fraction == pytest.approx(res.start / R)


def test_scrambled_operators_keep_spectra_and_break_the_ascent(vector_net):
    net, X, y = vector_net
    E_before = net.E_.copy()
    other = scramble_operators(net, 0)
    assert np.array_equal(net.E_, E_before)  # the fitted net is left alone
    for A, B in [(net.E_[2], other.E_[2]), (net.C_[4, 1], other.C_[4, 1])]:
        assert np.allclose(np.linalg.eigvalsh(A), np.linalg.eigvalsh(B), atol=1e-12)
        assert np.max(np.abs(A - B)) > 1e-3
    res = layer_rate_reduction(other.transform_all(X), y, eps=0.5)
    assert res.start == pytest.approx(net.delta_R_[0])  # same input
    # measured: the true layers gain 0.11 nats each; the scrambled ones 0.015 in all, with one
    # of six layers lowering ΔR (1 to 5 of 6 over scrambling seeds 0-4)
    assert res.n_decreasing >= 1 and res.min_increment < 0
    assert (
        res.increments[res.first_decrease - 1]
        < 0
        <= res.increments[: res.first_decrease - 1].min(initial=0)
    )
    assert res.total_increase < 0.1 * (net.delta_R_[-1] - net.delta_R_[0])


def test_scrambled_circulant_blocks_keep_their_spectra():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((12, 2, 8)), np.arange(12) % 2
    net = ShiftInvariantReduNet1D(n_layers=2, lift_channels=4, random_state=0).fit(X, y)
    other = scramble_operators(net, 1)
    for f in range(net.E_.shape[1]):
        assert np.allclose(np.linalg.eigvalsh(other.E_[1, f]), np.linalg.eigvalsh(net.E_[1, f]))
    # a channel permutation commutes with shifts: the scrambled net is still equivariant
    out = other.transform(X)
    assert np.allclose(other.transform(np.roll(X, 3, axis=-1)), np.roll(out, 3, axis=-1))


def test_bad_input_is_refused_by_name(vector_net):
    _, X, y = vector_net
    Z = sphere(X)
    with pytest.raises(ValueError, match="layers: expected a list of at least two"):
        layer_rate_reduction([Z], y, 0.5)
    with pytest.raises(ValueError, match="layers: expected a list"):
        layer_rate_reduction(np.stack([Z, Z]), y, 0.5)
    with pytest.raises(ValueError, match="eps"):
        layer_rate_reduction([Z, Z], y, 0.0)
    with pytest.raises(ValueError, match=r"layers\[1\]: has 5 samples"):
        layer_rate_reduction([Z, Z[:5]], y, 0.5)
    with pytest.raises(ValueError, match=r"layers\[0\].*NaN"):
        layer_rate_reduction([np.full_like(Z, np.nan), Z], y, 0.5)
    with pytest.raises(TypeError, match="net: expected a fitted ReduNet"):
        scramble_operators(ReduNet(), 0)
