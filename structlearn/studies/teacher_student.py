r"""Study: do over-realised students specialise to the teacher's units? (Tian 2019/2020.)

A fixed two-layer ReLU teacher (:mod:`structlearn.data.teacher`, fan-out strength decay
:math:`(k+1)^{-p}`) labels Gaussian inputs; students of ``factor`` times the teacher's width are
trained on its outputs with Adam on the mean squared error. Claims, from Y. Tian, "Student
specialization in deep rectified networks with finite width and input dimension" (ICML 2020) and
Tian, Jiang, Gong & Morcos, "Luck matters" (arXiv:1905.13405, 2019):

1. *Specialisation*: with over-realisation every teacher unit gets a student unit whose activation
   is highly correlated with it over inputs.
2. *L-shape*: student units not aligned to any teacher unit have small fan-out weight norms
   (plot each student's best correlation against its fan-out norm: an L).
3. *Pruning*: removing the students with the smallest fan-out norms costs little loss until the
   number kept reaches the teacher's width (and costs much more in a random order).

Measured with :mod:`structlearn.analysis.alignment` on held-out inputs (streamed correlations,
best teacher per student, students per teacher above thresholds, pruning curves). Losses are
relative: mean squared error over the targets' total variance, so 1 is predicting the mean.

The project has no regression objective, so :class:`MeanSquaredError` (a pure function and its
thin module) lives here.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from structlearn.analysis.alignment import (
    AlignmentResult,
    PruningCurve,
    StreamingCorrelation,
    analyze_alignment,
    fanout_norm,
    hidden_mask_evaluator,
    pruning_curve,
)
from structlearn.config import ConfigError, Field
from structlearn.data.teacher import TeacherNetwork, make_teacher, sample_teacher_data
from structlearn.models.mlp import MLP
from structlearn.objectives.base import Features, Loss, Objective
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict
from structlearn.train import TrainConfig, train
from structlearn.utils.validation import check_tensor

SCHEMA = {
    "n_seeds": Field(int, 3, low=1, doc="seeds context.seed, +1, ...; each draws teacher and data"),
    "teacher": {
        "input_dim": Field(int, 20, low=1),
        "width": Field(int, 10, low=1, doc="hidden units of the two-layer teacher"),
        "n_outputs": Field(int, 2, low=1),
        "output_decay": Field(float, 1.0, low=0.0, doc="fan-out strength decay exponent p"),
    },
    "data": {
        "n_train": Field(int, 5000, low=2),
        "n_test": Field(int, 2000, low=2, doc="held-out inputs for correlations and pruning"),
    },
    "student": {
        "factors": Field(list, [1, 2, 5, 10], item=int, low=1, doc="over-realisation factors"),
    },
    "train": {
        "epochs": Field(int, 300, low=1),
        "lr": Field(float, 3e-3, low=1e-8),
        "batch_size": Field(int, 256, low=1),
    },
    "analysis": {
        "threshold": Field(
            float, 0.9, low=0.0, high=1.0, doc="a student is aligned at this correlation"
        ),
        "n_random": Field(int, 5, low=1, doc="random pruning orders averaged"),
        "l_ratio": Field(
            float, 0.1, low=0.0, doc="L-shape holds if unaligned/aligned fan-out is below this"
        ),
        "prune_tolerance": Field(
            float, 0.05, low=0.0, doc="relative loss counted as 'little' after pruning"
        ),
    },
}


# ------------------------------------------------------------------------------------- objective
def mean_squared_error(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Mean over samples of the squared error summed over outputs,
    :math:`\frac1n\sum_i \|\hat y_i - y_i\|_2^2`.

    Parameters
    ----------
    predictions, targets : Tensor of shape (n_samples, n_outputs)

    >>> float(mean_squared_error(torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.zeros(2, 2)))
    2.5
    """
    predictions = check_tensor(predictions, "predictions", ndim=2)
    targets = check_tensor(targets, "targets", ndim=2)
    if predictions.shape != targets.shape:
        raise ValueError(
            f"targets: expected shape {tuple(predictions.shape)} (the predictions'), got "
            f"{tuple(targets.shape)}"
        )
    return (predictions - targets).pow(2).sum(dim=1).mean()


class MeanSquaredError(Objective):
    """Regression objective on the tap ``tap`` (default the output); ``parts``: ``{"mse": ...}``."""

    def forward(self, features: Features, targets: torch.Tensor | None = None) -> Loss:
        if targets is None:
            raise ValueError("targets: MeanSquaredError needs regression targets, got None")
        total = mean_squared_error(self.select(features), targets)
        return Loss(total, {"mse": float(total.detach())})


# ------------------------------------------------------------------------------------- one run
def _train_student(
    X: torch.Tensor, Y: torch.Tensor, width: int, cfg: dict[str, Any], seed: int
) -> tuple[MLP, float]:
    t = cfg["train"]
    net = MLP([X.shape[1], width, Y.shape[1]], "relu", random_state=seed)
    config = TrainConfig(
        optimizer="adam",
        lr=t["lr"],
        epochs=t["epochs"],
        batch_size=min(t["batch_size"], X.shape[0]),
        record_epochs="none",
        record_gradients=False,
        store_activations=False,
        seed=seed,
    )
    result = train(net, MeanSquaredError(), (X, Y), config=config)
    return net.eval(), float(result.final_metrics["train_mse"])


def _correlations(teacher: TeacherNetwork, student: MLP, X: torch.Tensor) -> StreamingCorrelation:
    acc = StreamingCorrelation()
    with torch.no_grad():
        for batch in torch.split(X, 512):
            acc.update(teacher.hidden_activations(batch)[0], student(batch)[0])
    return acc


def _relative_loss(variance: float):
    def loss(taps: list[torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        return mean_squared_error(taps[-1], y) / variance

    return loss


def _measure(
    teacher: TeacherNetwork,
    student: MLP,
    test: tuple[torch.Tensor, torch.Tensor],
    cfg: dict[str, Any],
    seed: int,
) -> tuple[AlignmentResult, PruningCurve, dict[str, Any]]:
    Xt, Yt = test
    a = cfg["analysis"]
    thr = a["threshold"]
    variance = float((Yt - Yt.mean(0)).pow(2).sum(1).mean())
    align = analyze_alignment(
        _correlations(teacher, student, Xt),
        fanout_norm(student.layers[1]),
        thresholds=sorted({0.5, 0.7, thr, 0.95}),
    )
    evaluate = hidden_mask_evaluator(
        student, student.layers[0], Xt, Yt, loss_fn=_relative_loss(variance)
    )
    n, m = student.widths[1], teacher.hidden_widths[0]
    curve = pruning_curve(
        evaluate,
        align.fanout_norm,
        align.student_best_corr,
        n_removed=np.arange(n + 1),
        n_random=a["n_random"],
        random_state=seed,
    )
    summary = _summaries(align, curve, n, m, thr, a["prune_tolerance"])
    # strength rank of each teacher unit left without an aligned student (1 = largest fan-out)
    rank = np.argsort(np.argsort(-teacher.fan_out_norms(0).numpy(), kind="stable")) + 1
    summary["uncovered_teacher_strength_ranks"] = sorted(
        int(r) for r in rank[align.teacher_best_corr < thr]
    )
    return align, curve, summary


def _summaries(
    align: AlignmentResult, curve: PruningCurve, n: int, m: int, thr: float, tol: float
) -> dict[str, Any]:
    """The numbers one (seed, factor) contributes."""
    j = int(np.flatnonzero(np.isclose(align.thresholds, thr))[0])
    aligned = align.student_best_corr >= thr
    norms = align.fanout_norm
    keep_m = n - m  # index into curves over n_removed = 0..n
    ok = np.flatnonzero(curve.loss_by_norm <= curve.loss_by_norm[0] + tol)
    return {
        "n_students": n,
        "share_teachers_covered": float(align.share_teachers_covered[j]),
        "teacher_best_corr": align.teacher_best_corr.tolist(),
        "n_aligned": int(aligned.sum()),
        "fanout_aligned_median": float(np.median(norms[aligned])) if aligned.any() else None,
        "fanout_unaligned_median": float(np.median(norms[~aligned])) if (~aligned).any() else None,
        "loss_full": float(curve.loss_by_norm[0]),
        "loss_keep_teacher_width_by_norm": float(curve.loss_by_norm[keep_m]),
        "loss_keep_teacher_width_random": float(curve.loss_random_mean[keep_m]),
        "loss_keep_teacher_width_by_corr": float(curve.loss_by_corr[keep_m]),
        "fewest_kept_within_tolerance": int(n - ok.max()),
    }


# -------------------------------------------------------------------------------------- verdicts
def _values(per_seed: list[dict], factor: int, key: str) -> list[float]:
    return [s["factors"][str(factor)][key] for s in per_seed]


def _ranks(per_seed: list[dict], factor: int) -> str:
    ranks = [
        s["factors"][str(factor)].get("uncovered_teacher_strength_ranks", []) for s in per_seed
    ]
    return "; ".join(f"seed {i}: {r or 'none'}" for i, r in enumerate(ranks))


def verdicts(
    per_seed: list[dict], factors: list[int], width: int, thr: float, l_ratio: float, tol: float
) -> list[Verdict]:
    """Verdicts of the three claims from per-seed, per-factor summaries (rules in the text)."""
    big = max(factors)
    cover = {f: mean_interval(_values(per_seed, f, "share_teachers_covered")) for f in factors}
    out = [
        Verdict(
            claim="With over-realisation every teacher unit gets a student unit with high "
            f"correlation (Tian 2020: student specialisation); here correlation >= {thr:g}",
            measured="share of teacher units covered: "
            + "; ".join(f"x{f}: {cover[f]}" for f in factors)
            + f". Strength ranks (1 = largest fan-out of {width}) of the teacher units left "
            f"uncovered at x{big}: {_ranks(per_seed, big)}. Rule: at the largest factor (x{big}) "
            "every teacher unit is covered in every seed",
            held=bool(min(_values(per_seed, big, "share_teachers_covered")) >= 1.0),
        )
    ]
    ratios = {}
    for f in factors:
        pairs = [
            (
                s["factors"][str(f)]["fanout_unaligned_median"],
                s["factors"][str(f)]["fanout_aligned_median"],
            )
            for s in per_seed
        ]
        r = [u / a for u, a in pairs if u is not None and a]
        if r:
            ratios[f] = mean_interval(r)
    held_l = None
    if big in ratios:
        held_l = bool(
            ratios[big].high < l_ratio if ratios[big].n > 1 else ratios[big].mean < l_ratio
        )
    out.append(
        Verdict(
            claim="Students not aligned to any teacher unit have small fan-out norms (the L-shaped "
            "plot, Tian 2020)",
            measured="median fan-out norm of unaligned / aligned students: "
            + (
                "; ".join(f"x{f}: {iv}" for f, iv in ratios.items())
                or "none (no factor has both aligned and unaligned students)"
            )
            + f". Rule: ratio (upper end of its interval) < {l_ratio:g} at x{big}; undecided without "
            "both aligned and unaligned students there",
            held=held_l,
        )
    )
    pruned = [f for f in factors if f > 1]
    if not pruned:
        out.append(
            Verdict(
                claim="Pruning the smallest fan-out students costs little until the teacher's width",
                measured="no factor above 1: nothing to prune",
                held=None,
            )
        )
        return out
    parts = []
    for f in pruned:
        by_norm = mean_interval(_values(per_seed, f, "loss_keep_teacher_width_by_norm"))
        rnd = mean_interval(_values(per_seed, f, "loss_keep_teacher_width_random"))
        kept = mean_interval(_values(per_seed, f, "fewest_kept_within_tolerance"))
        parts.append(
            f"x{f}: keeping {width} by norm {by_norm}, random {rnd}; fewest kept within "
            f"+{tol:g} {kept}"
        )
    norm_big = _values(per_seed, big, "loss_keep_teacher_width_by_norm")
    rnd_big = _values(per_seed, big, "loss_keep_teacher_width_random")
    full_big = _values(per_seed, big, "loss_full")
    held_p = all(
        b <= f0 + tol and b < r for b, r, f0 in zip(norm_big, rnd_big, full_big, strict=True)
    )
    out.append(
        Verdict(
            claim="Removing the students with the smallest fan-out norms costs little loss until "
            "the number kept reaches the teacher's width, unlike random removal (Tian 2020)",
            measured="relative test loss (MSE / target variance) with the teacher's width of "
            + "students kept: "
            + "; ".join(parts)
            + f". Rule: at x{big}, keeping {width} by norm stays within +{tol:g} of the full "
            "student and below random removal, in every seed",
            held=bool(held_p),
        )
    )
    return out


# --------------------------------------------------------------------------------------- figures
def _figures(
    first: dict[int, tuple[AlignmentResult, PruningCurve]], width: int, per_seed: list, thr: float
) -> dict:
    import matplotlib.pyplot as plt

    factors = sorted(first)
    figs = {}
    fig, axes = plt.subplots(
        1, len(factors), figsize=(3.3 * len(factors), 3.4), constrained_layout=True, squeeze=False
    )
    for ax, f in zip(axes[0], factors):
        align = first[f][0]
        aligned = align.student_best_corr >= thr
        ax.scatter(align.fanout_norm[aligned], align.student_best_corr[aligned], s=10, c="C0")
        ax.scatter(align.fanout_norm[~aligned], align.student_best_corr[~aligned], s=10, c="C3")
        ax.axhline(thr, color="0.5", ls=":", lw=1)
        ax.set_xlabel("fan-out norm")
        ax.set_title(f"x{f}: {len(aligned)} students", fontsize="small")
        ax.set_ylim(min(-0.05, float(align.student_best_corr.min()) - 0.05), 1.05)
    axes[0, 0].set_ylabel("best correlation with a teacher unit")
    fig.suptitle(f"L-shaped plot (seed 0); red: best correlation < {thr:g}", fontsize="small")
    figs["l_shape"] = fig

    pruned = [f for f in factors if f > 1]
    if pruned:
        fig, axes = plt.subplots(
            1, len(pruned), figsize=(3.6 * len(pruned), 3.4), constrained_layout=True, squeeze=False
        )
        for ax, f in zip(axes[0], pruned):
            c = first[f][1]
            kept = c.n_units - c.n_removed
            ax.plot(kept, c.loss_by_norm, "-", label="smallest fan-out first")
            ax.plot(kept, c.loss_random_mean, "-", color="0.4", label="random order")
            ax.plot(kept, c.loss_by_corr, "--", label="least correlated first")
            ax.axvline(width, color="k", ls=":", lw=1, label="teacher width")
            ax.set_xlabel("students kept")
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(bottom=0.0)
            ax.set_title(f"x{f}", fontsize="small")
        axes[0, 0].set_ylabel("relative test loss (MSE / variance)")
        axes[0, -1].legend(frameon=False, fontsize="x-small")
        figs["pruning"] = fig

    fig, ax = plt.subplots(figsize=(4.8, 3.4), constrained_layout=True)
    shares = np.array(
        [[s["factors"][str(f)]["share_teachers_covered"] for f in factors] for s in per_seed]
    )
    for row in shares:
        ax.plot(factors, row, color="C0", lw=0.7, alpha=0.4)
    ax.plot(factors, shares.mean(0), "o-", color="C0", label="mean over seeds")
    ax.set_xscale("log")
    ax.set_xticks(factors, [str(f) for f in factors])
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("over-realisation factor (student width / teacher width)")
    ax.set_ylabel(f"share of teacher units with a student >= {thr:g}")
    ax.legend(frameon=False, fontsize="small")
    figs["specialisation"] = fig
    return figs


# ------------------------------------------------------------------------------------------- run
def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Train students of every factor on every seed's teacher and measure their alignment.

    The networks are tiny, so torch runs on one thread here (several threads only contend on a
    loaded machine); the caller's setting is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config, context)
    finally:
        torch.set_num_threads(threads)


def _run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    from structlearn.utils.progress import progress

    factors = sorted(set(config["student"]["factors"]))
    if not factors:
        raise ConfigError("student.factors: expected at least one factor, got []")
    tc = config["teacher"]
    thr = config["analysis"]["threshold"]
    per_seed, first, timings = [], {}, {"train": 0.0, "analysis": 0.0}
    for s in progress(range(config["n_seeds"]), desc="seeds"):
        seed = context.seed + s
        rng = np.random.default_rng(seed)
        teacher = make_teacher(
            tc["input_dim"],
            (tc["width"], tc["n_outputs"]),
            output_decay=tc["output_decay"],
            random_state=rng,
        )
        train_set = sample_teacher_data(teacher, config["data"]["n_train"], random_state=rng)
        test_set = sample_teacher_data(teacher, config["data"]["n_test"], random_state=rng)
        row: dict[str, Any] = {"seed": seed, "factors": {}}
        for f in factors:
            t0 = time.perf_counter()
            student, train_mse = _train_student(*train_set, f * tc["width"], config, seed)
            t1 = time.perf_counter()
            align, curve, summ = _measure(teacher, student, test_set, config, seed)
            timings["train"] += round(t1 - t0, 2)
            timings["analysis"] += round(time.perf_counter() - t1, 2)
            summ["train_mse"] = train_mse
            row["factors"][str(f)] = summ
            if s == 0:
                first[f] = (align, curve)
        per_seed.append(row)
    a = config["analysis"]
    return StudyOutput(
        metrics={"per_seed": per_seed, "factors": factors, "teacher_width": tc["width"]},
        figures=_figures(first, tc["width"], per_seed, thr),
        summary=_summary(per_seed, factors, tc["width"]),
        verdicts=verdicts(per_seed, factors, tc["width"], thr, a["l_ratio"], a["prune_tolerance"]),
        captions={
            "l_shape": "Each student unit's best correlation with a teacher unit (held-out "
            "inputs) against its fan-out weight norm, one panel per over-realisation factor.",
            "pruning": "Relative test loss as students are removed: smallest fan-out norm first, "
            "in random order (mean of orders) and least correlated first; dotted: the teacher's "
            "width. Seed 0.",
            "specialisation": "Share of teacher units with at least one aligned student, per "
            "factor; thin lines: seeds.",
        },
        timings=timings,
    )


def _summary(per_seed: list[dict], factors: list[int], width: int) -> list[dict[str, Any]]:
    rows = []
    for f in factors:

        def iv(key: str, f: int = f) -> str:
            return str(mean_interval(_values(per_seed, f, key)))

        rows.append(
            {
                "factor": f,
                "students": f * width,
                "teacher units covered": iv("share_teachers_covered"),
                "aligned students": iv("n_aligned"),
                "relative test loss": iv("loss_full"),
                f"loss keeping {width} by norm": iv("loss_keep_teacher_width_by_norm"),
                f"loss keeping {width} at random": iv("loss_keep_teacher_width_random"),
            }
        )
    return rows


class _TeacherStudent:
    name = "teacher_student"
    summary = "Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _TeacherStudent()
