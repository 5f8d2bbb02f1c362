"""Measurements of the layer_saturation study: layer features, probe curves, maps, retraining."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from structlearn.analysis.probes import analyze_layer_maps, analyze_probes
from structlearn.models.mlp import MLP


def features(net: MLP, X: np.ndarray) -> dict[str, np.ndarray]:
    """The input and every hidden layer's output (the logits are the network's own head)."""
    with torch.no_grad():
        taps = net(torch.as_tensor(X, dtype=torch.float32))
    return {"input": X, **{f"hidden {i + 1}": t.double().numpy() for i, t in enumerate(taps[:-1])}}


def accuracy(net: MLP, X: np.ndarray, y: np.ndarray) -> float:
    """Share of rows of ``X`` (n, d) whose arg-max logit is the label ``y`` (n,)."""
    with torch.no_grad():
        logits = net(torch.as_tensor(X, dtype=torch.float32))[-1]
    return float((logits.argmax(1).numpy() == y).mean())


def probe_curve(config, layers, y, split, probe: str) -> list[float]:
    """Held-out accuracy of a ``probe`` ("linear" or "knn") at every layer, fitted on the
    network's training rows ``split[0]`` and scored on its held-out rows ``split[1]``."""
    p = config["probe"]
    with warnings.catch_warnings():  # a dead ReLU unit is a finding of the curve, not an error
        warnings.simplefilter("ignore", UserWarning)
        res = analyze_probes(
            layers, y, probe=probe, n_neighbors=p["n_neighbors"], C=p["C"],
            max_iter=p["max_iter"], tolerance=p["tolerance"], split=split,
        )  # fmt: skip
    return res.test_accuracy.tolist()


def layer_maps(config, layers, y, test, seed: int, dim: int):
    """``dim``-D t-SNE maps of every layer's held-out rows (``test``), seeded by ``seed``."""
    m = config["maps"]
    held_out = {k: v[test] for k, v in layers.items()}
    return analyze_layer_maps(
        held_out, y[test], n_max=m["n_max"], perplexity=m["perplexity"], random_state=seed,
        n_components=dim,
    )  # fmt: skip


def retrained_accuracy(config: dict[str, Any], split: Any, seeds: list[int], ks: list[int]):
    """Held-out accuracy, per seed, of a network of the first ``k`` hidden widths trained from
    scratch by the study's protocol (the pruned architecture retrained; seeds that share ``k``
    train together)."""
    from structlearn.ensemble import train_classifier_mlps

    hidden, act = config["network"]["hidden"], config["network"]["activation"]
    n_classes = int(max(split.y_train.max(), split.y_test.max())) + 1
    out: dict[int, float] = {}
    for k in sorted(set(ks)):
        group = [s for s, kk in zip(seeds, ks, strict=True) if kk == k]
        widths = [split.X_train.shape[1], *hidden[:k], n_classes]
        nets, _ = train_classifier_mlps(widths, act, split.X_train, split.y_train, seeds=group,
                                        section=config["training"])  # fmt: skip
        out.update({s: accuracy(n, split.X_test, split.y_test) for s, n in zip(group, nets)})
    return [out[s] for s in seeds]
