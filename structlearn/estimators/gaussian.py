"""Gaussian (second-moment) entropy and mutual information (nats).

For a Gaussian vector the differential entropy is :math:`H = \\tfrac12\\log\\det(2\\pi e\\,\\Sigma)`
(Cover & Thomas, *Elements of Information Theory*, Thm 8.4.1), and
:math:`I(X;Y) = \\tfrac12\\log\\frac{\\det\\Sigma_X \\det\\Sigma_Y}{\\det\\Sigma_{XY}}`. For any other
distribution with the same covariance these are an upper bound on the entropy and the information
of the Gaussian channel with that covariance. With n close to d the sample covariance is poorly
conditioned; shrinkage towards a scaled identity (Ledoit & Wolf, 2004, *A well-conditioned
estimator for large-dimensional covariance matrices*) keeps the log-determinant finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.estimators._common import as_sample_pair, as_samples
from structlearn.utils.validation import check_scalar

__all__ = ["gaussian_entropy", "gaussian_mutual_information", "shrunk_covariance"]

_RIDGE = 1e-10


def shrunk_covariance(x: np.ndarray, shrinkage: float | str | None = None) -> np.ndarray:
    r"""Sample covariance (ddof=1) of ``x`` (n_samples, n_features), optionally shrunk.

    :math:`\Sigma_\alpha = (1-\alpha)\hat\Sigma + \alpha\,\tfrac{\operatorname{tr}\hat\Sigma}{d} I`,
    with ``alpha = shrinkage`` (a float in [0, 1]) or the Ledoit--Wolf optimum (``"ledoit-wolf"``).
    A ridge of ``1e-10`` times the mean variance (at least ``1e-10``) keeps constant features finite.
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
    cov = (1.0 - alpha) * cov + alpha * mu * np.eye(d)
    cov[np.diag_indices(d)] += _RIDGE * max(mu, 1.0)
    return cov


def _logdet(cov: np.ndarray) -> float:
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:  # pragma: no cover - the ridge keeps cov positive definite
        raise ValueError("x: covariance is not positive definite; use shrinkage='ledoit-wolf'")
    return float(logdet)


def _check_shrinkage(shrinkage: Any) -> Any:
    if shrinkage is None or shrinkage == "ledoit-wolf":
        return shrinkage
    if isinstance(shrinkage, str):
        raise ValueError(
            f"shrinkage: expected None, 'ledoit-wolf' or a float in [0, 1], got {shrinkage!r}"
        )
    return check_scalar(shrinkage, "shrinkage", low=0.0, high=1.0)


def gaussian_entropy(x: Any, *, shrinkage: float | str | None = None) -> float:
    r"""Gaussian entropy :math:`\tfrac12\log\det(2\pi e\,\Sigma)` (nats) of the sample covariance.

    Parameters
    ----------
    x : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Samples.
    shrinkage : None, float in [0, 1] or "ledoit-wolf"
        Shrink the covariance towards a scaled identity (see :func:`shrunk_covariance`).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(20000, 1))
    >>> bool(abs(gaussian_entropy(x) - 0.5 * np.log(2 * np.pi * np.e)) < 0.01)
    True
    """
    xa = as_samples(x, "x", min_samples=2)
    cov = shrunk_covariance(xa, _check_shrinkage(shrinkage))
    d = xa.shape[1]
    return float(0.5 * (d * np.log(2 * np.pi * np.e) + _logdet(cov)))


def gaussian_mutual_information(x: Any, y: Any, *, shrinkage: float | str | None = None) -> float:
    r"""Gaussian :math:`I(X;Y) = \tfrac12\log\frac{\det\Sigma_X\det\Sigma_Y}{\det\Sigma_{XY}}` (nats).

    The three covariances are blocks of one (optionally shrunk) joint covariance, so the result is
    non-negative (Fischer's inequality).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=20000)
    >>> bool(abs(gaussian_mutual_information(z[:, 0], z[:, 1]) + 0.5 * np.log(1 - 0.8**2)) < 0.02)
    True
    """
    xa, ya = as_sample_pair(x, y, min_samples=2)
    cov = shrunk_covariance(np.hstack([xa, ya]), _check_shrinkage(shrinkage))
    dx = xa.shape[1]
    mi = 0.5 * (_logdet(cov[:dx, :dx]) + _logdet(cov[dx:, dx:]) - _logdet(cov))
    return float(max(mi, 0.0))
