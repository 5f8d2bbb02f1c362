r"""One layer each of the layer-wise learners: the pure math, on numpy arrays.

* ReduNet (Chan, Yu, You, Qi, Wright & Ma 2022, "ReduNet: a white-box deep network from the
  principle of maximizing rate reduction", JMLR 23(114)): :func:`redunet_operators` and
  :func:`redunet_layer` (vectors); :func:`fourier_operators` and :func:`fourier_layer` (the
  shift-invariant layer, one small matrix per frequency); :func:`circular_lift` (random lifting).
* R²SVM (Vinyals, Jia, Deng & Darrell 2012, "Learning with recursive perceptual representations",
  NIPS): :func:`r2svm_next_input`.
* Sparse-coding stacks: :func:`pool_groups` (pooling codes over groups between layers).

Rows are samples everywhere: features ``Z`` have shape ``(n_samples, n_features)`` and signals
``(n_samples, n_channels, length)``. The estimators (:mod:`structlearn.models.redunet`,
:mod:`~structlearn.models.r2svm`, :mod:`~structlearn.models.stack`) validate their input once with
the checks at the end of this module; the math functions do not validate.

**ReduNet's operators are the gradient of ΔR.** With :math:`\alpha = d/(m\varepsilon^2)`,
:math:`\alpha_j = d/(m_j\varepsilon^2)`, :math:`\gamma_j = m_j/m` and, in the rows-are-samples layout,
:math:`R = \tfrac12\log\det(I + \alpha Z^\top Z)`,
:math:`R_c = \sum_j \tfrac{\gamma_j}2\log\det(I + \alpha_j Z^\top\Pi_jZ)`,

.. math::

    \frac{\partial R}{\partial Z} = \alpha Z (I + \alpha Z^\top Z)^{-1} = Z E,\qquad
    \frac{\partial R_c}{\partial Z} = \sum_j \gamma_j \Pi_j Z C^j,

so the gradient of ΔR at sample :math:`z_i` is :math:`E z_i - \sum_j \gamma_j \pi_{ij} C^j z_i`
(E and :math:`C^j` are symmetric). The :math:`1/m` of the per-sample average is inside
:math:`\alpha` and :math:`\gamma_j`; no further factor appears. A ReduNet layer is one projected
gradient-ascent step of size η with the labels :math:`\pi_{ij}` replaced by the estimate
:math:`\hat\pi_j(z) = \mathrm{softmax}_j(-\lambda\|C^j z\|)`, so unlabelled samples pass too.

**ε.** ``eps`` is :math:`\varepsilon` itself. The authors' published code passes
:math:`\varepsilon^2` under the name ``eps`` (its scale is ``d / (m * eps)``): their ``eps=0.1`` is
``eps=0.1**0.5`` here.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_is_fitted

from structlearn.utils.validation import check_array, to_numpy

__all__ = [
    "circular_lift",
    "fourier_delta_R",
    "fourier_layer",
    "fourier_operators",
    "pool_groups",
    "r2svm_next_input",
    "redunet_layer",
    "redunet_operators",
    "rfft_weights",
    "sigmoid",
    "sphere",
]


# --------------------------------------------------------------------------- shared


def sphere(Z: np.ndarray, axes: tuple[int, ...] = (1,)) -> np.ndarray:
    """Project every sample onto the unit sphere (:math:`P_S`); an all-zero sample stays zero.

    >>> sphere(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    norms = np.sqrt(np.sum(Z * Z, axis=axes, keepdims=True))
    return Z / np.maximum(norms, np.finfo(np.float64).tiny)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, computed without overflow for large ``|x|``."""
    out = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _softmax_neg(norms: np.ndarray, lmbda: float) -> np.ndarray:
    """``softmax_j(-lmbda * norms[j])`` over axis 0 of ``norms`` (k, n), stably."""
    logits = -lmbda * norms
    logits -= logits.max(axis=0, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=0, keepdims=True)


# --------------------------------------------------------------------------- vector ReduNet


def _class_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(labels, minlength=n_classes).astype(np.float64)


def redunet_operators(
    Z: np.ndarray, labels: np.ndarray, n_classes: int, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Expansion operator E, compression operators :math:`C^j` and weights :math:`\gamma_j`.

    :math:`E = \alpha(I + \alpha Z^\top Z)^{-1}`, :math:`C^j = \alpha_j(I + \alpha_j Z^\top\Pi_jZ)^{-1}`
    with :math:`\alpha = d/(m\varepsilon^2)`, :math:`\alpha_j = d/(m_j\varepsilon^2)`,
    :math:`\gamma_j = m_j/m` (one batched inverse of ``k + 1`` SPD matrices).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    labels : int ndarray of shape (n_samples,), values in ``[0, n_classes)``, every class present
    n_classes : int
    eps : float > 0, the distortion :math:`\varepsilon`

    Returns
    -------
    E : ndarray of shape (n_features, n_features)
    C : ndarray of shape (n_classes, n_features, n_features)
    gamma : ndarray of shape (n_classes,)

    Examples
    --------
    Orthonormal data of one class: :math:`Z^\top Z = I`, so :math:`E = \alpha/(1+\alpha)\,I`.

    >>> E, C, gamma = redunet_operators(np.eye(2), np.array([0, 0]), 1, eps=1.0)
    >>> E  # alpha = 2 / (2 * 1) = 1
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    m, d = Z.shape
    counts = _class_counts(labels, n_classes)
    grams = np.empty((n_classes + 1, d, d))
    grams[0] = Z.T @ Z
    for j in range(n_classes):
        Zj = Z[labels == j]
        grams[j + 1] = Zj.T @ Zj
    alphas = d / (np.concatenate([[m], counts]) * eps**2)
    ops = alphas[:, None, None] * np.linalg.inv(np.eye(d) + alphas[:, None, None] * grams)
    return ops[0], ops[1:], counts / m


def redunet_layer(
    Z: np.ndarray,
    E: np.ndarray,
    C: np.ndarray,
    gamma: np.ndarray,
    eta: float,
    lmbda: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""One ReduNet layer: :math:`z \leftarrow P_S\big(z + \eta(Ez - \sum_j \gamma_j\hat\pi_j(z)C^jz)\big)`.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    E : ndarray of shape (n_features, n_features)
    C : ndarray of shape (n_classes, n_features, n_features)
    gamma : ndarray of shape (n_classes,)
    eta : float, step size; lmbda : float, softmax sharpness

    Returns
    -------
    Z_next : ndarray of shape (n_samples, n_features), rows of unit norm
    pi_hat : ndarray of shape (n_samples, n_classes), the estimated memberships
    """
    CZ = np.matmul(Z[None], C)  # (k, n, d): row i of CZ[j] is C^j z_i (C^j symmetric)
    pi = _softmax_neg(np.linalg.norm(CZ, axis=2), lmbda)  # (k, n)
    compress = np.einsum("j,jn,jnd->nd", gamma, pi, CZ)
    return sphere(Z + eta * (Z @ E - compress)), pi.T


# --------------------------------------------------------------------------- shift-invariant ReduNet


def rfft_weights(length: int) -> np.ndarray:
    """How many full-spectrum frequencies each ``rfft`` bin stands for (1 or 2)."""
    w = np.full(length // 2 + 1, 2.0)
    w[0] = 1.0
    if length % 2 == 0:
        w[-1] = 1.0
    return w


def _spatial_axes(Z: np.ndarray) -> tuple[int, ...]:
    """The signal axes of ``Z`` (n_samples, n_channels, *spatial): 1-D or 2-D signals."""
    return tuple(range(2, Z.ndim))


def _freq_weights(spatial: tuple[int, ...]) -> np.ndarray:
    """Weights of the flattened ``rfftn`` bins (full axes count once, the last is halved)."""
    w = rfft_weights(spatial[-1])
    return np.broadcast_to(w, (*spatial[:-1], w.size)).ravel()


def _freq_major(Z: np.ndarray) -> np.ndarray:
    """Signals (n, C, *spatial) -> their orthonormal ``rfftn``, flattened to (F, C, n)."""
    V = np.fft.rfftn(Z, axes=_spatial_axes(Z), norm="ortho")
    return np.ascontiguousarray(V.reshape(*V.shape[:2], -1).transpose(2, 1, 0))


def _from_freq_major(Vf: np.ndarray, spatial: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_freq_major`: (F, C, n) -> real signals (n, C, *spatial)."""
    n, c = Vf.shape[2], Vf.shape[1]
    V = Vf.transpose(2, 1, 0).reshape(n, c, *spatial[:-1], spatial[-1] // 2 + 1)
    return np.fft.irfftn(V, s=spatial, axes=tuple(range(2, 2 + len(spatial))), norm="ortho")


def _fourier_grams(Vf: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-frequency Gram matrices ``(k + 1, F, C, C)`` of ``Vf`` (F, C, n): all, then each class."""
    f, c, _ = Vf.shape
    grams = np.empty((n_classes + 1, f, c, c), dtype=np.complex128)
    grams[0] = Vf @ Vf.conj().transpose(0, 2, 1)
    for j in range(n_classes):
        Vj = Vf[:, :, labels == j]
        grams[j + 1] = Vj @ Vj.conj().transpose(0, 2, 1)
    return grams


def _fourier_alphas(shape: tuple[int, ...], counts: np.ndarray, eps: float) -> np.ndarray:
    """α for all samples then each class: C·T/(m ε²), T the number of positions (T1·T2 in 2-D)."""
    dim = int(np.prod(shape[1:]))
    return dim / (np.concatenate([[shape[0]], counts]) * eps**2)


def fourier_operators(
    Z: np.ndarray, labels: np.ndarray, n_classes: int, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Circulant E and :math:`C^j` of the shift-invariant ReduNet, one ``(C, C)`` block per frequency.

    With :math:`V_i(p)` the orthonormal DFT (``rfft``, ``norm="ortho"``) of signal :math:`z_i`
    (C channels, length T) at frequency p, :math:`\alpha = CT/(m\varepsilon^2)` and
    :math:`\alpha_j = CT/(m_j\varepsilon^2)`:

    .. math::

        E(p) = \alpha\big(I + \alpha\textstyle\sum_i V_i(p)V_i(p)^*\big)^{-1},\qquad
        C^j(p) = \alpha_j\big(I + \alpha_j\textstyle\sum_{i\in j} V_i(p)V_i(p)^*\big)^{-1}.

    These are the vector operators of the set of all circular shifts of the signals (m·T vectors
    of dimension C·T, whose α is :math:`C/(m\varepsilon^2)`), block-diagonalised by the DFT; the T
    of the shifts' count is absorbed by the orthonormal DFT. So :func:`fourier_delta_R` is exactly
    the vector ΔR of all shifted copies.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_channels, length), or (n_samples, n_channels, height,
        width) for images (2-D shifts: ``rfft2``, T = height·width, frequencies flattened)
    labels, n_classes, eps : as in :func:`redunet_operators`

    Returns
    -------
    E : complex ndarray of shape (n_freqs, n_channels, n_channels), ``n_freqs = length // 2 + 1``
        (``height * (width // 2 + 1)`` for images)
    C : complex ndarray of shape (n_classes, n_freqs, n_channels, n_channels)
    gamma : ndarray of shape (n_classes,)
    """
    counts = _class_counts(labels, n_classes)
    grams = _fourier_grams(_freq_major(Z), labels, n_classes)
    alphas = _fourier_alphas(Z.shape, counts, eps)[:, None, None, None]
    eye = np.eye(Z.shape[1])
    ops = alphas * np.linalg.inv(eye + alphas * grams)
    return ops[0], ops[1:], counts / Z.shape[0]


def fourier_delta_R(Z: np.ndarray, labels: np.ndarray, n_classes: int, eps: float) -> float:
    r"""ΔR (nats) of all circular shifts of the signals ``Z`` (n_samples, n_channels, length).

    :math:`\sum_p \tfrac12\log\det(I + \alpha G(p)) - \sum_j\gamma_j\tfrac12\log\det(I+\alpha_jG_j(p))`
    over the full spectrum, with the notation of :func:`fourier_operators`.
    """
    counts = _class_counts(labels, n_classes)
    grams = _fourier_grams(_freq_major(Z), labels, n_classes)
    alphas = _fourier_alphas(Z.shape, counts, eps)[:, None, None, None]
    _, logdet = np.linalg.slogdet(np.eye(Z.shape[1]) + alphas * grams)  # (k + 1, F)
    per_set = 0.5 * logdet @ _freq_weights(Z.shape[2:])
    return float(per_set[0] - (counts / Z.shape[0]) @ per_set[1:])


def fourier_layer(
    Z: np.ndarray,
    E: np.ndarray,
    C: np.ndarray,
    gamma: np.ndarray,
    eta: float,
    lmbda: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""One shift-invariant ReduNet layer, applied per frequency after an FFT.

    :math:`V \leftarrow V + \eta(E(p)V(p) - \sum_j\gamma_j\hat\pi_j C^j(p)V(p))`, then inverse FFT and
    projection onto the unit sphere of :math:`\mathbb{R}^{C\times T}`. The membership
    :math:`\hat\pi_j = \mathrm{softmax}_j(-\lambda\|C^j \circledast z\|)` uses the norm of the whole
    signal (Parseval), which a circular shift leaves unchanged: the layer commutes with shifts.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_channels, length) or (n_samples, n_channels, height, width)
    E, C, gamma : from :func:`fourier_operators`
    eta, lmbda : float

    Returns
    -------
    Z_next : ndarray of the shape of ``Z``
    pi_hat : ndarray of shape (n_samples, n_classes)
    """
    Vf = _freq_major(Z)  # (f, c, n)
    CV = C @ Vf[None]  # (k, f, c, n)
    energy = np.einsum("jfn,f->jn", (np.abs(CV) ** 2).sum(axis=2), _freq_weights(Z.shape[2:]))
    pi = _softmax_neg(np.sqrt(energy), lmbda)  # (k, n)
    step = E @ Vf - np.einsum("jn,jfcn->fcn", gamma[:, None] * pi, CV)
    Z_next = _from_freq_major(Vf + eta * step, Z.shape[2:])
    return sphere(Z_next, axes=(1, *_spatial_axes(Z))), pi.T


def circular_lift(X: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    r"""Multichannel circular convolution: :math:`y_o = \sum_c w_{oc} \circledast x_c`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, in_channels, \*spatial), spatial = (length,) or (height, width)
    kernels : ndarray of shape (out_channels, in_channels, \*kernel_shape); a kernel longer than
        the signal wraps around.

    Returns
    -------
    ndarray of shape (n_samples, out_channels, \*spatial)

    Examples
    --------
    >>> x = np.array([[[1.0, 0.0, 0.0, 0.0]]])
    >>> circular_lift(x, np.array([[[1.0, 2.0]]]))  # an impulse returns the kernel
    array([[[1., 2., 0., 0.]]])
    """
    spatial = X.shape[2:]
    axes = _spatial_axes(X)
    padded = np.zeros((*kernels.shape[:2], *spatial))
    for offset in np.ndindex(*kernels.shape[2:]):
        wrapped = tuple(o % t for o, t in zip(offset, spatial))
        padded[(..., *wrapped)] += kernels[(..., *offset)]
    spec_w = np.fft.rfftn(padded, axes=axes).reshape(*kernels.shape[:2], -1)
    spec_x = np.fft.rfftn(X, axes=axes)
    spectrum = np.einsum("ocf,ncf->nof", spec_w, spec_x.reshape(*X.shape[:2], -1), optimize=True)
    spectrum = spectrum.reshape(X.shape[0], kernels.shape[0], *spec_x.shape[2:])
    return np.fft.irfftn(spectrum, s=spatial, axes=axes)


# --------------------------------------------------------------------------- R²SVM, pooling


def r2svm_next_input(
    X1: np.ndarray, scores: np.ndarray, projection: np.ndarray, beta: float
) -> np.ndarray:
    r"""R²SVM's recursion :math:`x_{l+1} = \sigma(x_1 + \beta W_{l+1}[o_1;\dots;o_l])`.

    Parameters
    ----------
    X1 : ndarray of shape (n_samples, n_features), the original input
    scores : ndarray of shape (n_samples, l * n_scores), the layers' SVM scores side by side
    projection : ndarray of shape (n_features, l * n_scores), the random :math:`W_{l+1}`
    beta : float > 0

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    return sigmoid(X1 + beta * scores @ projection.T)


def pool_groups(codes: np.ndarray, group_size: int, pooling: str) -> np.ndarray:
    """Pool codes (n_samples, n_atoms) over consecutive groups of ``group_size`` atoms.

    ``"l2"``: the group's Euclidean norm (the energy a group-sparse code spends); ``"max"``: the
    largest absolute value. Returns shape (n_samples, n_atoms // group_size).

    >>> pool_groups(np.array([[3.0, 4.0, -1.0, 0.5]]), 2, "l2")
    array([[5.        , 1.11803399]])
    """
    grouped = codes.reshape(codes.shape[0], -1, group_size)
    if pooling == "l2":
        return np.sqrt(np.sum(grouped**2, axis=2))
    return np.max(np.abs(grouped), axis=2)


# --------------------------------------------------------------------------- input checks


def check_features(X: Any, name: str = "X", ndim: int | tuple[int, ...] = 2) -> np.ndarray:
    """Validate features as finite float64 of ``ndim`` dimensions, at least one sample and feature.

    Refuses sparse matrices, complex numbers and non-numeric objects with a message naming
    ``name``; numeric object arrays are converted.
    """
    if sp.issparse(X):
        raise TypeError(
            f"{name}: sparse input is not supported (got {type(X).__name__}); "
            "densify it with X.toarray()"
        )
    arr = to_numpy(X)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name}: Complex data not supported; expected real numbers")
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected numbers; {exc}") from exc
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim == 1 and 2 in ndims:
        raise ValueError(
            f"{name}: expected a 2-D array (n_samples, n_features), got 1-D with shape "
            f"{arr.shape}. Reshape your data with x.reshape(-1, 1) for one feature or "
            "x.reshape(1, -1) for one sample."
        )
    if arr.ndim in ndims and arr.ndim >= 2 and arr.shape[0] and 0 in arr.shape[1:]:
        raise ValueError(
            f"{name}: 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required."
        )
    return check_array(arr, name, ndim=ndim)


def check_fitted_features(
    estimator: Any, X: Any, ndim: int | tuple[int, ...] = 2, name: str = "X"
) -> np.ndarray:
    """Validate ``X`` at transform/predict: fitted estimator (else ``NotFittedError``), same shape.

    The message on a feature count that differs from fit follows scikit-learn's wording.
    """
    check_is_fitted(estimator)
    X = check_features(X, name, ndim)
    expected = tuple(estimator.input_shape_)
    if X.shape[1:] != expected:
        n_got, n_want = int(np.prod(X.shape[1:])), int(np.prod(expected))
        raise ValueError(
            f"{name} has {n_got} features, but {type(estimator).__name__} is expecting {n_want} "
            f"features as input (per-sample shape {expected} at fit, got {X.shape[1:]})"
        )
    return X


def check_class_labels(y: Any, n_samples: int, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Validate classification targets; return ``(classes, codes)`` with codes in ``[0, k)``.

    Integer, boolean and string labels are classes; floats must be whole numbers (a continuous
    target is refused); at least two classes are needed.
    """
    if y is None:
        raise ValueError(
            f"{name}: this estimator requires y to be passed, but the target y is None"
        )
    arr = to_numpy(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; "
            f"{name} was flattened with y.ravel()",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D vector of class labels, got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"{name}: has {arr.shape[0]} labels but X has {n_samples} samples; they must match"
        )
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(
                f"{name}: Unknown label type: expected integer (or string) class labels, got "
                "non-integer floats (a continuous target); a classifier needs discrete classes"
            )
    elif np.iscomplexobj(arr):
        raise ValueError(f"{name}: Unknown label type: complex labels are not classes")
    classes, codes = np.unique(arr, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"{name}: expected at least 2 classes, got 1 class ({classes[0]!r}); a classifier "
            "can't train when only one class is present"
        )
    return classes, codes.astype(np.int64)
