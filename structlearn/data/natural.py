"""Natural photographs bundled inside the scikit-image and scikit-learn wheels, as grey floats.

These are the raw material of the patch mosaics (:mod:`structlearn.data.mosaic`) and of the
pixel-MI analyses: real photographs whose second-order statistics follow the familiar power law
(Field 1987; Olshausen & Field 1996, "Emergence of simple-cell receptive field properties by
learning a sparse code for natural images"). Nothing is downloaded: every file is read from the
installed package directory with Pillow (scikit-image's optional ``pooch`` fetcher is never used).

Grey conversion uses ITU-R BT.709 luminance, :math:`Y = 0.2125 R + 0.7154 G + 0.0721 B`
(``skimage.color.rgb2gray``), and integer images are scaled to ``[0, 1]`` by their dtype's range.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "NaturalImage",
    "load_image_directory",
    "load_natural_images",
    "natural_image_names",
    "read_image_file",
    "scan_image_directory",
    "to_grey_float",
]

# name -> file inside skimage/data/. Only real photographs of natural or everyday scenes; left out:
# synthetic or drawn images (checkerboard, logo, text, page, phantom, horse silhouette, colour
# wheel, the synthetic motion-blurred clock), microscopy/medical scans (cell, retina, ihc,
# microaneurysms), the mostly black Hubble deep field, and everything fetched over the network.
_SKIMAGE_FILES: dict[str, str] = {
    "astronaut": "astronaut.png",
    "brick": "brick.png",
    "camera": "camera.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "coins": "coins.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "moon": "moon.png",
    "motorcycle": "motorcycle_left.png",
    "rocket": "rocket.jpg",
}
# name -> file inside sklearn/datasets/images/ (read with sklearn.datasets.load_sample_image).
_SKLEARN_FILES: dict[str, str] = {"china": "china.jpg", "flower": "flower.jpg"}

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")


@dataclass(frozen=True)
class NaturalImage:
    """One grey photograph.

    Attributes
    ----------
    name : str
        Short name (``"camera"``) or, for a user's folder, the file name.
    source : str
        ``"scikit-image"`` or ``"scikit-learn"`` for the bundled photographs; the directory path for
        images read by :func:`load_image_directory`.
    image : numpy.ndarray
        float64 array of shape ``(height, width)`` with values in ``[0, 1]``.
    """

    name: str
    source: str
    image: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return self.image.shape  # type: ignore[return-value]


def natural_image_names() -> list[str]:
    """Names of the bundled photographs, scikit-image's first, each group sorted.

    >>> natural_image_names()[:3]
    ['astronaut', 'brick', 'camera']
    >>> len(natural_image_names())
    13
    """
    return sorted(_SKIMAGE_FILES) + sorted(_SKLEARN_FILES)


def bundled_image_path(name: str) -> Path:
    """Path of the file that holds the bundled photograph ``name`` (inside an installed wheel)."""
    if name in _SKIMAGE_FILES:
        import skimage.data

        return Path(skimage.data.__file__).parent / _SKIMAGE_FILES[name]
    if name in _SKLEARN_FILES:
        import sklearn.datasets

        return Path(sklearn.datasets.__file__).parent / "images" / _SKLEARN_FILES[name]
    raise ValueError(
        f"names: unknown image {name!r}; expected one of {', '.join(natural_image_names())}"
    )


def to_grey_float(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert an image array to grey float64 of shape ``(height, width)`` in ``[0, 1]``.

    Integer images are divided by their dtype's maximum; RGB(A) images become BT.709 luminance
    (alpha is dropped); float images must already lie in ``[0, 1]``.

    >>> to_grey_float(np.array([[0, 255]], dtype=np.uint8))
    array([[0., 1.]])
    """
    from skimage.color import rgb2gray
    from skimage.util import img_as_float64

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = rgb2gray(img_as_float64(arr[..., :3]))
    elif arr.ndim == 3 and arr.shape[-1] == 1:
        arr = img_as_float64(arr[..., 0])
    elif arr.ndim == 2:
        arr = img_as_float64(arr)
    else:
        raise ValueError(
            f"{name}: expected a grey (H, W) or colour (H, W, 3|4) image, got shape {arr.shape}"
        )
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all() or arr.min() < 0.0 or arr.max() > 1.0:
        raise ValueError(
            f"{name}: float image values must be finite and lie in [0, 1], got range "
            f"[{np.nanmin(arr)}, {np.nanmax(arr)}]"
        )
    return np.ascontiguousarray(arr)


def read_image_file(path: str | Path) -> np.ndarray:
    """Decode one image file with Pillow into a uint8/uint16 array, ``(H, W)`` or ``(H, W, 3)``.

    Palette, bilevel, CMYK and alpha images are converted to ``L`` or ``RGB`` first; of an
    animated file only the first frame is read.
    """
    from PIL import Image

    with Image.open(path) as im:
        if im.mode == "1":
            im = im.convert("L")
        elif im.mode not in ("L", "RGB", "I;16", "I", "F"):
            im = im.convert("RGB")
        return np.asarray(im)


@functools.cache
def _load_bundled(name: str) -> np.ndarray:
    path = bundled_image_path(name)
    if not path.is_file():  # pragma: no cover - depends on the installed wheels
        raise FileNotFoundError(
            f"bundled photograph {name!r} is missing at {path}; reinstall scikit-image / "
            "scikit-learn (structlearn never downloads images)"
        )
    grey = to_grey_float(read_image_file(path), name)
    grey.setflags(write=False)
    return grey


def load_natural_images(names: list[str] | tuple[str, ...] | None = None) -> list[NaturalImage]:
    """Load bundled photographs as grey float64 images in ``[0, 1]``.

    Parameters
    ----------
    names : list of str or None
        Which photographs (see :func:`natural_image_names`); ``None`` loads all of them, in that
        order.

    Returns
    -------
    list of NaturalImage
        Each ``image`` has shape ``(height, width)`` and is a fresh copy (the decoded files are
        cached, so repeated calls are cheap).

    Raises
    ------
    ValueError
        If ``names`` is empty, has duplicates or holds an unknown name.

    Examples
    --------
    >>> (cam,) = load_natural_images(["camera"])
    >>> cam.source, cam.image.shape, cam.image.dtype
    ('scikit-image', (512, 512), dtype('float64'))
    >>> bool(0.0 <= cam.image.min() and cam.image.max() <= 1.0)
    True
    """
    if names is None:
        names = natural_image_names()
    if isinstance(names, str):
        raise TypeError(f"names: expected a list of image names, got the string {names!r}")
    names = list(names)
    if not names:
        raise ValueError("names: expected at least one image name, got an empty list")
    if len(set(names)) != len(names):
        raise ValueError(f"names: duplicate image names in {names}")
    known = set(natural_image_names())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"names: unknown image(s) {unknown}; expected names from {natural_image_names()}"
        )
    return [
        NaturalImage(
            name=n,
            source="scikit-learn" if n in _SKLEARN_FILES else "scikit-image",
            image=_load_bundled(n).copy(),
        )
        for n in names
    ]


def scan_image_directory(
    path: str | Path, color: str = "grey"
) -> tuple[list[NaturalImage], list[tuple[str, str]]]:
    """Read every file of a folder (not recursive) that Pillow can decode, and say what was not.

    Every regular file is tried, whatever its suffix (Pillow identifies images by content), in
    sorted order; nothing is skipped silently.

    Parameters
    ----------
    path : str or Path
        A directory.
    color : {"grey", "rgb"}
        ``"grey"``: BT.709 luminance, images of shape ``(H, W)``; ``"rgb"``: shape ``(H, W, 3)``
        (grey files repeated on the three channels, alpha dropped). Values are float64 in [0, 1].

    Returns
    -------
    images : list of NaturalImage
        ``name`` is the file name and ``source`` the directory.
    skipped : list of (file name, reason)
        Hidden files, sub-folders and files that do not decode.

    Raises
    ------
    ValueError
        If ``path`` is not a directory or ``color`` is unknown.
    """
    from skimage.util import img_as_float64

    if color not in ("grey", "rgb"):
        raise ValueError(f"color: expected 'grey' or 'rgb', got {color!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"path: expected a directory of images, got {str(path)!r} (not a folder)")
    images, skipped = [], []
    for file in sorted(folder.iterdir()):
        if file.name.startswith("."):
            skipped.append((file.name, "hidden file"))
            continue
        if not file.is_file():
            skipped.append((file.name, "not a regular file"))
            continue
        try:
            raw = read_image_file(file)
            if color == "grey":
                arr = to_grey_float(raw, file.name)
            else:
                arr = img_as_float64(raw if raw.ndim == 3 else np.stack([raw] * 3, axis=-1))
                arr = np.ascontiguousarray(arr[..., :3], dtype=np.float64)
        except Exception as exc:  # decoding errors come in many types
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            skipped.append((file.name, f"not a readable image ({reason})"))
            continue
        images.append(NaturalImage(name=file.name, source=str(folder), image=arr))
    return images, skipped


def load_image_directory(path: str | Path) -> list[NaturalImage]:
    """Load every readable image file in a folder (not recursive), as grey float64 in ``[0, 1]``.

    Files are read as by :func:`scan_image_directory`; each file that is not a readable image is
    reported with a warning naming it and why.

    Parameters
    ----------
    path : str or Path
        A directory.

    Returns
    -------
    list of NaturalImage
        ``name`` is the file name, ``source`` the directory, ``image`` of shape ``(height, width)``.

    Raises
    ------
    ValueError
        If ``path`` is not a directory or holds no readable image file.
    """
    out, skipped = scan_image_directory(path)
    for name, reason in skipped:
        warnings.warn(f"path: skipping {name}: {reason}", stacklevel=2)
    if not out:
        raise ValueError(
            f"path: no readable image files in {str(path)!r} ({len(skipped)} file(s) skipped: "
            f"{', '.join(n for n, _ in skipped[:5]) or 'the folder is empty'})"
        )
    return out
