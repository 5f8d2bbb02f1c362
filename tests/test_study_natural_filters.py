"""natural_filters: its chance levels, its premise's measure, its claims and another data source."""

import json
from pathlib import Path

import numpy as np
import pytest

from structlearn.analysis.filters import spatial_spread
from structlearn.experiment import load_config, run_experiment
from structlearn.studies.natural_filters import (
    STUDY,
    distance_correlation_ratio,
    uniform_spread,
)

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.mark.parametrize("p", [3, 8, 16])
def test_uniform_spread_is_the_spread_of_a_flat_filter(p):
    assert spatial_spread(np.ones((1, p * p)), (p, p))[0] == pytest.approx(uniform_spread(p))


def test_distance_correlation_ratio_of_an_ar1_field():
    """Rows of an AR(1) process: r(d) = rho^d, so r(4) / r(1) = rho^3."""
    rng = np.random.default_rng(0)
    n, p, rho = 4000, 8, 0.8
    x = np.empty((n, p, p))
    x[:, :, 0] = rng.standard_normal((n, p))
    for j in range(1, p):
        x[:, :, j] = rho * x[:, :, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal((n, p))
    ratio = distance_correlation_ratio(x.reshape(n, -1), p, 4)
    assert ratio == pytest.approx(rho**3, abs=0.03)


def test_claims_use_the_largest_patch_and_the_local_learners_as_controls():
    config = load_config(EXPERIMENTS / "natural_filters.yaml")
    claims = STUDY.claims(config)
    assert [c.text.split(" ")[0] for c in claims] == [
        "sparse_coding",
        "ica_infomax",
        "second-order",
        "second-order",
    ]
    assert all("16×16" in c.text for c in claims)
    assert [c.name for c in claims[2].controls] == [
        "sparse_coding's filters",
        "ica_infomax's filters",
    ]


def test_runs_on_a_folder_of_the_users_images(tmp_path):
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        img = rng.random((12, 16)).repeat(4, 0).repeat(4, 1)  # 48 x 64 px
        Image.fromarray((img * 255).astype(np.uint8)).save(photos / f"im{i}.png")
    folder, _ = run_experiment(
        EXPERIMENTS / "natural_filters.yaml",
        out=tmp_path / "r",
        preset="smoke",
        quiet=True,
        overrides=[f"data.source=images:{photos}", "n_seeds=1", "methods=[pca,random]"],
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["data"]["n_files"] == 2
    size = metrics["seeds"][0]["sizes"]["8"]
    assert size["pca"]["chance_fraction"] == pytest.approx(16 / 64)  # 4x4 window in 8x8 patches
