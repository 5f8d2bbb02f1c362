"""pixel_mi study: its numbers equal a plain reference, mosaics' tiles are independent, verdict rules."""

import copy
import json

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from structlearn.config import ConfigError
from structlearn.data.natural import load_natural_images
from structlearn.experiment import run_experiment
from structlearn.studies.pixel_mi import verdicts

CONFIG = "experiments/pixel_mi.yaml"
TINY = [
    "images.names=[coins, camera, chelsea]",
    "images.per_seed=2",
    "mi.distances=[1, 2, 4, 8]",
    "mi.map_distance=3",
    "mosaic.n_samples=200",
    "mosaic.grid=[2, 2]",
    "mosaic.tile=6",
    "features.n_orientations=2",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pixel_mi") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", overrides=TINY, quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def _reference_mi(images, distance, n_bins):
    """Plug-in MI (nats) of horizontal and vertical pixel pairs, averaged: quantile bins over the
    pooled pixels, then scikit-learn's mutual_info_score on the two code vectors."""
    pooled = np.concatenate([im.ravel() for im in images])
    edges = np.quantile(pooled, np.arange(1, n_bins) / n_bins)
    codes = [np.searchsorted(edges, im, side="right") for im in images]
    horiz = mutual_info_score(
        np.concatenate([c[:, :-distance].ravel() for c in codes]),
        np.concatenate([c[:, distance:].ravel() for c in codes]),
    )
    vert = mutual_info_score(
        np.concatenate([c[:-distance].ravel() for c in codes]),
        np.concatenate([c[distance:].ravel() for c in codes]),
    )
    return (horiz + vert) / 2


def test_natural_mi_equals_a_plain_reference(tiny_run):
    _, m = tiny_run
    for seed in m["per_seed"]:
        images = [im.image for im in load_natural_images(seed["images"])]
        nat = seed["natural"]
        for d, mi in zip(nat["distance_px"], nat["mi_nats"], strict=True):
            assert mi == pytest.approx(_reference_mi(images, d, 64), rel=1e-9)
        # decays, and the floor of 64 bins on ~200k pairs is near (B-1)^2 / 2N
        assert nat["mi_nats"] == sorted(nat["mi_nats"], reverse=True)
        n_pairs = sum(im.size for im in images)
        assert 0.3 < nat["baseline_far_nats"] / (63**2 / (2 * n_pairs)) < 3.0


def test_mosaic_tiles_are_independent_and_edge_maps_lose_short_range_mi(tiny_run):
    _, m = tiny_run
    for seed in m["per_seed"]:
        mos = seed["mosaic"]
        assert mos["mi_within_1px_nats"] > 0.5
        # across tiles the MI is the baseline's to within a few of its standard deviations
        assert abs(mos["mean_excess_across_nats"]) < 4 * mos["mean_baseline_sd_nats"]
        assert seed["features"]["mi_near_nats"] < seed["natural"]["mi_near_nats"]
    assert [v["held"] for v in m["verdicts"]] == [True, True, True]


def test_same_seed_same_metrics_and_figures(tiny_run, tmp_path):
    folder, m = tiny_run
    again, _ = run_experiment(
        CONFIG, out=tmp_path / "again", preset="smoke", overrides=TINY, quiet=True
    )
    assert json.loads((again / "metrics.json").read_text()) == m
    names = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert names == ["mi_map", "mi_vs_distance", "mosaic_mi"]


def _constructed(far_mi=0.3, far_floor=0.001, z=0.5, feat_near=0.8, nat_near=1.8):
    seed = {
        "natural": {
            "mi_near_nats": nat_near,
            "mi_far_nats": far_mi,
            "baseline_far_nats": far_floor,
        },
        "features": {
            "mi_near_nats": feat_near,
            "mi_far_nats": far_mi / 3,
            "baseline_far_nats": far_floor,
        },
        "mosaic": {"excess_z": z, "mean_excess_across_nats": 1e-4, "mi_within_1px_nats": 1.2},
    }
    return [copy.deepcopy(seed), copy.deepcopy(seed)]


@pytest.mark.parametrize(
    ("kwargs", "held"),
    [
        ({}, [True, True, True]),
        ({"far_mi": 0.005}, [False, True, False]),  # long range at the floor (x10 rule)
        ({"z": 3.5}, [True, False, True]),  # across-tile excess of 3.5 baseline sds
        ({"feat_near": 1.9}, [True, True, False]),  # edge maps keep more short-range MI
        ({"far_mi": 2.0}, [False, True, True]),  # no decay
    ],
)
def test_verdict_rules_on_constructed_metrics(kwargs, held):
    out = verdicts(_constructed(**kwargs), far=128, floor_factor=10.0, floor_z=3.0)
    assert [v.held for v in out] == held


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("mi.n_bin=8", "mi.n_bin: unknown key"),
        ("mi.n_bins=300", "mi.n_bins: expected int"),
        ("mi.distances=[1, 400]", "mi.distances"),
        ("images.names=[nonsense]", "images.names"),
        ("features.bank=sobel", "features.bank"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()
