"""Shared test settings: headless matplotlib, quiet progress bars, few threads (CI has 2 cores)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("STRUCTLEARN_QUIET", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see structlearn/__init__.py

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def one_thread():
    """Small tensors gain nothing from threads, and lose a lot on a busy 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# Hypothesis: derandomised by default, so a property that fails on a rare input fails on every
# run (set HYPOTHESIS_PROFILE=explore to search with fresh random examples).
from hypothesis import settings  # noqa: E402

settings.register_profile("structlearn", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "structlearn"))
