"""Summaries over seeds for verdict tables: mean and a Student-t confidence interval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Interval:
    """Mean of per-seed values with a two-sided Student-t interval (``n`` seeds)."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.3g} (1 seed)"
        return f"{self.text()} ({self.n} seeds, {self.confidence:.0%} CI)"

    def text(self, digits: int = 3) -> str:
        """``"mean [low, high]"`` with ``digits`` significant digits, more where the two ends
        would otherwise print alike: an interval of unequal values never reads as zero-width.

        >>> Interval(5.4414, 5.4409, 5.4419, 3).text()
        '5.441 [5.441, 5.442]'
        >>> Interval(5.441400276475, 5.441400276474, 5.441400276476, 50).text()
        '5.44 ± 1e-12'
        """
        d = digits
        while d < digits + 3 and f"{self.low:.{d}g}" == f"{self.high:.{d}g}":
            d += 1
        if self.low != self.high and f"{self.low:.{d}g}" == f"{self.high:.{d}g}":
            return f"{self.mean:.{digits}g} ± {(self.high - self.low) / 2:.1g}"  # float noise
        return f"{self.mean:.{d}g} [{self.low:.{d}g}, {self.high:.{d}g}]"

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean and t-interval of ``values`` (one per seed); a single value gives a zero-width interval.

    >>> str(mean_interval([1.0, 2.0, 3.0]))
    '2 [-0.484, 4.48] (3 seeds, 95% CI)'
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all():
        raise ValueError(f"values: expected a non-empty 1-D list of finite numbers, got {values!r}")
    m = float(v.mean())
    if v.size < 2:
        return Interval(m, m, m, 1, confidence)
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return Interval(m, m - half, m + half, int(v.size), confidence)
