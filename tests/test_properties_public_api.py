"""Property tests over the public API: adversarial inputs give a ValueError or TypeError naming the
argument, or a correct finite value -- never NaN, Inf, a crash or a hang.

For every function below and every category of bad input -- NaN/Inf, empty, wrong number of
dimensions, complex, huge-but-finite (x10^30 to x10^300) and mismatched lengths -- hypothesis draws
valid-looking base arrays and spoils them. The outcome must be an exception of type ValueError or
TypeError whose message starts with the argument's name, or a finite result (for huge inputs, a
finite result or such an error: the point is that nothing returns NaN/Inf or runs away). Every
example runs under a wall-clock limit (SIGALRM), so a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TIME_LIMIT_S = 60  # per example; a hang (an unbounded count, a stuck solver) fails the test


@contextlib.contextmanager
def time_limit(seconds: int):
    def expire(signum, frame):
        raise TimeoutError(f"example ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _finite(value) -> bool:
    if isinstance(value, tuple | list):
        return all(_finite(v) for v in value)
    if hasattr(value, "deltaR"):
        return _finite(tuple(value))
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value.detach().double()).all())
    arr = np.asarray(value, dtype=np.float64)
    return bool(np.isfinite(arr).all())


@dataclass(frozen=True)
class Case:
    """``call(x, y)``: the function with ``x`` as argument ``arg`` (and ``y`` as ``arg2``)."""

    name: str
    arg: str
    call: Callable
    arg2: str | None = None
    tensor: bool = False  # give torch tensors (float32 unless huge needs float64)
    any_ndim: bool = False  # documented to take any number of dimensions
    also: tuple[str, ...] = ()  # other argument names an error may start with


def _labels(n):
    return np.arange(n) % 3


def _cases() -> list[Case]:
    import structlearn.estimators as E
    from structlearn.analysis.alignment import analyze_alignment, unit_correlation
    from structlearn.analysis.entropy_gain import recommended_depth
    from structlearn.analysis.filters import hoyer_sparsity
    from structlearn.analysis.info_plane import detect_phase_transition
    from structlearn.models.mlp import MLP
    from structlearn.objectives import coding_rate, rate_reduction
    from structlearn.objectives.bottleneck import gaussian_kl_to_standard
    from structlearn.objectives.bottleneck import (
        kde_upper_bound_mutual_information as kde_mutual_information,
    )
    from structlearn.objectives.infomax import gaussian_channel_entropy as gaussian_entropy
    from structlearn.objectives.infomax import infomax_ica_objective
    from structlearn.objectives.sparse_coding import fista, sparse_coding_energy

    def mlp(x):
        return MLP([x.shape[1] if np.ndim(x) == 2 else 1, 3, 2], random_state=0)(x)

    return [
        Case("entropy gaussian", "x", lambda x, y: E.entropy(x, "gaussian")),
        Case("entropy knn", "x", lambda x, y: E.entropy(x, "knn")),
        Case("entropy kde", "x", lambda x, y: E.entropy(x, "kde", noise_variance=0.1)),
        Case("entropy binning", "x", lambda x, y: E.entropy(x, "binning")),
        Case("mi gaussian", "x", lambda x, y: E.mutual_information(x, y, "gaussian"), "y"),
        Case("mi knn", "x", lambda x, y: E.mutual_information(x, y, "knn"), "y"),
        Case("coding_rate", "Z", lambda x, y: coding_rate(x, 0.5), tensor=True),
        Case(
            "rate_reduction",
            "Z",
            lambda x, y: rate_reduction(x, torch.as_tensor(_labels(len(y))), 0.5),
            "membership",
            tensor=True,
        ),
        Case("gaussian_entropy", "Z", lambda x, y: gaussian_entropy(x, ridge=1e-3), tensor=True),
        Case(
            "kde_mutual_information", "h", lambda x, y: kde_mutual_information(x, 1.0), tensor=True
        ),
        Case(
            "gaussian_kl_to_standard",
            "mu",
            lambda x, y: gaussian_kl_to_standard(x, torch.ones_like(torch.as_tensor(y))),
            "std",
            tensor=True,
        ),
        Case(
            "sparse_coding_energy",
            "X",
            lambda x, y: sparse_coding_energy(
                x,
                torch.eye(x.shape[-1]) if x.dim() == 2 else torch.eye(2),
                torch.zeros(x.shape[0] if x.dim() else 0, x.shape[-1] if x.dim() == 2 else 2),
                0.1,
            ),
            tensor=True,
        ),
        Case(
            "fista",
            "X",
            lambda x, y: fista(x, torch.eye(x.shape[-1] if x.dim() == 2 else 2), 0.1),
            tensor=True,
        ),
        Case(
            "infomax_ica_objective",
            "X",
            lambda x, y: infomax_ica_objective(x, torch.eye(x.shape[-1] if x.dim() == 2 else 2)),
            tensor=True,
        ),
        Case("MLP.forward", "x", lambda x, y: mlp(x), tensor=True),
        Case(
            "unit_correlation", "teacher_acts", lambda x, y: unit_correlation(x, y), "student_acts"
        ),
        Case(
            "analyze_alignment",
            "correlation",
            lambda x, y: (
                analyze_alignment(x / (np.abs(x).max() + 1) if x.size else x).teacher_counts
            ),
        ),
        Case("hoyer_sparsity", "x", lambda x, y: hoyer_sparsity(x), any_ndim=True),
        Case(
            "recommended_depth",
            "gains",
            lambda x, y: recommended_depth(
                np.r_[0.0, x.ravel()] if x.ndim == 2 and x.size else x, 0.1
            ),
        ),
        Case(
            "detect_phase_transition",
            "snr",
            lambda x, y: (
                detect_phase_transition(
                    np.arange(x.size) if x.ndim == 2 else np.arange(len(x)) if x.ndim else [0],
                    x.ravel() if x.ndim == 2 else x,
                )
                or 0
            ),
            also=("epochs",),
        ),
    ]


CASES = _cases()
CATEGORIES = ["nan_inf", "empty", "ndim", "complex", "huge", "mismatched"]


def _spoil(category: str, x: np.ndarray, data) -> tuple[np.ndarray, int]:
    """The spoiled ``x`` and how many rows the second argument gets."""
    n = x.shape[0]
    if category == "nan_inf":
        i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, x.shape[1] - 1))
        x = x.copy()
        x[i, j] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    elif category == "empty":
        x = x[:0]
    elif category == "ndim":
        x = data.draw(st.sampled_from([x[:, :, None], np.asarray(x[0, 0])]))
    elif category == "complex":
        x = x + 1j * x
    elif category == "huge":
        x = x * 10.0 ** data.draw(st.integers(30, 300))
    elif category == "mismatched":
        return x, n + data.draw(st.integers(1, 3))
    return x, n


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_is_refused_by_name_or_gives_a_finite_value(case, category, data):
    if category == "mismatched" and case.arg2 is None:
        pytest.skip("one array argument: nothing to mismatch")
    n = data.draw(st.integers(6, 40))
    d = data.draw(st.integers(1, 3))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x, n2 = _spoil(category, rng.standard_normal((n, d)), data)
    y = rng.standard_normal((n2, d))
    if case.tensor:
        dtype = torch.float64 if category == "huge" else torch.float32
        x = torch.as_tensor(x) if np.iscomplexobj(x) else torch.as_tensor(x, dtype=dtype)
        y = torch.as_tensor(y, dtype=dtype)
    names = tuple(a for a in (case.arg, case.arg2, *case.also) if a)
    with time_limit(TIME_LIMIT_S):
        try:
            value = case.call(x, y)
        except (ValueError, TypeError) as exc:
            message = str(exc)
            assert message.startswith(names), f"{case.name}/{category}: {message!r}"
            return
    valid = category == "huge" or (category == "ndim" and case.any_ndim)
    assert valid, f"{case.name} accepted {category} input silently and returned {value!r}"
    assert _finite(value), f"{case.name}: {category} input gave a non-finite {value!r}"
