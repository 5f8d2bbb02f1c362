"""Claims as data: what a study tests, decided by stated rules from per-seed values.

A :class:`Claim` names the literature's statement, the **measurement** it is decided on, the
**rule** (with its threshold, written into the report), the **premise** it needs to be testable
here, at least one **alternative** measurement (another estimator or a defensible setting) and at
least one **control** that the rule must not pass (shuffled labels, random regrouping, an identity
encoder, an untrained network, a random dictionary). :func:`evaluate` turns a claim and the
per-seed metrics of a run into a :class:`Verdict`, one of

- ``held`` / ``not held`` / ``undecided``: what the rule answers on the primary measurement;
- ``premise not met``: the premise failed, so the claim cannot show here (the measured premise is
  reported beside it);

and two qualifiers: ``not held (control passes too)`` when the primary rule holds but so does a
control (the rule cannot tell the claim from its negation), and ``estimator_dependent`` when the
primary and an alternative measurement reach different decisions (the report shows both).

Rules read one value per seed. Real-valued outcomes are judged by a Student-t interval of the
per-seed values (a paired difference is measured per seed by the study, then judged here);
integer outcomes (a depth, a count) by how many seeds satisfy a predicate ("3 of 3 seeds"), never
by a t-interval of identical integers. "Does not" claims are judged per seed against a tolerance
(:func:`all_below`), so three agreeing seeds decide instead of widening an interval.

Example
-------
>>> claim = Claim(
...     text="A beats B", paper="Someone 2020",
...     measurement=Measure("a_minus_b", "A − B per seed"),
...     rule=interval_above(0.0),
...     premise=Premise("both fitted", Measure("fit", "training accuracy"), all_above(0.99)),
...     alternatives=[Alternative(Measure("a_minus_b_alt", "A − B, other estimator"))],
...     controls=[Control("shuffled labels", Measure("shuffled", "A − B, labels shuffled"))],
... )
>>> seeds = [{"a_minus_b": d, "a_minus_b_alt": d, "fit": 1.0, "shuffled": s}
...          for d, s in [(0.3, 0.01), (0.4, -0.02), (0.35, 0.0)]]
>>> evaluate(claim, seeds).verdict
'held'
>>> evaluate(claim, [{**s, "shuffled": s["a_minus_b"]} for s in seeds]).display
'not held (control passes too)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from structlearn.studies._stats import mean_interval

VERDICTS = ("held", "not held", "undecided", "premise not met")
CONTROL_PASSES = "not held (control passes too)"

SeedMetrics = Mapping[str, Any]


# --------------------------------------------------------------------------------------------
# Measurements: one number per seed, read from that seed's metrics


@dataclass(frozen=True)
class Measure:
    """One number per seed: a dotted key into a seed's metrics, or a function of them.

    ``key`` ``"methods.pca.median"`` reads ``metrics["methods"]["pca"]["median"]``; a callable
    receives the seed's metrics and returns a float (a paired difference, a ratio). ``label`` is
    what the report calls it; ``unit`` is appended to values ("nats", "fraction", "" ...).
    """

    key: str | Callable[[SeedMetrics], float]
    label: str
    unit: str = ""

    def values(self, per_seed: Sequence[SeedMetrics]) -> np.ndarray:
        """The measurement of every seed, shape (n_seeds,); a missing key is a KeyError naming it."""
        return np.array([self._one(m) for m in per_seed], dtype=np.float64)

    def _one(self, metrics: SeedMetrics) -> float:
        if callable(self.key):
            return float(self.key(metrics))
        node: Any = metrics
        for part in self.key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"measurement {self.key!r}: no {part!r} in the seed's metrics")
            node = node[part]
        if node is None:
            return math.nan
        return float(node)

    def describe(self) -> str:
        return self.label + (f" ({self.unit})" if self.unit else "")


# --------------------------------------------------------------------------------------------
# Rules: per-seed values -> decision


@dataclass(frozen=True)
class Outcome:
    """What a rule decided and the numbers it read."""

    verdict: str  # held, not held or undecided
    measured: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Rule:
    """A named decision on per-seed values; ``text`` states it with its threshold."""

    text: str
    decide: Callable[[np.ndarray], Outcome]

    def __call__(self, values: np.ndarray) -> Outcome:
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"values: expected one value per seed, got shape {v.shape}")
        finite = v[np.isfinite(v)]
        if finite.size < v.size:
            bad = int(v.size - finite.size)
            return Outcome(
                "undecided",
                {"values": _clean(v), "n_seeds": int(v.size), "n_not_finite": bad},
                f"{bad} of {v.size} seeds gave no finite value",
            )
        return self.decide(v)


def _clean(v: np.ndarray) -> list[float | None]:
    return [float(x) if np.isfinite(x) else None for x in v]


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _interval_rule(threshold: float, above: bool, confidence: float) -> Callable:
    def decide(v: np.ndarray) -> Outcome:
        measured: dict[str, Any] = {"values": _clean(v), "n_seeds": int(v.size)}
        if v.size < 2:
            measured["mean"] = float(v[0])
            return Outcome("undecided", measured, f"{_fmt(v[0])} (1 seed: no interval)")
        iv = mean_interval(v, confidence)
        measured.update(iv.to_dict())
        text = f"{iv.text()} ({iv.n} seeds)"
        if iv.low == iv.high:  # identical per-seed values: no spread, judge the values themselves
            text = f"{_fmt(iv.mean)} in all {iv.n} seeds"
            inside = iv.mean > threshold if above else iv.mean < threshold
            return Outcome("held" if inside else "not held", measured, text)
        if (iv.low > threshold) if above else (iv.high < threshold):
            return Outcome("held", measured, text)
        if (iv.high < threshold) if above else (iv.low > threshold):
            return Outcome("not held", measured, text)
        return Outcome("undecided", measured, text)

    return decide


def interval_above(threshold: float, confidence: float = 0.95) -> Rule:
    """Held if the t-interval of the per-seed values lies above ``threshold``; not held if below.

    >>> interval_above(0.0)(np.array([0.2, 0.3, 0.25])).verdict
    'held'
    >>> interval_above(0.0)(np.array([0.2, -0.3, 0.25])).verdict
    'undecided'
    """
    return Rule(
        f"{confidence:.0%} t-interval over seeds above {threshold:g}",
        _interval_rule(threshold, True, confidence),
    )


def interval_below(threshold: float, confidence: float = 0.95) -> Rule:
    """Held if the t-interval of the per-seed values lies below ``threshold``; not held if above."""
    return Rule(
        f"{confidence:.0%} t-interval over seeds below {threshold:g}",
        _interval_rule(threshold, False, confidence),
    )


def _seed_count_rule(test: Callable[[np.ndarray], np.ndarray], what: str, share: float):
    def decide(v: np.ndarray) -> Outcome:
        ok = test(v)
        k, n = int(ok.sum()), int(v.size)
        need = math.ceil(share * n - 1e-9)
        measured = {"values": _clean(v), "n_seeds": n, "n_satisfied": k, "n_needed": need}
        text = f"{k} of {n} seeds {what}"
        if k >= need:
            return Outcome("held", measured, text)
        if n - k >= need:
            return Outcome("not held", measured, text)
        return Outcome("undecided", measured, text)

    return decide


def _share_text(share: float) -> str:
    return "every seed" if share >= 1 else f"at least {share:.0%} of seeds"


def all_below(tolerance: float, share: float = 1.0) -> Rule:
    """The "does not" rule: held if ``share`` of the seeds are below ``tolerance`` (default all).

    Not held if as many seeds are at or above it; undecided in between. Three seeds at 0.099,
    0.001 and 0.000 against a tolerance of 0.1 decide "does not" (held), where a t-interval would
    stretch to 0.175 and say nothing.

    >>> all_below(0.1)(np.array([0.099, 0.001, 0.0])).verdict
    'held'
    >>> all_below(0.1)(np.array([0.5, 0.3, 0.2])).text
    '0 of 3 seeds below 0.1'
    """
    return Rule(
        f"{_share_text(share)} below {tolerance:g}",
        _seed_count_rule(lambda v: v < tolerance, f"below {tolerance:g}", share),
    )


def all_above(threshold: float, share: float = 1.0) -> Rule:
    """Held if ``share`` of the seeds (default all) are above ``threshold``; the mirror of below."""
    return Rule(
        f"{_share_text(share)} above {threshold:g}",
        _seed_count_rule(lambda v: v > threshold, f"above {threshold:g}", share),
    )


def seeds_equal(target: float, share: float = 1.0, what: str = "") -> Rule:
    """Integer outcomes: held if ``share`` of the seeds (default all) give exactly ``target``.

    >>> seeds_equal(3, what="chose depth 3")(np.array([3, 3, 3])).text
    '3 of 3 seeds chose depth 3'
    """
    what = what or f"equal {target:g}"
    return Rule(
        f"{_share_text(share)} {what}",
        _seed_count_rule(lambda v: v == target, what, share),
    )


def seeds_where(
    predicate: Callable[[np.ndarray], np.ndarray], what: str, share: float = 1.0
) -> Rule:
    """Integer outcomes: held if ``share`` of the seeds satisfy ``predicate`` (vectorised)."""
    return Rule(f"{_share_text(share)} {what}", _seed_count_rule(predicate, what, share))


# --------------------------------------------------------------------------------------------
# Claims


@dataclass(frozen=True)
class Premise:
    """What must be true for the claim to be testable here; met when ``rule`` holds."""

    text: str
    measurement: Measure
    rule: Rule


@dataclass(frozen=True)
class Alternative:
    """Another defensible measurement of the same quantity (default: judged by the claim's rule)."""

    measurement: Measure
    rule: Rule | None = None


@dataclass(frozen=True)
class Control:
    """A case the rule must not pass (default: judged by the claim's rule)."""

    name: str
    measurement: Measure
    rule: Rule | None = None


@dataclass(frozen=True)
class Claim:
    """A statement from the literature and how this study decides it."""

    text: str
    paper: str
    measurement: Measure
    rule: Rule
    premise: Premise
    alternatives: Sequence[Alternative] = field(default_factory=tuple)
    controls: Sequence[Control] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.alternatives:
            raise ValueError(f"alternatives: claim {self.text!r} needs at least one alternative")
        if not self.controls:
            raise ValueError(f"controls: claim {self.text!r} needs at least one control")


@dataclass
class Verdict:
    """The decided claim, as written to ``metrics.json`` and drawn in the report's table."""

    claim: str
    paper: str
    verdict: str
    display: str
    rule: str
    measurement: str
    measured: dict[str, Any]
    premise: dict[str, Any]
    alternatives: list[dict[str, Any]]
    controls: list[dict[str, Any]]
    estimator_dependent: bool

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {VERDICTS}, got {self.verdict!r}")

    @property
    def held(self) -> bool | None:
        """True if held, False if not held, None otherwise (undecided, premise not met)."""
        return {"held": True, "not held": False}.get(self.verdict)

    def console_line(self) -> str:
        """One line for the terminal: ``[verdict] claim -- measured``."""
        return f"[{self.display}] {self.claim} -- {self.measured['text']}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "paper": self.paper,
            "verdict": self.verdict,
            "display": self.display,
            "rule": self.rule,
            "measurement": self.measurement,
            "measured": self.measured,
            "premise": self.premise,
            "alternatives": self.alternatives,
            "controls": self.controls,
            "estimator_dependent": self.estimator_dependent,
        }


def _judge(measure: Measure, rule: Rule, per_seed: Sequence[SeedMetrics]) -> Outcome:
    return rule(measure.values(per_seed))


def _measured(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.measured, "text": outcome.text}


def _decided(verdict: str) -> bool:
    return verdict in ("held", "not held")


def evaluate(claim: Claim, per_seed: Sequence[SeedMetrics]) -> Verdict:
    """Decide ``claim`` from the per-seed metrics of a run (see the module docstring)."""
    if not per_seed:
        raise ValueError("per_seed: expected the metrics of at least one seed, got none")
    primary = _judge(claim.measurement, claim.rule, per_seed)
    prem = _judge(claim.premise.measurement, claim.premise.rule, per_seed)
    premise_met = prem.verdict == "held"
    alternatives = []
    for alt in claim.alternatives:
        out = _judge(alt.measurement, alt.rule or claim.rule, per_seed)
        alternatives.append(
            {
                "measurement": alt.measurement.describe(),
                "rule": (alt.rule or claim.rule).text,
                "measured": _measured(out),
                "verdict": out.verdict,
            }
        )
    controls = []
    for ctl in claim.controls:
        out = _judge(ctl.measurement, ctl.rule or claim.rule, per_seed)
        controls.append(
            {
                "name": ctl.name,
                "measurement": ctl.measurement.describe(),
                "measured": _measured(out),
                "passes": out.verdict == "held",
            }
        )
    disagree = any(
        a["verdict"] != primary.verdict and (_decided(a["verdict"]) or _decided(primary.verdict))
        for a in alternatives
    )
    if not premise_met:
        verdict = display = "premise not met"
    elif primary.verdict == "held" and any(c["passes"] for c in controls):
        verdict, display = "not held", CONTROL_PASSES
    else:
        verdict = display = primary.verdict
    if disagree and verdict != "premise not met":
        display += " · estimator-dependent"
    return Verdict(
        claim=claim.text,
        paper=claim.paper,
        verdict=verdict,
        display=display,
        rule=claim.rule.text,
        measurement=claim.measurement.describe(),
        measured=_measured(primary),
        premise={
            "text": claim.premise.text,
            "measurement": claim.premise.measurement.describe(),
            "rule": claim.premise.rule.text,
            "value": _measured(prem),
            "met": premise_met,
        },
        alternatives=alternatives,
        controls=controls,
        estimator_dependent=disagree,
    )


__all__ = [
    "CONTROL_PASSES",
    "VERDICTS",
    "Alternative",
    "Claim",
    "Control",
    "Measure",
    "Outcome",
    "Premise",
    "Rule",
    "Verdict",
    "all_above",
    "all_below",
    "evaluate",
    "interval_above",
    "interval_below",
    "seeds_equal",
    "seeds_where",
]
