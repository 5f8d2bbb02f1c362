"""random_networks study: its rank correlations are scipy's on the reported networks, the verdict
follows the per-seed rule, data sources and config errors."""

import json

import numpy as np
import pytest
from scipy import stats

from structlearn.analysis.layer_measures import LAYER_MEASURES
from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies._stats import mean_interval
from structlearn.studies.random_networks import STUDY

CONFIG = "experiments/random_networks.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("random_networks") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def _ranked(values):
    v = np.array([-np.inf if x is None else x for x in values], dtype=float)
    return np.where(np.isneginf(v), -1e300, v)


def test_rho_of_every_measure_is_scipys_on_the_reported_networks(tiny_run):
    _, m = tiny_run
    assert len(m["seeds"]) == 2
    for seed in m["seeds"]:
        for arm in ("mixed", "fixed"):
            res, nets = seed[arm], seed[arm]["networks"]
            acc = np.array(nets["test_accuracy"], dtype=float)
            for name in LAYER_MEASURES:
                rho = stats.spearmanr(_ranked(nets[name]), acc).statistic
                assert res[f"rho_{name}"] == pytest.approx(rho, abs=1e-9), (arm, name)
                assert res[f"rho_{name}_low"] <= res[f"rho_{name}"] <= res[f"rho_{name}_high"]
            shuffled = np.array(nets["shuffled_accuracy"], dtype=float)
            rho = stats.spearmanr(nets["channel_information"], shuffled).statistic
            assert res["rho_control_shuffled"] == pytest.approx(rho, abs=1e-9)
            ceiling = res["networks"]["channel_information"]
            assert all(0.0 <= c <= np.log(200) + 1e-9 for c in ceiling)  # measure.max_samples
        assert set(seed["fixed"]["networks"]["width"]) == {8}
        assert set(seed["mixed"]["networks"]["width"]) <= {8, 16}


def test_verdicts_follow_the_t_interval_of_the_per_seed_rho(tiny_run):
    _, m = tiny_run
    assert [v["claim"].endswith(")") for v in m["verdicts"]] == [True, True]
    for v, arm in zip(m["verdicts"], ("mixed", "fixed"), strict=True):
        rhos = [s[arm]["rho_channel_information"] for s in m["seeds"]]
        iv = mean_interval(rhos)
        assert v["measured"]["low"] == pytest.approx(iv.low)
        raw = "held" if iv.low > 0 else "not held" if iv.high < 0 else "undecided"
        shares = [s[arm]["share_at_ceiling"] for s in m["seeds"]]
        assert v["premise"]["met"] == all(x < 0.5 + 1e-12 for x in shares)
        if v["premise"]["met"] and not any(c["passes"] for c in v["controls"]):
            assert v["verdict"] == raw
        assert len(v["alternatives"]) == len(LAYER_MEASURES) - 1


def test_npz_source_written_by_the_test(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    X = rng.normal(size=(90, 12)) + 2.0 * np.eye(3)[y] @ rng.normal(size=(3, 12))
    np.savez(tmp_path / "toy.npz", X=X, y=y)
    folder, _ = run_experiment(
        CONFIG,
        out=tmp_path / "r",
        preset="smoke",
        overrides=[f"data.source=npz:{tmp_path / 'toy.npz'}", "n_seeds=1"],
        quiet=True,
    )
    seed = json.loads((folder / "metrics.json").read_text())["seeds"][0]
    assert seed["data"]["n_samples"] == 90
    assert seed["mixed"]["chance_accuracy"] == pytest.approx(1 / 3, abs=0.05)


def test_claims_name_the_classifier_that_ran():
    from structlearn.config import defaults

    config = defaults({**STUDY.schema})
    assert "softmax" in STUDY.claims(config)[0].text
    config["probe"]["classifier"] = "ridge"
    assert "ridge" in STUDY.claims(config)[0].text


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("networks.n_network=5", "networks.n_network: unknown key"),
        ("networks.activation=[softmax]", "networks.activation"),
        ("networks.weight_scale=[10.0, 0.1]", "networks.weight_scale"),
        ("networks.n_networks=100000", "networks.n_networks"),
        ("probe.classifier=svm", "probe.classifier"),
        ("data.source=photos", "data.source"),
        ("data.source=mnist:/nonexistent/mnist", "data.source"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()
