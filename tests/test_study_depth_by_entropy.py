"""depth_by_entropy study: depths follow from the reported measures and accuracies, the premise
is what the accuracy curve says, the untrained control, data sources and config errors."""

import json

import numpy as np
import pytest

from structlearn.analysis.entropy_gain import recommended_depth
from structlearn.analysis.probes import saturation_index
from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies.depth_by_entropy import (
    MEASURES,
    _untrained,
    rises_and_saturates,
)

CONFIG = "experiments/depth_by_entropy.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("depth_by_entropy") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_depths_premise_and_mismatch_follow_from_the_reported_curves(tiny_run):
    _, m = tiny_run
    assert len(m["seeds"]) == 2
    for seed in m["seeds"]:
        for stack in ("trained", "untrained"):
            s = seed[stack]
            acc = s["accuracy"]
            assert len(acc) == 3 and len(s["layers"]) == 3  # input + 2 layers
            assert s["accuracy_depth"] == saturation_index(acc, 0.02)
            assert s["premise"] == float(rises_and_saturates(acc, 0.02))
            for k in MEASURES:
                values = [row[f"{k}_nats"] for row in s["layers"]]
                tol = 0.1 if k == "channel_information" else 0.5
                if None in values:
                    assert s["depth"][k] is None and s["mismatch"][k] is None
                    continue
                assert s["depth"][k] == recommended_depth(np.diff(values), tol)
                assert s["mismatch"][k] == abs(s["depth"][k] - s["accuracy_depth"])
            ceiling = s["layers"][0]["channel_ceiling_nats"]
            assert all(0 <= row["channel_information_nats"] <= ceiling for row in s["layers"])
        # the whitened input lost a direction to the per-sample mean removal: no log-det
        inp = seed["trained"]["layers"][0]
        assert inp["gaussian_entropy_nats"] is None
        assert inp["rank"] < inp["n_units"] - inp["n_constant_units"]
    (v,) = m["verdicts"]
    met = [s["trained"]["premise"] == 1.0 for s in m["seeds"]]
    assert v["premise"]["met"] == all(met)
    if not all(met):
        assert v["verdict"] == "premise not met"


def test_saturation_and_premise_on_constructed_curves():
    assert saturation_index([0.5, 0.5, 0.5], 0.0) == 0
    assert saturation_index([0.1, 0.4, 0.395, 0.41], 0.01) == 1
    assert saturation_index([0.1, 0.4, 0.395, 0.41], 0.001) == 3
    assert rises_and_saturates([0.1, 0.4, 0.41, 0.405], 0.02)
    assert not rises_and_saturates([0.9, 0.93, 0.5], 0.02)  # peaks and collapses
    assert not rises_and_saturates([0.1, 0.2, 0.3], 0.02)  # still rising at the top
    assert not rises_and_saturates([0.5, 0.49, 0.2], 0.02)  # the input is best


def test_untrained_control_has_random_atoms_of_the_trained_shapes_and_norms():
    from structlearn.models.stack import SparseCodingStack

    X = np.random.default_rng(0).laplace(size=(200, 8))
    stack = SparseCodingStack(n_layers=2, n_atoms=8, group_size=2, n_iter=5, random_state=0).fit(X)
    ctl = _untrained(stack, np.random.default_rng(1))
    for D, R in zip(stack.components_, ctl.components_, strict=True):
        assert D.shape == R.shape and not np.allclose(D, R)
        np.testing.assert_allclose(np.linalg.norm(R, axis=1), np.linalg.norm(D, axis=1))
    assert [c.shape for c in ctl.transform_all(X)] == [(200, 8), (200, 8)]


def test_npz_source_written_by_the_test(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 60)
    X = rng.laplace(size=(120, 16)) + 3.0 * y[:, None] * rng.normal(size=16)
    np.savez(tmp_path / "toy.npz", X=X, y=y)
    folder, _ = run_experiment(
        CONFIG,
        out=tmp_path / "r",
        preset="smoke",
        overrides=[f"data.source=npz:{tmp_path / 'toy.npz'}", "n_seeds=1", "data.n_samples=120"],
        quiet=True,
    )
    seed = json.loads((folder / "metrics.json").read_text())["seeds"][0]
    assert seed["data"]["n_eval"] == 60
    assert seed["trained"]["chance_accuracy"] == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("stack.n_atom=8", "stack.n_atom: unknown key"),
        ("stack.group_size=5", "stack: group_size: expected a divisor"),
        ("data.source=tishby12", "data.source"),
        ("data.images=[nonsense]", "unknown image"),
        ("stack.method=ica", "stack"),
        ("verdict.depth_tolerance=0.5", "verdict.depth_tolerance"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    extra = ["data.source=photos"] if "images" in override else []
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(
            CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override, *extra], quiet=True
        )
    assert not (tmp_path / "r").exists()


def test_untrained_ica_control_unmixes_with_random_rows_of_the_trained_norms():
    from structlearn.models.stack import SparseCodingStack

    X = np.random.default_rng(2).laplace(size=(300, 6))
    stack = SparseCodingStack(n_layers=2, n_atoms=4, method="ica", n_iter=200, random_state=0)
    stack.fit(X)
    ctl = _untrained(stack, np.random.default_rng(3))
    first = ctl.components_[0]
    np.testing.assert_allclose(
        np.linalg.norm(first, axis=1), np.linalg.norm(stack.components_[0], axis=1)
    )
    np.testing.assert_allclose(ctl.transform_all(X)[0], (X - ctl.ica_[0].mean_) @ first.T)
    assert not np.allclose(stack.transform_all(X)[0], ctl.transform_all(X)[0])
