"""Tests for structlearn.analysis.entropy_gain: per-layer entropy, gains and the recommended depth."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from structlearn.analysis.entropy_gain import (
    analyze_entropy_gain,
    layer_entropies,
    normalise_layer,
    recommended_depth,
)
from structlearn.models.mlp import MLP
from structlearn.utils.io import atomic_write_json, read_json

LOG_2PI_E = np.log(2 * np.pi * np.e)


def gaussian(n=2000, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


# ------------------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("measure", ["gaussian", "marginal", "total_correlation"])
def test_identity_stack_has_zero_gain_and_depth_one(measure):
    x = gaussian(n=400, d=5)
    res = analyze_entropy_gain(
        [x, x.copy(), x.copy(), x.copy()], inputs=x, measure=measure, n_bootstrap=20, knn_max_dim=0
    )
    assert res.gain_nats.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert res.depth == 1 and res.depth_interval == [1, 1]
    assert res.depth_bootstrap.tolist() == [1] * 20
    np.testing.assert_array_equal(res.gain_interval_nats, 0.0)


def test_gaussian_entropy_closed_form_under_known_linear_map():
    x = gaussian(n=3000, d=3, seed=1)
    a = np.array([[2.0, 0.5, 0.0], [0.0, 1.5, -1.0], [0.3, 0.0, 0.7]])
    res = layer_entropies([x, x @ a.T], normalisation="none", knn_max_dim=0)
    cov = np.cov(x, rowvar=False)  # ddof=1, as the estimator
    closed = 0.5 * (3 * LOG_2PI_E + np.linalg.slogdet(cov)[1])
    assert res.gaussian_nats[0] == pytest.approx(closed, abs=1e-8)
    gain = res.gaussian_nats[1] - res.gaussian_nats[0]
    assert gain == pytest.approx(np.log(abs(np.linalg.det(a))), abs=1e-8)
    # and the sample estimate is near the population value (identity covariance): 3/2 log(2 pi e)
    assert res.gaussian_nats[0] == pytest.approx(1.5 * LOG_2PI_E, abs=0.05)


def test_known_depth_from_scaled_layers_with_exact_interval():
    x = gaussian(n=500, d=4, seed=2)
    scales = [1.0, 2.0, 4.0, 4.0, 4.0]
    res = analyze_entropy_gain(
        [s * x for s in scales], normalisation="none", tolerance=0.1, n_bootstrap=30, knn_max_dim=0
    )
    # each doubling of a 4-d layer adds 4 log 2 nats; then nothing
    np.testing.assert_allclose(
        res.gain_nats[1:], [4 * np.log(2), 4 * np.log(2), 0.0, 0.0], atol=1e-9
    )
    assert np.isnan(res.gain_nats[0])
    assert res.depth == 3 and res.depth_interval == [3, 3]


def test_standardise_removes_unit_scale_and_order():
    x = gaussian(n=1000, d=4, seed=3)
    x[:, 1] += 0.8 * x[:, 0]
    rescaled = x[:, [2, 0, 3, 1]] * np.array([5.0, 0.1, 3.0, 7.0]) + 2.0
    a = layer_entropies([x], knn_max_dim=0)
    b = layer_entropies([rescaled], knn_max_dim=0)
    assert b.gaussian_nats[0] == pytest.approx(a.gaussian_nats[0], abs=1e-9)
    assert b.marginal_nats[0] == pytest.approx(a.marginal_nats[0], abs=1e-6)
    # standardised Gaussian entropy = d/2 log(2 pi e) + 1/2 log det(correlation)
    corr = np.corrcoef(x, rowvar=False)
    expected = 2 * LOG_2PI_E + 0.5 * np.linalg.slogdet(corr)[1]
    # the estimator's covariance of z-scores is the correlation times n/(n-1) (ddof 0 vs 1)
    expected += 0.5 * 4 * np.log(1000 / 999)
    assert a.gaussian_nats[0] == pytest.approx(expected, abs=1e-8)


def test_total_correlation_of_a_correlated_gaussian_pair():
    rho = 0.8
    z = np.random.default_rng(4).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=20000)
    res = layer_entropies([z], knn_max_dim=0)
    # true TC = -1/2 log(1 - rho^2) = 0.5108; the binned marginals sit within ~0.01 of 1/2 log 2 pi e
    assert res.total_correlation_nats[0] == pytest.approx(-0.5 * np.log(1 - rho**2), abs=0.03)
    assert res.marginal_nats[0] == pytest.approx(LOG_2PI_E, abs=0.03)


def test_knn_marginals_agree_with_binned_ones_on_gaussians():
    z = gaussian(n=5000, d=2, seed=5)
    binned = layer_entropies([z], marginal="binning", knn_max_dim=0).marginal_nats[0]
    knn = layer_entropies([z], marginal="knn", knn_max_dim=0).marginal_nats[0]
    assert knn == pytest.approx(LOG_2PI_E, abs=0.05)
    assert binned == pytest.approx(knn, abs=0.05)


def test_whole_layer_knn_only_where_dimension_allows_and_its_bias_explains_its_error():
    low = gaussian(n=2000, d=16, seed=6)  # the largest dimension allowed by default
    high = gaussian(n=2000, d=20, seed=7)
    res = layer_entropies({"low": low, "high": high}, knn_max_dim=16)
    assert np.isfinite(res.knn_nats[0]) and np.isnan(res.knn_nats[1])
    # on a Gaussian layer the kNN error is its bias on a Gaussian of the same shape (two draws)
    error = res.knn_nats[0] - res.gaussian_nats[0]
    assert error == pytest.approx(res.knn_bias_nats[0], abs=0.25)
    # biased upwards at 16 dimensions (the estimators issue measured +0.6 bits at 16)
    assert res.knn_bias_nats[0] > 0.4
    out = res.to_dict()
    assert out["knn_nats"][1] is None and out["knn_bias_nats"][1] is None


def test_pca_projects_layers_to_a_common_dimension():
    x = gaussian(n=800, d=3, seed=8)
    wide = np.hstack([x, x @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.2, 0.0, 1.0]])])
    wide += 0.01 * gaussian(n=800, d=6, seed=9)
    res = layer_entropies([x, wide], normalisation="pca", knn_max_dim=0)
    assert res.n_dims.tolist() == [3, 3] and res.n_units.tolist() == [3, 6]
    assert "top 3 principal components" in res.normalisation
    # PCA scores of standardised x: a rotation, so the Gaussian entropy equals the standardised one
    std = layer_entropies([x], knn_max_dim=0)
    assert res.gaussian_nats[0] == pytest.approx(std.gaussian_nats[0], abs=1e-8)


def test_constant_units_are_dropped_with_a_warning():
    x = gaussian(n=300, d=3, seed=10)
    with_dead = np.hstack([x, np.full((300, 2), 0.5)])
    z, n_dropped = normalise_layer(with_dead)
    assert n_dropped == 2 and z.shape == (300, 3)
    with pytest.warns(UserWarning, match="constant units"):
        res = layer_entropies([with_dead], knn_max_dim=0)
    assert res.n_constant_units.tolist() == [2]
    assert res.gaussian_nats[0] == pytest.approx(
        layer_entropies([x], knn_max_dim=0).gaussian_nats[0]
    )


def test_recommended_depth_rule():
    assert recommended_depth([np.nan, 1.0, 1.0, 0.0, 0.5, 0.0], 0.1) == 5  # a late gain counts
    assert recommended_depth([5.0, -1.0, -2.0], 0.1) == 1  # losses are below any tolerance
    assert recommended_depth([np.nan], 0.1) == 1


# ------------------------------------------------------------------------------ inputs, output
def test_network_taps_equal_numpy_arrays_and_seed_fixes_everything():
    net = MLP([6, 8, 5, 3], "tanh", random_state=0)
    x = torch.randn(300, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        taps = net(x)
    a = analyze_entropy_gain(taps, inputs=x, n_bootstrap=10, random_state=3)
    b = analyze_entropy_gain(
        [t.numpy() for t in taps], inputs=x.numpy(), n_bootstrap=10, random_state=3
    )
    assert a.to_dict() == b.to_dict()
    assert a.names == ["layer 1", "layer 2", "layer 3"]
    assert a.entropies.names[0] == "input"
    assert np.isfinite(a.entropies.knn_nats).all()  # widths 6, 8, 5, 3 are all <= 16


def test_json_round_trip_and_figure(tmp_path):
    x = gaussian(n=300, d=3, seed=11)
    res = analyze_entropy_gain([x, 2 * x, 2 * x], normalisation="none", n_bootstrap=10)
    atomic_write_json(tmp_path / "gain.json", res.to_dict())
    back = read_json(tmp_path / "gain.json")
    assert back["gain_nats"][0] is None and back["depth"] == 2
    assert back["entropies"]["gaussian_nats"] == pytest.approx(res.entropies.gaussian_nats.tolist())
    ax = res.plot()
    depth_lines = [line for line in ax.lines if list(line.get_xdata()) == [2, 2]]
    assert len(depth_lines) == 1
    plt.close(ax.figure)
    json.dumps(res.entropies.to_dict())


# ------------------------------------------------------------------------------ bad input
def test_bad_input_names_the_argument():
    x = gaussian(n=100, d=3)
    with pytest.raises(ValueError, match="layers"):
        analyze_entropy_gain([x, x[:90]])
    with pytest.raises(ValueError, match="inputs"):
        analyze_entropy_gain([x, x], inputs=x[:50])
    for bad in (0.0, -0.5):
        with pytest.raises(ValueError, match="tolerance"):
            analyze_entropy_gain([x, x], tolerance=bad)
        with pytest.raises(ValueError, match="tolerance"):
            recommended_depth([0.0, 0.0], bad)
    with pytest.raises(ValueError, match="marginal"):
        analyze_entropy_gain([x, x], marginal="knn", measure="marginal", n_bootstrap=5)
    with pytest.raises(ValueError, match="normalisation"):
        layer_entropies([x], normalisation="whiten")
    with pytest.raises(ValueError, match="n_components"):
        layer_entropies([x], normalisation="pca", n_components=4)
    with pytest.raises(ValueError, match="measure"):
        analyze_entropy_gain([x], measure="knn")
    with pytest.raises(ValueError, match="layers"):
        analyze_entropy_gain([])
    with pytest.raises(TypeError, match="layers"):
        analyze_entropy_gain(x)


def test_resamples_where_a_rare_unit_is_constant_are_skipped_and_counted():
    x = gaussian(n=200, d=3, seed=12)
    rare = np.zeros((200, 1))
    rare[0] = 1.0  # active on one sample: absent from ~37% of resamples (1 - 1/n)^n
    layer = np.hstack([x, rare])
    with pytest.warns(UserWarning, match="n_bootstrap"):
        res = analyze_entropy_gain([x, layer], n_bootstrap=60, knn_max_dim=0, random_state=0)
    assert 25 < res.n_bootstrap_used < 52  # expected 60 (1 - 0.366) = 38
    assert len(res.depth_bootstrap) == res.n_bootstrap_used
    assert np.isfinite(res.gain_interval_nats[1]).all()  # from the kept resamples, no -inf


def test_no_bootstrap_gives_the_point_depth_and_no_interval():
    """n_bootstrap=0 (allowed) used to crash reshaping the empty set of resamples."""
    x = np.random.default_rng(5).normal(size=(200, 3))
    for inputs in (x, None):
        res = analyze_entropy_gain(
            [x, 2 * x, 2 * x], inputs=inputs, normalisation="none", n_bootstrap=0, knn_max_dim=0
        )
        assert res.n_bootstrap_used == 0 and res.depth_interval == [res.depth, res.depth]
        assert res.gain_interval_nats.shape == (3, 2) and np.isnan(res.gain_interval_nats).all()
        assert res.gain_nats[1] == pytest.approx(3 * np.log(2), abs=1e-9)  # 2x in 3 dimensions


def test_total_correlation_has_its_bias_floor_beside_it():
    """Audit minor: independent units on 60 samples gave total correlation -1.27 nats with no floor
    shown. The floor (units permuted independently, true value 0) sits at the same level; a
    dependent layer sits far above its floor."""
    from structlearn.analysis.entropy_gain import layer_entropies

    x = np.random.default_rng(0).standard_normal((60, 4))
    mixed = x @ (np.eye(4) + np.diag([2.0, 2.0, 2.0], 1))
    res = layer_entropies([x, mixed])
    tc, floor = res.total_correlation_nats, res.total_correlation_floor_nats
    assert tc[0] < 0 and abs(tc[0] - floor[0]) < 0.2  # independent: indistinguishable from floor
    assert tc[1] - floor[1] > 2.0  # dependent: well above it
    assert res.to_dict()["total_correlation_floor_nats"] == pytest.approx(floor.tolist())
