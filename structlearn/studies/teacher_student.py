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

Data (``data.source``): ``teacher`` (default) or a file's inputs labelled by the teacher.
"""

from __future__ import annotations

from typing import Any

from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.studies._teacher import data_section, load_inputs
from structlearn.studies._teacher_student_measure import factor_measure as _m
from structlearn.studies._teacher_student_measure import loss_increase as _increase
from structlearn.studies._teacher_student_measure import (
    make_student,
    measure_student,
    second_factor,
    seed_task,
    table_rows,
    teacher_width,
    train_students,
)
from structlearn.studies.base import SeedRecord, SeedResult, Study
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
    "data": data_section(
        n_train=Field(int, 10000, low=2, high=10**7),
        n_test=Field(int, 2000, low=2, high=10**6, doc="held-out inputs for correlations"),
        input_std=Field(
            float, 1.5, low=1e-6, high=1e3, doc="inputs ~ N(0, std²); a file's: per-feature std"
        ),
    ),
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


class TeacherStudent(Study):
    """Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)."""

    name = "teacher_student"
    summary = "Student specialisation, the L-shaped plot and pruning by fan-out norm (Tian 2020)"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        if not config["student"]["factors"]:
            raise ConfigError("student.factors: expected at least one factor, got []")
        return load_inputs(config, self.name, config["data"]["input_std"])[0]

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": load_inputs(config, self.name, config["data"]["input_std"])[1]}

    batch_seeds = True  # the runner passes every unfinished seed: students trained together

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        return self.measure_seeds(config, [seed], shared)[0]

    def measure_seeds(self, config: dict[str, Any], seeds, shared: Any) -> list[SeedResult]:
        tasks = [seed_task(config, s, shared) for s in seeds]
        factors: list[dict[str, Any]] = [{} for _ in seeds]
        artefacts: list[dict[int, tuple]] = [{} for _ in seeds]
        width = teacher_width(config)
        for f in sorted(config["student"]["factors"]):
            trained = train_students(config, f * width, list(seeds), [t[1] for t in tasks])
            for i, (s, (teacher, _, test), (student, mse)) in enumerate(
                zip(seeds, tasks, trained, strict=True)
            ):
                align, curve, m = measure_student(teacher, student, test, config, s)
                factors[i][str(f)] = {**m, "train_mse": mse}
                artefacts[i][f] = (align.student_best_corr_sign_aware, align.fanout_norm, curve)
        out = []
        for i, (s, (teacher, _, test)) in enumerate(zip(seeds, tasks, strict=True)):
            untrained = make_student(config, max(config["student"]["factors"]) * width, s).eval()
            _, _, control = measure_student(teacher, untrained, test, config, s)
            out.append(SeedResult({"factors": factors[i], "untrained": control}, artefacts[i]))
        return out

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
                    Alternative(
                        _m(second_factor(config), "alignment.share_covered_sign_aware", "")
                    ),
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
                    seeds_where(
                        lambda v: (v > 0) & (v < int(big) * teacher_width(config)), "mix both"
                    ),
                ),
                alternatives=[
                    Alternative(_m(big, "alignment.fanout_ratio", "fan-out ratio, Pearson")),
                    Alternative(_m(big, "fanout_ratio_merged", "ratio to merged teacher units")),
                    Alternative(
                        _m(second_factor(config), "alignment.fanout_ratio_sign_aware", "ratio")
                    ),
                ],
                controls=[
                    Control(
                        "untrained student",
                        _m(None, "alignment.fanout_ratio_sign_aware", ""),
                    )
                ],
            ),
        ]
        if int(big) > 1:
            out += self._pruning_claims(config, big, fitted)
        return out

    def _pruning_claims(self, config, big: str, fitted: Premise) -> list[Claim]:
        a, m = config["analysis"], teacher_width(config)
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
                        "random pruning",
                        _increase(big, "keep_aligned.loss_random", "at random"),
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
        return table_rows(config, records)

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._teacher_student_plots import figures

        return figures(config, records)


STUDY = TeacherStudent()
