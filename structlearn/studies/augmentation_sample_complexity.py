"""Study: does augmentation along the teacher's boundaries tighten sample complexity?

Claim (Tian 2020, "Student specialization in deep rectified networks with finite width and input
dimension"): a student learns a ReLU teacher from fewer samples when the data sit near the
teacher's boundaries (the hyperplanes wₖᵀx + bₖ = 0 where its units switch), since those points pin
the units down; with such teacher-informed augmentation few samples suffice without overfitting.

Per seed and training-set size n: a two-layer ReLU teacher labels n Gaussian inputs; each input is
augmented by ``n_augment`` extra points, all labelled by the teacher, in one of three ways with the
same budget: **isotropic** (the input plus Gaussian noise of std ``noise``), **teacher boundaries**
(the input projected onto a random one of the teacher's hyperplanes, plus the same noise) and, as
the control, **random hyperplanes** (projected onto hyperplanes drawn like the teacher's but
unrelated to it). A student (``factor`` × the teacher's width) is trained on each set; its held-out
relative loss (MSE / target variance; 1 = predicting the mean) is measured.

Data (``data.source``): ``teacher`` (Gaussian inputs, the paper's setting) or a researcher's inputs
(npz, csv, digits, mnist5k, mnist, cifar10; standardised per feature) labelled by the same random
teacher: per seed the held-out inputs are fixed rows and each size's training inputs are the first
``n`` of the remaining rows in a seeded order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.teacher import TeacherNetwork, make_teacher, sample_teacher_data
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import relative_squared_error
from structlearn.studies._teacher import data_section, load_inputs, teacher_fields, train_student
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    interval_above,
    interval_below,
)

KINDS = ("none", "isotropic", "boundary", "random_planes")

SCHEMA = {
    **seeds_fragment(3),
    "teacher": teacher_fields(),
    "data": data_section(),
    "n_train": Field(list, [50, 200, 1000], item=int, low=2, high=10**6, unique=True, doc="sizes"),
    "n_test": Field(int, 2000, low=10, high=10**6),
    "n_augment": Field(int, 5, low=1, high=1000, doc="extra points per training input"),
    "noise": Field(float, 0.1, low=0.0, high=10.0, doc="std of the augmentation noise"),
    "student_factor": Field(int, 2, low=1, high=100),
    "training": training_fragment(optimizer="adam", lr=3e-3, epochs=200, batch_size=256),
    "analysis": {
        "few_samples_loss": Field(float, 0.05, low=0.0, high=10.0, doc="'suffice': loss below"),
        "overfit_above": Field(float, 0.05, low=0.0, high=10.0, doc="premise: plain loss above"),
    },
}


def project_to_planes(
    x: torch.Tensor, W: torch.Tensor, b: torch.Tensor, which: torch.Tensor
) -> torch.Tensor:
    """Each row of ``x`` (n, d) projected onto hyperplane ``which[i]`` of {z : W z + b = 0}.

    >>> W, b = torch.tensor([[0.0, 2.0]]), torch.tensor([-2.0])  # the line z_2 = 1
    >>> project_to_planes(torch.tensor([[3.0, 5.0]]), W, b, torch.tensor([0])).tolist()
    [[3.0, 1.0]]
    """
    w, c = W[which], b[which]
    return x - ((x * w).sum(1) + c)[:, None] / (w * w).sum(1)[:, None] * w


def augment(
    kind: str,
    X: torch.Tensor,
    teacher: TeacherNetwork,
    n_aug: int,
    noise: float,
    gen: torch.Generator,
) -> torch.Tensor:
    """``n_aug`` new inputs per row of ``X`` (kind: isotropic, boundary or random_planes)."""
    base = X.repeat(n_aug, 1)
    jitter = noise * torch.randn(base.shape, generator=gen)
    if kind == "isotropic":
        return base + jitter
    W, b = teacher.layers[0].weight.detach(), teacher.layers[0].bias.detach()
    if kind == "random_planes":
        W = torch.randn(W.shape, generator=gen) * W.norm(dim=1, keepdim=True) / np.sqrt(W.shape[1])
        b = torch.randn(b.shape, generator=gen) * b.abs().mean()
    which = torch.randint(len(W), (len(base),), generator=gen)
    return project_to_planes(base, W, b, which) + jitter


def _fit_and_score(X, Y, Xt, Yt, config, width_in, n_out, seed) -> float:
    hidden = config["student_factor"] * config["teacher"]["width"]
    student = MLP([width_in, hidden, n_out], "relu", random_state=seed)
    train_student(student, (X, Y), config["training"], seed)
    with torch.no_grad():
        return relative_squared_error(student(Xt)[-1], Yt)


class AugmentationSampleComplexity(Study):
    """Held-out loss against sample size with isotropic, teacher-boundary and random-plane augmentation."""

    name = "augmentation_sample_complexity"
    summary = "Does augmentation along the teacher's boundaries tighten sample complexity (Tian)?"
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> Any:
        return load_inputs(config, self.name)[0]  # None: Gaussian inputs, drawn per seed

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": load_inputs(config, self.name)[1]}

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        t, pool = config["teacher"], shared
        teacher = make_teacher(t["input_dim"], (t["width"], t["n_outputs"]), random_state=seed)
        if pool is None:
            Xt, Yt = sample_teacher_data(teacher, config["n_test"], random_state=seed + 2)
        gen = torch.Generator().manual_seed(seed)
        sizes: dict[str, Any] = {}
        for n in config["n_train"]:
            if pool is None:
                rng = np.random.default_rng([seed, n])
                X, _ = sample_teacher_data(teacher, n, random_state=rng)
            else:  # nested training rows, the same held-out rows for every n
                (X, _), (Xt, Yt) = pool.draw(teacher, n, config["n_test"], random_state=seed)
            losses = {}
            for kind in KINDS:
                Xa = (
                    X
                    if kind == "none"
                    else torch.cat(
                        [X, augment(kind, X, teacher, config["n_augment"], config["noise"], gen)]
                    )
                )
                with torch.no_grad():
                    Ya = teacher(Xa)
                losses[kind] = _fit_and_score(
                    Xa, Ya, Xt, Yt, config, t["input_dim"], t["n_outputs"], seed
                )
            sizes[str(n)] = {
                **{f"loss_{k}": v for k, v in losses.items()},
                "log10_gain_boundary": float(np.log10(losses["isotropic"] / losses["boundary"])),
                "log10_gain_random_planes": float(
                    np.log10(losses["isotropic"] / losses["random_planes"])
                ),
            }
        return SeedResult({"sizes": sizes})

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        a = config["analysis"]
        sizes = sorted(config["n_train"])
        small, second = str(sizes[0]), str(sizes[min(1, len(sizes) - 1)])
        paper = "Tian 2020"
        premise = Premise(
            f"with {small} samples and no augmentation the student does not generalise (held-out "
            f"relative loss above {a['overfit_above']:g}): there is sample complexity to tighten",
            Measure(f"sizes.{small}.loss_none", "plain loss", "relative MSE"),
            interval_above(a["overfit_above"]),
        )
        return [
            Claim(
                text=f"augmenting {small} samples along the teacher's boundaries beats isotropic "
                "augmentation of the same budget (log10 of the loss ratio above 0)",
                paper=paper,
                measurement=Measure(
                    f"sizes.{small}.log10_gain_boundary", "log10(isotropic / boundary)"
                ),
                rule=interval_above(0.0),
                premise=premise,
                alternatives=[
                    Alternative(
                        Measure(f"sizes.{second}.log10_gain_boundary", f"the same at n = {second}")
                    )
                ],
                controls=[
                    Control(
                        "augmentation along random hyperplanes",
                        Measure(
                            f"sizes.{small}.log10_gain_random_planes", "log10(isotropic / random)"
                        ),
                    )
                ],
            ),
            Claim(
                text=f"with teacher-boundary augmentation {small} samples suffice (held-out relative "
                f"loss below {a['few_samples_loss']:g})",
                paper=paper,
                measurement=Measure(f"sizes.{small}.loss_boundary", "boundary-augmented loss"),
                rule=interval_below(a["few_samples_loss"]),
                premise=premise,
                alternatives=[
                    Alternative(Measure(f"sizes.{second}.loss_boundary", f"at n = {second}"))
                ],
                controls=[
                    Control(
                        "isotropic augmentation of the same budget",
                        Measure(f"sizes.{small}.loss_isotropic", "isotropic-augmented loss"),
                    )
                ],
            ),
        ]

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        return [
            {
                "training inputs": n,
                **{
                    f"loss, {kind}": seed_summary(per_seed(records, f"sizes.{n}.loss_{kind}"))
                    for kind in KINDS
                },
            }
            for n in config["n_train"]
        ]

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        sizes = np.array(config["n_train"])
        fig, ax = plt.subplots(figsize=(6.4, 3.9), constrained_layout=True)
        for i, kind in enumerate(KINDS):
            vals = np.stack([per_seed(records, f"sizes.{n}.loss_{kind}") for n in sizes])
            ax.plot(sizes, np.exp(np.log(vals).mean(1)), "o-", color=f"C{i}", label=kind)
            ax.plot(np.repeat(sizes, vals.shape[1]), vals.ravel(), ".", color=f"C{i}", ms=3)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="training inputs (before augmentation)",
            ylabel="held-out relative loss",
        )
        ax.legend(frameon=False, fontsize="small")
        caption = (
            f"Held-out relative loss (MSE / target variance) of the student against the number of "
            f"training inputs, each augmented by {config['n_augment']} teacher-labelled points "
            "(none, isotropic noise, projected onto the teacher's boundaries, or onto random "
            "hyperplanes); geometric mean over seeds, dots per seed."
        )
        return {"sample_complexity": (fig, caption)}


STUDY = AugmentationSampleComplexity()
