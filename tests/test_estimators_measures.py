"""The measures researchers' other tools have (issue 14), against closed forms and plain loops:
conditional MI (discrete, Gaussian, Frenzel-Pompe kNN) and its within-strata null, bias-corrected
discrete entropies, the Euclidean and algorithm-2 KSG, mixed discrete-continuous MI, divergences,
total correlation, co-information, Renyi entropy and the ``base=`` option (all in nats)."""

import math

import numpy as np
import pytest
from scipy.special import digamma, xlogy

from structlearn.estimators import (
    co_information,
    conditional_mutual_information,
    conditional_null,
    cross_entropy,
    discrete_entropy,
    discrete_mutual_information,
    entropy,
    gaussian_mutual_information,
    js_divergence,
    kl_divergence,
    kl_divergence_of_distributions,
    ksg_mutual_information,
    mixed_mutual_information,
    mutual_information,
    renyi_entropy,
    renyi_entropy_of_distribution,
    total_correlation,
)

LOG2 = math.log(2)


def gaussian_chain(n=4000, seed=0):
    """z -> x, z -> y, and y also depends on x: I(X;Y|Z) = 0.5 log 2 exactly."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    x = z + rng.normal(size=(n, 1))
    y = x - z + z + rng.normal(size=(n, 1))  # y = x + noise given z: var(x|z) = 1 = var(noise)
    return x, y, z


# ---- conditional mutual information ----------------------------------------------------------


def test_xor_has_no_information_but_log_2_given_z():
    a = np.array([0, 0, 1, 1] * 50)
    b = np.array([0, 1, 0, 1] * 50)
    assert mutual_information(a, b, "discrete") == 0.0
    assert mutual_information(a, b, "discrete", z=a ^ b) == pytest.approx(LOG2, abs=1e-12)
    assert conditional_mutual_information(a, b, a ^ b, "discrete") == pytest.approx(LOG2, 1e-12)


def test_markov_chain_has_zero_conditional_information_within_its_null():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, 3000)
    z = (x + rng.integers(0, 2, 3000)) % 4  # x -> z -> y
    y = (z + rng.integers(0, 2, 3000)) % 4
    value = conditional_mutual_information(x, y, z, "discrete")
    null = conditional_null(x, y, z, "discrete", n_shuffles=40)
    assert abs(value - null.mean()) < 3 * null.std()
    assert mutual_information(x, y, "discrete") > 0.1  # they are dependent, only not given z
    est = mutual_information(x, y, "discrete", z=z, return_baseline=True, n_shuffles=40)
    assert est.null_mean == pytest.approx(null.mean(), abs=1e-12)


def test_within_strata_null_keeps_the_dependence_on_z():
    # the global shuffle destroys I(X;Z) too and its null sits far from the CMI of a chain;
    # shuffling x within the strata of z does not
    x, y, z = gaussian_chain(1500, seed=2)
    y = z + np.random.default_rng(5).normal(size=z.shape)  # x - z - y: I(X;Y|Z) = 0
    value = mutual_information(x, y, "knn", z=z)
    within = conditional_null(x, y, z, "knn", n_shuffles=10)
    assert abs(value - within.mean()) < 4 * within.std() + 0.01
    assert abs(value) < 0.03


def test_gaussian_and_knn_cmi_give_the_closed_form():
    x, y, z = gaussian_chain()
    truth = 0.5 * math.log(2)
    assert conditional_mutual_information(x, y, z, "gaussian") == pytest.approx(truth, abs=0.02)
    assert conditional_mutual_information(x, y, z, "knn") == pytest.approx(truth, abs=0.03)
    # the chain rule with our own MI: I(X;Y|Z) = I(X;(Y,Z)) - I(X;Z)
    chain = gaussian_mutual_information(x, np.hstack([y, z])) - gaussian_mutual_information(x, z)
    assert mutual_information(x, y, "gaussian", z=z) == pytest.approx(chain, abs=1e-12)
    # invariant to units of every variable
    scaled = mutual_information(1e6 * x, 1e-6 * y, "knn", z=3e3 * z)
    assert scaled == pytest.approx(mutual_information(x, y, "knn", z=z), abs=1e-9)


def frenzel_pompe_loop(x, y, z, k):
    n = len(x)
    total = 0.0
    for i in range(n):
        dx = np.abs(x - x[i]).max(1)
        dy = np.abs(y - y[i]).max(1)
        dz = np.abs(z - z[i]).max(1)
        dj = np.maximum(np.maximum(dx, dy), dz)
        dj[i] = np.inf
        eps = np.sort(dj)[k - 1]
        nxz = np.sum(np.maximum(dx, dz) < eps) - 1
        nyz = np.sum(np.maximum(dy, dz) < eps) - 1
        nz = np.sum(dz < eps) - 1
        total += digamma(nxz + 1) + digamma(nyz + 1) - digamma(nz + 1)
    return digamma(k) - total / n


@pytest.mark.parametrize("dims", [(1, 1, 1), (3, 2, 2)])  # tree path; bitsets from 6 dimensions
def test_knn_cmi_matches_a_loop(dims):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(200, dims[2]))
    x = z[:, :1] + rng.normal(size=(200, dims[0]))
    y = x[:, :1] + rng.normal(size=(200, dims[1]))
    ref = frenzel_pompe_loop(x, y, z, 4)
    for algorithm in ("auto", "kdtree", "brute"):
        got = conditional_mutual_information(
            x, y, z, "knn", k=4, jitter=0, standardize=False, algorithm=algorithm
        )
        assert got == pytest.approx(ref, abs=1e-12)


def test_cmi_refuses_unknown_methods_and_mismatched_lengths():
    with pytest.raises(ValueError, match="method"):
        mutual_information([0, 1], [0, 1], "binning", z=[0, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        conditional_mutual_information([0, 1, 1], [0, 1, 1], [0, 1], "discrete")
    with pytest.raises(ValueError, match="k: not an option"):
        mutual_information([0, 1], [0, 1], "discrete", z=[0, 1], k=3)


# ---- bias-corrected discrete entropy ---------------------------------------------------------


def test_bias_corrections_on_the_undersampled_uniform():
    """5,000 equiprobable symbols sampled 5,000 times (truth log 5000 = 8.517): the issue's
    table. Miller-Madow is the plug-in plus (m - 1)/(2n) exactly."""
    x = np.random.default_rng(0).integers(0, 5000, 5000)
    values = {
        c: discrete_entropy(x, correction=c)
        for c in ("plugin", "miller-madow", "chao-shen", "grassberger")
    }
    m = np.unique(x).size
    assert values["miller-madow"] == pytest.approx(values["plugin"] + (m - 1) / 10000, abs=1e-12)
    assert values["plugin"] == pytest.approx(7.943, abs=1e-3)
    assert values["miller-madow"] == pytest.approx(8.260, abs=1e-3)
    assert values["chao-shen"] == pytest.approx(8.625, abs=1e-3)
    assert values["grassberger"] == pytest.approx(8.471, abs=1e-3)
    truth = math.log(5000)
    errors = {c: abs(v - truth) for c, v in values.items()}
    assert max(errors, key=errors.get) == "plugin"


def test_chao_shen_and_grassberger_match_their_formulas():
    counts = np.array([3, 1, 1, 2, 5, 1])
    x = np.repeat(np.arange(counts.size), counts)
    n = counts.sum()
    coverage = 1 - 3 / n  # three singletons
    pa = coverage * counts / n
    chao_shen = -np.sum(pa * np.log(pa) / (1 - (1 - pa) ** n))
    assert discrete_entropy(x, correction="chao-shen") == pytest.approx(chao_shen, abs=1e-12)
    g = digamma(counts) + 0.5 * (-1.0) ** counts * (digamma((counts + 1) / 2) - digamma(counts / 2))
    grassberger = np.log(n) - np.sum(counts * g) / n
    assert discrete_entropy(x, correction="grassberger") == pytest.approx(grassberger, abs=1e-12)
    # every correction leaves a fully sampled distribution close to the plug-in
    y = np.repeat([0, 1], 5000)
    for c in ("miller-madow", "chao-shen", "grassberger"):
        assert discrete_entropy(y, correction=c) == pytest.approx(LOG2, abs=1e-3)


# ---- KSG variants and mixed MI ---------------------------------------------------------------


def ksg_euclidean_loop(x, y, k):
    n = len(x)
    total = 0.0
    for i in range(n):
        dx = np.sqrt(((x - x[i]) ** 2).sum(1))
        dy = np.sqrt(((y - y[i]) ** 2).sum(1))
        dz = np.maximum(dx, dy)
        dz[i] = np.inf
        eps = np.sort(dz)[k - 1]
        total += digamma(np.sum(dx < eps)) + digamma(np.sum(dy < eps))  # self included
    return digamma(k) + digamma(n) - total / n


def ksg2_loop(x, y, k):
    n = len(x)
    total = 0.0
    for i in range(n):
        dx = np.abs(x - x[i]).max(1)
        dy = np.abs(y - y[i]).max(1)
        dz = np.maximum(dx, dy)
        dz[i] = np.inf
        nn = np.argsort(dz)[:k]
        total += digamma(np.sum(dx <= dx[nn].max()) - 1) + digamma(np.sum(dy <= dy[nn].max()) - 1)
    return digamma(k) - 1 / k + digamma(n) - total / n


def test_euclidean_and_second_ksg_match_loops():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(180, 3))
    y = x[:, :2] + rng.normal(size=(180, 2))
    opts = {"k": 4, "jitter": 0, "standardize": False}
    got = ksg_mutual_information(x, y, metric="euclidean", **opts)
    assert got == pytest.approx(ksg_euclidean_loop(x, y, 4), abs=1e-9)
    assert ksg_mutual_information(x, y, variant=2, **opts) == pytest.approx(
        ksg2_loop(x, y, 4), abs=1e-12
    )
    # in one dimension per side the norms agree
    a, b = x[:, :1], y[:, :1]
    assert ksg_mutual_information(a, b, metric="euclidean", **opts) == pytest.approx(
        ksg_mutual_information(a, b, **opts), abs=1e-12
    )
    with pytest.raises(ValueError, match="variant"):
        ksg_mutual_information(x, y, variant=3)


def test_mixed_mi_is_plugin_on_symbols_ksg_on_continuous_and_right_on_mixtures():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, 3000)
    y = x + rng.integers(0, 2, 3000)
    assert mixed_mutual_information(x, y) == pytest.approx(
        discrete_mutual_information(x, y), abs=1e-6
    )
    c = rng.normal(size=(2000, 2))
    assert mixed_mutual_information(c[:, 0], c.sum(1), k=3) == pytest.approx(
        ksg_mutual_information(c[:, 0], c.sum(1), k=3, jitter=0), abs=1e-12
    )
    # X uniform on 4 symbols, Y = X + U[0, 2): I = h(Y) - log 2 = 1.5596 - 0.6931
    x = rng.integers(0, 4, 5000)
    truth = (0.25 * np.log(8) + 0.75 * np.log(4)) - LOG2
    assert mutual_information(x, x + 2 * rng.random(5000), "mixed") == pytest.approx(
        truth, abs=0.03
    )


# ---- divergences -----------------------------------------------------------------------------


def test_kl_divergence_of_gaussians():
    rng = np.random.default_rng(0)
    p = rng.normal(0.0, 1.0, (5000, 2))
    q = rng.normal(0.5, 2.0, (5000, 2))
    # KL(N(0, I) || N(m, 4 I)) = 0.5 (tr / 4 + m'm / 4 - d + d log 4)
    truth = 0.5 * (2 / 4 + 2 * 0.25 / 4 - 2 + 2 * np.log(4))
    assert kl_divergence(p, q, "gaussian") == pytest.approx(truth, abs=0.03)
    assert kl_divergence(p, q, "knn", k=5) == pytest.approx(truth, abs=0.08)
    assert kl_divergence(p, q, "knn", k=5, metric="chebyshev") == pytest.approx(truth, abs=0.08)
    assert kl_divergence(1e300 * p, 1e300 * q, "gaussian") == pytest.approx(
        kl_divergence(p, q, "gaussian"), abs=1e-9
    )
    h_p = 0.5 * 2 * np.log(2 * np.pi * np.e)
    assert cross_entropy(p, q, "gaussian") == pytest.approx(h_p + truth, abs=0.03)
    assert cross_entropy(p, q, "knn", k=5) == pytest.approx(h_p + truth, abs=0.08)


def test_discrete_divergences_are_exact_on_frequencies():
    p = ["a"] * 6 + ["b"] * 3 + ["c"]
    q = ["a"] * 2 + ["b"] * 4 + ["c"] * 4
    pp, qq = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.4, 0.4])
    kl = float(np.sum(pp * np.log(pp / qq)))
    assert kl_divergence(p, q, "discrete") == pytest.approx(kl, abs=1e-12)
    assert kl_divergence_of_distributions(pp, qq) == pytest.approx(kl, abs=1e-12)
    h_p = -float(np.sum(xlogy(pp, pp)))
    assert cross_entropy(p, q, "discrete") == pytest.approx(h_p + kl, abs=1e-12)
    m = (pp + qq) / 2
    js = -np.sum(xlogy(m, m)) - 0.5 * (-np.sum(xlogy(pp, pp)) - np.sum(xlogy(qq, qq)))
    assert js_divergence(p, q) == pytest.approx(js, abs=1e-12)
    assert js_divergence(pp, qq, from_distributions=True) == pytest.approx(js, abs=1e-12)
    assert kl_divergence(["a", "b"], ["a", "a"], "discrete") == math.inf
    assert 0.0 <= js_divergence(["a"], ["b"]) == pytest.approx(LOG2, abs=1e-12)


# ---- multivariate measures and Renyi ---------------------------------------------------------


def test_total_correlation_and_co_information_closed_forms():
    a = np.array([0, 0, 1, 1] * 50)
    b = np.array([0, 1, 0, 1] * 50)
    assert total_correlation([a, b, a ^ b]) == pytest.approx(LOG2, abs=1e-12)  # 3 log 2 - 2 log 2
    assert co_information([a, b, a ^ b]) == pytest.approx(-LOG2, abs=1e-12)
    assert co_information([a, a]) == pytest.approx(discrete_mutual_information(a, a), abs=1e-12)
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 1.0]])
    s = rng.multivariate_normal(np.zeros(3), cov, 50000) * [1e-5, 1.0, 1e5]
    corr = np.corrcoef(s.T)
    assert total_correlation(s, "gaussian") == pytest.approx(
        -0.5 * np.linalg.slogdet(corr)[1], abs=1e-9
    )
    x, y, z = s[:, :1], s[:, 1:2], s[:, 2:]
    chain = gaussian_mutual_information(x, y) - mutual_information(x, y, "gaussian", z=z)
    assert co_information([x, y, z], "gaussian") == pytest.approx(chain, abs=1e-9)


def test_renyi_entropy_closed_forms():
    p = np.array([0.5, 0.25, 0.125, 0.125])
    for alpha in (0.5, 2.0, 3.0):
        expected = np.log(np.sum(p**alpha)) / (1 - alpha)
        assert renyi_entropy_of_distribution(p, alpha) == pytest.approx(expected, abs=1e-12)
    shannon = -np.sum(p * np.log(p))
    assert renyi_entropy_of_distribution(p, 1.0) == pytest.approx(shannon, abs=1e-12)
    assert renyi_entropy_of_distribution(p, 1.0 + 1e-7) == pytest.approx(shannon, abs=1e-5)
    assert renyi_entropy_of_distribution(p, np.inf) == pytest.approx(LOG2, abs=1e-12)
    x = np.repeat(np.arange(4), (p * 8).astype(int))
    assert renyi_entropy(x, 2.0) == pytest.approx(-np.log(np.sum(p**2)), abs=1e-12)
    g = np.random.default_rng(0).normal(size=(100000, 2)) * [1.0, 3.0]
    # H_2 of N(0, S): 1/2 log det(2 pi S) + d log 2 / 2
    expected = 0.5 * np.log((2 * np.pi) ** 2 * 9.0) + np.log(2.0)
    assert renyi_entropy(g, 2.0, "gaussian") == pytest.approx(expected, abs=0.02)
    with pytest.raises(ValueError, match="alpha"):
        renyi_entropy(x, -1.0)


# ---- units -----------------------------------------------------------------------------------


def test_base_converts_every_public_number_and_json_stays_in_nats():
    x = np.repeat([0, 1, 2, 3], 25)
    assert entropy(x, "discrete", base=2) == pytest.approx(2.0, abs=1e-12)
    assert entropy(x, "discrete", base=10) == pytest.approx(np.log10(4), abs=1e-12)
    assert mutual_information(x, x % 2, "discrete", base=2) == pytest.approx(1.0, abs=1e-12)
    est = mutual_information(x, x % 2, "discrete", base=2, return_baseline=True, n_bootstrap=5)
    assert est.value == pytest.approx(1.0, abs=1e-12) and est.base == 2
    assert est.to_dict()["value_nats"] == pytest.approx(LOG2, abs=1e-12)
    nats = mutual_information(x, x % 2, "discrete", return_baseline=True, n_bootstrap=5)
    assert est.to_dict() == pytest.approx(nats.to_dict())
    with pytest.raises(ValueError, match="base"):
        entropy(x, "discrete", base=1)
    with pytest.raises(ValueError, match="base"):
        entropy(x, "discrete", base=-2.0)
