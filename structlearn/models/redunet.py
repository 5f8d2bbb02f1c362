r"""ReduNet: a network written down, layer by layer, from the gradient of the rate reduction ΔR.

Implements Chan, Yu, You, Qi, Wright & Ma (2022), "ReduNet: a white-box deep network from the
principle of maximizing rate reduction", JMLR 23(114): the vector ReduNet (:class:`ReduNet`) and the
shift-invariant ReduNet for multichannel 1-D signals (:class:`ShiftInvariantReduNet1D`) and images
(:class:`ShiftInvariantReduNet2D`), whose operators are circulant and therefore applied per frequency
after an FFT.

Each layer is one projected gradient-ascent step on ΔR of the current training features (see
:mod:`structlearn.models.blocks` for the derivation),

.. math::

    z \leftarrow P_S\Big(z + \eta\big(Ez - \textstyle\sum_j \gamma_j\hat\pi_j(z)C^jz\big)\Big),\qquad
    \hat\pi_j(z) = \mathrm{softmax}_j(-\lambda\|C^jz\|),

with E and :math:`C^j` computed once from the training features and labels and then frozen. As in
the published code, training samples also pass with the *estimated* membership
:math:`\hat\pi`, so ``transform(X_train)`` reproduces the training features exactly.

**ε.** ``eps`` is :math:`\varepsilon` itself (the paper's equations). The published code passes
:math:`\varepsilon^2` under the name ``eps``: its ``eps=0.1`` is ``eps=0.1**0.5`` here.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from structlearn.models.blocks import (
    _freq_major,
    _freq_weights,
    check_class_labels,
    check_features,
    check_fitted_features,
    circular_lift,
    fourier_delta_R,
    fourier_layer,
    fourier_operators,
    redunet_layer,
    redunet_operators,
    sphere,
)
from structlearn.models.subspace import class_subspaces, predict_with_subspaces
from structlearn.objectives.coding_rate import delta_R_nats
from structlearn.utils.validation import (
    check_count,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["ReduNet", "ShiftInvariantReduNet1D", "ShiftInvariantReduNet2D"]


def _check_redunet_params(est: BaseEstimator) -> None:
    check_count(est.n_layers, "n_layers")
    check_scalar(est.eta, "eta", low=0, low_inclusive=False)
    check_scalar(est.eps, "eps", low=0, low_inclusive=False)
    check_scalar(est.lmbda, "lmbda", low=0)


class _ReduNetBase(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Shared plumbing: tags and the documented exceptions to scikit-learn's common checks."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _expected_failed_checks(self) -> dict[str, str]:
        """scikit-learn common checks that cannot apply, with the reason (see the tests)."""
        return {
            "check_classifiers_train": (
                "ReduNet projects every sample onto the unit sphere (P_S), keeping only its "
                "direction; the check's 2-D blobs centred at the origin are told apart partly by "
                "their norm, which no ReduNet can see (the paper's setting is d >> 1)"
            ),
        }


class ReduNet(_ReduNetBase):
    r"""Vector ReduNet (Chan et al. 2022): layers computed in closed form from ΔR, no backprop.

    Parameters
    ----------
    n_layers : int >= 1
        Number of layers (gradient steps on ΔR).
    eta : float > 0
        Step size η.
    eps : float > 0
        Distortion ε of the coding rate (ε itself, not the published code's ε²).
    lmbda : float >= 0
        Sharpness λ of the estimated membership :math:`\hat\pi_j(z)=\mathrm{softmax}(-\lambda\|C^jz\|)`.
    n_components : int >= 1 or None
        Dimension of each class's subspace for the nearest-subspace classifier of :meth:`predict`
        (default ``max(1, n_features // n_classes)``, capped by the class size).
    random_state : None
        Not used (the vector ReduNet is deterministic); accepted so that every layer-wise learner
        takes the same arguments in sweeps.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    E_ : ndarray of shape (n_layers, n_features, n_features), each layer's expansion operator
    C_ : ndarray of shape (n_layers, n_classes, n_features, n_features), compression operators
    gamma_ : ndarray of shape (n_classes,), class proportions :math:`m_j/m`
    delta_R_ : ndarray of shape (n_layers + 1,)
        ΔR (nats, with the true labels) of the training features: entry 0 on the input projected
        onto the sphere, entry l after layer l.
    train_membership_accuracy_ : ndarray of shape (n_layers,)
        How often layer l's estimated membership :math:`\arg\max_j\hat\pi_j` is the true class.
    subspaces_ : ndarray of shape (n_classes, n_features, n_components)
        Orthonormal bases of each class's principal subspace of the output features.
    n_features_in_ : int

    Notes
    -----
    :meth:`predict` is nearest subspace on the output features, the classifier used with ReduNet's
    and MCR²'s features: class :math:`\arg\min_j \|z - U_jU_j^\top z\|` with :math:`U_j` the top
    right singular vectors of class j's output training features (uncentred).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> X = np.where(y[:, None] == 0, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    >>> X = X + 0.2 * rng.standard_normal((40, 3))
    >>> net = ReduNet(n_layers=3).fit(X, y)
    >>> bool(np.all(np.diff(net.delta_R_) > 0)), net.score(X, y)
    (True, 1.0)
    """

    def __init__(
        self,
        n_layers: int = 10,
        eta: float = 0.5,
        eps: float = 0.5,
        lmbda: float = 500.0,
        n_components: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.eta = eta
        self.eps = eps
        self.lmbda = lmbda
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> ReduNet:
        """Build the layers from training features X (n_samples, n_features) and labels y."""
        _check_redunet_params(self)
        if self.n_components is not None:
            check_scalar(self.n_components, "n_components", kind=numbers.Integral, low=1)
        X = check_features(X)
        self.classes_, codes = check_class_labels(y, X.shape[0])
        k = self.classes_.size
        Z = sphere(X)
        E, C, delta_R, hits = [], [], [delta_R_nats(Z, codes, self.eps, n_classes=k)], []
        for _ in range(self.n_layers):
            E_l, C_l, self.gamma_ = redunet_operators(Z, codes, k, self.eps)
            Z, pi = redunet_layer(Z, E_l, C_l, self.gamma_, self.eta, self.lmbda)
            E.append(E_l)
            C.append(C_l)
            delta_R.append(delta_R_nats(Z, codes, self.eps, n_classes=k))
            hits.append(np.mean(pi.argmax(axis=1) == codes))
        self.E_, self.C_ = np.stack(E), np.stack(C)
        self.delta_R_ = np.array(delta_R)
        self.train_membership_accuracy_ = np.array(hits)
        self.subspaces_ = class_subspaces(Z, codes, self.n_components)
        self.n_features_in_ = X.shape[1]
        self.input_shape_ = X.shape[1:]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Pass X (n_samples, n_features) through every layer; returns (n_samples, n_features)."""
        return self.transform_all(X)[-1]

    def transform_all(self, X: np.ndarray) -> list[np.ndarray]:
        """The input on the sphere, then every layer's output: ``n_layers + 1`` arrays."""
        Z = sphere(check_fitted_features(self, X))
        out = [Z]
        for E_l, C_l in zip(self.E_, self.C_):
            Z, _ = redunet_layer(Z, E_l, C_l, self.gamma_, self.eta, self.lmbda)
            out.append(Z)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Nearest-subspace class of each sample of X (n_samples, n_features)."""
        Z = self.transform(X)  # checks fitted first
        return self.classes_[predict_with_subspaces(self.subspaces_, Z)]


class ShiftInvariantReduNet1D(_ReduNetBase):
    _signal_ndim = 1

    r"""Shift-invariant ReduNet for multichannel 1-D signals (Chan et al. 2022, Section 4).

    The input is lifted by fixed random circular filters (``lift_channels`` Gaussian kernels of
    length ``kernel_size``, an optional ReLU), projected onto the unit sphere of
    :math:`\mathbb{R}^{C\times T}`, and passed through layers whose E and :math:`C^j` are circulant:
    after an FFT each is one small ``(C, C)`` matrix per frequency (:func:`~structlearn.models.
    blocks.fourier_operators`). Every stage commutes with circular shifts of the input.

    Parameters
    ----------
    n_layers : int >= 1
    eta : float > 0, step size η
    eps : float > 0, distortion ε (not ε²)
    lmbda : float >= 0, sharpness λ of the estimated membership
    lift_channels : int >= 1 or None
        Channels after the random lifting; None skips lifting (the input channels are used).
    kernel_size : int >= 1, length of the random lifting filters
    lift_activation : {"relu", "identity"}
    random_state : int, Generator or None, seeds the lifting filters

    Input ``X`` has shape (n_samples, n_channels, length), or (n_samples, length) for one channel.

    Attributes
    ----------
    kernels_ : ndarray of shape (lift_channels, n_channels, kernel_size)
    E_ : complex ndarray of shape (n_layers, length // 2 + 1, C, C), per-frequency expansion blocks
    C_ : complex ndarray of shape (n_layers, n_classes, length // 2 + 1, C, C)
    delta_R_ : ndarray of shape (n_layers + 1,), ΔR (nats) of all circular shifts of the training
        features, after lifting (entry 0) and after each layer
    classes_, gamma_, n_features_in_ : as in :class:`ReduNet`

    Notes
    -----
    :meth:`predict` returns :math:`\arg\min_j\|C^j_{\mathrm{out}} \circledast z\|`, the membership the
    next layer would estimate, with :math:`C^j_{\mathrm{out}}` computed from the output training
    features. It is invariant to circular shifts (nearest subspace on the flattened signal is not).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 2, 8)), np.repeat([0, 1, 2], 10)
    >>> net = ShiftInvariantReduNet1D(n_layers=2, lift_channels=4, random_state=0).fit(X, y)
    >>> shifted = net.transform(np.roll(X, 3, axis=-1))
    >>> bool(np.allclose(shifted, np.roll(net.transform(X), 3, axis=-1)))
    True
    """

    def __init__(
        self,
        n_layers: int = 5,
        eta: float = 0.5,
        eps: float = 0.5,
        lmbda: float = 500.0,
        lift_channels: int | None = 16,
        kernel_size: int = 5,
        lift_activation: str = "relu",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.eta = eta
        self.eps = eps
        self.lmbda = lmbda
        self.lift_channels = lift_channels
        self.kernel_size = kernel_size
        self.lift_activation = lift_activation
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # (n_samples, n_channels, length)
        return tags

    def _as_signals(self, X: np.ndarray) -> np.ndarray:
        """Add the channel axis to one-channel input (n_samples, *spatial)."""
        return X[:, None] if X.ndim == 1 + self._signal_ndim else X

    def _input_ndims(self) -> tuple[int, int]:
        return (1 + self._signal_ndim, 2 + self._signal_ndim)

    def _lift(self, X: np.ndarray) -> np.ndarray:
        X = self._as_signals(X)
        if self.kernels_ is not None:
            X = circular_lift(X, self.kernels_)
            if self.lift_activation == "relu":
                X = np.maximum(X, 0.0)
        return sphere(X, axes=tuple(range(1, X.ndim)))

    def fit(self, X: np.ndarray, y: np.ndarray) -> ShiftInvariantReduNet1D:
        """Lift, then build the layers from signals X and labels y (n_samples,)."""
        _check_redunet_params(self)
        check_scalar(self.kernel_size, "kernel_size", kind=numbers.Integral, low=1)
        if self.lift_channels is not None:
            check_scalar(self.lift_channels, "lift_channels", kind=numbers.Integral, low=1)
        check_option(self.lift_activation, "lift_activation", ["relu", "identity"])
        X = check_features(X, ndim=self._input_ndims())
        self.classes_, codes = check_class_labels(y, X.shape[0])
        k = self.classes_.size
        rng = check_random_state(self.random_state)
        self.kernels_ = None
        if self.lift_channels is not None:
            n_in = self._as_signals(X).shape[1]
            shape = (self.lift_channels, n_in, *[self.kernel_size] * self._signal_ndim)
            self.kernels_ = rng.standard_normal(shape)
        Z = self._lift(X)
        E, C, delta_R = [], [], [fourier_delta_R(Z, codes, k, self.eps)]
        for _ in range(self.n_layers):
            E_l, C_l, self.gamma_ = fourier_operators(Z, codes, k, self.eps)
            Z, _ = fourier_layer(Z, E_l, C_l, self.gamma_, self.eta, self.lmbda)
            E.append(E_l)
            C.append(C_l)
            delta_R.append(fourier_delta_R(Z, codes, k, self.eps))
        self.E_, self.C_ = np.stack(E), np.stack(C)
        self.delta_R_ = np.array(delta_R)
        _, self.output_compression_, _ = fourier_operators(Z, codes, k, self.eps)
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        self.input_shape_ = X.shape[1:]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Signals X → output features of shape (n_samples, C, length)."""
        return self.transform_all(X)[-1]

    def transform_all(self, X: np.ndarray) -> list[np.ndarray]:
        """The lifted input on the sphere, then every layer's output: ``n_layers + 1`` arrays."""
        Z = self._lift(check_fitted_features(self, X, ndim=self._input_ndims()))
        out = [Z]
        for E_l, C_l in zip(self.E_, self.C_):
            Z, _ = fourier_layer(Z, E_l, C_l, self.gamma_, self.eta, self.lmbda)
            out.append(Z)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        r"""Class j minimising :math:`\|C^j_{\mathrm{out}} \circledast z\|` (see Notes)."""
        Z = self.transform(X)
        CV = self.output_compression_ @ _freq_major(Z)[None]  # (k, f, c, n)
        energy = np.einsum("jfn,f->jn", (np.abs(CV) ** 2).sum(axis=2), _freq_weights(Z.shape[2:]))
        return self.classes_[np.argmin(energy, axis=0)]


class ShiftInvariantReduNet2D(ShiftInvariantReduNet1D):
    r"""Shift-invariant ReduNet for multichannel images (Chan et al. 2022, Section 4, 2-D case).

    As :class:`ShiftInvariantReduNet1D`, with 2-D circular shifts: the lifting kernels are
    ``kernel_size × kernel_size``, the operators are doubly block-circulant, one ``(C, C)`` block per
    2-D frequency after an ``rfft2``, and α = C·H·W/(m ε²). Input ``X`` has shape
    (n_samples, n_channels, height, width), or (n_samples, height, width) for one channel.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((20, 6, 6)), np.repeat([0, 1], 10)
    >>> net = ShiftInvariantReduNet2D(n_layers=2, lift_channels=3, kernel_size=3, random_state=0)
    >>> out = net.fit(X, y).transform(X)
    >>> shifted = net.transform(np.roll(X, (2, 1), axis=(1, 2)))
    >>> out.shape, bool(np.allclose(shifted, np.roll(out, (2, 1), axis=(2, 3))))
    ((20, 3, 6, 6), True)
    """

    _signal_ndim = 2

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images: 3-D or 4-D input, the common checks skip
        tags.input_tags.three_d_array = True
        return tags
