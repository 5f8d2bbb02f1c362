"""What the teacher–student studies share: the teacher section, training a student, the fit premise.

Not a study (its name starts with an underscore): the pieces that ``teacher_strength``,
``deep_teacher_student``, ``mode_connectivity`` and ``augmentation_sample_complexity`` would
otherwise each write again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from structlearn.config import ConfigError, Field
from structlearn.data.sources import data_fragment, load_source, parse_source
from structlearn.data.teacher import InputPool, TeacherNetwork, sample_teacher_data
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import MeanSquaredError
from structlearn.studies.claims import Measure, Premise, interval_below
from structlearn.train import train_section

PAPERS = "Tian, Jiang, Gong & Morcos 2019; Tian 2020"

#: ``data.source`` of a teacher-student study: ``teacher`` (Gaussian inputs, the papers' setting and
#: the default) or a researcher's inputs that the study's random teacher labels (an extension)
INPUT_SOURCES = ("teacher", "npz", "csv", "digits", "mnist5k", "mnist", "cifar10")


def data_section(**fields: Any) -> dict[str, Any]:
    """The ``data`` section: ``source`` (one of :data:`INPUT_SOURCES`), its options, ``fields``.

    The ``teacher`` kind's own options (``data.teacher``, ``data.n_samples``) are left out: the
    study's ``teacher`` section is the teacher, and its sample counts say how many inputs are drawn.
    """
    frag = data_fragment(INPUT_SOURCES, "teacher", **fields)
    for key in ("teacher", "n_samples"):
        if key not in fields:
            frag.pop(key)
    return frag


def _rows(config: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """Rows one seed draws, the keys that say so, and the counts for the report."""
    d = config["data"]
    if "n_train" in d:
        return (
            d["n_train"] + d["n_test"],
            "data.n_train + data.n_test",
            {
                "n_train": d["n_train"],
                "n_test": d["n_test"],
            },
        )
    n_train = max(config["n_train"])
    return (
        n_train + config["n_test"],
        "n_train + n_test",
        {
            "n_train": n_train,
            "n_test": config["n_test"],
        },
    )


def load_inputs(
    config: dict[str, Any], who: str, input_std: float = 1.0
) -> tuple[InputPool | None, dict[str, Any]]:
    """The inputs ``data.source`` names: None for ``teacher`` (Gaussian inputs are drawn per seed),
    else an :class:`~structlearn.data.teacher.InputPool`; and a JSON-ready description of the data
    for the run-level metrics (``data``).

    Refused with one line: a source whose samples are not ``teacher.input_dim`` numbers, or with
    fewer rows than one seed draws (training plus held-out inputs).
    """
    n_rows, rows_key, counts = _rows(config)
    d = config["data"]
    if parse_source(d["source"], INPUT_SOURCES).kind == "teacher":
        return None, {
            "source": "teacher",
            "description": f"Gaussian inputs N(0, {input_std:g}^2) labelled by the study's teacher",
            **counts,
        }
    data = load_source(d, random_state=0, accepts=INPUT_SOURCES)
    X, dim = data.require_matrix(who), config["teacher"]["input_dim"]
    if X.shape[1] != dim:
        raise ConfigError(
            f"teacher.input_dim: expected the {X.shape[1]} features per sample of data.source "
            f"{data.source!r}, got {dim}; set teacher.input_dim={X.shape[1]}"
        )
    if n_rows > X.shape[0]:
        raise ConfigError(
            f"{rows_key}: expected at most the {X.shape[0]} rows of data.source {data.source!r}, "
            f"got {n_rows}"
        )
    try:
        pool = InputPool(X, input_std)
    except ValueError as exc:
        raise ConfigError(f"data.source: {data.source!r}: {exc}") from None
    how = f"standardised per feature, x {input_std:g}, labelled by the study's teacher"
    return pool, {**data.to_dict(), "inputs": how, **counts}


def teacher_sets(
    pool: InputPool | None, teacher: TeacherNetwork, n_train: int, n_test: int, seed: int
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """One seed's training and held-out sets: Gaussian N(0, 1) inputs (seeds ``seed + 1`` and
    ``seed + 2``) without a pool, else disjoint rows of the pool (seed ``seed``)."""
    if pool is None:
        return (
            sample_teacher_data(teacher, n_train, random_state=seed + 1),
            sample_teacher_data(teacher, n_test, random_state=seed + 2),
        )
    return pool.draw(teacher, n_train, n_test, random_state=np.random.default_rng(seed))


def teacher_fields(n_outputs: int = 5, **hidden: Any) -> dict[str, Field]:
    """The ``teacher`` section: input dimension, hidden width(s) and outputs of a ReLU teacher."""
    out = {
        "input_dim": Field(int, 20, low=1, high=10_000),
        "width": Field(int, 10, low=1, high=1000, doc="hidden units of the two-layer teacher"),
        "n_outputs": Field(int, n_outputs, low=1, high=1000),
    }
    out.update(hidden)
    return out


def train_student(student: MLP, data: tuple, section: dict[str, Any], seed: int, **fixed: Any):
    """Train ``student`` on the mean squared error with a study's ``training`` section."""
    quiet = {"record_epochs": "none", "record_gradients": False, "store_activations": False}
    result = train_section(
        student, MeanSquaredError(), data, section, seed=seed, **{**quiet, **fixed}
    )
    student.eval()
    return result


def fitted_premise(tolerance: float, key: str = "relative_loss") -> Premise:
    """The student fitted the teacher: held-out relative loss below ``tolerance`` (t-interval)."""
    return Premise(
        f"the student fitted the teacher (held-out relative loss below {tolerance:g})",
        Measure(key, "relative MSE (1 = predicting the mean)"),
        interval_below(tolerance),
    )
