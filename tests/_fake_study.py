"""A study that takes milliseconds, for testing what the CLI does around a run (not in a test
file: ``python tests/_fake_study.py run ...`` runs the CLI with it, e.g. on a tmpfs mount)."""

from __future__ import annotations

import sys
from pathlib import Path

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


def install(monkeypatch=None) -> FakeStudy:
    """Make ``study: fake`` resolve to a new :class:`FakeStudy` (returned)."""
    import structlearn.experiment as experiment

    study = FakeStudy()
    real = experiment.get_study

    def get_study(name: str):
        return study if name == "fake" else real(name)

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
