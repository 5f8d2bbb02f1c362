"""One seed of :mod:`structlearn.studies.teacher_student`: students, their training, alignment and
pruning measures, and the claim/table helpers (Tian 2020; Tian, Jiang, Gong & Morcos 2019).

Not a study (its name starts with an underscore): what the study file would otherwise hold below
its schema.

Ensembles: with ``training.ensemble`` (default) the runner hands every unfinished seed to
``measure_seeds`` and the seeds' students of one factor are trained together
(:func:`structlearn.ensemble.train_ensemble`, each on its own seed's teacher data; network ``s`` is
what the single trainer gives for seed ``s`` up to float32 rounding).
"""

from __future__ import annotations

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
    merged_fanout_norm,
    pruning_curve,
)
from structlearn.data.teacher import (
    TeacherNetwork,
    make_code_teacher,
    make_teacher,
    sample_teacher_data,
)
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import MeanSquaredError, mean_squared_error
from structlearn.studies.base import SeedRecord, per_seed, seed_summary
from structlearn.studies.claims import Measure
from structlearn.train import TrainConfig, train


def make_student(config: dict[str, Any], width: int, seed: int) -> MLP:
    """An untrained student: PyTorch's initialisation, or Tian's N(0, std²) weights, zero biases."""
    tc, std = config["teacher"], config["student"]["init_std"]
    net = MLP([tc["input_dim"], width, tc["n_outputs"]], "relu", random_state=seed)
    if std is not None:
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for layer in net.layers:
                layer.weight.normal_(0.0, std, generator=gen)
                layer.bias.zero_()
    return net


def train_students(
    config: dict[str, Any], width: int, seeds: list[int], train_sets: list[tuple]
) -> list[tuple[MLP, float]]:
    """Students of ``width`` for each seed (trained on that seed's data): (net, final train MSE)."""
    nets = [make_student(config, width, s) for s in seeds]
    section = dict(config["training"])
    n = len(train_sets[0][0])
    section["batch_size"] = min(section["batch_size"] or n, n)
    fixed = {"record_epochs": "none", "record_gradients": False, "store_activations": False}
    if config["training"]["ensemble"] and len(seeds) > 1:
        from structlearn.ensemble import train_ensemble
        from structlearn.models.stacked_mlp import StackedMLP

        model = StackedMLP.from_mlps(nets)
        X = torch.stack([t[0] for t in train_sets])  # (S, n, d): each seed's own inputs
        Y = torch.stack([t[1] for t in train_sets])
        tc = TrainConfig.from_section(section, seed=seeds[0], **fixed)
        res = train_ensemble(model, MeanSquaredError(), (X, Y), seeds=list(seeds), config=tc)
        return [
            (model.network(i).eval(), float(r.final_metrics["train_mse"]))
            for i, r in enumerate(res.networks)
        ]
    out = []
    for net, s, data in zip(nets, seeds, train_sets, strict=True):
        tc = TrainConfig.from_section(section, seed=s, **fixed)
        result = train(net, MeanSquaredError(), data, config=tc)
        out.append((net.eval(), float(result.final_metrics["train_mse"])))
    return out


def _correlations(teacher: TeacherNetwork, student: MLP, X: torch.Tensor):
    """Correlations of the students with each teacher unit and with its mirror relu(−wᵀx − b)."""
    acc, mirror = StreamingCorrelation(), StreamingCorrelation()
    with torch.no_grad():
        for batch in torch.split(X, 512):
            pre, hidden = teacher.layers[0](batch), student(batch)[0]
            acc.update(torch.relu(pre), hidden)
            mirror.update(torch.relu(-pre), hidden)
    return acc, mirror


def _relative_loss(variance: float):
    def loss(outputs: list[torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        return mean_squared_error(outputs[-1], y) / variance

    return loss


def measure_student(
    teacher: TeacherNetwork, student: MLP, test: tuple, config: dict[str, Any], seed: int
) -> tuple[AlignmentResult, PruningCurve, dict[str, Any]]:
    """Alignment and pruning of one trained student on held-out inputs ``test = (X, Y)``."""
    Xt, Yt = test
    a = config["analysis"]
    variance = float((Yt - Yt.mean(0)).pow(2).sum(1).mean())
    corr, mirror = _correlations(teacher, student, Xt)
    align = analyze_alignment(
        corr,
        fanout_norm(student.layers[1]),
        thresholds=sorted({0.5, 0.7, 0.9, a["threshold"], 0.95}),
        threshold=a["threshold"],
        mirror_correlation=mirror,
    )
    evaluate = hidden_mask_evaluator(
        student, student.layers[0], Xt, Yt, loss_fn=_relative_loss(variance)
    )
    n, m = student.widths[1], teacher.hidden_widths[0]
    curve = pruning_curve(
        evaluate,
        align.fanout_norm,
        align.student_best_corr_sign_aware,
        n_removed=np.arange(n + 1),
        n_random=a["n_random"],
        random_state=seed,
    )
    norms = align.fanout_norm
    above = int(np.sum(norms >= a["fanout_threshold"] * norms.max())) if norms.max() > 0 else n
    merged = merged_fanout_norm(
        align.correlation, student.layers[1], a["threshold"], align.mirror_correlation
    )
    unaligned = norms[align.student_best_corr_sign_aware < a["threshold"]]
    metrics = {
        "n_students": n,
        "alignment": align.summary(),
        # the L against merged units: median unaligned fan-out / median merged teacher-unit fan-out
        "fanout_ratio_merged": float(np.median(unaligned) / np.median(merged))
        if unaligned.size and np.median(merged) > 0
        else None,
        "loss_full": float(curve.loss_by_norm[0]),
        "keep_aligned": curve.at(align.n_aligned_sign_aware).summary(),
        "keep_fanout_threshold": curve.at(above).summary(),
        "keep_teacher_width": curve.at(min(m, n)).summary(),
        "uncovered_teacher_strength_ranks": _uncovered_ranks(teacher, align.teacher_best_corr, a),
        "uncovered_sign_aware_strength_ranks": _uncovered_ranks(
            teacher, align.teacher_best_corr_sign_aware, a
        ),
    }
    return align, curve, metrics


def make_study_teacher(tc: dict[str, Any], rng: np.random.Generator) -> TeacherNetwork:
    widths = (tc["width"], tc["n_outputs"])
    if tc["init"] == "codes":
        return make_code_teacher(
            tc["input_dim"],
            widths,
            output_decay=tc["output_decay"],
            bias=tc["bias"],
            random_state=rng,
        )
    return make_teacher(tc["input_dim"], widths, output_decay=tc["output_decay"], random_state=rng)


def _uncovered_ranks(teacher: TeacherNetwork, best: np.ndarray, a: dict[str, Any]) -> list[int]:
    """Strength ranks (1 = largest fan-out) of the teacher units without an aligned student."""
    rank = np.argsort(np.argsort(-teacher.fan_out_norms(0).numpy(), kind="stable")) + 1
    return sorted(int(r) for r in rank[best < a["threshold"]])


def seed_task(config: dict[str, Any], seed: int, pool: Any) -> tuple[TeacherNetwork, tuple, tuple]:
    """Seed ``seed``'s teacher, training set and held-out set (Gaussian, or the pool's rows)."""
    d = config["data"]
    rng = np.random.default_rng(seed)
    teacher = make_study_teacher(config["teacher"], rng)
    if pool is not None:
        return teacher, *pool.draw(teacher, d["n_train"], d["n_test"], random_state=rng)
    train_set = sample_teacher_data(
        teacher, d["n_train"], input_std=d["input_std"], random_state=rng
    )
    test_set = sample_teacher_data(teacher, d["n_test"], input_std=d["input_std"], random_state=rng)
    return teacher, train_set, test_set


# ---- claims, table and figures -----------------------------------------------------------------


def seed_cell(values: np.ndarray) -> str:
    """Mean and interval over the seeds that have a value (a ratio needs both kinds of student)."""
    ok = np.isfinite(values)
    if not ok.any():
        return "none"
    text = seed_summary(values[ok])
    return text if ok.all() else f"{text} ({int(ok.sum())} of {values.size} seeds)"


def marks(record: SeedRecord) -> dict[int, dict[str, tuple[int, str]]]:
    return {
        int(f): {
            "aligned": (v["keep_aligned"]["n_kept"], "-"),
            "fan-out threshold": (v["keep_fanout_threshold"]["n_kept"], "--"),
        }
        for f, v in record.metrics["factors"].items()
    }


def second_factor(config: dict[str, Any]) -> str:
    """The second-largest factor (another defensible setting; the largest if there is one)."""
    factors = sorted(config["student"]["factors"])
    return str(factors[-2] if len(factors) > 1 else factors[-1])


def teacher_width(config: dict[str, Any]) -> int:
    return int(config["teacher"]["width"])


def factor_measure(factor: str | None, key: str, label: str) -> Measure:
    where = f"factors.{factor}" if factor is not None else "untrained"
    return Measure(f"{where}.{key}", f"{label} ({'x' + factor if factor else 'untrained'})")


def loss_increase(factor: str, key: str, label: str) -> Measure:
    def value(m: dict[str, Any]) -> float:
        f = m["factors"][factor]
        node: Any = f
        for part in key.split("."):
            node = node[part]
        return float(node) - float(f["loss_full"])

    return Measure(value, f"relative loss increase, x{factor}, pruned {label}")


def table_rows(config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
    """The study's table: one row per over-realisation factor."""
    m, rows = teacher_width(config), []
    for f in sorted(config["student"]["factors"]):

        def cell(key: str, f: int = f) -> str:
            return seed_cell(per_seed(records, f"factors.{f}.{key}"))

        rows.append(
            {
                "factor": f,
                "students": f * m,
                "covered (sign-aware)": cell("alignment.share_covered_sign_aware"),
                "covered (Pearson)": cell("alignment.share_covered"),
                "aligned (sign-aware)": cell("alignment.n_aligned_sign_aware"),
                "fan-out ratio": cell("alignment.fanout_ratio_sign_aware"),
                "relative test loss": cell("loss_full"),
                "keep n_aligned: norm": cell("keep_aligned.loss_by_norm"),
                "random": cell("keep_aligned.loss_random"),
                f"keep {m}: norm": cell("keep_teacher_width.loss_by_norm"),
                f"keep {m}: random": cell("keep_teacher_width.loss_random"),
            }
        )
    return rows
