"""Objectives: every principle behind one interface, ``loss = objective(features, targets)``.

``loss.total`` is what the optimiser minimises; ``loss.parts`` are named floats (information in
nats) for logging. Pure functions do the math; the modules hold hyperparameters.
"""

from structlearn.objectives.base import Features, Loss, Objective
from structlearn.objectives.coding_rate import (
    MaximalCodingRateReduction,
    RateReduction,
    coding_rate,
    compressed_coding_rate,
    rate_reduction,
)
from structlearn.objectives.infomax import (
    GaussianInfoMax,
    InfoMaxICA,
    gaussian_entropy,
    infomax_ica_objective,
)
from structlearn.objectives.sparse_coding import (
    SparseCoding,
    fista,
    sparse_code,
    sparse_coding_energy,
)
from structlearn.objectives.supervised import CrossEntropy, cross_entropy

__all__ = [
    "CrossEntropy",
    "Features",
    "GaussianInfoMax",
    "InfoMaxICA",
    "Loss",
    "MaximalCodingRateReduction",
    "Objective",
    "RateReduction",
    "SparseCoding",
    "coding_rate",
    "compressed_coding_rate",
    "cross_entropy",
    "fista",
    "gaussian_entropy",
    "infomax_ica_objective",
    "rate_reduction",
    "sparse_code",
    "sparse_coding_energy",
]
