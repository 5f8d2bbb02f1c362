"""Rotating 3-D scatter pages: every layer's 3-D t-SNE map in one self-contained HTML file.

The points are embedded in the page as JSON and drawn by a short inline script (canvas 2-D,
perspective projection, far points first): drag to rotate, wheel to zoom, double-click to reset;
all layers' panels turn together so the same view compares them. Nothing is fetched when the page
is viewed (no CDN, no fonts, no ``http(s)://`` reference): it opens from a results folder, an
e-mail attachment or a laptop offline. Colours are matplotlib's ``tab10`` (``tab20`` above ten
classes), the colours of the 2-D maps.

``scatter3d_data(maps)`` turns a :class:`~structlearn.analysis.probes.LayerMaps` with
``n_components=3`` into JSON-ready data (coordinates rounded to ``decimals``: 1e-4 of a map
spanning tens of units is far below a pixel); ``scatter3d_page(data)`` renders it;
``read_scatter3d_data(page)`` parses the embedded data back. A study that stores the data under
``metrics.json``'s ``scatter3d`` key (``{file stem: data}``) gets the page written and linked by
:func:`structlearn.report.render_report`.

Reference: L. van der Maaten & G. Hinton, "Visualizing data using t-SNE", JMLR 9 (2008) (maps of
two or three dimensions).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from structlearn.utils.io import atomic_write_text

__all__ = ["read_scatter3d_data", "scatter3d_data", "scatter3d_page", "write_scatter3d_page"]

_TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip
_TAB20 = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728",
          "#ff9896", "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2",
          "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"]  # fmt: skip
_DATA_ID = "scatter3d-data"


def _colours(n: int) -> list[str]:
    """``n`` class colours: tab10, tab20, else evenly spaced hues."""
    if n <= 10:
        return _TAB10[:n]
    if n <= 20:
        return _TAB20[:n]
    import colorsys

    rgb = [colorsys.hsv_to_rgb((0.618034 * i) % 1.0, 0.65, 0.85) for i in range(n)]
    return ["#" + "".join(f"{round(255 * c):02x}" for c in t) for t in rgb]


def scatter3d_data(maps: Any, *, title: str = "", decimals: int = 4) -> dict[str, Any]:
    """JSON-ready data of a page from 3-D layer maps.

    Parameters
    ----------
    maps : LayerMaps
        From :func:`~structlearn.analysis.probes.analyze_layer_maps` with ``n_components=3``.
    title : str
    decimals : int in [1, 12]
        Coordinates are rounded to this many decimals (t-SNE units).

    Returns
    -------
    dict with ``title``, ``classes`` (the label values, sorted), ``colours`` (one per class),
    ``labels`` (n_points,) class index of every point, ``chance_agreement`` and ``layers``: one
    ``{"name", "points" (n_points, 3), "agreement", "note"}`` per layer (``note``: why a
    degenerate layer has no map, else "").
    """
    emb = np.asarray(getattr(maps, "embedding", None))
    if emb.ndim != 3 or emb.shape[-1] != 3:
        raise ValueError(
            f"maps: expected 3-D layer maps (analyze_layer_maps(..., n_components=3)), got "
            f"embedding of shape {emb.shape}"
        )
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 1 <= decimals <= 12:
        raise ValueError(f"decimals: expected an int in [1, 12], got {decimals!r}")
    classes, codes = np.unique(np.asarray(maps.labels), return_inverse=True)
    notes = list(maps.degenerate) or [None] * len(maps.names)
    layers = [
        {
            "name": str(name),
            "points": np.round(e.astype(np.float64), decimals).tolist(),
            "agreement": float(a),
            "note": note or "",
        }
        for name, e, a, note in zip(maps.names, emb, maps.neighbour_agreement, notes, strict=True)
    ]
    return {
        "title": str(title),
        "classes": classes.tolist(),
        "colours": _colours(len(classes)),
        "labels": codes.tolist(),
        "chance_agreement": float(maps.chance_agreement),
        "layers": layers,
    }


def _check_data(data: Any) -> None:
    """The fields the page reads, with consistent sizes (ValueError naming the field)."""
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list) or not data["layers"]:
        raise ValueError("data: expected scatter3d_data(...)'s dict with a non-empty 'layers' list")
    n = len(data.get("labels", []))
    n_classes = len(data.get("classes", []))
    if len(data.get("colours", [])) != n_classes:
        raise ValueError(f"data: colours: expected {n_classes} (one per class)")
    for layer in data["layers"]:
        pts = np.asarray(layer.get("points"), dtype=np.float64)
        if pts.shape != (n, 3) or not np.isfinite(pts).all():
            raise ValueError(
                f"data: layer {layer.get('name')!r}: expected {n} finite points of 3 coordinates, "
                f"got shape {pts.shape}"
            )
    codes = np.asarray(data["labels"])
    if n and (codes.min() < 0 or codes.max() >= n_classes):
        raise ValueError(f"data: labels: expected class indices in [0, {n_classes})")


_JS = r"""
(function () {
  const D = JSON.parse(document.getElementById("scatter3d-data").textContent);
  const SIZE = 300, DPR = window.devicePixelRatio || 1, CAM = 3.2;
  let yaw = 0.5, pitch = 0.35, zoom = 1, spin = true, drag = null;
  const grid = document.getElementById("panels");
  const panels = D.layers.map(function (layer) {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas");
    c.width = c.height = SIZE * DPR;
    c.style.width = c.style.height = SIZE + "px";
    const cap = document.createElement("figcaption");
    cap.textContent = layer.name + (layer.note ? ": " + layer.note
      : ": neighbours agree " + layer.agreement.toFixed(2));
    fig.appendChild(c); fig.appendChild(cap); grid.appendChild(fig);
    const n = layer.points.length, xyz = new Float32Array(3 * n), mean = [0, 0, 0];
    layer.points.forEach(function (p) { for (let k = 0; k < 3; k++) mean[k] += p[k] / n; });
    const radii = layer.points.map(function (p, i) {
      for (let k = 0; k < 3; k++) xyz[3 * i + k] = p[k] - mean[k];
      return Math.hypot(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
    }).sort(function (a, b) { return a - b; });
    const r = Math.max(1e-12, radii[Math.floor(0.98 * (n - 1))] || 0);  // outliers may leave
    for (let i = 0; i < xyz.length; i++) xyz[i] /= r;
    return {ctx: c.getContext("2d"), xyz: xyz, n: n, depth: new Float32Array(n),
            sx: new Float32Array(n), sy: new Float32Array(n), order: [...Array(n).keys()], c: c};
  });
  function draw() {
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    const half = SIZE * DPR / 2;
    panels.forEach(function (p) {
      for (let i = 0; i < p.n; i++) {
        const x = p.xyz[3 * i], y = p.xyz[3 * i + 1], z = p.xyz[3 * i + 2];
        const x1 = cy * x + sy * z, z1 = -sy * x + cy * z;
        const y1 = cp * y - sp * z1, z2 = sp * y + cp * z1;
        const s = zoom * 0.8 * half * CAM / (CAM - z2);
        p.sx[i] = half + s * x1; p.sy[i] = half - s * y1; p.depth[i] = z2;
      }
      p.order.sort(function (a, b) { return p.depth[a] - p.depth[b]; });
      p.ctx.clearRect(0, 0, 2 * half, 2 * half);
      for (const i of p.order) {
        p.ctx.globalAlpha = 0.55 + 0.45 * (p.depth[i] + 1) / 2;
        p.ctx.fillStyle = D.colours[D.labels[i]];
        p.ctx.beginPath();
        p.ctx.arc(p.sx[i], p.sy[i], DPR * (1.6 + 0.9 * (p.depth[i] + 1) / 2), 0, 2 * Math.PI);
        p.ctx.fill();
      }
    });
  }
  panels.forEach(function (p) {
    p.c.addEventListener("pointerdown", function (e) {
      drag = [e.clientX, e.clientY]; p.c.setPointerCapture(e.pointerId);
    });
    p.c.addEventListener("pointermove", function (e) {
      if (!drag) return;
      yaw += (e.clientX - drag[0]) * 0.01;
      pitch = Math.max(-1.55, Math.min(1.55, pitch + (e.clientY - drag[1]) * 0.01));
      drag = [e.clientX, e.clientY]; draw();
    });
    p.c.addEventListener("pointerup", function () { drag = null; });
    p.c.addEventListener("wheel", function (e) {
      e.preventDefault(); zoom = Math.max(0.3, Math.min(6, zoom * Math.exp(-e.deltaY * 0.001)));
      draw();
    }, {passive: false});
    p.c.addEventListener("dblclick", function () { yaw = 0.5; pitch = 0.35; zoom = 1; draw(); });
  });
  const box = document.getElementById("spin");
  box.addEventListener("change", function () { spin = box.checked; });
  (function tick() { if (spin && !drag) { yaw += 0.004; draw(); } requestAnimationFrame(tick); })();
  draw();
})();
"""

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "#panels{display:flex;flex-wrap:wrap;gap:.8em}figure{margin:0}"
    "canvas{border:1px solid #ddd;cursor:grab;touch-action:none}"
    "figcaption{font-size:.85em;color:#555;max-width:300px}"
    ".key span{display:inline-block;margin-right:.8em}"
    ".key i{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.25em}"
)


def scatter3d_page(data: dict[str, Any]) -> str:
    """The HTML of a page showing ``data`` (from :func:`scatter3d_data`); self-contained."""
    _check_data(data)
    title = html.escape(str(data.get("title") or "3-D t-SNE maps"))
    key = "".join(
        f'<span><i style="background:{c}"></i>{html.escape(str(v))}</span>'
        for v, c in zip(data["classes"], data["colours"], strict=True)
    )
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    n = len(data["labels"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{_CSS}</style></head>
<body><h1>{title}</h1>
<p>{n} points per layer, coloured by label (chance neighbour agreement
{float(data.get("chance_agreement", 0.0)):.2f}). Drag a panel to rotate every layer together, wheel
to zoom, double-click to reset. <label><input type="checkbox" id="spin" checked> spin</label></p>
<p class="key">{key}</p>
<div id="panels"></div>
<script type="application/json" id="{_DATA_ID}">{blob}</script>
<script>{_JS}</script>
</body></html>
"""


def write_scatter3d_page(path: str | Path, maps: Any, *, title: str = "") -> Path:
    """Write the page of ``maps`` (LayerMaps with 3-D maps, or :func:`scatter3d_data`'s dict)
    to ``path`` atomically; returns the path."""
    data = maps if isinstance(maps, dict) else scatter3d_data(maps, title=title)
    return atomic_write_text(Path(path), scatter3d_page(data))


def read_scatter3d_data(page: str) -> dict[str, Any]:
    """The data embedded in a page's HTML (the inverse of :func:`scatter3d_page`)."""
    found = re.search(
        rf'<script type="application/json" id="{_DATA_ID}">(.*?)</script>', page, flags=re.S
    )
    if found is None:
        raise ValueError("page: no embedded scatter3d data; is it a scatter3d_page?")
    return json.loads(found.group(1))  # "<\\/" is JSON's escape of "/"
