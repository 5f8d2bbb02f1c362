"""teacher_student study: the MSE objective, alignment numbers on a student built from the teacher
(known answers), the verdict rules, reproducibility and config errors."""

import copy
import json

import numpy as np
import pytest
import torch

from structlearn.config import ConfigError
from structlearn.data.teacher import make_teacher, sample_teacher_data
from structlearn.experiment import run_experiment
from structlearn.models.mlp import MLP
from structlearn.studies.teacher_student import (
    MeanSquaredError,
    _measure,
    mean_squared_error,
    verdicts,
)

CONFIG = "experiments/teacher_student.yaml"
TINY = [
    "n_seeds=1",
    "teacher.width=3",
    "teacher.input_dim=6",
    "data.n_train=300",
    "data.n_test=200",
    "student.factors=[1, 2]",
    "train.epochs=15",
]
ANALYSIS = {"analysis": {"threshold": 0.9, "n_random": 3, "l_ratio": 0.1, "prune_tolerance": 0.05}}


def test_mean_squared_error_function_and_module_agree_with_torch():
    gen = torch.Generator().manual_seed(0)
    pred, y = torch.randn(7, 3, generator=gen), torch.randn(7, 3, generator=gen)
    reference = torch.nn.functional.mse_loss(pred, y) * 3  # mean over entries x outputs
    assert float(mean_squared_error(pred, y)) == pytest.approx(float(reference), rel=1e-6)
    loss = MeanSquaredError()([torch.zeros(7, 2), pred], y)
    assert float(loss.total) == pytest.approx(float(reference), rel=1e-6)
    assert loss.parts["mse"] == pytest.approx(float(reference), rel=1e-6)
    with pytest.raises(ValueError, match="targets"):
        mean_squared_error(pred, y[:, :2])
    with pytest.raises(ValueError, match="targets"):
        MeanSquaredError()(pred, None)


def _student_from_teacher(teacher, n_junk, split=False):
    """A student that computes the teacher exactly: its units copy the teacher's (each one twice,
    with halved fan-out, when ``split``), plus ``n_junk`` units with large fan-in but zero
    fan-out (columns of the output weight), which change nothing."""
    w1, b1 = teacher.layers[0].weight, teacher.layers[0].bias
    w2, b2 = teacher.layers[1].weight, teacher.layers[1].bias
    m = w1.shape[0]
    copies = 2 if split else 1
    width = copies * m + n_junk
    student = MLP([w1.shape[1], width, w2.shape[0]], "relu", random_state=0)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        student.layers[0].weight[: copies * m] = w1.repeat(copies, 1)
        student.layers[0].bias[: copies * m] = b1.repeat(copies)
        student.layers[0].weight[copies * m :] = 5 * torch.randn(n_junk, w1.shape[1], generator=gen)
        student.layers[1].weight.zero_()
        student.layers[1].weight[:, : copies * m] = w2.repeat(1, copies) / copies
        student.layers[1].bias.copy_(b2)
    return student.eval()


def test_measure_on_a_student_built_from_the_teacher():
    teacher = make_teacher(8, (4, 2), random_state=0)
    test = sample_teacher_data(teacher, 1500, random_state=1)
    student = _student_from_teacher(teacher, n_junk=8)
    _, curve, s = _measure(teacher, student, test, ANALYSIS, seed=0)
    assert s["share_teachers_covered"] == 1.0
    assert np.allclose(s["teacher_best_corr"], 1.0, atol=1e-6)
    assert s["loss_full"] == pytest.approx(0.0, abs=1e-10)
    # junk units have zero fan-out: pruning them (smallest norm first) costs nothing ...
    assert s["loss_keep_teacher_width_by_norm"] == pytest.approx(0.0, abs=1e-10)
    assert s["fewest_kept_within_tolerance"] <= 4
    assert s["n_aligned"] == 4 and s["fanout_unaligned_median"] == 0.0
    assert s["uncovered_teacher_strength_ranks"] == []
    # ... while keeping 4 of 12 at random loses a teacher unit with probability 1 - 1/C(12,4)
    assert s["loss_keep_teacher_width_random"] > 0.05
    assert curve.loss_by_norm[-1] == pytest.approx(
        float(((test[1] - student.layers[1].bias.detach()) ** 2).sum(1).mean())
        / float(((test[1] - test[1].mean(0)) ** 2).sum(1).mean()),
        rel=1e-5,
    )


def test_split_copies_need_twice_the_teacher_width():
    teacher = make_teacher(8, (4, 2), random_state=0)
    test = sample_teacher_data(teacher, 1500, random_state=1)
    student = _student_from_teacher(teacher, n_junk=4, split=True)
    _, _, s = _measure(teacher, student, test, ANALYSIS, seed=0)
    assert s["n_aligned"] == 8  # every copy is perfectly correlated with its teacher unit
    assert s["fewest_kept_within_tolerance"] > 4  # half of each unit's fan-out is not enough
    assert s["loss_keep_teacher_width_by_norm"] > 0.05


def _per_seed(cover=1.0, unaligned=0.01, keep=0.01, rnd=0.8):
    f = {
        "share_teachers_covered": cover,
        "fanout_aligned_median": 0.5,
        "fanout_unaligned_median": unaligned,
        "loss_full": 0.0,
        "loss_keep_teacher_width_by_norm": keep,
        "loss_keep_teacher_width_random": rnd,
        "fewest_kept_within_tolerance": 10,
        "n_aligned": 12,
    }
    row = {"factors": {"1": dict(f, share_teachers_covered=0.6), "5": f}}
    return [copy.deepcopy(row), copy.deepcopy(row)]


@pytest.mark.parametrize(
    ("kwargs", "held"),
    [
        ({}, [True, True, True]),
        ({"cover": 0.9}, [False, True, True]),
        ({"unaligned": 0.2}, [True, False, True]),
        ({"unaligned": None}, [True, None, True]),
        ({"keep": 0.2}, [True, True, False]),
        ({"keep": 0.03, "rnd": 0.02}, [True, True, False]),
    ],
)
def test_verdict_rules_on_constructed_metrics(kwargs, held):
    out = verdicts(_per_seed(**kwargs), [1, 5], 10, 0.9, 0.1, 0.05)
    assert [v.held for v in out] == held


def test_tiny_run_is_reproducible_and_consistent(tmp_path):
    folders = [
        run_experiment(CONFIG, out=tmp_path / n, preset="smoke", overrides=TINY, quiet=True)[0]
        for n in ("a", "b")
    ]
    ma, mb = (json.loads((f / "metrics.json").read_text()) for f in folders)
    assert ma == mb
    x1 = ma["per_seed"][0]["factors"]["1"]
    # at factor 1 the student has exactly the teacher's width: nothing is pruned at that count
    assert x1["loss_keep_teacher_width_by_norm"] == x1["loss_full"]
    assert x1["n_students"] == 3 and ma["per_seed"][0]["factors"]["2"]["n_students"] == 6
    assert sorted(p.stem for p in (folders[0] / "figures").glob("*.png")) == [
        "l_shape",
        "pruning",
        "specialisation",
    ]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("teacher.widht=5", "teacher.widht: unknown key"),
        ("student.factors=[0, 2]", "student.factors"),
        ("analysis.threshold=1.5", "analysis.threshold"),
        ("student.factors=[]", "student.factors"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)


def test_a_teacher_unit_without_a_copy_is_reported_with_its_strength_rank():
    teacher = make_teacher(8, (4, 2), output_decay=1.0, random_state=0)
    strongest_first = np.argsort(-teacher.fan_out_norms(0).numpy())
    test = sample_teacher_data(teacher, 1500, random_state=1)
    student = _student_from_teacher(teacher, n_junk=4)
    weakest = int(strongest_first[-1])
    with torch.no_grad():  # remove the copy of the weakest teacher unit from the student
        student.layers[0].weight[weakest] = 0.0
        student.layers[0].bias[weakest] = -1.0
    with pytest.warns(UserWarning, match="constant"):
        _, _, s = _measure(teacher, student, test, ANALYSIS, seed=0)
    assert s["uncovered_teacher_strength_ranks"] == [4]
    assert s["share_teachers_covered"] == 0.75
