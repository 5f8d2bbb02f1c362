"""deep_teacher_student: pre-activations of a deep teacher and per-layer sign-aware alignment."""

import numpy as np
import pytest
import torch

from structlearn.data.teacher import make_teacher
from structlearn.studies.deep_teacher_student import layer_alignment, teacher_pre_activations


def test_pre_activations_rebuild_the_teachers_hidden_layers():
    teacher = make_teacher(6, (5, 4, 2), random_state=0)
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(1))
    pre = teacher_pre_activations(teacher, x)
    hidden = teacher.hidden_activations(x)
    assert [p.shape for p in pre] == [(50, 5), (50, 4)]
    for p, h in zip(pre, hidden):
        assert np.allclose(np.maximum(p, 0), h.double().numpy(), atol=1e-6)


def test_layer_alignment_counts_mirrors_and_dead_students():
    rng = np.random.default_rng(0)
    pre = rng.standard_normal((400, 3))
    student = np.column_stack(
        [
            np.maximum(pre[:, 0], 0),
            np.maximum(-pre[:, 1], 0),
            rng.standard_normal(400),
            np.zeros(400),
        ]
    )
    res = layer_alignment(pre, student, 0.9)
    assert res["dead_students"] == 1
    assert res["share_covered"] == pytest.approx(2 / 3)  # units 0 and 1 (its mirror) covered
    assert res["mean_best_corr"] > res["mean_best_corr_plain"]  # the mirror only counts sign-aware
