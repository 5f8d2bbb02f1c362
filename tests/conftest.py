"""Shared test settings: headless matplotlib, quiet progress bars, few threads (CI has 2 cores)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("STRUCTLEARN_QUIET", "1")

import matplotlib

matplotlib.use("Agg")

import torch

torch.set_num_threads(min(2, torch.get_num_threads()))
