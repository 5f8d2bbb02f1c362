"""objectives_compare study: label noise, ΔR and information against closed forms; verdict rules."""

import json

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies._stats import mean_interval
from structlearn.studies.objectives_compare import (
    corrupt_labels,
    decide,
    delta_r,
    layer_information,
    verdicts,
)

CONFIG = "experiments/objectives_compare.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("objectives_compare") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_corrupt_labels_flips_exactly_the_rate_to_uniform_other_classes():
    y = np.repeat(np.arange(4), 5000)
    noisy, flipped = corrupt_labels(y, 0.4, 4, 0)
    assert flipped.sum() == 8000
    assert np.all(noisy[flipped] != y[flipped]) and np.all(noisy[~flipped] == y[~flipped])
    # the new class is uniform over the 3 others: offsets 1, 2, 3 each about 1/3
    offsets = np.bincount((noisy[flipped] - y[flipped]) % 4, minlength=4)[1:] / 8000
    assert np.all(np.abs(offsets - 1 / 3) < 0.02)
    same, none = corrupt_labels(y, 0.0, 4, 0)
    assert not none.any() and np.array_equal(same, y)
    with pytest.raises(ValueError, match="rate"):
        corrupt_labels(y, 1.5, 4, 0)


def test_delta_r_matches_the_closed_form_of_two_orthogonal_classes():
    # Z^T Z = 2I: R = log 2; each class rank one: Rc = 1/2 log 3 (eps = 1); scale is projected away
    Z = np.array([[3.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 5.0]])
    assert delta_r(Z, np.array([0, 0, 1, 1]), 2, 1.0) == pytest.approx(np.log(2) - 0.5 * np.log(3))


def test_layer_information_limits():
    info = {"estimator": "kde", "noise": "relative", "noise_variance": 1.0, "n_shuffles": 3}
    y = np.repeat([0, 1, 2], 20)
    # a constant layer carries nothing: I(X;T) = I(T;Y) = 0 (one mixture component)
    const = layer_information(np.ones((60, 3)), y, info, 0)
    assert const["I_XT_nats"] == pytest.approx(0.0, abs=1e-12)
    assert const["I_TY_nats"] == pytest.approx(0.0, abs=1e-12)
    # classes at far-apart points, tiny absolute noise: I(X;T) = I(T;Y) = H(Y) = log 3
    T = np.repeat(np.eye(3) * 100.0, 20, axis=0)
    far = layer_information(T, y, {**info, "noise": "absolute", "noise_variance": 1e-2}, 0)
    for key in ("I_XT_nats", "I_XT_lower_nats", "I_TY_nats", "H_Y_nats"):
        assert far[key] == pytest.approx(np.log(3), abs=1e-9)
    # shuffled labels: the null is far below, but not negative
    assert 0.0 <= far["I_TY_null_mean_nats"] < 0.5 * np.log(3)
    # relative noise is scale-free: rescaling T changes nothing
    rng = np.random.default_rng(0)
    T = rng.standard_normal((60, 4)) + 2 * y[:, None]
    a, b = (layer_information(s * T, y, info, 0) for s in (1.0, 7.0))
    assert a["I_XT_nats"] == pytest.approx(b["I_XT_nats"], rel=1e-9)
    assert a["I_XT_lower_nats"] <= a["I_XT_nats"] <= a["log_n_test_nats"] + 1e-12


def test_run_numbers_respect_their_bounds_and_paired_differences(tiny_run):
    _, m = tiny_run
    for seed in m["per_seed"]:
        for rate, objs in seed.items():
            for v in objs.values():
                assert 0.0 <= v["I_XT_lower_nats"] <= v["I_XT_nats"] <= v["log_n_test_nats"] + 1e-9
                assert 0.0 <= v["I_TY_nats"] <= v["H_Y_nats"] + 1e-9
                assert v["delta_R_nats"] > 0
                assert (v["memorised_corrupted_share"] is None) == (rate == "0.0")
    # the verdicts' paired differences are the per-seed differences' mean and t-interval
    drop = [
        (s["0.0"]["ce"]["test_accuracy"] - s["0.4"]["ce"]["test_accuracy"])
        - (s["0.0"]["mcr2"]["test_accuracy"] - s["0.4"]["mcr2"]["test_accuracy"])
        for s in m["per_seed"]
    ]
    assert m["paired"]["robustness"]["0.4"]["ce_minus_mcr2_drop"] == pytest.approx(
        mean_interval(drop).to_dict()
    )
    agg = m["aggregate"]["0.2"]["nib"]["test_accuracy"]["mean"]
    assert agg == pytest.approx(np.mean([s["0.2"]["nib"]["test_accuracy"] for s in m["per_seed"]]))
    assert len(m["verdicts"]) == 5


def test_same_seed_same_metrics(tiny_run, tmp_path):
    folder, m = tiny_run
    again, _ = run_experiment(CONFIG, out=tmp_path / "again", preset="smoke", quiet=True)
    assert json.loads((again / "metrics.json").read_text()) == m
    names = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert names == ["accuracy_vs_noise", "delta_R", "feature_similarity", "information_plane"]


def _iv(mean, half, n=3):
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


@pytest.mark.parametrize(
    ("diff", "held"),
    [
        (_iv(0.05, 0.01), True),
        (_iv(0.05, 0.2), None),  # positive on average, interval reaches 0
        (_iv(-0.05, 0.2), False),
        (_iv(0.0, 0.0), False),
        (_iv(0.05, 0.0, n=1), None),  # one seed: no interval
        (None, None),
    ],
)
def test_decide_rule(diff, held):
    assert decide(diff) is held


def test_verdicts_on_constructed_comparisons():
    paired = {
        "robustness": {
            "0.2": {
                "ce_drop": _iv(0.1, 0.02),
                "mcr2_drop": _iv(0.02, 0.01),
                "ce_minus_mcr2_drop": _iv(0.08, 0.02),
                "mcr2_minus_ce_accuracy": _iv(0.05, 0.02),
            }
        },
        "reference_noise": "0.0",
        "mcr2_minus_ce_delta_R": _iv(-1.0, 0.5),
        "ce_minus_vib_I_XT": None,
        "ce_minus_nib_I_XT": _iv(0.5, 0.7),
    }
    assert [v.held for v in verdicts(paired)] == [True, False, None]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("mlp.widht=3", "mlp.widht: unknown key"),
        ("objectives=[ce, hinge]", "objectives"),
        ("label_noise=[0.0, 0.95]", "label_noise"),
        ("information.estimator=knn", "information.estimator"),
        ("data.dataset=mnist", "data.dataset"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()
