"""Digits, MNIST IDX and CIFAR-10 pickle loaders on files the tests write byte by byte."""

import gzip
import pickle
import struct

import numpy as np
import pytest

from structlearn.data import load_cifar10, load_digits_data, load_mnist, read_idx


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_mnist(folder, split, images, labels, gz=False, dotted=False):
    stems = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }[split]
    for stem, arr in zip(stems, (images, labels)):
        name = stem.replace("-idx", ".idx") if dotted else stem
        data = _idx_bytes(arr)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.fixture
def mnist_arrays():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    return images, labels


def test_digits_are_scaled_to_unit_range_with_known_class_counts():
    from sklearn.datasets import load_digits

    d = load_digits_data()
    assert d.X.shape == (1797, 64)
    assert d.X.dtype == np.float64
    assert d.y.dtype == np.int64
    assert d.image_shape == (8, 8)
    np.testing.assert_array_equal(d.X * 16, load_digits().data)
    assert d.X.min() == 0.0
    assert d.X.max() == 1.0
    assert np.bincount(d.y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    np.testing.assert_array_equal(d.images()[5], load_digits().images[5] / 16)


@pytest.mark.parametrize(("gz", "dotted"), [(False, False), (True, False), (False, True)])
def test_mnist_round_trips_written_idx_files(tmp_path, mnist_arrays, gz, dotted):
    images, labels = mnist_arrays
    _write_mnist(tmp_path, "test", images, labels, gz=gz, dotted=dotted)
    data = load_mnist(tmp_path, split="test")
    assert data.X.shape == (12, 784)
    assert data.image_shape == (28, 28)
    assert data.name == "mnist/test"
    np.testing.assert_array_equal(data.y, labels.astype(np.int64))
    np.testing.assert_allclose(data.images() * 255, images, rtol=0, atol=1e-10)
    assert data.X[3, 28 * 5 + 7] == images[3, 5, 7] / 255  # row-major flattening


def test_mnist_float32_option(tmp_path, mnist_arrays):
    _write_mnist(tmp_path, "train", *mnist_arrays)
    data = load_mnist(tmp_path, dtype=np.float32)
    assert data.X.dtype == np.float32
    np.testing.assert_allclose(data.X.reshape(12, 28, 28) * 255, mnist_arrays[0], atol=1e-4)


def test_read_idx_handles_every_element_type_big_endian(tmp_path):
    for code, dtype in [(0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")]:
        arr = np.arange(-6, 6).reshape(3, 2, 2).astype(dtype)
        (tmp_path / "a.idx").write_bytes(_idx_bytes(arr, code))
        out = read_idx(tmp_path / "a.idx")
        assert out.shape == (3, 2, 2)
        np.testing.assert_array_equal(out, np.arange(-6, 6).reshape(3, 2, 2))


def test_truncated_idx_file_reports_header_count_against_bytes(tmp_path, mnist_arrays):
    images, labels = mnist_arrays
    _write_mnist(tmp_path, "train", images, labels)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"path: .*truncated.*\(12, 28, 28\).*9408 data bytes"):
        load_mnist(tmp_path)
    path.write_bytes(path.read_bytes()[:10])  # cut inside the header
    with pytest.raises(ValueError, match="path"):
        read_idx(path)


def test_wrong_magic_number_is_named(tmp_path, mnist_arrays):
    images, labels = mnist_arrays
    _write_mnist(tmp_path, "train", images, labels)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(b"\x01\x02" + path.read_bytes()[2:])
    with pytest.raises(ValueError, match=r"path: .*magic number 0x01020801"):
        load_mnist(tmp_path)


def test_mnist_images_and_labels_must_agree(tmp_path, mnist_arrays):
    images, labels = mnist_arrays
    _write_mnist(tmp_path, "train", images, labels[:-1])
    with pytest.raises(ValueError, match="labels"):
        load_mnist(tmp_path)


def test_mnist_missing_files_or_bad_split(tmp_path, mnist_arrays):
    with pytest.raises(ValueError, match="directory"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="directory"):
        load_mnist(tmp_path / "nope")
    _write_mnist(tmp_path, "train", *mnist_arrays)
    with pytest.raises(ValueError, match="directory"):
        load_mnist(tmp_path, split="test")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")


def _write_cifar(folder, n_per_batch=4, seed=0):
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n_per_batch).tolist()
        batch = {b"batch_label": name.encode(), b"data": data, b"labels": labels}
        (folder / name).write_bytes(pickle.dumps(batch))
        batches[name] = (data, labels)
    return batches


def test_cifar_rgb_round_trip_matches_plane_layout(tmp_path):
    batches = _write_cifar(tmp_path)
    data = load_cifar10(tmp_path, split="train", color="rgb")
    assert data.X.shape == (20, 3072)
    assert data.image_shape == (32, 32, 3)
    expected_labels = [lab for i in range(1, 6) for lab in batches[f"data_batch_{i}"][1]]
    assert data.y.tolist() == expected_labels
    imgs = data.images()
    raw = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    for i, r, c, ch in [(0, 0, 0, 0), (7, 3, 31, 2), (19, 31, 5, 1), (12, 16, 16, 0)]:
        assert imgs[i, r, c, ch] == raw[i, ch * 1024 + r * 32 + c] / 255


def test_cifar_grey_is_bt709_luminance_and_parent_folder_works(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = _write_cifar(folder)
    grey = load_cifar10(tmp_path, split="test")
    assert grey.X.shape == (4, 1024)
    assert grey.image_shape == (32, 32)
    raw = batches["test_batch"][0].reshape(4, 3, 32, 32) / 255
    lum = 0.2125 * raw[:, 0] + 0.7154 * raw[:, 1] + 0.0721 * raw[:, 2]
    np.testing.assert_allclose(grey.images(), lum, atol=1e-12)


def test_cifar_batch_without_expected_keys(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"pixels": np.zeros((2, 3072), np.uint8)}))
    with pytest.raises(ValueError, match="test_batch: expected keys b'data' and b'labels'"):
        load_cifar10(tmp_path, split="test")


def test_cifar_batch_of_wrong_shape_or_labels(tmp_path):
    _write_cifar(tmp_path)
    bad = {b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(bad))
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path, split="test")
    bad = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(bad))
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path, split="test")


class _Payload:
    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_cifar_refuses_pickles_that_build_anything_but_arrays(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": _Payload(), b"labels": []}))
    with pytest.raises(ValueError, match="test_batch: not a readable"):
        load_cifar10(tmp_path, split="test")


def test_cifar_missing_batches_and_bad_options(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(ValueError, match=r"directory: .*data_batch_3"):
        load_cifar10(tmp_path)
    with pytest.raises(ValueError, match="color"):
        load_cifar10(tmp_path, split="test", color="hsv")
    with pytest.raises(ValueError, match="split"):
        load_cifar10(tmp_path, split="all")
