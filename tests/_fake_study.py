"""A study that takes milliseconds, for testing what the CLI does around a run (not in a test
file: ``python tests/_fake_study.py run ...`` runs the CLI with it, e.g. on a tmpfs mount)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from structlearn.config import Field
from structlearn.studies import StudyOutput


class FakeStudy:
    """``metrics.json`` holds ``size`` floats (about 20 bytes each); ``fail`` raises inside run."""

    name = "fake"
    summary = "a study for CLI tests"

    def __init__(self) -> None:
        self.schema = {
            "size": Field(int, 10, low=1),
            "fail": Field(str, "", choices=["", "memory", "value"]),
        }
        self.runs = 0

    def run(self, config, context):
        self.runs += 1
        if config["fail"] == "memory":
            raise MemoryError("Unable to allocate 74.5 GiB for an array")
        if config["fail"] == "value":
            raise ValueError("fail: asked to fail")
        values = [i / 7 for i in range(config["size"])]
        return StudyOutput(
            metrics={"values": values},
            summary=[{"label": "a", "mean": sum(values) / len(values)}],
        )


def _slow_study():
    """A study on the contract's runner: ``n_seeds`` seeds, each appending its number to the file
    ``$STRUCTLEARN_FAKE_LOG`` (which seeds were measured) and sleeping
    ``$STRUCTLEARN_FAKE_SLEEP`` seconds (time for a test to interrupt it); neither is in the
    config, so an interrupted and a resumed run have the same config."""
    import os
    import time

    import numpy as np

    from structlearn.config import seeds_fragment
    from structlearn.studies.base import SeedResult, Study

    class SlowSeeds(Study):
        name = "slow"
        summary = "seeds that take a while"
        schema: ClassVar = {**seeds_fragment(4), "size": Field(int, 5, low=1)}

        def measure(self, config, seed, shared):
            with open(os.environ["STRUCTLEARN_FAKE_LOG"], "a") as fh:
                fh.write(f"{seed}\n")
            time.sleep(float(os.environ.get("STRUCTLEARN_FAKE_SLEEP", "0")))
            x = np.random.default_rng(seed).standard_normal(config["size"])
            return SeedResult(metrics={"mean": float(x.mean()), "values": x.tolist()})

        def table(self, config, records):
            return [{"seed": r.seed, "mean": r.metrics["mean"]} for r in records]

    return SlowSeeds()


def install(monkeypatch=None) -> FakeStudy:
    """Make ``study: fake`` resolve to a new :class:`FakeStudy` (returned), ``study: slow`` to a
    study on the contract's runner (see :func:`_slow_study`)."""
    import structlearn.experiment as experiment

    study = FakeStudy()
    real = experiment.get_study
    slow = _slow_study()

    def get_study(name: str):
        return study if name == "fake" else slow if name == "slow" else real(name)

    if monkeypatch is None:
        experiment.get_study = get_study
    else:
        monkeypatch.setattr(experiment, "get_study", get_study)
    return study


def write_config(folder: Path, text: str = "") -> Path:
    path = Path(folder) / "fake.yaml"
    path.write_text("study: fake\nseed: 0\n" + text)
    return path


if __name__ == "__main__":
    from structlearn.cli import main

    install()
    sys.exit(main(sys.argv[1:]))
