"""Binning estimators and the binned information plane against plain references (nats)."""

import itertools

import numpy as np
import pytest
import torch

from structlearn.estimators import (
    bin_indices,
    binning_entropy,
    binning_mutual_information,
    information_plane_binning,
    information_plane_binning_batch,
    row_keys,
)


def reference_plane(activations, labels, n_bins):
    """The papers' formulation written plainly: bins, row tuples, dict counts, loops over labels."""
    lo, hi = activations.min(), activations.max()
    codes = np.clip(np.floor((activations - lo) / (hi - lo) * n_bins), 0, n_bins - 1).astype(int)
    rows = [tuple(r) for r in codes]

    def h(items):
        counts = {}
        for it in items:
            counts[it] = counts.get(it, 0) + 1
        p = np.array(list(counts.values()), dtype=float) / len(items)
        return float(-(p * np.log(p)).sum())

    h_t = h(rows)
    h_t_given_y = 0.0
    for c in set(labels.tolist()):
        sub = [r for r, l in zip(rows, labels) if l == c]
        h_t_given_y += len(sub) / len(rows) * h(sub)
    return h_t, h_t - h_t_given_y


@pytest.mark.parametrize("n_bins", [2, 5, 30])
def test_information_plane_matches_plain_reference(n_bins):
    rng = np.random.default_rng(0)
    act = np.tanh(rng.normal(size=(300, 4)))
    labels = rng.integers(0, 3, size=300)
    ixt, ity = information_plane_binning(act, labels, n_bins=n_bins)
    ref = reference_plane(act, labels, n_bins)
    assert ixt == pytest.approx(ref[0], abs=1e-12)
    assert ity == pytest.approx(ref[1], abs=1e-12)


def test_information_plane_identity_layer_gives_log_n_and_h_y():
    # a layer that keeps every input distinct: I(X;T) = log n, I(T;Y) = H(Y)
    act = np.eye(64)
    labels = np.repeat([0, 1, 1, 1], 16)
    ixt, ity = information_plane_binning(act, labels, n_bins=2)
    h_y = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert ixt == pytest.approx(np.log(64), abs=1e-12)
    assert ity == pytest.approx(h_y, abs=1e-12)


def test_batch_equals_single_and_global_range():
    rng = np.random.default_rng(1)
    acts = rng.normal(size=(5, 200, 3))
    labels = rng.integers(0, 2, size=200)
    ixt, ity = information_plane_binning_batch(acts, labels, n_bins=10)
    for i in range(5):
        assert (ixt[i], ity[i]) == pytest.approx(information_plane_binning(acts[i], labels, 10))
    g = information_plane_binning_batch(acts, labels, n_bins=10, value_range="global")
    vr = (acts.min(), acts.max())
    assert g[0][2] == pytest.approx(information_plane_binning(acts[2], labels, 10, vr)[0])


def test_data_processing_inequality_on_deterministic_chain():
    # X -> T1 = tanh(W1 x) -> T2 = tanh(W2 T1) -> T3 = sign-ish coarse layer: I(X;T) must not grow
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, size=(512, 9)).astype(float)
    labels = (x.sum(1) > 4).astype(int)
    t1 = np.round(np.tanh(x @ rng.normal(size=(9, 6))), 1)
    t2 = np.round(np.tanh(t1 @ rng.normal(size=(6, 4))), 1)
    t3 = (t2 > 0).astype(float)
    vr = (-1.0, 1.0)
    points = [information_plane_binning(t, labels, 20, vr) for t in (x, t1, t2, t3)]
    # exact DPI holds here because each layer is a function of the previous binned layer
    for (ixt_a, ity_a), (ixt_b, ity_b) in itertools.pairwise(points):
        assert ixt_b <= ixt_a + 1e-12
        assert ity_b <= ity_a + 1e-12


def test_invariant_to_sample_permutation_and_label_renaming():
    rng = np.random.default_rng(3)
    act = rng.normal(size=(400, 5))
    labels = rng.integers(0, 3, size=400)
    perm = rng.permutation(400)
    base = information_plane_binning(act, labels, 8)
    assert information_plane_binning(act[perm], labels[perm], 8) == pytest.approx(base, abs=1e-12)
    renamed = np.array([2, 0, 1])[labels]
    assert information_plane_binning(act, renamed, 8) == pytest.approx(base, abs=1e-12)
    assert information_plane_binning(torch.tensor(act), torch.tensor(labels), 8) == pytest.approx(
        base
    )


def test_row_keys_overflow_path_matches_unique_rows():
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 1000, size=(500, 12))  # 1000**12 overflows int64: compression path
    codes[250:] = codes[:250]
    keys = row_keys(codes)
    _, ref = np.unique(codes, axis=0, return_inverse=True)
    assert np.array_equal(keys, ref.reshape(-1))


def test_bin_indices_edges_and_width_mode():
    x = np.array([[-1.0], [-0.5], [0.0], [0.99], [1.0], [5.0]])
    assert bin_indices(x, 4, (-1.0, 1.0)).ravel().tolist() == [0, 1, 2, 3, 3, 3]
    assert bin_indices(x, bin_width=0.5).ravel().tolist() == [0, 1, 2, 3, 4, 12]


def test_binning_entropy_miller_madow_and_constant():
    x = np.array([0.0, 0.0, 1.0, 2.0])
    plugin = binning_entropy(x, n_bins=3)
    assert binning_entropy(x, n_bins=3, miller_madow=True) == pytest.approx(plugin + 2 / 8)
    assert binning_entropy(np.full((10, 2), 3.0)) == 0.0


def test_binning_mi_symmetric_for_continuous_pair():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 1))
    y = x + rng.normal(size=(300, 1))
    assert binning_mutual_information(x, y, 6) == pytest.approx(
        binning_mutual_information(y, x, 6), abs=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": 0}, "n_bins"),
        ({"n_bins": -3}, "n_bins"),
        ({"value_range": (1.0, 1.0)}, "value_range"),
        ({"value_range": "wide"}, "value_range"),
    ],
)
def test_bad_bins(kwargs, match):
    with pytest.raises(ValueError, match=match):
        information_plane_binning(np.zeros((4, 2)), [0, 1, 0, 1], **kwargs)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="labels"):
        information_plane_binning(np.zeros((4, 2)), [0, 1, 0])
    bad = np.zeros((4, 2))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="activations"):
        information_plane_binning(bad, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        binning_mutual_information(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="bin_width"):
        binning_entropy(np.zeros(5), bin_width=0.0)
    with pytest.raises(ValueError, match="value_range"):
        information_plane_binning_batch([np.zeros((4, 2))], [0, 1, 0, 1], value_range="local")
