"""The 12-bit information-plane task: every pattern once, the file's labels, clear format errors."""

import hashlib
import itertools

import numpy as np
import pytest
import scipy.io

from structlearn.data import load_tishby_task
from structlearn.data.tishby import default_tishby_path


def test_shipped_file_is_the_idnns_release_byte_for_byte():
    digest = hashlib.sha256(default_tishby_path().read_bytes()).hexdigest()
    assert digest == "0ba9551878a855396a8de0cbaae620788ede1e7b1eb2b8373bbe017d5ea02036"
    assert default_tishby_path().with_name("var_u.mat.LICENSE").is_file()


def test_4096_distinct_rows_cover_every_12_bit_pattern():
    task = load_tishby_task()
    assert task.X.shape == (4096, 12)
    assert task.X.dtype == np.float64
    assert task.n_samples == 4096
    assert task.n_bits == 12
    rows = {tuple(r) for r in task.X.astype(int)}
    assert len(rows) == 4096
    assert rows == set(itertools.product((0, 1), repeat=12))


def test_rows_are_in_binary_code_order_most_significant_bit_first():
    X = load_tishby_task().X
    codes = [int("".join(str(int(b)) for b in row), 2) for row in X]
    assert codes == list(range(4096))


def test_label_balance_matches_the_file():
    task = load_tishby_task()
    assert task.y.dtype == np.int64
    assert task.y.shape == (4096,)
    assert set(np.unique(task.y)) == {0, 1}
    assert task.y.mean() == 0.51708984375  # 2118 of 4096 labelled 1
    assert np.bincount(task.y).tolist() == [1978, 2118]


def test_label_entropy_in_nats():
    y = load_tishby_task().y
    p = np.bincount(y) / y.size
    h_nats = -np.sum(p * np.log(p))
    assert abs(h_nats - 0.692562941253758) < 1e-12  # the card's H(Y), in nats


def test_every_bit_plays_the_same_role_and_the_count_of_ones_nearly_decides_y():
    task = load_tishby_task()
    agree = [int(np.sum(task.X[:, j] == task.y)) for j in range(12)]
    assert agree == [2490] * 12  # no single bit decides y
    ones = task.X.sum(axis=1)
    assert task.y[ones <= 4].max() == 0
    assert task.y[ones >= 8].min() == 1
    mixed = [task.y[ones == k].mean() for k in (5, 6, 7)]
    np.testing.assert_allclose(mixed, [60 / 792, 532 / 924, 732 / 792])


def test_round_trip_of_a_file_in_the_same_format(tmp_path):
    rng = np.random.default_rng(0)
    F = rng.integers(0, 2, size=(64, 6)).astype(np.uint8)
    y = rng.integers(0, 2, size=(1, 64)).astype(np.uint8)
    path = tmp_path / "small.mat"
    scipy.io.savemat(path, {"F": F, "y": y})
    task = load_tishby_task(path)
    np.testing.assert_array_equal(task.X, F.astype(float))
    np.testing.assert_array_equal(task.y, y.ravel().astype(np.int64))
    assert task.path == str(path)


@pytest.mark.parametrize(
    ("contents", "key"),
    [
        ({"X": np.zeros((4, 3), np.uint8), "y": np.zeros((1, 4), np.uint8)}, "F"),
        ({"F": np.zeros((4, 3), np.uint8), "labels": np.zeros((1, 4), np.uint8)}, "y"),
        ({"F": np.zeros((4, 3), np.uint8), "y": np.zeros((1, 5), np.uint8)}, "y"),
        ({"F": np.zeros((4, 3), np.uint8), "y": np.zeros((2, 4), np.uint8)}, "y"),
        ({"F": np.full((4, 3), 2, np.uint8), "y": np.zeros((1, 4), np.uint8)}, "F"),
        ({"F": np.zeros((2, 3, 4), np.uint8), "y": np.zeros((1, 2), np.uint8)}, "F"),
    ],
)
def test_wrong_keys_or_shapes_raise_naming_the_key(tmp_path, contents, key):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, contents)
    with pytest.raises(ValueError, match=f"^{key}:"):
        load_tishby_task(path)


def test_missing_or_unreadable_file_names_path(tmp_path):
    with pytest.raises(ValueError, match="path"):
        load_tishby_task(tmp_path / "absent.mat")
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"this is not matlab")
    with pytest.raises(ValueError, match="path"):
        load_tishby_task(junk)
