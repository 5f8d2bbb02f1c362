"""Entropy and mutual information behind one signature, in nats, with their bias made visible.

``entropy(x, method=...)`` and ``mutual_information(x, y, method=...)`` dispatch to

- ``"binning"``: equal-width bins, plug-in entropy of whole rows (Shwartz-Ziv & Tishby, 2017);
- ``"kde"``: Kolchinsky & Tracey (2017) pairwise-distance bounds for x plus Gaussian noise;
- ``"knn"``: Kozachenko--Leonenko entropy and Kraskov--Stögbauer--Grassberger MI (2004);
- ``"gaussian"``: :math:`\\tfrac12\\log\\det(2\\pi e\\Sigma)` and the Gaussian MI;
- ``"discrete"``: plug-in or bias-corrected entropy / MI of symbols (any hashable values);
- ``"mixed"`` (MI only): Gao et al. (2017) for discrete, continuous or mixed variables.

``mutual_information(x, y, z=...)`` is the conditional information I(X;Y|Z) (``"discrete"``,
``"gaussian"``, ``"knn"``: Frenzel--Pompe), whose baseline permutes x within strata of z. Also:
divergences (:func:`kl_divergence`, :func:`js_divergence`, :func:`cross_entropy`), multivariate
measures (:func:`total_correlation`, :func:`co_information`) and :func:`renyi_entropy`.

Everything is computed and stored in nats; ``base=2`` (or 10) converts the returned numbers for
readers who think in bits, and an :class:`Estimate` converts back to nats in ``to_dict()``.

With ``return_baseline=True`` the result is an :class:`Estimate` carrying the permutation-null
baseline (the same estimator with y shuffled) and, where the bootstrap is valid for the estimator,
a percentile interval -- the numbers an analysis should plot beside the estimate.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from structlearn.estimators._common import row_keys
from structlearn.estimators.binning import (
    bin_indices,
    binning_entropy,
    binning_mutual_information,
    information_plane_binning,
    information_plane_binning_batch,
)
from structlearn.estimators.conditional import (
    _CMI,
    CMI_METHODS,
    conditional_mutual_information,
    conditional_null,
)
from structlearn.estimators.discrete import (
    check_joint,
    discrete_entropy,
    discrete_mutual_information,
    entropy_of_distribution,
    mutual_information_of_joint,
    symbol_ids,
)
from structlearn.estimators.divergences import (
    cross_entropy,
    js_divergence,
    kl_divergence,
    kl_divergence_of_distributions,
)
from structlearn.estimators.gaussian import (
    RankDeficientError,
    RankDeficientWarning,
    gaussian_entropy,
    gaussian_mutual_information,
)
from structlearn.estimators.ib_curve import (
    IBCheck,
    IBCurve,
    ib_check,
    ib_curve,
    ib_self_consistency,
    tishby_joint,
)
from structlearn.estimators.kde import kde_entropy, kde_mi_bounds, kde_mutual_information
from structlearn.estimators.knn import knn_entropy, ksg_mutual_information
from structlearn.estimators.mixed import mixed_mutual_information
from structlearn.estimators.multivariate import (
    co_information,
    renyi_entropy,
    renyi_entropy_of_distribution,
    total_correlation,
)
from structlearn.utils.validation import (
    check_consistent_length,
    check_option,
    check_random_state,
    check_scalar,
    to_numpy,
)

#: the kNN mutual information under the name parallel to :func:`knn_entropy` (same function)
knn_mutual_information = ksg_mutual_information

__all__ = [
    "CMI_METHODS",
    "METHODS",
    "MI_METHODS",
    "Estimate",
    "IBCheck",
    "IBCurve",
    "RankDeficientError",
    "RankDeficientWarning",
    "bin_indices",
    "binning_entropy",
    "binning_mutual_information",
    "check_joint",
    "co_information",
    "conditional_mutual_information",
    "conditional_null",
    "cross_entropy",
    "discrete_entropy",
    "discrete_mutual_information",
    "entropy",
    "entropy_of_distribution",
    "gaussian_entropy",
    "gaussian_mutual_information",
    "ib_check",
    "ib_curve",
    "ib_self_consistency",
    "in_base",
    "information_plane_binning",
    "information_plane_binning_batch",
    "js_divergence",
    "kde_entropy",
    "kde_mi_bounds",
    "kde_mutual_information",
    "kl_divergence",
    "kl_divergence_of_distributions",
    "knn_entropy",
    "knn_mutual_information",
    "ksg_mutual_information",
    "mixed_mutual_information",
    "mutual_information",
    "mutual_information_of_joint",
    "renyi_entropy",
    "renyi_entropy_of_distribution",
    "row_keys",
    "symbol_ids",
    "tishby_joint",
    "total_correlation",
]

_ENTROPY: dict[str, Callable[..., float]] = {
    "binning": binning_entropy,
    "kde": kde_entropy,
    "knn": knn_entropy,
    "gaussian": gaussian_entropy,
    "discrete": discrete_entropy,
}
_MI: dict[str, Callable[..., float]] = {
    "binning": binning_mutual_information,
    "kde": kde_mutual_information,
    "knn": ksg_mutual_information,
    "gaussian": gaussian_mutual_information,
    "discrete": discrete_mutual_information,
    "mixed": mixed_mutual_information,
}
#: the estimator names accepted by ``method`` of :func:`entropy`
METHODS = tuple(_ENTROPY)
#: the estimator names accepted by ``method`` of :func:`mutual_information` (without ``z``)
MI_METHODS = tuple(_MI)
# resampling with replacement duplicates samples: harmless for plug-in and moment estimators,
# but it creates zero distances (kNN) and spurious tight clusters (KDE), so no bootstrap there
_BOOTSTRAP_VALID = ("binning", "gaussian", "discrete")


@dataclasses.dataclass(frozen=True)
class Estimate:
    """An estimate (nats) with its permutation-null baseline and a bootstrap interval.

    ``null_mean``/``null_std``: mean and standard deviation of the same estimator with y shuffled
    (None for an entropy, which has no null). ``ci_low``/``ci_high``: percentile bootstrap interval
    (None where the bootstrap is not valid for the method: ``"knn"``, ``"kde"``).
    """

    value: float
    null_mean: float | None
    null_std: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    #: the logarithm's base of the numbers above (e: nats; 2: bits)
    base: float = math.e

    def to_dict(self) -> dict[str, Any]:
        """Keys with the unit: ``value_nats``, ``null_mean_nats``, ... plus ``method``; always in
        nats (numbers in another base are converted back)."""
        scale = math.log(self.base)
        d = {k: v for k, v in dataclasses.asdict(self).items() if k != "base"}
        return {
            (k if k == "method" else f"{k}_nats"): (
                v if k == "method" or v is None else float(v) * scale
            )
            for k, v in d.items()
        }

    def in_base(self, base: float | None) -> Estimate:
        """The same estimate with its numbers in ``base`` (2: bits, e: nats, 10: hartleys)."""
        b = _check_base(base)
        f = math.log(self.base) / math.log(b)
        conv = {
            k: (None if v is None else float(v) * f)
            for k, v in dataclasses.asdict(self).items()
            if k not in ("method", "base")
        }
        return Estimate(**conv, method=self.method, base=b)


def _check_base(base: float | None) -> float:
    if base is None:
        return math.e
    check_scalar(base, "base", low=0.0, low_inclusive=False)
    if base == 1:
        raise ValueError("base: expected a positive number other than 1 (2, e or 10), got 1")
    return float(base)


def in_base(value_nats: float, base: float | None = None) -> float:
    """``value_nats`` (nats) in ``base``: 2 gives bits, 10 hartleys, None or e nats.

    >>> round(in_base(math.log(2), 2), 12)
    1.0
    """
    return float(value_nats) / math.log(_check_base(base))


def _take(a: Any, idx: np.ndarray) -> np.ndarray:
    return to_numpy(a)[idx]


def _baseline(
    fn: Callable[..., float],
    method: str,
    arrays: tuple[Any, ...],
    value: float,
    options: dict[str, Any],
    n_shuffles: int,
    n_bootstrap: int,
    confidence: float,
    random_state: Any,
) -> Estimate:
    rng = check_random_state(random_state)
    n = check_consistent_length(**{f"arg{i}": to_numpy(a) for i, a in enumerate(arrays)})
    null_mean = null_std = ci_low = ci_high = None
    if len(arrays) == 2 and n_shuffles > 0:
        nulls = [
            fn(arrays[0], _take(arrays[1], rng.permutation(n)), **options)
            for _ in range(n_shuffles)
        ]
        null_mean, null_std = (
            float(np.mean(nulls)),
            float(np.std(nulls, ddof=1) if n_shuffles > 1 else 0.0),
        )
    if method in _BOOTSTRAP_VALID and n_bootstrap > 0:
        boots = []
        for _ in range(n_bootstrap):
            idx = rng.integers(0, n, size=n)
            boots.append(fn(*(_take(a, idx) for a in arrays), **options))
        alpha = 0.5 * (1.0 - confidence)
        ci_low, ci_high = (float(q) for q in np.quantile(boots, [alpha, 1.0 - alpha]))
    return Estimate(value, null_mean, null_std, ci_low, ci_high, method)


def _check_options(fn: Callable[..., float], n_data: int, method: str, options: dict) -> None:
    """Name the option that is unknown to, or missing for, the estimator behind ``method``."""
    params = list(inspect.signature(fn).parameters.values())[n_data:]
    allowed = sorted(p.name for p in params)
    for name in options:
        if name not in allowed:
            raise ValueError(
                f"{name}: not an option of method={method!r}; its options are {', '.join(allowed)}"
            )
    for p in params:
        if p.default is inspect.Parameter.empty and p.name not in options:
            raise ValueError(f"{p.name}: method={method!r} needs the option {p.name}=<value>")


def _check_baseline_options(n_shuffles: int, n_bootstrap: int, confidence: float) -> None:
    check_scalar(n_shuffles, "n_shuffles", kind=(int, np.integer), low=0)
    check_scalar(n_bootstrap, "n_bootstrap", kind=(int, np.integer), low=0)
    check_scalar(
        confidence, "confidence", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )


def entropy(
    x: Any,
    method: str = "binning",
    *,
    return_baseline: bool = False,
    n_bootstrap: int = 50,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
    base: float | None = None,
    **options: Any,
) -> float | Estimate:
    """Entropy of ``x`` (nats, or ``base``) by the named estimator.

    Parameters
    ----------
    x : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Samples (rows) of the variable; any hashable symbols for ``"discrete"``.
    method : {"binning", "kde", "knn", "gaussian", "discrete"}
        Estimator; ``options`` go to it (e.g. ``n_bins=30``, ``noise_variance=0.1``, ``k=3``,
        ``correction="chao-shen"``).
    return_baseline : bool
        Return an :class:`Estimate` with a bootstrap interval (binning/gaussian/discrete only).
    n_bootstrap, confidence, random_state :
        Bootstrap resamples, interval level, seed.
    base : float or None
        Logarithm base of the result: None or e (nats, the default), 2 (bits), 10.

    Examples
    --------
    >>> round(entropy([0, 1, 2, 3], method="discrete"), 4)
    1.3863
    >>> entropy(["a", "b", "c", "d"], method="discrete", base=2)
    2.0
    >>> entropy([0, 1], method="nope")
    Traceback (most recent call last):
    ...
    ValueError: method: unknown value 'nope'; expected one of 'binning', 'kde', 'knn', 'gaussian', 'discrete'
    """
    fn = _ENTROPY[check_option(method, "method", METHODS)]
    b = _check_base(base)
    _check_options(fn, 1, method, options)
    value = float(fn(x, **options))
    if not return_baseline:
        return in_base(value, b)
    _check_baseline_options(0, n_bootstrap, confidence)
    est = _baseline(fn, method, (x,), value, options, 0, n_bootstrap, confidence, random_state)
    return est.in_base(b)


def _conditional(
    x: Any,
    y: Any,
    z: Any,
    method: str,
    return_baseline: bool,
    n_shuffles: int,
    random_state: Any,
    options: dict[str, Any],
) -> float | Estimate:
    fn = _CMI[check_option(method, "method", CMI_METHODS)]
    _check_options(fn, 3, method, options)
    value = float(fn(x, y, z, **options))
    if not return_baseline:
        return value
    check_scalar(n_shuffles, "n_shuffles", kind=(int, np.integer), low=1)
    null = conditional_null(
        x, y, z, method, n_shuffles=n_shuffles, random_state=random_state, **options
    )
    spread = float(np.std(null, ddof=1)) if n_shuffles > 1 else 0.0
    return Estimate(value, float(np.mean(null)), spread, None, None, method)


def mutual_information(
    x: Any,
    y: Any,
    method: str = "binning",
    *,
    z: Any = None,
    return_baseline: bool = False,
    n_shuffles: int = 5,
    n_bootstrap: int = 50,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
    base: float | None = None,
    **options: Any,
) -> float | Estimate:
    """Mutual information I(X;Y), or I(X;Y|Z) with ``z``, (nats, or ``base``) by the named method.

    Parameters
    ----------
    x, y : array-like or torch.Tensor, shape (n_samples, n_features) or (n_samples,)
        Paired samples; label vectors are accepted (integer ``y`` is kept as symbols by
        ``"binning"`` and ``"kde"``; any hashable symbols for ``"discrete"``).
    method : {"binning", "kde", "knn", "gaussian", "discrete", "mixed"}
        Estimator; ``options`` go to it. With ``z``: ``"discrete"``, ``"gaussian"`` or ``"knn"``
        (:func:`~structlearn.estimators.conditional.conditional_mutual_information`).
    z : array-like, shape (n_samples, n_features) or (n_samples,), optional
        Condition on z: I(X;Y|Z).
    return_baseline : bool
        Return an :class:`Estimate`: the value, the mean and spread of the same estimator over
        ``n_shuffles`` permutations of y (with ``z``: of x within strata of z, which keeps
        I(X;Z)), its bias at zero information, and a percentile bootstrap interval from
        ``n_bootstrap`` resamples where valid (not with ``z``).
    n_shuffles, n_bootstrap, confidence, random_state :
        Null shuffles, bootstrap resamples, interval level, seed.
    base : float or None
        Logarithm base of the result: None or e (nats, the default), 2 (bits), 10.

    Examples
    --------
    >>> x = np.repeat([0, 1], 50)
    >>> round(mutual_information(x, x, method="discrete"), 4)
    0.6931
    >>> mutual_information(x, x, method="discrete", base=2)
    1.0
    >>> est = mutual_information(x, x, method="discrete", return_baseline=True, n_bootstrap=0)
    >>> est.value > est.null_mean + 10 * est.null_std
    True
    >>> a = np.array([0, 0, 1, 1] * 25); b = np.array([0, 1, 0, 1] * 25)
    >>> mutual_information(a, b, "discrete"), round(mutual_information(a, b, "discrete", z=a ^ b), 4)
    (0.0, 0.6931)
    """
    b = _check_base(base)
    if z is not None:
        out = _conditional(x, y, z, method, return_baseline, n_shuffles, random_state, options)
        return out.in_base(b) if isinstance(out, Estimate) else in_base(out, b)
    fn = _MI[check_option(method, "method", MI_METHODS)]
    _check_options(fn, 2, method, options)
    value = float(fn(x, y, **options))
    if not return_baseline:
        return in_base(value, b)
    _check_baseline_options(n_shuffles, n_bootstrap, confidence)
    est = _baseline(
        fn, method, (x, y), value, options, n_shuffles, n_bootstrap, confidence, random_state
    )
    return est.in_base(b)
