"""class_subspaces study: the smoke run's numbers hang together; the claim's pieces bite."""

import json

import numpy as np
import pytest

from structlearn.experiment import run_experiment
from structlearn.studies.class_subspaces import STUDY

CONFIG = "experiments/class_subspaces.yaml"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("class_subspaces") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def _seeds(m):
    return [s["metrics"] if "metrics" in s else s for s in m["seeds"]]


def test_smoke_measurements_are_consistent(smoke):
    folder, m = smoke
    for seed in _seeds(m):
        for name in ("ce", "mcr2"):
            g = seed[name]["geometry"]
            # 12-D features, 10 classes, r = subspace_dim = 3
            assert g["n_components"] == 3
            assert 0.0 <= g["mean_cosine"] <= g["max_cosine"] <= 1.0
            # mean cos² over all r angles never exceeds the top cosine²
            assert g["mean_overlap"] <= g["mean_cosine"] + 1e-12
            assert 1.0 <= g["mean_effective_rank"] <= 12.0
            assert seed[name]["geometry_alt_dim"]["n_components"] == 1
        # MCR²'s prediction is the nearest-subspace rule: the two accuracies coincide
        mc = seed["mcr2"]
        assert mc["test_accuracy"] == pytest.approx(mc["nearest_subspace_accuracy"])
    assert {p.stem for p in (folder / "figures").glob("*.png")} >= {"feature_similarity", "paired"}


def test_claim_measure_is_the_paired_gap_and_control_reads_shuffled():
    claim = STUDY.claims({"analysis": {"subspace_dim": 3, "alternative_dim": 1,
                                       "min_accuracy": 0.9}})[0]  # fmt: skip

    def seed(ce, mcr2, ce_sh, mcr2_sh, acc=(0.95, 0.92)):
        def part(cos, sh, a):
            g = {"mean_cosine": cos, "mean_overlap": cos**2}
            return {"test_accuracy": a, "geometry": g, "geometry_alt_dim": g,
                    "geometry_train": g, "shuffled": {"mean_cosine": sh}}  # fmt: skip

        return {"ce": part(ce, ce_sh, acc[0]), "mcr2": part(mcr2, mcr2_sh, acc[1])}

    seeds = [seed(0.8, 0.3, 0.9, 0.9), seed(0.7, 0.2, 0.95, 0.94), seed(0.75, 0.25, 0.9, 0.91)]
    assert claim.measurement.values(seeds) == pytest.approx([0.5, 0.5, 0.5])
    assert claim.rule(claim.measurement.values(seeds)).verdict == "held"
    ctl = claim.controls[0].measurement.values(seeds)
    assert ctl == pytest.approx([0.0, 0.01, -0.01])
    assert claim.rule(ctl).verdict != "held"
    # premise: the lower accuracy of the two, per seed
    assert claim.premise.measurement.values(seeds) == pytest.approx([0.92] * 3)
    low = [seed(0.8, 0.3, 0.9, 0.9, acc=(0.95, 0.5))] * 3
    assert claim.premise.rule(claim.premise.measurement.values(low)).verdict != "held"


def test_npz_source_runs(tmp_path):
    # two classes on orthogonal lines in 6-D, saved as npz: the study reads it through data.source
    rng = np.random.default_rng(0)
    X = np.vstack([np.outer(rng.normal(size=60), np.eye(6)[0]),
                   np.outer(rng.normal(size=60), np.eye(6)[1])]) + 0.01 * rng.normal(size=(120, 6))  # fmt: skip
    path = tmp_path / "two.npz"
    np.savez(path, X=X, y=np.repeat([0, 1], 60))
    folder, _ = run_experiment(
        CONFIG, out=tmp_path / "run", preset="smoke", quiet=True,
        overrides=[f"data.source=npz:{path}", "n_seeds=1"],
    )  # fmt: skip
    m = json.loads((folder / "metrics.json").read_text())
    seed = _seeds(m)[0]
    assert seed["ce"]["geometry"]["n_components"] == 3
    assert json.loads((folder / "metrics.json").read_text())["verdicts"]


def test_low_dimension_claim_threshold_is_the_subspace_dim():
    claim = STUDY.claims(
        {"analysis": {"subspace_dim": 3, "alternative_dim": 1, "min_accuracy": 0.9}}
    )[1]
    seeds = [{"mcr2": {"geometry": {"mean_effective_rank": v}}} for v in (2.0, 2.2, 2.1)]
    assert claim.rule(claim.measurement.values(seeds)).verdict == "held"
    seeds = [{"mcr2": {"geometry": {"mean_effective_rank": v}}} for v in (3.5, 4.0, 3.8)]
    assert claim.rule(claim.measurement.values(seeds)).verdict == "not held"
