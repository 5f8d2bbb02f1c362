"""The studies `structlearn run` knows: every module here (but ``base``) whose name is a study's.

A config's ``study: NAME`` loads ``structlearn.studies.NAME``, which defines ``STUDY`` (an object with
``name``, ``summary``, ``schema`` and ``run``). Adding a study is adding a module; nothing to register.
"""

from __future__ import annotations

import importlib
import pkgutil

from structlearn.studies.base import RunContext, SeedResult, Study, StudyOutput, Verdict

_NOT_STUDIES = {"base", "claims"}


def available_studies() -> list[str]:
    """Names accepted by a config's ``study:`` key."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(__path__)
        if not m.name.startswith("_") and m.name not in _NOT_STUDIES
    )


def get_study(name: str) -> Study:
    """Return the study named ``name``; the error lists the ones that exist."""
    if name not in available_studies():
        listed = ", ".join(available_studies())
        raise KeyError(f"study: unknown study {name!r}; expected one of: {listed}")
    return importlib.import_module(f"{__name__}.{name}").STUDY


__all__ = [
    "RunContext",
    "SeedResult",
    "Study",
    "StudyOutput",
    "Verdict",
    "available_studies",
    "get_study",
]
