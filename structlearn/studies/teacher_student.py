r"""Study: do over-realised students specialise to the teacher's units? (Tian 2019/2020.)

A fixed two-layer ReLU teacher (:mod:`structlearn.data.teacher`, fan-out strength decay
:math:`(k+1)^{-p}`) labels Gaussian inputs; students of ``factor`` times the teacher's width are
trained on its outputs on the mean squared error
(:class:`structlearn.objectives.supervised.MeanSquaredError`). Claims, from Y. Tian, "Student
specialization in deep rectified networks with finite width and input dimension" (ICML 2020) and
Tian, Jiang, Gong & Morcos, "Luck matters" (arXiv:1905.13405, 2019):

1. *Specialisation*: with over-realisation every teacher unit gets a student unit whose activation
   is highly correlated with it over inputs.
2. *L-shape*: student units not aligned to any teacher unit have small fan-out weight norms.
3. *Pruning*: removing the students with the smallest fan-out norms costs little loss until the
   number kept reaches the teacher's width, unlike random removal.

Measured with :mod:`structlearn.analysis.alignment` on held-out inputs. Losses are relative: mean
squared error over the targets' total variance, so 1 is predicting the mean.
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
    pruning_curve,
)
from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.data.teacher import TeacherNetwork, make_teacher, sample_teacher_data
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import MeanSquaredError, mean_squared_error
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_below,
    interval_below,
    seeds_where,
)
from structlearn.train import TrainConfig, train

PAPER = "Tian 2020 (ICML); Tian, Jiang, Gong & Morcos 2019"

SCHEMA = {
    **seeds_fragment(3),
    "teacher": {
        "input_dim": Field(int, 20, low=1, high=10_000),
        "width": Field(int, 10, low=1, high=1000, doc="hidden units of the two-layer teacher"),
        "n_outputs": Field(int, 2, low=1, high=1000),
        "output_decay": Field(float, 1.0, low=0.0, high=10.0, doc="strength decay exponent p"),
    },
    "data": {
        "n_train": Field(int, 5000, low=2, high=10**7),
        "n_test": Field(int, 2000, low=2, high=10**6, doc="held-out inputs for correlations"),
    },
    "student": {
        "factors": Field(
            list, [1, 2, 5, 10], item=int, low=1, high=100, unique=True, doc="over-realisation"
        ),
    },
    "training": training_fragment(optimizer="adam", lr=3e-3, epochs=300, batch_size=256),
    "analysis": {
        "threshold": Field(float, 0.9, low=0.0, high=1.0, doc="aligned at this correlation"),
        "n_random": Field(int, 5, low=1, high=1000, doc="random pruning orders averaged"),
        "l_ratio": Field(float, 0.1, low=0.0, high=10.0, doc="L-shape: unaligned/aligned fan-out"),
        "prune_tolerance": Field(
            float, 0.05, low=0.0, high=10.0, doc="relative loss counted as 'little'"
        ),
        "fit_tolerance": Field(
            float, 0.05, low=0.0, high=10.0, doc="premise: the widest student's relative loss"
        ),
    },
}


# ---- one seed ----------------------------------------------------------------------------------


def _train_student(X, Y, width: int, config: dict[str, Any], seed: int) -> tuple[MLP, float]:
    net = MLP([X.shape[1], width, Y.shape[1]], "relu", random_state=seed)
    section = dict(config["training"])
    section["batch_size"] = min(section["batch_size"] or len(X), len(X))
    tc = TrainConfig.from_section(
        section,
        seed=seed,
        record_epochs="none",
        record_gradients=False,
        store_activations=False,
    )
    result = train(net, MeanSquaredError(), (X, Y), config=tc)
    return net.eval(), float(result.final_metrics["train_mse"])


def _correlations(teacher: TeacherNetwork, student: MLP, X: torch.Tensor) -> StreamingCorrelation:
    acc = StreamingCorrelation()
    with torch.no_grad():
        for batch in torch.split(X, 512):
            acc.update(teacher.hidden_activations(batch)[0], student(batch)[0])
    return acc


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
    align = analyze_alignment(
        _correlations(teacher, student, Xt),
        fanout_norm(student.layers[1]),
        thresholds=sorted({0.5, 0.7, a["threshold"], 0.95}),
        threshold=a["threshold"],
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
    metrics = {
        "n_students": n,
        "alignment": align.summary(),
        "loss_full": float(curve.loss_by_norm[0]),
        "keep_teacher_width": curve.at(min(m, n)).summary(),
        "uncovered_teacher_strength_ranks": _uncovered_ranks(teacher, align.teacher_best_corr, a),
    }
    return align, curve, metrics


def _uncovered_ranks(teacher: TeacherNetwork, best: np.ndarray, a: dict[str, Any]) -> list[int]:
    """Strength ranks (1 = largest fan-out) of the teacher units without an aligned student."""
    rank = np.argsort(np.argsort(-teacher.fan_out_norms(0).numpy(), kind="stable")) + 1
    return sorted(int(r) for r in rank[best < a["threshold"]])


class TeacherStudent(Study):
    """Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)."""

    name = "teacher_student"
    summary = "Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> None:
        if not config["student"]["factors"]:
            raise ConfigError("student.factors: expected at least one factor, got []")

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        tc, d = config["teacher"], config["data"]
        rng = np.random.default_rng(seed)
        teacher = make_teacher(
            tc["input_dim"],
            (tc["width"], tc["n_outputs"]),
            output_decay=tc["output_decay"],
            random_state=rng,
        )
        train_set = sample_teacher_data(teacher, d["n_train"], random_state=rng)
        test_set = sample_teacher_data(teacher, d["n_test"], random_state=rng)
        factors, artefacts = {}, {}
        for f in sorted(config["student"]["factors"]):
            student, train_mse = _train_student(*train_set, f * tc["width"], config, seed)
            align, curve, m = measure_student(teacher, student, test_set, config, seed)
            factors[str(f)] = {**m, "train_mse": train_mse}
            artefacts[f] = (align.student_best_corr, align.fanout_norm, curve)
        big = max(config["student"]["factors"]) * tc["width"]
        untrained = MLP([tc["input_dim"], big, tc["n_outputs"]], "relu", random_state=seed).eval()
        _, _, control = measure_student(teacher, untrained, test_set, config, seed)
        return SeedResult({"factors": factors, "untrained": control}, artefacts)

    # ---- claims ------------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a, big = config["analysis"], str(max(config["student"]["factors"]))
        thr, tol = a["threshold"], a["prune_tolerance"]
        fitted = Premise(
            f"the widest student (x{big}) has fitted: relative test loss < {a['fit_tolerance']:g}",
            Measure(f"factors.{big}.loss_full", f"x{big} relative test loss"),
            all_below(a["fit_tolerance"]),
        )
        out = [
            Claim(
                text=f"with over-realisation (x{big}) every teacher unit gets a student at "
                f"correlation >= {thr:g}",
                paper=PAPER,
                measurement=_m(big, "alignment.share_covered", "share of teacher units covered"),
                rule=seeds_where(lambda v: v >= 1.0, "cover every teacher unit"),
                premise=fitted,
                alternatives=[
                    Alternative(
                        _m(big, "alignment.mean_teacher_best_corr", "mean best correlation"),
                        seeds_where(lambda v: v >= thr, f"have mean best correlation >= {thr:g}"),
                    )
                ],
                controls=[Control("untrained student", _m(None, "alignment.share_covered", ""))],
            ),
            Claim(
                text=f"students not aligned to a teacher unit have small fan-out norms (x{big}: "
                f"median unaligned / aligned < {a['l_ratio']:g})",
                paper=PAPER,
                measurement=_m(big, "alignment.fanout_ratio", "fan-out ratio"),
                rule=interval_below(a["l_ratio"]),
                premise=Premise(
                    f"x{big} has both aligned and unaligned students",
                    _m(big, "alignment.n_aligned", "aligned students"),
                    seeds_where(lambda v: (v > 0) & (v < int(big) * _width(config)), "mix both"),
                ),
                alternatives=[Alternative(_m(_second(config), "alignment.fanout_ratio", "ratio"))],
                controls=[Control("untrained student", _m(None, "alignment.fanout_ratio", ""))],
            ),
        ]
        if int(big) > 1:
            out.append(self._pruning_claim(config, big, tol, fitted))
        return out

    def _pruning_claim(self, config, big: str, tol: float, fitted: Premise) -> Claim:
        m = _width(config)
        return Claim(
            text=f"keeping the {m} students with the largest fan-out norms (the teacher's width) "
            f"of x{big} costs little (< +{tol:g} relative loss), unlike random removal",
            paper=PAPER,
            measurement=_increase(big, "keep_teacher_width.loss_by_norm", "by fan-out norm"),
            rule=all_below(tol),
            premise=fitted,
            alternatives=[
                Alternative(_increase(big, "keep_teacher_width.loss_by_corr", "by correlation"))
            ],
            controls=[
                Control(
                    "random removal", _increase(big, "keep_teacher_width.loss_random", "random")
                )
            ],
        )

    # ---- table and figures -------------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        m, rows = _width(config), []
        for f in sorted(config["student"]["factors"]):

            def cell(key: str, f: int = f) -> str:
                return seed_summary(per_seed(records, f"factors.{f}.{key}"))

            rows.append(
                {
                    "factor": f,
                    "students": f * m,
                    "teacher units covered": cell("alignment.share_covered"),
                    "aligned students": cell("alignment.n_aligned"),
                    "relative test loss": cell("loss_full"),
                    f"keep {m} by norm": cell("keep_teacher_width.loss_by_norm"),
                    f"keep {m} at random": cell("keep_teacher_width.loss_random"),
                }
            )
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._teacher_student_plots import l_shape, pruning, specialisation

        thr, m, first = config["analysis"]["threshold"], _width(config), records[0]
        factors = sorted(config["student"]["factors"])
        figs = {
            "l_shape": (
                l_shape(first.artefacts, thr),
                f"Each student's fan-out weight norm against its best correlation with a teacher "
                f"unit on held-out inputs (Tian's axes), one panel per factor; seed {first.seed}.",
            ),
            "specialisation": (
                specialisation(records, factors, thr),
                f"Share of teacher units with a student at correlation >= {thr:g}, per factor; "
                "thin lines: seeds.",
            ),
        }
        if any(f > 1 for f in factors):
            figs["pruning"] = (
                pruning(first.artefacts, m),
                "Relative test loss (MSE / target variance) as students are removed: smallest "
                "fan-out norm first, random order (mean of orders), least correlated first; "
                f"dotted: the teacher's width. Seed {first.seed}.",
            )
        return figs


def _second(config: dict[str, Any]) -> str:
    """The second-largest factor (another defensible setting; the largest if there is one)."""
    factors = sorted(config["student"]["factors"])
    return str(factors[-2] if len(factors) > 1 else factors[-1])


def _width(config: dict[str, Any]) -> int:
    return int(config["teacher"]["width"])


def _m(factor: str | None, key: str, label: str) -> Measure:
    where = f"factors.{factor}" if factor is not None else "untrained"
    return Measure(f"{where}.{key}", f"{label} ({'x' + factor if factor else 'untrained'})")


def _increase(factor: str, key: str, label: str) -> Measure:
    def value(m: dict[str, Any]) -> float:
        f = m["factors"][factor]
        node: Any = f
        for part in key.split("."):
            node = node[part]
        return float(node) - float(f["loss_full"])

    return Measure(value, f"relative loss increase, x{factor}, pruned {label}")


STUDY = TeacherStudent()
