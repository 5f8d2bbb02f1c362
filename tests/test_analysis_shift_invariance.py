"""shift_invariance: a circulant ReduNet commutes with shifts exactly, a fixed window does not; the
FFT alignment equals the brute-force one; agreements are counted right; bad input is named."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from structlearn.analysis.shift_invariance import aligned_cosines, even_shifts, shift_invariance
from structlearn.models.redunet import ShiftInvariantReduNet1D


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _cos(a, b):
    return float(np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_aligned_cosine_equals_brute_force_maximum():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((5, 3, 11)), rng.standard_normal((5, 3, 11))
    brute = [max(_cos(a, np.roll(b, t, axis=-1)) for t in range(11)) for a, b in zip(A, B)]
    assert np.allclose(aligned_cosines(A, B), brute, atol=1e-12)


def test_circulant_redunet_is_equivariant_and_its_classifier_invariant():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 15)
    templates = rng.standard_normal((3, 2, 24))
    X = np.stack([np.roll(templates[j], rng.integers(24), axis=-1) for j in y])
    X = X + 0.3 * rng.standard_normal(X.shape)
    net = ShiftInvariantReduNet1D(n_layers=3, lift_channels=4, random_state=0).fit(X, y)
    res = shift_invariance(net.transform, X, [1, 7, 12], {"own": lambda X, F: net.predict(X)}, y)
    assert res.aligned_cosine == pytest.approx(1.0, abs=1e-9)
    assert res.equivariant_cosine == pytest.approx(1.0, abs=1e-9)
    assert res.feature_cosine < 0.9  # the features move with the signal
    own = res.predictions["own"]
    assert own.agreement == 1.0 and own.changed_fraction == 0.0
    assert own.shifted_accuracy == own.accuracy == net.score(X, y)


def test_fixed_window_is_neither_invariant_nor_equivariant():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 2, 16))
    window = np.zeros(16)
    window[:4] = 1.0
    res = shift_invariance(lambda X: X * window, X, [8])
    # f(S_8 x) keeps samples 8..11 of x in positions 0..3; f(x) keeps samples 0..3
    expected = np.mean([_cos(x[:, 8:12], x[:, 0:4]) for x in X])
    assert res.feature_cosine == pytest.approx(expected, abs=1e-12)
    # S_8 f(x) lives on positions 8..11, f(S_8 x) on 0..3: no overlap
    assert res.equivariant_cosine == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < res.aligned_cosine < 0.99


def test_agreement_and_accuracies_are_counted_per_pair():
    # classify by the sign of sample 0 of channel 0: the shift by 1 brings in sample T-1's sign
    X = np.zeros((4, 1, 5))
    X[:, 0, 0] = [1.0, 1.0, -1.0, -1.0]
    X[:, 0, 4] = [1.0, -1.0, -1.0, 1.0]
    y = np.array([1, 1, 0, 0])
    sign = {"sign": lambda X, F: (X[:, 0, 0] > 0).astype(int)}
    res = shift_invariance(lambda X: X, X, [1, 5], sign, y)
    p = res.predictions["sign"]
    assert p.agreement_by_shift.tolist() == [0.5, 1.0]  # shift 5 = the identity
    assert p.agreement == 0.75 and p.changed_fraction == 0.25
    assert p.accuracy == 1.0 and p.shifted_accuracy == 0.75
    assert set(res.summary()) == {"feature_cosine", "aligned_cosine", "equivariant_cosine"}
    assert res.aligned_cosine == pytest.approx(1.0, abs=1e-12)  # the identity commutes


def test_even_shifts_are_distinct_nonzero_and_spread():
    for T in (2, 5, 16, 100, 200):
        for n in (1, 3, 7, 199, 500):
            s = even_shifts(T, n)
            assert len(s) == min(n, T - 1) == len(set(s))
            assert min(s) >= 1 and max(s) <= T - 1
    assert even_shifts(200, 199) == list(range(1, 200))


def test_bad_input_is_refused_by_name():
    X = np.zeros((3, 2, 8))
    X[:, 0, 0] = 1.0
    with pytest.raises(ValueError, match="features: expected feature maps of shape"):
        shift_invariance(lambda X: X.reshape(len(X), -1), X, [1])
    with pytest.raises(ValueError, match="shifts"):
        shift_invariance(lambda X: X, X, [1.5])
    with pytest.raises(ValueError, match="shifts"):
        shift_invariance(lambda X: X, X, [])
    with pytest.raises(ValueError, match="X"):
        shift_invariance(lambda X: X, X[:, 0], [1])
    with pytest.raises(ValueError, match="y"):
        shift_invariance(lambda X: X, X, [1], y=[0, 1])
    with pytest.raises(ValueError, match="n_shifts"):
        even_shifts(8, 0)
