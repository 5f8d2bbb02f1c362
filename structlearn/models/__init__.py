"""Models: fully connected networks that return every layer's output, and layer-wise learners.

``MLP`` is trained end to end by :mod:`structlearn.train`; the layer-wise learners are
scikit-learn estimators built one layer at a time without backpropagation; the subspace
learners (ISA, topographic ICA, the group-lasso dictionary) are scikit-learn transformers.
``Tapped`` gives any ``nn.Module`` the interface of the trainer (the outputs of chosen layers).
"""

from structlearn.models.group_dictionary import GroupSparseDictionary
from structlearn.models.isa import IndependentSubspaceAnalysis, TopographicICA
from structlearn.models.mlp import MLP
from structlearn.models.r2svm import R2SVMClassifier
from structlearn.models.redunet import ReduNet, ShiftInvariantReduNet1D, ShiftInvariantReduNet2D
from structlearn.models.stack import SparseCodingStack
from structlearn.models.tapped import Tapped

__all__ = [
    "MLP",
    "GroupSparseDictionary",
    "IndependentSubspaceAnalysis",
    "R2SVMClassifier",
    "ReduNet",
    "ShiftInvariantReduNet1D",
    "ShiftInvariantReduNet2D",
    "SparseCodingStack",
    "Tapped",
    "TopographicICA",
]
