"""Objectives: every principle behind one interface, ``loss = objective(features, targets)``.

``loss.total`` is what the optimiser minimises; ``loss.parts`` are named floats (information in
nats) for logging. Pure functions do the math; the modules hold hyperparameters.
"""

from structlearn.objectives.base import Features, Loss, Objective
from structlearn.objectives.bottleneck import (
    BetaSchedule,
    NonlinearIB,
    VariationalIB,
    gaussian_kl_to_standard,
    kde_mutual_information,
    kde_upper_bound_mutual_information,
)
from structlearn.objectives.coding_rate import (
    MaximalCodingRateReduction,
    RateReduction,
    coding_rate,
    compressed_coding_rate,
    delta_R_nats,
    rate_reduction,
)
from structlearn.objectives.infomax import (
    GaussianInfoMax,
    InfoMaxICA,
    gaussian_channel_entropy,
    gaussian_entropy,
    infomax_ica_objective,
)
from structlearn.objectives.sparse_coding import (
    SparseCoding,
    fista,
    sparse_code,
    sparse_coding_energy,
)
from structlearn.objectives.supervised import (
    CrossEntropy,
    MeanSquaredError,
    cross_entropy,
    mean_squared_error,
)

__all__ = [
    "BetaSchedule",
    "CrossEntropy",
    "Features",
    "GaussianInfoMax",
    "InfoMaxICA",
    "Loss",
    "MaximalCodingRateReduction",
    "MeanSquaredError",
    "NonlinearIB",
    "Objective",
    "RateReduction",
    "SparseCoding",
    "VariationalIB",
    "coding_rate",
    "compressed_coding_rate",
    "cross_entropy",
    "delta_R_nats",
    "fista",
    "gaussian_channel_entropy",
    "gaussian_entropy",
    "gaussian_kl_to_standard",
    "infomax_ica_objective",
    "kde_mutual_information",
    "kde_upper_bound_mutual_information",
    "mean_squared_error",
    "rate_reduction",
    "sparse_code",
    "sparse_coding_energy",
]
