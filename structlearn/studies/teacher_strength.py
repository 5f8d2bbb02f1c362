"""Study: are stronger teacher units learned faster, and do they attract more students?

Claim (Tian, Jiang, Gong & Morcos 2019, "Luck matters"; Tian 2020): teacher nodes with a larger
fan-out (output weight) are learned faster and are covered by more student nodes; weak ones are
learned slowly, if at all. Per seed: a two-layer ReLU teacher whose hidden unit k has its fan-out
scaled by (k + 1)^-p (:func:`structlearn.data.teacher.make_teacher`, ``output_decay`` p) labels
Gaussian inputs; an over-realised student is trained on the mean squared error while its hidden
layer is recorded at log-spaced epochs on held-out inputs. Per teacher unit: its strength (the norm
of its fan-out), the first recorded epoch at which some student correlates with it at or above
``align_threshold`` (sign-aware: a student matching the mirrored unit relu(−wᵀx − b) counts, see
:mod:`structlearn.analysis.alignment`; units never aligned count as the last epoch + 1), and the
number of students aligned to it at the end. Decided by Spearman rank correlations over the units
of each seed.

Data (``data.source``): ``teacher`` (Gaussian inputs, the default) or a researcher's inputs
labelled by the same teacher (npz, csv, digits, mnist5k, mnist, cifar10; an extension).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import stats

from structlearn.analysis.alignment import unit_correlation
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.teacher import make_teacher
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import relative_squared_error
from structlearn.studies._teacher import (
    PAPERS,
    data_section,
    fitted_premise,
    load_inputs,
    teacher_fields,
    teacher_sets,
    train_student,
)
from structlearn.studies.base import SeedRecord, SeedResult, Study, quantity_rows
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    interval_above,
    interval_below,
)

SCHEMA = {
    **seeds_fragment(3),
    "teacher": teacher_fields(
        output_decay=Field(float, 1.0, low=0.0, high=10.0, doc="strength decay exponent p")
    ),
    "data": data_section(
        n_train=Field(int, 5000, low=10, high=10**7),
        n_test=Field(int, 2000, low=10, high=10**6),
    ),
    "student_factor": Field(int, 5, low=1, high=100, doc="student width / teacher width"),
    "training": training_fragment(
        optimizer="adam", lr=3e-3, epochs=300, batch_size=256, n_records=40
    ),
    "analysis": {
        "align_threshold": Field(float, 0.95, low=0.0, high=1.0, doc="aligned at this correlation"),
        "alternative_threshold": Field(float, 0.9, low=0.0, high=1.0),
        "fit_tolerance": Field(float, 0.05, low=0.0, high=10.0, doc="premise: relative loss"),
    },
}


def _rho(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation, or None when either side is constant (no ranking)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(stats.spearmanr(a, b).statistic)


def time_to_alignment(best: np.ndarray, epochs: np.ndarray, threshold: float) -> np.ndarray:
    """First recorded epoch at which each teacher unit's best correlation reaches ``threshold``.

    ``best`` (n_records, n_teacher), ``epochs`` (n_records,); never -> ``epochs[-1] + 1``.

    >>> time_to_alignment(np.array([[0.1, 0.99], [0.96, 0.99]]), np.array([0, 10]), 0.95).tolist()
    [10.0, 0.0]
    """
    hit = best >= threshold
    first = np.where(hit.any(0), epochs[np.argmax(hit, axis=0)], epochs[-1] + 1)
    return first.astype(np.float64)


def aligned_students(corr: np.ndarray, threshold: float) -> np.ndarray:
    """Students per teacher unit: those whose best teacher unit it is, at ``threshold`` or above.

    ``corr`` (n_teacher, n_student) sign-aware correlations; returns (n_teacher,) float counts.

    >>> aligned_students(np.array([[0.99, 0.95, 0.2], [0.1, 0.97, 0.91]]), 0.9).tolist()
    [1.0, 2.0]
    """
    owner = corr.argmax(axis=0)
    ok = corr.max(axis=0) >= threshold
    return np.array([np.sum((owner == k) & ok) for k in range(len(corr))], dtype=np.float64)


def _best_sign_aware(teacher_pre: np.ndarray, student: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per teacher unit the best |match| over students and each student's best correlation."""
    corr = unit_correlation(np.maximum(teacher_pre, 0), student)
    mirror = unit_correlation(np.maximum(-teacher_pre, 0), student)
    both = np.maximum(corr, mirror)
    return both.max(axis=1), both


class TeacherStrength(Study):
    """Strength of a teacher unit against how fast, and by how many students, it is learned."""

    name = "teacher_strength"
    summary = "Are stronger teacher units learned faster and by more students (Tian)?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        return load_inputs(config, self.name)[0]  # None: Gaussian inputs, drawn per seed

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": load_inputs(config, self.name)[1]}

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        t, a = config["teacher"], config["analysis"]
        teacher = make_teacher(
            t["input_dim"], (t["width"], t["n_outputs"]), output_decay=t["output_decay"],
            random_state=seed,
        )  # fmt: skip
        d = config["data"]
        (X, Y), (Xt, Yt) = teacher_sets(shared, teacher, d["n_train"], d["n_test"], seed)
        width = config["student_factor"] * t["width"]
        student = MLP([t["input_dim"], width, t["n_outputs"]], "relu", random_state=seed)
        rec = train_student(
            student, (X, Y), config["training"], seed, eval_data=(Xt, Yt),
            record_epochs="log", store_activations=True, activation_dtype="float32",
        ).recordings  # fmt: skip
        with torch.no_grad():
            pre = teacher.layers[0](Xt).double().numpy()
        best = np.stack([_best_sign_aware(pre, rec.at(0, e))[0] for e in rec.epochs])
        _, final = _best_sign_aware(pre, rec.at(0, int(rec.epochs[-1])))
        strength = teacher.fan_out_weights(0).norm(dim=1).double().numpy()
        t_align = time_to_alignment(best, rec.epochs, a["align_threshold"])
        t_alt = time_to_alignment(best, rec.epochs, a["alternative_threshold"])
        counts = aligned_students(final, a["alternative_threshold"])
        counts_strict = aligned_students(final, a["align_threshold"])
        shuffled = np.random.default_rng(seed).permutation(strength)
        with torch.no_grad():
            rel = relative_squared_error(student(Xt)[-1], Yt)
        metrics = {
            "relative_loss": rel,
            "rho_strength_time": _rho(strength, t_align),
            "rho_strength_time_alternative": _rho(strength, t_alt),
            "rho_shuffled_strength_time": _rho(shuffled, t_align),
            "rho_strength_count": _rho(strength, counts),
            "rho_strength_count_alternative": _rho(strength, counts_strict),
            "rho_shuffled_strength_count": _rho(shuffled, counts),
            "share_aligned_at_end": float(np.mean(best[-1] >= a["align_threshold"])),
            "units": {"strength": strength, "time_to_alignment": t_align, "n_students": counts},
        }
        return SeedResult(metrics, {"epochs": rec.epochs, "best": best, "strength": strength})

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        paper, fitted = PAPERS, fitted_premise(a["fit_tolerance"])
        return [
            Claim(
                text="stronger teacher units are learned faster (Spearman ρ of fan-out strength "
                f"and epochs to a student correlation of {a['align_threshold']:g} below 0)",
                paper=paper,
                measurement=Measure("rho_strength_time", "ρ(strength, epochs to alignment)"),
                rule=interval_below(0.0),
                premise=fitted,
                alternatives=[
                    Alternative(
                        Measure(
                            "rho_strength_time_alternative",
                            f"ρ with alignment at {a['alternative_threshold']:g}",
                        )
                    )
                ],
                controls=[
                    Control(
                        "strengths shuffled over the units",
                        Measure("rho_shuffled_strength_time", "ρ(shuffled strength, epochs)"),
                    )
                ],
            ),
            Claim(
                text="stronger teacher units attract more students (Spearman ρ of strength and "
                f"the number of students aligned to the unit at {a['alternative_threshold']:g} "
                "above 0)",
                paper=paper,
                measurement=Measure("rho_strength_count", "ρ(strength, aligned students)"),
                rule=interval_above(0.0),
                premise=fitted,
                alternatives=[
                    Alternative(
                        Measure(
                            "rho_strength_count_alternative",
                            f"ρ with students counted at {a['align_threshold']:g}",
                        )
                    )
                ],
                controls=[
                    Control(
                        "strengths shuffled over the units",
                        Measure("rho_shuffled_strength_count", "ρ(shuffled strength, count)"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        return quantity_rows(
            records,
            [
                ("relative_loss", "held-out relative loss"),
                ("share_aligned_at_end", "share of teacher units aligned at the end"),
                ("rho_strength_time", "ρ(strength, epochs to alignment)"),
                ("rho_strength_count", "ρ(strength, aligned students)"),
                ("rho_shuffled_strength_time", "control: ρ(shuffled strength, epochs)"),
            ],
        )

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.9), constrained_layout=True)
        art = records[0].artefacts
        order = np.argsort(-art["strength"])
        cmap = plt.get_cmap("viridis")
        for rank, k in enumerate(order):
            axes[0].plot(
                np.maximum(art["epochs"], 0.5), art["best"][:, k], color=cmap(rank / len(order))
            )
        axes[0].axhline(config["analysis"]["align_threshold"], color="k", ls=":", lw=1)
        axes[0].set(
            xscale="log",
            xlabel="epoch",
            ylabel="best student correlation (sign-aware)",
            title=f"seed {records[0].seed}: strongest (dark) to weakest (yellow)",
        )
        for r in records:
            u = r.metrics["units"]
            axes[1].scatter(u["strength"], u["time_to_alignment"], s=14)
        axes[1].set(
            xscale="log",
            yscale="log",
            xlabel="teacher unit strength (fan-out norm)",
            ylabel="epochs to alignment",
        )
        caption = (
            "Left: each teacher unit's best sign-aware student correlation over training; right: "
            "epochs to alignment against the unit's fan-out strength, all seeds (units never "
            "aligned sit at the last epoch + 1)."
        )
        return {"strength_and_learning": (fig, caption)}


STUDY = TeacherStrength()
