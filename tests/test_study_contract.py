"""Every study under the contract: its smoke preset runs, its claims are complete, its rules bite.

Studies are discovered (``available_studies()``), not listed. Studies not yet moved onto the
contract are named in ``LEGACY``; the list may only shrink (a stale entry fails).
"""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

import numpy as np
import pytest

from structlearn.config import defaults, resolve_config
from structlearn.experiment import COMMON_SCHEMA, load_config, run_experiment
from structlearn.studies import available_studies, get_study
from structlearn.studies.base import Study
from structlearn.studies.claims import (
    CONTROL_PASSES,
    VERDICTS,
    Alternative,
    Control,
    Measure,
    Premise,
    all_above,
    evaluate,
)

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
LEGACY: set[str] = set()
CONTRACT = [s for s in available_studies() if s not in LEGACY]


def test_legacy_list_is_not_stale():
    legacy_now = {s for s in available_studies() if not isinstance(get_study(s), Study)}
    assert legacy_now == LEGACY


def _config_path(study: str) -> Path:
    return EXPERIMENTS / f"{study}.yaml"


@pytest.mark.parametrize("study", CONTRACT)
def test_schema_round_trips(study):
    schema = {**COMMON_SCHEMA, **get_study(study).schema}
    base = defaults(schema)
    assert resolve_config(schema, base) == base
    config = load_config(_config_path(study), preset="smoke")
    config.pop("preset")
    assert resolve_config(schema, config) == config


@pytest.fixture(scope="module", params=CONTRACT)
def smoke_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "r"
    folder, output = run_experiment(
        _config_path(request.param), out=out, preset="smoke", quiet=True
    )
    return request.param, folder, output


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield obj


def test_smoke_measurements_are_finite_and_verdicts_complete(smoke_run):
    study, folder, _ = smoke_run
    metrics = json.loads((folder / "metrics.json").read_text())
    assert np.isfinite(list(_numbers(metrics["seeds"]))).all()
    assert metrics["verdicts"], f"{study} states no claims"
    for v in metrics["verdicts"]:
        assert v["verdict"] in VERDICTS
        assert v["rule"] and v["premise"]["text"] and isinstance(v["premise"]["met"], bool)
        assert v["alternatives"] and v["controls"]
        assert all(isinstance(c["passes"], bool) for c in v["controls"])
    page = (folder / "report.html").read_text()
    for v in metrics["verdicts"]:
        assert html.escape(v["claim"]) in page


def _values_where_rule_holds(rule):
    """Per-seed values on which ``rule`` answers held (searched over a grid)."""
    for centre in (-1e3, -10, -1, -0.5, -0.1, 0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.95, 1, 2, 10, 1e3):
        values = centre + np.array([0.0, 1e-4, -1e-4])
        if rule(values).verdict == "held":
            return values
    raise AssertionError(f"no values found on which {rule.text!r} holds")


def test_a_control_built_to_pass_makes_every_claim_not_held(smoke_run):
    """Each claim's rule, fed values on which it holds, must give way to a control that holds too."""
    study, folder, _ = smoke_run
    config = json.loads((folder / "config.json").read_text())
    claims = get_study(study).claims(config)
    assert claims
    twin = Measure("x", "a copy of the measurement")
    for claim in claims:
        seeds = [{"x": x, "ok": 1.0} for x in _values_where_rule_holds(claim.rule)]
        rigged = dataclasses.replace(
            claim,
            measurement=twin,
            premise=Premise("met", Measure("ok", "ok"), all_above(0.5)),
            alternatives=[Alternative(twin)],
            controls=[Control("built to pass", twin)],
        )
        assert evaluate(rigged, seeds).display == CONTROL_PASSES, claim.text


def test_same_seed_same_metrics_other_seed_differs(tmp_path):
    """Byte-identical metrics for a repeated seed; another seed measures something else."""
    study = CONTRACT[0]
    runs = []
    for seed, name in ((0, "a"), (0, "b"), (1, "c")):
        folder, _ = run_experiment(
            _config_path(study),
            out=tmp_path / name,
            preset="smoke",
            seed=seed,
            quiet=True,
            overrides=["n_seeds=1"],
        )
        runs.append((folder / "metrics.json").read_bytes())
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
