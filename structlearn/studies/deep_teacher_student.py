"""Study: does student specialisation hold layer by layer in deep teacher–student networks?

Claim (Tian, Jiang, Gong & Morcos 2019, "Luck matters"; Tian 2020): specialisation and the L-shape
"hold for multi-layer networks": every hidden layer of an over-realised student grows units aligned
to the teacher's units of the same depth; the reference code's README reports a correlation of about
0.999 at the lowest layer and about 0.95 at the second, i.e. alignment degrades with depth. Per seed:
a ReLU teacher with ``teacher.hidden`` hidden layers (:func:`structlearn.data.teacher.make_teacher`)
labels Gaussian inputs; a student with ``factor`` times the teacher's width in every layer is
trained on the mean squared error. Per layer, on held-out inputs: each teacher unit's best
correlation with a student unit of the same depth, sign-aware (a student matching the mirrored unit
relu(−z) represents relu(z) up to a linear term, see :mod:`structlearn.analysis.alignment`), and
the share of teacher units covered at ``threshold``. Control: the same student untrained.

Data (``data.source``): ``teacher`` (Gaussian inputs, the default) or a researcher's inputs
labelled by the same teacher (npz, csv, digits, mnist5k, mnist, cifar10; an extension).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from structlearn.analysis.alignment import unit_correlation
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.teacher import TeacherNetwork, make_teacher
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
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    interval_above,
)

SCHEMA = {
    **seeds_fragment(3),
    "teacher": {
        k: v
        for k, v in teacher_fields(
            hidden=Field(list, [10, 10], item=int, low=1, high=1000, doc="hidden widths")
        ).items()
        if k != "width"
    },
    "data": data_section(
        n_train=Field(int, 10000, low=10, high=10**7),
        n_test=Field(int, 2000, low=10, high=10**6),
    ),
    "student_factor": Field(
        int, 5, low=1, high=100, doc="student width / teacher width, per layer"
    ),
    "training": training_fragment(optimizer="adam", lr=3e-3, epochs=300, batch_size=256),
    "analysis": {
        "threshold": Field(float, 0.9, low=0.0, high=1.0, doc="covered at this correlation"),
        "aligned_above": Field(float, 0.95, low=0.0, high=1.0, doc="claim 1: mean best corr above"),
        "fit_tolerance": Field(float, 0.05, low=0.0, high=10.0, doc="premise: relative loss"),
    },
}


def teacher_pre_activations(teacher: TeacherNetwork, x: torch.Tensor) -> list[np.ndarray]:
    """Pre-activations z of every hidden layer of ``teacher`` (its units are relu(z))."""
    out, h = [], x
    with torch.no_grad():
        for layer in teacher.layers[:-1]:
            z = layer(h)
            out.append(z.double().numpy())
            h = torch.relu(z)
    return out


def layer_alignment(pre: np.ndarray, student: np.ndarray, threshold: float) -> dict[str, float]:
    """Best correlation of every teacher unit (plain and sign-aware) and the share covered.

    Dead (constant) student units correlate 0 with everything; they are counted in
    ``dead_students`` instead of warned about.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*constant over the inputs")
        plain = unit_correlation(np.maximum(pre, 0), student)
        mirror = unit_correlation(np.maximum(-pre, 0), student)
    best_plain = plain.max(axis=1)
    best = np.maximum(plain, mirror).max(axis=1)
    return {
        "mean_best_corr": float(best.mean()),
        "mean_best_corr_plain": float(best_plain.mean()),
        "share_covered": float(np.mean(best >= threshold)),
        "min_best_corr": float(best.min()),
        "dead_students": int(np.sum(np.ptp(student, axis=0) == 0)),
    }


def _alignments(teacher, student: MLP, Xt: torch.Tensor, thr: float) -> dict[str, Any]:
    pre = teacher_pre_activations(teacher, Xt)
    with torch.no_grad():
        taps = [t.double().numpy() for t in student(Xt)[:-1]]
    return {f"layer_{i + 1}": layer_alignment(p, s, thr) for i, (p, s) in enumerate(zip(pre, taps))}


class DeepTeacherStudent(Study):
    """Per-layer specialisation of over-realised students of deep ReLU teachers."""

    name = "deep_teacher_student"
    summary = "Does student specialisation hold layer by layer in deep networks (Tian)?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        return load_inputs(config, self.name)[0]  # None: Gaussian inputs, drawn per seed

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": load_inputs(config, self.name)[1]}

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        t, a = config["teacher"], config["analysis"]
        teacher = make_teacher(t["input_dim"], (*t["hidden"], t["n_outputs"]), random_state=seed)
        d = config["data"]
        (X, Y), (Xt, Yt) = teacher_sets(shared, teacher, d["n_train"], d["n_test"], seed)
        widths = [
            t["input_dim"],
            *(config["student_factor"] * w for w in t["hidden"]),
            t["n_outputs"],
        ]
        untrained = _alignments(teacher, MLP(widths, "relu", random_state=seed), Xt, a["threshold"])
        student = MLP(widths, "relu", random_state=seed)
        train_student(student, (X, Y), config["training"], seed)
        trained = _alignments(teacher, student, Xt, a["threshold"])
        top = f"layer_{len(t['hidden'])}"
        with torch.no_grad():
            rel = relative_squared_error(student(Xt)[-1], Yt)
        metrics = {
            "relative_loss": rel,
            "trained": trained,
            "untrained": untrained,
            "drop_with_depth": trained["layer_1"]["mean_best_corr"]
            - trained[top]["mean_best_corr"],
            "drop_with_depth_untrained": untrained["layer_1"]["mean_best_corr"]
            - untrained[top]["mean_best_corr"],
            "drop_with_depth_coverage": trained["layer_1"]["share_covered"]
            - trained[top]["share_covered"],
        }
        return SeedResult(metrics)

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        paper, fitted = PAPERS, fitted_premise(a["fit_tolerance"])
        return [
            Claim(
                text="students specialise at the lowest layer of a deep teacher: mean best "
                f"(sign-aware) correlation of its units above {a['aligned_above']:g}",
                paper=paper,
                measurement=Measure("trained.layer_1.mean_best_corr", "mean best correlation"),
                rule=interval_above(a["aligned_above"]),
                premise=fitted,
                alternatives=[
                    Alternative(Measure("trained.layer_1.mean_best_corr_plain", "not sign-aware"))
                ],
                controls=[
                    Control(
                        "the untrained student",
                        Measure("untrained.layer_1.mean_best_corr", "untrained"),
                    )
                ],
            ),
            Claim(
                text="alignment degrades with depth: the lowest layer's mean best correlation "
                "exceeds the top hidden layer's",
                paper=paper,
                measurement=Measure("drop_with_depth", "lowest − top mean best correlation"),
                rule=interval_above(0.0),
                premise=fitted,
                alternatives=[
                    Alternative(Measure("drop_with_depth_coverage", "lowest − top share covered"))
                ],
                controls=[
                    Control(
                        "the untrained student (depth alone)",
                        Measure("drop_with_depth_untrained", "untrained lowest − top"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for i in range(len(config["teacher"]["hidden"])):
            layer = f"layer_{i + 1}"
            rows.append(
                {
                    "hidden layer": i + 1,
                    "mean best corr (sign-aware)": seed_summary(
                        per_seed(records, f"trained.{layer}.mean_best_corr")
                    ),
                    "mean best corr (plain)": seed_summary(
                        per_seed(records, f"trained.{layer}.mean_best_corr_plain")
                    ),
                    f"share covered at {config['analysis']['threshold']:g}": seed_summary(
                        per_seed(records, f"trained.{layer}.share_covered")
                    ),
                    "untrained: mean best corr": seed_summary(
                        per_seed(records, f"untrained.{layer}.mean_best_corr")
                    ),
                }
            )
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        n = len(config["teacher"]["hidden"])
        layers = np.arange(1, n + 1)
        fig, ax = plt.subplots(figsize=(6, 3.8), constrained_layout=True)
        for key, label, color in (
            ("trained", "trained student", "C0"),
            ("untrained", "untrained", "C7"),
        ):
            vals = np.stack([per_seed(records, f"{key}.layer_{i}.mean_best_corr") for i in layers])
            ax.plot(layers, vals.mean(1), "o-", color=color, label=label)
            ax.plot(np.repeat(layers, vals.shape[1]), vals.ravel(), ".", color=color, ms=4)
        ax.axhline(config["analysis"]["aligned_above"], color="k", ls=":", lw=1)
        ax.set_xticks(layers)
        ax.set(
            xlabel="hidden layer (1 = lowest)",
            ylabel="mean best correlation (sign-aware)",
            ylim=(0, 1.02),
        )
        ax.legend(frameon=False, fontsize="small")
        caption = (
            "Mean over teacher units of their best sign-aware correlation with a student unit of "
            "the same depth (held-out inputs), per hidden layer; dots per seed; dotted: the claim's "
            "threshold. The reference code's README reports ~0.999 at the lowest and ~0.95 at the "
            "second layer."
        )
        return {"alignment_by_layer": (fig, caption)}


STUDY = DeepTeacherStudent()
