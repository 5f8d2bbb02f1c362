"""infomax_nonlinearity: inputs sampled where they should be, claims decided, the user's images."""

import json
from pathlib import Path

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies.infomax_nonlinearity import local_responses, sample_responses

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_sample_responses_come_from_the_response_maps():
    rng = np.random.default_rng(0)
    images = [rng.random((30, 40)), rng.random((20, 20))]
    x = sample_responses(images, "contrast", 1.0, 500, np.random.default_rng(1))
    inner = np.concatenate(
        [local_responses(im, "contrast", 1.0)[3:-3, 3:-3].ravel() for im in images]
    )
    assert np.isin(x, inner).all()  # every sample is a response of an interior pixel
    assert x.shape == (500,)


def test_runs_on_the_users_images_and_judges_both_claims(tmp_path):
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):  # piecewise-flat images: contrast is 0 almost everywhere, peaked inputs
        img = rng.random((8, 10)).repeat(6, 0).repeat(6, 1)
        Image.fromarray((img * 255).astype(np.uint8)).save(photos / f"im{i}.png")
    folder, _ = run_experiment(
        EXPERIMENTS / "infomax_nonlinearity.yaml",
        out=tmp_path / "r",
        preset="smoke",
        quiet=True,
        overrides=[f"data.source=images:{photos}"],
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["data"]["n_files"] == 2
    seed = metrics["seeds"][0]
    # peaked inputs: the linear unit is far from their CDF; the equalising unit is closer
    assert seed["units"]["linear"]["cdf_distance"] > seed["units"]["equalising"]["cdf_distance"]
    assert seed["gain_nats"]["equalising"] > 0
    assert [v["paper"] for v in metrics["verdicts"]] == [
        "Laughlin 1981",
        "Laughlin 1981; Bell & Sejnowski 1995",
    ]
    with pytest.raises(ConfigError, match=r"data\.source"):
        run_experiment(
            EXPERIMENTS / "infomax_nonlinearity.yaml",
            out=tmp_path / "x",
            overrides=["data.source=digits"],
        )
