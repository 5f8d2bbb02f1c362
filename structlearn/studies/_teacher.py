"""What the teacher–student studies share: the teacher section, training a student, the fit premise.

Not a study (its name starts with an underscore): the pieces that ``teacher_strength``,
``deep_teacher_student``, ``mode_connectivity`` and ``augmentation_sample_complexity`` would
otherwise each write again.
"""

from __future__ import annotations

from typing import Any

from structlearn.config import Field
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import MeanSquaredError
from structlearn.studies.claims import Measure, Premise, interval_below
from structlearn.train import train_section

PAPERS = "Tian, Jiang, Gong & Morcos 2019; Tian 2020"


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
