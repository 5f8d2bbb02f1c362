"""Figures of the teacher_student study: L-shape panels (Tian's axes), pruning curves, coverage."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.alignment import PruningCurve
from structlearn.studies.base import SeedRecord, per_seed


def l_shape(artefacts: dict[int, tuple], thr: float) -> Any:
    """One panel per factor: x = best correlation with a teacher unit, y = fan-out norm.

    ``artefacts[factor] = (best_corr (n,), fanout (n,), curve)``; red: below ``thr``.
    """
    import matplotlib.pyplot as plt

    factors = sorted(artefacts)
    fig, axes = plt.subplots(
        1, len(factors), figsize=(3.3 * len(factors), 3.4), constrained_layout=True, squeeze=False
    )
    for ax, f in zip(axes[0], factors):
        corr, norms = artefacts[f][0], artefacts[f][1]  # sign-aware best correlation
        ok = corr >= thr
        ax.scatter(corr[ok], norms[ok], s=10, c="C0", label=f">= {thr:g}")
        ax.scatter(corr[~ok], norms[~ok], s=10, c="C3", label=f"< {thr:g}")
        ax.axvline(thr, color="0.5", ls=":", lw=1)
        ax.set_xlabel("best correlation with a teacher unit")
        ax.set_title(f"x{f}: {len(corr)} students", fontsize="small")
        ax.set_xlim(min(-0.05, float(corr.min()) - 0.05), 1.05)
        ax.set_ylim(bottom=0)
    axes[0, 0].set_ylabel("fan-out weight norm")
    axes[0, -1].legend(frameon=False, fontsize="x-small", loc="upper left")
    return fig


def pruning(artefacts: dict[int, tuple], width: int, marks: dict[int, dict] | None = None) -> Any:
    """Relative loss against students kept, per factor > 1, three removal orders."""
    import matplotlib.pyplot as plt

    factors = [f for f in sorted(artefacts) if f > 1]
    fig, axes = plt.subplots(
        1, len(factors), figsize=(3.6 * len(factors), 3.4), constrained_layout=True, squeeze=False
    )
    for ax, f in zip(axes[0], factors):
        c: PruningCurve = artefacts[f][2]
        kept = c.n_units - c.n_removed
        ax.plot(kept, c.loss_by_norm, "-", label="smallest fan-out first")
        ax.plot(kept, c.loss_random_mean, "-", color="0.4", label="random order")
        ax.plot(kept, c.loss_by_corr, "--", label="least correlated first")
        ax.axvline(width, color="k", ls=":", lw=1, label="teacher width")
        for label, (k, style) in (marks or {}).get(f, {}).items():
            ax.axvline(k, color="C2", ls=style, lw=1, label=label)
        ax.set_xlabel("students kept")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(bottom=0.0)
        ax.set_title(f"x{f}", fontsize="small")
    axes[0, 0].set_ylabel("relative test loss (MSE / variance)")
    axes[0, -1].legend(frameon=False, fontsize="x-small")
    return fig


def specialisation(records: list[SeedRecord], factors: list[int], thr: float, keys=None) -> Any:
    """Share of teacher units covered per factor, one line per seed and the mean."""
    import matplotlib.pyplot as plt

    keys = keys or {"Pearson": "alignment.share_covered"}
    fig, ax = plt.subplots(figsize=(4.8, 3.4), constrained_layout=True)
    for i, (label, key) in enumerate(keys.items()):
        shares = np.stack([per_seed(records, f"factors.{f}.{key}") for f in factors], axis=1)
        for row in shares:
            ax.plot(factors, row, color=f"C{i}", lw=0.7, alpha=0.4)
        ax.plot(factors, shares.mean(0), "o-", color=f"C{i}", label=f"{label}: mean over seeds")
    ax.set_xscale("log")
    ax.set_xticks(factors, [str(f) for f in factors])
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("over-realisation factor (student width / teacher width)")
    ax.set_ylabel(f"share of teacher units with a student >= {thr:g}")
    ax.legend(frameon=False, fontsize="small")
    return fig


def figures(config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
    """The study's figures: ``name -> (figure, caption)``."""
    from structlearn.studies._teacher_student_measure import marks, teacher_width

    thr, m, first = config["analysis"]["threshold"], teacher_width(config), records[0]
    factors = sorted(config["student"]["factors"])
    figs = {
        "l_shape": (
            l_shape(first.artefacts, thr),
            f"Each student's fan-out weight norm against its best correlation with a teacher "
            f"unit (sign-aware) on held-out inputs (Tian's axes), one panel per factor; seed {first.seed}.",
        ),
        "specialisation": (
            specialisation(
                records,
                factors,
                thr,
                {
                    "sign-aware": "alignment.share_covered_sign_aware",
                    "Pearson": "alignment.share_covered",
                },
            ),
            f"Share of teacher units with a student at correlation >= {thr:g}, per factor; "
            "thin lines: seeds.",
        ),
    }
    if any(f > 1 for f in factors):
        figs["pruning"] = (
            pruning(first.artefacts, m, marks(first)),
            "Relative test loss (MSE / target variance) against students kept: smallest "
            "fan-out norm removed first, random order (mean of orders), least correlated "
            "(sign-aware) first; black dotted: the teacher's width; green: the number of "
            f"aligned students (solid) and of students above the fan-out threshold (dashed). "
            f"Seed {first.seed}.",
        )
    return figs
