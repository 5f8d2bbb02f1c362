"""Study: are two trained students joined by a low-loss bent path but not by a straight line?

Claim (Garipov et al. 2018, "Loss surfaces, mode connectivity, and fast ensembling of DNNs";
Tian, Jiang, Gong & Morcos 2019 read it in the teacher–student setting): two minima reached from
different initialisations are joined by a piecewise-linear path that keeps a low loss, unlike the
straight line between them, which crosses a barrier (hidden units are matched up to a permutation,
so the average of two solutions is not a solution).

Per seed: a two-layer ReLU teacher (:mod:`structlearn.data.teacher`) labels Gaussian inputs; two
students of ``factor`` × the teacher's width start from different initialisations and are trained
on the same data (mean squared error); the loss (relative: mean squared error over the targets'
variance, 1 = predicting the mean) is measured on held-out inputs along the straight line between
them and along a one-bend chain whose bend is trained on the loss averaged along the chain
(:mod:`structlearn.analysis.mode_connectivity`). Control: the straight line between a student and
the same student trained further (one basin: no barrier expected).

Data (``data.source``): ``teacher`` (Gaussian inputs, the default) or a researcher's inputs
labelled by the same teacher (npz, csv, digits, mnist5k, mnist, cifar10; an extension).
"""

from __future__ import annotations

from typing import Any

from structlearn.analysis.mode_connectivity import (
    analyze_mode_connectivity,
    fit_bend,
    flat_parameters,
)
from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.teacher import make_teacher
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import mean_squared_error
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
    "teacher": teacher_fields(n_outputs=2),
    "data": data_section(
        n_train=Field(int, 5000, low=10, high=10**7),
        n_test=Field(int, 2000, low=10, high=10**6),
    ),
    "student_factor": Field(int, 5, low=1, high=100, doc="student width / teacher width"),
    "training": training_fragment(optimizer="adam", lr=3e-3, epochs=300, batch_size=256),
    "bend": {
        "steps": Field(int, 3000, low=1, high=10**6, doc="Adam steps fitting the bend"),
        "lr": Field(float, 3e-3, low=1e-8, high=1.0),
        "batch_size": Field(int, 256, low=1, high=10**6),
    },
    "n_points": Field(int, 21, low=3, high=1001, doc="points of t at which paths are measured"),
    "control_epochs": Field(int, 30, low=1, high=10**5, doc="extra epochs of the same student"),
    "analysis": {
        "barrier_tolerance": Field(
            float, 0.05, low=0.0, high=10.0, doc="relative loss that counts as 'low'"
        ),
        "fit_tolerance": Field(float, 0.05, low=0.0, high=10.0, doc="premise: endpoints' loss"),
    },
}


def _relative(variance: float):
    return lambda out, y: mean_squared_error(out[-1], y) / variance


def _train(net: MLP, X, Y, config: dict[str, Any], seed: int, epochs: int | None = None) -> MLP:
    section = dict(config["training"], **({} if epochs is None else {"epochs": epochs}))
    train_student(net, (X, Y), section, seed)
    return net


class ModeConnectivityStudy(Study):
    """Loss barriers on straight and bent paths between two students of one teacher."""

    name = "mode_connectivity"
    summary = "Are two trained students joined by a low-loss bent path, unlike a straight line?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        return load_inputs(config, self.name)[0]  # None: Gaussian inputs, drawn per seed

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": load_inputs(config, self.name)[1]}

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        t = config["teacher"]
        teacher = make_teacher(
            t["input_dim"], (t["width"], t["n_outputs"]), output_decay=0.0, random_state=seed
        )
        d = config["data"]
        (X, Y), (Xt, Yt) = teacher_sets(shared, teacher, d["n_train"], d["n_test"], seed)
        width = config["student_factor"] * t["width"]
        nets = [
            _train(
                MLP([t["input_dim"], width, t["n_outputs"]], "relu", random_state=s),
                X,
                Y,
                config,
                s,
            )
            for s in (seed, seed + 10_000)
        ]
        a, b = (flat_parameters(n) for n in nets)
        later = _train(nets[0], X, Y, config, seed + 20_000, epochs=config["control_epochs"])
        a_later = flat_parameters(later)
        test_loss = _relative(float((Yt - Yt.mean(0)).pow(2).sum(1).mean()))
        train_loss = _relative(float((Y - Y.mean(0)).pow(2).sum(1).mean()))
        bc = config["bend"]
        bend = fit_bend(
            later, a, b, X, Y, train_loss, steps=bc["steps"], batch_size=bc["batch_size"],
            lr=bc["lr"], random_state=seed,
        )  # fmt: skip
        k = config["n_points"]
        test = analyze_mode_connectivity(later, a, b, bend, Xt, Yt, test_loss, n_points=k)
        on_train = analyze_mode_connectivity(later, a, b, bend, X, Y, train_loss, n_points=k)
        one_basin = analyze_mode_connectivity(
            later, a, a_later, (a + a_later) / 2, Xt, Yt, test_loss, n_points=k
        )
        metrics = {
            "test": test.summary(),
            "train": on_train.summary(),
            "control_same_basin": one_basin.summary(),
            "distance_ab": float((a - b).norm() / a.norm()),
        }
        return SeedResult(metrics, {"test": test, "control": one_basin})

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        tol = a["barrier_tolerance"]
        fitted = fitted_premise(a["fit_tolerance"], "test.end_loss")
        paper = f"Garipov et al. 2018; {PAPERS}"
        return [
            Claim(
                text=f"two students are joined by a one-bend path of low loss (barrier below {tol:g})",
                paper=paper,
                measurement=Measure(
                    "test.bend_barrier", "bent-path barrier, held out", "relative MSE"
                ),
                rule=interval_below(tol),
                premise=fitted,
                alternatives=[
                    Alternative(Measure("train.bend_barrier", "bent-path barrier, training"))
                ],
                controls=[
                    Control(
                        "the straight line between the two students",
                        Measure("test.line_barrier", "straight-line barrier", "relative MSE"),
                    )
                ],
            ),
            Claim(
                text=f"the straight line between two students crosses a loss barrier (above {tol:g})",
                paper=paper,
                measurement=Measure(
                    "test.line_barrier", "straight-line barrier, held out", "relative MSE"
                ),
                rule=interval_above(tol),
                premise=fitted,
                alternatives=[
                    Alternative(Measure("train.line_barrier", "straight-line barrier, training"))
                ],
                controls=[
                    Control(
                        "one student and itself trained further (one basin)",
                        Measure("control_same_basin.line_barrier", "same-basin line barrier"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        return quantity_rows(
            records,
            [
                ("test.end_loss", "endpoint loss (held out)"),
                ("test.line_barrier", "straight-line barrier"),
                ("test.bend_barrier", "one-bend barrier"),
                ("train.line_barrier", "straight-line barrier (training inputs)"),
                ("train.bend_barrier", "one-bend barrier (training inputs)"),
                ("control_same_basin.line_barrier", "control: same basin, straight line"),
                ("distance_ab", "‖θa − θb‖ / ‖θa‖"),
            ],
        )

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
        for r in records:
            test = r.artefacts["test"]
            axes[0].plot(test.t, test.line_loss, "C0-", alpha=0.7)
            axes[0].plot(test.t, test.bend_loss, "C1-", alpha=0.7)
            ctl = r.artefacts["control"]
            axes[1].plot(ctl.t, ctl.line_loss, "C2-", alpha=0.7)
        axes[0].plot([], [], "C0-", label="straight line")
        axes[0].plot([], [], "C1-", label="one bend (trained)")
        axes[0].legend(frameon=False, fontsize="small")
        axes[0].set(xlabel="t along the path", ylabel="held-out loss (relative MSE)", yscale="log")
        axes[1].set(
            xlabel="t along the line",
            ylabel="held-out loss (relative MSE)",
            yscale="log",
            title="control: a student and itself trained further",
        )
        caption = (
            "Held-out relative loss (MSE / target variance; 1 = predicting the mean) along the "
            "straight line and the trained one-bend chain between two students of one teacher, one "
            "curve per seed; right: the straight line within one basin (the control)."
        )
        return {"paths": (fig, caption)}


STUDY = ModeConnectivityStudy()
