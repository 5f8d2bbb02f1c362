"""How well a bounded unit's nonlinearity codes its input (Laughlin 1981).

:func:`cdf_distance` compares a nonlinearity with the empirical cumulative distribution of inputs
(the InfoMax optimum for a bounded, low-noise unit); :func:`transmitted_information` is the
information a unit with output :math:`y = g(x) \\in [0, 1]` and additive Gaussian output noise of
standard deviation :math:`\\sigma` carries about its input,

.. math:: I(X; g(X) + N) = h(g(X) + N) - \\tfrac12 \\log(2\\pi e\\,\\sigma^2)\\quad\\text{nats},

with :math:`h(g(X) + N)` integrated numerically from the histogram of the outputs (2,000 bins on
[0, 1]) convolved with the noise density. Its ceiling is :math:`\\log(1/\\sigma) - \\tfrac12\\log
(2\\pi e) + o(1)` for uniform outputs (about :math:`\\log(1/(\\sigma\\sqrt{2\\pi e}))`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from structlearn.utils.validation import check_array, check_scalar

_BINS = 2000


def cdf_distance(g: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance ``sup |g(x) − F_n(x)|`` between ``g`` and the inputs' empirical CDF.

    ``x`` (n,): inputs. Both sides of every step of ``F_n`` are compared.

    >>> x = np.random.default_rng(0).uniform(size=2000)
    >>> round(cdf_distance(lambda v: np.clip(v, 0, 1), x), 2)
    0.02
    """
    x = np.sort(check_array(x, "x", ndim=1, min_samples=1))
    n = len(x)
    gx = np.asarray(g(x), dtype=np.float64)
    upper = np.arange(1, n + 1) / n
    return float(max(np.abs(gx - upper).max(), np.abs(gx - upper + 1.0 / n).max()))


def transmitted_information(y: np.ndarray, noise_std: float) -> float:
    """I(X; Y + N) in nats for outputs ``y`` (n,) in [0, 1] of a deterministic unit, N ~ N(0, σ²).

    >>> y = np.random.default_rng(0).uniform(size=20000)
    >>> round(transmitted_information(y, 0.01), 2)  # log(1/0.01) - 0.5 log(2 pi e) = 3.19, + edges
    3.2
    >>> transmitted_information(np.full(100, 0.3), 0.01)  # a constant output carries nothing
    0.0
    """
    y = check_array(y, "y", ndim=1, min_samples=1)
    sigma = check_scalar(noise_std, "noise_std", low=0, low_inclusive=False, high=1.0)
    if y.min() < -1e-9 or y.max() > 1 + 1e-9:
        raise ValueError(f"y: expected outputs in [0, 1], got range [{y.min()}, {y.max()}]")
    y = np.clip(y, 0.0, 1.0)
    p, edges = np.histogram(y, bins=_BINS, range=(0.0, 1.0))
    p = p / p.sum()
    centres = (edges[:-1] + edges[1:]) / 2
    dz = min(1.0 / _BINS, sigma / 8)
    z = np.arange(-7 * sigma, 1 + 7 * sigma, dz)
    keep = p > 0
    dens = np.zeros_like(z)
    for c, w in zip(centres[keep], p[keep]):  # the output mixture convolved with the noise
        dens += w * np.exp(-0.5 * ((z - c) / sigma) ** 2)
    dens /= sigma * np.sqrt(2 * np.pi)
    nz = dens > 0
    h = -float(np.sum(dens[nz] * np.log(dens[nz])) * dz)
    return max(0.0, h - 0.5 * float(np.log(2 * np.pi * np.e * sigma**2)))


__all__ = ["cdf_distance", "transmitted_information"]
