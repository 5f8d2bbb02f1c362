"""Study: does a trained network saturate at a layer k, so that later layers can be pruned?

Measured with Alain & Bengio's linear classifier probes ("Understanding intermediate layers using
linear classifier probes", 2016/2017): a multinomial logistic regression fitted on every layer's
features of the network's training split and scored on its held-out split
(:func:`structlearn.analysis.probes.analyze_probes`). The saturation layer ``k`` is the first layer
(0 = the input) whose probe accuracy is within ``probe.tolerance`` of the best layer's
(:func:`~structlearn.analysis.probes.saturation_index`). That layers after ``k`` add nothing and
can be removed is the reading of the probes' "tail pattern" (Richter, Byttner, Krumnack,
Wiedenroth, Schallner & Shenk 2021, "Feature space saturation during training"); it is checked
directly: the network cut at ``k`` with a refitted linear head (the probe at ``k``), and, as the
alternative, the first ``k`` hidden layers trained anew by the same protocol, against the full
network's own held-out accuracy; the control cuts at the input.

Per seed one MLP (``network.hidden``, ReLU) is trained on digits by default; the networks of all
seeds train together (:func:`structlearn.ensemble.train_classifier_mlps`) on one split (the run
seed's); seeds vary the initialisation, the minibatch order and the maps' subsample.
Alternatives: a kNN probe (nonlinear, nothing fitted) and the label agreement of map neighbours in
the 2-D and 3-D t-SNE maps of the held-out samples. Controls: the same architecture
untrained, and trained by the same protocol on one permutation of the training labels (probed
for the true labels; its fit to the permuted labels is reported): a measurement that finds a
saturation layer inside those is reading width or depth, not learning. The first seed's 3-D maps
are written as a rotating page (``maps3d.html``) linked from the report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.probes import saturation_index
from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.data.preprocess import split_dataset
from structlearn.data.sources import data_fragment, load_source
from structlearn.models.mlp import MLP
from structlearn.studies._layer_saturation_measures import (
    accuracy,
    features,
    layer_maps,
    probe_curve,
    retrained_accuracy,
)
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    seeds_where,
)

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        ("digits", "mnist5k", "mnist", "npz", "csv"),
        "digits",
        test_fraction=Field(float, 0.25, low=0.05, high=0.9, doc="held-out share (probes score)"),
    ),
    "network": {
        "hidden": Field(list, [64] * 5, item=int, low=1, high=4096, doc="hidden widths"),
        "activation": Field(str, "relu", choices=["relu", "tanh"]),
    },
    "training": training_fragment(
        optimizer="adam", lr=1e-3, epochs=100, batch_size=64, ensemble=True
    ),
    "probe": {
        "C": Field(float, 1.0, low=1e-6, high=1e6, doc="linear probe: inverse L2 strength"),
        "max_iter": Field(int, 2000, low=10, high=100_000, doc="linear probe: solver iterations"),
        "n_neighbors": Field(int, 10, low=1, high=1000, doc="kNN probe: neighbours"),
        "tolerance": Field(float, 0.01, low=0.0, high=1.0, doc="'saturated': within this of best"),
    },
    "maps": {
        "n_max": Field(int, 300, low=20, high=5000, doc="held-out samples mapped"),
        "perplexity": Field(float, 30.0, low=2.0, high=200.0),
        "tolerance": Field(float, 0.02, low=0.0, high=1.0, doc="saturation of map agreement"),
    },
    "analysis": {
        "fit_above": Field(float, 0.99, low=0.0, high=1.0, doc="premise: training accuracy"),
        "prune_tolerance": Field(
            float, 0.01, low=0.0, high=1.0, doc="pruning: held-out accuracy lost below this"
        ),
    },
}


class LayerSaturation(Study):
    """Probe accuracy by layer of trained MLPs; the saturation layer and the pruning check."""

    name = "layer_saturation"
    summary = "Does a trained network saturate at a layer k (later layers prunable)? Probes."
    schema = SCHEMA
    batch_seeds = True

    def prepare(self, config: dict[str, Any]) -> Any:
        if len(config["network"]["hidden"]) < 2:
            raise ConfigError(
                "network.hidden: expected at least 2 hidden layers (a saturation layer before the "
                f"last needs two), got {config['network']['hidden']}"
            )
        data = load_source(config["data"], random_state=config["seed"])
        X, y = data.require_matrix("layer_saturation"), np.asarray(data.y)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"data.source: {data.source!r} has no class labels to probe")
        y = np.unique(y, return_inverse=True)[1]  # classes 0..C-1 for the network's outputs
        return split_dataset(
            X, y, test_fraction=config["data"]["test_fraction"], random_state=config["seed"]
        )

    def measure_seeds(self, config, seeds, shared) -> list[SeedResult]:
        from structlearn.ensemble import train_classifier_mlps

        sp = shared
        X = np.concatenate([sp.X_train, sp.X_test])
        y = np.concatenate([sp.y_train, sp.y_test])
        split = (np.arange(len(sp.y_train)), np.arange(len(sp.y_train), len(y)))
        widths = [X.shape[1], *config["network"]["hidden"], int(y.max()) + 1]
        act, section = config["network"]["activation"], config["training"]
        nets, _ = train_classifier_mlps(widths, act, sp.X_train, sp.y_train, seeds=seeds,
                                        section=section)  # fmt: skip
        shuffled_y = np.random.default_rng([config["seed"], 7]).permutation(sp.y_train)
        ctl, _ = train_classifier_mlps(widths, act, sp.X_train, shuffled_y, seeds=seeds,
                                       section=section)  # fmt: skip
        out = []
        for seed, net, shuffled in zip(seeds, nets, ctl, strict=True):
            controls = {"untrained": MLP(widths, act, random_state=seed).eval(),
                        "shuffled": shuffled}  # fmt: skip
            res = self._one_seed(config, seed, net, controls, X, y, split)
            res.metrics["shuffled_train_accuracy"] = accuracy(shuffled, sp.X_train, shuffled_y)
            out.append(res)
        ks = [r.metrics["linear"]["saturation"] for r in out]
        for r, acc in zip(out, retrained_accuracy(config, sp, seeds, ks), strict=True):
            r.metrics["retrained_test_accuracy"] = acc
            r.metrics["pruning"]["drop_retrained"] = r.metrics["test_accuracy"] - acc
        return out

    def _one_seed(self, config, seed, net, controls, X, y, split) -> SeedResult:
        tol, mtol = config["probe"]["tolerance"], config["maps"]["tolerance"]
        layers = features(net, X)
        linear = probe_curve(config, layers, y, split, "linear")
        knn = probe_curve(config, layers, y, split, "knn")
        maps = {d: layer_maps(config, layers, y, split[1], seed, d) for d in (2, 3)}
        k = saturation_index(linear, tol)
        ctl = {
            name: probe_curve(config, features(model, X), y, split, "linear")
            for name, model in controls.items()
        }
        tr, te = split
        net_test = accuracy(net, X[te], y[te])
        metrics = {
            "layers": list(layers),
            "train_accuracy": accuracy(net, X[tr], y[tr]),
            "test_accuracy": net_test,
            "linear": {"accuracy": linear, "saturation": k},
            "knn": {"accuracy": knn, "saturation": saturation_index(knn, tol)},
            **{
                f"maps{d}d": {
                    "agreement": m.neighbour_agreement.tolist(),
                    "chance": m.chance_agreement,
                    "saturation": saturation_index(m.neighbour_agreement, mtol),
                }
                for d, m in maps.items()
            },
            **{
                name: {"accuracy": acc, "saturation": saturation_index(acc, tol)}
                for name, acc in ctl.items()
            },
            "pruning": {
                "drop_linear_head": net_test - linear[k],
                "drop_knn_head": net_test - knn[k],
                "drop_at_input": net_test - linear[0],
            },
        }
        return SeedResult(metrics, {"maps2": maps[2], "maps3": maps[3]})

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        L, tol = len(config["network"]["hidden"]), config["probe"]["tolerance"]
        a = config["analysis"]
        inside = seeds_where(lambda v: (v >= 1) & (v < L), f"saturate at hidden 1..{L - 1}")
        fitted = Premise(
            f"the network fits its training split (training accuracy above {a['fit_above']:g} "
            "in every seed)",
            Measure("train_accuracy", "training accuracy"),
            all_above(a["fit_above"]),
        )
        sat = "saturation layer (0 = input)"
        return [
            Claim(
                text=f"the network saturates at a hidden layer k < {L}: later layers add no "
                f"linear-probe accuracy (within {tol:g} of the best layer)",
                paper="Alain & Bengio 2016 (probes); Richter et al. 2021 (tail pattern)",
                measurement=Measure("linear.saturation", f"linear probe: {sat}"),
                rule=inside,
                premise=fitted,
                alternatives=[
                    Alternative(Measure("knn.saturation", f"kNN probe: {sat}")),
                    Alternative(Measure("maps2d.saturation", f"2-D t-SNE agreement: {sat}")),
                    Alternative(Measure("maps3d.saturation", f"3-D t-SNE agreement: {sat}")),
                ],
                controls=[
                    Control("untrained network", Measure("untrained.saturation", sat)),
                    Control(
                        "network trained on shuffled labels", Measure("shuffled.saturation", sat)
                    ),
                ],
            ),
            Claim(
                text="layers after k can be pruned: the network cut at k with a refitted linear "
                f"head loses less than {a['prune_tolerance']:g} held-out accuracy",
                paper="Alain & Bengio 2016; Richter et al. 2021",
                measurement=Measure("pruning.drop_linear_head", "full − cut at k (linear head)"),
                rule=all_below(a["prune_tolerance"]),
                premise=fitted,
                alternatives=[
                    Alternative(Measure("pruning.drop_knn_head", "full − cut at k (kNN head)")),
                    Alternative(
                        Measure("pruning.drop_retrained", "full − first k layers trained anew")
                    ),
                ],
                controls=[
                    Control(
                        "cut at the input (every hidden layer pruned)",
                        Measure("pruning.drop_at_input", "full − linear probe on the input"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        cols = (
            ("linear.accuracy", "linear probe"),
            ("knn.accuracy", "kNN probe"),
            ("maps2d.agreement", "2-D map agreement"),
            ("maps3d.agreement", "3-D map agreement"),
            ("untrained.accuracy", "control: untrained"),
            ("shuffled.accuracy", "control: shuffled labels"),
        )
        for i, layer in enumerate(records[0].metrics["layers"]):
            row: dict[str, Any] = {"layer": layer}
            for key, label in cols:
                row[label] = seed_summary(per_seed(records, key)[:, i])
            rows.append(row)
        rows.append(
            {
                "layer": "network (own head)",
                "linear probe": seed_summary(per_seed(records, "test_accuracy")),
            }
        )
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._layer_saturation_figures import probe_curves

        first = records[0]
        n = len(first.artefacts["maps2"].labels)
        return {
            "probe_curves": probe_curves(config, records),
            "maps_2d": (
                first.artefacts["maps2"].figure(),
                f"2-D t-SNE maps of {n} held-out samples at every layer (seed {first.seed}); "
                "title: share of each point's 10 map neighbours that carry its label.",
            ),
            "maps_3d": (
                first.artefacts["maps3"].figure(),
                f"3-D t-SNE maps of the same {n} samples, one still view; maps3d.html (linked "
                "below) rotates them.",
            ),
        }

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.report.scatter3d import scatter3d_data

        title = f"layer_saturation: 3-D t-SNE maps of held-out samples, seed {records[0].seed}"
        return {"scatter3d": {"maps3d": scatter3d_data(records[0].artefacts["maps3"], title=title)}}


STUDY = LayerSaturation()
