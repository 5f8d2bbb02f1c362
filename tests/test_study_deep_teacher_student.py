"""deep_teacher_student: pre-activations of a deep teacher and per-layer sign-aware alignment."""

import json

import numpy as np
import pytest
import torch

from structlearn.data.teacher import make_teacher
from structlearn.experiment import load_config, run_experiment
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


def test_untrained_alignments_are_those_of_the_files_held_out_rows(tmp_path):
    from structlearn.data.teacher import InputPool
    from structlearn.models.mlp import MLP
    from structlearn.studies._teacher import teacher_sets
    from structlearn.studies.deep_teacher_student import _alignments

    images = np.random.default_rng(2).gamma(2.0, size=(260, 4, 5))  # 20 pixels per "image"
    np.savez(tmp_path / "x.npz", X=images)
    cfg = "experiments/deep_teacher_student.yaml"
    tiny = ["n_seeds=1", "data.n_train=160", "data.n_test=100", "training.epochs=2"]
    overrides = [*tiny, f"data.source=npz:{tmp_path / 'x.npz'}"]
    folder, _ = run_experiment(
        cfg, out=tmp_path / "r", preset="smoke", overrides=overrides, quiet=True
    )
    m = json.loads((folder / "metrics.json").read_text())
    assert (m["data"]["n_samples"], m["data"]["n_features"]) == (260, 20)
    config = load_config(cfg, preset="smoke", overrides=overrides)
    t = config["teacher"]
    teacher = make_teacher(t["input_dim"], (*t["hidden"], t["n_outputs"]), random_state=0)
    _, (Xt, _) = teacher_sets(InputPool(images.reshape(260, 20)), teacher, 160, 100, 0)
    widths = [20, *(config["student_factor"] * w for w in t["hidden"]), t["n_outputs"]]
    want = _alignments(teacher, MLP(widths, "relu", random_state=0), Xt, 0.9)
    got = m["seeds"][0]["untrained"]
    for layer in want:
        assert got[layer]["mean_best_corr"] == pytest.approx(
            want[layer]["mean_best_corr"], rel=1e-9
        )
