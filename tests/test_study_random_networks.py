"""random_networks study: its rank correlations equal scipy's, verdict rules, config errors."""

import json

import numpy as np
import pytest
from scipy import stats

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies.random_networks import correlation_verdict, load_data

CONFIG = "experiments/random_networks.yaml"
TINY = [
    "n_seeds=2",
    "data.n_samples=240",
    "networks.n_networks=8",
    "networks.width=[4, 8, 16]",
    "networks.depth=[1, 2]",
    "bootstrap.n_bootstrap=60",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("random_networks") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", overrides=TINY, quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_rho_equals_scipy_spearman_total_and_per_unit(tiny_run):
    _, m = tiny_run
    assert len(m["per_seed"]) == 2
    for p in m["per_seed"]:
        acc = np.array(p["test_accuracy"])
        ent = np.array([np.nan if e is None else e for e in p["total"]["entropy_nats"]])
        ok = np.isfinite(ent)
        rho = stats.spearmanr(ent[ok], acc[ok]).statistic
        assert p["total"]["spearman"] == pytest.approx(rho, abs=1e-6)
        per_unit = ent / np.maximum(np.array(p["n_dims"]), 1)
        rho_u = stats.spearmanr(per_unit[ok], acc[ok]).statistic
        assert p["per_unit"]["spearman"] == pytest.approx(rho_u, abs=1e-6)
        for key in ("total", "per_unit"):
            lo, hi = p[key]["spearman_interval"]
            assert -1.0 <= lo <= p[key]["spearman"] + 1e-9 <= hi + 2e-9 <= 1.0 + 2e-9
        # width is what the architecture says: a Gaussian entropy of d standardised units is at
        # most d/2 log(2 pi e) (equality for uncorrelated units)
        for e, d in zip(ent[ok], np.array(p["n_dims"])[ok], strict=True):
            assert e <= 0.5 * d * np.log(2 * np.pi * np.e) + 1e-9
        assert 0.0 <= min(acc) and max(acc) <= 1.0
        assert p["n_train"] + p["n_test"] == p["n_samples"] == 240


def test_summary_and_verdicts_are_consistent_with_the_seeds(tiny_run):
    _, m = tiny_run
    rows = {r["x"]: r for r in m["summary"]}
    for key, label in (("total", "entropy"), ("per_unit", "entropy per unit")):
        rhos = [p[key]["spearman"] for p in m["per_seed"]]
        assert rows[label]["rho (mean over seeds)"] == pytest.approx(np.mean(rhos), abs=1e-9)
    for v, key in zip(m["verdicts"], ("total", "per_unit"), strict=True):
        ivs = [p[key]["spearman_interval"] for p in m["per_seed"]]
        expected = (
            True
            if all(lo > 0 for lo, _ in ivs)
            else False
            if any(hi < 0 for _, hi in ivs)
            else None
        )
        assert v["held"] is expected


def test_same_seed_same_metrics(tiny_run, tmp_path):
    _, m = tiny_run
    again, _ = run_experiment(
        CONFIG, out=tmp_path / "again", preset="smoke", overrides=TINY, quiet=True
    )
    assert json.loads((again / "metrics.json").read_text()) == m


def _seed(seed, lo, hi, rho=0.3):
    interval = {"spearman": rho, "spearman_interval": [lo, hi]}
    return {"seed": seed, "test_accuracy": [0.5] * 5, "total": interval}


@pytest.mark.parametrize(
    ("intervals", "held"),
    [
        ([(0.1, 0.6), (0.05, 0.7)], True),
        ([(0.1, 0.6), (-0.2, 0.5)], None),
        ([(0.1, 0.6), (-0.6, -0.1)], False),
        ([(-0.3, 0.3)], None),
    ],
)
def test_verdict_rule_on_constructed_intervals(intervals, held):
    per_seed = [_seed(i, lo, hi) for i, (lo, hi) in enumerate(intervals)]
    v = correlation_verdict(per_seed, "total", "claim", 0.95)
    assert v.held is held
    assert f"excludes 0 in {sum(lo > 0 or hi < 0 for lo, hi in intervals)} of" in v.measured


def test_digits_subset_is_seeded_and_in_range():
    cfg = {"data": {"directory": "", "n_samples": 100}}
    X, y, name = load_data(cfg, 3)
    X2, y2, _ = load_data(cfg, 3)
    assert name == "digits" and X.shape == (100, 64)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X.min() >= 0.0 and X.max() <= 1.0


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("networks.n_network=5", "networks.n_network: unknown key"),
        ("networks.activation=[softmax]", "networks.activation"),
        ("networks.weight_scale=[10.0, 0.1]", "networks.weight_scale"),
        ("entropy.measure=knn", "entropy.measure"),
        ("data.directory=/nonexistent/mnist", "data.directory"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()
