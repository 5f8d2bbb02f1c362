"""The study contract's rules, decided on hand-made per-seed values, and its runner's checkpoints."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest

from structlearn.report import _verdicts
from structlearn.studies.base import RunContext, SeedResult, SeedStore, Study, seed_summary
from structlearn.studies.claims import (
    CONTROL_PASSES,
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    evaluate,
    interval_above,
    interval_below,
    seeds_equal,
)


def _claim(rule, *, premise_rule=None, alt_key="alt", ctl_key="ctl"):
    return Claim(
        text="x is positive",
        paper="test",
        measurement=Measure("x", "x"),
        rule=rule,
        premise=Premise("fitted", Measure("fit", "fit"), premise_rule or all_above(0.5)),
        alternatives=[Alternative(Measure(alt_key, "x by another estimator"))],
        controls=[Control("shuffled", Measure(ctl_key, "x on shuffled labels"))],
    )


def _seeds(x, alt=None, ctl=None, fit=None):
    n = len(x)
    alt = x if alt is None else alt
    ctl = [0.0] * n if ctl is None else ctl
    fit = [1.0] * n if fit is None else fit
    return [{"x": a, "alt": b, "ctl": c, "fit": f} for a, b, c, f in zip(x, alt, ctl, fit)]


def test_paired_interval_matches_student_t_by_hand():
    x = [0.3, 0.5, 0.4]
    out = interval_above(0.0)(np.array(x))
    half = 4.302652729749464 * np.std(x, ddof=1) / np.sqrt(3)  # t_{0.975, 2}
    assert out.verdict == "held"
    assert out.measured["low"] == pytest.approx(0.4 - half, abs=1e-12)
    assert out.measured["high"] == pytest.approx(0.4 + half, abs=1e-12)
    # an interval that straddles the threshold is undecided; one wholly below is not held
    assert interval_above(0.0)(np.array([0.3, -0.2, 0.1])).verdict == "undecided"
    assert interval_above(0.0)(np.array([-0.3, -0.2, -0.25])).verdict == "not held"
    assert interval_below(0.0)(np.array([-0.3, -0.2, -0.25])).verdict == "held"


def test_one_seed_is_undecided_for_interval_rules_and_identical_values_are_not_intervals():
    assert interval_above(0.0)(np.array([5.0])).verdict == "undecided"
    out = interval_above(2.0)(np.array([3.0, 3.0, 3.0]))
    assert out.verdict == "held" and out.text == "3 in all 3 seeds"
    assert seed_summary([3, 3, 3]) == "3 (all 3 seeds)"
    assert "[" not in seed_summary([2.0, 2.0])


def test_seed_counts_for_integer_outcomes():
    out = seeds_equal(3, what="chose depth 3")(np.array([3, 3, 3]))
    assert (out.verdict, out.text) == ("held", "3 of 3 seeds chose depth 3")
    assert seeds_equal(3)(np.array([1, 2, 1])).verdict == "not held"
    assert seeds_equal(3)(np.array([3, 2, 3])).verdict == "undecided"
    assert seeds_equal(3, share=0.6)(np.array([3, 2, 3])).verdict == "held"  # 2 >= ceil(1.8)


def test_does_not_rule_decides_from_per_seed_values():
    # the audit's ReLU layer: every seed below the tolerance -> "does not" holds (not undecided)
    drops = np.array([0.099, 0.001, 0.000])
    assert all_below(0.1)(drops).verdict == "held"
    assert interval_below(0.1)(drops).verdict == "undecided"  # what a t-interval would say
    assert all_below(0.1)(np.array([0.5, 0.2, 0.3])).verdict == "not held"
    assert all_below(0.1)(np.array([0.05, 0.2, 0.3])).verdict == "undecided"  # seeds disagree
    assert all_below(0.1, share=2 / 3)(np.array([0.05, 0.2, 0.3])).verdict == "not held"
    assert all_below(0.1)(np.array([0.05, 0.01, 0.3])).verdict == "undecided"
    assert all_below(0.1)(np.array([0.1, 0.0, 0.0])).verdict == "undecided"  # 0.1 is not below


def test_premise_failure_is_premise_not_met_with_the_measured_premise():
    v = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4], fit=[0.9, 0.4, 1.0]))
    assert v.verdict == "premise not met" and v.premise["met"] is False
    assert v.premise["value"]["text"] == "2 of 3 seeds above 0.5"
    assert v.measured["mean"] == pytest.approx(0.4)  # still measured and shown


def test_control_that_passes_turns_held_into_not_held():
    v = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4], ctl=[0.3, 0.5, 0.45]))
    assert (v.verdict, v.display) == ("not held", CONTROL_PASSES)
    assert v.controls[0]["passes"] is True
    v = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4], ctl=[0.01, -0.02, 0.0]))
    assert (v.verdict, v.controls[0]["passes"]) == ("held", False)


def test_estimator_disagreement_is_flagged_and_both_shown():
    v = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4], alt=[-0.3, -0.5, -0.4]))
    assert v.verdict == "held" and v.estimator_dependent
    assert v.display == "held · estimator-dependent"
    assert v.alternatives[0]["verdict"] == "not held"
    agree = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4]))
    assert not agree.estimator_dependent


def test_verdict_json_has_the_contract_keys():
    d = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4])).to_dict()
    for key in ("claim", "verdict", "rule", "measured", "premise", "alternatives", "controls"):
        assert key in d
    assert d["rule"] == "95% t-interval over seeds above 0"
    assert set(d["premise"]) >= {"text", "value", "met"}
    assert set(d["controls"][0]) >= {"name", "measured", "passes"}
    json.dumps(d)  # plain JSON


def test_claims_need_an_alternative_and_a_control():
    with pytest.raises(ValueError, match="alternatives"):
        Claim(
            "c",
            "p",
            Measure("x", "x"),
            all_below(1),
            Premise("p", Measure("x", "x"), all_below(1)),
            alternatives=[],
            controls=[Control("c", Measure("x", "x"))],
        )
    with pytest.raises(ValueError, match="controls"):
        Claim(
            "c",
            "p",
            Measure("x", "x"),
            all_below(1),
            Premise("p", Measure("x", "x"), all_below(1)),
            alternatives=[Alternative(Measure("x", "x"))],
            controls=[],
        )


def test_missing_measurement_and_non_finite_values():
    with pytest.raises(KeyError, match="'nope'"):
        Measure("a.nope", "n").values([{"a": {"b": 1}}])
    out = interval_above(0.0)(np.array([0.1, np.nan, 0.2]))
    assert out.verdict == "undecided" and out.measured["n_not_finite"] == 1


def test_report_renders_both_formats_and_malformed_rows():
    new = evaluate(_claim(interval_above(0.0)), _seeds([0.3, 0.5, 0.4])).to_dict()
    old = {"claim": "old claim", "measured": "0.5", "held": True}
    page = _verdicts([new, old, "garbage", {"no": "claim"}])
    assert "x is positive" in page and "old claim" in page and "malformed" in page
    assert "shuffled" in page and "x by another estimator" in page  # in the row, not a footnote
    assert _verdicts("not a list") == "<p>(this study states no claims)</p>"


class _Toy(Study):
    """A study measured by counting calls: checkpoints must make resumed seeds free."""

    name = "toy"
    summary = "toy"
    calls: ClassVar[list[int]] = []

    def __init__(self, fail_at=None):
        self.fail_at = fail_at

    def measure(self, config, seed, shared):
        self.calls.append(seed)
        assert self.context is not None and self.context.work_dir.name == "work"
        if seed == self.fail_at:
            raise KeyboardInterrupt
        rng = np.random.default_rng(seed)
        return SeedResult(
            {"x": float(rng.normal()), "fit": 1.0, "v": rng.normal(size=3)}, {"a": seed}
        )

    def claims(self, config):
        return [_claim(interval_above(0.0), alt_key="x", ctl_key="x")]


def _ctx(tmp_path, resume):
    return RunContext(out_dir=tmp_path / "out", work_dir=tmp_path / "work", seed=0, resume=resume)


def test_resume_skips_finished_seeds_and_equals_an_uninterrupted_run(tmp_path):
    config = {"seed": 5, "n_seeds": 4, "k": 1}
    whole = _Toy().run(config, _ctx(tmp_path / "a", False))
    _Toy.calls.clear()
    with pytest.raises(KeyboardInterrupt):
        _Toy(fail_at=7).run(config, _ctx(tmp_path, False))
    assert _Toy.calls == [5, 6, 7]
    _Toy.calls.clear()
    resumed = _Toy().run(config, _ctx(tmp_path, True))
    assert _Toy.calls == [7, 8]  # seeds 5 and 6 came from their checkpoints
    assert json.dumps(resumed.metrics) == json.dumps(whole.metrics)
    assert _Toy().context is None  # the run's context lives only while it measures


def test_resume_refuses_a_checkpoint_of_another_config_and_leaves_it(tmp_path):
    _Toy().run({"seed": 0, "n_seeds": 1, "k": 1}, _ctx(tmp_path, False))
    path = SeedStore(tmp_path / "work", "toy", {"seed": 0}).path(0)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"differs in: k"):
        _Toy().run({"seed": 0, "n_seeds": 1, "k": 2}, _ctx(tmp_path, True))
    assert path.read_bytes() == before
    path.write_bytes(b"torn")
    with pytest.raises(ValueError, match="cannot read the checkpoint"):
        _Toy().run({"seed": 0, "n_seeds": 1, "k": 1}, _ctx(tmp_path, True))


def test_non_finite_seed_metrics_are_refused(tmp_path):
    class _Bad(_Toy):
        def measure(self, config, seed, shared):
            return SeedResult({"x": float("nan")})

    with pytest.raises(ValueError, match=r"non-finite value at seed 0\.x"):
        _Bad().run({"seed": 0, "n_seeds": 1}, _ctx(tmp_path, False))


def test_quantity_rows_summarise_over_seeds_and_count_missing_values():
    from structlearn.studies.base import SeedRecord, quantity_rows

    records = [SeedRecord(s, {"a": {"b": v}, "c": c}, None, 0.0) for s, v, c in
               [(0, 1.0, None), (1, 2.0, 5.0), (2, 3.0, None)]]  # fmt: skip
    rows = quantity_rows(records, [("a.b", "b"), ("c", "c")])
    assert rows[0] == {"quantity": "b", "value over seeds": "2 [-0.484, 4.48]"}
    assert rows[1]["value over seeds"] == "5 (2 seeds without a value)"
