"""Input validation at the public boundary.

Every public function validates its inputs once, here, and raises a ``ValueError`` (or ``TypeError``)
that names the argument, says what was expected, what came, and how to fix it -- in the manner of
scikit-learn's ``check_array``. Private helpers downstream assume valid input.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

ArrayLike = Any  # numpy array, torch tensor, or nested sequence


def to_numpy(x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a numpy array (detaching and moving torch tensors to the CPU)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _refuse_complex(dtype: Any, name: str) -> None:
    """Complex input would lose its imaginary part in a cast to real: refuse it by name."""
    is_complex = (
        dtype.is_complex
        if isinstance(dtype, torch.dtype)
        else np.iscomplexobj(np.empty(0, dtype=dtype))
    )
    if is_complex:
        raise ValueError(
            f"{name}: expected real numbers, got complex dtype={dtype}; pass the real part "
            "(x.real), the modulus (abs(x)) or both as separate features"
        )


def check_array(
    x: ArrayLike,
    name: str,
    *,
    ndim: int | tuple[int, ...] = 2,
    dtype: Any = np.float64,
    allow_nonfinite: bool = False,
    min_samples: int = 1,
    min_features: int = 1,
) -> np.ndarray:
    """Validate an array and return it as numpy with the requested dtype.

    Parameters
    ----------
    x : array-like or torch.Tensor
        The input, of shape ``(n_samples, n_features)`` when ``ndim == 2``.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int
        Accepted numbers of dimensions.
    dtype : numpy dtype or None
        Convert to this dtype (``None`` keeps the input's numeric dtype).
    allow_nonfinite : bool
        Whether NaN and Inf are accepted.
    min_samples, min_features : int
        Minimum size of axis 0 and (for 2-D input) axis 1.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> check_array([[1, 2], [3, 4]], "X").dtype
    dtype('float64')
    >>> check_array([1, 2], "X")
    Traceback (most recent call last):
    ...
    ValueError: X: expected a 2-D array of shape (n_samples, n_features), got 1-D with shape (2,). Reshape with x.reshape(-1, 1) for one feature or x.reshape(1, -1) for one sample.
    """
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    try:
        arr = to_numpy(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name}: expected an array-like, got {type(x).__name__}") from exc
    if arr.dtype == object:
        raise TypeError(
            f"{name}: expected a numeric array, got dtype=object (ragged or mixed input)"
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name}: expected a numeric array, got dtype={arr.dtype}")
    _refuse_complex(arr.dtype, name)
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        hint = ""
        if 2 in ndims and arr.ndim == 1:
            hint = (
                " Reshape with x.reshape(-1, 1) for one feature or x.reshape(1, -1) for one sample."
            )
        shape_doc = " of shape (n_samples, n_features)" if ndims == (2,) else ""
        raise ValueError(
            f"{name}: expected a {want} array{shape_doc}, got {arr.ndim}-D with shape "
            f"{arr.shape}.{hint}"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if arr.ndim >= 1 and arr.shape[0] < min_samples:
        raise ValueError(
            f"{name}: expected at least {min_samples} sample(s) along axis 0, got shape {arr.shape}"
        )
    if arr.ndim >= 2 and arr.shape[1] < min_features:
        raise ValueError(
            f"{name}: expected at least {min_features} feature(s) along axis 1, got shape {arr.shape}"
        )
    if not allow_nonfinite and np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError(
            f"{name}: contains {n_nan} NaN and {n_inf} Inf value(s); expected finite numbers. "
            "Remove or impute them first."
        )
    return arr


def check_tensor(
    x: ArrayLike,
    name: str,
    *,
    ndim: int | tuple[int, ...] = 2,
    min_samples: int = 1,
) -> torch.Tensor:
    """Validate a torch tensor (or array-like) without breaking autograd.

    Floating tensors keep their dtype and graph; other inputs become ``float32`` tensors.
    Raises ``ValueError`` naming ``name`` for a wrong number of dimensions, too few samples, or
    NaN/Inf entries.
    """
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(check_array(x, name, ndim=ndims, dtype=np.float32))
    _refuse_complex(x.dtype, name)
    if not x.is_floating_point():
        x = x.float()
    if x.dim() not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name}: expected a {want} tensor, got shape {tuple(x.shape)}")
    if x.dim() >= 1 and x.shape[0] < min_samples:
        raise ValueError(
            f"{name}: expected at least {min_samples} sample(s), got shape {tuple(x.shape)}"
        )
    if not torch.isfinite(x.detach()).all():
        raise ValueError(f"{name}: contains NaN or Inf; expected finite values")
    return x


def check_labels(
    y: ArrayLike,
    name: str = "labels",
    *,
    n_samples: int | None = None,
    n_classes: int | None = None,
) -> np.ndarray:
    """Validate integer class labels and return them as ``int64`` of shape ``(n_samples,)``.

    Floats are accepted only when they are whole numbers. With ``n_classes`` given, every label
    must lie in ``[0, n_classes)``.
    """
    arr = to_numpy(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D label vector, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name}: expected integer class labels, got non-integer floats")
    elif not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise ValueError(f"{name}: expected integer class labels, got dtype={arr.dtype}")
    arr = arr.astype(np.int64)
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"{name}: has {arr.shape[0]} entries but the features have {n_samples} samples; "
            "they must match"
        )
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name}: labels must lie in [0, {n_classes}), got values in [{arr.min()}, {arr.max()}]"
        )
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: labels must be non-negative, got minimum {arr.min()}")
    return arr


def relabel(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map class labels onto ``0 .. n_classes - 1`` in sorted order.

    Labels are one-hot encoded or counted by position, so a label such as ``10**9`` must never size
    an array: code the classes that occur instead, and keep ``classes`` to report in the caller's
    terms (``classes[codes] == labels``).

    >>> codes, classes = relabel(np.array([0, 10**9, 5, 5]))
    >>> codes.tolist(), classes.tolist()
    ([0, 2, 1, 1], [0, 5, 1000000000])
    """
    classes, codes = np.unique(np.asarray(labels), return_inverse=True)
    return codes.reshape(-1).astype(np.int64), classes


def check_consistent_length(**arrays: ArrayLike) -> int:
    """Check that all arrays have the same number of samples (axis 0) and return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        first, n0 = next(iter(lengths.items()))
        other, n = next((k, n) for k, n in lengths.items() if n != n0)
        raise ValueError(
            f"{other}: has {n} samples but {first} has {n0}; inconsistent numbers of samples, "
            "they must match"
        )
    return next(iter(lengths.values()))


def check_scalar(
    value: Any,
    name: str,
    *,
    kind: type | tuple[type, ...] = numbers.Real,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> Any:
    """Check a scalar's type and range, e.g. ``check_scalar(eps, "eps", low=0, low_inclusive=False)``.

    >>> check_scalar(0.5, "eps", low=0, low_inclusive=False)
    0.5
    >>> check_scalar(0.0, "eps", low=0, low_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: eps: expected a value > 0, got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        want = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
        raise TypeError(f"{name}: expected {want}, got {type(value).__name__} ({value!r})")
    if isinstance(value, numbers.Real) and not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite value, got {value}")
    if low is not None and (value < low if low_inclusive else value <= low):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name}: expected a value {op} {low}, got {value}")
    if high is not None and (value > high if high_inclusive else value >= high):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name}: expected a value {op} {high}, got {value}")
    return value


#: Upper bound of counts (iterations, resamples, layers, units) unless a caller states its own: a
#: count of ``10**9`` is a typo, not a plan, and would run for days or allocate terabytes.
MAX_COUNT = 1_000_000


def check_count(value: Any, name: str, *, low: int = 1, high: int = MAX_COUNT) -> int:
    """Check an integer count in ``[low, high]`` (``high`` defaults to ``MAX_COUNT`` = 10**6).

    >>> check_count(10**9, "n_bootstrap")
    Traceback (most recent call last):
    ...
    ValueError: n_bootstrap: expected a value <= 1000000, got 1000000000
    """
    check_scalar(value, name, kind=(numbers.Integral,), low=low, high=high)
    return int(value)


def check_option(value: Any, name: str, options: Iterable[Any] | Mapping[str, Any]) -> Any:
    """Check that ``value`` is one of ``options``; the error lists the ones that exist.

    >>> check_option("knn", "method", ["binning", "knn"])
    'knn'
    >>> check_option("nope", "method", ["binning", "knn"])
    Traceback (most recent call last):
    ...
    ValueError: method: unknown value 'nope'; expected one of 'binning', 'knn'
    """
    opts = list(options)
    if value not in opts:
        listed = ", ".join(repr(o) for o in opts)
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {listed}")
    return value


def check_random_state(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``seed`` (None, an int, or a Generator) into a ``numpy.random.Generator``.

    Randomness is always an argument; this is the one place it is seeded.

    >>> bool(check_random_state(0).integers(100) == check_random_state(0).integers(100))
    True
    """
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed < 0:
        raise ValueError(f"random_state: expected a non-negative int, got {seed}")
    if seed is None or isinstance(seed, numbers.Integral):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(2**31 - 1))
    raise TypeError(
        f"random_state: expected None, an int or a numpy.random.Generator, got {type(seed).__name__}"
    )
