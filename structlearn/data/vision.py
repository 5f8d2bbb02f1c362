"""Small vision data sets: scikit-learn's bundled digits, MNIST and CIFAR-10 read from disk.

- Digits: the UCI optical recognition of handwritten digits set (Alpaydin & Kaynak 1998) as
  bundled by scikit-learn, 1797 images of 8x8 with 17 grey levels.
- MNIST (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
  recognition"): the IDX files of the original release, raw or gzipped.
- CIFAR-10 (Krizhevsky 2009, "Learning multiple layers of features from tiny images"): the
  "python version" pickle batches.

Nothing is downloaded: MNIST and CIFAR-10 are read from a directory the user provides. Pixel
values are scaled to ``[0, 1]`` by dividing by 255 (by 16 for digits).
"""

from __future__ import annotations

import gzip
import importlib
import io
import math
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from structlearn.utils.validation import check_option

__all__ = ["VisionData", "load_cifar10", "load_digits_data", "load_mnist", "read_idx"]

# IDX element types (third byte of the magic number): numpy dtype, big-endian.
_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_CIFAR_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


@dataclass(frozen=True)
class VisionData:
    """Images flattened to rows, with labels.

    Attributes
    ----------
    X : numpy.ndarray
        Shape ``(n_samples, n_features)`` with ``n_features = prod(image_shape)``, values in
        ``[0, 1]``; rows are images flattened row-major (channels last for colour).
    y : numpy.ndarray
        int64 class labels, shape ``(n_samples,)``.
    image_shape : tuple of int
        ``(H, W)`` for grey, ``(H, W, 3)`` for colour.
    name : str
        Data set and split, e.g. ``"mnist/train"``.
    """

    X: np.ndarray
    y: np.ndarray
    image_shape: tuple[int, ...]
    name: str

    def images(self) -> np.ndarray:
        """The samples as images, shape ``(n_samples, *image_shape)`` (a view of ``X``)."""
        return self.X.reshape(-1, *self.image_shape)


def load_digits_data() -> VisionData:
    """scikit-learn's bundled 8x8 digits, scaled to ``[0, 1]`` (pixel values 0..16 divided by 16).

    >>> d = load_digits_data()
    >>> d.X.shape, d.y.shape, d.image_shape, float(d.X.max())
    ((1797, 64), (1797,), (8, 8), 1.0)
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return VisionData(X=X, y=y, image_shape=(8, 8), name="digits")


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed), the format of the MNIST release.

    Layout: two zero bytes, a type byte (0x08 = uint8, ..., 0x0E = float64), the number of
    dimensions ``k``, then ``k`` big-endian uint32 sizes, then the data, big-endian, row-major.

    Returns
    -------
    numpy.ndarray
        Shape given by the header, native byte order.

    Raises
    ------
    ValueError
        Naming ``path`` for a missing file, a wrong magic number, or a file whose data length
        differs from what the header announces (truncated or padded).
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"path: no such IDX file {str(file)!r}")
    raw = file.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"path: {str(file)!r} is a damaged gzip file ({exc})") from exc
    if len(raw) < 4:
        raise ValueError(f"path: {str(file)!r} is too short for an IDX header ({len(raw)} bytes)")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in _IDX_TYPES or ndim == 0:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(
            f"path: {str(file)!r} has magic number 0x{magic:08x}, not an IDX file "
            "(expected 0x0000TTDD with type TT in 08,09,0B,0C,0D,0E and DD dimensions, e.g. "
            "0x00000803 for MNIST images, 0x00000801 for labels)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"path: {str(file)!r} is truncated inside its header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: 2**31 * 2**16 * 2**16 must not wrap
    if len(raw) - header != expected:
        word = "truncated" if len(raw) - header < expected else "longer than announced"
        raise ValueError(
            f"path: {str(file)!r} is {word}: its header announces shape {dims} "
            f"({expected} data bytes) but the file holds {len(raw) - header} data bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def load_mnist(
    directory: str | Path, split: str = "train", *, dtype: type = np.float64
) -> VisionData:
    """MNIST from the IDX files of its original release.

    Looks in ``directory`` for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (split
    ``"train"``) or ``t10k-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte`` (split ``"test"``),
    each possibly with a ``.gz`` suffix or with ``.idx`` spelled with a dot
    (``train-images.idx3-ubyte``).

    Parameters
    ----------
    directory : str or Path
    split : {"train", "test"}
    dtype : numpy float dtype
        Of ``X`` (float32 halves the memory of the 60,000 x 784 training set).

    Returns
    -------
    VisionData
        ``X`` of shape ``(n_samples, 784)`` in ``[0, 1]``, ``y`` in ``0..9``,
        ``image_shape == (28, 28)`` for the real files (taken from the header).

    Raises
    ------
    ValueError
        Naming ``directory`` when a file is missing, ``split`` for an unknown split, ``path``
        for a malformed file (see :func:`read_idx`), and the file when images and labels disagree.
    """
    check_option(split, "split", tuple(_MNIST_FILES))
    try:
        float_dtype = np.dtype(dtype)
    except TypeError:
        float_dtype = np.dtype(object)
    if not np.issubdtype(float_dtype, np.floating):
        raise TypeError(f"dtype: expected a numpy float dtype such as np.float32, got {dtype!r}")
    folder = _check_directory(directory)
    image_file, label_file = (_find_idx(folder, stem) for stem in _MNIST_FILES[split])
    images = read_idx(image_file)
    labels = read_idx(label_file)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"path: {str(image_file)!r} should hold uint8 images (n, rows, cols), got "
            f"{images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"path: {str(label_file)!r} holds labels of shape {labels.shape}, expected "
            f"({images.shape[0]},) to match {image_file.name}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(
            f"path: {str(label_file)!r} holds labels in [{labels.min()}, {labels.max()}]; MNIST's "
            "are digits 0..9"
        )
    X = images.reshape(images.shape[0], -1).astype(float_dtype) / float_dtype.type(255)
    return VisionData(
        X=X, y=labels.astype(np.int64), image_shape=images.shape[1:], name=f"mnist/{split}"
    )


def load_cifar10(
    directory: str | Path,
    split: str = "train",
    *,
    color: str = "grey",
    dtype: type = np.float64,
) -> VisionData:
    """CIFAR-10 from the "python version" pickle batches.

    ``directory`` is the extracted ``cifar-10-batches-py`` folder (or its parent). Split
    ``"train"`` reads ``data_batch_1`` .. ``data_batch_5`` in order, ``"test"`` reads
    ``test_batch``. Each batch is a pickled dict with ``b"data"`` (uint8, ``(n, 3072)``: the red,
    green then blue 32x32 planes, row-major) and ``b"labels"`` (n ints in 0..9). Batches are
    unpickled with an unpickler that only builds numpy arrays, so a tampered file cannot run code.

    Parameters
    ----------
    directory : str or Path
    split : {"train", "test"}
    color : {"grey", "rgb"}
        ``"grey"``: BT.709 luminance, ``X`` of shape ``(n, 1024)``, ``image_shape (32, 32)``;
        ``"rgb"``: ``X`` of shape ``(n, 3072)`` flattened channels-last, ``image_shape
        (32, 32, 3)``.
    dtype : numpy float dtype

    Returns
    -------
    VisionData

    Raises
    ------
    ValueError
        Naming ``directory`` when a batch file is missing, ``split``/``color`` for unknown values,
        and the batch file when it is not a pickled dict with the expected keys and shapes.
    """
    check_option(split, "split", tuple(_CIFAR_FILES))
    check_option(color, "color", ("grey", "rgb"))
    folder = _check_directory(directory)
    if (folder / "cifar-10-batches-py").is_dir():
        folder = folder / "cifar-10-batches-py"
    missing = [name for name in _CIFAR_FILES[split] if not (folder / name).is_file()]
    if missing:
        raise ValueError(
            f"directory: {str(directory)!r} lacks the CIFAR-10 batch file(s) {missing}; expected "
            "the extracted cifar-10-batches-py folder"
        )
    parts = [_read_cifar_batch(folder / name) for name in _CIFAR_FILES[split]]
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    rgb = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(dtype) / dtype(255)
    if color == "grey":
        images = rgb @ np.array([0.2125, 0.7154, 0.0721], dtype=dtype)
    else:
        images = rgb
    return VisionData(
        X=images.reshape(len(images), -1),
        y=labels,
        image_shape=images.shape[1:],
        name=f"cifar10/{split}",
    )


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that can only rebuild numpy arrays and dtypes (and plain containers)."""

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data batch")
        module = module.replace("numpy.core.", "numpy._core.")
        return getattr(importlib.import_module(module), name)


def _read_cifar_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _ArrayUnpickler(io.BytesIO(file.read_bytes()), encoding="bytes").load()
    except Exception as exc:  # unpickling raises many types on a damaged file
        raise ValueError(f"{file.name}: not a readable CIFAR-10 pickle batch ({exc})") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{file.name}: expected a pickled dict, got {type(batch).__name__}")
    keys = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in keys or "labels" not in keys:
        raise ValueError(
            f"{file.name}: expected keys b'data' and b'labels', got keys {sorted(map(str, keys))}"
        )
    data = np.asarray(keys["data"])
    labels = np.asarray(keys["labels"])
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise ValueError(
            f"{file.name}: b'data' should be uint8 of shape (n, 3072), got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{file.name}: b'labels' should be {data.shape[0]} integers, got {labels.dtype} "
            f"{labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{file.name}: b'labels' should lie in 0..9, got {np.unique(labels)}")
    return data, labels.astype(np.int64)


def _check_directory(directory: str | Path) -> Path:
    folder = Path(directory)
    if not folder.is_dir():
        raise ValueError(f"directory: {str(directory)!r} is not a folder")
    return folder


def _find_idx(folder: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise ValueError(
        f"directory: {str(folder)!r} has no {stem} (nor {stem}.gz, {dotted}); expected the MNIST "
        "IDX files of the original release"
    )
