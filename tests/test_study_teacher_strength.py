"""teacher_strength: time to alignment, the sign-aware match and the rank correlation."""

import numpy as np
import pytest

from structlearn.studies.teacher_strength import _best_sign_aware, _rho, time_to_alignment


def test_time_to_alignment_takes_the_first_crossing_and_censors_the_rest():
    best = np.array([[0.1, 0.5, 0.99], [0.97, 0.6, 0.2], [0.2, 0.7, 0.99]])
    epochs = np.array([0, 5, 50])
    # unit 0 first crosses at epoch 5 (and later falls back: still 5); unit 1 never: 51
    assert time_to_alignment(best, epochs, 0.95).tolist() == [5.0, 51.0, 0.0]


def test_a_mirrored_student_counts_as_aligned():
    rng = np.random.default_rng(0)
    pre = rng.standard_normal((500, 2))
    student = np.column_stack([np.maximum(-pre[:, 0], 0), np.maximum(pre[:, 1], 0)])
    best, both = _best_sign_aware(pre, student)
    assert best == pytest.approx([1.0, 1.0])
    assert both[0, 0] == pytest.approx(1.0) and both[1, 1] == pytest.approx(1.0)


def test_rho_is_spearman_and_none_without_a_ranking():
    assert _rho(np.array([1.0, 2.0, 3.0]), np.array([30.0, 20.0, 10.0])) == pytest.approx(-1.0)
    assert _rho(np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 5.0])) is None
