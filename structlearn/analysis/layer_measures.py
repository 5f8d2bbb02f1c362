r"""What a layer carries, in nats, by measures that mean something for a deterministic layer.

The differential entropy of a deterministic layer on a finite sample is not information about
its input (Saxe et al. 2018, Sect. 2; Goldfeld et al. 2019), and the Gaussian log-determinant of
per-unit standardised features is :math:`\tfrac d2\log 2\pi e` minus a Gaussian total correlation
(how decorrelated the units are) that, on a layer of rank below its width, is set by whatever
ridge keeps the determinant finite. :func:`analyze_layer_measures` reports instead, each with its
normalisation stated:

- **channel information** :math:`I(X; \tilde Z + N) = H(\tilde Z + N) - H(N)`,
  :math:`N\sim\mathcal N(0,\sigma^2 I)` with an absolute ``noise_std`` :math:`\sigma`, on the
  *scaled layer* :math:`\tilde Z` (each unit centred and standardised, then the layer divided by
  :math:`\sqrt{d}` so that its mean squared row norm is 1: the geometry a standardising linear
  read-out sees, at one scale for every width). :math:`H(\tilde Z+N)` is the Kolchinsky--Tracey
  pairwise-distance bound (KL: upper; Bhattacharyya: lower) of :mod:`structlearn.estimators.kde`,
  so the value lies in :math:`[0, \log n]`: :math:`\log n` is the estimator's ceiling (every input
  told apart at resolution :math:`\sigma`);
- the **coding rate** :math:`R(\tilde Z;\varepsilon) = \tfrac12\log\det(I + \tfrac{d}{n\varepsilon^2}
  \tilde Z^\top\tilde Z)` of MCR² (Yu et al. 2020; Ma et al. 2007) on the same scaled layer: the
  nats needed to code the layer up to distortion :math:`\varepsilon`, finite for degenerate layers;
- the **sum of marginal entropies** :math:`\sum_i \hat h(z_i)` of the standardised units
  (``n_bins`` equal-width bins, :math:`\hat h = \hat H_{bins} + \log\Delta`);
- the **standardised Gaussian log-determinant** :math:`\tfrac d2\log 2\pi e + \tfrac12\log\det R_Z`
  (:math:`R_Z` the units' correlation matrix) = :math:`\tfrac d2\log 2\pi e` minus the Gaussian
  total correlation, reported only for layers of full numerical rank (on a rank-deficient layer it
  is :math:`-\infty`; no ridge-determined number is given).

Every result reports the layer's numerical rank and the constant units dropped (their differential
entropy is :math:`-\infty`).

References
----------
- A. Kolchinsky & B. D. Tracey, "Estimating mixture entropy with pairwise distances", Entropy 19
  (2017): the KL / Bhattacharyya bounds.
- A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018): mutual
  information of deterministic layers measured through an added noise channel.
- Y. Yu, K. H. R. Chan, C. You, C. Song, Y. Ma, "Learning diverse and discriminative
  representations via the principle of maximal coding rate reduction", NeurIPS (2020).
- S. Watanabe, "Information theoretical analysis of multivariate correlation", IBM J. Res. Dev. 4
  (1960): total correlation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.estimators import (
    RankDeficientError,
    binning_entropy,
    gaussian_entropy,
    kde_entropy,
)
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import check_array, check_random_state, check_scalar

__all__ = ["LAYER_MEASURES", "NORMALISATION", "LayerMeasures", "analyze_layer_measures"]

#: the measures :func:`analyze_layer_measures` reports, by their scalar names
LAYER_MEASURES = (
    "channel_information",
    "channel_information_lower",
    "coding_rate",
    "marginal_entropy",
    "gaussian_entropy",
)
#: each measure's normalisation, in words (figure captions quote these)
NORMALISATION = {
    "channel_information": "units standardised, layer scaled by 1/sqrt(d) (mean squared row "
    "norm 1), plus N(0, sigma^2 I)",
    "channel_information_lower": "as channel_information, Bhattacharyya (lower) bound",
    "coding_rate": "units standardised, layer scaled by 1/sqrt(d) (mean squared row norm 1)",
    "marginal_entropy": "each unit standardised; binned per unit",
    "gaussian_entropy": "each unit standardised; d/2 log(2 pi e) minus the Gaussian total "
    "correlation; none below full rank",
}
#: the most rows the pairwise (KDE) bounds take: 20000**2 float64 distances are 3.2 GB
_MAX_PAIRWISE = 20000
_CONSTANT = 1e-12  # a unit whose spread is below this share of the layer's largest value


@dataclass
class LayerMeasures(AnalysisResult, Summarised):
    """One layer's measures (nats), rank and normalisation (see the module docstring).

    Attributes
    ----------
    n_samples : int
        Samples measured (``max_samples`` at most; ``log n_samples`` is the channel's ceiling).
    n_units, n_constant_units, rank : int
        Units given, units dropped as constant, numerical rank of the centred layer (singular
        values above ``max(n, d) * machine epsilon`` times the largest).
    channel_information, channel_information_lower : float
        :math:`I(X;\\tilde Z + N)` from the KL (upper) and Bhattacharyya (lower) bound.
    channel_ceiling : float
        :math:`\\log n`, the largest value the estimator can give.
    coding_rate : float
        :math:`R(\\tilde Z; \\varepsilon)`.
    marginal_entropy : float or None
        Sum of the binned entropies of the standardised units; None when every unit is
        constant (-inf). A layer whose units are all constant carries nothing: its channel
        information and coding rate are exactly 0.
    gaussian_entropy : float or None
        Standardised log-determinant; None below full rank.
    noise_std, eps : float
        :math:`\\sigma` (in units of the scaled layer) and :math:`\\varepsilon`.
    n_bins : int
    """

    n_samples: int
    n_units: int
    n_constant_units: int
    rank: int
    channel_information: float
    channel_information_lower: float
    channel_ceiling: float
    coding_rate: float
    marginal_entropy: float | None
    gaussian_entropy: float | None
    noise_std: float
    eps: float
    n_bins: int

    scalars: ClassVar[dict[str, Scalar]] = {
        "channel_information": Scalar(
            "nats", True, doc="I(X; Z~ + N(0, sigma^2 I)), KL bound, Z~ scaled layer"
        ),
        "channel_information_lower": Scalar("nats", True, doc="the same, Bhattacharyya bound"),
        "channel_ceiling": Scalar("nats", None, doc="log n: the channel estimator's ceiling"),
        "coding_rate": Scalar("nats", True, doc="MCR2 coding rate R(Z~; eps)"),
        "marginal_entropy": Scalar("nats", None, doc="sum of binned unit entropies"),
        "gaussian_entropy": Scalar(
            "nats", None, doc="standardised log-det (d/2 log 2 pi e - total correlation)"
        ),
        "rank": Scalar("count", None, doc="numerical rank of the centred layer"),
        "n_units": Scalar("count", None, doc="units given"),
        "n_constant_units": Scalar("count", False, doc="units dropped as constant"),
    }

    @property
    def full_rank(self) -> bool:
        """Whether the non-constant units are linearly independent on the sample."""
        return self.rank >= self.n_units - self.n_constant_units

    def plot(self, ax: Any = None) -> Any:
        """The channel information against its ceiling, as one bar."""
        ax = new_axes(ax, figsize=(3.0, 3.0))
        ax.bar([0], [self.channel_information], color="C0")
        ax.axhline(self.channel_ceiling, color="k", ls=":", label="ceiling log n")
        ax.set_xticks([0], [f"rank {self.rank} of {self.n_units}"])
        ax.set_ylabel(f"I(X; Z~ + N), sigma = {self.noise_std:g} [nats]")
        ax.legend(frameon=False, fontsize="small")
        return ax


def _keep(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return std > _CONSTANT * max(float(np.abs(x).max(initial=0.0)), 1.0)


def numerical_rank(x: np.ndarray) -> int:
    """Rank of the centred ``x`` (n_samples, n_units): singular values above numpy's default
    tolerance, ``max(n, d) * eps * s_max``.

    >>> numerical_rank(np.outer(np.arange(5.0), [1.0, 2.0, 3.0]))
    1
    """
    xc = x - x.mean(axis=0)
    return int(np.linalg.matrix_rank(xc)) if xc.size else 0


def _marginal(z: np.ndarray, n_bins: int) -> float:
    total = 0.0
    for col in z.T:
        width = (float(col.max()) - float(col.min())) / n_bins
        total += binning_entropy(col, n_bins=n_bins) + math.log(width)
    return total


def _gaussian(z: np.ndarray) -> float | None:
    """Standardised log-det, or None where the estimator finds the correlations rank-deficient."""
    try:
        return gaussian_entropy(z, rank_deficient="raise")
    except RankDeficientError:
        return None


def _coding_rate(zs: np.ndarray, eps: float) -> float:
    """:math:`\\tfrac12\\log\\det(I + \\tfrac{d}{n\\varepsilon^2}Z^\\top Z)` on the smaller Gram."""
    n, d = zs.shape
    gram = zs.T @ zs if d <= n else zs @ zs.T
    ev = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    return float(0.5 * np.log1p(d / (n * eps**2) * ev).sum())


def _constant_layer(n: int, n_units: int, sigma: float, eps: float, n_bins: int) -> LayerMeasures:
    return LayerMeasures(
        n_samples=n,
        n_units=n_units,
        n_constant_units=n_units,
        rank=0,
        channel_information=0.0,
        channel_information_lower=0.0,
        channel_ceiling=math.log(n),
        coding_rate=0.0,
        marginal_entropy=None,
        gaussian_entropy=None,
        noise_std=sigma,
        eps=eps,
        n_bins=n_bins,
    )


def analyze_layer_measures(
    x: Any,
    *,
    noise_std: float = 0.3,
    eps: float = 0.5,
    n_bins: int = 30,
    max_samples: int | None = 2000,
    random_state: int | np.random.Generator | None = 0,
) -> LayerMeasures:
    r"""Channel information, coding rate, marginal and Gaussian entropy of one layer (nats).

    Parameters
    ----------
    x : array-like, shape (n_samples, n_units)
        The layer's activations, one row per input.
    noise_std : float > 0
        :math:`\sigma` of the channel, in units of the scaled layer (whose mean squared row norm
        is 1, so two independent rows are about :math:`\sqrt2` apart).
    eps : float > 0
        Distortion :math:`\varepsilon` of the coding rate (the paper's, not its code's
        :math:`\varepsilon^2`).
    n_bins : int >= 2
        Bins per unit for the marginal entropies.
    max_samples : int or None
        Measure a seeded subset of at most this many rows (the pairwise bounds cost
        :math:`O(n^2 d)` time and :math:`O(n^2)` memory; at most 20000); None: all (at most
        20000).
    random_state : int, Generator or None
        Seeds the subset.

    Returns
    -------
    LayerMeasures

    Examples
    --------
    Four well separated points and a tiny noise: every input is told apart, the ceiling log 4.

    >>> res = analyze_layer_measures(np.eye(4) * 100, noise_std=1e-3)
    >>> round(res.channel_information, 6) == round(float(np.log(4)), 6), res.rank
    (True, 3)
    """
    xa = check_array(x, "x", ndim=2, min_samples=3)
    sigma = float(check_scalar(noise_std, "noise_std", low=0.0, low_inclusive=False))
    e = float(check_scalar(eps, "eps", low=0.0, low_inclusive=False))
    check_scalar(n_bins, "n_bins", kind=(int, np.integer), low=2)
    if max_samples is None and xa.shape[0] > _MAX_PAIRWISE:
        raise ValueError(
            f"max_samples: None would measure all {xa.shape[0]} rows, whose pairwise distances "
            f"need {xa.shape[0] ** 2 * 8 / 1e9:.1f} GB; pass max_samples <= {_MAX_PAIRWISE}"
        )
    if max_samples is not None:
        check_scalar(max_samples, "max_samples", kind=(int, np.integer), low=3, high=_MAX_PAIRWISE)
        if xa.shape[0] > max_samples:
            rows = check_random_state(random_state).choice(xa.shape[0], max_samples, replace=False)
            xa = xa[np.sort(rows)]
    keep = _keep(xa)
    n, d = xa.shape[0], int(keep.sum())
    if d == 0:  # every unit constant: nothing passes the channel; entropies are -inf
        return _constant_layer(n, xa.shape[1], sigma, e, int(n_bins))
    z = (xa[:, keep] - xa[:, keep].mean(axis=0)) / xa[:, keep].std(axis=0)
    zs = z / math.sqrt(d)
    rank = numerical_rank(xa[:, keep])
    h_noise = 0.5 * d * math.log(2 * math.pi * math.e * sigma**2)
    upper = kde_entropy(zs, sigma**2, bound="upper") - h_noise
    lower = kde_entropy(zs, sigma**2, bound="lower") - h_noise
    return LayerMeasures(
        n_samples=n,
        n_units=int(xa.shape[1]),
        n_constant_units=int(xa.shape[1] - d),
        rank=rank,
        channel_information=float(np.clip(upper, 0.0, math.log(n))),
        channel_information_lower=float(np.clip(lower, 0.0, math.log(n))),
        channel_ceiling=math.log(n),
        coding_rate=_coding_rate(zs, e),
        marginal_entropy=_marginal(z, int(n_bins)),
        gaussian_entropy=_gaussian(z) if rank >= d else None,
        noise_std=sigma,
        eps=e,
        n_bins=int(n_bins),
    )
