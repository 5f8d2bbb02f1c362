"""The 12-bit task's rule (recovered from the data) and its joint p(x, y) at a temperature.

The joint is checked against an independent computation: p(y=1|x) = expit(s(x) / T) with scipy's
logistic function, and I(X;Y) = H(Y) - E_x h(p(y=1|x)) with h the binary entropy (nats).
"""

import warnings

import numpy as np
import pytest
from scipy.special import expit, xlogy

from structlearn.data.tishby import load_tishby_task
from structlearn.data.tishby_rule import icosahedron_gram, tishby_joint, tishby_score
from structlearn.estimators import mutual_information_of_joint


def binary_entropy(q):
    return -(xlogy(q, q) + xlogy(1 - q, 1 - q))


def test_recovered_rule_reproduces_every_label():
    task = load_tishby_task()
    score = tishby_score(task.X)
    assert np.array_equal((score > 0).astype(int), task.y)
    assert np.abs(score).min() > 0.06  # the threshold sits inside the gap of the data


def test_icosahedron_gram_is_a_rank3_embedding():
    g = icosahedron_gram()
    eig = np.linalg.eigvalsh(g)
    assert np.allclose(eig[:9], 0.0, atol=1e-12)
    assert np.allclose(eig[9:], 4.0, atol=1e-12)  # 12 unit vectors in R^3: trace 12 = 3 * 4


@pytest.mark.parametrize("temperature", [0.25, 0.5, 2.0])
def test_joint_is_logistic_of_score_over_temperature(temperature):
    task = load_tishby_task()
    q = expit(tishby_score(task.X) / temperature)  # p(y = 1 | x), independent of the tanh form
    p = tishby_joint(temperature)
    np.testing.assert_allclose(p[:, 1] * 4096, q, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.sum(axis=1) * 4096, 1.0, rtol=1e-12)
    # I(X;Y) = H(Y) - E_x h(p(y=1|x)) with p(x) = 1/4096
    i_xy = binary_entropy(q.mean()) - binary_entropy(q).mean()
    assert mutual_information_of_joint(p) == pytest.approx(i_xy, abs=1e-12)


def test_joint_at_temperature_zero_is_the_labels():
    task = load_tishby_task()
    p0 = tishby_joint(0)
    assert np.array_equal(p0[:, 1] * 4096, task.y.astype(float))
    assert np.array_equal(tishby_joint(None), p0)
    q = task.y.mean()
    assert mutual_information_of_joint(p0) == pytest.approx(binary_entropy(q), abs=1e-12)


def test_joint_refuses_a_negative_temperature():
    with pytest.raises(ValueError, match="temperature"):
        tishby_joint(-1.0)


def test_estimators_alias_warns_and_agrees():
    from structlearn.estimators import tishby_joint as old

    with pytest.warns(DeprecationWarning, match="structlearn.data.tishby_rule"):
        p = old(0.5)
    assert np.array_equal(p, tishby_joint(0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tishby_joint(0.5)  # the new home does not warn
