"""Study: is the depth where a layer stops adding information the depth where accuracy saturates?

Claim (layer-wise InfoMax / sparse-coding stacks: Linsker 1988; Bell & Sejnowski 1995; Olshausen &
Field 1996 and their stacked successors; the rate growth of ReduNet, Chan et al. 2022): layers are
worth adding while each adds information to the representation, so the depth after which the gain
per layer stays below a tolerance is the depth at which a linear read-out stops improving.

Per seed a :class:`structlearn.models.stack.SparseCodingStack` is learned layer by layer on one
part of the data (whitened by :class:`structlearn.data.preprocess.PatchWhitener`); on a held-out
part, every depth (0 = the whitened input) gets the layer measures of
:mod:`structlearn.analysis.layer_measures` and the held-out accuracy of a linear probe
(:func:`structlearn.analysis.probes.analyze_probes`). Data: scikit-learn's digits (``data.source:
digits``: the stack learns on the digits' training part, the probe reads the digit) or patches of
the bundled photographs (``photos``: the probe reads which photograph a patch came from).

- **Premise**: the probe's accuracy rises over the input's and saturates inside the stack (the
  first depth within ``probe.tolerance`` of the best is above 0 and below the top, and no deeper
  layer falls more than the tolerance below the best). Otherwise the claim cannot show here.
- **Measurement**: per seed, ``|entropy depth - accuracy depth|``, where the entropy depth is the
  first layer after which every gain of the channel information :math:`I(X;\\tilde Z+N)` stays below
  ``measure.tolerance`` nats; decided by the count of seeds where it is at most
  ``verdict.depth_tolerance`` layers.
- **Alternatives**: the same with the coding rate, the sum of marginal entropies and the
  standardised Gaussian log-det (undefined, so undecided, where a layer is below full rank).
- **Control**: the same stack untrained: every layer's atoms (ICA: unmixing rows) replaced by
  random Gaussian rows of the same norms.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from structlearn.analysis.entropy_gain import recommended_depth
from structlearn.analysis.layer_measures import NORMALISATION, analyze_layer_measures
from structlearn.analysis.probes import saturation_index
from structlearn.config import ConfigError, Field, seeds_fragment
from structlearn.data.preprocess import PatchWhitener, random_patches
from structlearn.data.sources import data_fragment, load_source
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    seeds_where,
)

SOURCES = ("digits", "mnist5k", "mnist", "cifar10", "npz", "photos", "images")
MEASURES = ("channel_information", "coding_rate", "marginal_entropy", "gaussian_entropy")
TITLES = {
    "channel_information": "channel information I(X; Z~+N)",
    "coding_rate": "coding rate R(Z~; eps)",
    "marginal_entropy": "sum of marginal entropies",
    "gaussian_entropy": "standardised Gaussian log-det",
}

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "digits",
        patch=Field(int, 8, low=3, high=32, doc="photographs: patch side in pixels"),
        per_image=Field(int, 250, low=10, high=10**5, doc="photographs: stack patches per photo"),
        eval_per_image=Field(int, 150, low=10, high=10**5, doc="photographs: held-out patches"),
        train_fraction=Field(float, 0.5, low=0.1, high=0.9, doc="images: share for the stack"),
        zca_eps=Field(float, 0.01, low=1e-8, high=10.0, doc="ZCA regulariser (relative)"),
    ),
    "stack": {
        "method": Field(str, "sparse_coding", choices=["sparse_coding", "ica"]),
        "n_layers": Field(int, 4, low=1, high=12),
        "n_atoms": Field(int, 64, low=2, high=4096, doc="atoms (components) per layer"),
        "lambda1": Field(float, 0.1, low=1e-6, high=1e3, doc="sparsity (unit mean norm input)"),
        "group_size": Field(int, 4, low=1, high=4096, nullable=True, doc="null: no pooling"),
        "pooling": Field(str, "l2", choices=["l2", "max"], doc="pooling over groups"),
        "n_iter": Field(int, 50, low=1, high=10**6, doc="dictionary-learning iterations"),
    },
    "measure": {
        "noise_std": Field(float, 0.3, low=1e-6, high=1e3, doc="sigma of the channel (scaled)"),
        "eps": Field(float, 0.5, low=1e-6, high=1e3, doc="distortion of the coding rate"),
        "max_samples": Field(int, 1000, low=10, high=20000, doc="rows measured (ceiling log n)"),
        "tolerance": Field(float, 0.1, low=1e-6, high=1e3, doc="nats: channel gain that counts"),
        "tolerance_other": Field(
            float, 0.5, low=1e-6, high=1e3, doc="nats: gain that counts for the alternatives"
        ),
    },
    "probe": {
        "test_size": Field(float, 0.25, low=0.05, high=0.9),
        "C": Field(float, 1.0, low=1e-6, high=1e6),
        "max_iter": Field(int, 300, low=10, high=10**5),
        "tolerance": Field(
            float, 0.02, low=0.0, high=1.0, doc="within this of the best: saturated"
        ),
    },
    "verdict": {
        "depth_tolerance": Field(int, 0, low=0, high=12, doc="layers the two depths may differ"),
    },
}


def _data(config: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Whitened stack-training inputs, held-out inputs and their labels, and the task's name.

    Labelled images: a seeded ``train_fraction`` of them trains the stack, the rest are held out
    and the probe reads their class. Photographs: random patches train the stack, other patches
    are held out and the probe reads which photograph each came from.
    """
    d = config["data"]
    data = load_source(d, random_state=seed, accepts=SOURCES)
    rng = np.random.default_rng(seed)
    if data.X is not None:
        if data.y is None:
            raise ConfigError(f"data.source: {data.source!r} has no labels for the probe")
        order = rng.permutation(len(data.y))
        cut = round(d["train_fraction"] * len(order))
        X_train, X_eval, y_eval = data.X[order[:cut]], data.X[order[cut:]], data.y[order[cut:]]
        task = f"class of held-out {data.source}"
    else:
        imgs = data.require_images("depth_by_entropy")
        try:
            X_train, _ = random_patches(imgs, d["patch"], d["per_image"], rng)
            X_eval, y_eval = random_patches(imgs, d["patch"], d["eval_per_image"], rng)
        except ValueError as exc:
            raise ConfigError(f"data.patch: {exc}") from None
        task = f"which of {len(imgs)} photographs a patch came from"
    white = PatchWhitener(d["zca_eps"]).fit(np.asarray(X_train, dtype=np.float64))
    return white(X_train), white(X_eval), np.asarray(y_eval), task


def rises_and_saturates(accuracy: Any, tolerance: float) -> bool:
    """The premise: the saturation depth is inside the stack (not the input, not the top) and no
    deeper layer falls more than ``tolerance`` below the best.

    >>> rises_and_saturates([0.5, 0.7, 0.8, 0.8], 0.02), rises_and_saturates([0.9, 0.8, 0.5], 0.02)
    (True, False)
    """
    a = np.asarray(accuracy, dtype=np.float64)
    d = saturation_index(a, tolerance)
    return bool(0 < d < len(a) - 1 and a[d:].min() >= a.max() - tolerance)


def _untrained(stack: Any, rng: np.random.Generator) -> Any:
    """The stack with every layer's atoms (or ICA unmixing rows) replaced by random Gaussian rows
    of the trained rows' norms: the untrained control."""
    ctl = copy.deepcopy(stack)
    for layer, D in enumerate(stack.components_):
        R = rng.standard_normal(D.shape)
        R *= (np.linalg.norm(D, axis=1) / np.linalg.norm(R, axis=1))[:, None]
        ctl.components_[layer] = R
        if ctl.ica_:
            ctl.ica_[layer].components_ = R  # FastICA.transform: (X - mean_) @ components_.T
    return ctl


class DepthByEntropy(Study):
    """Does the depth where information stops growing choose the depth where accuracy saturates?"""

    name = "depth_by_entropy"
    summary = "Does the depth where layers stop adding information match accuracy saturation?"
    schema = SCHEMA

    # ---- measure one seed ------------------------------------------------------------------

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        from structlearn.models.stack import SparseCodingStack

        X_train, X_eval, y_eval, task = _data(config, seed)
        s = config["stack"]
        stack = SparseCodingStack(
            n_layers=s["n_layers"],
            n_atoms=s["n_atoms"],
            lambda1=s["lambda1"],
            group_size=s["group_size"],
            pooling=s["pooling"] if s["group_size"] else None,
            method=s["method"],
            n_iter=s["n_iter"],
            random_state=seed,
        )
        try:
            stack.fit(X_train)
        except ValueError as exc:  # group_size not dividing n_atoms, too many ICA components
            raise ConfigError(f"stack: {exc}") from None
        stacks = {
            "trained": stack,
            "untrained": _untrained(stack, np.random.default_rng([seed, 1])),
        }
        metrics: dict[str, Any] = {"data": {"task": task, "n_eval": len(y_eval)}}
        for name, st in stacks.items():
            metrics[name] = self._one_stack(config, st.transform_all(X_eval), X_eval, y_eval, seed)
        return SeedResult(metrics)

    @staticmethod
    def _one_stack(config, codes, X_eval, y_eval, seed) -> dict[str, Any]:
        from structlearn.analysis.probes import analyze_probes

        m, p = config["measure"], config["probe"]
        layers = {"input": X_eval, **{f"layer {i + 1}": c for i, c in enumerate(codes)}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # dead units: counted in the measures
            probes = analyze_probes(
                layers, y_eval, test_size=p["test_size"], C=p["C"], max_iter=p["max_iter"],
                tolerance=p["tolerance"], random_state=seed,
            )  # fmt: skip
        measured = [
            analyze_layer_measures(
                x, noise_std=m["noise_std"], eps=m["eps"], max_samples=m["max_samples"],
                random_state=seed,
            ).summary()
            for x in layers.values()
        ]  # fmt: skip
        acc = probes.test_accuracy
        d_acc = saturation_index(acc, p["tolerance"])
        out = {
            "accuracy": acc.tolist(),
            "chance_accuracy": probes.chance_accuracy,
            "accuracy_depth": d_acc,
            "premise": float(rises_and_saturates(acc, p["tolerance"])),
            "layers": measured,
            "depth": {},
            "mismatch": {},
        }
        for k in MEASURES:
            tol = m["tolerance"] if k == "channel_information" else m["tolerance_other"]
            values = [row[f"{k}_nats"] for row in measured]
            depth = None if None in values else recommended_depth(np.diff(values), tol)
            out["depth"][k] = depth
            out["mismatch"][k] = None if depth is None else abs(depth - d_acc)
        return out

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        tol, k = config["measure"]["tolerance"], config["verdict"]["depth_tolerance"]
        p_tol = config["probe"]["tolerance"]
        what = "chose the accuracy-saturation depth" + (f" (within {k} layers)" if k else "")
        controls = [Control("untrained stack (random atoms)", _mismatch("untrained", MEASURES[0]))]
        return [
            Claim(
                text=f"the depth after which every layer adds less than {tol:g} nats of channel "
                f"information I(X; Z~+N) is the depth where linear-probe accuracy saturates "
                f"(first depth within {p_tol:g} of the best)",
                paper="Linsker 1988; Olshausen & Field 1996 (stacked); ReduNet, Chan et al. 2022",
                measurement=_mismatch("trained", MEASURES[0]),
                rule=seeds_where(lambda v: v <= k, what),
                premise=Premise(
                    f"probe accuracy rises above the input's and saturates inside the stack "
                    f"(stays within {p_tol:g} of the best)",
                    Measure("trained.premise", "1 if the accuracy curve rises and saturates"),
                    all_above(0.5),
                ),
                alternatives=[Alternative(_mismatch("trained", m)) for m in MEASURES[1:]],
                controls=controls,
            )
        ]

    # ---- table and figures -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for d in range(config["stack"]["n_layers"] + 1):
            row: dict[str, Any] = {"depth": "input" if d == 0 else d}
            row["probe accuracy"] = seed_summary(
                [r.metrics["trained"]["accuracy"][d] for r in records]
            )
            ctl = [
                r.metrics["untrained"]["accuracy"][d] for r in records if "untrained" in r.metrics
            ]
            row["untrained"] = seed_summary(ctl) if ctl else "-"
            for k in MEASURES:
                vals = [r.metrics["trained"]["layers"][d][f"{k}_nats"] for r in records]
                row[k + " nats"] = "-inf" if None in vals else seed_summary(vals)
            row["rank"] = seed_summary([r.metrics["trained"]["layers"][d]["rank"] for r in records])
            rows.append(row)
        return rows

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {
            "normalisation": {m: NORMALISATION[m] for m in MEASURES},
            "task": records[0].metrics["data"]["task"],
        }

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        m, p = config["measure"], config["probe"]
        ceiling = records[0].metrics["trained"]["layers"][0]["channel_ceiling_nats"]
        met = int(per_seed(records, "trained.premise").sum())
        return {
            "accuracy_by_depth": (
                _accuracy_figure(records),
                f"Held-out linear-probe accuracy ({records[0].metrics['data']['task']}) by depth "
                f"(0 = whitened input): mean over seeds with 95% t-intervals, each seed thin; "
                f"dashed: the untrained stack (random dictionaries); dotted: chance. The premise "
                f"(accuracy rises and saturates within {p['tolerance']:g}) held in {met} of "
                f"{len(records)} seeds.",
            ),
            "measures_by_depth": (
                _measures_figure(records),
                f"Layer measures by depth (nats; mean over seeds, thin: seeds). Channel "
                f"information I(X; Z~+N), sigma = {m['noise_std']:g}: "
                f"{NORMALISATION['channel_information']}; Kolchinsky-Tracey KL bound on n = "
                f"{round(np.exp(ceiling))} rows, ceiling log n = {ceiling:.2f} (dotted). Coding rate (eps = {m['eps']:g}): "
                f"{NORMALISATION['coding_rate']}. Marginal: {NORMALISATION['marginal_entropy']}. "
                f"Gaussian log-det: {NORMALISATION['gaussian_entropy']} (gaps: below full rank).",
            ),
        }


def _mismatch(stack: str, measure: str) -> Measure:
    return Measure(
        f"{stack}.mismatch.{measure}",
        f"|depth by {measure.replace('_', ' ')} - accuracy depth|, {stack} stack",
        "layers",
    )


def _accuracy_figure(records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    from structlearn.studies._stats import mean_interval

    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    for key, style in (("trained", "o-"), ("untrained", "s--")):
        acc = np.array([r.metrics[key]["accuracy"] for r in records])
        x = np.arange(acc.shape[1])
        for a in acc:
            ax.plot(x, a, color="C0" if key == "trained" else "C1", lw=0.6, alpha=0.4)
        ivs = [mean_interval(col) for col in acc.T]
        mean = np.array([iv.mean for iv in ivs])
        err = [mean - [iv.low for iv in ivs], [iv.high for iv in ivs] - mean]
        ax.errorbar(x, mean, yerr=err, fmt=style, capsize=3, label=f"{key} stack")
    ax.axhline(records[0].metrics["trained"]["chance_accuracy"], color="k", ls=":", label="chance")
    ax.set_xticks(x, ["input"] + [str(d) for d in x[1:]])
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("held-out linear-probe accuracy")
    ax.legend(frameon=False, fontsize="small")
    return fig


def _measures_figure(records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), constrained_layout=True)
    for ax, k in zip(axes, MEASURES, strict=True):
        for r in records:
            vals = [np.nan if v is None else v for v in
                    (row[f"{k}_nats"] for row in r.metrics["trained"]["layers"])]  # fmt: skip
            ax.plot(np.arange(len(vals)), vals, "o-", color="C0", lw=0.8, alpha=0.6)
        if k == "channel_information":
            ceiling = records[0].metrics["trained"]["layers"][0]["channel_ceiling_nats"]
            ax.axhline(ceiling, color="k", ls=":", lw=1)
        ax.set_title(TITLES[k], fontsize="small")
        ax.set_xticks(np.arange(len(vals)))
        ax.set_xlim(-0.3, len(vals) - 0.7)
        ax.set_xlabel("depth (0 = input)")
    axes[0].set_ylabel("nats")
    return fig


STUDY = DepthByEntropy()
