"""The main study's pieces: PCA axes, the labels MCR² is given, its premise and its claims."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.decomposition import PCA

from structlearn.config import ConfigError
from structlearn.data.mosaic import across_tile_correlation, make_mosaic, mcr2_labels
from structlearn.experiment import load_config
from structlearn.models.filter_learners import pca_components
from structlearn.studies.mosaic_filters import STUDY

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_pca_axes_equal_sklearn_up_to_sign_with_fixed_signs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 30)) @ rng.standard_normal((30, 30))
    W = pca_components(X, 8)
    P = PCA(8).fit(X).components_
    assert np.abs(np.abs(np.sum(W * P, axis=1)) - 1).max() < 1e-10
    top = W[np.arange(8), np.abs(W).argmax(axis=1)]
    assert (top > 0).all()
    with pytest.raises(ValueError, match=r"^n: expected a value <= 30, got 100"):
        pca_components(X, 100)  # was capped silently (reliability audit, minor)


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


def test_across_tile_correlation_is_zero_for_independent_tiles_and_one_for_copies():
    rng = np.random.default_rng(0)
    tile_map = np.repeat(np.arange(2), 4).reshape(2, 4)  # tile 0: pixels 0-3, tile 1: pixels 4-7
    X = rng.standard_normal((20000, 8))
    indep = SimpleNamespace(X=X, tile_map=tile_map)
    assert across_tile_correlation(indep) < 0.01  # about sqrt(2/pi)/sqrt(n) = 0.0056
    copies = X.copy()
    copies[:, 4:] = -3.0 * X[:, :4]  # tile 1 is tile 0 rescaled
    # 16 cross-tile pairs, 4 of them exact copies (|r| = 1), the rest independent
    assert across_tile_correlation(SimpleNamespace(X=copies, tile_map=tile_map)) == pytest.approx(
        4 / 16, abs=0.01
    )


def test_claims_follow_the_methods_run():
    config = load_config(EXPERIMENTS / "mosaic_filters.yaml", overrides=["methods=[pca,random]"])
    claims = STUDY.claims(config)
    assert len(claims) == 1 and "pca" in claims[0].text
    assert claims[0].controls[0].name == "random filters"  # no local learner ran
    config = load_config(EXPERIMENTS / "mosaic_filters.yaml")
    texts = [c.text.split(" ")[0] for c in STUDY.claims(config)]
    assert texts == ["sparse_coding", "ica_infomax", "second-order", "second-order"]


def test_runs_on_a_folder_of_the_users_images(tmp_path):
    """``data.source=mosaic:DIR``: tiles come from the user's images (and the unreadable one is named)."""
    from PIL import Image

    from structlearn.experiment import run_experiment

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):  # smooth random textures, 40x48 px
        img = rng.random((10, 12)).repeat(4, 0).repeat(4, 1)
        Image.fromarray((img * 255).astype(np.uint8)).save(photos / f"p{i}.png")
    (photos / "notes.txt").write_text("not an image")
    folder, _ = run_experiment(
        EXPERIMENTS / "mosaic_filters.yaml",
        out=tmp_path / "r",
        preset="smoke",
        quiet=True,
        overrides=[f"data.source=images:{photos}", "n_seeds=1", "methods=[pca,random]"],
    )
    data = json.loads((folder / "metrics.json").read_text())["data"]
    assert data["source_images"] == ["p0.png", "p1.png", "p2.png"]
    assert data["n_files"] == 3 and data["skipped"][0][0] == "notes.txt"
    with pytest.raises(ConfigError, match=r"data\.source: expected one of 'mosaic"):
        load_config(EXPERIMENTS / "mosaic_filters.yaml", overrides=["data.source=digits"])
