"""augmentation_sample_complexity: boundary points lie on the teacher's hyperplanes."""

import json

import numpy as np
import pytest
import torch

from structlearn.data.teacher import make_teacher
from structlearn.experiment import run_experiment
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


def test_digits_and_the_same_pixels_in_an_npz_give_the_same_numbers(tmp_path):
    from structlearn.data.vision import load_digits_data

    np.savez(tmp_path / "digits.npz", X=load_digits_data().X.reshape(-1, 8, 8))
    tiny = ["n_seeds=1", "teacher.input_dim=64", "n_test=100", "training.epochs=2"]
    runs = []
    for name, source in (("a", "digits"), ("b", f"npz:{tmp_path / 'digits.npz'}")):
        folder, _ = run_experiment(
            "experiments/augmentation_sample_complexity.yaml",
            out=tmp_path / name,
            preset="smoke",
            overrides=[*tiny, f"data.source={source}"],
            quiet=True,
        )
        runs.append(json.loads((folder / "metrics.json").read_text()))
    assert runs[0]["data"]["n_samples"] == 1797 and runs[0]["data"]["n_train"] == 40
    assert runs[0]["seeds"] == runs[1]["seeds"]
    assert set(runs[0]["seeds"][0]["sizes"]) == {"20", "40"}
