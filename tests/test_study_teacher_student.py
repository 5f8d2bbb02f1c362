"""teacher_student study: alignment and pruning numbers on students built from the teacher (known
answers), the claims on constructed metrics, reproducibility and config errors."""

import json

import numpy as np
import pytest
import torch

from structlearn.config import ConfigError
from structlearn.data.teacher import make_teacher, sample_teacher_data
from structlearn.experiment import load_config, run_experiment
from structlearn.models.mlp import MLP
from structlearn.studies._teacher_student_measure import measure_student
from structlearn.studies.claims import evaluate
from structlearn.studies.teacher_student import STUDY

CONFIG = "experiments/teacher_student.yaml"
TINY = [
    "n_seeds=1",
    "teacher.width=3",
    "teacher.input_dim=6",
    "data.n_train=300",
    "data.n_test=200",
    "student.factors=[1, 2]",
    "training.epochs=15",
]
ANALYSIS = {
    "analysis": {
        "threshold": 0.9,
        "n_random": 3,
        "l_ratio": 0.1,
        "fanout_threshold": 0.1,
        "prune_tolerance": 0.05,
        "fit_tolerance": 0.05,
    }
}


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
    _, curve, s = measure_student(teacher, student, test, ANALYSIS, seed=0)
    assert s["alignment"]["share_covered"] == 1.0
    assert s["alignment"]["mean_teacher_best_corr"] == pytest.approx(1.0, abs=1e-6)
    assert s["loss_full"] == pytest.approx(0.0, abs=1e-10)
    # junk units have zero fan-out: pruning them (smallest norm first) costs nothing ...
    assert s["keep_teacher_width"]["loss_by_norm"] == pytest.approx(0.0, abs=1e-10)
    assert s["alignment"]["n_aligned"] == 4 and s["alignment"]["fanout_ratio"] == 0.0
    assert s["uncovered_teacher_strength_ranks"] == []
    # the 8 junk units have zero fan-out: both pruning rules keep exactly the 4 copies, losslessly
    assert s["keep_aligned"]["n_kept"] == 4 and s["keep_fanout_threshold"]["n_kept"] == 4
    assert s["keep_aligned"]["loss_by_norm"] == pytest.approx(0.0, abs=1e-10)
    assert s["fanout_ratio_merged"] == 0.0  # junk fan-out 0 against the teacher's own units
    # ... while keeping 4 of 12 at random loses a teacher unit with probability 1 - 1/C(12,4)
    assert s["keep_teacher_width"]["loss_random"] > 0.05
    assert curve.loss_by_norm[-1] == pytest.approx(
        float(((test[1] - student.layers[1].bias.detach()) ** 2).sum(1).mean())
        / float(((test[1] - test[1].mean(0)) ** 2).sum(1).mean()),
        rel=1e-5,
    )


def test_split_copies_need_twice_the_teacher_width():
    teacher = make_teacher(8, (4, 2), random_state=0)
    test = sample_teacher_data(teacher, 1500, random_state=1)
    student = _student_from_teacher(teacher, n_junk=4, split=True)
    _, curve, s = measure_student(teacher, student, test, ANALYSIS, seed=0)
    assert s["alignment"]["n_aligned"] == 8  # every copy is perfectly correlated with its unit
    # the two halves merge back into the teacher's fan-out: the junk (0) over it is still 0, and the
    # merged norms equal the teacher's fan-out norms
    assert s["fanout_ratio_merged"] == 0.0
    assert s["keep_teacher_width"]["loss_by_norm"] > 0.05  # half of each unit's fan-out is lost
    assert curve.at(8).loss_by_norm == pytest.approx(0.0, abs=1e-10)  # keeping the 8 copies


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
        _, _, s = measure_student(teacher, student, test, ANALYSIS, seed=0)
    assert s["uncovered_teacher_strength_ranks"] == [4]
    assert s["alignment"]["share_covered"] == 0.75


def _seed(
    cover=1.0,
    pearson=1.0,
    ratio=0.01,
    keep=0.01,
    rnd=0.8,
    loss=0.001,
    n_aligned=12,
    untrained_cover=0.0,
    keep_m=0.5,
):
    def factor(c, p):
        return {
            "loss_full": loss,
            "n_students": 40,
            "alignment": {
                "share_covered_sign_aware": c,
                "share_covered": p,
                "fanout_ratio_sign_aware": ratio,
                "fanout_ratio": ratio,
                "n_aligned_sign_aware": n_aligned,
            },
            "keep_aligned": {
                "loss_by_norm": loss + keep,
                "loss_by_corr": loss + keep,
                "loss_random": loss + rnd,
            },
            "keep_fanout_threshold": {"loss_by_norm": loss + keep},
            "keep_teacher_width": {
                "loss_by_norm": loss + keep_m,
                "loss_by_corr": loss + keep_m,
                "loss_random": loss + rnd,
            },
        }

    untrained = factor(untrained_cover, untrained_cover)
    untrained["alignment"]["fanout_ratio_sign_aware"] = 1.0
    out = {"factors": {"1": factor(0.6, 0.6), "4": factor(cover, pearson)}, "untrained": untrained}
    for f in out["factors"].values():
        f["fanout_ratio_merged"] = ratio
    return out


@pytest.mark.parametrize(
    ("kwargs", "verdicts"),
    [
        ({}, ["held", "held", "held", "not held"]),
        ({"cover": 0.9}, ["not held", "held", "held", "not held"]),
        ({"ratio": 0.3}, ["held", "not held", "held", "not held"]),
        ({"keep": 0.2}, ["held", "held", "not held", "not held"]),
        ({"keep_m": 0.01}, ["held", "held", "held", "held"]),
        ({"loss": 0.3}, ["premise not met", "held", "premise not met", "premise not met"]),
        ({"n_aligned": 40}, ["held", "premise not met", "premise not met", "not held"]),
        ({"untrained_cover": 1.0}, ["not held", "held", "held", "not held"]),
        ({"rnd": 0.01}, ["held", "held", "not held", "not held"]),
    ],
)
def test_claims_on_constructed_metrics(kwargs, verdicts):
    config = load_config(CONFIG, overrides=["student.factors=[1, 4]", "teacher.width=10"])
    seeds = [_seed(**kwargs), _seed(**kwargs), _seed(**kwargs)]
    for key in ("fanout_ratio", "fanout_ratio_sign_aware"):  # an interval needs spread
        seeds[1]["factors"]["4"]["alignment"][key] *= 1.1
    got = [evaluate(c, seeds).verdict for c in STUDY.claims(config)]
    assert got == verdicts


def test_pearson_and_sign_aware_disagreeing_is_flagged_estimator_dependent():
    config = load_config(CONFIG, overrides=["student.factors=[1, 4]", "teacher.width=10"])
    seeds = [_seed(pearson=0.8) for _ in range(3)]
    verdict = evaluate(STUDY.claims(config)[0], seeds)
    assert verdict.verdict == "held" and verdict.estimator_dependent
    assert verdict.alternatives[0]["verdict"] == "not held"


def test_a_mirrored_student_covers_its_teacher_unit_only_sign_aware():
    teacher = make_teacher(8, (4, 2), random_state=0)
    test = sample_teacher_data(teacher, 1500, random_state=1)
    student = _student_from_teacher(teacher, n_junk=4)
    with torch.no_grad():  # unit 2 becomes relu(-w.x - b), the mirror of teacher unit 2
        student.layers[0].weight[2] *= -1
        student.layers[0].bias[2] *= -1
    _, _, s = measure_student(teacher, student, test, ANALYSIS, seed=0)
    assert s["alignment"]["share_covered"] == 0.75
    assert s["alignment"]["share_covered_sign_aware"] == 1.0
    assert s["uncovered_sign_aware_strength_ranks"] == []


def test_tiny_run_is_reproducible_and_consistent(tmp_path):
    folders = [
        run_experiment(CONFIG, out=tmp_path / n, preset="smoke", overrides=TINY, quiet=True)[0]
        for n in ("a", "b")
    ]
    ma, mb = (json.loads((f / "metrics.json").read_bytes()) for f in folders)
    assert ma == mb
    x1 = ma["seeds"][0]["factors"]["1"]
    assert ma["seeds"][0]["untrained"]["alignment"]["share_covered_sign_aware"] < 1.0
    # at factor 1 the student has exactly the teacher's width: nothing is pruned at that count
    assert x1["keep_teacher_width"]["loss_by_norm"] == x1["loss_full"]
    assert x1["n_students"] == 3 and ma["seeds"][0]["factors"]["2"]["n_students"] == 6
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
        ("student.factors=[2, 2]", "student.factors"),
        ("analysis.threshold=1.5", "analysis.threshold"),
        ("student.factors=[]", "student.factors"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)


def test_students_trained_as_an_ensemble_match_one_by_one(tmp_path):
    """training.ensemble trains both seeds' students together; each equals its single run up to
    float32 rounding (here: the same aligned counts, losses within 1e-4 of the target variance)."""
    runs = {}
    for flag in ("true", "false"):
        overrides = [*TINY, "n_seeds=2", f"training.ensemble={flag}"]
        folder, _ = run_experiment(
            CONFIG, out=tmp_path / flag, preset="smoke", overrides=overrides, quiet=True
        )
        runs[flag] = json.loads((folder / "metrics.json").read_text())["seeds"]
    for a, b in zip(runs["true"], runs["false"], strict=True):
        for f in ("1", "2"):
            fa, fb = a["factors"][f], b["factors"][f]
            assert (
                fa["alignment"]["n_aligned_sign_aware"] == fb["alignment"]["n_aligned_sign_aware"]
            )
            assert fa["loss_full"] == pytest.approx(fb["loss_full"], abs=1e-4)
            assert fa["train_mse"] == pytest.approx(fb["train_mse"], rel=1e-3, abs=1e-6)


def _run(tmp_path, name, overrides):
    folder, _ = run_experiment(
        CONFIG, out=tmp_path / name, preset="smoke", overrides=[*TINY, *overrides], quiet=True
    )
    return json.loads((folder / "metrics.json").read_text())


def test_runs_on_inputs_from_a_file_labelled_by_the_teacher(tmp_path):
    """npz and csv of the same inputs give the same numbers, other inputs other numbers, and the
    untrained control is what the file's held-out rows give (the documented draw)."""
    from structlearn.data.teacher import InputPool
    from structlearn.studies._teacher_student_measure import make_student, seed_task

    rng = np.random.default_rng(0)
    X = rng.laplace(size=(520, 6)) @ rng.normal(size=(6, 6))  # non-Gaussian, correlated inputs
    np.savez(tmp_path / "x.npz", X=X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b,c,d,e,f", comments="")
    np.savez(tmp_path / "other.npz", X=rng.laplace(size=(520, 6)))
    runs = {
        name: _run(tmp_path, name, [f"data.source={src}"])
        for name, src in (
            ("npz", f"npz:{tmp_path / 'x.npz'}"),
            ("csv", f"csv:{tmp_path / 'x.csv'}"),
            ("other", f"npz:{tmp_path / 'other.npz'}"),
        )
    }
    data = runs["npz"]["data"]
    assert (data["n_samples"], data["n_features"], data["n_train"], data["n_test"]) == (
        520,
        6,
        300,
        200,
    )
    assert runs["npz"]["seeds"] == runs["csv"]["seeds"]
    assert runs["npz"]["seeds"] != runs["other"]["seeds"]
    config = load_config(CONFIG, preset="smoke", overrides=TINY)
    teacher, _, test = seed_task(config, 0, InputPool(X, config["data"]["input_std"]))
    untrained = make_student(config, 2 * 3, 0).eval()
    _, _, control = measure_student(teacher, untrained, test, config, 0)
    got = runs["npz"]["seeds"][0]["untrained"]
    assert got["loss_full"] == pytest.approx(control["loss_full"], rel=1e-6)
    corr = control["alignment"]["mean_teacher_best_corr"]
    assert got["alignment"]["mean_teacher_best_corr"] == pytest.approx(corr, rel=1e-6)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["data.source=photos"],
            "data.source: expected one of 'teacher', 'npz:PATH', 'csv:PATH', ",
        ),
        (["data.source=NPZ", "teacher.input_dim=5"], "teacher.input_dim: expected the 6 features"),
        (
            ["data.source=NPZ", "data.n_train=500"],
            r"data.n_train \+ data.n_test: expected at most ",
        ),
    ],
)
def test_unusable_inputs_are_refused_in_one_line(overrides, message, tmp_path):
    np.savez(tmp_path / "x.npz", X=np.random.default_rng(0).normal(size=(520, 6)))
    overrides = [o.replace("NPZ", f"npz:{tmp_path / 'x.npz'}") for o in overrides]
    with pytest.raises(ConfigError, match=message) as err:
        _run(tmp_path, "r", overrides)
    assert "\n" not in str(err.value) and not (tmp_path / "r").exists()
