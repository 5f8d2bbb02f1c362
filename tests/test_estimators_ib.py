"""The IB curve and its self-consistency check (nats); the 12-bit task's joint as an IB input."""

import numpy as np
import pytest

from structlearn.data.tishby import load_tishby_task
from structlearn.data.tishby_rule import tishby_joint
from structlearn.estimators import ib_check, ib_curve, ib_self_consistency
from structlearn.estimators._common import ConvergenceWarning
from structlearn.estimators.ib_curve import encoder_informations

BETAS = np.geomspace(0.1, 200.0, 30)


def noisy_joint(n_x=12, n_y=3, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n_y, 0.5), size=n_x) * rng.dirichlet(np.ones(n_x))[:, None]
    return p / p.sum()


def lagrangian(ixt, ity, beta):
    return ixt - beta * ity


@pytest.fixture(scope="module")
def small_curve():
    return ib_curve(noisy_joint(), BETAS, return_encoders=True)


def test_curve_bounded_monotone_with_endpoints(small_curve):
    c = small_curve
    assert np.all(c.I_TY <= c.I_XY + 1e-12)
    assert np.all(c.I_TY <= c.I_XT + 1e-12)  # data processing: Y - X - T
    assert np.all(np.diff(c.I_XT) >= -1e-7)
    assert np.all(np.diff(c.I_TY) >= -1e-9)
    assert c.I_XT[0] < 1e-8 and c.I_TY[0] < 1e-8  # beta = 0.1 is below the first transition
    assert c.I_TY[-1] == pytest.approx(c.I_XY, abs=2e-3)


def test_curve_points_are_ib_fixed_points(small_curve):
    p = noisy_joint()
    for beta, enc in zip(small_curve.betas[::5], small_curve.encoders[::5]):
        assert ib_self_consistency(p, enc, beta) < 1e-5


def test_curve_dominates_random_encoders(small_curve):
    # no encoder tried has a lower Lagrangian, nor lies above the (piecewise-linear) curve
    p = noisy_joint()
    c = small_curve
    rng = np.random.default_rng(1)
    for _ in range(200):
        n_t = rng.integers(2, 8)
        enc = rng.dirichlet(np.full(n_t, rng.choice([0.1, 1.0])), size=p.shape[0])
        ixt, ity = encoder_informations(p, enc)
        for beta, cx, cy in zip(c.betas[::3], c.I_XT[::3], c.I_TY[::3]):
            assert lagrangian(cx, cy, beta) <= lagrangian(ixt, ity, beta) + 1e-8
        if ixt <= c.I_XT[-1]:
            assert ity <= np.interp(ixt, c.I_XT, c.I_TY) + 1e-6


def test_merging_equivalent_inputs_is_exact():
    p = noisy_joint(n_x=6)
    p = np.vstack([p, p]) / 2  # every p(y|x) appears twice
    # same cardinality cap, so both runs split alike and follow the same annealing path
    a = ib_curve(p, BETAS[::3], n_t=4, merge_equivalent=True, tol=1e-13, max_iter=10**5)
    b = ib_curve(p, BETAS[::3], n_t=4, merge_equivalent=False, tol=1e-13, max_iter=10**5)
    assert np.allclose(a.I_XT, b.I_XT, atol=1e-6)
    assert np.allclose(a.I_TY, b.I_TY, atol=1e-8)


def test_invariant_to_relabelling_x_and_y():
    p = noisy_joint()
    rng = np.random.default_rng(2)
    q = p[rng.permutation(p.shape[0])][:, rng.permutation(p.shape[1])]
    a, b = ib_curve(p, BETAS), ib_curve(q, BETAS)
    # the split noise lands on other clusters, so near a transition annealing may settle in
    # another (local) optimum: equal up to that, and exactly equal away from transitions
    assert np.allclose(a.I_TY, b.I_TY, atol=2e-3)
    assert np.allclose(a.I_TY[:8], b.I_TY[:8], atol=1e-9)
    assert a.I_XY == pytest.approx(b.I_XY, abs=1e-12)


def test_cardinality_cap_is_respected():
    c = ib_curve(noisy_joint(), BETAS, n_t=2)
    assert c.n_clusters.max() == 2  # reached, never exceeded
    full = ib_curve(noisy_joint(), BETAS)
    # more clusters can only help: the uncapped Lagrangian is never higher
    assert np.all(
        lagrangian(full.I_XT, full.I_TY, BETAS) <= lagrangian(c.I_XT, c.I_TY, BETAS) + 1e-9
    )
    assert full.n_clusters.max() > 2


def test_without_annealing_reaches_same_high_beta_point():
    p = np.array([[0.3, 0.0], [0.0, 0.2], [0.25, 0.0], [0.0, 0.25]])
    c = ib_curve(p, [50.0], annealing=False)
    h_y = -(0.55 * np.log(0.55) + 0.45 * np.log(0.45))
    assert c.I_TY[0] == pytest.approx(h_y, abs=1e-6)


def test_self_consistency_detects_a_non_solution():
    p = noisy_joint()
    enc = np.random.default_rng(3).dirichlet(np.ones(3), size=p.shape[0])
    assert ib_self_consistency(p, enc, beta=5.0) > 0.05


def test_non_convergence_warns_with_advice():
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        ib_curve(noisy_joint(), [3.0, 30.0], max_iter=2)


@pytest.mark.parametrize(
    ("p", "match"),
    [
        (np.array([[0.5, 0.6], [0.0, 0.0]]), "p_xy"),
        (np.array([[0.7, -0.1], [0.2, 0.2]]), "p_xy"),
        (np.array([0.5, 0.5]), "p_xy"),
    ],
)
def test_bad_joint(p, match):
    with pytest.raises(ValueError, match=match):
        ib_curve(p, [1.0])


def test_bad_betas_and_encoder():
    p = noisy_joint()
    with pytest.raises(ValueError, match="betas"):
        ib_curve(p, [1.0, -2.0])
    with pytest.raises(ValueError, match="encoder"):
        ib_self_consistency(p, np.ones((p.shape[0], 2)), 1.0)
    with pytest.raises(ValueError, match="beta"):
        ib_self_consistency(p, np.full((p.shape[0], 2), 0.5), 0.0)


# ---- the 12-bit task -------------------------------------------------------------------------


def test_tishby_joint_deterministic_and_stochastic():
    task = load_tishby_task()
    p0 = tishby_joint()
    assert p0.shape == (4096, 2) and p0.sum() == pytest.approx(1.0)
    assert np.array_equal(p0[:, 1] > 0, task.y == 1)
    p_t = tishby_joint(temperature=0.5)
    assert np.all(p_t > 0) and p_t.sum() == pytest.approx(1.0)
    hot = ib_curve(tishby_joint(temperature=50.0), [1.0]).I_XY
    assert 0 < hot < ib_curve(p_t, [1.0]).I_XY < ib_curve(p0, [1.0]).I_XY


def test_tishby_deterministic_curve_is_the_trivial_diagonal():
    p0 = tishby_joint()
    h_y = ib_curve(p0, [1.0]).I_XY
    c = ib_curve(p0, np.geomspace(0.5, 100, 15))
    task = load_tishby_task()
    q = task.y.mean()
    assert h_y == pytest.approx(-(q * np.log(q) + (1 - q) * np.log(1 - q)), abs=1e-12)
    assert np.allclose(c.I_XT, c.I_TY, atol=1e-6)  # T = Y or T constant: on the diagonal
    assert c.I_TY[-1] == pytest.approx(h_y, abs=1e-9)


def test_tishby_stochastic_curve_is_not_trivial():
    c = ib_curve(tishby_joint(temperature=0.5), np.geomspace(0.5, 300, 25))
    assert c.I_XT[-1] > 2.0 * c.I_TY[-1]  # far off the diagonal
    assert c.I_TY[-1] == pytest.approx(c.I_XY, abs=5e-3)


# ---- issue 14: optima the annealing path used to miss ---------------------------------------


def test_split_clusters_are_not_stopped_before_they_separate():
    # (a) the free-energy test alone stopped after 2 iterations at the trivial solution
    p = np.array([[0.45, 0.05], [0.2, 0.3]])
    alone = ib_curve(p, [3.855])
    assert alone.I_XT[0] == pytest.approx(0.1563, abs=1e-3)
    assert alone.I_TY[0] == pytest.approx(0.0424, abs=1e-3)
    c = ib_curve(p, np.linspace(0.1, 10, 30))
    i = int(np.argmin(np.abs(c.betas - 3.855)))
    assert c.I_XT[i] > 0.1  # on the grid too, not (0, 0)
    at = lagrangian(c.I_XT[i], c.I_TY[i], c.betas[i])
    assert at <= lagrangian(alone.I_XT[0], alone.I_TY[0], c.betas[i]) + 1e-6


def test_a_single_beta_splits_until_no_split_helps():
    # (b) one split per beta reached 0.6365 nats; the optimum at beta = 100 is log 3
    c = ib_curve(np.eye(3) / 3, [100.0])
    assert c.I_TY[0] == pytest.approx(np.log(3), abs=1e-9)
    assert c.n_clusters[0] == 3


def test_n_clusters_is_one_at_the_trivial_solution(small_curve):
    trivial = small_curve.I_XT < 1e-8
    assert trivial.sum() >= 8  # the fixture's first transition is above beta = 1.8
    assert np.all(small_curve.n_clusters[trivial] == 1)
    assert np.all(small_curve.n_clusters[~trivial] >= 2)
    assert np.all(small_curve.n_clusters <= 12)


def restart_lagrangian(p, beta, n_restarts, seed, n_iter=3000):
    """Best IB Lagrangian over random encoders iterated by the plain self-consistent equations
    (written here, independent of ib_curve's solver)."""
    px = p.sum(1)
    pyx = p / px[:, None]
    rng = np.random.default_rng(seed)
    best = np.inf
    for _ in range(n_restarts):
        enc = rng.dirichlet(np.ones(p.shape[0]), size=p.shape[0])
        for _ in range(n_iter):
            pt = px @ enc
            pyt = (enc * px[:, None]).T @ pyx / np.maximum(pt, 1e-300)[:, None]
            kl = (
                pyx[:, None, :]
                * (
                    np.log(np.maximum(pyx[:, None, :], 1e-300))
                    - np.log(np.maximum(pyt[None, :, :], 1e-300))
                )
            ).sum(-1)
            logits = np.log(np.maximum(pt, 1e-300))[None, :] - beta * kl
            enc = np.exp(logits - logits.max(1, keepdims=True))
            enc /= enc.sum(1, keepdims=True)
        ixt, ity = encoder_informations(p, enc)
        best = min(best, ixt - beta * ity)
    return best


def test_lagrangian_no_worse_than_twenty_random_restarts_on_random_joints():
    rng = np.random.default_rng(5)
    betas = np.array([1.5, 3.0, 6.0, 12.0, 40.0])
    for trial in range(5):
        n_x, n_y = rng.integers(3, 7), rng.integers(2, 4)
        p = rng.dirichlet(np.full(n_x * n_y, 0.3)).reshape(n_x, n_y)
        c = ib_curve(p, betas)
        for beta, ixt, ity in zip(betas, c.I_XT, c.I_TY, strict=True):
            ref = restart_lagrangian(p, beta, 20, seed=trial, n_iter=300)
            assert lagrangian(ixt, ity, beta) <= ref + 1e-6, (trial, beta)


def test_ib_check_flags_self_consistent_but_not_optimal_points():
    p = noisy_joint()
    beta = 50.0
    trivial = np.ones((p.shape[0], 1))  # one cluster: a fixed point at every beta
    check = ib_check(p, trivial, beta)
    assert ib_self_consistency(p, trivial, beta) == 0.0
    assert check.self_consistent and not check.optimal
    c = ib_curve(p, [beta], return_encoders=True)
    assert check.gap == pytest.approx(0.0 - lagrangian(c.I_XT[0], c.I_TY[0], beta), abs=1e-9)
    good = ib_check(p, c.encoders[0], beta)
    assert good.self_consistent and good.optimal and abs(good.gap) < 1e-9


@pytest.mark.slow
def test_lagrangian_no_worse_than_embo_on_random_joints():
    """embo 1.1.0 (pinned in constraints.txt, `bench` extra): its restart-based solver at each
    beta of its own 5-point grid; embo works in bits, so its Lagrangian is converted to nats."""
    embo = pytest.importorskip("embo")
    rng = np.random.default_rng(7)
    np.random.seed(0)  # noqa: NPY002 - embo draws its restarts from numpy's global generator
    worse = 0
    for _ in range(40):
        n_x, n_y = rng.integers(3, 9), rng.integers(2, 5)
        p = rng.dirichlet(np.full(n_x * n_y, 0.3)).reshape(n_x, n_y)
        px, py = p.sum(1), p.sum(0)
        betas = np.linspace(0.01, 5.0, 5)
        c = ib_curve(p, betas)
        for beta, ixt, ity in zip(betas, c.I_XT, c.I_TY, strict=True):
            i_x, i_y, _, _ = embo.InformationBottleneck.beta_iter(
                1, beta, px, py, (p / px[:, None]).T, n_x, 3, 100
            )
            ref = (i_x - beta * i_y) * np.log(2)
            worse += lagrangian(ixt, ity, beta) > ref + 1e-6
    assert worse == 0
