"""kNN (Kozachenko-Leonenko, KSG) and KDE (Kolchinsky-Tracey) estimators vs plain references."""

import warnings

import numpy as np
import pytest
from scipy.special import digamma, logsumexp

from structlearn.estimators import (
    kde_entropy,
    kde_mi_bounds,
    kde_mutual_information,
    knn_entropy,
    ksg_mutual_information,
)
from structlearn.estimators.knn import _cube_counts_bitset


def ksg_reference(x, y, k):
    """KSG algorithm 1 by double loops over samples (max-norm)."""
    n = len(x)
    total = 0.0
    for i in range(n):
        dx = np.abs(x - x[i]).max(axis=1)
        dy = np.abs(y - y[i]).max(axis=1)
        dz = np.maximum(dx, dy)
        dz[i] = np.inf
        eps = np.sort(dz)[k - 1]
        nx = sum(1 for j in range(n) if j != i and dx[j] < eps)
        ny = sum(1 for j in range(n) if j != i and dy[j] < eps)
        total += digamma(nx + 1) + digamma(ny + 1)
    return digamma(k) + digamma(n) - total / n


@pytest.mark.parametrize("dims", [(2, 1), (4, 3)])  # "auto": a tree for 3 joint dims, bitsets for 7
def test_ksg_matches_loop_reference_for_every_algorithm(dims):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, dims[0]))
    y = x[:, : dims[1]] + 0.5 * rng.normal(size=(150, dims[1]))
    ref = ksg_reference(x, y, 4)
    for algorithm in ("auto", "kdtree", "brute"):
        got = ksg_mutual_information(x, y, k=4, algorithm=algorithm, jitter=0, standardize=False)
        assert got == pytest.approx(ref, abs=1e-12)
    # by default each feature is standardised (ddof=0) first
    zx, zy = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    got = ksg_mutual_information(x, y, k=4, jitter=0)
    assert got == pytest.approx(ksg_reference(zx, zy, 4), abs=1e-12)


def test_ksg_one_dimensional_marginals_with_exact_ties_match_the_loop():
    """Scalars on a 1/16 grid (every difference exact in binary): many neighbours lie exactly at
    the k-th distance, and strictly-closer must exclude them. (On a 0.05 grid the loop's float
    differences straddle the k-th distance by an ulp; the estimators, which search with a
    few-ulp inward slack, then count as exact arithmetic would, and the two differ.)"""
    rng = np.random.default_rng(9)
    x = np.round(rng.normal(size=(240, 1)) * 16) / 16
    y = np.round((x + rng.normal(size=(240, 1))) * 16) / 16
    ref = ksg_reference(x, y, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # some k-th distances are 0: duplicates
        for algorithm in ("auto", "kdtree", "brute"):
            got = ksg_mutual_information(
                x, y, k=3, algorithm=algorithm, jitter=0, standardize=False
            )
            assert got == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("d", [3, 9])  # "auto": a tree in 3 dimensions, bitsets in 9
def test_kl_entropy_matches_loop_reference(d):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, d))
    rho = np.array([np.sort(np.abs(x - x[i]).max(axis=1))[3] for i in range(120)])  # k = 3
    ref = digamma(120) - digamma(3) + d * np.log(2) + d * np.log(rho).mean()
    for algorithm in ("auto", "kdtree", "brute"):
        got = knn_entropy(x, k=3, jitter=0, algorithm=algorithm, standardize=False)
        assert got == pytest.approx(ref, abs=1e-12)
    # by default: the entropy of the standardised features plus their log standard deviations
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / sd
    rho = np.array([np.sort(np.abs(z - z[i]).max(axis=1))[3] for i in range(120)])
    ref = digamma(120) - digamma(3) + d * np.log(2) + d * np.log(rho).mean() + np.log(sd).sum()
    assert knn_entropy(x, k=3, jitter=0) == pytest.approx(ref, abs=1e-12)


def test_bitset_counts_match_direct_counts():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(333, 4))
    eps = rng.uniform(0.2, 1.5, size=333)
    direct = [(np.abs(a - a[i]).max(axis=1) < eps[i]).sum() for i in range(333)]
    assert np.array_equal(_cube_counts_bitset(a, eps), direct)


def test_ksg_invariances():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(800, 1))
    y = np.sin(x) + 0.3 * rng.normal(size=(800, 1))
    base = ksg_mutual_information(x, y)
    perm = rng.permutation(800)
    assert ksg_mutual_information(x[perm], y[perm]) == pytest.approx(base, abs=1e-9)
    assert ksg_mutual_information(y, x) == pytest.approx(base, abs=1e-9)

    # monotone maps: exactly invariant after a rank (copula) transform, approximately before it
    def ranks(a):
        return np.argsort(np.argsort(a[:, 0])).astype(float)[:, None]

    on_ranks = ksg_mutual_information(ranks(x), ranks(y))
    assert ksg_mutual_information(ranks(np.exp(x)), ranks(y**3)) == pytest.approx(
        on_ranks, abs=1e-12
    )
    assert ksg_mutual_information(x + 0.2 * x**3, 2.0 * y + 1.0) == pytest.approx(base, abs=0.05)


def test_knn_entropy_shift_and_scale():
    x = np.random.default_rng(4).normal(size=(600, 2))
    base = knn_entropy(x)
    assert knn_entropy(x + 5.0) == pytest.approx(base, abs=1e-6)
    assert knn_entropy(3.0 * x) == pytest.approx(base + 2 * np.log(3.0), abs=1e-6)


def kt_reference(h, var, scale):
    n, d = h.shape
    vals = []
    for i in range(n):
        d2 = ((h - h[i]) ** 2).sum(axis=1)
        vals.append(logsumexp(-d2 / (scale * var)) - np.log(n))
    return 0.5 * d * np.log(2 * np.pi * np.e * var) - np.mean(vals)


def test_kde_entropy_matches_loop_reference():
    h = np.random.default_rng(5).normal(size=(50, 3))
    assert kde_entropy(h, 0.3) == pytest.approx(kt_reference(h, 0.3, 2.0), abs=1e-10)
    lower = kt_reference(h, 0.3, 8.0)
    assert kde_entropy(h, 0.3, bound="lower") == pytest.approx(lower, abs=1e-10)


def test_kde_bounds_order_and_limits():
    rng = np.random.default_rng(6)
    h = rng.normal(size=(200, 4))
    labels = rng.integers(0, 2, size=200)
    b = kde_mi_bounds(h, labels, noise_variance=0.1)
    assert b["I_XT_lower_nats"] <= b["I_XT_upper_nats"] <= np.log(200) + 1e-12
    far = kde_mi_bounds(1000.0 * h, labels, noise_variance=0.1)
    assert far["I_XT_upper_nats"] == pytest.approx(np.log(200), abs=1e-9)  # every input resolved
    flooded = kde_mi_bounds(h, labels, noise_variance=1e6)
    assert flooded["I_XT_upper_nats"] < 1e-4 and flooded["I_TY_upper_nats"] < 1e-4
    assert b["I_TY_upper_nats"] == pytest.approx(kde_mutual_information(h, labels, 0.1), abs=1e-12)


def test_kde_continuous_pair_is_symmetric():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(80, 1)), rng.normal(size=(80, 2))
    assert kde_mutual_information(x, y, 0.5) == pytest.approx(kde_mutual_information(y, x, 0.5))


def test_bad_inputs():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="k"):
        knn_entropy(x, k=3)
    with pytest.raises(ValueError, match="k"):
        ksg_mutual_information(x, x, k=5)
    with pytest.raises(ValueError, match="noise_variance"):
        kde_entropy(x, 0.0)
    with pytest.raises(ValueError, match="noise_variance"):
        kde_mi_bounds(x, [0, 1, 0], -1.0)
    with pytest.raises(ValueError, match="algorithm"):
        knn_entropy(np.zeros((10, 1)), algorithm="ball")
    with pytest.raises(ValueError, match="bound"):
        kde_entropy(x, 1.0, bound="middle")


def test_repeated_samples_without_jitter_warn_and_jitter_removes_the_warning():
    import warnings

    rng = np.random.default_rng(8)
    x = rng.integers(0, 2, size=(300, 1)).astype(float)
    y = rng.integers(0, 2, size=(300, 1)).astype(float)  # independent coin flips: I = 0
    with pytest.warns(UserWarning, match=r"ksg_mutual_information: 100\.0% .* distance 0"):
        broken = ksg_mutual_information(x, y, jitter=0)
    with pytest.warns(UserWarning, match=r"knn_entropy: 100\.0% .* distance 0"):
        knn_entropy(x, jitter=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jittered = ksg_mutual_information(x, y)
    assert broken > 5.0 and abs(jittered) < 0.2  # what the warning is about
