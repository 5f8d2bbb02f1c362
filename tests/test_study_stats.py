"""Intervals over seeds: the t-interval matches scipy's and covers the mean at the stated rate."""

import numpy as np
import pytest
from scipy import stats

from structlearn.studies._stats import mean_interval


def test_interval_equals_scipy_t_interval():
    v = [0.3, 0.5, 0.45, 0.61, 0.38]
    iv = mean_interval(v, confidence=0.9)
    lo, hi = stats.t.interval(0.9, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert (iv.low, iv.high) == pytest.approx((lo, hi), rel=1e-12)


def test_coverage_is_near_nominal():
    rng = np.random.default_rng(0)
    hits = [
        (iv := mean_interval(rng.normal(1.0, 2.0, size=5))).low <= 1.0 <= iv.high
        for _ in range(2000)
    ]
    assert 0.93 < np.mean(hits) < 0.97


def test_single_seed_and_bad_values():
    assert mean_interval([2.0]).low == mean_interval([2.0]).high == 2.0
    with pytest.raises(ValueError, match="values"):
        mean_interval([1.0, float("nan")])


def test_package_level_names_resolve_to_their_modules():
    import structlearn
    import structlearn.analysis as analysis
    from structlearn.analysis import filters, info_plane
    from structlearn.estimators import mutual_information

    assert analysis.best_tile_fraction is filters.best_tile_fraction
    assert analysis.analyze_information_plane is info_plane.analyze_information_plane
    assert structlearn.mutual_information is mutual_information
    for name in structlearn._LAZY:
        assert getattr(structlearn, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        analysis.nope


def test_an_interval_of_unequal_values_never_prints_as_zero_width():
    from structlearn.studies.base import seed_summary
    from structlearn.studies.claims import interval_above

    values = [5.4414, 5.4412, 5.4416]  # 3 significant digits print [5.44, 5.44]
    text = seed_summary(values)
    low, high = text.split("[")[1].rstrip("]").split(", ")
    assert low != high and float(low) < 5.4414 < float(high)
    shown = interval_above(5.0)(np.array(values)).text
    assert shown.startswith("5.441 [5.441, 5.442]") and "3 seeds" in shown
    assert seed_summary([0.5, 0.6, 0.7]) == "0.6 [0.352, 0.848]"  # wide intervals keep 3 digits


def test_float_noise_prints_as_a_half_width_not_fifteen_digits():
    from structlearn.studies.base import seed_summary

    values = [5.441400276475] * 49 + [5.441400276475 + 4e-14]
    text = seed_summary(values)
    mean, half = text.split(" ± ")
    assert mean == "5.44" and 0 < float(half) < 1e-14
