"""Study: are the final representations of independently trained networks diverse?

Claim (Shwartz-Ziv & Tishby 2017, "Opening the black box of deep neural networks via information"):
"the final representations are highly random and diverse across networks, though many of them
reach near-optimal performance". Per seed, ``n_networks`` networks of one architecture (the paper's
12-10-7-5-4-3-2 tanh network on its 12-bit task by default) start from independent initialisations
and are trained together (:func:`structlearn.ensemble.train_ensemble`, each network as the
single-network trainer gives it for its seed). Every layer of every pair of networks is compared on
all inputs with linear CKA (Kornblith et al. 2019) and with the mean canonical correlation
(:mod:`structlearn.analysis.similarity`); the same is measured for the untrained networks.

The control passes the same layer through a random invertible linear map: the information is
unchanged, so a measure that calls that pair "diverse" cannot tell diversity of representations
from diversity of coordinates.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import torch

from structlearn.analysis.similarity import linear_cka, mean_canonical_correlation
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.preprocess import split_dataset
from structlearn.data.sources import data_fragment, load_source
from structlearn.models.mlp import MLP, accuracy
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    interval_below,
)

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        ("tishby12", "digits", "mnist5k", "npz", "csv"),
        "tishby12",
        test_fraction=Field(float, 0.2, low=0.05, high=0.9, doc="held-out share of the inputs"),
    ),
    "network": {
        "hidden": Field(list, [10, 7, 5, 4, 3], item=int, low=1, high=4096, doc="hidden widths"),
        "activation": Field(str, "tanh", choices=["tanh", "relu"]),
    },
    "n_networks": Field(int, 6, low=2, high=200, doc="networks per seed (pairs compared)"),
    "training": training_fragment(
        optimizer="adam", lr=4e-4, epochs=1500, batch_size=512, ensemble=True
    ),
    "analysis": {
        "diverse_below": Field(float, 0.5, low=0.0, high=1.0, doc="'diverse': CKA below this"),
        "fit_above": Field(float, 0.9, low=0.0, high=1.0, doc="premise: training accuracy"),
    },
}


def _train_networks(config: dict[str, Any], X, y, seeds: list[int]):
    from structlearn.ensemble import train_classifier_mlps

    widths = [X.shape[1], *config["network"]["hidden"], int(y.max()) + 1]
    act = config["network"]["activation"]
    untrained = [MLP(widths, act, random_state=s) for s in seeds]
    trained, _ = train_classifier_mlps(widths, act, X, y, seeds=seeds, section=config["training"])
    return trained, untrained


def _layers(nets: list[MLP], X: np.ndarray) -> list[list[np.ndarray]]:
    with torch.no_grad():
        xt = torch.as_tensor(X, dtype=torch.float32)
        return [[t.double().numpy() for t in net(xt)[:-1]] for net in nets]


def _mean_pairwise(per_net: list[list[np.ndarray]], layer: int, fn) -> float | None:
    try:
        return float(np.mean([fn(a[layer], b[layer]) for a, b in combinations(per_net, 2)]))
    except ValueError:  # a dead (constant) layer in some network: nothing to compare
        return None


class RepresentationDiversity(Study):
    """Similarity of the same layer across independently trained networks (CKA, CCA)."""

    name = "representation_diversity"
    summary = "Are the final representations of independently trained networks diverse?"
    schema = SCHEMA

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        data = load_source(config["data"], random_state=seed)
        X, y = data.require_matrix("representation_diversity"), np.asarray(data.y)
        split = split_dataset(
            X, y, test_fraction=config["data"]["test_fraction"], random_state=seed
        )
        seeds = [seed * 1000 + i for i in range(config["n_networks"])]
        trained, untrained = _train_networks(config, split.X_train, split.y_train, seeds)
        acts, init = _layers(trained, X), _layers(untrained, X)
        rng = np.random.default_rng(seed)
        layers = {}
        for i in range(len(acts[0])):
            first = acts[0][i]
            mixed = first @ rng.standard_normal((first.shape[1], first.shape[1]))
            layers[f"hidden_{i + 1}"] = {
                "cka_trained": _mean_pairwise(acts, i, linear_cka),
                "cca_trained": _mean_pairwise(acts, i, mean_canonical_correlation),
                "cka_untrained": _mean_pairwise(init, i, linear_cka),
                "cka_same_layer_mixed": _safe(linear_cka, first, mixed),
                "cca_same_layer_mixed": _safe(mean_canonical_correlation, first, mixed),
            }
        metrics = {
            "layers": layers,
            "last_hidden": layers[f"hidden_{len(acts[0])}"],
            "train_accuracy_mean": float(
                np.mean([accuracy(n, split.X_train, split.y_train) for n in trained])
            ),
            "test_accuracy": [accuracy(n, split.X_test, split.y_test) for n in trained],
        }
        return SeedResult(metrics)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        return [
            Claim(
                text="the final representations of independently trained networks are diverse "
                f"(last hidden layer: mean pairwise linear CKA below {a['diverse_below']:g})",
                paper="Shwartz-Ziv & Tishby 2017",
                measurement=Measure("last_hidden.cka_trained", "mean pairwise CKA, trained"),
                rule=interval_below(a["diverse_below"]),
                premise=Premise(
                    f"the networks reach near-optimal performance (mean training accuracy above "
                    f"{a['fit_above']:g} in every seed)",
                    Measure("train_accuracy_mean", "mean training accuracy"),
                    all_above(a["fit_above"]),
                ),
                alternatives=[
                    Alternative(Measure("last_hidden.cca_trained", "mean canonical correlation"))
                ],
                controls=[
                    Control(
                        "the same layer through a random invertible linear map",
                        Measure("last_hidden.cka_same_layer_mixed", "CKA of a layer and its mix"),
                    )
                ],
            )
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for layer in records[0].metrics["layers"]:
            row: dict[str, Any] = {"layer": layer}
            for key, label in (
                ("cka_trained", "CKA, trained pairs"),
                ("cca_trained", "mean canonical corr., trained"),
                ("cka_untrained", "CKA, untrained pairs"),
                ("cka_same_layer_mixed", "control: CKA of a layer and its mix"),
            ):
                row[label] = _cell(records, f"layers.{layer}.{key}")
            rows.append(row)
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        layers = list(records[0].metrics["layers"])
        x = np.arange(len(layers))
        fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
        for j, (key, label) in enumerate(
            (
                ("cka_trained", "CKA, trained"),
                ("cca_trained", "CCA, trained"),
                ("cka_untrained", "CKA, untrained"),
            )
        ):
            vals = [_values(records, f"layers.{layer}.{key}") for layer in layers]
            ax.plot(
                x,
                [np.mean(v) if len(v) else np.nan for v in vals],
                "o-",
                color=f"C{j}",
                label=label,
            )
            for i, v in enumerate(vals):
                ax.plot(np.full(len(v), i), v, ".", color=f"C{j}", ms=3)
        ax.axhline(config["analysis"]["diverse_below"], color="grey", ls=":", lw=1)
        ax.set_xticks(x, layers)
        ax.set(ylabel="mean pairwise similarity", ylim=(0, 1.02))
        ax.legend(frameon=False, fontsize="small")
        caption = (
            f"Mean similarity of the same layer over pairs of {config['n_networks']} networks "
            "(linear CKA and mean canonical correlation, all inputs), trained and at "
            "initialisation; dots per seed; dotted: the 'diverse' threshold."
        )
        return {"similarity_by_layer": (fig, caption)}


def _safe(fn, a, b) -> float | None:
    try:
        return fn(a, b)
    except ValueError:
        return None


def _values(records: list[SeedRecord], key: str) -> list[float]:
    out = []
    for r in records:
        node: Any = r.metrics
        for p in key.split("."):
            node = node[p]
        if node is not None:
            out.append(node)
    return out


def _cell(records: list[SeedRecord], key: str) -> str:
    vals = _values(records, key)
    if len(vals) < len(records):
        return (
            f"{seed_summary(vals)} ({len(records) - len(vals)} seeds: a dead layer)"
            if vals
            else "dead layer"
        )
    return seed_summary(per_seed(records, key))


STUDY = RepresentationDiversity()
