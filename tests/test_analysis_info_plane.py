"""Tests for structlearn.analysis.info_plane: the plane, SNR phases, compression and the IB bound."""

from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from structlearn.analysis.info_plane import (
    analyze_information_plane,
    compression,
    detect_phase_transition,
    ib_bound_at,
    information_plane_points,
)
from structlearn.data.tishby import load_tishby_task
from structlearn.data.tishby_rule import tishby_joint
from structlearn.estimators import kde_mi_bounds
from structlearn.models.mlp import MLP
from structlearn.recordings import Recordings, RecordingWriter
from structlearn.train import log_spaced_epochs
from structlearn.utils.io import atomic_write_json, read_json


@pytest.fixture(scope="module")
def task():
    return load_tishby_task()


def plain_entropy(items) -> float:
    counts = np.array(list(Counter(items).values()), dtype=float)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def random_net_recordings(task, n_epochs=4, seed=0):
    """A 12-10-7-5-4-3-2 tanh net whose weights grow over 'epochs' (a stand-in for training)."""
    net = MLP([12, 10, 7, 5, 4, 3, 2], "tanh", random_state=seed)
    x = torch.as_tensor(task.X, dtype=torch.float32)
    per_epoch = []
    with torch.no_grad():
        for e in range(n_epochs):
            for layer in net.layers:
                layer.weight.mul_(1.0 + 0.5 * (e > 0))
            per_epoch.append([t.numpy().copy() for t in net(x)])
    acts = [np.stack([snap[i] for snap in per_epoch]) for i in range(6)]
    return acts


# -------------------------------------------------------------------------------- the plane
def test_identity_network_puts_every_layer_at_the_input_point(task, tmp_path):
    writer = RecordingWriter(
        layer_names=["a", "b", "c"],
        n_units=[12] * 3,
        n_eval=4096,
        labels=task.y,
        activation_dtype="float16",
        gradient_groups=None,
        run_dir=tmp_path,
    )
    for epoch in (0, 3, 10):
        writer.add(epoch, [task.X] * 3, None)
    writer.flush()
    writer.write_index()
    res = analyze_information_plane(tmp_path)  # read through load_recordings
    h_y = plain_entropy(task.y.tolist())
    np.testing.assert_allclose(res.I_XT_nats, np.log(4096), atol=1e-12)
    np.testing.assert_allclose(res.I_TY_nats, h_y, atol=1e-12)
    assert res.H_X_nats == pytest.approx(np.log(4096)) and res.H_Y_nats == pytest.approx(h_y)
    assert res.epochs.tolist() == [0, 3, 10]
    assert res.compression_nats.tolist() == [0.0, 0.0, 0.0] and res.compresses == [False] * 3
    assert res.snr_status.startswith("not measured")
    ax = res.plot()  # three layers ending at one point share one label instead of overprinting
    assert [t.get_text() for t in ax.texts] == ["a, b, c"]
    plt.close(ax.figure)
    # every binned state distinct: binning gives I(T;Y) = H(Y) even with the labels shuffled
    np.testing.assert_allclose(res.I_TY_null_nats, h_y, atol=1e-12)


def test_shuffled_label_floor_is_seeded_averaged_and_plotted(task):
    acts = random_net_recordings(task, n_epochs=3)
    rec = Recordings.from_arrays(acts, task.y, [0, 10, 100], layer_names=list("abcdef"))
    res = analyze_information_plane(rec, null_shuffles=3, random_state=1)
    again = analyze_information_plane(rec, null_shuffles=3, random_state=1)
    np.testing.assert_array_equal(res.I_TY_null_nats, again.I_TY_null_nats)
    rng = np.random.default_rng(1)
    by_hand = np.mean(
        [
            analyze_information_plane(
                rec, labels=rng.permutation(task.y), null_shuffles=0
            ).I_TY_nats
            for _ in range(3)
        ],
        axis=0,
    )
    np.testing.assert_allclose(res.I_TY_null_nats, by_hand, atol=1e-12)
    assert np.all((res.I_TY_null_nats >= 0) & (res.I_TY_null_nats <= res.H_Y_nats + 1e-12))
    # an untrained net's wide layers sit at the floor: binning cannot separate them from chance
    np.testing.assert_allclose(res.I_TY_null_nats[0], res.H_Y_nats, atol=1e-12)
    assert "I_TY_null_nats" in res.to_dict()
    ax = res.plot()
    assert "I(T;Y), labels shuffled" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(ax.figure)
    assert analyze_information_plane(rec, null_shuffles=0).I_TY_null_nats is None
    with pytest.raises(ValueError, match="null_shuffles"):
        analyze_information_plane(rec, null_shuffles=-1)


def test_binning_equals_a_brute_force_count(task):
    acts = random_net_recordings(task, n_epochs=2)
    rec = Recordings.from_arrays(acts, task.y, [0, 5])
    ixt, ity = information_plane_points(rec, n_bins=30, layers=[1, 4])
    for row, layer in enumerate([1, 4]):
        lo, hi = acts[layer].min(), acts[layer].max()  # "layer": one grid over the epochs
        for col in range(2):
            a = acts[layer][col].astype(np.float64)
            codes = np.clip(np.floor((a - lo) / (hi - lo) * 30), 0, 29).astype(int)
            states = [tuple(r) for r in codes]
            h_t = plain_entropy(states)
            h_t_given_y = sum(
                np.mean(task.y == c) * plain_entropy([s for s, y in zip(states, task.y) if y == c])
                for c in (0, 1)
            )
            assert ixt[row, col] == pytest.approx(h_t, abs=1e-10)
            assert ity[row, col] == pytest.approx(h_t - h_t_given_y, abs=1e-10)


def test_ib_bound_lies_on_or_above_every_layer_point(task):
    acts = random_net_recordings(task, n_epochs=3)
    rec = Recordings.from_arrays([*acts, np.stack([task.X] * 3)], task.y, [0, 1, 2])
    p = tishby_joint(0.5)
    res = analyze_information_plane(rec, p_xy=p, value_range=(-1.0, 1.0))
    bound = ib_bound_at(res.ib, res.I_XT_nats)
    assert (bound - res.I_TY_nats).min() >= -1e-9  # every layer at every epoch, under p(x, y)
    assert res.estimator_options["I_TY_under"] == "p_xy"
    assert (res.ib_gap_nats >= -1e-9).all()
    # the identity layer sits at (H(X), I(X;Y)): on the bound, gap 0
    assert res.ib_points_nats[-1, 0] == pytest.approx(np.log(4096), abs=1e-12)
    assert res.ib_points_nats[-1, 1] == pytest.approx(res.ib.I_XY, abs=1e-12)
    assert res.ib_gap_nats[-1] == pytest.approx(0.0, abs=1e-12)
    # the final points are the plane's last column (binning: the same encoder)
    np.testing.assert_allclose(res.ib_points_nats[:, 0], res.I_XT_nats[:, -1])
    np.testing.assert_allclose(res.ib_points_nats[:, 1], res.I_TY_nats[:, -1])


def test_deterministic_joint_gives_the_label_plane(task):
    acts = random_net_recordings(task, n_epochs=2)
    rec = Recordings.from_arrays(acts, task.y)
    by_labels = information_plane_points(rec)
    res = analyze_information_plane(rec, p_xy=tishby_joint(None), ib_betas=[0.5, 5.0, 50.0])
    np.testing.assert_allclose(res.I_XT_nats, by_labels[0], atol=1e-12)
    np.testing.assert_allclose(res.I_TY_nats, by_labels[1], atol=1e-12)


def test_kde_estimator_matches_the_pairwise_bounds_and_a_closed_form():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    far = np.where(y[:, None] == 0, 0.0, 20.0) + 0.01 * rng.normal(size=(200, 2))
    near = 0.01 * rng.normal(size=(200, 2))
    rec = Recordings.from_arrays([np.stack([near, far])], y, [0, 7])
    ixt, ity = information_plane_points(rec, estimator="kde", noise_variance=0.1)
    b = kde_mi_bounds(far, y, 0.1)
    assert (ixt[0, 1], ity[0, 1]) == pytest.approx((b["I_XT_upper_nats"], b["I_TY_upper_nats"]))
    assert ity[0, 1] == pytest.approx(np.log(2), abs=1e-6)  # separated classes: I(T;Y) = H(Y)
    assert ity[0, 0] < 0.01  # one blob: no label information
    low = information_plane_points(rec, estimator="kde", noise_variance=0.1, kde_bound="lower")
    assert low[0][0, 1] == pytest.approx(b["I_XT_lower_nats"])


# ------------------------------------------------------------------------------ SNR phases
def brute_force_split(x):
    costs = {k: x[:k].var() * k + x[k:].var() * (len(x) - k) for k in range(2, len(x) - 1)}
    return min(costs, key=costs.get)


def test_snr_transition_found_where_it_was_put():
    rng = np.random.default_rng(1)
    epochs = log_spaced_epochs(8000, 200)
    snr = np.where(epochs < 300, 10.0, 0.1) * np.exp(0.5 * rng.normal(size=epochs.size))
    found = detect_phase_transition(epochs, snr)
    assert found == epochs[epochs >= 300][0]
    # through recordings: the same rule on the geometric mean over layers
    mean = np.column_stack([snr, 2 * snr])
    with pytest.raises(ValueError, match="gradient_std"):  # one column per layer is required
        Recordings.from_arrays(
            [np.zeros((epochs.size, 4, 1))],
            [0, 1, 0, 1],
            epochs,
            gradient_mean=mean,
            gradient_std=np.ones_like(mean),
        )
    rec = Recordings.from_arrays(
        [np.zeros((epochs.size, 4, 1))] * 2,
        [0, 1, 0, 1],
        epochs,
        gradient_mean=mean,
        gradient_std=np.ones_like(mean),
    )
    res = analyze_information_plane(rec)
    assert res.transition_epoch == found and res.transition_epoch_per_layer == [found, found]
    assert res.snr_status == "measured"


def test_snr_rule_matches_brute_force_and_refuses_small_drops():
    rng = np.random.default_rng(2)
    for _ in range(20):
        x = np.cumsum(rng.normal(size=30))
        k = detect_phase_transition(np.arange(30), 10**x, min_drop=0.0)
        if k is not None:
            assert k == brute_force_split(x)
    flat = np.exp(0.1 * rng.normal(size=50))
    assert detect_phase_transition(np.arange(50), flat) is None
    rising = np.r_[np.full(20, 0.1), np.full(20, 10.0)]
    assert detect_phase_transition(np.arange(40), rising) is None  # an increase is no transition


def test_full_batch_gradients_warn_and_report_no_transition():
    rec = Recordings.from_arrays(
        [np.zeros((5, 4, 1))],
        [0, 1, 0, 1],
        gradient_mean=np.ones((5, 1)),
        gradient_std=np.zeros((5, 1)),
    )
    with pytest.warns(UserWarning, match="full-batch"):
        res = analyze_information_plane(rec)
    assert res.transition_epoch is None and "infinite" in res.snr_status


# ------------------------------------------------------------------------------ compression
def test_compression_measured_not_assumed(task):
    x = task.X
    collapse = np.zeros_like(x)
    sixteen = x.copy()
    sixteen[:, 4:] = 0.0  # 16 distinct states
    rising = np.stack([collapse, sixteen, x])
    rise_fall = np.stack([collapse, x, sixteen])
    rec = Recordings.from_arrays([rising, rise_fall], task.y, [0, 10, 100])
    res = analyze_information_plane(rec, value_range=(0.0, 1.0))
    assert res.peak_epoch.tolist() == [100, 10]
    assert res.compression_nats == pytest.approx([0.0, np.log(4096) - np.log(16)], abs=1e-12)
    assert res.compresses == [False, True]
    peak, drop = compression([[0.0, 1.0, 1.0 - 1e-3]], [0, 1, 2])
    assert peak.tolist() == [1] and drop[0] == pytest.approx(1e-3)


# ------------------------------------------------------------------------------ output
def test_json_and_figure(task, tmp_path):
    acts = random_net_recordings(task, n_epochs=3)
    mean = np.abs(np.random.default_rng(0).normal(size=(3, 6))) + 0.1
    rec = Recordings.from_arrays(
        acts,
        task.y,
        [0, 10, 100],
        gradient_mean=mean,
        gradient_std=np.ones((3, 6)),
        layer_names=list("abcdef"),
    )
    res = analyze_information_plane(
        rec, p_xy=tishby_joint(1.0), ib_betas=np.geomspace(0.5, 1e3, 20)
    )
    atomic_write_json(tmp_path / "plane.json", res.to_dict())
    back = read_json(tmp_path / "plane.json")
    assert np.array(back["I_XT_nats"]).shape == (6, 3)
    assert back["ib"]["I_XY_nats"] == pytest.approx(res.ib.I_XY)
    assert back["layer_names"] == list("abcdef")
    fig = res.figure()
    plane, snr = fig.axes[:2]
    assert len(plane.collections) == 6  # one scatter per layer, coloured by epoch
    assert plane.get_xlabel() == "I(X;T) [nats]" and "nats" in plane.get_ylabel()
    assert any(ax.get_ylabel() == "epoch + 1" for ax in fig.axes)  # the colourbar
    assert len(snr.get_lines()) >= 6
    plt.close(fig)


# ------------------------------------------------------------------------------ bad input
def test_bad_input_names_what_is_missing(task, tmp_path):
    acts = [np.zeros((3, 8, 2)), np.zeros((3, 8, 3))]
    y = [0, 1] * 4
    rec = Recordings.from_arrays(acts, y, [0, 1, 5], layer_names=["h1", "h2"])
    with pytest.raises(ValueError, match="'h9'"):
        analyze_information_plane(rec, layers=["h9"])
    with pytest.raises(ValueError, match="no layer 4"):
        analyze_information_plane(rec, layers=[4])
    with pytest.raises(ValueError, match="epoch 2 was not recorded"):
        analyze_information_plane(rec, epochs=[0, 2])
    # a layer whose records stop early: the message names the layer and the missing epoch
    rec.activations._arrays[1] = rec.activations._arrays[1][:2]
    with pytest.raises(ValueError, match=r"'h2'.*missing epochs \[5\]"):
        analyze_information_plane(rec)
    with pytest.raises(ValueError, match="activations\\[1\\]"):
        Recordings.from_arrays([np.zeros((3, 8, 2)), np.zeros((3, 7, 2))], y)
    with pytest.raises(ValueError, match="labels"):
        Recordings.from_arrays(acts, [0, 1, 0])
    with pytest.raises(ValueError, match="labels"):
        analyze_information_plane(Recordings.from_arrays(acts, y), labels=[0, 1])
    ok = Recordings.from_arrays(acts, y)
    with pytest.raises(ValueError, match="noise_variance"):
        analyze_information_plane(ok, estimator="kde")
    with pytest.raises(ValueError, match="p_xy"):
        analyze_information_plane(ok, p_xy=np.full((4, 2), 1 / 8))
    with pytest.raises(ValueError, match="compression_tol"):
        analyze_information_plane(ok, compression_tol=-1.0)
    with pytest.raises(ValueError, match="value_range"):
        analyze_information_plane(ok, value_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="run_dir"):
        analyze_information_plane(tmp_path / "nothing-here")


# ------------------------------------------------------------------ distance to the IB curve
@pytest.fixture(scope="module")
def stochastic_curve():
    from structlearn.estimators import ib_curve

    p = tishby_joint(0.5)
    return p, ib_curve(p, np.geomspace(0.5, 1000.0, 25), return_encoders=True)


def test_points_of_the_curve_have_no_excess_and_no_lagrangian_gap(stochastic_curve):
    from structlearn.analysis.info_plane import ib_excess, ib_lagrangian_gap

    _, c = stochastic_curve
    on = c.I_TY > 1e-6  # past the trivial solution
    assert np.abs(ib_excess(c, c.I_XT[on], c.I_TY[on])).max() < 1e-9
    gap, _ = ib_lagrangian_gap(c, c.I_XT[on], c.I_TY[on])
    assert np.abs(gap).max() < 1e-9
    # an encoder 1 nat to the right of a curve point costs exactly 1 nat more at every beta
    gap_right, _ = ib_lagrangian_gap(c, c.I_XT[on] + 1.0, c.I_TY[on])
    assert np.allclose(gap_right, 1.0)


def test_identity_encoder_fails_the_horizontal_distance_not_the_vertical(stochastic_curve):
    """The vertical gap of T = X is 0 (the audit's point); its horizontal excess is H(X) minus
    the least I(X;T) the curve needs to reach its top."""
    from structlearn.analysis.info_plane import ib_excess, ib_lagrangian_gap

    _, c = stochastic_curve
    assert ib_bound_at(c, [c.H_X])[0] == pytest.approx(c.I_XY)
    excess = ib_excess(c, [c.H_X], [c.I_XY])[0]
    assert excess == pytest.approx(c.H_X - c.I_XT.max(), abs=1e-9) and excess > 5.0
    assert ib_lagrangian_gap(c, [c.H_X], [c.I_XY])[0][0] > 4.0


def test_curve_encoders_are_self_consistent_and_a_binned_layer_is_not(stochastic_curve, task):
    """The solver's encoders are fixed points of the IB equations (TV ~ 0 at their beta); the
    deterministic binned encoder of a random tanh layer is far from one."""
    from structlearn.analysis.info_plane import binned_encoder
    from structlearn.estimators import ib_self_consistency

    p, c = stochastic_curve
    k = int(np.flatnonzero(c.I_TY > 0.3)[0])
    group = np.unique(np.round(p / p.sum(1, keepdims=True), 12), axis=0, return_inverse=True)[1]
    enc = c.encoders[k]
    enc = enc[group.ravel()] if enc.shape[0] != p.shape[0] else enc
    assert ib_self_consistency(p, enc, float(c.betas[k])) < 1e-3
    net = MLP([12, 4, 2], "tanh", random_state=0).eval()
    with torch.no_grad():
        h = net(torch.as_tensor(task.X).float())[0].numpy()
    hard = binned_encoder(h, 30, (-1.0, 1.0))
    assert hard.sum(1).tolist() == [1.0] * 4096
    assert ib_self_consistency(p, hard, float(c.betas[k])) > 0.2


def test_ceiling_and_share_of_training_after_the_peak(task):
    """A layer keeping every input apart sits at log n for the whole run; a layer that resolves
    6, then 12, then 1 bit peaks at epoch 10 of 100 and spends 90% of training after its peak."""
    n = task.X.shape[0]
    distinct = np.tile(task.X[None] * 2 - 1, (3, 1, 1))
    merged = distinct.copy()
    merged[0, :, 6:] = 0.0
    merged[2, :, 1:] = 0.0
    constant = np.zeros((3, n, 2))
    rec = Recordings.from_arrays([distinct, merged, constant], task.y, [0, 10, 100])
    res = analyze_information_plane(rec, value_range=(-1.0, 1.0), n_bins=2)
    assert res.at_ceiling == [True, False, False]
    assert res.share_after_peak.tolist() == [1.0, 0.9, 1.0]  # the peak is the first maximum
    assert res.compression_nats[1] == pytest.approx(np.log(n) - np.log(2))
    layer = res.layers()[1].summary()
    assert layer["share_after_peak"] == 0.9 and layer["at_ceiling"] is False
    assert layer["peak_epoch"] == 10
