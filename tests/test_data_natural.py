"""Bundled photographs and user image folders: real files, exact grey values, clear errors."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from structlearn.data import load_image_directory, load_natural_images, natural_image_names
from structlearn.data.natural import bundled_image_path, to_grey_float


def test_every_bundled_photograph_is_a_file_inside_an_installed_wheel():
    import site

    names = natural_image_names()
    assert len(names) == 13
    assert {"camera", "astronaut", "coffee", "chelsea", "china", "flower"} <= set(names)
    roots = [Path(p) for p in site.getsitepackages()]
    for name in names:
        path = bundled_image_path(name)
        assert path.is_file(), name
        assert any(root in path.parents for root in roots), path  # not a download cache


def test_loaded_images_are_grey_floats_in_unit_range_with_real_contrast():
    images = load_natural_images()
    assert [im.name for im in images] == natural_image_names()
    for im in images:
        assert im.image.dtype == np.float64
        assert im.image.ndim == 2
        assert min(im.image.shape) >= 300
        assert im.image.min() >= 0.0
        assert im.image.max() <= 1.0
        assert im.image.std() > 0.02, im.name  # a photograph, not a flat field
        expected = "scikit-learn" if im.name in ("china", "flower") else "scikit-image"
        assert im.source == expected


def test_grey_camera_equals_file_bytes_over_255():
    (cam,) = load_natural_images(["camera"])
    raw = np.asarray(Image.open(bundled_image_path("camera")), dtype=np.float64)
    assert raw.shape == (512, 512)
    np.testing.assert_allclose(cam.image, raw / 255.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["astronaut", "china"])
def test_colour_photographs_become_bt709_luminance(name):
    (im,) = load_natural_images([name])
    rgb = np.asarray(Image.open(bundled_image_path(name)).convert("RGB"), dtype=np.float64) / 255
    reference = 0.2125 * rgb[..., 0] + 0.7154 * rgb[..., 1] + 0.0721 * rgb[..., 2]
    np.testing.assert_allclose(im.image, reference, atol=1e-12)


def test_returned_images_are_copies():
    (a,) = load_natural_images(["brick"])
    a.image[:] = 0.0
    (b,) = load_natural_images(["brick"])
    assert b.image.max() > 0.5


def test_to_grey_float_scales_integer_dtypes_by_their_range():
    np.testing.assert_allclose(
        to_grey_float(np.array([[0, 32768, 65535]], dtype=np.uint16)),
        np.array([[0.0, 32768 / 65535, 1.0]]),
        rtol=0,
        atol=1e-15,
    )
    with pytest.raises(ValueError, match="image"):
        to_grey_float(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="image"):
        to_grey_float(np.zeros((2, 2, 2, 2)))


@pytest.mark.parametrize(
    ("names", "message"),
    [(["camera", "no_such_photo"], "names"), (["camera", "camera"], "names"), ([], "names")],
)
def test_bad_names_raise_naming_the_argument(names, message):
    with pytest.raises(ValueError, match=message):
        load_natural_images(names)


def test_image_directory_round_trips_written_files_and_skips_broken_ones(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(16, 12, 3), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "b_grey.png")
    Image.fromarray(rgb).save(tmp_path / "a_rgb.png")
    (tmp_path / "c_broken.png").write_bytes(b"not a png at all")
    (tmp_path / "notes.txt").write_text("ignored")
    with (
        pytest.warns(UserWarning, match="c_broken.png"),
        pytest.warns(UserWarning, match="notes.txt"),
    ):
        images = load_image_directory(tmp_path)
    assert [im.name for im in images] == ["a_rgb.png", "b_grey.png"]
    assert all(im.source == str(tmp_path) for im in images)
    np.testing.assert_allclose(images[1].image, grey / 255.0, rtol=0, atol=1e-15)
    lum = (rgb / 255.0) @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(images[0].image, lum, atol=1e-12)


def test_image_directory_without_readable_images_names_path(tmp_path):
    with pytest.raises(ValueError, match="path"):
        load_image_directory(tmp_path)
    (tmp_path / "x.jpg").write_bytes(b"\x00\x01")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="path"):
        load_image_directory(tmp_path)
    with pytest.raises(ValueError, match="path"):
        load_image_directory(tmp_path / "missing")
