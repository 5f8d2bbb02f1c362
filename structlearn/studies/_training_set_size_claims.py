"""Claims of the training_set_size study, read from its per-seed metrics (see the study's doc).

Each is a change from the smallest to the largest training fraction, per seed (the median over
the seed's networks at each fraction), judged by a t-interval over seeds; every claim needs the
networks to have fitted their training sets at every fraction.
"""

from __future__ import annotations

import math
from typing import Any

from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    interval_above,
)

ST17 = "Shwartz-Ziv & Tishby 2017 (training sample size)"


def _last(config: dict) -> str:
    return f"hidden_{len(config['network']['hidden'])}"


def _change(kind: str, path: str, label: str, unit: str, sign: float = 1.0) -> Measure:
    """Per seed: sign x (value at the smallest fraction - value at the largest), ``kind`` group."""

    def value(m: dict) -> float:
        lo, hi = (m["fractions"][m[k]][kind] for k in ("smallest", "largest"))
        for part in path.split("."):
            lo, hi = lo[part], hi[part]
        return sign * (lo - hi)

    return Measure(value, f"{label}, {kind} networks", unit)


def _vertical_scale(config: dict) -> float:
    """I(X;Y) / H(X) of the IB curve's rule: the vertical axis's span over the horizontal's.

    The vertical alternative of "closer to the bound" falls by the same share of its axis.
    """
    from structlearn.data.tishby_rule import tishby_joint
    from structlearn.estimators import mutual_information_of_joint

    return mutual_information_of_joint(tishby_joint(config["data"]["temperature"])) / math.log(4096)


def _fitted(config: dict) -> Premise:
    a = config["analysis"]["fit_accuracy"]
    return Premise(
        f"the networks fitted their training sets (median training accuracy >= {a:g} at every "
        "training fraction, every seed)",
        Measure(
            lambda m: min(f["trained"]["gap"]["train_accuracy"] for f in m["fractions"].values()),
            "least median training accuracy over the fractions",
            "accuracy",
        ),
        all_above(a),
    )


def claims(config: dict[str, Any]) -> list[Claim]:
    """The three claims: towards the bound, a smaller gap, a better held-out accuracy."""
    a, last = config["analysis"], _last(config)
    fr = config["data"]["train_fractions"]
    span = f"{100 * min(fr):g}% to {100 * max(fr):g}% of the inputs"
    excess = f"layers.{last}.ib_excess_nats"
    vertical = a["closer_by_nats"] * _vertical_scale(config)
    towards = Claim(
        text=f"More data moves the final layer towards the IB bound: from {span}, {last}'s "
        f"horizontal excess over the IB curve falls by more than {a['closer_by_nats']:g} nats",
        paper=ST17,
        measurement=_change("trained", excess, f"{last}'s excess, smallest - largest", "nats"),
        rule=interval_above(a["closer_by_nats"]),
        premise=_fitted(config),
        alternatives=[
            Alternative(
                _change("trained", f"alt_bins.{last}.ib_excess_nats", "the same, 29 bins", "nats")
            ),
            Alternative(
                _change("trained", f"layers.{last}.ib_gap_nats", "vertical gap below it", "nats"),
                interval_above(vertical),
            ),
        ],
        controls=[
            Control("labels shuffled", _change("shuffled", excess, "excess change", "nats")),
            Control("untrained networks", _change("untrained", excess, "excess change", "nats")),
        ],
    )
    gap = Claim(
        text=f"With little data generalisation is poor: from {span}, the gap between training "
        f"and held-out accuracy shrinks by more than {a['gap_shrinks_by']:g}",
        paper=ST17,
        measurement=_change("trained", "gap.accuracy_gap", "accuracy gap change", "accuracy"),
        rule=interval_above(a["gap_shrinks_by"]),
        premise=_fitted(config),
        alternatives=[
            Alternative(_change("trained", "gap.loss_gap_nats", "cross-entropy gap change", "nats"))
        ],
        controls=[
            Control(
                "untrained networks",
                _change("untrained", "gap.accuracy_gap", "accuracy gap change", "accuracy"),
            )
        ],
    )
    test = Claim(
        text=f"More data generalises better: from {span}, the held-out accuracy rises by more "
        f"than {a['test_gain_above']:g}",
        paper=ST17,
        measurement=_change("trained", "gap.test_accuracy", "held-out accuracy gain", "", -1.0),
        rule=interval_above(a["test_gain_above"]),
        premise=_fitted(config),
        alternatives=[
            Alternative(
                _change("trained", "gap.test_loss_nats", "held-out cross-entropy fall", "nats")
            )
        ],
        controls=[
            Control(
                "labels shuffled",
                _change("shuffled", "gap.test_accuracy", "held-out accuracy gain", "", -1.0),
            )
        ],
    )
    return [towards, gap, test]
