r"""Information through a Gaussian channel with input-dependent noise, in nats.

A stochastic encoder :math:`p(z|x) = \mathcal N(\mu(x), \mathrm{diag}\,\sigma(x)^2)` on ``n``
equally likely inputs makes :math:`Z` a mixture of ``n`` Gaussians with their own covariances
(the variational information bottleneck's channel, Alemi, Fischer, Dillon & Murphy 2017).
Kolchinsky & Tracey (2017), "Estimating mixture entropy with pairwise distances", bound the
mixture entropy from above with the pairwise KL divergence and from below with the Bhattacharyya
distance; subtracting :math:`H(Z|X) = \frac1n\sum_i H(p(z|x_i))` gives

.. math:: -\frac1n\sum_i\log\frac1n\sum_j e^{-D_B(i\|j)} \;\le\; I(X;Z) \;\le\;
          -\frac1n\sum_i\log\frac1n\sum_j e^{-\mathrm{KL}(i\|j)},

both in :math:`[0, \log n]`. With one shared isotropic σ they are the bounds of
:func:`structlearn.estimators.kde_mi_bounds`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import logsumexp

from structlearn.utils.validation import check_array

__all__ = ["gaussian_channel_mi_bounds"]


def _pairwise_kl(mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """KL(N_i || N_j) of diagonal Gaussians, (n, n), by matrix products (no (n, n, d) array)."""
    inv = 1.0 / var
    trace = var @ inv.T
    maha = (mu**2 * inv).sum(1)[None, :] - 2.0 * mu @ (mu * inv).T + (mu**2) @ inv.T
    logdet = np.log(var).sum(1)
    kl = 0.5 * (trace + maha - mu.shape[1] + logdet[None, :] - logdet[:, None])
    return np.maximum(kl, 0.0)


def _pairwise_bhattacharyya(mu: np.ndarray, var: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Bhattacharyya distance of diagonal Gaussians, (n, n), in row chunks."""
    n = mu.shape[0]
    out = np.empty((n, n))
    half_logdet = 0.5 * np.log(var).sum(1)
    for a in range(0, n, chunk):
        v = 0.5 * (var[a : a + chunk, None, :] + var[None, :, :])  # (c, n, d)
        diff = mu[a : a + chunk, None, :] - mu[None, :, :]
        out[a : a + chunk] = (
            0.125 * (diff**2 / v).sum(-1)
            + 0.5 * np.log(v).sum(-1)
            - 0.5 * (half_logdet[a : a + chunk, None] + half_logdet[None, :])
        )
    return np.maximum(out, 0.0)


def gaussian_channel_mi_bounds(mu: Any, std: Any) -> dict[str, float]:
    """Pairwise-distance bounds on I(X;Z) (nats) for Z ~ N(mu[i], diag std[i]²), i uniform.

    Parameters
    ----------
    mu, std : array-like, shape (n_inputs, n_dims); ``std > 0``

    Returns
    -------
    dict with ``I_XZ_upper_nats`` (pairwise KL), ``I_XZ_lower_nats`` (Bhattacharyya) and
    ``log_n_nats`` (the ceiling).

    >>> b = gaussian_channel_mi_bounds([[0.0], [100.0]], [[1.0], [1.0]])
    >>> round(b["I_XZ_upper_nats"], 6), round(b["I_XZ_lower_nats"], 6)
    (0.693147, 0.693147)
    """
    mu = check_array(mu, "mu", ndim=2, min_samples=1)
    std = check_array(std, "std", ndim=2)
    if std.shape != mu.shape:
        raise ValueError(f"std: expected shape {mu.shape} like mu, got {std.shape}")
    if not np.all(std > 0):
        raise ValueError("std: expected standard deviations > 0")
    var = std**2
    n = mu.shape[0]

    def bound(d: np.ndarray) -> float:
        return float(np.clip(-np.mean(logsumexp(-d, axis=1) - math.log(n)), 0.0, math.log(n)))

    return {
        "I_XZ_upper_nats": bound(_pairwise_kl(mu, var)),
        "I_XZ_lower_nats": bound(_pairwise_bhattacharyya(mu, var)),
        "log_n_nats": math.log(n),
    }
