"""Figures of the objectives_compare study (kept beside it to keep the study file short)."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.models.blocks import sphere
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import SeedRecord, per_seed

LABELS = {
    "ce": "cross-entropy",
    "ce_twin": "cross-entropy, other init (control)",
    "mcr2": "MCR² (nearest subspace)",
    "vib": "variational IB (T = μ)",
    "nib": "nonlinear IB",
}


def _tag(rate: float) -> str:
    return f"p{round(100 * rate)}"


def _band(values: np.ndarray) -> tuple[float, float, float]:
    iv = mean_interval(values) if values.size > 1 and np.ptp(values) > 0 else None
    m = float(values.mean())
    return (m, m, m) if iv is None else (iv.mean, iv.low, iv.high)


def plot_noise(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.8), constrained_layout=True)
    rates = config["label_noise"]
    for i, name in enumerate([*config["objectives"], "ce_twin"]):
        bands = np.array(
            [_band(per_seed(records, f"noise.{_tag(r)}.{name}.test_accuracy")) for r in rates]
        )
        ls = ":" if name == "ce_twin" else "-"
        ax.plot(rates, bands[:, 0], "o" + ls, color=f"C{i}", label=LABELS[name])
        ax.fill_between(rates, bands[:, 1], bands[:, 2], color=f"C{i}", alpha=0.15)
    ax.set_xlabel("share of corrupted training labels")
    ax.set_ylabel("test accuracy (clean labels)")
    ax.legend(frameon=False, fontsize="small")
    return fig


def plot_delta_r(config: dict[str, Any], records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    rate = _tag(config["label_noise"][0])
    names = [*config["objectives"], "ce_twin"]
    keys = [("delta_R_half_eps_nats", "ΔR at ε/2"), ("delta_R_nats", "ΔR at ε"),
            ("delta_R_double_eps_nats", "ΔR at 2ε")]  # fmt: skip
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.6), constrained_layout=True)
    x = np.arange(len(names))
    for j, (key, label) in enumerate(keys):
        bands = np.array([_band(per_seed(records, f"noise.{rate}.{n}.{key}")) for n in names])
        err = [bands[:, 0] - bands[:, 1], bands[:, 2] - bands[:, 0]]
        ax.bar(x + (j - 1) * 0.27, bands[:, 0], 0.27, yerr=err, capsize=2, label=label)
    bands = np.array(
        [_band(per_seed(records, f"noise.{rate}.{n}.mean_subspace_cosine")) for n in names]
    )
    ax2.bar(x, bands[:, 0], 0.5, yerr=[bands[:, 0] - bands[:, 1], bands[:, 2] - bands[:, 0]])
    for a in (ax, ax2):
        a.set_xticks(x, [LABELS[n].split(" (")[0] for n in names], rotation=15, fontsize="small")
    ax.set_ylabel("ΔR of T, test set (nats)")
    ax2.set_ylabel("largest cosine between class subspaces")
    ax.legend(frameon=False, fontsize="small")
    return fig


def plot_vib_sweep(records: list[SeedRecord]) -> Any:
    import matplotlib.pyplot as plt

    betas = [p["beta"] for p in records[0].metrics["vib_sweep"]]
    keys = [("I_XZ_upper_nats", "I(X;Z), pairwise KL (upper)"),
            ("I_XZ_lower_nats", "I(X;Z), Bhattacharyya (lower)"),
            ("rate_nats", "rate E KL"),
            ("I_XT_mu_relative_kde_nats", "former measure: KDE on μ, relative noise")]  # fmt: skip
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.8), constrained_layout=True)
    for i, (key, label) in enumerate(keys):
        v = np.array([[p[key] for p in r.metrics["vib_sweep"]] for r in records])
        for row in v:
            ax.plot(betas, row, color=f"C{i}", lw=0.6, alpha=0.4)
        ax.plot(betas, v.mean(0), "o-", color=f"C{i}", label=label)
    log_n = records[0].metrics["vib_sweep"][0]["log_n_nats"]
    ax.axhline(log_n, color="grey", ls="--", lw=1, label="ceiling log n_test")
    ax.set_xscale("log")
    ax.set_yscale("log")  # every quantity here is > 0
    ax.set_xlabel("β (weight of the KL term)")
    ax.set_ylabel("nats")
    ax.legend(frameon=False, fontsize="x-small")
    acc = np.array([[p["test_accuracy"] for p in r.metrics["vib_sweep"]] for r in records])
    ax2.plot(betas, acc.mean(0), "o-", color="k")
    ax2.set_xscale("log")
    ax2.set_xlabel("β")
    ax2.set_ylabel("VIB test accuracy")
    return fig


def plot_similarity(artefacts: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    feats, y = artefacts["T_test"], artefacts["y_test"]
    n = len(feats)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n, 3.3), constrained_layout=True, squeeze=False)
    order = np.argsort(y, kind="stable")
    for ax, (name, T) in zip(axes[0], feats.items()):
        Z = sphere(T[order])
        im = ax.imshow(np.abs(Z @ Z.T), cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(LABELS[name].split(" (")[0], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="|cos|")
    return fig
