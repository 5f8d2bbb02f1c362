"""The README's "On your own data" table says which sources each study accepts: it must match the
studies' schemas (the default first), so a study that changes its sources changes the table."""

import importlib
import re
from pathlib import Path

import yaml

from structlearn.data.sources import KINDS, SourceChoices

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = {k.pattern for k in KINDS.values()}


def _table() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## On your own data", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not line.startswith("| ") or cells[0] in ("study", "---"):
            continue
        sources = [t for t in re.findall(r"`([^`]+)`", cells[1]) if t in PATTERNS]
        for study in cells[0].split(","):
            rows[study.strip()] = sources
    return rows


def _studies() -> dict[str, object]:
    names = [yaml.safe_load(p.read_text())["study"] for p in (ROOT / "experiments").glob("*.yaml")]
    return {n: importlib.import_module(f"structlearn.studies.{n}").STUDY.schema for n in names}


def test_the_readme_lists_every_studys_sources_as_its_schema_does():
    table, checked = _table(), 0
    for name, schema in _studies().items():
        field = (
            schema.get("data", {}).get("source") if isinstance(schema.get("data"), dict) else None
        )
        if field is None or not isinstance(field.choices, SourceChoices):
            continue
        assert name in table, (
            f"README 'On your own data': add a row for {name} (its data.source choices)"
        )
        assert sorted(table[name]) == sorted(field.choices), name
        assert table[name][0] == next(
            p for p in field.choices if p.split("[")[0].split(":")[0] == field.default.split(":")[0]
        ), f"{name}: default first"
        checked += 1
    assert checked >= 15
