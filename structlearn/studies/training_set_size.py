"""Study: does more training data move the final layers towards the IB bound, and generalise?

Claim (Shwartz-Ziv & Tishby 2017, "Opening the black box of deep neural networks via
information", the section on the training sample size): networks trained on 5%, 45% and 85% of
the 4,096 inputs of the 12-bit task; with little data the layers end far from the IB bound of the
rule and generalise poorly, and more data moves the final layers towards the bound.

Per seed and training fraction, ``n_networks`` 12-10-7-5-4-3-2 tanh networks (the released code's
initialisation, ``network.init``) are trained on the first ``round(f * 4096)`` inputs of one seeded
permutation (so the smaller training sets are nested in the larger ones and the rest is held out),
by the released code's protocol (Adam 4e-4, batch 512), every network of every seed at one fraction
in one ensemble (:func:`structlearn.ensemble.train_networks`). As many networks are trained on the
same inputs with their training labels permuted (the control), and the untrained networks are kept.

Measured per network on all 4,096 inputs: each hidden layer binned (30 bins on [-1, 1]) as an
exact encoder under the stochastic-label variant p(y=1|x) = sigmoid(s(x)/T) of the task's rule
(``data.temperature``; with deterministic labels the IB curve is the trivial diagonal), its
horizontal excess over the IB curve (:func:`structlearn.analysis.info_plane.ib_excess`: the I(X;T)
spent beyond the least any encoder needs for its I(T;Y)) and its vertical gap below the bound; and
the generalisation gap (:func:`structlearn.analysis.generalisation.generalisation_gap`). Each
seed's value is the median over its networks. ``tishby12:stochastic`` trains and tests on labels
drawn from that variant instead of the task's deterministic labels.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.data.preprocess import split_dataset
from structlearn.data.sources import data_fragment, load_source
from structlearn.studies._training_set_size_claims import claims
from structlearn.studies._training_set_size_figures import all_figures, summary_rows
from structlearn.studies.base import SeedRecord, SeedResult, Study
from structlearn.studies.claims import Claim

KINDS = ("trained", "shuffled", "untrained")
LAYER_KEYS = ("ib_excess_nats", "ib_gap_nats", "ib_I_XT_nats", "ib_I_TY_nats")

SCHEMA = {
    **seeds_fragment(3, high=100),
    "data": data_fragment(
        ("tishby12",),
        "tishby12",
        train_fractions=Field(
            list,
            [0.05, 0.45, 0.85],
            item=float,
            low=0.001,
            high=0.999,
            unique=True,
            doc="shares of the 4096 inputs trained on (the paper: 5%, 45%, 85%)",
        ),
    ),
    "network": {
        "hidden": Field(list, [10, 7, 5, 4, 3], item=int, low=1, high=64, doc="tanh widths"),
        "init": Field(str, "idnns", choices=["idnns", "pytorch"], doc="initial weights"),
    },
    "n_networks": Field(int, 4, low=1, high=200, doc="networks per fraction, seed and labels"),
    "training": training_fragment(
        optimizer="adam", lr=4e-4, epochs=1500, batch_size=512, ensemble=True
    ),
    "ib": {
        "n_betas": Field(int, 30, low=3, high=1000, doc="trade-offs on the IB curve (0.5-1000)"),
        "n_bins": Field(int, 30, low=2, high=10**4, doc="bins per unit on [-1, 1]"),
        "alt_bins": Field(int, 29, low=2, high=10**4, doc="the alternative (IDNNs: 29 bins)"),
    },
    "analysis": {
        "fit_accuracy": Field(float, 0.95, low=0.5, high=1.0, doc="premise: training accuracy"),
        "closer_by_nats": Field(
            float, 0.1, low=0.0, high=10.0, doc="'moves towards the bound': excess falls by"
        ),
        "gap_shrinks_by": Field(
            float, 0.02, low=0.0, high=1.0, doc="'generalises better': accuracy gap falls by"
        ),
        "test_gain_above": Field(
            float, 0.02, low=0.0, high=1.0, doc="'generalises better': test accuracy rises by"
        ),
    },
}


def fraction_key(fraction: float) -> str:
    """The metrics key of a training fraction (no dots: keys are addressed with dots).

    >>> fraction_key(0.05), fraction_key(0.025)
    ('5%', '2_5%')
    """
    return f"{100 * fraction:g}%".replace(".", "_")


def nested_split(X: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> Any:
    """The first ``round(fraction * n)`` inputs of the seed's permutation train, the rest test.

    One permutation per seed, so the training sets of a seed are nested (5% within 45%).
    """
    return split_dataset(X, y, test_fraction=1.0 - fraction, random_state=seed, stratify=False)


def final_layers(hidden: Sequence[np.ndarray], joint: np.ndarray, curve: Any, n_bins: int) -> dict:
    """Each binned tanh layer ``hidden[i]`` (4096, width) as an encoder under ``joint``.

    Returns ``{hidden_<i>: {ib_excess_nats, ib_gap_nats, ib_I_XT_nats, ib_I_TY_nats}}`` from
    :func:`structlearn.analysis.info_plane.analyze_information_plane` (``curve``: the IB curve
    of ``joint``, an :class:`~structlearn.estimators.IBCurve`).
    """
    from structlearn.analysis.info_plane import analyze_information_plane
    from structlearn.recordings import Recordings

    labels = joint.argmax(axis=1)
    names = [f"hidden_{i + 1}" for i in range(len(hidden))]
    rec = Recordings.from_arrays([h[None] for h in hidden], labels, [0], layer_names=names)
    plane = analyze_information_plane(
        rec, n_bins=n_bins, value_range=(-1.0, 1.0), p_xy=joint, ib_betas=curve,
        null_shuffles=0, max_encoder_states=1,
    )  # fmt: skip
    return {n: {k: s[k] for k in LAYER_KEYS} for n, s in plane.layer_summaries().items()}


def _median_tree(trees: list[dict]) -> dict:
    """Leaf-wise median of equally shaped dicts of numbers (one per network)."""
    return {
        k: _median_tree([t[k] for t in trees])
        if isinstance(v, dict)
        else float(np.median([t[k] for t in trees]))
        for k, v in trees[0].items()
    }


class TrainingSetSize(Study):
    """Distance of each layer to the IB bound and the generalisation gap vs the training size."""

    name = "training_set_size"
    summary = "Does more training data move the final layers towards the IB bound (12-bit task)?"
    schema = SCHEMA
    batch_seeds = True

    def prepare(self, config: dict[str, Any]) -> dict[str, Any]:
        from structlearn.analysis.info_plane import DEFAULT_BETAS
        from structlearn.data.tishby_rule import tishby_joint
        from structlearn.estimators import ib_curve

        if len(config["data"]["train_fractions"]) < 2:
            raise ConfigError(
                "data.train_fractions: expected at least two shares of the inputs to compare, "
                f"got {config['data']['train_fractions']!r}"
            )
        joint = tishby_joint(config["data"]["temperature"])
        lo, hi = DEFAULT_BETAS[0], DEFAULT_BETAS[-1]
        curve = ib_curve(joint, np.geomspace(lo, hi, config["ib"]["n_betas"]))
        return {"joint": joint, "curve": curve}

    def measure_seeds(
        self, config: dict[str, Any], seeds: Sequence[int], shared: Any
    ) -> list[SeedResult]:
        data = [load_source(config["data"], random_state=s) for s in seeds]
        fracs = config["data"]["train_fractions"]
        metrics: list[dict[str, Any]] = [
            {"I_XY_nats": float(shared["curve"].I_XY), "fractions": {}} for _ in seeds
        ]
        for fi, frac in enumerate(fracs):
            splits = [nested_split(d.X, d.y, frac, s) for d, s in zip(data, seeds, strict=True)]
            nets = self._train(config, seeds, fi, splits)
            for i, (d, split) in enumerate(zip(data, splits, strict=True)):
                metrics[i]["fractions"][fraction_key(frac)] = {
                    "n_train": int(split.train_index.size),
                    "n_test": int(split.test_index.size),
                    **{
                        kind: self._group(config, nets[kind][i], d, split, shared) for kind in KINDS
                    },
                }
        lo, hi = fraction_key(min(fracs)), fraction_key(max(fracs))
        for m in metrics:
            m["smallest"], m["largest"] = lo, hi
        curve = shared["curve"]
        art = {"ib_curve": (curve.I_XT.tolist(), curve.I_TY.tolist(), float(curve.I_XY))}
        return [SeedResult(m, art) for m in metrics]

    def _train(self, config: dict, seeds: Sequence[int], fi: int, splits: list) -> dict:
        """``{kind: [networks of seed 0, ...]}``; the shuffled group trains on permuted labels."""
        import torch

        from structlearn.ensemble import train_networks
        from structlearn.models.mlp import MLP, idnns_init_
        from structlearn.objectives.supervised import CrossEntropy
        from structlearn.train import TrainConfig

        n, widths = config["n_networks"], [12, *config["network"]["hidden"], 2]
        idnns = config["network"]["init"] == "idnns"
        models, data, ids = [], [], []
        for s, split in zip(seeds, splits, strict=True):
            rng = np.random.default_rng([s, fi])
            X = torch.as_tensor(split.X_train, dtype=torch.float32)
            for kind, y in (
                ("trained", split.y_train),
                ("shuffled", rng.permutation(split.y_train)),
            ):
                for i in range(n):
                    ids.append(int(s) * 100_000 + fi * 1000 + (kind == "shuffled") * 500 + i)
                    net = MLP(widths, "tanh", random_state=ids[-1])
                    models.append(idnns_init_(net, ids[-1]) if idnns else net)
                    data.append((X, torch.as_tensor(y)))
        untrained = copy.deepcopy(models)
        section = config["training"]
        cfg = TrainConfig.from_section(
            {**section, "batch_size": min(section["batch_size"], len(splits[0].train_index))},
            seed=ids[0], record_epochs="none", record_gradients=False, store_activations=False,
        )  # fmt: skip
        train_networks(
            models, CrossEntropy(), data, seeds=ids, config=cfg, ensemble=section["ensemble"]
        )
        out: dict[str, list] = {k: [] for k in KINDS}
        for j in range(len(seeds)):
            block = slice(2 * n * j, 2 * n * (j + 1))
            group, init = models[block], untrained[block]
            out["trained"].append([(m, d[1]) for m, d in zip(group[:n], data[block][:n])])
            out["shuffled"].append([(m, d[1]) for m, d in zip(group[n:], data[block][n:])])
            out["untrained"].append([(m, d[1]) for m, d in zip(init[:n], data[block][:n])])
        return out

    def _group(self, config: dict, nets: list, data: Any, split: Any, shared: dict) -> dict:
        """The median over one group's networks of its gap and every layer's IB distances."""
        import torch

        from structlearn.analysis.generalisation import generalisation_gap

        per_net = []
        X = torch.as_tensor(data.X, dtype=torch.float32)
        for model, y_train in nets:
            with torch.no_grad():
                outs = [t.double().numpy() for t in model.eval()(X)]
            tr, te = split.train_index, split.test_index
            gap = generalisation_gap(outs[-1][tr], y_train.numpy(), outs[-1][te], data.y[te])
            per_net.append(
                {
                    "gap": gap.summary(),
                    "layers": final_layers(
                        outs[:-1], shared["joint"], shared["curve"], config["ib"]["n_bins"]
                    ),
                    "alt_bins": final_layers(
                        outs[:-1], shared["joint"], shared["curve"], config["ib"]["alt_bins"]
                    ),
                }
            )
        return _median_tree(per_net)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        return claims(config)

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        return summary_rows(config, records)

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return all_figures(config, records)


STUDY = TrainingSetSize()
