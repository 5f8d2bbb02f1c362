"""The studies `structlearn run` knows, by the name a config's ``study:`` key gives."""

from __future__ import annotations

import importlib

from structlearn.studies.base import RunContext, Study, StudyOutput, Verdict

# name -> module path; each module defines STUDY (an object with name, summary, schema, run).
_REGISTRY = {
    "mosaic_filters": "structlearn.studies.mosaic_filters",
}


def available_studies() -> list[str]:
    """Names accepted by a config's ``study:`` key."""
    return sorted(_REGISTRY)


def get_study(name: str) -> Study:
    """Return the study registered as ``name``; the error lists the ones that exist."""
    if name not in _REGISTRY:
        listed = ", ".join(available_studies())
        raise KeyError(f"study: unknown study {name!r}; expected one of: {listed}")
    return importlib.import_module(_REGISTRY[name]).STUDY


__all__ = ["RunContext", "Study", "StudyOutput", "Verdict", "available_studies", "get_study"]
