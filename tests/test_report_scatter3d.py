"""The rotating 3-D scatter page: every point embedded exactly, nothing fetched, linked by reports."""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from structlearn.analysis.probes import analyze_layer_maps
from structlearn.report import render_report
from structlearn.report.scatter3d import (
    read_scatter3d_data,
    scatter3d_data,
    scatter3d_page,
    write_scatter3d_page,
)


@pytest.fixture(scope="module")
def maps3():
    rng = np.random.default_rng(0)
    y = np.repeat([3, 7, 9], 25)  # label values that are not 0..C-1
    sep = np.repeat(rng.normal(size=(3, 6)) * 6, 25, axis=0) + rng.normal(size=(75, 6))
    layers = {"noise": rng.normal(size=(75, 4)), "layer </script> 2": sep}
    return analyze_layer_maps(layers, y, n_max=60, perplexity=8.0, n_components=3)


def test_page_holds_every_point_with_the_tsne_coordinates(maps3, tmp_path):
    path = write_scatter3d_page(tmp_path / "m.html", maps3, title="t")
    data = read_scatter3d_data(path.read_text())
    assert len(data["labels"]) == 60 and len(data["layers"]) == 2
    for layer, emb in zip(data["layers"], maps3.embedding, strict=True):
        pts = np.array(layer["points"])
        assert pts.shape == (60, 3)
        np.testing.assert_array_equal(pts, np.round(emb.astype(float), 4))  # 4 decimals ...
        np.testing.assert_allclose(pts, emb, rtol=0, atol=5.0001e-5)  # ... and nothing else
    # colour index -> label value reproduces the labels
    classes = np.array(data["classes"])
    np.testing.assert_array_equal(classes[data["labels"]], maps3.labels)
    assert classes.tolist() == [3, 7, 9] and len(data["colours"]) == 3
    assert [la["name"] for la in data["layers"]] == maps3.names  # "</script>" survived
    assert data["layers"][1]["agreement"] == pytest.approx(maps3.neighbour_agreement[1])


def test_page_fetches_nothing(maps3):
    page = scatter3d_page(scatter3d_data(maps3))
    assert not re.search(r"https?://|//cdn|<link|\ssrc=|@import|url\(", page, flags=re.I)
    assert page.count("</script>") == 2  # the data block and the script; names are escaped
    assert len(page.encode()) < 60_000  # 120 points x 3 coords + ~6 kB of page


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_page_script_parses(maps3, tmp_path):
    page = scatter3d_page(scatter3d_data(maps3))
    js = re.findall(r"<script>(.*?)</script>", page, flags=re.S)[0]
    (tmp_path / "p.js").write_text(js)
    assert subprocess.run(["node", "--check", str(tmp_path / "p.js")]).returncode == 0


def test_bad_input(maps3):
    m2 = analyze_layer_maps([np.eye(12)], np.repeat([0, 1], 6), n_max=12, perplexity=3.0)
    with pytest.raises(ValueError, match="n_components=3"):
        scatter3d_data(m2)
    with pytest.raises(ValueError, match="decimals"):
        scatter3d_data(maps3, decimals=0)
    data = scatter3d_data(maps3)
    data["layers"][0]["points"] = data["layers"][0]["points"][:-1]
    with pytest.raises(ValueError, match=r"'noise'.*60 finite points"):
        scatter3d_page(data)
    with pytest.raises(ValueError, match="scatter3d data"):
        read_scatter3d_data("<html></html>")


def _results(tmp_path, pages):
    (tmp_path / "config.json").write_text(json.dumps({"study": "x"}))
    (tmp_path / "metrics.json").write_text(json.dumps({"scatter3d": pages}))
    return tmp_path


def test_report_writes_and_links_the_pages(maps3, tmp_path):
    data = scatter3d_data(maps3, title="maps of x")
    render_report(_results(tmp_path, {"maps3d": data}))
    report = (tmp_path / "report.html").read_text()
    assert '<a href="maps3d.html">' in report and "maps of x" in report
    assert read_scatter3d_data((tmp_path / "maps3d.html").read_text()) == data
    with pytest.raises(ValueError, match="plain file stem"):
        render_report(_results(tmp_path, {"../evil": data}))
    assert not (tmp_path.parent / "evil.html").exists()
    with pytest.raises(ValueError, match=r"scatter3d\.bad"):
        render_report(_results(tmp_path, {"bad": {"layers": []}}))
