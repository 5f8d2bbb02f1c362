"""augmentation_sample_complexity: boundary points lie on the teacher's hyperplanes."""

import numpy as np
import pytest
import torch

from structlearn.data.teacher import make_teacher
from structlearn.studies.augmentation_sample_complexity import augment


def _plane_distance(x, teacher):
    W, b = teacher.layers[0].weight.detach(), teacher.layers[0].bias.detach()
    return ((x @ W.T + b).abs() / W.norm(dim=1)).min(dim=1).values  # to the nearest plane


def test_boundary_points_sit_on_teacher_planes_and_isotropic_ones_do_not():
    teacher = make_teacher(8, (6, 2), random_state=0)
    X = torch.randn(300, 8, generator=torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(2)
    on = augment("boundary", X, teacher, 3, 0.0, gen)
    assert on.shape == (900, 8)
    assert _plane_distance(on, teacher).max() < 1e-5
    iso = augment("isotropic", X, teacher, 3, 0.1, gen)
    assert float((iso - X.repeat(3, 1)).std()) == pytest.approx(0.1, rel=0.05)
    assert float(_plane_distance(iso, teacher).median()) > 0.05
    rnd = augment("random_planes", X, teacher, 3, 0.0, gen)
    assert float(_plane_distance(rnd, teacher).median()) > 0.05  # other planes than the teacher's
    assert np.isfinite(rnd.numpy()).all()
