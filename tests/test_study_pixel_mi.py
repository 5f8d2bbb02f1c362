"""pixel_mi study: its numbers equal a plain reference, controls behave, claims decide as stated."""

import json

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from structlearn.config import ConfigError
from structlearn.data.natural import load_natural_images
from structlearn.experiment import load_config, run_experiment
from structlearn.studies.claims import evaluate
from structlearn.studies.pixel_mi import STUDY

CONFIG = "experiments/pixel_mi.yaml"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("pixel_mi") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def _reference_mi(images, distance, n_bins):
    """Plug-in MI (nats) of horizontal and vertical pixel pairs, averaged: quantile bins over the
    pooled pixels, then scikit-learn's mutual_info_score on the two code vectors."""
    pooled = np.concatenate([im.ravel() for im in images])
    edges = np.quantile(pooled, np.arange(1, n_bins) / n_bins)
    codes = [np.searchsorted(edges, im, side="right") for im in images]
    pairs = [
        (
            c[:, :-distance].ravel(),
            c[:, distance:].ravel(),
            c[:-distance].ravel(),
            c[distance:].ravel(),
        )
        for c in codes
    ]
    horiz = mutual_info_score(*(np.concatenate([p[i] for p in pairs]) for i in (0, 1)))
    vert = mutual_info_score(*(np.concatenate([p[i] for p in pairs]) for i in (2, 3)))
    return (horiz + vert) / 2


def test_natural_mi_equals_a_plain_reference_and_controls_sit_at_the_floor(smoke):
    _, m = smoke
    for seed in m["seeds"]:
        images = [im.image for im in load_natural_images(seed["images"])]
        nat = seed["natural"]
        for d, mi in zip(nat["distance_px"], nat["mi_nats"], strict=True):
            assert mi == pytest.approx(_reference_mi(images, d, 64), rel=1e-9)
        assert nat["mi_nats"] == sorted(nat["mi_nats"], reverse=True)
        # shuffled pixels: no spatial structure, the same MI near and far (only which-image)
        shuf = seed["shuffled_pixels"]
        assert abs(shuf["decay_nats"]) < 0.01
        assert nat["far_over_shuffled"] == pytest.approx(nat["mi_far_nats"] / shuf["mi_far_nats"])
        # edge maps lose short-range MI; same-tile mosaic pairs are far from the across floor
        assert seed["features"]["drop_near_nats"] > 0.1
        assert seed["mosaic_same_tile_z"] > 10 * abs(seed["mosaic"]["excess_across_z"])


def test_same_seed_same_figures(smoke):
    folder, m = smoke
    assert len(m["verdicts"]) == 5
    names = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert names == ["mi_map", "mi_vs_distance", "mosaic_mi"]


def _seed(decay=1.0, far=30.0, z=0.5, drop=0.8, feat_far=20.0, ctl_far=2.0):
    ends = {
        "decay_nats": decay,
        "far_over_floor": far,
        "mi_near_nats": 2.0,
        "far_over_shuffled": far,
    }
    return {
        "natural": {**ends, "baseline_far_nats": 0.01},
        "natural_alt_bins": dict(ends),
        "shuffled_pixels": {"decay_nats": 0.0, "far_over_floor": ctl_far},
        "features": {
            "drop_near_nats": drop,
            "far_over_floor": feat_far,
            "far_over_shuffled": feat_far,
        },
        "features_alt_bank": {"drop_near_nats": drop, "far_over_floor": feat_far},
        "shuffled_features": {"far_over_floor": ctl_far},
        "identity_filter_drop_nats": 0.0,
        "mosaic": {
            "excess_across_z": z,
            "mi_within_1px_nats": 1.0,
            "baseline_across_1px_nats": 1e-3,
        },
        "mosaic_alt_bins": {"excess_across_z": z},
        "mosaic_same_tile_z": 500.0,
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, ["held", "held", "held", "held", "held"]),
        ({"far": 5.0}, ["held", "not held", "held", "held", "held"]),  # long range near the floor
        ({"z": 3.5}, ["held", "held", "not held", "held", "held"]),  # across-tile excess
        ({"drop": -0.2}, ["held", "held", "held", "not held", "held"]),  # maps keep more
    ],
)
def test_claims_decide_from_per_seed_values(kwargs, expected):
    config = load_config(CONFIG)
    seeds = [_seed(**kwargs) for _ in range(3)]
    for i, s in enumerate(seeds):  # a little spread between seeds; controls around 0
        s["natural"]["decay_nats"] += 0.01 * i
        s["shuffled_pixels"]["decay_nats"] = 1e-3 * (i - 1)
        s["features"]["drop_near_nats"] += 0.01 * i
    got = [evaluate(c, seeds) for c in STUDY.claims(config)]
    assert [v.verdict for v in got] == expected
    # the shuffled-pixel control passing would void the long-range claim
    if expected[1] != "held":
        return
    seeds_ctl = [
        {**s, "shuffled_pixels": {"decay_nats": 0.0, "far_over_floor": 30.0}} for s in seeds
    ]
    assert evaluate(STUDY.claims(config)[1], seeds_ctl).display == "not held (control passes too)"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("mi.n_bin=8", "mi.n_bin: unknown key"),
        ("mi.n_bins=300", "mi.n_bins: expected int"),
        ("mi.distances=[1, 400]", "mi.distances"),
        ("mi.distances=[4, 4]", "mi.distances"),
        ("data.images=[nonsense]", "data.images"),
        (
            "data.source=mnist5k",
            "data.source: expected one of .photos., .images:DIR., .npz:PATH., got .mnist5k.",
        ),
        ("features.bank=sobel", "features.bank"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()


def test_runs_on_a_folder_of_the_users_images(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    expected = {}
    for i in range(3):  # smooth random fields, 64 x 72 px: distances up to 16 px + a 32 px border
        field = np.cumsum(np.cumsum(rng.normal(size=(64, 72)), 0), 1)
        u8 = np.uint8(np.round(255 * (field - field.min()) / np.ptp(field)))
        Image.fromarray(u8).save(folder / f"im{i}.png")
        expected[f"im{i}.png"] = u8 / 255.0
    (folder / "notes.txt").write_text("not an image")
    run, _ = run_experiment(
        CONFIG,
        out=tmp_path / "r",
        preset="smoke",
        quiet=True,
        overrides=[f"data.source=images:{folder}", "n_seeds=1"],
    )
    m = json.loads((run / "metrics.json").read_text())
    assert (m["data"]["n_files"], m["data"]["n_skipped"]) == (3, 1)
    seed = m["seeds"][0]
    assert len(seed["images"]) == 2 and set(seed["images"]) <= set(expected)  # data.per_seed: 2
    images = [expected[name] for name in seed["images"]]  # the MI is the files' MI
    for d, mi in zip(seed["natural"]["distance_px"], seed["natural"]["mi_nats"], strict=True):
        assert mi == pytest.approx(_reference_mi(images, d, 64), rel=1e-9)


def test_refuses_images_too_small_for_the_distances(tmp_path):
    np.savez(tmp_path / "small.npz", X=np.random.default_rng(0).random((5, 28, 28)))
    with pytest.raises(ConfigError, match=r"distance 16 px .* \(-4: 'row 0', 28x28 px\)"):
        run_experiment(
            CONFIG,
            out=tmp_path / "r",
            preset="smoke",
            quiet=True,
            overrides=[f"data.source=npz:{tmp_path / 'small.npz'}"],
        )


def test_names_the_one_image_of_a_folder_too_small_for_the_distances(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, shape in (("big.png", (64, 72)), ("tiny.png", (40, 44)), ("mid.png", (60, 60))):
        Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8)).save(folder / name)
    with pytest.raises(ConfigError, match=r"below .* \(8: 'tiny.png', 40x44 px\)"):
        run_experiment(
            CONFIG,
            out=tmp_path / "r",
            preset="smoke",
            quiet=True,
            overrides=[f"data.source=images:{folder}"],
        )
