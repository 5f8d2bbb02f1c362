"""Side by side with the peer libraries pinned in constraints.txt (the ``bench`` extra):
npeet-plus 0.2.0 and infomeasure 0.6.3 (embo 1.1.0: ``tests/test_estimators_ib.py``).

Same data, same estimator definition, compared to rounding: npeet-plus adds uniform noise of
1e-10 to break ties, so its kNN values agree with ours (``standardize=False``: npeet does not
standardise) to about 1e-8; npeet reports bits by default and is asked for nats. Marked ``slow``
(the peers are not installed by ``make test``); run with ``pytest -m slow``.
"""

import math

import numpy as np
import pytest

from structlearn.estimators import (
    conditional_mutual_information,
    discrete_entropy,
    discrete_mutual_information,
    kl_divergence,
    knn_entropy,
    ksg_mutual_information,
    mixed_mutual_information,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def npeet():
    return pytest.importorskip("npeet_plus")


@pytest.fixture(scope="module")
def infomeasure():
    return pytest.importorskip("infomeasure")


def correlated(n, dx, dy, rho, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx))
    y = rho * x[:, :dy] + math.sqrt(1 - rho**2) * rng.normal(size=(n, dy))
    return x, y


@pytest.mark.parametrize("dims", [(1, 1), (3, 2), (10, 10)])
def test_ksg_equals_npeet_and_infomeasure(npeet, infomeasure, dims):
    x, y = correlated(1500, *dims, rho=0.6, seed=dims[0])
    ours = ksg_mutual_information(x, y, k=3, standardize=False, jitter=0)
    np.random.seed(0)  # noqa: NPY002 - npeet's tie-breaking noise uses numpy's global generator
    assert npeet.mi(x, y, k=3, base=math.e) == pytest.approx(ours, abs=1e-7)
    theirs = infomeasure.mutual_information(x, y, approach="ksg", k=3, noise_level=0)
    assert theirs == pytest.approx(ours, abs=1e-9)


def test_npeet_gaussian_cases(npeet):
    """NPEET's own test script: correlated Gaussians against -1/2 log det, and conditioning."""
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]])
    s = rng.multivariate_normal(np.zeros(3), cov, 4000)
    x, y, z = s[:, :1], s[:, 1:2], s[:, 2:]
    truth = -0.5 * math.log(1 - 0.8**2)
    ours = ksg_mutual_information(x, y, k=3, standardize=False, jitter=0)
    np.random.seed(0)  # noqa: NPY002
    assert npeet.mi(x, y, k=3, base=math.e) == pytest.approx(ours, abs=1e-7)
    assert ours == pytest.approx(truth, abs=0.05)
    ours_c = conditional_mutual_information(x, y, z, "knn", standardize=False, jitter=0)
    np.random.seed(0)  # noqa: NPY002
    assert npeet.cmi(x, y, z, k=3, base=math.e) == pytest.approx(ours_c, abs=1e-7)
    inv = np.linalg.inv(cov)  # I(X;Y|Z) from the conditional correlation of x and y given z
    partial = -inv[0, 1] / math.sqrt(inv[0, 0] * inv[1, 1])
    assert ours_c == pytest.approx(-0.5 * math.log(1 - partial**2), abs=0.06)


def test_kl_entropy_and_divergence_equal_npeet(npeet, infomeasure):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 3))
    ours = knn_entropy(x, k=3, jitter=0)
    np.random.seed(0)  # noqa: NPY002
    assert npeet.entropy(x, k=3, base=math.e) == pytest.approx(ours, abs=1e-7)
    theirs = infomeasure.entropy(
        x, approach="metric", k=3, base="e", noise_level=0, minkowski_p=np.inf
    )
    assert theirs == pytest.approx(ours, abs=1e-9)
    q = rng.normal(0.5, 1.5, size=(2500, 3))
    ours_kl = kl_divergence(x, q, "knn", k=3, metric="chebyshev")
    np.random.seed(0)  # noqa: NPY002
    assert npeet.kldiv(x, q, k=3, base=math.e) == pytest.approx(ours_kl, abs=1e-6)


def test_discrete_and_mixed_equal_npeet(npeet):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 3000)
    b = (a + rng.integers(0, 3, 3000)) % 5
    assert npeet.entropyd(a, base=math.e) == pytest.approx(discrete_entropy(a), abs=1e-12)
    assert npeet.midd(a, b, base=math.e) == pytest.approx(
        discrete_mutual_information(a, b), abs=1e-12
    )
    c = a + rng.random(3000)  # continuous given the symbol
    ours = mixed_mutual_information(c, a, k=3, standardize=False)
    np.random.seed(0)  # noqa: NPY002
    theirs = npeet.micd(c.reshape(-1, 1), a.reshape(-1, 1), k=3, base=math.e, warning=False)
    assert ours == pytest.approx(math.log(5), abs=0.02)
    assert theirs == pytest.approx(math.log(5), abs=0.05)


def test_bias_corrected_entropies_equal_infomeasure(infomeasure):
    """Plug-in, Miller-Madow and Chao-Shen agree to rounding. infomeasure's "grassberger" is the
    1988 estimator; ours is the 2003 one (less biased: 8.471 vs 8.397 nats, truth 8.517)."""
    x = np.random.default_rng(0).integers(0, 5000, 5000)
    for ours, theirs in (
        ("plugin", "discrete"),
        ("miller-madow", "miller_madow"),
        ("chao-shen", "chao_shen"),
    ):
        assert infomeasure.entropy(x, approach=theirs, base="e") == pytest.approx(
            discrete_entropy(x, correction=ours), abs=1e-9
        )
    gr88 = infomeasure.entropy(x, approach="grassberger", base="e")
    truth = math.log(5000)
    assert abs(discrete_entropy(x, correction="grassberger") - truth) < abs(gr88 - truth)
