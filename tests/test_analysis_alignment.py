"""Tests for structlearn.analysis.alignment: streamed correlations, specialisation, pruning."""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from structlearn.analysis.alignment import (
    StreamingCorrelation,
    analyze_alignment,
    fanout_norm,
    hidden_mask_evaluator,
    pruning_curve,
    unit_correlation,
)


def teacher_acts(n=2000, d=10, n_teacher=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return np.maximum(x @ rng.normal(size=(d, n_teacher)), 0.0)


# ------------------------------------------------------------------------------------ correlation
def test_unit_correlation_matches_corrcoef():
    rng = np.random.default_rng(1)
    t, s = rng.normal(size=(300, 4)), rng.normal(size=(300, 6)) + 5.0
    expected = np.corrcoef(np.hstack([t, s]), rowvar=False)[:4, 4:]
    np.testing.assert_allclose(unit_correlation(t, s), expected, atol=1e-12)


def test_streamed_equals_one_pass_to_1e6_with_large_means_and_float32_batches():
    rng = np.random.default_rng(2)
    t = teacher_acts(5000, seed=2) + 1e4  # large offsets: raw sums would lose digits
    s = np.hstack([t[:, ::-1] * 0.5 + rng.normal(size=(5000, 8)), rng.normal(size=(5000, 20))])
    s = s.astype(np.float32)  # float32 batches are accumulated in float64
    acc = StreamingCorrelation()
    edges = [0, 7, 900, 901, 2500, 5000]  # uneven batches, one of a single sample
    for a, b in itertools.pairwise(edges):
        acc.update(torch.as_tensor(t[a:b]), torch.as_tensor(s[a:b]))
    one_pass = np.corrcoef(np.hstack([t, s.astype(np.float64)]), rowvar=False)[:8, 8:]
    assert acc.n_samples == 5000
    np.testing.assert_allclose(acc.compute(), one_pass, atol=1e-6)


def test_merge_equals_single_accumulator():
    rng = np.random.default_rng(3)
    t, s = rng.normal(size=(400, 3)), rng.normal(size=(400, 5))
    a, b, whole = StreamingCorrelation(), StreamingCorrelation(), StreamingCorrelation()
    a.update(t[:150], s[:150])
    b.update(t[150:], s[150:])
    whole.update(t, s)
    np.testing.assert_allclose(a.merge(b).compute(), whole.compute(), atol=1e-12)
    assert a.n_samples == 400
    a.reset()
    assert a.n_samples == 0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 40))
def test_correlations_lie_in_unit_interval(seed, n):
    rng = np.random.default_rng(seed)
    t, s = rng.normal(size=(n, 3)), rng.normal(size=(n, 4))
    c = unit_correlation(t, s)
    assert np.all(np.abs(c) <= 1.0)
    np.testing.assert_allclose(unit_correlation(s, t), c.T, atol=1e-12)


def test_dead_units_get_zero_with_warning():
    t = teacher_acts(200, n_teacher=3)
    s = np.hstack([t, np.zeros((200, 2))])
    with pytest.warns(UserWarning, match="0 teacher and 2 student"):
        c = unit_correlation(t, s)
    assert np.all(c[:, 3:] == 0.0) and np.allclose(np.diag(c[:, :3]), 1.0)


# ---------------------------------------------------------------------------- specialisation
def test_permuted_duplicated_student_is_fully_aligned_and_permutation_invariant():
    t = teacher_acts()
    rng = np.random.default_rng(4)
    noise = rng.normal(size=(len(t), 4))  # four unaligned students
    student = np.hstack([t, 2.0 * t + 3.0, noise])
    perm = rng.permutation(student.shape[1])
    res = analyze_alignment(unit_correlation(t, student[:, perm]))
    np.testing.assert_allclose(res.teacher_best_corr, 1.0, atol=1e-12)
    # Exactly the two copies of each teacher pass every threshold up to 0.95.
    assert np.all(res.teacher_counts[:, -1] == 2) and res.thresholds[-1] == 0.95
    np.testing.assert_array_equal(res.share_teachers_covered, 1.0)
    # Each copy's best teacher is the unit it copies.
    origin = np.r_[np.arange(8), np.arange(8), [-1] * 4][perm]
    copies = origin >= 0
    np.testing.assert_array_equal(res.student_best_teacher[copies], origin[copies])
    # Invariance: another permutation of the students permutes the per-student results only.
    perm2 = rng.permutation(student.shape[1])
    res2 = analyze_alignment(unit_correlation(t, student[:, perm][:, perm2]))
    np.testing.assert_allclose(res2.student_best_corr, res.student_best_corr[perm2], atol=1e-12)
    np.testing.assert_array_equal(res2.teacher_counts, res.teacher_counts)
    np.testing.assert_allclose(res2.teacher_best_corr, res.teacher_best_corr, atol=1e-12)


def test_counts_are_monotone_in_threshold_and_match_loop():
    rng = np.random.default_rng(5)
    corr = np.tanh(rng.normal(size=(6, 30)))
    res = analyze_alignment(corr, thresholds=[0.9, 0.5, 0.7])
    assert res.thresholds.tolist() == [0.5, 0.7, 0.9]
    for j in range(6):
        assert res.teacher_counts[j].tolist() == [
            int((corr[j] >= v).sum()) for v in (0.5, 0.7, 0.9)
        ]
    assert np.all(np.diff(res.teacher_counts, axis=1) <= 0)


def test_alignment_result_dict_and_plots():
    t = teacher_acts(300)
    acc = StreamingCorrelation()
    acc.update(t, np.hstack([t, t[:, :2]]))
    res = analyze_alignment(acc, fanout_norms=np.arange(10.0))
    d = res.to_dict()
    assert "correlation" not in d and len(d["student_best_corr"]) == 10
    ax = res.plot()
    assert ax.collections[0].get_offsets().shape == (10, 2)
    assert len(res.plot_counts().lines) == 6
    assert len(analyze_alignment(acc).plot().patches) == 40
    plt.close("all")


# ------------------------------------------------------------------------------- fan-out + pruning
def test_fanout_norm_is_a_column_norm_of_next_weight():
    torch.manual_seed(0)
    layer = torch.nn.Linear(5, 3)  # 5 hidden units feed 3 outputs; weight is (3, 5)
    norms = fanout_norm(layer)
    assert norms.shape == (5,)
    for k in range(5):
        assert norms[k] == pytest.approx(
            float(torch.linalg.norm(layer.weight.detach()[:, k])), rel=1e-6
        )
    # Semantics: with column k zeroed, hidden unit k no longer reaches the output.
    h = torch.randn(4, 5)
    w = layer.weight.detach().clone()
    w[:, 2] = 0
    h2 = h.clone()
    h2[:, 2] += 100.0
    assert torch.allclose(h @ w.T, h2 @ w.T)
    assert fanout_norm(w)[2] == 0.0


def test_mask_evaluator_equals_zeroing_fanout_column():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    x, y = torch.randn(50, 4), torch.randn(50, 2)
    ev = hidden_mask_evaluator(net, net[1], x.numpy(), y.numpy())
    mask = np.array([1, 0, 1, 1, 0, 1], bool)
    pruned = torch.nn.Sequential(*[torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)])
    pruned.load_state_dict(net.state_dict())
    with torch.no_grad():
        pruned[2].weight[:, ~torch.as_tensor(mask)] = 0.0
        expected = torch.nn.functional.mse_loss(pruned(x), y).item()
    assert ev(mask) == pytest.approx(expected, rel=1e-6)
    assert ev(np.ones(6, bool)) == pytest.approx(torch.nn.functional.mse_loss(net(x), y).item())
    with pytest.raises(ValueError, match="mask"):
        ev(np.ones(5, bool))


def test_pruning_curve_orders_match_hand_computation():
    rng = np.random.default_rng(6)
    h = rng.normal(size=(200, 6))
    a = np.array([2.0, 0.05, -1.0, 0.3, 0.01, 4.0])  # read-out weights = fan-out of each unit
    target = h @ a

    def evaluate(mask):
        return float(np.mean((h[:, mask] @ a[mask] - target) ** 2))

    corr = np.array([0.9, 0.2, 0.95, 0.1, 0.3, 0.99])
    res = pruning_curve(evaluate, np.abs(a), corr, n_removed=[0, 1, 2, 3, 6], n_random=4)
    by_norm = np.argsort(np.abs(a))
    by_corr = np.argsort(corr)
    for i, k in enumerate([0, 1, 2, 3, 6]):
        m = np.ones(6, bool)
        m[by_norm[:k]] = False
        assert res.loss_by_norm[i] == pytest.approx(evaluate(m), rel=1e-12)
        m = np.ones(6, bool)
        m[by_corr[:k]] = False
        assert res.loss_by_corr[i] == pytest.approx(evaluate(m), rel=1e-12)
    assert res.loss_by_norm[0] < 1e-25 and res.loss_random_sd[0] == 0.0
    # Removing small fan-out first costs least: below the random average at every partial k.
    assert np.all(res.loss_by_norm[1:4] < res.loss_random_mean[1:4])
    assert res.loss_by_norm[-1] == res.loss_random_mean[-1] == pytest.approx(np.mean(target**2))
    again = pruning_curve(evaluate, np.abs(a), corr, n_removed=[0, 1, 2, 3, 6], n_random=4)
    np.testing.assert_array_equal(again.loss_random_mean, res.loss_random_mean)
    assert len(res.plot().lines) == 3
    plt.close("all")


# ------------------------------------------------------------------------------------- bad input
def test_bad_input():
    t = teacher_acts(100)
    with pytest.raises(ValueError, match="student_acts"):
        unit_correlation(t, t[:99])
    acc = StreamingCorrelation()
    with pytest.raises(ValueError, match="student_acts"):
        acc.update(t, t[:50])
    acc.update(t, t)
    with pytest.raises(ValueError, match="teacher_acts"):
        acc.update(t[:, :3], t)
    with pytest.raises(ValueError, match="StreamingCorrelation"):
        StreamingCorrelation().compute()
    with pytest.raises(ValueError, match="fanout_norms"):
        analyze_alignment(np.eye(3), fanout_norms=np.ones(4))
    with pytest.raises(ValueError, match="thresholds"):
        analyze_alignment(np.eye(3), thresholds=[1.5])
    with pytest.raises(ValueError, match="correlation"):
        analyze_alignment(np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match="evaluate"):
        pruning_curve(lambda m: float("nan"), np.ones(3))
    with pytest.raises(ValueError, match="n_removed"):
        pruning_curve(lambda m: 0.0, np.ones(3), n_removed=[0, 4])
    with pytest.raises(ValueError, match="best_corr"):
        pruning_curve(lambda m: 0.0, np.ones(3), best_corr=np.ones(2))


def test_sign_aware_alignment_counts_a_mirrored_student_and_summarises_both():
    """A student relu(-z) of teacher unit relu(z): Pearson corr well below 1, sign-aware exactly 1."""
    from structlearn.analysis.alignment import analyze_alignment, unit_correlation

    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 2)) @ np.array([[1.0, 0.3], [0.2, 1.0]])
    teacher = np.maximum(z, 0)
    student = np.stack([np.maximum(z[:, 0], 0), np.maximum(-z[:, 1], 0), rng.random(4000)], 1)
    corr = unit_correlation(teacher, student)
    mirror = unit_correlation(np.maximum(-z, 0), student)
    res = analyze_alignment(corr, [1.0, 2.0, 0.01], threshold=0.95, mirror_correlation=mirror)
    assert corr[1, 1] < 0 and res.teacher_best_corr_sign_aware[1] == pytest.approx(1.0)
    s = res.summary()
    assert s["share_covered"] == 0.5 and s["share_covered_sign_aware"] == 1.0
    assert s["n_aligned"] == 1 and s["n_aligned_sign_aware"] == 2
    assert s["fanout_ratio_sign_aware"] == pytest.approx(0.01 / 1.5)  # median(0.01) / median(1, 2)
    assert "mirror_correlation" not in res.to_dict()
    with pytest.raises(ValueError, match="mirror_correlation"):
        analyze_alignment(corr, mirror_correlation=mirror[:, :2])


def test_l_shape_plot_uses_tians_axes():
    from structlearn.analysis.alignment import analyze_alignment

    res = analyze_alignment([[0.99, 0.1, 0.97]], [2.0, 0.05, 1.5], thresholds=[0.9])
    ax = res.plot()
    x, y = ax.collections[0].get_offsets().T
    assert np.allclose(x, [0.99, 0.1, 0.97]) and np.allclose(y, [2.0, 0.05, 1.5])
    assert "correlation" in ax.get_xlabel() and "fan-out" in ax.get_ylabel()


def test_pruning_curve_at_reads_one_point_and_refuses_counts_not_evaluated():
    from structlearn.analysis.alignment import pruning_curve

    w = np.array([3.0, 0.1, 1.0, 0.0])
    curve = pruning_curve(
        lambda m: float((w.sum() - w[m].sum()) ** 2), np.abs(w), n_removed=[0, 2, 4], n_random=3
    )
    point = curve.at(2)
    assert point.n_kept == 2 and point.loss_by_norm == pytest.approx(0.01)
    assert point.summary()["loss_random"] == pytest.approx(curve.loss_random_mean[1])
    with pytest.raises(ValueError, match="n_kept"):
        curve.at(3)


def test_merged_fanout_sums_the_students_of_one_teacher_unit():
    from structlearn.analysis.alignment import merged_fanout_norm

    corr = np.array([[0.99, 0.97, 0.1, -0.2], [0.0, 0.1, 0.96, 0.5]])
    mirror = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.99]])
    W = np.array([[1.0, 2.0, 0.5, 4.0], [0.0, 1.0, 0.0, 0.0]])  # (n_next, n_student)
    plain = merged_fanout_norm(corr, W, 0.95)
    assert np.allclose(plain, [np.hypot(3.0, 1.0), 0.5])  # students 0+1 -> unit 0; 2 -> unit 1
    signed = merged_fanout_norm(corr, W, 0.95, mirror_correlation=mirror)
    assert np.allclose(signed, [np.hypot(3.0, 1.0), 4.5])  # the mirror student 3 joins unit 1
    with pytest.raises(ValueError, match="next_weight"):
        merged_fanout_norm(corr, W[:, :3], 0.95)
