"""Self-contained HTML reports, rendered from a saved results folder alone.

``render_report(results_dir)`` reads ``config.json``, ``metrics.json``, ``run.json`` and
``figures/*.png`` and writes ``report.html`` with the figures embedded (base64), the summary table,
the verdict table, the config and the versions, and writes beside it the rotating 3-D scatter pages
whose data ``metrics.json`` holds under ``scatter3d`` (``{file stem: data}``, see
:mod:`structlearn.report.scatter3d`), linked from the report. ``render_index(root)`` writes ``index.html`` linking
every results folder under ``root``. Nothing is recomputed: a report can be re-rendered anywhere.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

from structlearn.utils.io import atomic_write_text, read_json

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
.held{background:#e3f4e1} .failed{background:#fbe3e1} .undecided{background:#f6f1dc}
.premise{background:#e8eaf3} td ul{margin:0;padding-left:1.1em}
figure{margin:1.2em 0} figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{color:#555;font-size:.9em} pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    keys = list(rows[0])
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = []
    for r in rows:
        cells = []
        for k in keys:
            v = r.get(k, "")
            cls = ' class="num"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{_fmt(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_VERDICT_CLASS = {
    "held": "held",
    "not held": "failed",
    "undecided": "undecided",
    "premise not met": "premise",
}


def _text(v: Any) -> str:
    """A measured value as text: its ``text`` when it is a dict, else the value."""
    if isinstance(v, dict):
        return str(v.get("text", v.get("value", "")))
    return "" if v is None else str(v)


def _items(entries: Any, render: Any) -> str:
    if not isinstance(entries, list) or not entries:
        return "—"
    lis = []
    for e in entries:
        lis.append(f"<li>{render(e) if isinstance(e, dict) else html.escape(str(e))}</li>")
    return f"<ul>{''.join(lis)}</ul>"


def _alternative(a: dict) -> str:
    return (
        f"{html.escape(str(a.get('measurement', '')))}: "
        f"{html.escape(_text(a.get('measured')))} → <b>{html.escape(str(a.get('verdict', '')))}</b>"
    )


def _control(c: dict) -> str:
    word = "passes (the rule cannot tell)" if c.get("passes") else "does not pass"
    return (
        f"{html.escape(str(c.get('name', '')))}: {html.escape(_text(c.get('measured')))} "
        f"→ <b>{word}</b>"
    )


def _verdict_row(v: dict) -> str:
    """One claim: the first format (claim, measured, held) or the contract's."""
    if "verdict" not in v:  # results written before the study contract
        held = v.get("held")
        cls, word = {True: ("held", "held"), False: ("failed", "not held")}.get(
            held, ("undecided", "undecided")
        )
        cells = [
            html.escape(str(v.get("claim", "(no claim)"))),
            html.escape(_text(v.get("measured"))),
        ]
        cells += ["—", "—", "—", word]
        return f'<tr class="{cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
    word = str(v.get("verdict"))
    cls = _VERDICT_CLASS.get(word, "undecided")
    paper = f"<br><span class='sub'>{html.escape(str(v['paper']))}</span>" if v.get("paper") else ""
    premise = v.get("premise") if isinstance(v.get("premise"), dict) else {}
    met = {True: "met", False: "<b>not met</b>"}.get(premise.get("met"), "?")
    display = html.escape(str(v.get("display", word)))
    if v.get("estimator_dependent"):
        display = display.replace("estimator-dependent", "<b>estimator-dependent</b>")
    cells = [
        html.escape(str(v.get("claim", "(no claim)"))) + paper,
        f"{html.escape(str(v.get('measurement', '')))}: {html.escape(_text(v.get('measured')))}"
        f"<br><span class='sub'>rule: {html.escape(str(v.get('rule', '')))}</span>",
        f"{html.escape(str(premise.get('text', '')))}: {html.escape(_text(premise.get('value')))}"
        f" ({met})",
        _items(v.get("alternatives"), _alternative),
        _items(v.get("controls"), _control),
        display,
    ]
    return f'<tr class="{cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _verdicts(verdicts: Any) -> str:
    if not isinstance(verdicts, list) or not verdicts:
        return "<p>(this study states no claims)</p>"
    rows = []
    for v in verdicts:
        if isinstance(v, dict):
            rows.append(_verdict_row(v))
        else:
            rows.append(
                f'<tr class="undecided"><td colspan="6">(malformed verdict: '
                f"{html.escape(repr(v)[:200])})</td></tr>"
            )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("claim", "measured (rule)", "premise", "alternatives", "controls", "verdict")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figures(results_dir: Path, captions: dict[str, str]) -> str:
    parts = []
    for png in sorted((results_dir / "figures").glob("*.png")):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        cap = html.escape(captions.get(png.stem, png.stem))
        parts.append(
            f'<figure id="fig-{html.escape(png.stem)}"><img alt="{cap}" '
            f'src="data:image/png;base64,{data}"><figcaption>{cap}</figcaption></figure>'
        )
    return "\n".join(parts) or "<p>(no figures)</p>"


_PAGE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _interactive(results_dir: Path, pages: Any) -> str:
    """Write ``results_dir/<stem>.html`` for every 3-D scatter in ``pages`` (metrics.json's
    ``scatter3d``) and return the report's links to them ("" when there are none)."""
    from structlearn.report.scatter3d import write_scatter3d_page

    if not pages:
        return ""
    where = results_dir / "metrics.json"
    if not isinstance(pages, dict):
        raise ValueError(f"{where}: scatter3d: expected an object of file stem -> page data")
    links = []
    for stem, data in pages.items():
        if not _PAGE_STEM.fullmatch(str(stem)):
            raise ValueError(
                f"{where}: scatter3d: page name {stem!r} is not a plain file stem "
                "(letters, digits, '_' and '-')"
            )
        try:
            write_scatter3d_page(results_dir / f"{stem}.html", data)
        except ValueError as exc:
            raise ValueError(f"{where}: scatter3d.{stem}: {exc}") from None
        title = html.escape(str(data.get("title") or stem))
        links.append(f'<li><a href="{stem}.html">{stem}.html</a>: {title}</li>')
    return (
        "<h2>Interactive figures</h2><p>Self-contained pages (nothing is fetched): drag to "
        f"rotate.</p><ul>{''.join(links)}</ul>"
    )


def _read_mapping(path: Path, *, required: bool = True) -> dict[str, Any]:
    """``path`` read as a JSON object; a missing (when required), unreadable or malformed file
    raises ``ValueError`` naming it."""
    if not path.is_file():
        if required:
            raise ValueError(f"{path}: missing; is {path.parent} a results folder?")
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got a {type(data).__name__}")
    return data


def _read_saved(results_dir: Path) -> tuple[dict, dict, dict]:
    """``config.json``, ``metrics.json`` and ``run.json`` (optional), checked for the fields the
    report reads, so a malformed file is named instead of failing deep in the rendering."""
    config = _read_mapping(results_dir / "config.json")
    metrics = _read_mapping(results_dir / "metrics.json")
    run = _read_mapping(results_dir / "run.json", required=False)
    where = results_dir / "metrics.json"
    summary = metrics.get("summary", [])
    if not isinstance(summary, list) or not all(isinstance(r, dict) for r in summary):
        raise ValueError(
            f"{where}: summary: expected a list of rows (objects), got {summary!r:.60}"
        )
    for key in ("verdicts",):
        if not isinstance(metrics.get(key, []), list):
            raise ValueError(f"{where}: {key}: expected a list, got {metrics[key]!r:.60}")
    if not isinstance(metrics.get("captions", {}), dict):
        raise ValueError(f"{where}: captions: expected an object of figure name -> caption")
    wall = run.get("wall_time_s")
    if wall is not None and (isinstance(wall, bool) or not isinstance(wall, int | float)):
        raise ValueError(
            f"{results_dir / 'run.json'}: wall_time_s: expected a number, got {wall!r}"
        )
    if not isinstance(run.get("versions", {}), dict):
        raise ValueError(f"{results_dir / 'run.json'}: versions: expected an object")
    return config, metrics, run


def render_report(results_dir: str | Path) -> Path:
    """Write ``results_dir/report.html`` from the files saved there; returns its path.

    A missing or malformed ``config.json``/``metrics.json``/``run.json`` raises ``ValueError``
    naming the file (and the field)."""
    results_dir = Path(results_dir)
    config, metrics, run = _read_saved(results_dir)
    title = html.escape(str(config.get("study", results_dir.name)))
    wall = run.get("wall_time_s")
    sub = [f"seed {config.get('seed')}", f"preset {config.get('preset', 'default')}"]
    if wall is not None:
        sub.append(f"wall time {wall:.1f} s")
    links = " · ".join(
        f'<a href="{n}">{n}</a>'
        for n in ("metrics.json", "config.json", "run.json", "summary.csv")
        if (results_dir / n).is_file()
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>structlearn: {title}</title>
<style>{_CSS}</style></head><body>
<h1>{title}</h1>
<p class="sub">{html.escape(str(config.get("description", "")))}<br>{" · ".join(sub)}</p>
<h2>Summary</h2>{_table(metrics.get("summary", []))}
<h2>Claims and what was measured</h2>{_verdicts(metrics.get("verdicts", []))}
<h2>Figures</h2>{_figures(results_dir, metrics.get("captions", {}))}
{_interactive(results_dir, metrics.get("scatter3d"))}
<h2>Data</h2><p>{links}</p>
<h2>Config</h2><pre>{html.escape(json.dumps(config, indent=2))}</pre>
<h2>Versions</h2><pre>{html.escape(json.dumps(run.get("versions", {}), indent=2))}</pre>
<p class="sub">Information is in nats unless a label says bits.</p>
</body></html>
"""
    return atomic_write_text(results_dir / "report.html", page)


def find_results(root: str | Path) -> list[Path]:
    """Results folders (those holding metrics.json) at or below ``root``, sorted."""
    root = Path(root)
    return sorted(p.parent for p in root.rglob("metrics.json") if not p.parent.name.startswith("."))


def _sweep_section(root: Path) -> str:
    """The aggregates of ``root/sweep.json`` (one row per grid point, row label and metric: n,
    mean, 95% interval over seeds), or nothing when the root is not a sweep."""
    if not (root / "sweep.json").is_file():
        return ""
    sweep = read_json(root / "sweep.json")
    keys = list(sweep.get("grid", {}))
    rows = []
    for point in sweep.get("points", []):
        for row in point["rows"]:
            for metric, st in row["metrics"].items():
                interval = (
                    ""
                    if st["ci95_low"] is None
                    else f"[{_fmt(float(st['ci95_low']))}, {_fmt(float(st['ci95_high']))}]"
                )
                text = [html.escape(json.dumps(point["point"][k])) for k in keys]
                text += [html.escape(str(row["label"])), html.escape(metric)]
                nums = [str(st["n"]), _fmt(st["mean"]), interval]
                cells = [f"<td>{c}</td>" for c in text] + [
                    f'<td class="num">{c}</td>' for c in nums
                ]
                rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(
        f"<th>{html.escape(h)}</th>" for h in [*keys, "row", "metric", "seeds", "mean", "95% CI"]
    )
    counts = ", ".join(f"{v} {k}" for k, v in sweep.get("counts", {}).items())
    return (
        f"<h2>Sweep over {html.escape(', '.join(keys))} ({html.escape(counts)})</h2>"
        f"<p>Mean over seeds with its Student-t 95% interval; also in sweep.csv and sweep.json.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<h2>Runs</h2>"
    )


def _safe_sweep_section(root: Path) -> str:
    try:
        return _sweep_section(root)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return (
            f"<p>sweep.json could not be read ({html.escape(type(exc).__name__)}: "
            f"{html.escape(str(exc))}); the runs follow.</p>"
        )


def render_index(root: str | Path) -> Path:
    """Write ``root/index.html`` linking every results folder below it with its verdicts, after
    the table of aggregates when ``root`` holds a sweep."""
    root = Path(root)
    rows = []
    for d in find_results(root):
        rel = d.relative_to(root).as_posix()
        try:
            config, metrics, _ = _read_saved(d)
        except (ValueError, OSError) as exc:  # one bad run must not hide the others
            rows.append(
                f'<tr class="failed"><td>{html.escape(rel)}</td>'
                f'<td colspan="4">unreadable: {html.escape(str(exc))}</td></tr>'
            )
            continue
        verdicts = [v for v in metrics.get("verdicts", []) if isinstance(v, dict)]
        held = sum(v.get("held") is True for v in verdicts)
        failed = sum(v.get("held") is False for v in verdicts)
        rows.append(
            f'<tr><td><a href="{rel}/report.html">{html.escape(rel)}</a></td>'
            f"<td>{html.escape(str(config.get('study', '')))}</td>"
            f'<td class="num">{held}</td><td class="num">{failed}</td>'
            f'<td class="num">{len(verdicts) - held - failed}</td></tr>'
        )
    if not rows:
        raise ValueError(f"root: no results folders (with metrics.json) under {root}")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>structlearn results</title>
<style>{_CSS}</style></head><body><h1>structlearn results</h1>{_safe_sweep_section(root)}
<table><thead><tr><th>results</th><th>study</th><th>claims held</th><th>did not hold</th>
<th>not decided</th></tr></thead><tbody>{"".join(rows)}</tbody></table></body></html>
"""
    return atomic_write_text(root / "index.html", page)
