r"""Study: do MCR² features of different classes lie in orthogonal low-dimensional subspaces?

Claim (Yu, Chan, You, Song & Ma 2020, "Learning diverse and discriminative representations via the
principle of maximal coding rate reduction"): maximising the rate reduction ΔR of features on the
unit sphere spreads the classes over (near) orthogonal subspaces of low dimension, unlike
cross-entropy's features (their Fig. 3: :math:`|\cos|` between features sorted by class is block diagonal).

Per seed: one MLP ``n_features -> width -> t_dim`` (``activation`` on both layers; T is the
``t_dim`` layer) is trained with MCR² (ε as in the paper, features projected on the sphere) and,
with the same seed, with cross-entropy through an added linear readout. On the held-out
features T projected on the sphere (:mod:`structlearn.analysis.class_geometry`): the largest
principal-angle cosine between every pair of class subspaces of dimension ``subspace_dim``, averaged
over pairs (lower = more orthogonal), the mean squared cosine over all principal angles (the
alternative summary), every class's effective rank, and the :math:`|\cos|` heat map. Control: the same
features with the labels shuffled before the subspaces are computed (no class structure left).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.class_geometry import class_geometry
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.sources import data_fragment, load_source
from structlearn.data.tabular import split_table
from structlearn.fit import fit_arrays, layer_outputs
from structlearn.models.blocks import sphere
from structlearn.models.subspace import nearest_subspace_predict
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    interval_above,
    interval_below,
)

SOURCES = ("digits", "mnist5k", "mnist", "npz", "csv")
OBJECTIVES = ("ce", "mcr2")
PAPER = "Yu, Chan, You, Song & Ma 2020"

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "digits",
        test_size=Field(float, 0.25, low=0.05, high=0.9, doc="stratified test fraction"),
        max_features=Field(int, 784, low=1, high=10**5, doc="PCA to this many (training split)"),
    ),
    "mlp": {
        "width": Field(int, 128, low=1, high=10**4, doc="units of the first hidden layer"),
        "t_dim": Field(int, 32, low=2, high=10**4, doc="units of the feature layer T"),
        "activation": Field(str, "tanh", choices=["tanh", "relu", "sigmoid"]),
    },
    "training": training_fragment(optimizer="adam", epochs=100, batch_size=500, lr=1e-3),
    "mcr2": {"eps": Field(float, 0.7071, low=1e-6, high=100.0, doc="ε (paper: ε² = 0.5)")},
    "analysis": {
        "subspace_dim": Field(int, 3, low=1, high=10**4, doc="r of each class subspace"),
        "alternative_dim": Field(int, 1, low=1, high=10**4, doc="r of the alternative"),
        "min_accuracy": Field(float, 0.9, low=0.0, high=1.0, doc="premise: both fitted"),
    },
}


def _features(name: str, s: Any, cfg: dict[str, Any], seed: int) -> tuple[np.ndarray, ...]:
    """Train objective ``name``; T on the sphere (train, test) and test predictions."""
    from structlearn.models.mlp import MLP
    from structlearn.objectives import CrossEntropy, MaximalCodingRateReduction

    m, d, k = cfg["mlp"], s.X_train.shape[1], s.n_classes
    if name == "ce":
        model = MLP([d, m["width"], m["t_dim"], k], m["activation"], random_state=seed)
        fit_arrays(model, CrossEntropy(), s.X_train, s.y_train, cfg["training"], seed)
        tr, te = (layer_outputs(model, X) for X in (s.X_train, s.X_test))
        return sphere(tr[-2]), sphere(te[-2]), te[-1].argmax(1)
    widths = [d, m["width"], m["t_dim"]]
    model = MLP(widths, m["activation"], output_activation=m["activation"], random_state=seed)
    objective = MaximalCodingRateReduction(eps=cfg["mcr2"]["eps"], n_classes=k)
    fit_arrays(model, objective, s.X_train, s.y_train, cfg["training"], seed)
    Z_tr, Z_te = (sphere(layer_outputs(model, X)[-1]) for X in (s.X_train, s.X_test))
    r = cfg["analysis"]["subspace_dim"]
    return Z_tr, Z_te, nearest_subspace_predict(Z_tr, s.y_train, Z_te, n_components=r)


def _measure_one(Z_tr, Z_te, pred, s, a: dict[str, Any], shuffled: np.ndarray) -> dict:
    r, r_alt = a["subspace_dim"], a["alternative_dim"]
    return {
        "test_accuracy": float(np.mean(pred == s.y_test)),
        "nearest_subspace_accuracy": float(
            np.mean(nearest_subspace_predict(Z_tr, s.y_train, Z_te, n_components=r) == s.y_test)
        ),
        "geometry": class_geometry(Z_te, s.y_test, r).summary(),
        "geometry_alt_dim": class_geometry(Z_te, s.y_test, r_alt).summary(),
        "geometry_train": class_geometry(Z_tr, s.y_train, r).summary(),
        "shuffled": class_geometry(Z_te, shuffled, r).summary(),
    }


class ClassSubspacesStudy(Study):
    """Principal angles between class subspaces of MCR² and cross-entropy features."""

    name = "class_subspaces"
    summary = "Do MCR² features of different classes lie in orthogonal low-dimensional subspaces?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        data = load_source(config["data"], random_state=config["seed"], accepts=SOURCES)
        return data.require_matrix("class_subspaces"), data.y, data.description

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        X, y, _ = shared
        d = config["data"]
        s = split_table(X, y, d["test_size"], seed, max_features=d["max_features"])
        shuffled = np.random.default_rng(seed + 7).permutation(s.y_test)
        metrics, art = {}, {"y_test": s.y_test}
        for name in OBJECTIVES:
            Z_tr, Z_te, pred = _features(name, s, config, seed)
            metrics[name] = _measure_one(Z_tr, Z_te, pred, s, config["analysis"], shuffled)
            g = class_geometry(Z_te, s.y_test, config["analysis"]["subspace_dim"])
            art[name] = {"Z_test": Z_te, "cosines": g.cosines, "ranks": g.effective_ranks}
        return SeedResult(metrics, art)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        r, r_alt, acc = a["subspace_dim"], a["alternative_dim"], a["min_accuracy"]
        fitted = Premise(
            f"both fitted: CE's test accuracy and MCR²'s nearest-subspace test accuracy above "
            f"{acc:g} in every seed",
            Measure(
                lambda m: min(m["ce"]["test_accuracy"], m["mcr2"]["test_accuracy"]),
                "lower of the two test accuracies",
                "accuracy",
            ),
            all_above(acc),
        )
        return [
            Claim(
                text="MCR² features' class subspaces are more orthogonal than cross-entropy's "
                f"(mean over class pairs of the largest principal-angle cosine, r = {r}, held out)",
                paper=PAPER,
                measurement=Measure(_gap("geometry", "mean_cosine"), "CE − MCR² mean cosine"),
                rule=interval_above(0.0),
                premise=fitted,
                alternatives=[
                    _alt(
                        _gap("geometry_alt_dim", "mean_cosine"), f"CE − MCR² mean cos, r = {r_alt}"
                    ),
                    _alt(_gap("geometry", "mean_overlap"), "CE − MCR² mean cos² over all angles"),
                    _alt(_gap("geometry_train", "mean_cosine"), "CE − MCR², training features"),
                    _alt(_gap_over_chance, "MCR² − CE drop of mean cos from shuffled to true"),
                ],
                controls=[
                    Control(
                        "test labels shuffled before the subspaces are computed",
                        Measure(_gap("shuffled", "mean_cosine"), "CE − MCR², shuffled labels"),
                    )
                ],
            ),
            Claim(
                text="each MCR² class occupies a low-dimensional subspace: the mean per-class "
                f"effective rank of held-out features is below r = {r}",
                paper=PAPER,
                measurement=Measure("mcr2.geometry.mean_effective_rank", "MCR² effective rank"),
                rule=interval_below(float(r)),
                premise=fitted,
                alternatives=[
                    _alt("mcr2.geometry_train.mean_effective_rank", "MCR², training features"),
                    _alt("mcr2.geometry.mean_energy_rank", "MCR², directions holding 90% energy"),
                ],
                controls=[
                    Control(
                        "test labels shuffled (a 'class' of random samples)",
                        Measure("mcr2.shuffled.mean_effective_rank", "MCR², shuffled labels"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        cols = (
            ("test accuracy", "test_accuracy"),
            ("nearest-subspace acc.", "nearest_subspace_accuracy"),
            ("mean cos", "geometry.mean_cosine"),
            ("max cos", "geometry.max_cosine"),
            (f"mean cos r={config['analysis']['alternative_dim']}", "geometry_alt_dim.mean_cosine"),
            ("mean cos² (all angles)", "geometry.mean_overlap"),
            ("effective rank / class", "geometry.mean_effective_rank"),
            ("mean cos, shuffled labels", "shuffled.mean_cosine"),
        )
        return [
            {"objective": n} | {c: seed_summary(per_seed(records, f"{n}.{k}")) for c, k in cols}
            for n in OBJECTIVES
        ]

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        X, _y, description = self.prepare(config)
        return {"data": {"description": description, "n_samples": int(X.shape[0])}}

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._class_subspaces_figures import plot_heat_maps, plot_paired

        r = config["analysis"]["subspace_dim"]
        return {
            "feature_similarity": (
                plot_heat_maps(records[0].artefacts),
                "|cos| between held-out features T (on the sphere) sorted by class, cross-entropy "
                "(left) and MCR² (middle), first seed; right: the largest principal-angle cosine "
                f"between class subspaces (r = {r}) of MCR² (upper triangle) and CE (lower "
                "triangle). MCR² aims at orthogonal class subspaces (block diagonal, dark "
                "off-diagonal).",
            ),
            "paired": (
                plot_paired(records),
                "Per seed (lines join the two networks of one seed): the mean over class pairs of "
                f"the largest principal-angle cosine (r = {r}; lower = more orthogonal), the same "
                "with shuffled labels (the control), and each class's effective rank.",
            ),
        }


def _alt(key: Any, label: str) -> Alternative:
    return Alternative(Measure(key, label))


def _gap(section: str, key: str):
    return lambda m: m["ce"][section][key] - m["mcr2"][section][key]


def _gap_over_chance(m: dict[str, Any]) -> float:
    """(shuffled − true mean cosine) of MCR² minus that of CE: orthogonality beyond chance."""

    def drop(n: str) -> float:
        return m[n]["shuffled"]["mean_cosine"] - m[n]["geometry"]["mean_cosine"]

    return drop("mcr2") - drop("ce")


STUDY = ClassSubspacesStudy()
