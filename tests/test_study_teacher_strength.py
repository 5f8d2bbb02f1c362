"""teacher_strength: time to alignment, the sign-aware match and the rank correlation."""

import json

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
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


CONFIG = "experiments/teacher_strength.yaml"
TINY = ["n_seeds=1", "data.n_train=150", "data.n_test=60", "training.epochs=3"]


def _run(tmp_path, name, source, extra=()):
    folder, _ = run_experiment(
        CONFIG,
        out=tmp_path / name,
        preset="smoke",
        overrides=[*TINY, f"data.source={source}", *extra],
        quiet=True,
    )
    return json.loads((folder / "metrics.json").read_text())


def test_a_table_with_a_label_column_gives_the_numbers_of_its_feature_columns(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.exponential(size=(230, 20))  # skewed, non-Gaussian inputs
    labels = rng.integers(0, 3, size=(230, 1))
    header = ",".join(["label", *(f"f{i}" for i in range(20))])
    table = np.hstack([labels, X])
    np.savetxt(tmp_path / "t.csv", table, delimiter=",", header=header, comments="", fmt="%.17g")
    np.savez(tmp_path / "x.npz", X=X)
    csv = _run(tmp_path, "run_csv", f"csv:{tmp_path / 't.csv'}", ["data.label_column=label"])
    npz = _run(tmp_path, "run_npz", f"npz:{tmp_path / 'x.npz'}")
    assert (csv["data"]["n_samples"], csv["data"]["n_features"]) == (230, 20)
    assert csv["seeds"] == npz["seeds"]  # the label column is not an input
    units = csv["seeds"][0]["units"]
    assert len(units["strength"]) == 10 and len(units["time_to_alignment"]) == 10


def test_a_table_of_the_wrong_width_names_teacher_input_dim(tmp_path):
    np.savetxt(tmp_path / "t.csv", np.ones((230, 7)), delimiter=",")
    with pytest.raises(
        ConfigError, match=r"^teacher.input_dim: expected the 7 features .* got 20; "
    ):
        _run(tmp_path, "r", f"csv:{tmp_path / 't.csv'}")
