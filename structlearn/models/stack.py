r"""Stacks of sparse-coding (or InfoMax / ICA) layers, each learned on the previous layer's codes.

Each layer learns a dictionary by online sparse coding (Mairal, Bach, Ponce & Sapiro 2010,
"Online learning for matrix factorization and sparse coding", JMLR; through
:mod:`structlearn.utils.spams`) or an InfoMax filter bank (Bell & Sejnowski 1995, "An
information-maximization approach to blind separation and blind deconvolution"; computed with
scikit-learn's FastICA, Hyvärinen & Oja 2000), on the codes of the layer below, as in the
hierarchical sparse-coding models of Olshausen & Field (1996) and their stacked successors. With
``group_size`` the codes are group-sparse (group lasso: atoms fire together within a group) and the
next layer sees one pooled value per group, the l2 energy of the group (independent subspace
analysis, Hyvärinen & Hoyer 2000) or its largest magnitude.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import FastICA

from structlearn.models.blocks import check_features, check_fitted_features, pool_groups
from structlearn.utils.spams import group_sparse_encode, sparse_encode, train_dictionary
from structlearn.utils.validation import check_count, check_option, check_random_state, check_scalar

__all__ = ["SparseCodingStack"]


class SparseCodingStack(TransformerMixin, BaseEstimator):
    r"""Layer-wise stack of sparse-coding or ICA layers (unsupervised).

    Layer l learns ``n_atoms[l]`` atoms on its input :math:`H_l` (``H_1 = X``) and codes it:

    * ``method="sparse_coding"``: :math:`\min_{D,a}\tfrac12\|h - D^\top a\|^2 + \lambda_1\|a\|_1`
      (SPAMS ``trainDL`` then LARS lasso), or with ``group_size`` the group lasso
      :math:`\lambda_1\sum_g\|a_g\|_2` over consecutive groups of atoms;
    * ``method="ica"``: FastICA's unmixing filters; the codes are the independent components.

    The next layer's input is the codes pooled over groups (``group_size`` and ``pooling`` given)
    or the codes themselves.

    Parameters
    ----------
    n_layers : int >= 1
    n_atoms : int or sequence of int (one per layer)
        Atoms (sparse coding; may be overcomplete) or components (ICA; at most the layer's input
        dimension). A multiple of ``group_size`` when groups are used.
    lambda1 : float > 0, the (group) sparsity weight (sparse coding only)
    group_size : int >= 1 or None, atoms per group; None: plain sparse codes, no pooling
    pooling : {"l2", "max", None}, pooling over groups between layers (None: pass the codes)
    method : {"sparse_coding", "ica"}
    n_iter : int >= 1, dictionary-learning iterations (sparse coding) or FastICA's ``max_iter``
    random_state : int, Generator or None, seeds every layer's initialisation

    Attributes
    ----------
    components_ : list of ndarray, layer l's atoms or unmixing filters, shape (n_atoms[l], n_inputs[l])
    ica_ : list of FastICA or None, the fitted ICA models (``method="ica"``)
    n_features_in_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.laplace(size=(200, 8)) @ rng.standard_normal((8, 8))
    >>> stack = SparseCodingStack(n_layers=2, n_atoms=[8, 4], lambda1=0.1, group_size=2,
    ...                           n_iter=50, random_state=0).fit(X)
    >>> [codes.shape for codes in stack.transform_all(X)]
    [(200, 8), (200, 4)]
    """

    def __init__(
        self,
        n_layers: int = 2,
        n_atoms: int | Sequence[int] = 64,
        lambda1: float = 0.1,
        group_size: int | None = None,
        pooling: str | None = "l2",
        method: str = "sparse_coding",
        n_iter: int = 200,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.n_atoms = n_atoms
        self.lambda1 = lambda1
        self.group_size = group_size
        self.pooling = pooling
        self.method = method
        self.n_iter = n_iter
        self.random_state = random_state

    def _atoms_per_layer(self) -> list[int]:
        check_count(self.n_layers, "n_layers")
        if isinstance(self.n_atoms, numbers.Integral) and not isinstance(self.n_atoms, bool):
            atoms = [self.n_atoms] * self.n_layers
        elif isinstance(self.n_atoms, list | tuple | np.ndarray):
            atoms = list(self.n_atoms)
        else:
            raise TypeError(
                f"n_atoms: expected an int or a list of ints (one per layer), got {self.n_atoms!r}"
            )
        if len(atoms) != self.n_layers:
            raise ValueError(
                f"n_atoms: expected an int or {self.n_layers} ints (one per layer), got {len(atoms)}"
            )
        for a in atoms:
            check_count(a, "n_atoms")
            if self.group_size is not None and a % self.group_size:
                raise ValueError(
                    f"group_size: expected a divisor of every layer's n_atoms, got group_size="
                    f"{self.group_size} with n_atoms={a}"
                )
        return atoms

    def _check_params(self) -> list[int]:
        check_option(self.method, "method", ["sparse_coding", "ica"])
        check_option(self.pooling, "pooling", ["l2", "max", None])
        check_scalar(self.lambda1, "lambda1", low=0, low_inclusive=False)
        check_count(self.n_iter, "n_iter")
        if self.group_size is not None:
            check_scalar(self.group_size, "group_size", kind=numbers.Integral, low=1)
        return self._atoms_per_layer()

    def _expected_failed_checks(self) -> dict[str, str]:
        """scikit-learn common checks that cannot apply, with the reason (see the tests)."""
        if self.method == "ica":
            return {}
        return {
            "check_fit2d_1feature": (
                "with one feature every unit-norm atom is +1 or -1, so atoms coincide; SPAMS's "
                "LARS returns all-zero codes on repeated atoms, which fit refuses (ValueError "
                "naming lambda1) rather than pass on silently"
            ),
        }

    def fit(self, X: np.ndarray, y: None = None) -> SparseCodingStack:
        """Learn every layer on X (n_samples, n_features), bottom up."""
        self._fit_transform_all(X)
        return self

    def fit_transform(self, X: np.ndarray, y: None = None) -> np.ndarray:
        """Fit, and return the last layer's codes of X (n_samples, n_atoms[-1])."""
        return self._fit_transform_all(X)[-1]

    def _fit_transform_all(self, X: np.ndarray) -> list[np.ndarray]:
        atoms = self._check_params()
        X = check_features(X)
        if X.shape[0] < 2:
            raise ValueError(f"X: got {X.shape[0]} sample; a dictionary needs at least 2 samples")
        rng = check_random_state(self.random_state)
        self.components_, self.ica_, codes, H = [], [], [], X
        for layer, n_atoms in enumerate(atoms):
            if self.method == "ica" and n_atoms > H.shape[1]:
                raise ValueError(
                    f"n_atoms: ICA layer {layer} can have at most as many components as its input "
                    f"has features, {H.shape[1]} feature(s), got n_atoms={n_atoms}"
                )
            self._fit_layer(H, n_atoms, rng)
            codes.append(self._encode(layer, H))
            if not np.any(codes[-1]):
                raise ValueError(
                    f"lambda1: every code of layer {layer} is zero; lambda1={self.lambda1} is too "
                    "large for this input (or its atoms coincide, as with one feature)"
                )
            H = self._next_input(codes[-1])
        if self.method != "ica":
            self.ica_ = None
        self.n_features_in_ = X.shape[1]
        self.input_shape_ = X.shape[1:]
        return codes

    def _fit_layer(self, H: np.ndarray, n_atoms: int, rng: np.random.Generator) -> None:
        if self.method == "ica":
            ica = FastICA(
                n_components=n_atoms,
                whiten="unit-variance",
                max_iter=self.n_iter,
                random_state=int(rng.integers(2**31 - 1)),
            ).fit(H)
            self.ica_.append(ica)
            self.components_.append(ica.components_)
            return
        D = train_dictionary(H, n_atoms, lambda1=self.lambda1, n_iter=self.n_iter, random_state=rng)
        self.components_.append(D)

    def _encode(self, layer: int, H: np.ndarray) -> np.ndarray:
        if self.method == "ica":
            return self.ica_[layer].transform(H)
        D = self.components_[layer]
        if self.group_size is None:
            with warnings.catch_warnings():  # all-zero codes: fit raises a clearer error itself
                warnings.simplefilter("ignore", RuntimeWarning)
                return sparse_encode(H, D, lambda1=self.lambda1)
        groups = np.arange(D.shape[0]) // self.group_size
        return group_sparse_encode(H, D, groups, lambda1=self.lambda1)

    def _next_input(self, codes: np.ndarray) -> np.ndarray:
        if self.group_size is None or self.pooling is None:
            return codes
        return pool_groups(codes, self.group_size, self.pooling)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The last layer's codes of X (n_samples, n_features): (n_samples, n_atoms[-1])."""
        return self.transform_all(X)[-1]

    def transform_all(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's codes of X, bottom up: layer l has shape (n_samples, n_atoms[l])."""
        H = check_fitted_features(self, X)
        codes = []
        for layer in range(len(self.components_)):
            codes.append(self._encode(layer, H))
            H = self._next_input(codes[-1])
        return codes
