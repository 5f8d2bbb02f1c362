"""group_sparse_pooling study: shifted patch pairs, claims on constructed metrics, reproducibility
and config errors (the learners and measures are tested in test_models_* and
test_analysis_subspaces)."""

import json

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import load_config, run_experiment
from structlearn.studies._group_sparse_learners import shifted_patches as _patches
from structlearn.studies.claims import evaluate
from structlearn.studies.group_sparse_pooling import STUDY

CONFIG = "experiments/group_sparse_pooling.yaml"
TINY = [
    "n_seeds=1",
    "data.images=[camera, coins]",
    "data.patch_size=5",
    "data.n_train=600",
    "group_coding.n_atoms=8",
    "group_coding.group_size=2",
    "isa.n_components=8",
    "isa.n_iter=10",
    "tica.map_shape=[2, 4]",
    "tica.block=[1, 2]",
    "group_coding.n_iter=5",
    "group_coding.batch_size=200",
    "l1_coding.n_iter=20",
    "invariance.n_pairs=100",
    "invariance.shifts=[1]",
]


def test_shifted_patch_pairs_are_the_same_scene_moved():
    img = np.arange(400.0).reshape(20, 20)  # value = 20 * row + col
    a, b = _patches([img], 50, 4, 2, np.random.default_rng(0))
    diff = (b - a)[:, 0]
    assert set(np.unique(diff)) <= {2.0, -2.0, 40.0, -40.0}
    assert np.allclose(b - a, diff[:, None])


def _learner(gap=0.3, gain=0.2, regrouped=0.05, capture=0.2, single=0.6):
    inv = {
        "single": single,
        "pooled": single + gain,
        "pooled_regrouped": single + gain - regrouped,
        "gain": gain,
        "gain_over_regrouped": regrouped,
    }
    return {
        "similarity": {"within": 0.3 + gap, "between": 0.3, "gap": gap},
        "capture": {
            "own": 0.3 + capture,
            "other": 0.3,
            "gap": capture + 0.1,
            "gap_over_regrouped": capture,
        },
        "invariance": {"1": dict(inv), "2": dict(inv)},
        "objective_improvement": 1.0,
    }


CONTROL = {"capture": 0.0, "regrouped": 0.0, "gain": 0.1, "gap": 0.0}


def _seeds(isa=None, l1=None, random=None):
    rows = []
    for i in range(3):
        jitter = {"capture": 0.01 * i, "regrouped": 0.01 * i - 0.01}
        ctl = {**CONTROL, **jitter}
        row = {
            "isa": _learner(
                **{"capture": 0.2 + 0.01 * i, "regrouped": 0.15 + 0.01 * i, **(isa or {})}
            ),
            "tica": _learner(capture=0.2 + 0.01 * i),
            "group": _learner(capture=0.1 + 0.01 * i),
            "l1": _learner(**{**ctl, **(l1 or {})}),
            "random": _learner(**{**ctl, **(random or {})}),
        }
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    ("isa", "l1", "random", "verdicts"),
    [
        ({}, None, None, ["held", "held", "held"]),
        ({"capture": -0.2}, None, None, ["not held", "held", "held"]),
        ({}, {"capture": 0.2}, None, ["not held", "held", "held"]),
        ({}, None, {"regrouped": 0.05}, ["held", "not held", "held"]),
        # ISA's codes pooled over random groups gain as much: the control of claim 3 passes too
        ({"regrouped": -0.05}, None, None, ["held", "not held", "not held"]),
        ({"gain": 0.05}, None, None, ["held", "held", "not held"]),
        ({"single": 0.95}, None, None, ["held", "premise not met", "premise not met"]),
    ],
)
def test_claims_on_constructed_metrics(isa, l1, random, verdicts):
    config = load_config(CONFIG)
    got = [evaluate(c, _seeds(isa, l1, random)).verdict for c in STUDY.claims(config)]
    assert got == verdicts


def test_tiny_run_is_reproducible(tmp_path):
    folders = [
        run_experiment(CONFIG, out=tmp_path / n, preset="smoke", overrides=TINY, quiet=True)[0]
        for n in ("a", "b")
    ]
    ma, mb = ((f / "metrics.json").read_bytes() for f in folders)
    assert ma == mb
    seed = json.loads(ma)["seeds"][0]
    assert set(seed) - {"seed"} == {"isa", "tica", "group", "l1", "random"}
    assert seed["isa"]["objective_improvement"] > 0
    g = seed["group"]
    assert -1.0 <= g["similarity"]["between"] <= 1.0
    assert 0.0 <= g["capture"]["own"] <= 1.0 and 0.0 <= g["capture"]["other"] <= 1.0
    inv = g["invariance"]["1"]
    assert inv["gain"] == pytest.approx(inv["pooled"] - inv["single"])
    assert sorted(p.stem for p in (folders[0] / "figures").glob("*.png")) == [
        "dictionaries",
        "invariance",
    ]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("group_coding.n_atom=8", "group_coding.n_atom: unknown key"),
        ("group_coding.n_atoms=18", "group_coding.n_atoms"),
        ("data.patch_size=600", "data.patch_size"),
        ("data.images=[nonsense]", "data.images"),
        ("invariance.shifts=[1, 1]", "invariance.shifts"),
        ("isa.n_components=62", "isa.n_components"),
        ("tica.block=[2, 3]", "tica.block"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)


def _idx(array: np.ndarray) -> bytes:
    """An IDX file (the MNIST format): zero bytes, type 0x08 (uint8), ndim, big-endian sizes."""
    head = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    return head + array.astype(np.uint8).tobytes()


def test_mnist_files_and_the_same_images_in_an_npz_give_the_same_numbers(tmp_path):
    rng = np.random.default_rng(3)
    fields = np.cumsum(np.cumsum(rng.normal(size=(12, 16, 16)), 1), 2)  # smooth 16 x 16 images
    lo, hi = fields.min(axis=(1, 2), keepdims=True), fields.max(axis=(1, 2), keepdims=True)
    u8 = np.uint8(np.round(255 * (fields - lo) / (hi - lo)))
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    (mnist / "train-images-idx3-ubyte").write_bytes(_idx(u8))
    (mnist / "train-labels-idx1-ubyte").write_bytes(_idx(np.arange(12) % 10))
    np.savez(tmp_path / "same.npz", X=u8 / 255.0)
    np.savez(tmp_path / "other.npz", X=u8[::-1, ::-1] / 255.0)  # other images: other numbers
    tiny = [o for o in TINY if not o.startswith("data.images")]
    runs = {}
    for name, source in (
        ("mnist", f"mnist:{mnist}"),
        ("same", f"npz:{tmp_path / 'same.npz'}"),
        ("other", f"npz:{tmp_path / 'other.npz'}"),
    ):
        folder, _ = run_experiment(
            CONFIG,
            out=tmp_path / f"run_{name}",
            preset="smoke",
            overrides=[*tiny, f"data.source={source}"],
            quiet=True,
        )
        runs[name] = json.loads((folder / "metrics.json").read_text())
    assert runs["mnist"]["data"]["n_samples"] == 12 and runs["mnist"]["data"]["n_features"] == 256
    assert runs["same"]["data"]["description"].endswith("12 samples of shape (16, 16)")
    assert runs["mnist"]["seeds"] == runs["same"]["seeds"]
    isa = [r["seeds"][0]["isa"]["capture"]["own"] for r in (runs["mnist"], runs["other"])]
    assert isa[0] != isa[1]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("digits", "data.source: expected one of 'photos', 'images:DIR', 'mnist:DIR', "),
        ("tishby12", r"got 'tishby12'$"),
    ],
)
def test_unusable_sources_are_refused_in_one_line(source, message, tmp_path):
    with pytest.raises(ConfigError, match=message) as err:
        run_experiment(
            CONFIG,
            out=tmp_path / "r",
            preset="smoke",
            overrides=[f"data.source={source}"],
            quiet=True,
        )
    assert "\n" not in str(err.value)
