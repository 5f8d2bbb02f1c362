"""Tests for structlearn.analysis.probes: linear probes and t-SNE maps of layers."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from structlearn.analysis.probes import (
    analyze_layer_maps,
    analyze_probes,
    probe_layers,
    tsne_maps,
)


def blobs_and_noise(n_per_class=60, n_classes=3, seed=0):
    """Three layers: pure noise, a noisy half-informative layer, separable class means."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    means = rng.normal(size=(n_classes, 8)) * 6.0
    separable = means[y] + rng.normal(size=(len(y), 8))
    noise = rng.normal(size=(len(y), 5))
    return y, {"noise": noise, "separable": separable, "separable again": separable * 3.0}


# ------------------------------------------------------------------------------------------ probes
def test_probe_accuracy_known_limits():
    y, layers = blobs_and_noise()
    res = analyze_probes(layers, y)
    assert res.names == ["noise", "separable", "separable again"]
    assert res.test_accuracy[1] == 1.0 and res.test_accuracy[2] == 1.0
    assert res.saturation_layer == "separable"
    # Noise carries no label information: held-out accuracy near chance (1/3), binomial sd ~0.11.
    assert abs(res.test_accuracy[0] - 1 / 3) < 0.25
    assert res.chance_accuracy == pytest.approx(1 / 3, abs=0.02)  # stratified held-out part
    assert res.n_test == 45 and res.n_train == 135
    assert res.n_features.tolist() == [5, 8, 8]


def test_probe_invariant_to_relabelling_and_feature_scale():
    y, layers = blobs_and_noise(seed=1)
    layers = {"noise": layers["noise"], "mixed": layers["separable"] + 4 * layers["noise"][:, :1]}
    base = analyze_probes(layers, y, random_state=3)
    relabelled = analyze_probes(layers, np.array([2, 0, 1])[y], random_state=3)
    scaled = analyze_probes(
        {k: v * np.arange(1, v.shape[1] + 1) for k, v in layers.items()}, y, random_state=3
    )
    np.testing.assert_allclose(relabelled.test_accuracy, base.test_accuracy)
    np.testing.assert_allclose(scaled.test_accuracy, base.test_accuracy, atol=1e-12)


def test_probe_accepts_mlp_taps_and_is_seeded():
    torch.manual_seed(0)
    x = torch.randn(120, 6)
    y = (x[:, 0] > 0).long().numpy()
    taps = [torch.relu(x @ torch.randn(6, 10)), x[:, :1].reshape(120, 1, 1)]  # 3-D flattened
    a = analyze_probes(taps, y, random_state=7)
    b = analyze_probes(taps, y, random_state=7)
    assert a.names == ["layer 1", "layer 2"]
    assert a.to_dict() == b.to_dict()
    assert a.test_accuracy[1] == 1.0  # the sign of x0 is linearly readable from x0


def test_probe_plot():
    y, layers = blobs_and_noise()
    ax = analyze_probes(layers, y).plot()
    assert len(ax.lines) == 4  # held-out, train, chance, saturation
    assert [t.get_text() for t in ax.get_xticklabels()] == ["noise", "separable", "separable again"]
    plt.close("all")


def test_probe_warns_when_not_converged():
    y, layers = blobs_and_noise()
    with pytest.warns(UserWarning, match="'separable'.*max_iter"):
        analyze_probes({"separable": layers["separable"]}, y, max_iter=1)


# -------------------------------------------------------------------------------------------- maps
def test_tsne_maps_separate_blobs_and_not_noise():
    y, layers = blobs_and_noise(n_per_class=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        res = analyze_layer_maps(
            {"noise": layers["noise"], "separable": layers["separable"]}, y, n_max=90
        )
    assert res.embedding.shape == (2, 90, 2)
    assert len(np.unique(res.indices)) == 90 and np.all(np.diff(res.indices) > 0)
    np.testing.assert_array_equal(res.labels, y[res.indices])
    assert res.neighbour_agreement[1] > 0.95
    assert abs(res.neighbour_agreement[0] - res.chance_agreement) < 0.15
    assert res.perplexity == pytest.approx(min(30.0, 89 / 3))
    d = res.to_dict()
    assert len(d["embedding"]) == 2
    fig = res.figure()
    assert len(fig.axes) == 2 and "separable" in fig.axes[1].get_title()
    plt.close("all")


def test_tsne_maps_seeded():
    y, layers = blobs_and_noise(n_per_class=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        a = analyze_layer_maps([layers["separable"]], y, n_max=30, random_state=4)
        b = analyze_layer_maps([layers["separable"]], y, n_max=30, random_state=4)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.embedding, b.embedding)


# --------------------------------------------------------------------------------------- bad input
def test_bad_input():
    y, layers = blobs_and_noise()
    with pytest.raises(ValueError, match="'noise'"):
        analyze_probes({"noise": layers["noise"][:-1]}, y)
    with pytest.raises(ValueError, match="labels"):
        analyze_probes(layers, np.zeros(len(y), int))
    with pytest.raises(ValueError, match="labels"):
        analyze_probes(layers, y[:, None] + 0.5)
    with pytest.raises(ValueError, match="layers"):
        analyze_probes({}, y)
    with pytest.raises(TypeError, match="layers"):
        analyze_probes(layers["noise"].tolist().__iter__(), y)
    with pytest.raises(ValueError, match="test_size"):
        analyze_probes(layers, y, test_size=1.0)
    with pytest.raises(ValueError, match="n_max"):
        analyze_layer_maps(layers, y, n_max=2)


def test_old_names_warn_and_return_the_same():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    layers = {"a": rng.standard_normal((60, 3)) + y[:, None]}
    with pytest.warns(DeprecationWarning, match="analyze_probes"):
        old = probe_layers(layers, y, random_state=1)
    assert old.test_accuracy == pytest.approx(
        analyze_probes(layers, y, random_state=1).test_accuracy
    )
    with pytest.warns(DeprecationWarning, match="analyze_layer_maps"):
        maps = tsne_maps(layers, y, random_state=1, perplexity=5)
    assert maps.neighbour_agreement == pytest.approx(
        analyze_layer_maps(layers, y, random_state=1, perplexity=5).neighbour_agreement
    )
