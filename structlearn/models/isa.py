r"""Independent subspace analysis and topographic ICA: orthonormal filters on whitened data whose
*pooled energies* are independent.

Both maximise the log-likelihood of an energy model, with whitened inputs :math:`z` (PCA to
``n_components`` dimensions), an orthonormal :math:`W` (rows :math:`w_j`), responses
:math:`y_j = w_j^\top z` and a non-negative neighbourhood matrix :math:`H`:

.. math:: J(W) = \frac1n \sum_{n}\sum_i G\Big(\sum_j H_{ij}\, y_{nj}^2\Big),
          \qquad G(u) = -\sqrt{\varepsilon + u}, \qquad W W^\top = I.

- **ISA** (Hyvärinen & Hoyer 2000, "Emergence of phase- and shift-invariant features by
  decomposition of natural images into independent feature subspaces", Neural Computation 12):
  :math:`H` is block diagonal, one block per subspace of ``subspace_size`` consecutive units;
  the likelihood depends on the subspace norms :math:`\|W_g z\|` only, so the basis inside a
  subspace is not identifiable (measure subspaces, not single filters).
- **Topographic ICA** (Hyvärinen, Hoyer & Inki 2001, "Topographic independent component
  analysis", Neural Computation 13): the units sit on a 2-D torus and :math:`H_{ij} = 1` when unit
  :math:`j` lies in the square neighbourhood of radius ``radius`` around :math:`i`: overlapping
  neighbourhoods, so nearby units are dependent through their energies.

Learning: gradient ascent on :math:`J`, each step followed by symmetric orthonormalisation
:math:`W \leftarrow (WW^\top)^{-1/2}W`; a step that lowers :math:`J` is retried at half the step
size, so the recorded objective never decreases.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from structlearn.models.blocks import check_features, check_fitted_features
from structlearn.utils.validation import check_random_state, check_scalar

__all__ = [
    "IndependentSubspaceAnalysis",
    "TopographicICA",
    "energy_objective",
    "subspace_neighbourhoods",
    "torus_neighbourhoods",
]


def subspace_neighbourhoods(n_components: int, subspace_size: int) -> np.ndarray:
    """ISA's block-diagonal neighbourhood matrix, shape (n_subspaces, n_components).

    >>> subspace_neighbourhoods(4, 2).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
    groups = np.arange(n_components) // subspace_size
    return (groups[None, :] == np.arange(n_components // subspace_size)[:, None]).astype(float)


def torus_neighbourhoods(map_shape: tuple[int, int], radius: int) -> np.ndarray:
    """Topographic ICA's neighbourhoods on a 2-D torus, shape (n_units, n_units), units row-major.

    ``H[i, j] = 1`` when unit ``j`` is within ``radius`` of unit ``i`` in both map coordinates
    (wrapping around).

    >>> torus_neighbourhoods((1, 5), 1)[0].tolist()
    [1.0, 1.0, 0.0, 0.0, 1.0]
    """
    rows, cols = map_shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    dr = np.abs(r[:, None] - r[None, :])
    dc = np.abs(c[:, None] - c[None, :])
    dr, dc = np.minimum(dr, rows - dr), np.minimum(dc, cols - dc)
    return ((dr <= radius) & (dc <= radius)).astype(float)


def energy_objective(Y: np.ndarray, H: np.ndarray, eps: float) -> float:
    r""":math:`\frac1n\sum_n\sum_i G(\sum_j H_{ij} y_{nj}^2)` with :math:`G(u) = -\sqrt{\varepsilon+u}`.

    Y : (n_samples, n_components) responses; H : (n_pools, n_components).

    >>> energy_objective(np.array([[3.0, 4.0]]), np.ones((1, 2)), 0.0)
    -5.0
    """
    return float(-np.sqrt(eps + (Y**2) @ H.T).sum(axis=1).mean())


def _orthonormalise(W: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(W, full_matrices=False)
    return u @ vt


def _ascend(
    Z: np.ndarray, H: np.ndarray, W: np.ndarray, n_iter: int, step: float, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Projected gradient ascent of :func:`energy_objective`; returns W and the objective path."""
    path = [energy_objective(Z @ W.T, H, eps)]
    for _ in range(n_iter):
        Y = Z @ W.T
        gprime = -0.5 / np.sqrt(eps + (Y**2) @ H.T)  # G'(E), (n, n_pools)
        grad = ((gprime @ H) * 2 * Y).T @ Z / len(Z)  # (k, d)
        while True:
            trial = _orthonormalise(W + step * grad)
            value = energy_objective(Z @ trial.T, H, eps)
            if value >= path[-1] or step < 1e-8:
                break
            step /= 2
        if value < path[-1]:
            break  # no ascent direction left at this precision
        W = trial
        path.append(value)
    return W, np.asarray(path)


class _EnergyModel(TransformerMixin, BaseEstimator):
    """Shared fit/transform of ISA and topographic ICA (see the module docstring)."""

    def _neighbourhoods(self, n_components: int) -> np.ndarray:
        raise NotImplementedError

    def _n_components(self, n_features: int) -> int:
        raise NotImplementedError

    def _check_common(self) -> None:
        check_scalar(self.n_iter, "n_iter", kind=numbers.Integral, low=1)
        check_scalar(self.step_size, "step_size", low=0, low_inclusive=False)
        check_scalar(self.eps, "eps", low=0, low_inclusive=False)

    def fit(self, X: Any, y: None = None) -> _EnergyModel:
        """Whiten X (n_samples, n_features) to ``n_components`` dims and learn W."""
        self._check_common()
        X = check_features(X)
        if X.shape[0] < 2:
            raise ValueError(f"X: got {X.shape[0]} sample; whitening needs at least 2 samples")
        k = self._n_components(X.shape[1])
        H = self._neighbourhoods(k)
        self.mean_ = X.mean(axis=0)
        lam, V = np.linalg.eigh(np.cov(X - self.mean_, rowvar=False).reshape(X.shape[1], -1))
        top = np.argsort(lam)[::-1][:k]
        lam = np.maximum(lam[top], 1e-10 * max(float(lam.max()), 1e-300))
        self.whitening_ = (V[:, top] / np.sqrt(lam)).T  # (k, n_features)
        self.dewhitening_ = V[:, top] * np.sqrt(lam)  # (n_features, k)
        Z = (X - self.mean_) @ self.whitening_.T
        rng = check_random_state(self.random_state)
        W0 = _orthonormalise(rng.standard_normal((k, k)))
        self.unmixing_, self.objective_ = _ascend(Z, H, W0, self.n_iter, self.step_size, self.eps)
        self.components_ = self.unmixing_ @ self.whitening_  # filters in input space
        self.basis_ = (self.dewhitening_ @ self.unmixing_.T).T  # generative basis, rows
        self.neighbourhoods_ = H
        self.n_features_in_ = X.shape[1]
        self.input_shape_ = X.shape[1:]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Linear responses :math:`y = W z` of X (n_samples, n_features): (n_samples, k)."""
        X = check_fitted_features(self, X)
        return (X - self.mean_) @ self.components_.T

    def pool(self, X: Any) -> np.ndarray:
        r"""Pooled energies :math:`\sqrt{\sum_j H_{ij} y_j^2}`, (n_samples, n_pools)."""
        return np.sqrt((self.transform(X) ** 2) @ self.neighbourhoods_.T)


class IndependentSubspaceAnalysis(_EnergyModel):
    """Independent subspace analysis (Hyvärinen & Hoyer 2000).

    Parameters
    ----------
    n_components : int or None, units kept after PCA whitening, a multiple of ``subspace_size``
        (None: the largest multiple not above n_features)
    subspace_size : int >= 1, units per subspace (consecutive units)
    n_iter : int >= 1, gradient steps; step_size : float > 0, initial step
    eps : float > 0, smoothing of :math:`G(u) = -\\sqrt{\\varepsilon + u}`
    random_state : int, Generator or None (the initial orthonormal W)

    Attributes
    ----------
    components_ : ndarray (k, n_features), filters in input space (``transform`` = X @ filters.T)
    basis_ : ndarray (k, n_features), generative basis vectors (rows), the inverse of the filters
        on the whitened subspace
    unmixing_ : ndarray (k, k), orthonormal W on whitened data
    objective_ : ndarray, :func:`energy_objective` after each accepted step (non-decreasing)
    groups_ : ndarray (k,), subspace of each unit

    Examples
    --------
    >>> X = np.random.default_rng(0).laplace(size=(500, 6))
    >>> isa = IndependentSubspaceAnalysis(4, 2, n_iter=20, random_state=0).fit(X)
    >>> isa.transform(X).shape, isa.pool(X).shape, bool(np.all(np.diff(isa.objective_) >= 0))
    ((500, 4), (500, 2), True)
    """

    def __init__(
        self,
        n_components: int | None = None,
        subspace_size: int = 2,
        *,
        n_iter: int = 200,
        step_size: float = 1.0,
        eps: float = 0.1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_components = n_components
        self.subspace_size = subspace_size
        self.n_iter = n_iter
        self.step_size = step_size
        self.eps = eps
        self.random_state = random_state

    def _n_components(self, n_features: int) -> int:
        s = check_scalar(self.subspace_size, "subspace_size", kind=numbers.Integral, low=1)
        if self.n_components is None:
            k = (n_features // s) * s
            if k == 0:
                raise ValueError(
                    f"X: has {n_features} feature(s), fewer than subspace_size={s}; one "
                    "subspace needs subspace_size whitened dimensions"
                )
            return k
        k = check_scalar(self.n_components, "n_components", kind=numbers.Integral, low=1)
        if k % s or k > n_features:
            raise ValueError(
                f"n_components: expected a multiple of subspace_size={s} and at most n_features="
                f"{n_features}, got {k}"
            )
        return k

    def _neighbourhoods(self, n_components: int) -> np.ndarray:
        self.groups_ = np.arange(n_components) // self.subspace_size
        return subspace_neighbourhoods(n_components, self.subspace_size)


class TopographicICA(_EnergyModel):
    """Topographic ICA (Hyvärinen, Hoyer & Inki 2001): units on a 2-D torus, overlapping pools.

    Parameters
    ----------
    map_shape : (rows, cols), the map; ``rows * cols`` units are kept after PCA whitening
    radius : int >= 0, neighbourhood half-width (1: 3x3 squares; 0 is plain ICA)
    n_iter, step_size, eps, random_state : as for :class:`IndependentSubspaceAnalysis`

    Attributes
    ----------
    components_, basis_, unmixing_, objective_ : as for :class:`IndependentSubspaceAnalysis`
    neighbourhoods_ : ndarray (k, k), H

    Examples
    --------
    >>> X = np.random.default_rng(0).laplace(size=(500, 6))
    >>> tica = TopographicICA((2, 3), radius=1, n_iter=10, random_state=0).fit(X)
    >>> tica.components_.shape, tica.pool(X).shape
    ((6, 6), (500, 6))
    """

    def __init__(
        self,
        map_shape: tuple[int, int] = (2, 2),
        radius: int = 1,
        *,
        n_iter: int = 200,
        step_size: float = 1.0,
        eps: float = 0.1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.map_shape = map_shape
        self.radius = radius
        self.n_iter = n_iter
        self.step_size = step_size
        self.eps = eps
        self.random_state = random_state

    def _map(self) -> tuple[int, int]:
        shape = tuple(self.map_shape) if isinstance(self.map_shape, tuple | list) else ()
        if len(shape) != 2 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in shape
        ):
            raise ValueError(f"map_shape: expected (rows, cols) of positive ints, got {shape!r}")
        return int(shape[0]), int(shape[1])

    def _n_components(self, n_features: int) -> int:
        rows, cols = self._map()
        if rows * cols > n_features:
            raise ValueError(
                f"map_shape: {rows}x{cols} = {rows * cols} units need at least as many features; "
                f"X has {n_features} feature(s)"
            )
        return rows * cols

    def _neighbourhoods(self, n_components: int) -> np.ndarray:
        check_scalar(self.radius, "radius", kind=numbers.Integral, low=0)
        return torus_neighbourhoods(self._map(), self.radius)

    def block_groups(self, block: tuple[int, int]) -> np.ndarray:
        """Disjoint groups of units: the map cut into ``block`` rectangles, shape (k,) of ids.

        >>> TopographicICA((2, 4)).block_groups((2, 2)).tolist()
        [0, 0, 1, 1, 0, 0, 1, 1]
        """
        rows, cols = self._map()
        br, bc = block
        if rows % br or cols % bc:
            raise ValueError(f"block: expected divisors of map_shape {rows}x{cols}, got {block}")
        r, c = np.divmod(np.arange(rows * cols), cols)
        return (r // br) * (cols // bc) + c // bc
