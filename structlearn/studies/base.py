"""What a study is: a config schema plus ``run(config, context) -> StudyOutput``.

A study turns a validated config into metrics (JSON-ready), figures, a short summary table for the
console and the report, and a verdict table: for each claim from the literature, what was measured
and whether it held. The toolkit measures; when a claim does not hold, the verdict says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from structlearn.config import Schema


@dataclass
class Verdict:
    """One claim and what was measured. ``held`` is True, False, or None (not decidable here)."""

    claim: str
    measured: str
    held: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "measured": self.measured, "held": self.held}


@dataclass
class StudyOutput:
    """Everything a study hands back to the runner.

    ``metrics`` is written to ``metrics.json`` (with ``summary`` and ``verdicts`` added), ``figures``
    (name -> matplotlib Figure) to ``figures/<name>.png``, ``summary`` (a list of rows with the same
    keys) is printed as a table and shown first in the report. ``timings`` go to ``run.json``.
    """

    metrics: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    summary: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)
    #: wall times in seconds, written to run.json (not metrics.json, which must repeat exactly)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RunContext:
    """Where a study may write (``work_dir`` survives interruption: checkpoints live there)."""

    out_dir: Path
    work_dir: Path
    seed: int
    resume: bool = False
    quiet: bool = False


class Study(Protocol):
    name: str
    summary: str
    schema: Schema

    def run(self, config: dict[str, Any], context: RunContext) -> StudyOutput: ...
