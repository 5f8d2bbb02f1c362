"""Claims of the information_plane study, read from its per-seed metrics (see the study's doc).

Every claim is decided from per-seed values: layers at the estimator's ceiling (I(X;T) within
``verdict.ceiling_margin`` of log n at every epoch) are left out because they cannot register a
drop; compression claims need the network to have fitted (``verdict.fit_accuracy``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    interval_above,
    interval_below,
    seeds_where,
)

ST17 = "Shwartz-Ziv & Tishby 2017"
SAXE18 = "Saxe et al. 2018"


def claims(config: dict[str, Any]) -> list[Claim]:
    """Every claim the config's networks let the study decide."""
    nets, hidden = config["networks"], hidden_names(config)
    out = _compression_claims("tanh", config, expect=True)
    if "relu" in nets:
        out += _compression_claims("relu", config, expect=False)
    if "noisy" in nets:
        out += _compression_claims("noisy", config, config["noisy"]["activation"] == "tanh")
    return [*out, _snr_claim(config, hidden), *_ib_claims(config, hidden)]


def hidden_names(config: dict[str, Any]) -> list[str]:
    return [f"hidden_{i + 1}" for i in range(len(config["network"]["hidden"]))]


def _below(plane: dict, hidden: list[str]) -> list[dict]:
    """The hidden layers of a plane that are not at the estimator's ceiling all run."""
    return [plane["layers"][n] for n in hidden if not plane["layers"][n]["at_ceiling"]]


def _compressing(plane: dict, hidden: list[str], tol: float) -> list[dict]:
    return [layer for layer in _below(plane, hidden) if layer["compression_nats"] > tol]


def _mean_or_nan(values: list[float]) -> float:
    """The mean, or NaN where there is nothing to average (the rule then says which seeds)."""
    return float(np.mean(values)) if values else math.nan


def _at(m: dict, kind: str, plane: str) -> dict:
    return m[kind] if plane == "plane" else m[kind][plane]


PLANE_NAMES = {
    "plane": "",
    "alt_bins": ", other bin count",
    "alt_kde": ", KDE",
    "untrained": ", untrained network",
}


def _over_layers(kind: str, plane: str, layers: Any, value: Any, label: str, unit: str):
    """A per-seed number from the layers ``layers(plane)`` picks, reduced by ``value``."""
    return Measure(lambda m: value(layers(_at(m, kind, plane))), label + PLANE_NAMES[plane], unit)


def _share_compressing(kind: str, hidden: list[str], tol: float, plane: str = "plane") -> Measure:
    return _over_layers(
        kind,
        plane,
        lambda p: _below(p, hidden),
        lambda ls: _mean_or_nan([float(x["compression_nats"] > tol) for x in ls]),
        f"share of {kind}'s hidden layers below the ceiling that drop > {tol:g} nats after the "
        "peak",
        "fraction",
    )


def _max_drop(kind: str, hidden: list[str], plane: str = "plane") -> Measure:
    return _over_layers(
        kind,
        plane,
        lambda p: _below(p, hidden),
        lambda ls: max((x["compression_nats"] for x in ls), default=math.nan),
        f"largest drop of I(X;T) after its peak over {kind}'s hidden layers below the ceiling",
        "nats",
    )


def _share_after_peak(kind: str, hidden: list[str], tol: float, plane: str = "plane") -> Measure:
    return _over_layers(
        kind,
        plane,
        lambda p: _compressing(p, hidden, tol),
        lambda ls: _mean_or_nan([x["share_after_peak"] for x in ls]),
        f"share of training epochs after the peak of I(X;T), mean over {kind}'s compressing "
        "layers below the ceiling",
        "fraction",
    )


def _fitted(kind: str, hidden: list[str], cfg: dict, also: str = "below") -> Premise:
    """Train accuracy >= fit_accuracy and a hidden layer below the ceiling (or compressing)."""
    v = cfg["verdict"]
    need = {"below": "a hidden layer below the ceiling", "compressing": "a compressing layer"}

    def value(m: dict) -> float:
        layers = (
            _below(m[kind], hidden)
            if also == "below"
            else _compressing(m[kind], hidden, v["compression_tol"])
        )
        return m[kind]["train_accuracy"] if layers else 0.0

    a = v["fit_accuracy"]
    return Premise(
        f"{kind} has fitted (train accuracy >= {a:g}) and has {need[also]} (ceiling: I(X;T) "
        f"within {v['ceiling_margin']:g} nats of log n at every epoch)",
        Measure(value, f"{kind}'s train accuracy (0 without {need[also]})", "accuracy"),
        seeds_where(lambda x: x >= a, f"fitted (>= {a:g}) with {need[also]}"),
    )


def _compression_claims(kind: str, config: dict, expect: bool) -> list[Claim]:
    hidden, tol = hidden_names(config), config["verdict"]["compression_tol"]
    paper = ST17 if kind == "tanh" else SAXE18
    what = {"tanh": "tanh + binning", "relu": "ReLU + binning"}.get(
        kind, f"noisy {config['noisy']['activation']} + KDE (the network's noise)"
    )
    alts = ["alt_bins", "alt_kde"] if kind != "noisy" else ["alt_kde"]
    if not expect:
        return [
            Claim(
                text=f"{what}: the compression vanishes (every hidden layer below the ceiling "
                f"drops by less than {tol:g} nats after its peak, in every seed)",
                paper=paper,
                measurement=_max_drop(kind, hidden),
                rule=all_below(tol),
                premise=_fitted(kind, hidden, config),
                alternatives=[Alternative(_max_drop(kind, hidden, a)) for a in alts],
                controls=[Control("tanh network (binning)", _max_drop("tanh", hidden))],
            )
        ]
    most = config["verdict"]["most_epochs"]
    untrained = Control("untrained network", _share_compressing(kind, hidden, tol, "untrained"))
    return [
        Claim(
            text=f"{what}: after fitting, the hidden layers below the ceiling compress (at least "
            f"half of them drop by more than {tol:g} nats of I(X;T) after its peak)",
            paper=paper,
            measurement=_share_compressing(kind, hidden, tol),
            rule=seeds_where(lambda v: v >= 0.5, "have at least half of the layers compressing"),
            premise=_fitted(kind, hidden, config),
            alternatives=[Alternative(_share_compressing(kind, hidden, tol, a)) for a in alts],
            controls=[untrained],
        ),
        Claim(
            text=f"{what}: most of training is spent compressing (mean share of epochs after "
            f"each compressing layer's peak above {most:g})",
            paper=paper,
            measurement=_share_after_peak(kind, hidden, tol),
            rule=interval_above(most),
            premise=_fitted(kind, hidden, config, also="compressing"),
            alternatives=[Alternative(_share_after_peak(kind, hidden, tol, a)) for a in alts],
            controls=[
                Control("untrained network", _share_after_peak(kind, hidden, tol, "untrained"))
            ],
        ),
    ]


def _snr_gap(to: str, hidden: list[str], tol: float) -> Measure:
    """Decades between the tanh network's SNR drop and ``to`` (no drop: the recorded span)."""

    def gap(m: dict) -> float:
        t = m["tanh"]
        epochs = t["curves"]["epochs"]
        if to == "fit":
            ref = t["layers"][hidden[-1]]["fit_end_epoch"]
        elif to == "onset":
            layers = _compressing(t, hidden, tol)
            ref = min((layer["peak_epoch"] for layer in layers), default=None)
        else:
            ref = math.sqrt(epochs[-1] + 1) - 1
        if ref is None:
            return math.nan
        if t["transition_epoch"] is None:
            return math.log10(epochs[-1] + 1)
        return abs(math.log10((t["transition_epoch"] + 1) / (ref + 1)))

    label = {
        "fit": "the end of fitting",
        "onset": "the onset of compression (first peak of a compressing layer)",
        "middle": "the middle of training on the log axis",
    }[to]
    return Measure(gap, f"decades between the SNR drop and {label}", "decades")


def _snr_measured(m: dict) -> float:
    return float(m["tanh"]["curves"]["log10_gradient_snr"] is not None)


def _snr_claim(config: dict[str, Any], hidden: list[str]) -> Claim:
    v = config["verdict"]
    tol = v["compression_tol"]
    return Claim(
        text="The gradient SNR falls from high (drift) to low (diffusion) around the end of "
        f"fitting (tanh; a one-change-point drop of >= {v['min_snr_drop']:g} decades within "
        f"{v['snr_window']:g} decades of the epoch where I(T;Y) of {hidden[-1]} reaches "
        f"{v['fit_fraction']:g} of its max; no drop counts as the whole recorded span)",
        paper=ST17,
        measurement=_snr_gap("fit", hidden, tol),
        rule=all_below(v["snr_window"]),
        premise=Premise(
            "the gradient SNR was measured (minibatch gradients recorded, none constant)",
            Measure(_snr_measured, "SNR measured (1) or not (0)"),
            all_above(0.5),
        ),
        alternatives=[Alternative(_snr_gap("onset", hidden, tol))],
        controls=[Control("the middle of training", _snr_gap("middle", hidden, tol))],
    )


def _ib(key: str, layer: str, label: str, where: str = "ib") -> Measure:
    unit = "TV" if "consistency" in key else "nats"
    return Measure(f"tanh.{where}.layers.{layer}.{key}", f"{layer}'s {label}", unit)


def _ib_claims(config: dict[str, Any], hidden: list[str]) -> list[Claim]:
    v, last = config["verdict"], hidden[-1]
    h_x = math.log(4096)  # the 12-bit task: every input equally likely
    frac, sc = v["ib_excess_fraction"], v["self_consistency_tol"]
    temp = config["ib"]["temperature"]
    close = Claim(
        text=f"The final layers lie close to the IB curve ({last}'s I(X;T) beyond the least "
        f"I(X;T) any encoder needs for its I(T;Y) below {frac:g} x H(X) = {frac * h_x:.3g} "
        f"nats; binned encoder, exact under the stochastic labels, T = {temp:g})",
        paper=ST17,
        measurement=_ib("ib_excess_nats", last, "horizontal excess"),
        rule=interval_below(frac * h_x),
        premise=_fitted("tanh", hidden, config),
        alternatives=[
            Alternative(_ib("ib_lagrangian_gap_nats", last, "IB Lagrangian gap at matched beta"))
        ],
        controls=[
            Control(
                "identity encoder T = X",
                Measure("tanh.ib.identity_ib_excess_nats", "the identity's excess", "nats"),
            )
        ],
    )
    consistent = Claim(
        text=f"{last}'s encoder p(t|x) and decoder p(y|t) satisfy the IB self-consistent "
        f"equations (distance from one IB update at the matched beta below {sc:g}, p(x)-weighted "
        "total variation)",
        paper=ST17,
        measurement=_ib("ib_self_consistency", last, "self-consistency at the Lagrangian's beta"),
        rule=interval_below(sc),
        premise=_fitted("tanh", hidden, config),
        alternatives=[
            Alternative(
                _ib("ib_self_consistency_horizontal", last, "self-consistency at the curve's beta")
            )
        ],
        controls=[
            Control(
                "untrained network",
                _ib("ib_self_consistency", last, "self-consistency, untrained", "ib_untrained"),
            )
        ],
    )
    return [close, consistent]
