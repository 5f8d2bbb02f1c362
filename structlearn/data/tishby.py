"""The 12-bit binary task of the information-plane experiments.

Shwartz-Ziv & Tishby (2017), "Opening the Black Box of Deep Neural Networks via Information",
arXiv:1703.00810: every one of the :math:`2^{12} = 4096` binary input patterns with a binary label
given by a rotation-invariant rule, so that :math:`I(X;Y)` and the information plane of small
networks can be computed on the whole input space. The file ``files/var_u.mat`` is copied unchanged
from the authors' IDNNs release (see ``datasets/tishby_12bit.md`` and ``files/var_u.mat.LICENSE``).

Format: MATLAB 5 file with ``F`` (uint8, ``(4096, 12)``, one input pattern per row, in the order
of their binary codes) and ``y`` (uint8, ``(1, 4096)``). The IDNNs code one-hot encodes a label as
``(y, 1 - y)``; here ``y`` is returned as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["TishbyTask", "default_tishby_path", "load_tishby_task"]


@dataclass(frozen=True)
class TishbyTask:
    """Inputs and labels of the 12-bit task.

    Attributes
    ----------
    X : numpy.ndarray
        float64 in {0, 1}, shape ``(n_samples, n_bits)`` = ``(4096, 12)`` for the shipped file.
    y : numpy.ndarray
        int64 in {0, 1}, shape ``(n_samples,)``.
    path : str
        The file it was read from.
    """

    X: np.ndarray
    y: np.ndarray
    path: str

    @property
    def n_samples(self) -> int:
        """Number of input patterns."""
        return int(self.X.shape[0])

    @property
    def n_bits(self) -> int:
        """Bits per input pattern."""
        return int(self.X.shape[1])


def default_tishby_path() -> Path:
    """Path of the copy of ``var_u.mat`` shipped inside the package."""
    return Path(str(resources.files("structlearn.data").joinpath("files", "var_u.mat")))


def load_tishby_task(path: str | Path | None = None) -> TishbyTask:
    """Load the 12-bit information-plane task.

    Parameters
    ----------
    path : str, Path or None
        A ``.mat`` file in the IDNNs format; ``None`` reads the copy shipped with structlearn.

    Returns
    -------
    TishbyTask
        ``X`` of shape ``(n_samples, n_bits)`` (float64 in {0, 1}) and ``y`` of shape
        ``(n_samples,)`` (int64 in {0, 1}).

    Raises
    ------
    ValueError
        If ``path`` is missing or not a MATLAB file (message names ``path``), if key ``F`` or ``y``
        is absent, not binary, or of the wrong shape (message names the key).

    Examples
    --------
    >>> task = load_tishby_task()
    >>> task.X.shape, task.y.shape, task.X.dtype, task.y.dtype
    ((4096, 12), (4096,), dtype('float64'), dtype('int64'))
    >>> float(task.y.mean())
    0.51708984375
    """
    import scipy.io

    file = default_tishby_path() if path is None else Path(path)
    if not file.is_file():
        raise ValueError(
            f"path: no such file {str(file)!r}; expected a .mat file with keys F and y"
        )
    try:
        contents = scipy.io.loadmat(file)
    except Exception as exc:  # scipy raises several types for a file that is not MATLAB
        raise ValueError(f"path: {str(file)!r} is not a readable MATLAB .mat file ({exc})") from exc
    F = _binary(contents, "F", file)
    y = _binary(contents, "y", file)
    if F.ndim != 2 or F.shape[0] < 1 or F.shape[1] < 1:
        raise ValueError(f"F: expected a 2-D (n_samples, n_bits) array in {file}, got {F.shape}")
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1 or y.shape[0] != F.shape[0]:
        raise ValueError(
            f"y: expected {F.shape[0]} labels (shape (1, {F.shape[0]}) as in IDNNs) to match F's "
            f"rows in {file}, got shape {y.shape}"
        )
    return TishbyTask(X=F.astype(np.float64), y=y.astype(np.int64), path=str(file))


def _binary(contents: dict, key: str, file: Path) -> np.ndarray:
    if key not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise ValueError(f"{key}: key missing from {file}; found keys {found}, expected F and y")
    arr = np.asarray(contents[key])
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_:
        raise ValueError(f"{key}: expected a numeric array in {file}, got dtype {arr.dtype}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{key}: expected binary values 0/1 in {file}, got {np.unique(arr)[:5]}")
    return arr
