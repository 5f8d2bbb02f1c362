"""
How many layers does your data need?
====================================

Stack layers one at a time, measure every layer's entropy (Gaussian, after standardisation, in
nats) and its gain over the layer below; the recommended depth is the first after which no layer
adds more than a tolerance. Linear probes on the same layers say where accuracy saturates. Here the
features are a sparse-coding stack's on scikit-learn's digits; with your own, save them as an
``.npz`` (one array per layer) and run ``structlearn analyze depth features.npz --labels y``.
"""

import matplotlib.pyplot as plt

from structlearn.analysis.entropy_gain import analyze_entropy_gain
from structlearn.analysis.probes import analyze_probes
from structlearn.data.preprocess import PatchWhitener
from structlearn.data.sources import load_source
from structlearn.models.stack import SparseCodingStack

data = load_source("digits", n_samples=800, random_state=0)
X = PatchWhitener(eps=0.1).fit_transform(data.X)
stack = SparseCodingStack(n_layers=3, n_atoms=32, lambda1=0.1, n_iter=30, random_state=0).fit(X)
layers = {f"layer {i + 1}": z for i, z in enumerate(stack.transform_all(X))}

gain = analyze_entropy_gain(layers, inputs=X, tolerance=0.5, n_bootstrap=20, random_state=0)
probes = analyze_probes(layers, data.y, random_state=0)
print(f"recommended depth {gain.depth}; probes saturate at {probes.saturation_layer}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
gain.plot(ax=axes[0])
probes.plot(ax=axes[1])
plt.show()
