"""Summary table and figures of the training_set_size study (per-seed values, nats)."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.studies.base import SeedRecord, per_seed, seed_summary

_STYLE = {"trained": "-", "shuffled": "--", "untrained": ":"}
KIND_LABELS = {"trained": "trained", "shuffled": "labels shuffled", "untrained": "untrained"}


def _keys(config: dict[str, Any]) -> list[tuple[float, str]]:
    from structlearn.studies.training_set_size import fraction_key

    return [(f, fraction_key(f)) for f in sorted(config["data"]["train_fractions"])]


def _layers(config: dict[str, Any]) -> list[str]:
    return [f"hidden_{i + 1}" for i in range(len(config["network"]["hidden"]))]


def summary_rows(config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
    """One row per training fraction: accuracies, gaps, each hidden layer's excess, controls."""
    rows = []
    last = _layers(config)[-1]
    for f, k in _keys(config):
        base = f"fractions.{k}"

        def cell(key: str, base: str = base) -> str:
            return seed_summary(per_seed(records, f"{base}.{key}"))

        row = {
            "trained on": f"{100 * f:g}% ({int(per_seed(records, f'{base}.n_train')[0])} inputs)",
            "train accuracy": cell("trained.gap.train_accuracy"),
            "held-out accuracy": cell("trained.gap.test_accuracy"),
            "accuracy gap": cell("trained.gap.accuracy_gap"),
            "cross-entropy gap nats": cell("trained.gap.loss_gap_nats"),
        }
        for name in _layers(config):
            row[f"{name} excess nats"] = cell(f"trained.layers.{name}.ib_excess_nats")
        row[f"{last} vertical gap nats"] = cell(f"trained.layers.{last}.ib_gap_nats")
        row[f"labels shuffled: {last} excess nats"] = cell(f"shuffled.layers.{last}.ib_excess_nats")
        row["labels shuffled: held-out accuracy"] = cell("shuffled.gap.test_accuracy")
        row[f"untrained: {last} excess nats"] = cell(f"untrained.layers.{last}.ib_excess_nats")
        rows.append(row)
    return rows


def _against_fraction(ax: Any, config: dict, records: list, key: str, kind: str, **kw: Any):
    """Mean over seeds (line) and each seed (dots) of ``kind.key`` against the fraction (%)."""
    xs = [100 * f for f, _ in _keys(config)]
    vals = np.array([per_seed(records, f"fractions.{k}.{kind}.{key}") for _, k in _keys(config)])
    line = ax.plot(xs, vals.mean(axis=1), _STYLE[kind], marker="o", **kw)[0]
    for x, v in zip(xs, vals, strict=True):
        ax.plot(np.full(v.size, x), v, ".", color=line.get_color(), ms=4, alpha=0.6)


def plot_distances(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    """Horizontal excess of every hidden layer and the last one's vertical gap vs the fraction."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.0), constrained_layout=True)
    layers = _layers(config)
    for i, name in enumerate(layers):
        _against_fraction(a, config, records, f"layers.{name}.ib_excess_nats", "trained",
                          color=f"C{i}", label=name)  # fmt: skip
    last = layers[-1]
    for kind in ("shuffled", "untrained"):
        _against_fraction(a, config, records, f"layers.{last}.ib_excess_nats", kind,
                          color="0.4", label=f"{last}, {'labels shuffled' if kind == 'shuffled' else kind}")  # fmt: skip
    a.set(xlabel="training inputs (% of 4096)", ylabel="I(X;T) beyond the IB curve [nats]")
    a.legend(frameon=False, fontsize="x-small", ncol=2)
    for kind in KIND_LABELS:
        _against_fraction(b, config, records, f"layers.{last}.ib_gap_nats", kind,
                          color="C3" if kind == "trained" else "0.4", label=KIND_LABELS[kind])  # fmt: skip
    b.set(xlabel="training inputs (% of 4096)", ylabel=f"{last}: IB bound - I(T;Y) [nats]")
    b.legend(frameon=False, fontsize="x-small")
    return fig


def plot_generalisation(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    """Training and held-out accuracy, and the cross-entropy gap, vs the fraction."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.0), constrained_layout=True)
    for kind in ("trained", "shuffled"):
        for key, color in (("train_accuracy", "C0"), ("test_accuracy", "C1")):
            label = f"{key.split('_')[0]}, {KIND_LABELS[kind]}"
            _against_fraction(a, config, records, f"gap.{key}", kind, color=color, label=label)
        _against_fraction(b, config, records, "gap.loss_gap_nats", kind, color="C2",
                          label=KIND_LABELS[kind])  # fmt: skip
    a.set(xlabel="training inputs (% of 4096)", ylabel="accuracy", ylim=(0.4, 1.02))
    b.set(xlabel="training inputs (% of 4096)", ylabel="held-out - training cross-entropy [nats]")
    a.legend(frameon=False, fontsize="x-small")
    b.legend(frameon=False, fontsize="x-small")
    return fig


def plot_plane(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    """The IB curve of the rule with every hidden layer's final point per fraction (seed means)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    i_xt, i_ty, i_xy = records[0].artefacts["ib_curve"]
    order = np.argsort(i_xt)
    ax.plot(np.r_[0, np.asarray(i_xt)[order]], np.maximum.accumulate(np.r_[0, np.asarray(i_ty)[order]]),
            "k-", lw=1.2, label="IB curve")  # fmt: skip
    ax.axhline(i_xy, color="k", ls=":", lw=0.8)
    cmap = plt.get_cmap("viridis")
    keys = _keys(config)
    for j, (f, k) in enumerate(keys):
        pts = np.array([
            [per_seed(records, f"fractions.{k}.trained.layers.{n}.ib_I_{q}_nats").mean()
             for q in ("XT", "TY")]
            for n in _layers(config)
        ])  # fmt: skip
        color = cmap(j / max(len(keys) - 1, 1))
        ax.plot(*pts.T, "o-", color=color, label=f"{100 * f:g}% of the inputs")
    ax.set(xlabel="I(X;T) [nats]", ylabel="I(T;Y) [nats]", xlim=(0, np.log(4096) * 1.02))
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    return fig


def all_figures(config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
    T = config["data"]["temperature"]
    where = f"binned encoders (30 bins on [-1, 1]) under p(y=1|x) = sigmoid(s(x)/{T:g})"
    return {
        "distances": (
            plot_distances(config, records),
            f"Left: each hidden layer's I(X;T) beyond the least any encoder needs for its I(T;Y), "
            f"against the share of inputs trained on ({where}); grey: the last hidden layer of "
            "networks trained on shuffled labels (dashed) and untrained (dotted). Right: the last "
            "hidden layer's vertical gap below the bound. Lines: mean over seeds; dots: seeds.",
        ),
        "generalisation": (
            plot_generalisation(config, records),
            "Training and held-out accuracy (left) and the held-out minus training cross-entropy "
            "(right) against the share of inputs trained on; solid: true labels, dashed: labels "
            "shuffled. Each seed's value is the median over its networks.",
        ),
        "ib_plane": (
            plot_plane(config, records),
            f"The final hidden layers (hidden_1 right to the last hidden layer left) on the "
            f"information plane with the IB curve of the rule ({where}), one line per training "
            "fraction: the paper's figure of the layers against the bound for 5%, 45% and 85%.",
        ),
    }
