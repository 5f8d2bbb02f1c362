"""A Sphinx extension that writes the generated pages before each build.

- ``api/<module>.rst`` for every public module of structlearn (``automodule`` with ``:members:``,
  which follows each module's ``__all__``), and ``api/index.rst`` listing them;
- ``studies/<study>.rst`` for every config in ``experiments/``: its description, the study's module
  docstring, the hand-written notes in ``studies/notes/<study>.rst`` (claim, measurement,
  alternatives, controls), the sources its ``data.source`` accepts (read from the schema, so the
  page follows the study) and every config key with its default.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
#: modules documented on the study pages (their numbers are the study's, not an API)
STUDY_PACKAGE = "structlearn.studies"


def _is_study(name: str) -> bool:
    """A module of structlearn.studies that runs a study (defines ``STUDY``)."""
    return hasattr(importlib.import_module(name), "STUDY")


def public_modules() -> list[str]:
    """Dotted names of structlearn's public modules (no path part starting with ``_``)."""
    import structlearn

    names = ["structlearn"]
    for info in pkgutil.walk_packages(structlearn.__path__, "structlearn."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts):
            continue
        if info.name.startswith(STUDY_PACKAGE + ".") and _is_study(info.name):
            continue
        names.append(info.name)
    return sorted(names)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def constants(name: str) -> list[str]:
    """UPPER_CASE names assigned at the top level of module ``name`` (its constants)."""
    import ast
    import inspect

    try:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    except (OSError, TypeError):
        return []
    out = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for t in targets:
            if isinstance(t, ast.Name) and t.id.isupper() and not t.id.startswith("_"):
                out.append(t.id)
    return out


def own_names(name: str) -> list[str]:
    """Public names that ``name`` defines itself: its ``__all__`` (or its names without a leading
    underscore), less what it re-exports from another module (documented where defined) and, in a
    package, less its submodules and constants."""
    import inspect

    mod = importlib.import_module(name)
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
    is_package = hasattr(mod, "__path__")
    out = []
    for n in names:
        obj = getattr(mod, n, None)
        if inspect.ismodule(obj):
            continue
        where = getattr(obj, "__module__", None)
        if where is None and (is_package or not hasattr(mod, "__all__")):
            continue
        if where is not None and where != name:
            continue
        out.append(n)
    if not is_package:
        out += [c for c in constants(name) if c not in out]
    return out


def _constant(module: str, name: str) -> str:
    """``py:data`` with the value and the ``#:`` comment (never the value's type's docstring)."""
    from sphinx.pycode import ModuleAnalyzer

    value = repr(getattr(importlib.import_module(module), name))
    shown = value if len(value) <= 80 and "\n" not in value else "(see the source)"
    docs = ModuleAnalyzer.for_module(module).find_attr_docs().get(("", name), [])
    body = "\n".join(f"   {line}" for line in docs if line.strip())
    return f".. py:data:: {name}\n   :value: {shown}\n\n{body}\n"


def _directive(module: str, name: str) -> str:
    import inspect

    obj = getattr(importlib.import_module(module), name)
    if inspect.isclass(obj):
        return f".. autoclass:: {module}.{name}\n   :members:\n"
    if callable(obj):
        return f".. autofunction:: {module}.{name}\n"
    return _constant(module, name)


def reexports(name: str) -> list[tuple[str, str, str]]:
    """(name, directive, where defined) of what a package re-exports from its submodules, so that
    ``structlearn.estimators.tishby_joint`` resolves as well as its defining module's name. Names
    equal to a submodule's (``ib_curve``) are left out: module and function would collide."""
    import inspect

    mod = importlib.import_module(name)
    if not hasattr(mod, "__path__"):
        return []
    subs = {m.name for m in pkgutil.iter_modules(mod.__path__)}
    out = []
    for n in getattr(mod, "__all__", []):
        obj = getattr(mod, n, None)
        where = getattr(obj, "__module__", None)
        if n in subs or where in (None, name) or not where.startswith("structlearn."):
            continue
        kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "data"
        out.append((n, kind, where))
    return out


def _alias(package: str, name: str, kind: str, where: str) -> str:
    """A target for ``package.name``: a pointer to the defining module's entry when that module
    documents it, else the object's own documentation."""
    public = not any(p.startswith("_") for p in where.split("."))
    if not public or name not in own_names(where):
        return _directive(package, name)
    role = {"class": "class", "function": "func", "data": "data"}[kind]
    return (
        f".. py:{kind}:: {name}\n   :no-index-entry:\n\n"
        f"   The same object as :{role}:`{where}.{name}`.\n"
    )


def write_api() -> None:
    mods = public_modules()
    for name in mods:
        parts = [_title(name), f".. automodule:: {name}\n   :no-members:\n"]
        parts += [_directive(name, n) for n in own_names(name)]
        aliases = reexports(name)
        if aliases:
            parts.append(_title("Re-exported here", "-") + f"\n.. py:currentmodule:: {name}\n")
            parts += [_alias(name, *a) for a in aliases]
        _write(DOCS / "api" / f"{name}.rst", "\n".join(parts))
    toc = "\n".join(f"   {m}" for m in mods)
    _write(
        DOCS / "api" / "index.rst",
        f"{_title('API reference')}\nEvery public module; each page documents the names the "
        "module defines in its ``__all__`` (a name re-exported by a package is documented where "
        f"it is defined).\n\n.. toctree::\n   :maxdepth: 1\n\n{toc}\n",
    )


def _sources_section(schema: dict[str, Any], stem: str) -> str:
    from structlearn.data.sources import SourceChoices

    data = schema.get("data", {})
    field = data.get("source") if isinstance(data, dict) else None
    head = _title("Run it on your data", "-")
    if field is None or not isinstance(field.choices, SourceChoices):
        return (
            f"{head}\nThis study reads its built-in data only (its ``data`` section has no "
            "``source`` key yet). The analyzers it uses run on your files with "
            ":doc:`structlearn analyze <../analyze>`.\n"
        )
    rows = "\n".join(f"   * - ``{p}``" for p in field.choices)
    other = next((p for p in field.choices if ":" in p), field.choices[0])
    return (
        f"{head}\n``data.source`` accepts (default ``{field.default}``):\n\n"
        f".. list-table::\n   :header-rows: 0\n\n{rows}\n\n"
        f".. code-block:: bash\n\n   structlearn run experiments/{stem}.yaml --set "
        f"data.source={other.replace('[', '').replace(']', '')}\n\n"
        "Any other source is refused before work starts, with one line naming ``data.source``. "
        "See :doc:`../data_sources` for each source's options.\n"
    )


def _keys_section(schema: dict[str, Any]) -> str:
    from structlearn.config import describe_schema
    from structlearn.experiment import COMMON_SCHEMA

    rows = []
    for key, expected, default in describe_schema({**COMMON_SCHEMA, **schema}):
        cells = [f"``{key}``", f"``{default!r}``", expected.replace("|", "/").replace("*", "\\*")]
        rows.append("   * - " + "\n     - ".join(cells))
    return (
        f"{_title('Config keys', '-')}\n.. list-table::\n   :header-rows: 1\n   :widths: 25 20 55\n\n"
        "   * - key\n     - default\n     - expected\n" + "\n".join(rows) + "\n"
    )


def write_studies() -> None:
    import yaml

    from structlearn.studies import get_study

    entries = []
    for cfg in sorted((ROOT / "experiments").glob("*.yaml")):
        raw = yaml.safe_load(cfg.read_text())
        name = raw["study"]
        study = get_study(name)
        notes = DOCS / "studies" / "notes" / f"{cfg.stem}.rst"
        parts = [
            f".. _study-{cfg.stem}:\n\n" + _title(cfg.stem),
            f"*{raw.get('description', '')}*\n",
            f".. code-block:: bash\n\n   structlearn run experiments/{cfg.stem}.yaml --preset smoke\n",
            f".. automodule:: structlearn.studies.{name}\n   :no-members:\n   :no-index:\n",
        ]
        if notes.is_file():
            parts.append(f".. include:: notes/{cfg.stem}.rst\n")
        parts += [_sources_section(study.schema, cfg.stem), _keys_section(study.schema)]
        _write(DOCS / "studies" / f"{cfg.stem}.rst", "\n".join(parts))
        entries.append(cfg.stem)
    toc = "\n".join(f"   {e}" for e in entries)
    _write(
        DOCS / "studies" / "index.rst",
        f"{_title('Studies')}\nOne page per study in ``experiments/``: the claim from the "
        "literature, what is measured and how, the alternatives and controls, how to run it on "
        "your data, and every config key.\n\n"
        f".. toctree::\n   :maxdepth: 1\n\n{toc}\n",
    )


def _generate(app: Any) -> None:
    write_api()
    write_studies()


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _generate)
    return {"parallel_read_safe": True, "version": "1"}
