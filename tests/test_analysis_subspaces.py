"""Grouped-unit measures: subspace capture (basis invariance, known answers), pairwise similarity,
code invariance and the regrouping control against plain loops."""

import numpy as np
import pytest

from structlearn.analysis.subspaces import (
    code_invariance,
    group_similarity,
    pool_by_groups,
    pooling_invariance,
    shift_image,
    sign_free_shift_similarity,
    subspace_capture,
)


def _gabor(size, phase, freq=0.9, y0=3.5, x0=3.5):
    y, x = np.mgrid[:size, :size]
    return (np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / 6.0) * np.cos(freq * x + phase)).ravel()


def test_capture_is_blind_to_the_basis_inside_a_group_and_sees_regrouping():
    size = 8
    # group 0: four shifts of one vertical grating packet; group 1: the same packet turned 90 deg
    g0 = [_gabor(size, 0, x0=3.5 + s) for s in (-1, 0, 1, 2)]
    g1 = [_gabor(size, 0, x0=3.5 + s).reshape(size, size).T.ravel() for s in (-1, 0, 1, 2)]
    B = np.array(g0 + g1)
    groups = np.repeat([0, 1], 4)
    base = subspace_capture(B, groups, (size, size))
    assert base.own > 0.6 and base.gap > 0.3
    rot = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    mixed = np.vstack([rot @ B[:4], rot.T @ B[4:]])  # other bases of the same two subspaces
    assert subspace_capture(mixed, groups, (size, size)).gap == pytest.approx(base.gap, rel=1e-9)
    swapped = np.array([1, 0, 1, 0, 0, 1, 0, 1])  # each group half of each orientation
    assert subspace_capture(B, swapped, (size, size)).gap < base.gap / 4
    # the regrouping control: random groups of the same units keep only the self-overlap floor
    ctl = subspace_capture(B, groups, (size, size), n_regroupings=20, random_state=0)
    assert ctl.gap == base.gap and ctl.gap_regrouped < base.gap / 2
    assert ctl.gap_over_regrouped == pytest.approx(ctl.gap - ctl.gap_regrouped)
    assert base.gap_over_regrouped is None


def test_shift_image_moves_and_zero_fills():
    a = np.arange(9.0).reshape(3, 3)
    assert shift_image(a, 1, 0).tolist() == [[0, 0, 0], [0, 1, 2], [3, 4, 5]]
    assert shift_image(a, 0, -1).tolist() == [[1, 2, 0], [4, 5, 0], [7, 8, 0]]
    assert np.array_equal(shift_image(shift_image(a, 1, 1), -1, -1)[:2, :2], a[:2, :2])


def test_group_similarity_and_invariance_match_plain_loops():
    rng = np.random.default_rng(3)
    S = rng.uniform(-1, 1, size=(6, 6))
    S = (S + S.T) / 2
    groups = np.array([0, 0, 1, 1, 2, 2])
    within = [S[i, j] for i in range(6) for j in range(6) if i != j and groups[i] == groups[j]]
    between = [S[i, j] for i in range(6) for j in range(6) if groups[i] != groups[j]]
    assert group_similarity(S, groups) == pytest.approx((np.mean(within), np.mean(between)))
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    b[:, 3] = 1.0  # a constant unit is left out
    ref = np.mean([np.corrcoef(a[:, k], b[:, k])[0, 1] for k in range(3)])
    assert code_invariance(a, b) == pytest.approx(ref, rel=1e-12)


def test_sign_free_similarity_finds_shifted_negated_copies():
    base = np.zeros((7, 7))
    base[2:4, 2:5] = [[1.0, -2.0, 1.0], [0.5, -1.0, 0.5]]
    moved = -np.roll(base, (1, 2), axis=(0, 1))
    other = np.zeros((7, 7))
    other[1:6, 3] = 1.0
    S = sign_free_shift_similarity(
        np.stack([base.ravel(), moved.ravel(), other.ravel()]), (7, 7), 1
    )
    assert S[0, 1] == pytest.approx(1.0)
    assert S[0, 2] < 0.7


def test_regrouping_control_separates_learned_pairs_from_arbitrary_ones():
    """Quadrature pairs: unit 2j and 2j+1 are cos and sin of one phase-shifted signal, so the pair's
    norm is shift-invariant while each unit is not; random regroupings break most pairs."""
    rng = np.random.default_rng(0)
    n, k = 4000, 8
    amp = rng.exponential(size=(n, k // 2))
    phase = rng.uniform(0, 2 * np.pi, size=(n, k // 2))
    moved = phase + rng.uniform(-1.5, 1.5, size=phase.shape)  # the shift changes the phase only

    def codes(p):
        return np.stack([amp * np.cos(p), amp * np.sin(p)], axis=2).reshape(n, k)

    groups = np.arange(k) // 2
    res = pooling_invariance(codes(phase), codes(moved), groups, n_regroupings=20, random_state=1)
    assert res.pooled == pytest.approx(1.0, abs=1e-12)  # amplitude unchanged by the shift
    assert res.single < 0.8 and res.gain_over_regrouped > 0.1
    assert res.pooled_regrouped < res.pooled
    assert np.allclose(pool_by_groups(codes(phase), groups), amp)
    with pytest.raises(ValueError, match="shifted"):
        pooling_invariance(codes(phase), codes(moved)[:, :4], groups)
    with pytest.raises(ValueError, match="groups"):
        pooling_invariance(codes(phase), codes(moved), np.zeros(k, int))
