"""Study: does adding hidden layers cut the training time? (Information-plane claim iv.)

Claim (Shwartz-Ziv & Tishby 2017, claim iv): "training time is dramatically reduced when adding more
hidden layers; the main advantage of the hidden layers is computational". Per seed and depth, a
group of networks with the first ``depth`` widths of ``network.widths`` (tanh, 2 softmax outputs)
start from independent initialisations and are trained together on the 12-bit task by the
released code's protocol (Adam 4e-4, batch 512, 80% of the inputs;
:func:`structlearn.ensemble.train_ensemble`). Measured per network: the first epoch at which the
epoch's mean minibatch training accuracy reaches ``fit_accuracy`` (networks that never do count as
``epochs + 1``, and the share that fitted is reported). The claim is decided on the per-seed median
epochs-to-fit of the shallowest against the deepest networks, as a log₂ ratio (1 = twice as fast).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.preprocess import split_dataset
from structlearn.data.sources import data_fragment, load_source
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    interval_above,
)

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        ("tishby12", "digits", "mnist5k", "npz", "csv"),
        "tishby12",
        train_fraction=Field(float, 0.8, low=0.05, high=0.95, doc="share of inputs trained on"),
    ),
    "network": {
        "widths": Field(
            list, [10, 7, 5, 4, 3, 3], item=int, low=1, high=4096, doc="hidden widths by depth"
        ),
        "depths": Field(
            list, [1, 2, 3, 4, 5, 6], item=int, low=1, high=64, unique=True, doc="depths compared"
        ),
        "activation": Field(str, "tanh", choices=["tanh", "relu"]),
    },
    "n_networks": Field(int, 4, low=2, high=200, doc="networks per depth and seed"),
    "training": training_fragment(
        optimizer="adam", lr=4e-4, epochs=1500, batch_size=512, ensemble=True
    ),
    "analysis": {
        "fit_accuracy": Field(float, 0.9, low=0.5, high=1.0, doc="'fitted': training accuracy"),
        "alternative_accuracy": Field(float, 0.8, low=0.5, high=1.0, doc="alternative threshold"),
        "speedup_log2_above": Field(
            float, 1.0, low=0.0, high=20.0, doc="'dramatically': log2(shallow / deep) above"
        ),
    },
}


def epochs_to_fit(history: list[dict[str, float]], accuracy: float) -> int:
    """First epoch whose mean training accuracy reaches ``accuracy``; the last epoch + 1 if none.

    ``history`` as :func:`structlearn.train.train` returns it (a row per epoch, ``epoch`` 0 first,
    without a training accuracy).

    >>> rows = [{"epoch": 0}] + [{"epoch": e, "train_accuracy": a} for e, a in enumerate((0.5, 0.95, 0.8), 1)]
    >>> epochs_to_fit(rows, 0.9), epochs_to_fit(rows, 0.99)
    (2, 4)
    """
    for row in history:
        if row.get("train_accuracy", -1.0) >= accuracy:
            return int(row["epoch"])
    return int(history[-1]["epoch"]) + 1


def _train_group(config, X, y, depth: int, seeds: list[int]):
    from structlearn.ensemble import train_classifier_mlps

    widths = [X.shape[1], *config["network"]["widths"][:depth], int(y.max()) + 1]
    act = config["network"]["activation"]
    return train_classifier_mlps(widths, act, X, y, seeds=seeds, section=config["training"])[1]


class DepthAndTrainingTime(Study):
    """Epochs to fit the 12-bit task against the number of hidden layers."""

    name = "depth_and_training_time"
    summary = "Does adding hidden layers cut the training time (information-plane claim iv)?"
    schema = SCHEMA

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        data = load_source(config["data"], random_state=seed)
        X, y = data.require_matrix("depth_and_training_time"), np.asarray(data.y)
        split = split_dataset(
            X, y, test_fraction=1 - config["data"]["train_fraction"], random_state=seed
        )
        a = config["analysis"]
        n = config["n_networks"]
        depths: dict[str, Any] = {}
        for depth in config["network"]["depths"]:
            seeds = [
                seed * 1000 + depth * 100 + i
                for i in range(2 * n if depth == min(config["network"]["depths"]) else n)
            ]
            result = _train_group(config, split.X_train, split.y_train, depth, seeds)
            fit = [epochs_to_fit(r.history, a["fit_accuracy"]) for r in result]
            alt = [epochs_to_fit(r.history, a["alternative_accuracy"]) for r in result]
            budget = config["training"]["epochs"]
            depths[str(depth)] = {
                "median_epochs_to_fit": float(np.median(fit[:n])),
                "median_epochs_to_fit_alternative": float(np.median(alt[:n])),
                "share_fitted": float(np.mean(np.array(fit[:n]) <= budget)),
                "final_train_accuracy": float(
                    np.mean([r.history[-1]["train_accuracy"] for r in result[:n]])
                ),
                "epochs_to_fit": fit[:n],
            }
            if len(fit) > n:  # the null control: a second group of shallowest networks
                depths[str(depth)]["median_epochs_to_fit_second_group"] = float(np.median(fit[n:]))
        lo, hi = (str(min(config["network"]["depths"])), str(max(config["network"]["depths"])))
        metrics = {
            "depths": depths,
            "log2_speedup": _log2_ratio(
                depths[lo]["median_epochs_to_fit"], depths[hi]["median_epochs_to_fit"]
            ),
            "log2_speedup_alternative": _log2_ratio(
                depths[lo]["median_epochs_to_fit_alternative"],
                depths[hi]["median_epochs_to_fit_alternative"],
            ),
            "log2_speedup_null": _log2_ratio(
                depths[lo]["median_epochs_to_fit"], depths[lo]["median_epochs_to_fit_second_group"]
            ),
            "shallowest_and_deepest_fitted": min(
                depths[lo]["share_fitted"], depths[hi]["share_fitted"]
            ),
        }
        return SeedResult(metrics)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        d = config["network"]["depths"]
        thr = a["speedup_log2_above"]
        return [
            Claim(
                text=f"adding hidden layers cuts the training time: {max(d)} hidden layers fit the "
                f"task at least {2**thr:g}× faster than {min(d)} (median epochs to reach training "
                f"accuracy {a['fit_accuracy']:g})",
                paper="Shwartz-Ziv & Tishby 2017 (claim iv)",
                measurement=Measure("log2_speedup", "log2(epochs shallow / epochs deep)"),
                rule=interval_above(thr),
                premise=Premise(
                    "the shallowest and the deepest networks fit within the epoch budget (share "
                    "of networks that reached the threshold: 1 in every seed)",
                    Measure("shallowest_and_deepest_fitted", "share fitted"),
                    all_above(0.999),
                ),
                alternatives=[
                    Alternative(
                        Measure(
                            "log2_speedup_alternative",
                            f"log2 ratio at training accuracy {a['alternative_accuracy']:g}",
                        )
                    )
                ],
                controls=[
                    Control(
                        "two groups of the shallowest networks (no depth difference)",
                        Measure("log2_speedup_null", "log2 ratio between two shallow groups"),
                    )
                ],
            )
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        return [
            {
                "hidden layers": depth,
                "widths": "-".join(map(str, config["network"]["widths"][:depth])),
                f"median epochs to accuracy {config['analysis']['fit_accuracy']:g}": seed_summary(
                    per_seed(records, f"depths.{depth}.median_epochs_to_fit")
                ),
                "share fitted": seed_summary(per_seed(records, f"depths.{depth}.share_fitted")),
                "final training accuracy": seed_summary(
                    per_seed(records, f"depths.{depth}.final_train_accuracy")
                ),
            }
            for depth in config["network"]["depths"]
        ]

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        depths = config["network"]["depths"]
        fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
        for r in records:
            for d in depths:
                v = r.metrics["depths"][str(d)]["epochs_to_fit"]
                ax.plot(np.full(len(v), d), v, ".", color="0.6", ms=4)
        med = [per_seed(records, f"depths.{d}.median_epochs_to_fit").mean() for d in depths]
        ax.plot(depths, med, "o-", color="C0", label="median over networks, mean over seeds")
        ax.axhline(config["training"]["epochs"], color="C3", ls=":", lw=1, label="epoch budget")
        ax.set(xlabel="hidden layers", ylabel="epochs to fit", yscale="log")
        ax.legend(frameon=False, fontsize="small")
        caption = (
            f"Epochs until the mean minibatch training accuracy first reaches "
            f"{config['analysis']['fit_accuracy']:g}, per network (grey) and the median (blue), "
            "against the number of hidden layers; networks that never fit sit above the budget."
        )
        return {"epochs_to_fit": (fig, caption)}


def _log2_ratio(a: float, b: float) -> float:
    return float(np.log2(a / b))


STUDY = DepthAndTrainingTime()
