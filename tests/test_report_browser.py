"""report.html and index.html in a real headless Chromium (Debian's package), driven by Playwright.

A small mosaic_filters run is rendered, copied under a second name so the index links two folders,
and both pages are loaded from disk: no console error or uncaught exception; every <img> decoded
(naturalWidth > 0) and laid out at a non-zero size; as many images as figures/*.png; every link of
the index (and every data link of a report) resolves to a file.

Setup (no browser download: Playwright drives the system Chromium):
    apt-get update && apt-get install -y chromium
    .venv/bin/pip install -c constraints.txt playwright==1.65.2
Run: ``.venv/bin/pytest -q -m slow tests/test_report_browser.py``.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from structlearn.cli import main
from structlearn.experiment import run_experiment

pytestmark = pytest.mark.slow

INSTALL = (
    "apt-get update && apt-get install -y chromium && "
    ".venv/bin/pip install -c constraints.txt playwright==1.65.2"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SMALL = [
    "data.n_samples=2000",
    "data.grid=[2, 2]",
    "data.tile=6",
    "methods=[sparse_coding, pca, random]",
    "sparse_coding.n_filters=16",
    "sparse_coding.n_iter=30",
    "pca.n_filters=16",
    "random.n_filters=16",
    "analysis.n_code_samples=200",
]


def _chromium() -> str:
    path = os.environ.get("STRUCTLEARN_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.skip(f"Chromium not found (or set STRUCTLEARN_CHROMIUM); install with: {INSTALL}")
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh headless Chromium profile; yields a function that opens a page and logs errors."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason=f"Playwright not installed; install with: {INSTALL}"
    )
    executable = _chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            context.close()


def _open(context, path: Path):
    """Load ``path``; returns (page, errors) with console errors, page errors, failed requests."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} {r.failure}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, errors


def _links(page) -> list[Path]:
    """Every <a href> of the page, resolved by the browser, as local paths."""
    urls = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    assert all(urlparse(u).scheme == "file" for u in urls), urls
    return [Path(unquote(urlparse(u).path)) for u in urls]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    folder, _ = run_experiment(
        "experiments/mosaic_filters.yaml", out=root / "mosaic_seed0", overrides=SMALL, quiet=True
    )
    shutil.copytree(folder, root / "copy" / "mosaic_seed0")
    assert main(["report", str(root)]) == 0  # re-renders both reports and writes index.html
    return root


def test_report_figures_are_displayed_without_errors(browser, results):
    for folder in (results / "mosaic_seed0", results / "copy" / "mosaic_seed0"):
        n_png = len(list((folder / "figures").glob("*.png")))
        assert n_png >= 2
        page, errors = _open(browser, folder / "report.html")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        images = page.evaluate(
            """Array.from(document.images).map(i => {
                const r = i.getBoundingClientRect();
                return {w: i.naturalWidth, h: i.naturalHeight, bw: r.width, bh: r.height,
                        shown: getComputedStyle(i).visibility !== "hidden"};
            })"""
        )
        assert len(images) == n_png
        for i, img in enumerate(images):
            assert img["w"] > 0 and img["h"] > 0, (i, img)  # decoded
            assert img["bw"] > 0 and img["bh"] > 0 and img["shown"], (i, img)  # laid out
            assert page.locator("img").nth(i).is_visible()
        assert page.title() == "structlearn: mosaic_filters"
        data_links = _links(page)
        assert {p.name for p in data_links} >= {"metrics.json", "config.json", "run.json"}
        assert all(p.is_file() for p in data_links), data_links
        assert errors == []
        page.close()


def test_index_links_resolve_to_reports_that_load(browser, results):
    page, errors = _open(browser, results / "index.html")
    links = _links(page)
    assert sorted(links) == sorted(
        [
            results / "copy" / "mosaic_seed0" / "report.html",
            results / "mosaic_seed0" / "report.html",
        ]
    )
    for target in links:
        assert target.is_file()
        response = page.goto(target.as_uri(), wait_until="load")
        assert response is None or response.ok
        assert page.title() == "structlearn: mosaic_filters"
    assert errors == []
    page.close()
