"""Divergences between two distributions (nats): KL, Jensen--Shannon and cross-entropy.

- k-nearest-neighbour KL: Wang, Kulkarni & Verdú (2009), *Divergence estimation for
  multidimensional densities via k-nearest-neighbor distances*, IEEE Trans. Inf. Theory 55(5):
  :math:`\\hat D(P\\Vert Q) = \\frac dn\\sum_i \\log\\frac{\\nu_k(i)}{\\rho_k(i)} + \\log\\frac{m}{n-1}`,
  with :math:`\\rho_k(i)` the distance from :math:`x_i` to its k-th neighbour among the other
  samples of P (n of them) and :math:`\\nu_k(i)` to its k-th neighbour among the m samples of Q;
  the kNN cross-entropy :math:`\\hat H(P, Q) = \\psi(m) - \\psi(k) + \\log c_d + \\frac dn\\sum_i
  \\log\\nu_k(i)` (Leonenko, Pronzato & Savani, 2008, *Ann. Statist.* 36(5)).
- Gaussian: the closed forms between the fitted Gaussians (Cover & Thomas, ch. 8).
- discrete: plug-in from two samples of symbols, or exact from two probability vectors.

All of them are in nats. KL and the cross-entropy are infinite where Q puts no mass on a symbol P
has (discrete); they are then returned as ``inf`` (the exact value), never NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from structlearn.estimators._common import as_samples, scale_to_unit
from structlearn.estimators.discrete import _entropy_terms, symbol_ids
from structlearn.estimators.gaussian import shrunk_covariance
from structlearn.utils.validation import check_array, check_option, check_scalar

__all__ = [
    "DIVERGENCE_METHODS",
    "cross_entropy",
    "js_divergence",
    "kl_divergence",
    "kl_divergence_of_distributions",
]

#: the methods of :func:`kl_divergence` and :func:`cross_entropy`
DIVERGENCE_METHODS = ("knn", "gaussian", "discrete")
_METRICS = ("euclidean", "chebyshev")


def _two_samples(p: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    pa, qa = as_samples(p, "p", min_samples=2), as_samples(q, "q", min_samples=1)
    if pa.shape[1] != qa.shape[1]:
        raise ValueError(
            f"p, q: expected samples of the same dimension, got {pa.shape[1]} and {qa.shape[1]}"
        )
    return pa, qa


def _knn_distances(p: np.ndarray, q: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, ...]:
    """k-th neighbour distances of every sample of p: among the other samples of p, and in q.
    Both samples are divided by one common scale first (exact for the log-ratio)."""
    if p.shape[0] < k + 1 or q.shape[0] < k:
        raise ValueError(
            f"k: need at least k + 1 = {k + 1} samples of p and k = {k} of q, got "
            f"{p.shape[0]} and {q.shape[0]}"
        )
    both, log_c = scale_to_unit(np.vstack([p, q]))
    ps, qs = both[: p.shape[0]], both[p.shape[0] :]
    norm = 2.0 if metric == "euclidean" else np.inf
    rho = cKDTree(ps).query(ps, k=[k + 1], p=norm)[0][:, 0]
    nu = cKDTree(qs).query(ps, k=[k], p=norm)[0][:, 0]
    if (rho == 0).any() or (nu == 0).any():
        raise ValueError(
            "p, q: some k-th neighbour distances are 0 (repeated samples); the kNN divergences "
            "assume continuous data: add jitter or use method='discrete'"
        )
    return rho, nu, log_c


def _log_unit_ball(d: int, metric: str) -> float:
    if metric == "chebyshev":
        return d * np.log(2.0)
    return 0.5 * d * np.log(np.pi) - float(gammaln(0.5 * d + 1.0))


def _fit_gaussian(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), shrunk_covariance(x)


def _gaussian_kl(p: np.ndarray, q: np.ndarray) -> float:
    both, _ = scale_to_unit(np.vstack([p, q]))  # KL is invariant to a common scale
    mp, sp = _fit_gaussian(both[: p.shape[0]])
    mq, sq = _fit_gaussian(both[p.shape[0] :])
    d = p.shape[1]
    chol = np.linalg.cholesky(sq)
    solve = np.linalg.solve(chol, np.column_stack([sp, mq - mp]))
    trace = float(np.trace(np.linalg.solve(chol.T, solve[:, :d])))
    maha = float(np.sum(solve[:, d] ** 2))
    logdet_q = 2.0 * float(np.sum(np.log(np.diag(chol))))
    logdet_p = float(np.linalg.slogdet(sp)[1])
    return 0.5 * (trace + maha - d + logdet_q - logdet_p)


def _discrete_pair(p: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    """Empirical distributions of two samples of symbols over their common alphabet."""
    from structlearn.utils.validation import to_numpy

    pa, qa = to_numpy(p), to_numpy(q)
    both = np.concatenate([pa, qa]) if pa.dtype != object else np.array([*pa, *qa], dtype=object)
    ids = symbol_ids(both, "p, q")
    n = len(pa)
    m = int(ids.max()) + 1
    return np.bincount(ids[:n], minlength=m) / n, np.bincount(ids[n:], minlength=m) / len(qa)


def _kl_of(pp: np.ndarray, qq: np.ndarray) -> float:
    support = pp > 0
    if np.any(qq[support] == 0):
        return float("inf")
    return float(np.sum(pp[support] * np.log(pp[support] / qq[support])))


def kl_divergence_of_distributions(p: Any, q: Any) -> float:
    r"""Exact :math:`D(P\Vert Q) = \sum_i p_i \log(p_i / q_i)` (nats) of two probability vectors.

    ``inf`` where some :math:`q_i = 0 < p_i`.

    Examples
    --------
    >>> round(kl_divergence_of_distributions([0.5, 0.5], [0.9, 0.1]), 4)
    0.5108
    >>> kl_divergence_of_distributions([0.5, 0.5], [1.0, 0.0])
    inf
    """
    pp, qq = _check_distribution(p, "p"), _check_distribution(q, "q")
    if pp.shape != qq.shape:
        raise ValueError(f"p, q: expected the same shape, got {pp.shape} and {qq.shape}")
    return _kl_of(pp, qq)


def _check_distribution(p: Any, name: str) -> np.ndarray:
    arr = check_array(p, name, ndim=1)
    if (arr < 0).any() or abs(float(arr.sum()) - 1.0) > 1e-8:
        raise ValueError(
            f"{name}: expected a probability vector (non-negative, summing to 1), got sum "
            f"{float(arr.sum()):.6g} and minimum {float(arr.min()):.3g}"
        )
    return arr


def _check_knn(k: int, metric: str) -> None:
    check_scalar(k, "k", kind=(int, np.integer), low=1)
    check_option(metric, "metric", _METRICS)


def kl_divergence(
    p: Any, q: Any, method: str = "knn", *, k: int = 1, metric: str = "euclidean"
) -> float:
    r"""Kullback--Leibler divergence :math:`D(P\Vert Q)` (nats) from a sample of each.

    Parameters
    ----------
    p, q : array-like, shape (n, d) and (m, d) (or 1-D: scalars; symbols for ``"discrete"``)
        Samples of P and of Q (not paired: n and m may differ).
    method : {"knn", "gaussian", "discrete"}
        Wang--Kulkarni--Verdú k-NN (continuous data), the closed form between the fitted
        Gaussians, or plug-in frequencies (``inf`` when q misses a symbol of p).
    k, metric :
        Neighbour order and norm of ``"knn"`` (the estimator is consistent for either norm).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(0, 1, (4000, 1)), rng.normal(1, 1, (4000, 1))   # truth 0.5
    >>> round(kl_divergence(a, b, "gaussian"), 2), round(kl_divergence(a, b, "knn"), 1)
    (0.5, 0.5)
    >>> round(kl_divergence(["a", "a", "b", "b"], ["a", "b", "b", "b"], "discrete"), 4)
    0.1438
    """
    method = check_option(method, "method", DIVERGENCE_METHODS)
    if method == "discrete":
        return _kl_of(*_discrete_pair(p, q))
    pa, qa = _two_samples(p, q)
    if method == "gaussian":
        return _gaussian_kl(pa, qa)
    _check_knn(k, metric)
    rho, nu, _ = _knn_distances(pa, qa, k, metric)
    n, m, d = pa.shape[0], qa.shape[0], pa.shape[1]
    return float(d * np.mean(np.log(nu / rho)) + np.log(m / (n - 1.0)))


def cross_entropy(
    p: Any, q: Any, method: str = "knn", *, k: int = 1, metric: str = "euclidean"
) -> float:
    r"""Cross-entropy :math:`H(P, Q) = -E_P[\log q] = H(P) + D(P\Vert Q)` (nats) from samples.

    Parameters
    ----------
    p, q : array-like, shape (n, d) and (m, d) (symbols for ``"discrete"``)
        Samples of P and of Q.
    method : {"knn", "gaussian", "discrete"}
        Leonenko--Pronzato--Savani k-NN, the Gaussian closed form, or plug-in frequencies.
    k, metric :
        Neighbour order and norm of ``"knn"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(0, 1, (4000, 1)), rng.normal(1, 1, (4000, 1))   # truth 1.9189
    >>> round(cross_entropy(a, b, "gaussian"), 2)
    1.9
    """
    method = check_option(method, "method", DIVERGENCE_METHODS)
    if method == "discrete":
        pp, qq = _discrete_pair(p, q)
        kl = _kl_of(pp, qq)
        return kl if np.isinf(kl) else float(_entropy_terms(pp, None) + kl)
    pa, qa = _two_samples(p, q)
    if method == "gaussian":
        both, log_c = scale_to_unit(np.vstack([pa, qa]))
        h_p = 0.5 * float(
            np.linalg.slogdet(2 * np.pi * np.e * shrunk_covariance(both[: len(pa)]))[1]
        )
        return h_p + pa.shape[1] * log_c + _gaussian_kl(pa, qa)
    _check_knn(k, metric)
    _, nu, log_c = _knn_distances(pa, qa, k, metric)
    d, m = pa.shape[1], qa.shape[0]
    log_cd = _log_unit_ball(d, metric)
    return float(digamma(m) - digamma(k) + log_cd + d * np.mean(np.log(nu)) + d * log_c)


def js_divergence(p: Any, q: Any, *, from_distributions: bool = False) -> float:
    r"""Jensen--Shannon divergence :math:`H(M) - \tfrac12(H(P) + H(Q))`, :math:`M = (P+Q)/2`
    (nats; between 0 and log 2), of two samples of symbols or two probability vectors.

    Lin (1991), *Divergence measures based on the Shannon entropy*, IEEE Trans. Inf. Theory 37(1).

    Parameters
    ----------
    p, q : sequences of symbols (n,) and (m,), or probability vectors of one shape
        Samples (plug-in frequencies over their common alphabet) or, with
        ``from_distributions=True``, the distributions themselves.

    Examples
    --------
    >>> round(js_divergence([1.0, 0.0], [0.0, 1.0], from_distributions=True), 4)   # log 2
    0.6931
    >>> round(js_divergence(["a", "a", "b"], ["b", "b", "c"]), 4)
    0.3749
    """
    if from_distributions:
        pp, qq = _check_distribution(p, "p"), _check_distribution(q, "q")
        if pp.shape != qq.shape:
            raise ValueError(f"p, q: expected the same shape, got {pp.shape} and {qq.shape}")
    else:
        pp, qq = _discrete_pair(p, q)
    h = _entropy_terms
    return max(float(h(0.5 * (pp + qq), None) - 0.5 * (h(pp, None) + h(qq, None))), 0.0)
