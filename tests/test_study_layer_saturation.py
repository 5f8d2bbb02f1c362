"""layer_saturation study: the smoke run's numbers hang together, the 3-D page is its maps, the
claims read what they say, and other data sources run."""

import json

import numpy as np
import pytest

from structlearn.analysis.probes import saturation_index
from structlearn.experiment import run_experiment
from structlearn.report.scatter3d import read_scatter3d_data
from structlearn.studies.claims import CONTROL_PASSES, evaluate
from structlearn.studies.layer_saturation import STUDY

CONFIG = "experiments/layer_saturation.yaml"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("layer_saturation") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_smoke_measurements_are_consistent(smoke):
    folder, m = smoke
    config = json.loads((folder / "config.json").read_text())
    tol = config["probe"]["tolerance"]
    assert len(m["seeds"]) == 2
    for s in m["seeds"]:
        assert s["layers"] == ["input", "hidden 1", "hidden 2", "hidden 3"]
        for key in ("linear", "knn", "untrained", "shuffled"):
            assert len(s[key]["accuracy"]) == 4
            assert s[key]["saturation"] == saturation_index(s[key]["accuracy"], tol)
        # every network sees the same input: its probes agree across trained and controls
        assert s["linear"]["accuracy"][0] == s["untrained"]["accuracy"][0]
        assert s["linear"]["accuracy"][0] == s["shuffled"]["accuracy"][0]
        k = s["linear"]["saturation"]
        p = s["pruning"]
        assert p["drop_linear_head"] == pytest.approx(
            s["test_accuracy"] - s["linear"]["accuracy"][k]
        )
        assert p["drop_knn_head"] == pytest.approx(s["test_accuracy"] - s["knn"]["accuracy"][k])
        assert p["drop_at_input"] == pytest.approx(s["test_accuracy"] - s["linear"]["accuracy"][0])
        assert p["drop_retrained"] == pytest.approx(
            s["test_accuracy"] - s["retrained_test_accuracy"]
        )
        assert 0.0 <= s["retrained_test_accuracy"] <= 1.0
        for d in (2, 3):
            agree = s[f"maps{d}d"]["agreement"]
            assert s[f"maps{d}d"]["saturation"] == saturation_index(
                agree, config["maps"]["tolerance"]
            )
            assert all(0.0 <= a <= 1.0 for a in agree)
    assert {p.stem for p in (folder / "figures").glob("*.png")} == {
        "probe_curves",
        "maps_2d",
        "maps_3d",
    }


def test_the_3d_page_is_the_first_seeds_maps_and_is_linked(smoke):
    folder, m = smoke
    page = (folder / "maps3d.html").read_text()
    data = read_scatter3d_data(page)
    assert data == m["scatter3d"]["maps3d"]
    n = len(data["labels"])
    assert n == 40  # smoke: maps.n_max of the held-out split
    assert [la["name"] for la in data["layers"]] == m["seeds"][0]["layers"]
    assert [la["agreement"] for la in data["layers"]] == m["seeds"][0]["maps3d"]["agreement"]
    assert all(np.shape(la["points"]) == (n, 3) for la in data["layers"])
    assert "http://" not in page and "https://" not in page
    assert '<a href="maps3d.html">' in (folder / "report.html").read_text()


def _seed(k_linear, k_untrained, k_shuffled=0, fit=1.0, drops=(0.0, 0.0, 0.05, 0.0)):
    sat = {"saturation": k_linear}
    return {
        "train_accuracy": fit,
        "linear": sat,
        "knn": sat,
        "maps2d": sat,
        "maps3d": sat,
        "untrained": {"saturation": k_untrained},
        "shuffled": {"saturation": k_shuffled},
        "pruning": dict(
            zip(("drop_linear_head", "drop_knn_head", "drop_at_input", "drop_retrained"), drops)
        ),
    }


CFG = {
    "network": {"hidden": [64] * 5},
    "probe": {"tolerance": 0.01},
    "analysis": {"fit_above": 0.99, "prune_tolerance": 0.01},
}


def test_saturation_claim_counts_seeds_inside_the_hidden_layers():
    claim = STUDY.claims(CFG)[0]
    assert evaluate(claim, [_seed(2, 0)] * 3).verdict == "held"
    v = evaluate(claim, [_seed(0, 0), _seed(5, 0), _seed(0, 0)])  # the input, the last layer
    assert v.verdict == "not held" and v.measured["text"] == "0 of 3 seeds saturate at hidden 1..4"
    assert evaluate(claim, [_seed(0, 0), _seed(5, 0), _seed(2, 0)]).verdict == "undecided"
    # an untrained network saturating inside too: the rule cannot tell learning from width
    assert evaluate(claim, [_seed(2, 2)] * 3).display == CONTROL_PASSES
    assert evaluate(claim, [_seed(2, 0, fit=0.9)] * 3).verdict == "premise not met"


def test_pruning_claim_and_its_control():
    claim = STUDY.claims(CFG)[1]
    assert evaluate(claim, [_seed(2, 0, drops=(0.004, 0.0, 0.05, 0.0))] * 3).verdict == "held"
    assert evaluate(claim, [_seed(2, 0, drops=(0.03, 0.0, 0.05, 0.0))] * 3).verdict == "not held"
    # cutting every hidden layer loses nothing either: the check has no power on this data
    assert evaluate(claim, [_seed(2, 0, drops=(0.0, 0.0, 0.0, 0.0))] * 3).display == CONTROL_PASSES


def test_runs_on_an_npz_source_and_refuses_unlabelled_data(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([5, 8, 9], 40)  # labels that are not 0..C-1
    X = rng.normal(size=(3, 10))[np.searchsorted([5, 8, 9], y)] * 3 + rng.normal(size=(120, 10))
    np.savez(tmp_path / "d.npz", X=X, y=y)
    sets = [f"data.source=npz:{tmp_path / 'd.npz'}", "n_seeds=1", "maps.n_max=25"]
    folder, _ = run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=sets,
                                 quiet=True)  # fmt: skip
    s = json.loads((folder / "metrics.json").read_text())["seeds"][0]
    assert s["linear"]["accuracy"][0] == 1.0  # class means 3 sd apart in 10 dims: separable
    assert len(read_scatter3d_data((folder / "maps3d.html").read_text())["labels"]) == 25
    np.savez(tmp_path / "u.npz", X=X)
    with pytest.raises(ValueError, match=r"data\.source"):
        run_experiment(CONFIG, out=tmp_path / "r2", preset="smoke", quiet=True,
                       overrides=[f"data.source=npz:{tmp_path / 'u.npz'}"])  # fmt: skip


@pytest.mark.parametrize("hidden", ["[]", "[64]"])
def test_fewer_than_two_hidden_layers_are_refused(hidden, tmp_path):
    from structlearn.config import ConfigError

    with pytest.raises(ConfigError, match=r"network\.hidden: expected at least 2"):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", quiet=True,
                       overrides=[f"network.hidden={hidden}"])  # fmt: skip
