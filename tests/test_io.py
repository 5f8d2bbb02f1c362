"""Atomic writes: results appear whole or not at all; JSON never carries NaN."""

import json

import numpy as np
import pytest

from structlearn.utils.io import atomic_directory, atomic_write_json, read_json


def test_json_round_trip_converts_numpy(tmp_path):
    path = atomic_write_json(tmp_path / "m.json", {"a": np.float32(0.5), "b": np.arange(3)})
    assert read_json(path) == {"a": 0.5, "b": [0, 1, 2]}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_json_refuses_nan_and_keeps_old_file(tmp_path):
    path = atomic_write_json(tmp_path / "m.json", {"a": 1})
    with pytest.raises(ValueError, match=r"non-finite number nan to JSON at b\[1\]"):
        atomic_write_json(path, {"b": [0.0, float("nan")]})
    assert json.loads(path.read_text()) == {"a": 1}


def test_failed_directory_leaves_previous_results_untouched(tmp_path):
    final = tmp_path / "results"
    with atomic_directory(final) as tmp:
        (tmp / "metrics.json").write_text("1")
    with pytest.raises(RuntimeError), atomic_directory(final) as tmp:
        (tmp / "metrics.json").write_text("2")
        raise RuntimeError("interrupted")
    assert (final / "metrics.json").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_failed_first_run_leaves_no_folder(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_directory(tmp_path / "r") as tmp:
        (tmp / "partial.txt").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
