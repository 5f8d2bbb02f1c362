"""mode_connectivity on a researcher's inputs: MNIST-format files the test writes."""

import json

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment

CONFIG = "experiments/mode_connectivity.yaml"
TINY = [
    "n_seeds=1",
    "teacher.input_dim=30",
    "data.n_train=150",
    "data.n_test=60",
    "training.epochs=3",
    "bend.steps=5",
    "n_points=3",
    "control_epochs=1",
]


def _idx(array: np.ndarray) -> bytes:
    """An IDX file (the MNIST format): zero bytes, type 0x08 (uint8), ndim, big-endian sizes."""
    head = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    return head + array.astype(np.uint8).tobytes()


def _run(tmp_path, name, source, extra=()):
    folder, _ = run_experiment(
        CONFIG,
        out=tmp_path / name,
        preset="smoke",
        overrides=[*TINY, f"data.source={source}", *extra],
        quiet=True,
    )
    return json.loads((folder / "metrics.json").read_text())


def test_mnist_files_and_the_same_inputs_in_an_npz_give_the_same_numbers(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(240, 6, 5), dtype=np.uint8)  # 30 pixels per image
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte").write_bytes(_idx(images))
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.arange(240) % 10))
    np.savez(tmp_path / "same.npz", X=images / 255.0)
    mnist = _run(tmp_path, "run_mnist", f"mnist:{tmp_path / 'mnist'}", ["data.split=test"])
    same = _run(tmp_path, "run_npz", f"npz:{tmp_path / 'same.npz'}")
    assert mnist["data"]["n_samples"] == 240 and mnist["data"]["n_features"] == 30
    assert (mnist["data"]["n_train"], mnist["data"]["n_test"]) == (150, 60)
    assert mnist["seeds"] == same["seeds"]  # the numbers come from the file's pixels
    assert 0.0 < mnist["seeds"][0]["distance_ab"] < 10.0


def test_a_source_without_samples_of_one_size_is_refused_in_one_line(tmp_path):
    with pytest.raises(
        ConfigError, match=r"^data.source: expected one of 'teacher', .*got 'photos'$"
    ):
        _run(tmp_path, "r", "photos")
    assert not (tmp_path / "r").exists()
