r"""Study: does each ReduNet layer raise ΔR, and is the circulant ReduNet invariant to shifts?

Claims (Chan, Yu, You, Qi, Wright & Ma 2022, "ReduNet: a white-box deep network from the
principle of maximizing rate reduction", JMLR): (a) every layer, a projected gradient-ascent step
on the rate reduction ΔR, increases ΔR of its training features; (b) the shift-invariant
(circulant) ReduNet classifies every circular shift of a held-out signal alike, the vector ReduNet
does not.

Data (the paper's 1-D rotation experiment): digit images of the chosen classes (default MNIST 0
and 1) sampled on ``rings`` concentric circles at ``angles`` angles (:mod:`structlearn.data.polar`),
so a rotation of the digit is a circular shift of the multichannel signal. Per seed: a stratified
split; a vector ReduNet on the flattened signals and a shift-invariant ReduNet on the signals, both
with the same η, ε, λ and depth. (a) ΔR per layer of the training features
(:mod:`structlearn.analysis.layer_rate_reduction`), on held-out features and at another ε; the
control: the same layers with operators conjugated by random signed permutations (same spectra);
described, not a control: a ReduNet built from shuffled labels, measured with the true labels (its
expansion raises R, the label-free half of ΔR, whatever the labels). (b) On
held-out signals and evenly spaced shifts (:mod:`structlearn.analysis.shift_invariance`): the share
of changed nearest-subspace predictions (the paper's classifier, subspaces of the training
features), of the network's own classifier, and the cosine of features up to re-alignment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.layer_rate_reduction import layer_rate_reduction, scramble_operators
from structlearn.analysis.shift_invariance import even_shifts, shift_invariance
from structlearn.config import ConfigError, Field, seeds_fragment
from structlearn.data.polar import polar_signals
from structlearn.data.preprocess import split_dataset
from structlearn.data.sources import data_fragment, load_source
from structlearn.models.blocks import sphere
from structlearn.models.redunet import ReduNet, ShiftInvariantReduNet1D
from structlearn.models.subspace import class_subspaces, predict_with_subspaces
from structlearn.studies.base import SeedRecord, SeedResult, Study, quantity_rows
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
)

SOURCES = ("digits", "mnist5k", "mnist", "npz")
PAPER = "Chan, Yu, You, Qi, Wright & Ma 2022"
NETS = ("vector", "circulant")
LAYER_RUNS = ("vector", "vector_test", "vector_alt_eps", "circulant", "scrambled", "shuffled")

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "mnist5k",
        classes=Field(list, [0, 1], item=int, unique=True, doc="labels kept (two or more)"),
        max_per_class=Field(int, 500, low=2, high=10**5, doc="seeded subset of each class"),
        test_size=Field(float, 0.3, low=0.05, high=0.9, doc="stratified held-out fraction"),
    ),
    "signals": {
        "rings": Field(int, 5, low=1, high=64, doc="channels: circles around the centre"),
        "angles": Field(int, 100, low=4, high=4096, doc="length T: samples per circle"),
    },
    "redunet": {
        "n_layers": Field(int, 20, low=1, high=5000, doc="layers of both networks"),
        "eta": Field(float, 0.5, low=1e-6, high=10.0, doc="step size η"),
        "eps": Field(float, 0.3162, low=1e-6, high=100.0, doc="ε (paper: ε² = 0.1)"),
        "lmbda": Field(float, 5000.0, low=0.0, high=1e7, doc="membership sharpness λ"),
        "lift_channels": Field(int, None, nullable=True, low=1, high=1024, doc="null: no lift"),
        "kernel_size": Field(int, 5, low=1, high=1024, doc="random lifting kernel length"),
    },
    "analysis": {
        "alternative_eps": Field(float, 0.7071, low=1e-6, high=100.0, doc="ε of the alternative"),
        "max_start_fraction": Field(float, 0.5, low=0.0, high=1.0, doc="premise (a)"),
        "subspace_dim": Field(int, 20, low=1, high=10**4, doc="r of the nearest subspaces"),
        "n_shifts": Field(int, 7, low=1, high=4096, doc="evenly spaced non-zero shifts"),
        "n_probe": Field(int, 200, low=2, high=10**5, doc="held-out signals shifted"),
        "tolerance": Field(float, 0.05, low=0.0, high=1.0, doc="share of changed predictions"),
        "min_accuracy": Field(float, 0.9, low=0.0, high=1.0, doc="premise (b)"),
    },
}


def _signals(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
    """Polar signals (n, rings, angles) of the chosen classes and their codes 0..k-1."""
    d, sig = config["data"], config["signals"]
    data = load_source(d, random_state=config["seed"], accepts=SOURCES)
    images = np.stack(data.require_images("redunet_layers"))
    if images.ndim != 3:
        raise ConfigError(f"data.source: redunet_layers needs grey images, got {images.shape[1:]}")
    if data.y is None:
        raise ConfigError(f"data.source: redunet_layers needs labels; {data.source!r} has none")
    if len(d["classes"]) < 2:
        raise ConfigError(f"data.classes: expected two or more labels, got {d['classes']}")
    rng = np.random.default_rng(config["seed"])
    keep = []
    for c in d["classes"]:
        rows = np.flatnonzero(data.y == c)
        if rows.size < 2:
            raise ConfigError(f"data.classes: class {c} has {rows.size} samples in {data.source!r}")
        keep.append(np.sort(rng.permutation(rows)[: d["max_per_class"]]))
    rows = np.concatenate(keep)
    codes = np.searchsorted(np.sort(d["classes"]), data.y[rows])
    S = polar_signals(images[rows], sig["rings"], sig["angles"])
    return S, codes, f"{data.description}; classes {d['classes']}: {rows.size} images"


def _delta_R(net: Any, X: np.ndarray, y: np.ndarray, eps: float) -> dict[str, Any]:
    res = layer_rate_reduction(net.transform_all(X), y, eps, n_classes=int(y.max()) + 1)
    return {**res.summary(), "delta_R_nats": res.delta_R.tolist()}


def _subspace_classifier(Z_train: np.ndarray, y: np.ndarray, r: int):
    """Nearest subspace on flattened unit features (the paper's evaluation of both networks)."""
    bases = class_subspaces(sphere(Z_train.reshape(len(Z_train), -1)), y, r)
    return lambda X, F: predict_with_subspaces(bases, sphere(F.reshape(len(F), -1)))


def _probe(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A class-stratified subset of ``n`` held-out indices (all if fewer)."""
    if n >= y.size:
        return np.arange(y.size)
    split = split_dataset(np.zeros((y.size, 1)), y, test_fraction=n / y.size, random_state=seed)
    return np.sort(split.test_index)


class ReduNetLayersStudy(Study):
    """ΔR layer by layer, and shift invariance of the circulant vs the vector ReduNet."""

    name = "redunet_layers"
    summary = "Does each ReduNet layer raise ΔR; is the circulant ReduNet shift invariant?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        return _signals(config)

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        S, y, _ = shared
        r, a = config["redunet"], config["analysis"]
        s = split_dataset(S.reshape(len(S), -1), y, test_fraction=config["data"]["test_size"],
                          random_state=seed)  # fmt: skip
        Xtr, Xte = (X.reshape(-1, *S.shape[1:]) for X in (s.X_train, s.X_test))
        common = {k: r[k] for k in ("n_layers", "eta", "eps", "lmbda")}
        vec = ReduNet(**common).fit(s.X_train, s.y_train)
        circ = ShiftInvariantReduNet1D(**common, lift_channels=r["lift_channels"],
                                       kernel_size=r["kernel_size"], random_state=seed)  # fmt: skip
        circ.fit(Xtr, s.y_train)
        shuffled = np.random.default_rng(seed + 1).permutation(s.y_train)
        eps, ytr = r["eps"], s.y_train
        layers = {
            "vector": _delta_R(vec, s.X_train, ytr, eps),
            "vector_test": _delta_R(vec, s.X_test, s.y_test, eps),
            "vector_alt_eps": _delta_R(vec, s.X_train, ytr, a["alternative_eps"]),
            "circulant": _delta_R(circ, Xtr, ytr, eps),
            "scrambled": _delta_R(scramble_operators(vec, seed), s.X_train, ytr, eps),
            "shuffled": _delta_R(ReduNet(**common).fit(s.X_train, shuffled), s.X_train, ytr, eps),
        }
        probe = _probe(s.y_test, a["n_probe"], seed)
        shifts = even_shifts(S.shape[-1], a["n_shifts"])
        nets = {
            "vector": (lambda X: vec.transform(X.reshape(len(X), -1)).reshape(X.shape),
                       lambda X, F: vec.predict(X.reshape(len(X), -1))),
            "circulant": (circ.transform, lambda X, F: circ.predict(X)),
        }  # fmt: skip
        invariance, art = {}, {"shifts": shifts}
        for n, (features, own) in nets.items():
            classify = _subspace_classifier(features(Xtr), ytr, a["subspace_dim"])
            res = shift_invariance(features, Xte[probe], shifts,
                                   {"subspace": classify, "own": own}, s.y_test[probe])  # fmt: skip
            invariance[n] = res.summary() | {k: p.summary() for k, p in res.predictions.items()}
            art[n] = {"agreement": res.predictions["subspace"].agreement_by_shift,
                      "aligned": res.aligned_cosine_by_shift, "cosine": res.feature_cosine_by_shift}  # fmt: skip
        label = np.sort(config["data"]["classes"])[s.y_test[probe[0]]]
        art["example"] = {"signal": Xte[probe[0]], "label": int(label)}
        metrics = {"layers": layers, "invariance": invariance, "shifts": shifts,
                   "membership_accuracy_layer1": float(vec.train_membership_accuracy_[0])}  # fmt: skip
        return SeedResult(metrics, art)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        tol, acc, eps_alt = a["tolerance"], a["min_accuracy"], a["alternative_eps"]
        room = a["max_start_fraction"]
        return [
            Claim(
                text="every layer of the vector ReduNet increases ΔR of its training features "
                "(true labels, the construction's ε)",
                paper=PAPER,
                measurement=Measure(
                    "layers.vector.min_increment_nats", "smallest layer gain", "nats"
                ),
                rule=all_above(0.0),
                premise=Premise(
                    f"not at the maximum already: ΔR of the input below {room:g} of its ceiling "
                    "(D/2)·log(1 + 1/ε²)",
                    Measure("layers.vector.start_fraction", "ΔR(input) / ceiling", "fraction"),
                    all_below(room),
                ),
                alternatives=[
                    _alt(
                        "layers.circulant.min_increment_nats", "shift-invariant ReduNet, all shifts"
                    ),
                    _alt("layers.vector_test.min_increment_nats", "held-out features, true labels"),
                    _alt("layers.vector_alt_eps.min_increment_nats", f"ΔR at ε = {eps_alt:g}"),
                ],
                controls=[
                    Control(
                        "operators conjugated by random signed permutations (same spectra)",
                        Measure("layers.scrambled.min_increment_nats", "smallest layer gain"),
                    ),
                ],
            ),
            Claim(
                text="the shift-invariant ReduNet's class of a held-out signal does not change "
                f"under circular shifts (share of changed nearest-subspace predictions < {tol:g}); "
                "the vector ReduNet's does (the control)",
                paper=PAPER,
                measurement=Measure(
                    "invariance.circulant.subspace.changed_fraction",
                    "changed predictions, circulant",
                    "fraction",
                ),
                rule=all_below(tol),
                premise=Premise(
                    f"both networks classify unshifted held-out signals with accuracy > {acc:g}",
                    Measure(
                        lambda m: min(m["invariance"][n]["subspace"]["accuracy"] for n in NETS),
                        "lower nearest-subspace accuracy",
                        "accuracy",
                    ),
                    all_above(acc),
                ),
                alternatives=[
                    _alt("invariance.circulant.own.changed_fraction", "circulant's own classifier"),
                    _alt(
                        lambda m: 1.0 - m["invariance"]["circulant"]["aligned_cosine"],
                        "1 − max_t cos(f(S_s x), S_t f(x)), circulant features",
                    ),
                ],
                controls=[
                    Control(
                        "vector ReduNet, nearest subspace",
                        Measure("invariance.vector.subspace.changed_fraction", "changed"),
                    ),
                    Control(
                        "vector ReduNet, its own classifier",
                        Measure("invariance.vector.own.changed_fraction", "changed"),
                    ),
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = [(f"layers.{n}.{k}", f"{n}: {label}") for n in LAYER_RUNS for k, label in (
            ("start_nats", "ΔR input (nats)"), ("total_increase_nats", "ΔR gain (nats)"),
            ("n_decreasing", "layers lowering ΔR"), ("first_decrease", "first one"))]  # fmt: skip
        for n in NETS:
            rows += [(f"invariance.{n}.{k}", f"{n}: {label}") for k, label in (
                ("subspace.accuracy", "accuracy, unshifted"),
                ("subspace.shifted_accuracy", "accuracy, shifted"),
                ("subspace.changed_fraction", "changed (nearest subspace)"),
                ("own.changed_fraction", "changed (own classifier)"),
                ("feature_cosine", "cos(f(Sx), f(x))"),
                ("aligned_cosine", "max_t cos(f(Sx), S_t f(x))"))]  # fmt: skip
        return quantity_rows(records, rows)

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        S, y, description = self.prepare(config)
        return {"data": {"description": description, "signal_shape": list(S.shape[1:]),
                         "class_counts": np.bincount(y).tolist()}}  # fmt: skip

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._redunet_layers_figures import plot_delta_R, plot_invariance

        return {
            "delta_R_by_layer": (
                plot_delta_R(records),
                "ΔR (nats) of the training features after each layer (0 = input), one line per "
                "seed: the vector ReduNet (true labels; held-out features; another ε), the "
                "shift-invariant ReduNet (ΔR of all shifts), and the two controls measured with "
                "the true labels: scrambled operators (the control) and layers built from shuffled "
                "labels (described, no control: their expansion raises R whatever the labels).",
            ),
            "shift_invariance": (
                plot_invariance(records),
                "Per circular shift of the held-out signals (first seed): share of unchanged "
                "nearest-subspace predictions, cosine of the features of x and its shift, and "
                "that cosine after the best re-alignment, for both networks; right: one held-out "
                "signal (channels = rings).",
            ),
        }


def _alt(key: Any, label: str) -> Alternative:
    return Alternative(Measure(key, label))


STUDY = ReduNetLayersStudy()
