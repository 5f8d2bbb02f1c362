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


# ------------------------------------------------------------- saturation, kNN probe, given split
def test_saturation_index_first_layer_within_tolerance():
    from structlearn.analysis.probes import saturation_index

    assert saturation_index([0.2, 0.5, 0.61, 0.6, 0.62], 0.01) == 2
    assert saturation_index([0.2, 0.5, 0.61, 0.6, 0.62], 0.0) == 4
    assert saturation_index([0.9, 0.8, 0.5], 0.0) == 0  # the input is best: nothing to add
    assert saturation_index([0.5, 0.7], 0.2) == 0  # tolerance covers the whole gain
    for bad in ([], [0.5, np.nan], [[0.5]], ["a"]):
        with pytest.raises(ValueError, match="scores"):
            saturation_index(bad, 0.01)
    with pytest.raises(ValueError, match="tolerance"):
        saturation_index([0.5], -0.1)


def rings(n=240, seed=0):
    """Two concentric rings: no line separates them, neighbours do."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, 3.0) + 0.1 * rng.normal(size=n)
    return y, np.c_[radius * np.cos(angle), radius * np.sin(angle)]


def test_knn_probe_reads_what_a_line_cannot():
    y, ring = rings()
    linear = analyze_probes({"rings": ring}, y, random_state=1)
    knn = analyze_probes({"rings": ring}, y, probe="knn", n_neighbors=5, random_state=1)
    assert knn.probe == "knn" and linear.probe == "linear"
    assert knn.test_accuracy[0] == 1.0  # rings 2 apart, noise 0.1: every neighbour agrees
    assert linear.test_accuracy[0] < 0.75  # a line through two concentric rings: near chance
    assert knn.n_test == linear.n_test  # the same seeded split for either probe


def test_knn_probe_equals_scikit_learn_on_standardised_features():
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler

    y, layers = blobs_and_noise()
    tr, te = np.arange(0, 180, 2), np.arange(1, 180, 2)
    res = analyze_probes(layers, y, probe="knn", n_neighbors=7, split=(tr, te))
    for i, x in enumerate(layers.values()):
        sc = StandardScaler().fit(x[tr])
        ref = (
            KNeighborsClassifier(7)
            .fit(sc.transform(x[tr]), y[tr])
            .score(sc.transform(x[te]), y[te])
        )
        assert res.test_accuracy[i] == pytest.approx(ref, abs=1e-12)


def test_probe_given_split_scores_exactly_those_rows():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    y, layers = blobs_and_noise()
    tr, te = np.arange(30, 180), np.arange(30)  # the test rows are class 0 only
    res = analyze_probes(layers, y, split=(tr, te))
    assert (res.n_train, res.n_test) == (150, 30)
    assert res.chance_accuracy == 1.0  # a constant guess of the only class scores 1
    x = layers["noise"]
    sc = StandardScaler().fit(x[tr])
    ref = LogisticRegression(max_iter=2000).fit(sc.transform(x[tr]), y[tr])
    assert res.test_accuracy[0] == pytest.approx(ref.score(sc.transform(x[te]), y[te]), abs=1e-12)
    for bad, word in (
        ((tr, tr[:5]), "overlap"),
        ((tr,), "expected"),
        ((tr, np.array([200])), r"\[0, 180\)"),
        ((tr, np.array([0.5])), "integer"),
        ((tr, np.array([], dtype=int)), "non-empty"),
    ):
        with pytest.raises(ValueError, match=word):
            analyze_probes(layers, y, split=bad)
    with pytest.raises(ValueError, match="probe"):
        analyze_probes(layers, y, probe="mlp")
    with pytest.raises((TypeError, ValueError), match="n_neighbors"):
        analyze_probes(layers, y, probe="knn", n_neighbors=0)


# -------------------------------------------------------------------------------------- 3-D maps
def _reference_layers():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    means = rng.normal(size=(3, 8)) * 6.0
    sep = means[y] + rng.normal(size=(len(y), 8))
    return y, {"noise": rng.normal(size=(len(y), 5)), "separable": sep}


def test_maps_2d_default_unchanged():
    """The default is the 2-D map the code gave before n_components existed (values from the
    commit before it, 8759f6d), and equals n_components=2 bit for bit."""
    y, layers = _reference_layers()
    kw = {"n_max": 90, "perplexity": 10.0, "random_state": 3}
    m = analyze_layer_maps(layers, y, **kw)
    assert m.embedding.shape == (2, 90, 2) and m.n_components == 2
    assert m.neighbour_agreement.tolist() == pytest.approx([0.32, 1.0], abs=1e-12)
    ref = [[[20.265989303588867, -6.052522659301758], [0.04390687867999077, 9.833730697631836]],
           [[-29.258819580078125, -2.971912384033203], [-30.209701538085938, -0.7587137818336487]]]  # fmt: skip
    np.testing.assert_allclose(m.embedding[:, :2], ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(
        m.embedding, analyze_layer_maps(layers, y, n_components=2, **kw).embedding
    )


def test_maps_3d_separate_blobs_not_noise_and_share_the_subsample():
    y, layers = _reference_layers()
    kw = {"n_max": 90, "perplexity": 10.0, "random_state": 3}
    m3 = analyze_layer_maps(layers, y, n_components=3, **kw)
    m2 = analyze_layer_maps(layers, y, **kw)
    assert m3.embedding.shape == (2, 90, 3) and m3.n_components == 3
    np.testing.assert_array_equal(m3.indices, m2.indices)  # the same points in either map
    assert m3.neighbour_agreement[1] == 1.0  # three blobs 6 sd apart: islands in 3-D too
    # noise: near the label collision rate 1/3 (k=10 neighbours of 90 points)
    assert abs(m3.neighbour_agreement[0] - m3.chance_agreement) < 0.15
    fig = m3.figure()
    assert all(ax.name == "3d" for ax in fig.axes)
    plt.close(fig)
    with pytest.raises(ValueError, match="projection='3d'"):
        m3.plot(plt.figure().add_subplot())
    plt.close("all")
    for bad in (1, 4, 2.0, True, "3"):
        with pytest.raises(ValueError, match="n_components"):
            analyze_layer_maps(layers, y, n_components=bad, **kw)


def test_maps_with_fewer_points_than_pca_dims():
    """40 points of 64 features: PCA to 50 dims used to raise (one component per sample at
    most)."""
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 20)
    x = np.where(y[:, None] == 0, 5.0, -5.0) + rng.normal(size=(40, 64))
    m = analyze_layer_maps([x], y, n_max=40, perplexity=5.0, n_components=3)
    assert m.neighbour_agreement[0] == 1.0
