"""depth_by_entropy study: gains and depths follow from the reported entropies and accuracies,
the whitening whitens, the verdict rule, config errors."""

import json

import numpy as np
import pytest

from structlearn.analysis.entropy_gain import recommended_depth
from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies.depth_by_entropy import (
    Whitener,
    aggregate,
    cut_patches,
    depth_verdict,
    saturation_depth,
)

CONFIG = "experiments/depth_by_entropy.yaml"
TINY = [
    "n_seeds=2",
    "data.images=[camera, coins, grass]",
    "data.per_image=40",
    "data.eval_per_image=40",
    "stack.n_atoms=16",
    "stack.n_iter=5",
    "probe.max_iter=100",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("depth_by_entropy") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", overrides=TINY, quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_gains_depths_and_saturation_follow_from_the_reported_curves(tiny_run):
    _, m = tiny_run
    assert len(m["per_seed"]) == 2
    for p in m["per_seed"]:
        h = [p["input_entropy_nats"], *p["entropy_nats"]]
        assert np.allclose(p["gain_nats"], np.diff(h), atol=2e-6)
        assert p["entropy_depth"] == recommended_depth(p["gain_nats"], 0.5)
        lo, hi = p["entropy_depth_interval"]
        assert 1 <= lo <= hi <= 2
        acc = np.array(p["test_accuracy"])
        assert len(acc) == 3  # pixels + 2 layers
        first = min(d for d in range(3) if acc[d] >= acc.max() - 0.01)
        assert p["accuracy_depth"] == first
        assert p["chance_accuracy"] == pytest.approx(1 / 3, abs=0.02)  # 3 balanced classes
        assert p["n_eval"] == 120 and p["n_train_patches"] == 120
        assert all(0.0 < d <= 1.0 for d in p["code_density"])
    agg = m["aggregate"]
    mean_acc = np.mean([p["test_accuracy"] for p in m["per_seed"]], axis=0)
    assert [a["mean"] for a in agg["accuracy_by_depth"]] == pytest.approx(mean_acc.tolist())
    assert agg["accuracy_depth_of_mean_curve"] == saturation_depth(mean_acc, 0.01)


def test_same_seed_same_metrics(tiny_run, tmp_path):
    _, m = tiny_run
    again, _ = run_experiment(
        CONFIG, out=tmp_path / "again", preset="smoke", overrides=TINY, quiet=True
    )
    assert json.loads((again / "metrics.json").read_text()) == m


def test_patches_come_from_their_photograph_and_whitening_whitens():
    rng = np.random.default_rng(0)
    imgs = [np.full((20, 30), 0.25), np.arange(600.0).reshape(20, 30)]
    X, y = cut_patches(imgs, 4, 50, rng)
    assert X.shape == (100, 16) and y.tolist() == [0] * 50 + [1] * 50
    assert np.all(X[:50] == 0.25)
    # a patch of the ramp image is a ramp: rows differ by 30, columns by 1
    P = X[50:].reshape(-1, 4, 4)
    assert np.all(np.diff(P, axis=2) == 1.0) and np.all(np.diff(P, axis=1) == 30.0)
    Z = rng.normal(size=(4000, 6)) @ rng.normal(size=(6, 6))
    w = Whitener(Z, 1e-9)
    W = w(Z)
    assert np.allclose(W.sum(axis=1), 0.0, atol=1e-9)  # per-patch mean removed first
    assert np.mean(np.sum(W**2, axis=1)) == pytest.approx(1.0)
    C = np.cov(W.T, bias=True)
    # mean removal leaves 5 directions; on them the covariance is isotropic
    ev = np.sort(np.linalg.eigvalsh(C))
    assert ev[0] == pytest.approx(0.0, abs=1e-8)
    assert np.allclose(ev[1:], ev[1:].mean(), rtol=1e-6)


def _seeds(pairs, acc=(0.2, 0.3, 0.31)):
    return [
        {
            "seed": i,
            "entropy_depth": h,
            "accuracy_depth": a,
            "test_accuracy": list(acc),
            "gain_nats": [1.0, 0.2],
        }
        for i, (h, a) in enumerate(pairs)
    ]


@pytest.mark.parametrize(
    ("pairs", "held"),
    [([(2, 2), (2, 2)], True), ([(1, 2), (2, 2), (2, 2)], True), ([(1, 3), (1, 2)], False)],
)
def test_depth_verdict_rule(pairs, held):
    per_seed = _seeds(pairs)
    cfg = {
        "verdict": {"depth_tolerance": 0.5},
        "stack": {"method": "sparse_coding"},
        "entropy": {"tolerance": 0.5, "measure": "gaussian"},
        "probe": {"tolerance": 0.01, "task": "photograph"},
    }
    v = depth_verdict(per_seed, aggregate(per_seed, 0.01), cfg)
    assert v.held is held


def test_saturation_depth_is_first_within_tolerance():
    assert saturation_depth([0.5, 0.5, 0.5], 0.0) == 0
    assert saturation_depth([0.1, 0.4, 0.395, 0.41], 0.01) == 1
    assert saturation_depth([0.1, 0.4, 0.395, 0.41], 0.001) == 3


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("stack.n_atom=8", "stack.n_atom: unknown key"),
        ("stack.group_size=5", "stack.group_size"),
        ("probe.task=cifar", "probe.task"),
        ("data.images=[nonsense]", "data.images"),
        ("data.patch=12", "probe.task"),  # with task digits (below)
        ("stack.method=ica", "stack.n_atoms"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    extra = ["probe.task=digits"] if override == "data.patch=12" else []
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(
            CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override, *extra], quiet=True
        )
    assert not (tmp_path / "r").exists()
