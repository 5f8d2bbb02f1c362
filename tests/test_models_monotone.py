"""InfoMax units (Laughlin 1981): the learned nonlinearity, the CDF distance and the information."""

import numpy as np
import pytest

from structlearn.analysis.nonlinearity import cdf_distance, transmitted_information
from structlearn.models.monotone import (
    LogisticUnit,
    PiecewiseLinearUnit,
    fit_infomax_unit,
    linear_unit,
)
from structlearn.studies.infomax_nonlinearity import local_responses


def test_equalising_unit_learns_the_exponential_cdf():
    x = np.random.default_rng(0).exponential(size=20000)
    g = fit_infomax_unit(PiecewiseLinearUnit(0.0, 8.0, 128), x, steps=600)
    grid = np.linspace(0.05, 5.0, 50)
    assert np.abs(g(grid) - (1 - np.exp(-grid))).max() < 0.02
    assert g(np.array([-1.0, 9.0])) == pytest.approx([0.0, 1.0], abs=1e-12)  # saturates outside


def test_logistic_unit_recovers_a_logistic_distribution():
    """For logistic inputs the InfoMax logistic unit is their CDF: centre 1.5, scale 0.7."""
    x = np.random.default_rng(1).logistic(1.5, 0.7, size=20000)
    unit = LogisticUnit(0.0, 2.0)
    fit_infomax_unit(unit, x, steps=800, lr=0.05)
    assert unit.centre.item() == pytest.approx(1.5, abs=0.03)
    assert unit.log_scale.exp().item() == pytest.approx(0.7, abs=0.02)


def test_cdf_distance_is_the_ks_statistic():
    x = np.array([0.1, 0.2, 0.3, 0.4])
    # g = 0 everywhere: the empirical CDF reaches 1 at the last point
    assert cdf_distance(lambda v: np.zeros_like(v), x) == pytest.approx(1.0)
    # g = the uniform CDF on [0, 0.4]: steps of 1/4 at 0.1, 0.2, ...: largest gap 1/4
    assert cdf_distance(lambda v: v / 0.4, x) == pytest.approx(0.25)


def test_information_is_zero_for_constants_and_falls_with_noise():
    y = np.random.default_rng(0).uniform(size=20000)
    assert transmitted_information(np.full(50, 0.7), 0.05) == pytest.approx(0.0, abs=1e-9)
    info = [transmitted_information(y, s) for s in (0.005, 0.02, 0.1)]
    assert info[0] > info[1] > info[2] > 0
    # uniform outputs: h(U + N) from the exact density Φ(z/σ) − Φ((z − 1)/σ), by quadrature
    from scipy import integrate, special, stats

    def density(z, s=0.02):
        return stats.norm.cdf(z / s) - stats.norm.cdf((z - 1) / s)

    h, _ = integrate.quad(lambda z: special.entr(density(z)), -0.15, 1.15, limit=400)
    exact = h - 0.5 * np.log(2 * np.pi * np.e * 0.02**2)
    assert info[1] == pytest.approx(exact, abs=0.01)
    assert exact == pytest.approx(np.log(50) - 0.5 * np.log(2 * np.pi * np.e), abs=0.05)
    with pytest.raises(ValueError, match="y: expected outputs in"):
        transmitted_information(np.array([0.5, 1.5]), 0.1)


def test_equalising_beats_linear_on_peaked_inputs_not_on_uniform_ones():
    rng = np.random.default_rng(2)
    x = rng.laplace(size=20000)
    lo, hi = np.quantile(x, [0.001, 0.999])
    g = fit_infomax_unit(PiecewiseLinearUnit(lo, hi, 128), x)
    gain = transmitted_information(g(x), 0.02) - transmitted_information(
        linear_unit(lo, hi)(x), 0.02
    )
    assert gain > 0.5
    u = rng.uniform(lo, hi, size=20000)
    gu = fit_infomax_unit(PiecewiseLinearUnit(lo, hi, 128), u)
    flat = transmitted_information(gu(u), 0.02) - transmitted_information(
        linear_unit(lo, hi)(u), 0.02
    )
    assert abs(flat) < 0.02


def test_local_responses_of_simple_images():
    flat = np.full((20, 20), 0.4)
    assert np.allclose(local_responses(flat, "contrast", 2.0), 0.0)
    ramp = np.tile(np.linspace(0, 1, 40), (20, 1))  # slope 1/39 per pixel along columns
    edge = local_responses(ramp, "edge", 1.5)
    assert edge[10, 20] == pytest.approx(1 / 39, rel=1e-3)


def test_units_refuse_bad_ranges():
    with pytest.raises(ValueError, match="low, high"):
        PiecewiseLinearUnit(1.0, 1.0)
    with pytest.raises(ValueError, match="fewer than 2 inputs"):
        fit_infomax_unit(PiecewiseLinearUnit(0.0, 1.0, 4), np.array([5.0, 6.0]))
