"""Gaussian (second-moment) entropy and mutual information (nats), invariant to units.

For a Gaussian vector the differential entropy is :math:`H = \\tfrac12\\log\\det(2\\pi e\\,\\Sigma)`
(Cover & Thomas, *Elements of Information Theory*, Thm 8.4.1) and
:math:`I(X;Y) = -\\tfrac12\\sum_i \\log(1-\\rho_i^2)`, with :math:`\\rho_i` the canonical
correlations of X and Y (Gelfand & Yaglom, 1957). For any other distribution with the same
covariance these are the entropy and the information of the Gaussian with that covariance.

Both are computed from the correlation matrix: each feature is divided by its own scale first, so
no absolute ridge decides the value and :math:`H(aX+b) = H(X) + \\sum_j \\log a_j` and
:math:`I(aX+b; cY+d) = I(X;Y)` hold for per-feature positive scales, from 1e-300 to 1e300.
A covariance of rank below its dimension (constant or collinear features, or fewer samples than
features) has entropy :math:`-\\infty`; it is reported, not hidden: ``rank_deficient="raise"``
raises :class:`RankDeficientError`, and the default ``"warn"`` issues a
:class:`RankDeficientWarning` naming the rank and returns the value with a ridge of ``1e-10`` on
the *correlation* matrix (relative to each feature's scale; each missing direction then adds
:math:`\\tfrac12\\log 10^{-10} \\approx -11.5` nats, which the warning says). Pass ``shrinkage``
to regularise on purpose. For the mutual information, features of X (or Y) that are linear
combinations of the others carry nothing more and are projected out; an exact linear relation
*between* X and Y (a canonical correlation of 1) makes the information infinite, and is treated
alike. Shrinkage towards a scaled
identity follows Ledoit & Wolf (2004), *A well-conditioned estimator for large-dimensional
covariance matrices*.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from structlearn.estimators._common import as_sample_pair, as_samples
from structlearn.utils.validation import check_option, check_scalar

__all__ = [
    "RANK_DEFICIENT",
    "RankDeficientError",
    "RankDeficientWarning",
    "gaussian_entropy",
    "gaussian_mutual_information",
    "shrunk_covariance",
]

# eigenvalues of a correlation matrix below this share of its dimension count as zero
_RANK_RTOL = 1e-12
# the relative ridge used (with a warning) when a covariance is singular and rank_deficient="warn"
_RELATIVE_RIDGE = 1e-10
#: what to do with a singular covariance: raise, or warn and use the relative ridge
RANK_DEFICIENT = ("warn", "raise")


class RankDeficientWarning(UserWarning):
    """A singular covariance was regularised by the relative ridge; the value is ridge-dependent."""


class RankDeficientError(ValueError):
    """The sample covariance is singular: a Gaussian entropy of -inf or an infinite information.

    ``rank`` and ``n_features`` say by how much.
    """

    def __init__(self, message: str, rank: int, n_features: int) -> None:
        super().__init__(message)
        self.rank = rank
        self.n_features = n_features


def _unit_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centred ``x`` divided by each column's root mean square, and those scales (log).

    Columns are first divided by their largest magnitude, so squares never overflow (x at 1e300)
    nor underflow (1e-300). Constant columns keep scale 1 (log 0) and stay all zero.
    """
    big = np.abs(x).max(axis=0)
    big = np.where(big > 0, big, 1.0)
    xc = x / big
    xc = xc - xc.mean(axis=0)
    rms = np.sqrt((xc * xc).sum(axis=0) / max(x.shape[0] - 1, 1))
    ok = rms > 0
    xc[:, ok] /= rms[ok]
    log_scale = np.where(ok, np.log(big) + np.log(np.where(ok, rms, 1.0)), -np.inf)
    return xc, log_scale


def _rank(eig: np.ndarray) -> int:
    return int(np.sum(eig > _RANK_RTOL * max(eig.size, 1) * max(float(eig.max(initial=0)), 1e-300)))


def shrunk_covariance(x: np.ndarray, shrinkage: float | str | None = None) -> np.ndarray:
    r"""Sample covariance (ddof=1) of ``x`` (n_samples, n_features), optionally shrunk.

    :math:`\Sigma_\alpha = (1-\alpha)\hat\Sigma + \alpha\,\tfrac{\operatorname{tr}\hat\Sigma}{d} I`,
    with ``alpha = shrinkage`` (a float in [0, 1]) or the Ledoit--Wolf optimum (``"ledoit-wolf"``,
    scikit-learn's ``sklearn.covariance.ledoit_wolf_shrinkage``). No ridge is added: a singular
    covariance stays singular (see :class:`RankDeficientError`).

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    >>> shrunk_covariance(x, 1.0).round(4).tolist()   # tr / d = (4/3 + 16/3) / 2
    [[3.3333, 0.0], [0.0, 3.3333]]
    """
    n, d = x.shape
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / max(n - 1, 1)
    if shrinkage == "ledoit-wolf":
        from sklearn.covariance import ledoit_wolf_shrinkage

        alpha = float(ledoit_wolf_shrinkage(xc, assume_centered=True)) if n > 1 else 1.0
    else:
        alpha = float(shrinkage or 0.0)
    mu = float(np.trace(cov)) / d
    return (1.0 - alpha) * cov + alpha * mu * np.eye(d)


def _check_shrinkage(shrinkage: Any) -> Any:
    if shrinkage is None or shrinkage == "ledoit-wolf":
        return shrinkage
    if isinstance(shrinkage, str):
        raise ValueError(
            f"shrinkage: expected None, 'ledoit-wolf' or a float in [0, 1], got {shrinkage!r}"
        )
    return check_scalar(shrinkage, "shrinkage", low=0.0, high=1.0)


def _global_scale(x: np.ndarray) -> tuple[np.ndarray, float]:
    """``x / c`` and ``log c`` with c the largest magnitude (1 for all-zero x): squares stay finite."""
    c = float(np.abs(x).max(initial=0.0))
    return (x / c, float(np.log(c))) if c > 0 else (x, 0.0)


def _logdet_shrunk(x: np.ndarray, shrinkage: Any, name: str) -> float:
    """log det of the shrunk covariance of ``x``, computed on ``x / c`` (exact: det scales as c^2d)."""
    xs, log_c = _global_scale(x)
    cov = shrunk_covariance(xs, shrinkage)
    eig = np.linalg.eigvalsh(cov)
    if _rank(eig) < x.shape[1]:
        raise RankDeficientError(
            f"{name}: the shrunk covariance is singular (every feature constant?); the Gaussian "
            "entropy is -inf",
            _rank(eig),
            x.shape[1],
        )
    return float(np.sum(np.log(eig)) + 2 * x.shape[1] * log_c)


def _correlation_eigen(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised ``x``, per-feature log scales and the eigenvalues of its correlation matrix."""
    z, log_scale = _unit_scale(x)
    corr = z.T @ z / max(x.shape[0] - 1, 1)
    return z, log_scale, np.linalg.eigvalsh(corr)


def _report(message: str, rank: int, d: int, rank_deficient: str) -> None:
    if rank_deficient == "raise":
        raise RankDeficientError(message, rank, d)
    warnings.warn(
        f"{message} [rank_deficient='warn': a ridge of {_RELATIVE_RIDGE:g} on the correlation "
        "matrix decides the value; pass rank_deficient='raise' to refuse]",
        RankDeficientWarning,
        stacklevel=3,
    )


def gaussian_entropy(
    x: Any, *, shrinkage: float | str | None = None, rank_deficient: str = "warn"
) -> float:
    r"""Gaussian entropy :math:`\tfrac12\log\det(2\pi e\,\hat\Sigma)` (nats) of the sample covariance.

    Computed as :math:`\sum_j \log s_j + \tfrac12\log\det(2\pi e R)` with :math:`s_j` the feature
    standard deviations and R the correlation matrix, so it is exact at any scale.

    Parameters
    ----------
    x : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Samples (at least 2).
    shrinkage : None, float in [0, 1] or "ledoit-wolf"
        Shrink the covariance towards a scaled identity (see :func:`shrunk_covariance`); this
        makes a singular covariance regular on purpose (and the value depends on the features'
        relative scales, as the Ledoit--Wolf target does).

    rank_deficient : {"warn", "raise"}
        Without shrinkage, a covariance of rank below n_features (constant or collinear features,
        n_samples <= n_features) has entropy :math:`-\infty`: raise :class:`RankDeficientError`,
        or warn (:class:`RankDeficientWarning`, naming the rank) and use a ridge of 1e-10 on the
        correlation matrix (constant features count with unit scale).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(20000, 1))
    >>> bool(abs(gaussian_entropy(x) - 0.5 * np.log(2 * np.pi * np.e)) < 0.01)
    True
    >>> round(gaussian_entropy(1e-200 * x) - gaussian_entropy(x), 4)   # -200 log 10
    -460.517
    """
    xa = as_samples(x, "x", min_samples=2)
    d = xa.shape[1]
    shrinkage = _check_shrinkage(shrinkage)
    check_option(rank_deficient, "rank_deficient", RANK_DEFICIENT)
    const = 0.5 * d * np.log(2 * np.pi * np.e)
    if shrinkage is not None:
        return float(const + 0.5 * _logdet_shrunk(xa, shrinkage, "x"))
    _, log_scale, eig = _correlation_eigen(xa)
    rank = _rank(eig)
    if rank < d:
        _report(
            f"x: the sample covariance has rank {rank} < {d} features ({xa.shape[0]} samples; "
            "constant or collinear features, or too few samples), so the Gaussian entropy is "
            "-inf; drop the degenerate features, or pass shrinkage='ledoit-wolf' (or a float) to "
            "regularise on purpose",
            rank,
            d,
            rank_deficient,
        )
        log_scale = np.where(np.isfinite(log_scale), log_scale, 0.0)
        eig = np.maximum(eig, 0.0) + _RELATIVE_RIDGE
    return float(const + log_scale.sum() + 0.5 * np.sum(np.log(eig)))


def _whitened_basis(x: np.ndarray) -> np.ndarray:
    """Orthonormal coordinates (n, rank) of the standardised ``x`` in its correlation's range."""
    z, _, _ = _correlation_eigen(x)
    corr = z.T @ z / max(x.shape[0] - 1, 1)
    eig, vec = np.linalg.eigh(corr)
    keep = eig > _RANK_RTOL * max(eig.size, 1) * max(float(eig.max(initial=0)), 1e-300)
    return z @ (vec[:, keep] / np.sqrt(eig[keep]))


def canonical_correlations(xa: np.ndarray, ya: np.ndarray) -> np.ndarray:
    """Sample canonical correlations of x (n, dx) and y (n, dy), descending, in [0, 1].

    Each side is standardised and whitened within the range of its correlation matrix (features
    that are linear combinations of the others are projected out); the canonical correlations are
    then the singular values of the cross-covariance of the whitened coordinates.
    """
    wx, wy = _whitened_basis(xa), _whitened_basis(ya)
    if wx.shape[1] == 0 or wy.shape[1] == 0:
        return np.zeros(0)
    cross = wx.T @ wy / max(xa.shape[0] - 1, 1)
    return np.clip(np.linalg.svd(cross, compute_uv=False), 0.0, 1.0)


def _mi_from_correlations(
    rho: np.ndarray, n: int, dx: int, dy: int, rank_deficient: str = "raise"
) -> float:
    if rho.size and 1.0 - rho.max() < 1e-12:
        _report(
            f"x, y: a canonical correlation is 1 ({n} samples, {dx} + {dy} features): y is an "
            "exact linear function of x on these samples (or n_samples <= n_features), so the "
            "Gaussian mutual information is infinite; pass shrinkage='ledoit-wolf' (or a float) to "
            "regularise on purpose",
            int(np.sum(1.0 - rho >= 1e-12)),
            dx + dy,
            rank_deficient,
        )
        rho = rho / (1.0 + _RELATIVE_RIDGE)  # the joint correlation matrix plus the ridge
    return float(-0.5 * np.sum(np.log1p(-(rho**2))))


def gaussian_mutual_information(
    x: Any, y: Any, *, shrinkage: float | str | None = None, rank_deficient: str = "warn"
) -> float:
    r"""Gaussian :math:`I(X;Y) = -\tfrac12\sum_i\log(1-\rho_i^2)` (nats), :math:`\rho_i` the
    canonical correlations; equal to
    :math:`\tfrac12\log\frac{\det\Sigma_X\det\Sigma_Y}{\det\Sigma_{XY}}`.

    Invariant to any invertible affine map of x and of y (units, rotations). Constant or collinear
    features within x or within y are projected out (they add no information).

    Parameters
    ----------
    x, y : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Paired samples (at least 2).
    shrinkage : None, float in [0, 1] or "ledoit-wolf"
        Shrink the joint covariance towards a scaled identity first (:func:`shrunk_covariance`);
        the three log-determinants are then taken from its blocks.

    rank_deficient : {"warn", "raise"}
        Without shrinkage, a canonical correlation of 1 (y an exact linear function of x on the
        samples, or n_samples <= n_features) makes the information infinite: raise
        :class:`RankDeficientError`, or warn and use a ridge of 1e-10 on the joint correlation.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=20000)
    >>> bool(abs(gaussian_mutual_information(z[:, 0], z[:, 1]) + 0.5 * np.log(1 - 0.8**2)) < 0.02)
    True
    >>> round(gaussian_mutual_information(1e6 * z[:, 0] + 3, 1e-9 * z[:, 1]), 4)   # units do not matter
    0.5127
    """
    xa, ya = as_sample_pair(x, y, min_samples=2)
    shrinkage = _check_shrinkage(shrinkage)
    check_option(rank_deficient, "rank_deficient", RANK_DEFICIENT)
    dx, dy = xa.shape[1], ya.shape[1]
    if shrinkage is None:
        rho = canonical_correlations(xa, ya)
        return _mi_from_correlations(rho, xa.shape[0], dx, dy, rank_deficient)
    joint, _ = _global_scale(np.hstack([xa, ya]))
    cov = shrunk_covariance(joint, shrinkage)
    logdets = []
    for block in (cov[:dx, :dx], cov[dx:, dx:], cov):
        eig = np.linalg.eigvalsh(block)
        if _rank(eig) < block.shape[0]:
            raise RankDeficientError(
                "x, y: the shrunk joint covariance is singular (every feature constant?)",
                _rank(eig),
                dx + dy,
            )
        logdets.append(float(np.sum(np.log(eig))))
    return float(max(0.5 * (logdets[0] + logdets[1] - logdets[2]), 0.0))
