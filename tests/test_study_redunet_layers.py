"""redunet_layers study: the smoke run's numbers hang together; the claims read what they say."""

import json

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies.claims import evaluate
from structlearn.studies.redunet_layers import STUDY

CONFIG = "experiments/redunet_layers.yaml"
ANALYSIS = {"tolerance": 0.05, "min_accuracy": 0.9, "alternative_eps": 0.7071,
            "max_start_fraction": 0.5}  # fmt: skip


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("redunet_layers") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_smoke_measurements_are_consistent(smoke):
    folder, m = smoke
    assert m["data"]["signal_shape"] == [3, 16]
    for seed in m["seeds"]:
        layers = seed["layers"]
        for rec in layers.values():
            dR = np.array(rec["delta_R_nats"])
            assert dR.size == 4  # input + 3 layers
            assert rec["start_nats"] == pytest.approx(dR[0])
            assert rec["total_increase_nats"] == pytest.approx(dR[-1] - dR[0])
            assert rec["min_increment_nats"] == pytest.approx(np.diff(dR).min())
            assert rec["n_decreasing"] == int(np.sum(np.diff(dR) < 0))
        # every vector-ReduNet run starts from the same training features and ε
        for name in ("scrambled", "shuffled"):
            assert layers[name]["start_nats"] == pytest.approx(layers["vector"]["start_nats"])
        circ = seed["invariance"]["circulant"]
        # the circulant network commutes with shifts and its own classifier ignores them
        assert circ["aligned_cosine"] == pytest.approx(1.0, abs=1e-9)
        assert circ["equivariant_cosine"] == pytest.approx(1.0, abs=1e-9)
        assert circ["own"]["changed_fraction"] == 0.0
        assert circ["own"]["shifted_accuracy"] == circ["own"]["accuracy"]
        assert seed["shifts"] == [4, 8, 12]
        vec = seed["invariance"]["vector"]
        assert vec["aligned_cosine"] < 1.0 - 1e-6
    assert {p.stem for p in (folder / "figures").glob("*.png")} == {
        "delta_R_by_layer",
        "shift_invariance",
    }


def _seed(min_inc=0.1, scrambled=-0.05, circ=0.0, vec=0.4, acc=0.95, start=0.1):
    layer = {"min_increment_nats": min_inc, "start_fraction": start}
    inv = {n: {"subspace": {"changed_fraction": c, "accuracy": acc}, "own": {"changed_fraction": c},
               "aligned_cosine": 1.0 - c} for n, c in (("circulant", circ), ("vector", vec))}  # fmt: skip
    return {"layers": {"vector": layer, "vector_test": layer, "vector_alt_eps": layer,
                       "circulant": layer, "scrambled": {"min_increment_nats": scrambled}},
            "invariance": inv}  # fmt: skip


def test_layer_claim_reads_the_smallest_gain_and_its_control_bites():
    claim = STUDY.claims({"analysis": ANALYSIS})[0]
    assert evaluate(claim, [_seed(), _seed(0.2), _seed(0.05)]).verdict == "held"
    # one seed with a layer that lowered ΔR: not every layer increases it
    assert evaluate(claim, [_seed(), _seed(-0.01), _seed(0.05)]).verdict == "undecided"
    assert evaluate(claim, [_seed(-0.1)] * 3).verdict == "not held"
    # scrambled layers that also raise ΔR at every layer: the rule cannot tell them apart
    assert evaluate(claim, [_seed(scrambled=0.01)] * 3).display == "not held (control passes too)"
    # ΔR of the input already near its ceiling: nothing to test
    assert evaluate(claim, [_seed(start=0.8)] * 3).verdict == "premise not met"


def test_invariance_claim_reads_changed_predictions_with_the_vector_net_as_control():
    claim = STUDY.claims({"analysis": ANALYSIS})[1]
    assert evaluate(claim, [_seed(circ=0.0), _seed(circ=0.01), _seed(circ=0.02)]).verdict == "held"
    assert evaluate(claim, [_seed(circ=0.2)] * 3).verdict == "not held"
    both = evaluate(claim, [_seed(circ=0.0, vec=0.01)] * 3)
    assert both.display == "not held (control passes too)"
    assert evaluate(claim, [_seed(acc=0.6)] * 3).verdict == "premise not met"


def test_npz_images_run_and_missing_class_is_named(tmp_path):
    # two classes of 10x10 images: a bar at random angles vs a ring, saved as npz
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:10, :10] - 4.5
    ring = np.exp(-((np.hypot(yy, xx) - 3.0) ** 2))
    bars = [np.exp(-((np.cos(a) * yy - np.sin(a) * xx) ** 2)) for a in rng.uniform(0, np.pi, 30)]
    X = np.stack(bars + [ring + 0.05 * rng.standard_normal((10, 10)) for _ in range(30)])
    path = tmp_path / "shapes.npz"
    np.savez(path, X=X, y=np.repeat([3, 7], 30))
    over = [f"data.source=npz:{path}", "n_seeds=1", "data.classes=[3, 7]"]
    folder, _ = run_experiment(CONFIG, out=tmp_path / "run", preset="smoke", quiet=True,
                               overrides=over)  # fmt: skip
    m = json.loads((folder / "metrics.json").read_text())
    assert m["data"]["class_counts"] == [30, 30]
    assert len(m["verdicts"]) == 2
    with pytest.raises(ConfigError, match=r"data\.classes: class 5 has 0 samples"):
        run_experiment(CONFIG, out=tmp_path / "bad", preset="smoke", quiet=True,
                       overrides=[*over[:2], "data.classes=[3, 5]"])  # fmt: skip
