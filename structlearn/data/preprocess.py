"""Shared preprocessing: train/test splits, standardisation, patch whitening and random patches.

One home for what several studies did by hand:

- :func:`split_dataset`: a seeded train/test split that keeps whole groups (photographs, subjects)
  on one side, stratifies by class when the labels allow it, and can standardise both parts with
  the training part's mean and standard deviation;
- :class:`PatchWhitener`: per-sample mean removal, ZCA whitening fitted on training data
  (Bell & Sejnowski 1997, "The 'independent components' of natural scenes are edge filters") and
  one scale that makes the training samples' mean squared norm 1, so that sparsity weights mean the
  same at any patch size (Olshausen & Field 1996 normalise their patches the same way);
- :func:`random_patches`: square patches cut at uniform positions of each image, labelled by the
  image they came from.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from structlearn.data.mosaic import zca_whitening
from structlearn.utils.validation import check_array, check_random_state, check_scalar

__all__ = ["PatchWhitener", "Split", "random_patches", "split_dataset", "standardize"]


@dataclass
class Split:
    """A train/test split of ``(X, y, groups)``.

    Attributes
    ----------
    X_train, X_test : numpy.ndarray
        Shapes ``(n_train, n_features)`` and ``(n_test, n_features)``.
    y_train, y_test : numpy.ndarray or None
        Labels or targets of each part (``None`` without ``y``).
    train_index, test_index : numpy.ndarray
        int64 row indices into the data that was split, in the order of the parts: sorted, except
        for the stratified split, which keeps scikit-learn's shuffled order.
    mean, scale : numpy.ndarray or None
        Shape ``(n_features,)``: the training statistics removed and divided out when
        ``standardize=True`` (``X_part = (X[idx] - mean) / scale``), else ``None``.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray | None
    y_test: np.ndarray | None
    train_index: np.ndarray
    test_index: np.ndarray
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def n_classes(self) -> int | None:
        """``max(label) + 1`` over both parts for integer labels, else ``None``."""
        if self.y_train is None or not np.issubdtype(self.y_train.dtype, np.integer):
            return None
        return int(max(self.y_train.max(), self.y_test.max() if self.y_test.size else 0)) + 1


def standardize(
    X_train: np.ndarray, *others: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Mean and standard deviation of ``X_train``'s columns, and every array standardised by them.

    Constant columns keep scale 1 (they become 0, not NaN).

    Returns
    -------
    mean, scale : numpy.ndarray of shape (n_features,)
    arrays : list of numpy.ndarray
        ``[(X_train - mean) / scale, *((X - mean) / scale for X in others)]``.

    >>> mean, scale, (a, b) = standardize(np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[1.0, 6.0]]))
    >>> a.tolist(), b.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0]])
    """
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale = np.where(scale > 1e-12 * max(1.0, float(np.abs(mean).max(initial=0.0))), scale, 1.0)
    return mean, scale, [(X - mean) / scale for X in (X_train, *others)]


def _is_classes(y: np.ndarray | None) -> bool:
    return y is not None and y.ndim == 1 and np.issubdtype(y.dtype, np.integer)


def _group_test_mask(groups: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Whole groups, in a seeded order, go to the test part until it holds ``>= n_test`` rows
    (always leaving one group for training)."""
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    if len(names) < 2:
        raise ValueError(
            f"groups: a group-wise split needs at least 2 groups, got {len(names)}; drop groups "
            "or provide more of them"
        )
    chosen, total = [], 0
    for g in rng.permutation(len(names))[:-1]:
        if total >= n_test:
            break
        chosen.append(g)
        total += sizes[g]
    return np.isin(inverse, chosen)


def _stratified(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """scikit-learn's stratified shuffle split, in its row order (``train_test_split`` with
    ``stratify=y``; an int ``random_state`` is passed on unchanged, so results match it)."""
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(
            np.arange(y.size), test_size=test_fraction, stratify=y, random_state=seed
        )
    except ValueError as exc:
        raise ValueError(f"y: cannot stratify ({exc}); pass stratify=False") from None


def split_dataset(
    X: np.ndarray,
    y: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    *,
    test_fraction: float = 0.25,
    random_state: int | np.random.Generator | None = 0,
    stratify: bool = True,
    standardize_features: bool = False,
) -> Split:
    """Seeded train/test split; group-wise with ``groups``, else stratified for integer labels.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets), optional
        Integer class labels (stratified) or float targets (a plain random split).
    groups : array-like of shape (n_samples,), optional
        Rows with the same group never straddle the split (e.g. patches of one photograph).
    test_fraction : float in (0, 1)
        Share of rows held out (group-wise: the first whole groups reaching it).
    random_state : int, Generator or None
    stratify : bool
        Keep class proportions (integer ``y`` and no ``groups`` only), as scikit-learn's
        ``train_test_split(..., stratify=y, random_state=random_state)`` does, rows in its order.
        Otherwise a seeded permutation: its first ``n - n_test`` rows train (sorted).
    standardize_features : bool
        Standardise both parts with the training part's column mean and standard deviation.

    Returns
    -------
    Split

    Examples
    --------
    >>> X = np.arange(40.0).reshape(20, 2); y = np.repeat([0, 1], 10)
    >>> s = split_dataset(X, y, test_fraction=0.5, random_state=0, standardize_features=True)
    >>> bool(np.allclose(s.X_train.mean(0), 0)), np.bincount(s.y_test).tolist()
    (True, [5, 5])
    """
    X = check_array(X, "X", ndim=2, min_samples=2)
    n = X.shape[0]
    check_scalar(
        test_fraction, "test_fraction", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    y = None if y is None else np.asarray(y)
    if y is not None and y.shape[0] != n:
        raise ValueError(f"y: expected {n} rows to match X, got shape {y.shape}")
    g = None if groups is None else np.asarray(groups)
    if g is not None and g.shape != (n,):
        raise ValueError(f"groups: expected shape ({n},) to match X, got {g.shape}")
    rng = check_random_state(random_state)
    n_test = min(max(1, round(test_fraction * n)), n - 1)
    if g is not None:
        test = _group_test_mask(g, n_test, rng)
        tr, te = np.flatnonzero(~test), np.flatnonzero(test)
    elif stratify and _is_classes(y):
        seed = random_state if isinstance(random_state, int) else int(rng.integers(2**31 - 1))
        tr, te = _stratified(y, float(test_fraction), seed)
    else:
        order = rng.permutation(n)
        tr, te = np.sort(order[: n - n_test]), np.sort(order[n - n_test :])
    Xtr, Xte = X[tr], X[te]
    mean = scale = None
    if standardize_features:
        mean, scale, (Xtr, Xte) = standardize(Xtr, Xte)
    return Split(
        X_train=Xtr,
        X_test=Xte,
        y_train=None if y is None else y[tr],
        y_test=None if y is None else y[te],
        train_index=tr.astype(np.int64),
        test_index=te.astype(np.int64),
        mean=mean,
        scale=scale,
    )


class PatchWhitener:
    """Per-sample mean removal, ZCA whitening and a unit mean squared norm, fitted on training data.

    ``transform(X) = ((X - rowmean(X)) - mean_) @ W_ / scale_`` where ``W_, mean_`` are the ZCA
    matrix and column means of the mean-removed training data (see
    :func:`~structlearn.data.mosaic.zca_whitening`; ``eps`` is relative to the mean eigenvalue)
    and ``scale_`` is the root mean squared norm of the whitened training rows, so
    ``transform(X_train)`` has mean squared row norm exactly 1.

    Parameters
    ----------
    eps : float > 0
        Relative ZCA regulariser.
    remove_sample_mean : bool
        Subtract each row's own mean first (a patch's mean brightness).

    Attributes
    ----------
    W_ : numpy.ndarray of shape (n_features, n_features)
    mean_ : numpy.ndarray of shape (n_features,)
    scale_ : float

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(500, 4)) * [1.0, 2.0, 3.0, 4.0]
    >>> w = PatchWhitener(eps=1e-6, remove_sample_mean=False).fit(X)
    >>> Z = w.transform(X)
    >>> round(float(np.mean(np.sum(Z**2, axis=1))), 6)
    1.0
    >>> np.round(np.cov(Z.T, bias=True) * 4, 3) + 0.0
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]])
    """

    def __init__(self, eps: float = 1e-2, *, remove_sample_mean: bool = True) -> None:
        self.eps = eps
        self.remove_sample_mean = remove_sample_mean

    def _centre(self, X: np.ndarray) -> np.ndarray:
        return X - X.mean(axis=1, keepdims=True) if self.remove_sample_mean else X

    def fit(self, X: np.ndarray) -> PatchWhitener:
        """Fit on training rows ``X`` of shape (n_samples, n_features); returns ``self``."""
        X = check_array(X, "X", ndim=2, min_samples=2)
        Xc = self._centre(X)
        self.W_, self.mean_ = zca_whitening(Xc, self.eps)
        Z = (Xc - self.mean_) @ self.W_
        self.scale_ = float(np.sqrt(np.mean(np.sum(Z**2, axis=1))))
        if not self.scale_ > 0:
            raise ValueError("X: the whitened training rows are all zero; nothing to scale")
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Whiten rows ``X`` of shape (n, n_features) with the fitted transform."""
        if not hasattr(self, "W_"):
            raise RuntimeError("PatchWhitener: call fit(X_train) before transform(X)")
        X = check_array(X, "X", ndim=2)
        if X.shape[1] != self.W_.shape[0]:
            raise ValueError(f"X: expected {self.W_.shape[0]} features as in fit, got {X.shape[1]}")
        return (self._centre(X) - self.mean_) @ self.W_ / self.scale_

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    __call__ = transform


def random_patches(
    images: Sequence[np.ndarray],
    size: int,
    n_per_image: int,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_image`` square patches from each image, top-left corners uniform where they fit.

    Parameters
    ----------
    images : sequence of 2-D arrays (grey) or 3-D arrays ``(H, W, C)`` (colour)
    size : int >= 1
        Patch side in pixels; must fit in every image.
    n_per_image : int >= 1
    random_state : int, Generator or None

    Returns
    -------
    X : numpy.ndarray of shape (len(images) * n_per_image, size * size [* C])
        Patches flattened row-major (channels last), image by image.
    groups : numpy.ndarray of shape (len(images) * n_per_image,)
        int64 index of the image each patch came from.

    >>> X, g = random_patches([np.arange(16.0).reshape(4, 4)], 4, 2)
    >>> X.shape, g.tolist(), bool((X[0] == np.arange(16.0)).all())
    ((2, 16), [0, 0], True)
    """
    for name, v in (("size", size), ("n_per_image", n_per_image)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    if len(images) == 0:
        raise ValueError("images: expected at least one image, got none")
    small = [i for i, im in enumerate(images) if min(np.shape(im)[:2]) < size]
    if small:
        raise ValueError(
            f"size: patches of {size} pixels do not fit in image(s) {small[:5]} (smallest side "
            f"{min(min(np.shape(images[i])[:2]) for i in small)})"
        )
    rng = check_random_state(random_state)
    X, groups = [], []
    for k, im in enumerate(images):
        img = np.asarray(im, dtype=np.float64)
        rows = rng.integers(0, img.shape[0] - size + 1, n_per_image)
        cols = rng.integers(0, img.shape[1] - size + 1, n_per_image)
        X.append(np.stack([img[r : r + size, c : c + size].ravel() for r, c in zip(rows, cols)]))
        groups.append(np.full(n_per_image, k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(groups)
