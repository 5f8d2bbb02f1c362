"""The main study's pieces: PCA axes, the labels MCR² is given, and the verdict rule."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from structlearn.data.mosaic import make_mosaic
from structlearn.studies.mosaic_filters import _pca_components, _verdicts, mcr2_labels


def test_pca_axes_equal_sklearn_up_to_sign_with_fixed_signs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 30)) @ rng.standard_normal((30, 30))
    W = _pca_components(X, 8)
    P = PCA(8).fit(X).components_
    assert np.abs(np.abs(np.sum(W * P, axis=1)) - 1).max() < 1e-10
    top = W[np.arange(8), np.abs(W).argmax(axis=1)]
    assert (top > 0).all()
    assert _pca_components(X, 100).shape == (30, 30)  # capped at n_features


def test_mcr2_labels_match_a_loop():
    m = make_mosaic(200, grid=(3, 3), tile=4, remove_tile_mean=True, random_state=3)
    src = mcr2_labels(m, "source")
    centre_sources = m.sources[:, 4, 0]
    # relabelled onto 0..k-1 preserving order: same partition as the centre tile's photograph
    assert np.array_equal(np.unique(centre_sources)[src], centre_sources)
    tile = mcr2_labels(m, "tile")
    codes = m.tile_map.ravel()
    expected = [np.argmax([np.sum(x[codes == t] ** 2) for t in range(9)]) for x in m.X]
    assert np.array_equal(np.unique(expected)[tile], expected)
    with pytest.raises(ValueError, match="kind"):
        mcr2_labels(m, "digit")


def _methods(**medians):
    return {
        k: {"best_tile_fraction_median": v, "share_above_threshold": v} for k, v in medians.items()
    }


def test_verdict_rule():
    v = _verdicts(_methods(sparse_coding=0.95, pca=0.36, random=0.14), 1 / 9, 0.9)
    assert [x.held for x in v] == [True, True]
    v = _verdicts(_methods(sparse_coding=0.92, pca=0.8, random=0.14), 1 / 9, 0.9)
    assert [x.held for x in v] == [False, False]  # not 0.2 above PCA; PCA not below 0.5
    v = _verdicts(_methods(ica_infomax=0.85, gaussian_infomax=0.13), 1 / 9, 0.9)
    assert [x.held for x in v] == [False, True]  # 0.85 is below the threshold
