"""ReduNet (Chan et al. 2022): its operators are the gradient of ΔR, ΔR rises layer by layer, the
shift-invariant variant commutes with circular shifts, and bad input is refused by name."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from structlearn.models.blocks import (
    circular_lift,
    fourier_delta_R,
    fourier_layer,
    fourier_operators,
    redunet_layer,
    redunet_operators,
    sphere,
)
from structlearn.models.redunet import ReduNet, ShiftInvariantReduNet1D, ShiftInvariantReduNet2D
from structlearn.objectives.coding_rate import rate_reduction


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _gaussian_mixture(n_per_class=60, d=10, k=4, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((k, d))
    y = np.repeat(np.arange(k), n_per_class)
    return means[y] + noise * rng.standard_normal((y.size, d)), y


def _autograd_delta_R(Z, labels, eps, build=lambda z: z):
    Zt = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    out = rate_reduction(build(Zt), torch.as_tensor(labels), eps)
    out.deltaR.backward()
    return float(out.deltaR.detach()), Zt.grad.numpy()


# --------------------------------------------------------------------------- vector ReduNet


@pytest.mark.parametrize("eps", [0.1, 0.5, 2.0])
def test_operators_equal_gradient_of_delta_R(eps):
    # dΔR/dZ (rows = samples) = Z E - sum_j gamma_j Pi_j Z C^j, with no further factor.
    rng = np.random.default_rng(1)
    Z, y = rng.standard_normal((45, 7)), rng.permutation(np.arange(45) % 3)
    _, grad = _autograd_delta_R(Z, y, eps)
    E, C, gamma = redunet_operators(Z, y, 3, eps)
    ours = Z @ E - sum(gamma[j] * (y == j)[:, None] * (Z @ C[j]) for j in range(3))
    assert np.max(np.abs(ours - grad)) < 1e-10 * max(1.0, np.max(np.abs(grad)))
    assert np.allclose(gamma, [15 / 45] * 3, atol=0)


def test_operators_match_explicit_inverse_per_class():
    # The paper's column layout with dense Pi_j, written plainly.
    rng = np.random.default_rng(2)
    m, d, k, eps = 30, 5, 3, 0.5
    Z, y = rng.standard_normal((m, d)), np.arange(m) % k
    E, C, _ = redunet_operators(Z, y, k, eps)
    Zc = Z.T  # (d, m)
    alpha = d / (m * eps**2)
    assert np.allclose(E, alpha * np.linalg.inv(np.eye(d) + alpha * Zc @ Zc.T), rtol=1e-12)
    for j in range(k):
        Pi = np.diag((y == j).astype(float))
        a_j = d / (np.trace(Pi) * eps**2)
        assert np.allclose(C[j], a_j * np.linalg.inv(np.eye(d) + a_j * Zc @ Pi @ Zc.T), rtol=1e-12)


def test_layer_with_uniform_membership_is_closed_form():
    # lmbda = 0 makes pi_hat = 1/k for every class: z + eta (E z - sum_j gamma_j / k C^j z), on S.
    rng = np.random.default_rng(3)
    Z, y = sphere(rng.standard_normal((20, 4))), np.arange(20) % 2
    E, C, gamma = redunet_operators(Z, y, 2, 0.5)
    out, pi = redunet_layer(Z, E, C, gamma, eta=0.3, lmbda=0.0)
    expected = []
    for z in Z:
        step = E @ z - sum(gamma[j] / 2 * C[j] @ z for j in range(2))
        v = z + 0.3 * step
        expected.append(v / np.linalg.norm(v))
    assert np.allclose(out, expected, atol=1e-13)
    assert np.allclose(pi, 0.5, atol=0)


def test_delta_R_does_not_decrease_on_gaussian_mixture():
    X, y = _gaussian_mixture()
    net = ReduNet(n_layers=6, eta=0.5, eps=0.5).fit(X, y)
    assert np.all(np.diff(net.delta_R_) >= -1e-12)
    # measured: 1.33 -> 1.60 nats over 6 layers; memberships estimated right for 99% of samples.
    assert net.delta_R_[-1] - net.delta_R_[0] > 0.2
    assert net.train_membership_accuracy_.min() >= 0.95


def test_recorded_delta_R_matches_plain_slogdet():
    X, y = _gaussian_mixture(n_per_class=20, d=6, k=3)
    net = ReduNet(n_layers=2, eps=0.7).fit(X, y)
    for Z, recorded in zip(net.transform_all(X), net.delta_R_):
        m, d = Z.shape
        R = 0.5 * np.linalg.slogdet(np.eye(d) + d / (m * 0.49) * Z.T @ Z)[1]
        Rc = 0.0
        for j in range(3):
            Zj = Z[y == j]
            Rc += (
                len(Zj)
                / m
                * 0.5
                * np.linalg.slogdet(np.eye(d) + d / (len(Zj) * 0.49) * Zj.T @ Zj)[1]
            )
        assert abs((R - Rc) - recorded) < 1e-10


def test_permuting_samples_and_relabelling_change_nothing():
    X, y = _gaussian_mixture(n_per_class=25, d=8, k=3, seed=4)
    net = ReduNet(n_layers=3).fit(X, y)
    perm = np.random.default_rng(0).permutation(y.size)
    relabel = np.array([2, 0, 1])
    other = ReduNet(n_layers=3).fit(X[perm], relabel[y[perm]])
    assert np.allclose(other.transform(X), net.transform(X), atol=1e-10)
    assert np.array_equal(other.predict(X), relabel[net.predict(X)])
    assert np.allclose(other.delta_R_, net.delta_R_, atol=1e-10)


def test_nearest_subspace_on_orthogonal_classes_is_exact():
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1, 2], 30)
    basis = np.eye(6).reshape(3, 2, 6)  # class j lives in coordinates 2j, 2j+1
    X = np.einsum("nk,nkd->nd", rng.standard_normal((90, 2)), basis[y])
    net = ReduNet(n_layers=1, n_components=2).fit(X, y)
    assert net.score(X, y) == 1.0


# --------------------------------------------------------------------------- shift-invariant ReduNet


def _all_shifts(Z):
    """(m, C, T) -> (m * T, C * T): every circular shift of every signal, flattened."""
    T = Z.shape[-1]
    return torch.cat([torch.roll(Z, s, dims=-1).reshape(Z.shape[0], -1) for s in range(T)])


def test_fourier_operators_are_gradient_of_delta_R_of_all_shifts():
    rng = np.random.default_rng(6)
    m, c, T, k, eps = 12, 3, 7, 3, 0.6
    Z, y = sphere(rng.standard_normal((m, c, T)), axes=(1, 2)), np.arange(m) % k
    labels_all = np.tile(y, T)
    value, grad = _autograd_delta_R(Z, labels_all, eps, build=_all_shifts)
    assert abs(fourier_delta_R(Z, y, k, eps) - value) < 1e-10
    E, C, gamma = fourier_operators(Z, y, k, eps)
    V = np.fft.rfft(Z, axis=-1, norm="ortho")
    onehot = (y[:, None] == np.arange(k)).T  # (k, m)
    step = np.einsum("fcd,ndf->ncf", E, V) - np.einsum("j,jn,jfcd,ndf->ncf", gamma, onehot, C, V)
    ours = np.fft.irfft(step, n=T, axis=-1, norm="ortho")
    assert np.max(np.abs(ours - grad)) < 1e-9


def test_circular_lift_equals_direct_sum():
    rng = np.random.default_rng(7)
    X, W = rng.standard_normal((3, 2, 6)), rng.standard_normal((4, 2, 8))  # kernel wraps
    out = circular_lift(X, W)
    ref = np.zeros((3, 4, 6))
    for n in range(3):
        for o in range(4):
            for t in range(6):
                ref[n, o, t] = sum(
                    W[o, c, s] * X[n, c, (t - s) % 6] for c in range(2) for s in range(8)
                )
    assert np.allclose(out, ref, atol=1e-12)


def test_fourier_layer_commutes_with_shift_on_random_operators():
    rng = np.random.default_rng(8)
    Z, y = rng.standard_normal((10, 3, 8)), np.arange(10) % 2
    E, C, gamma = fourier_operators(Z, y, 2, 0.5)
    out, pi = fourier_layer(Z, E, C, gamma, 0.5, 50.0)
    out_s, pi_s = fourier_layer(np.roll(Z, 3, axis=-1), E, C, gamma, 0.5, 50.0)
    assert np.max(np.abs(out_s - np.roll(out, 3, axis=-1))) < 1e-12
    assert np.allclose(pi_s, pi, atol=1e-12)


@pytest.fixture(scope="module")
def shift_net_and_data():
    rng = np.random.default_rng(9)
    y = np.repeat([0, 1, 2], 20)
    templates = rng.standard_normal((3, 4, 32))
    X = np.stack([np.roll(templates[j], rng.integers(32), axis=-1) for j in y])
    X = X + 0.3 * rng.standard_normal(X.shape)
    net = ShiftInvariantReduNet1D(n_layers=4, lift_channels=8, kernel_size=5, random_state=0)
    return net.fit(X, y), X, y


@pytest.mark.parametrize("shift", [1, 5, 31])
def test_shift_invariant_redunet_commutes_with_circular_shifts(shift_net_and_data, shift):
    net, X, _ = shift_net_and_data
    out = net.transform(X)
    out_shifted = net.transform(np.roll(X, shift, axis=-1))
    assert np.max(np.abs(out_shifted - np.roll(out, shift, axis=-1))) < 1e-5
    assert np.max(np.abs(out_shifted - out)) > 0.1  # the output is not trivially shift-invariant
    assert np.array_equal(net.predict(np.roll(X, shift, axis=-1)), net.predict(X))


def test_shift_invariant_delta_R_does_not_decrease(shift_net_and_data):
    net, X, y = shift_net_and_data
    assert np.all(np.diff(net.delta_R_) >= -1e-9)
    assert net.delta_R_[-1] > net.delta_R_[0] + 10.0  # measured: 30.5 -> 70.0 nats over 4 layers
    assert net.score(X, y) >= 0.95


def test_shift_invariant_accepts_one_channel_as_2d():
    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((12, 8)), np.arange(12) % 2
    a = ShiftInvariantReduNet1D(n_layers=1, lift_channels=3, random_state=0).fit(X, y)
    b = ShiftInvariantReduNet1D(n_layers=1, lift_channels=3, random_state=0).fit(X[:, None], y)
    assert np.allclose(a.transform(X), b.transform(X[:, None]), atol=0)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make", [lambda: ReduNet(n_layers=1), lambda: ShiftInvariantReduNet1D(n_layers=1)]
)
def test_bad_input_is_refused_by_name(make):
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((20, 6)), np.arange(20) % 2
    with pytest.raises(NotFittedError):
        make().predict(X)
    with pytest.raises(NotFittedError):
        make().transform(X)
    net = make().fit(X, y)
    with pytest.raises(ValueError, match=r"X has 5 features, but .* expecting 6"):
        net.predict(X[:, :5])
    with pytest.raises(ValueError, match="y: expected at least 2 classes"):
        make().fit(X, np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="y: Unknown label type"):
        make().fit(X, np.linspace(0, 1, 20))
    for eta in (0.0, -0.5):
        with pytest.raises(ValueError, match="eta"):
            make().set_params(eta=eta).fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        make().set_params(eps=0.0).fit(X, y)
    with pytest.raises(ValueError, match="X: contains 1 NaN"):
        make().fit(np.where(np.eye(20, 6, dtype=bool) & (np.arange(6) == 0), np.nan, X), y)


# --------------------------------------------------------------------------- 2-D shifts


def _all_shifts_2d(Z):
    """(m, C, H, W) -> (m * H * W, C * H * W): every 2-D circular shift, flattened."""
    H, W = Z.shape[-2:]
    return torch.cat(
        [
            torch.roll(Z, (a, b), dims=(-2, -1)).reshape(Z.shape[0], -1)
            for a in range(H)
            for b in range(W)
        ]
    )


def test_2d_fourier_operators_are_gradient_of_delta_R_of_all_shifts():
    rng = np.random.default_rng(12)
    m, c, H, W, k, eps = 8, 2, 4, 3, 2, 0.8
    Z, y = sphere(rng.standard_normal((m, c, H, W)), axes=(1, 2, 3)), np.arange(m) % k
    value, grad = _autograd_delta_R(Z, np.tile(y, H * W), eps, build=_all_shifts_2d)
    assert abs(fourier_delta_R(Z, y, k, eps) - value) < 1e-10
    E, C, gamma = fourier_operators(Z, y, k, eps)
    assert E.shape == (H * (W // 2 + 1), c, c)
    V = np.fft.rfft2(Z, norm="ortho")  # (m, c, H, W // 2 + 1)
    onehot = (y[:, None] == np.arange(k)).astype(float)
    EV = np.einsum("fcd,ndf->ncf", E, V.reshape(m, c, -1))
    CV = np.einsum("jfcd,ndf->jncf", C, V.reshape(m, c, -1))
    step = EV - np.einsum("j,nj,jncf->ncf", gamma, onehot, CV)
    ours = np.fft.irfft2(step.reshape(V.shape), s=(H, W), norm="ortho")
    assert np.max(np.abs(ours - grad)) < 1e-9


def test_shift_invariant_2d_commutes_with_2d_circular_shifts():
    rng = np.random.default_rng(13)
    y = np.repeat([0, 1], 12)
    X = rng.standard_normal((2, 2, 6, 5))[y] + 0.3 * rng.standard_normal((24, 2, 6, 5))
    net = ShiftInvariantReduNet2D(n_layers=3, lift_channels=4, kernel_size=3, random_state=0)
    out = net.fit(X, y).transform(X)
    for shift in [(1, 0), (0, 2), (3, 4)]:
        moved = net.transform(np.roll(X, shift, axis=(2, 3)))
        assert np.max(np.abs(moved - np.roll(out, shift, axis=(2, 3)))) < 1e-5
        assert np.max(np.abs(moved - out)) > 0.1
    assert net.kernels_.shape == (4, 2, 3, 3)
    assert np.array_equal(net.predict(np.roll(X, (2, 3), axis=(2, 3))), net.predict(X))
