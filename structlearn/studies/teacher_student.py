r"""Study: do over-realised students specialise to the teacher's units? (Tian 2019/2020.)

A fixed two-layer ReLU teacher labels Gaussian inputs; students of ``factor`` times the teacher's
width are trained on its outputs on the mean squared error
(:class:`structlearn.objectives.supervised.MeanSquaredError`). Claims, from Y. Tian, "Student
specialization in deep rectified networks with finite width and input dimension" (ICML 2020) and
Tian, Jiang, Gong & Morcos, "Luck matters" (arXiv:1905.13405, 2019):

1. *Specialisation*: with over-realisation every teacher unit gets a student unit whose activation
   is highly correlated with it over inputs (Tian's success threshold: 0.95).
2. *L-shape*: student units not aligned to any teacher unit have small fan-out weight norms
   (Tian's plot: x = best correlation, y = fan-out norm).
3. *Pruning*: the unaligned students can be removed: keeping as many students as are aligned,
   those with the largest fan-out norms, costs little, unlike keeping as many at random.
   Keeping only the teacher's width (several students align with one teacher unit and split its
   fan-out) is a separate, labelled measurement: it tests merging, not pruning.

Setup: the teacher of Tian's reference code (``facebookresearch/luckmatters``,
``student_specialization``: distinct normalised weight codes, biases -0.1, 50 outputs, strength
decay p = 1, inputs N(0, 1.5²)) and its small student initialisation N(0, 0.005²) with zero biases
are the default; the default optimiser is Adam (minutes on a CPU), the ``luckmatters`` preset runs
that code's SGD (lr 0.01 on half the squared error = 0.005 here, batch 16, 100k steps).

Alignment is measured both ways on held-out inputs (:mod:`structlearn.analysis.alignment`):
Pearson correlation with each teacher unit, and sign-aware (the larger of the correlations with
the unit and with its mirror relu(−wᵀx − b), which represents it exactly up to a linear term since
relu(z) = z + relu(−z)). The sign-aware one decides; Pearson is the alternative, and the verdict
row says "estimator-dependent" when they disagree. Losses are relative: mean squared error over
the targets' total variance (1 is predicting the mean).

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
from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.data.teacher import (
    TeacherNetwork,
    make_code_teacher,
    make_teacher,
    sample_teacher_data,
)
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import MeanSquaredError, mean_squared_error
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    interval_below,
    seeds_where,
)
from structlearn.train import TrainConfig, train

PAPER = "Tian 2020 (ICML); Tian, Jiang, Gong & Morcos 2019"

SCHEMA = {
    **seeds_fragment(3),
    "teacher": {
        "init": Field(
            str,
            "codes",
            choices=["codes", "gaussian"],
            doc="codes: Tian's; gaussian: N(0, 1/fan-in)",
        ),
        "input_dim": Field(int, 30, low=1, high=10_000),
        "width": Field(int, 10, low=1, high=1000, doc="hidden units of the two-layer teacher"),
        "n_outputs": Field(int, 50, low=1, high=1000),
        "output_decay": Field(float, 1.0, low=0.0, high=10.0, doc="strength decay exponent p"),
        "bias": Field(float, -0.1, low=-10.0, high=10.0, doc="every bias of a codes teacher"),
    },
    "data": {
        "n_train": Field(int, 10000, low=2, high=10**7),
        "n_test": Field(int, 2000, low=2, high=10**6, doc="held-out inputs for correlations"),
        "input_std": Field(float, 1.5, low=1e-6, high=1e3, doc="inputs ~ N(0, std²)"),
    },
    "student": {
        "factors": Field(
            list, [1, 2, 5, 10], item=int, low=1, high=100, unique=True, doc="over-realisation"
        ),
        "init_std": Field(
            float,
            0.005,
            low=1e-9,
            high=10.0,
            nullable=True,
            doc="N(0, std²) weights, zero biases (Tian: 0.005); null: PyTorch's default",
        ),
    },
    "training": training_fragment(
        optimizer="adam", lr=3e-3, epochs=300, batch_size=256, ensemble=True
    ),
    "analysis": {
        "threshold": Field(float, 0.95, low=0.0, high=1.0, doc="aligned at this correlation"),
        "n_random": Field(int, 5, low=1, high=1000, doc="random pruning orders averaged"),
        "l_ratio": Field(float, 0.1, low=0.0, high=10.0, doc="L-shape: unaligned/aligned fan-out"),
        "fanout_threshold": Field(
            float, 0.1, low=0.0, high=1.0, doc="prune students below this x the largest fan-out"
        ),
        "prune_tolerance": Field(
            float, 0.05, low=0.0, high=10.0, doc="relative loss counted as 'little'"
        ),
        "fit_tolerance": Field(
            float, 0.05, low=0.0, high=10.0, doc="premise: the widest student's relative loss"
        ),
    },
}


# ---- one seed ----------------------------------------------------------------------------------


def _student(config: dict[str, Any], width: int, seed: int) -> MLP:
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


def _train_students(
    config: dict[str, Any], width: int, seeds: list[int], train_sets: list[tuple]
) -> list[tuple[MLP, float]]:
    """Students of ``width`` for each seed (trained on that seed's data): (net, final train MSE)."""
    nets = [_student(config, width, s) for s in seeds]
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


def _teacher(tc: dict[str, Any], rng: np.random.Generator) -> TeacherNetwork:
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


class TeacherStudent(Study):
    """Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)."""

    name = "teacher_student"
    summary = "Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> None:
        if not config["student"]["factors"]:
            raise ConfigError("student.factors: expected at least one factor, got []")

    batch_seeds = True  # the runner passes every unfinished seed: students trained together

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        return self.measure_seeds(config, [seed], shared)[0]

    def measure_seeds(self, config: dict[str, Any], seeds, shared: Any) -> list[SeedResult]:
        tasks = [self._task(config, s) for s in seeds]
        factors: list[dict[str, Any]] = [{} for _ in seeds]
        artefacts: list[dict[int, tuple]] = [{} for _ in seeds]
        width = _width(config)
        for f in sorted(config["student"]["factors"]):
            trained = _train_students(config, f * width, list(seeds), [t[1] for t in tasks])
            for i, (s, (teacher, _, test), (student, mse)) in enumerate(
                zip(seeds, tasks, trained, strict=True)
            ):
                align, curve, m = measure_student(teacher, student, test, config, s)
                factors[i][str(f)] = {**m, "train_mse": mse}
                artefacts[i][f] = (align.student_best_corr_sign_aware, align.fanout_norm, curve)
        out = []
        for i, (s, (teacher, _, test)) in enumerate(zip(seeds, tasks, strict=True)):
            untrained = _student(config, max(config["student"]["factors"]) * width, s).eval()
            _, _, control = measure_student(teacher, untrained, test, config, s)
            out.append(SeedResult({"factors": factors[i], "untrained": control}, artefacts[i]))
        return out

    @staticmethod
    def _task(config: dict[str, Any], seed: int) -> tuple[TeacherNetwork, tuple, tuple]:
        """Seed ``seed``'s teacher, training set and held-out set."""
        d = config["data"]
        rng = np.random.default_rng(seed)
        teacher = _teacher(config["teacher"], rng)
        train_set = sample_teacher_data(
            teacher, d["n_train"], input_std=d["input_std"], random_state=rng
        )
        test_set = sample_teacher_data(
            teacher, d["n_test"], input_std=d["input_std"], random_state=rng
        )
        return teacher, train_set, test_set

    # ---- claims ------------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a, big = config["analysis"], str(max(config["student"]["factors"]))
        thr = a["threshold"]
        fitted = Premise(
            f"the widest student (x{big}) has fitted: relative test loss < {a['fit_tolerance']:g}",
            Measure(f"factors.{big}.loss_full", f"x{big} relative test loss"),
            all_below(a["fit_tolerance"]),
        )
        cover = seeds_where(lambda v: v >= 1.0, "cover every teacher unit")
        out = [
            Claim(
                text=f"with over-realisation (x{big}) every teacher unit gets a student at "
                f"correlation >= {thr:g} (sign-aware: a mirrored student counts)",
                paper=PAPER,
                measurement=_m(big, "alignment.share_covered_sign_aware", "covered, sign-aware"),
                rule=cover,
                premise=fitted,
                alternatives=[
                    Alternative(_m(big, "alignment.share_covered", "covered, Pearson")),
                    Alternative(_m(_second(config), "alignment.share_covered_sign_aware", "")),
                ],
                controls=[
                    Control(
                        "untrained student",
                        _m(None, "alignment.share_covered_sign_aware", "covered, sign-aware"),
                    )
                ],
            ),
            Claim(
                text=f"students not aligned to a teacher unit have small fan-out norms (x{big}: "
                f"median unaligned / aligned < {a['l_ratio']:g}, sign-aware alignment)",
                paper=PAPER,
                measurement=_m(big, "alignment.fanout_ratio_sign_aware", "fan-out ratio"),
                rule=interval_below(a["l_ratio"]),
                premise=Premise(
                    f"x{big} has both aligned and unaligned students (sign-aware)",
                    _m(big, "alignment.n_aligned_sign_aware", "aligned students"),
                    seeds_where(lambda v: (v > 0) & (v < int(big) * _width(config)), "mix both"),
                ),
                alternatives=[
                    Alternative(_m(big, "alignment.fanout_ratio", "fan-out ratio, Pearson")),
                    Alternative(_m(big, "fanout_ratio_merged", "ratio to merged teacher units")),
                    Alternative(_m(_second(config), "alignment.fanout_ratio_sign_aware", "ratio")),
                ],
                controls=[
                    Control("untrained student", _m(None, "alignment.fanout_ratio_sign_aware", ""))
                ],
            ),
        ]
        if int(big) > 1:
            out += self._pruning_claims(config, big, fitted)
        return out

    def _pruning_claims(self, config, big: str, fitted: Premise) -> list[Claim]:
        a, m = config["analysis"], _width(config)
        tol, fit = a["prune_tolerance"], a["fit_tolerance"]

        def prunable(s: dict[str, Any]) -> float:
            f = s["factors"][big]
            left = f["alignment"]["n_aligned_sign_aware"] < f["n_students"]
            return float(left and f["loss_full"] < fit)

        unaligned = Premise(
            f"x{big} has fitted (relative loss < {fit:g}) and has unaligned students to prune",
            Measure(prunable, f"x{big} fitted and n_aligned < n_students (1 = yes)"),
            all_above(0.5),
        )
        return [
            Claim(
                text=f"the unaligned students of x{big} can be pruned: keeping as many as are "
                f"aligned (sign-aware), those with the largest fan-out norms, costs < +{tol:g} "
                "relative loss, unlike keeping as many at random",
                paper=PAPER,
                measurement=_increase(big, "keep_aligned.loss_by_norm", "to n_aligned by norm"),
                rule=all_below(tol),
                premise=unaligned,
                alternatives=[
                    Alternative(
                        _increase(
                            big,
                            "keep_fanout_threshold.loss_by_norm",
                            f"below {a['fanout_threshold']:g} x the largest fan-out",
                        )
                    ),
                    Alternative(
                        _increase(big, "keep_aligned.loss_by_corr", "to n_aligned by corr")
                    ),
                ],
                controls=[
                    Control(
                        "random pruning", _increase(big, "keep_aligned.loss_random", "at random")
                    )
                ],
            ),
            Claim(
                text=f"[separate measurement, not Tian's claim] keeping only the teacher's width "
                f"({m}) of x{big}'s students by fan-out norm costs < +{tol:g} relative loss",
                paper="structlearn's earlier criterion (several students split one teacher unit)",
                measurement=_increase(big, "keep_teacher_width.loss_by_norm", f"to {m} by norm"),
                rule=all_below(tol),
                premise=fitted,
                alternatives=[
                    Alternative(
                        _increase(big, "keep_teacher_width.loss_by_corr", f"to {m} by corr")
                    )
                ],
                controls=[
                    Control(
                        "random pruning",
                        _increase(big, "keep_teacher_width.loss_random", f"to {m} at random"),
                    )
                ],
            ),
        ]

    # ---- table and figures -------------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        m, rows = _width(config), []
        for f in sorted(config["student"]["factors"]):

            def cell(key: str, f: int = f) -> str:
                return _cell(per_seed(records, f"factors.{f}.{key}"))

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

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._teacher_student_plots import l_shape, pruning, specialisation

        thr, m, first = config["analysis"]["threshold"], _width(config), records[0]
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
                pruning(first.artefacts, m, _marks(first)),
                "Relative test loss (MSE / target variance) against students kept: smallest "
                "fan-out norm removed first, random order (mean of orders), least correlated "
                "(sign-aware) first; black dotted: the teacher's width; green: the number of "
                f"aligned students (solid) and of students above the fan-out threshold (dashed). "
                f"Seed {first.seed}.",
            )
        return figs


def _cell(values: np.ndarray) -> str:
    """Mean and interval over the seeds that have a value (a ratio needs both kinds of student)."""
    ok = np.isfinite(values)
    if not ok.any():
        return "none"
    text = seed_summary(values[ok])
    return text if ok.all() else f"{text} ({int(ok.sum())} of {values.size} seeds)"


def _marks(record: SeedRecord) -> dict[int, dict[str, tuple[int, str]]]:
    return {
        int(f): {
            "aligned": (v["keep_aligned"]["n_kept"], "-"),
            "fan-out threshold": (v["keep_fanout_threshold"]["n_kept"], "--"),
        }
        for f, v in record.metrics["factors"].items()
    }


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
