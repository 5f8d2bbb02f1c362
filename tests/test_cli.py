"""The command line: errors exit 2 with one line naming the key; runs are reproducible by seed."""

import json
import textwrap

import pytest

from structlearn.cli import main

SMALL_ARGS = [
    "n_seeds=1",
    "data.n_samples=3000",
    "data.grid=[2, 2]",
    "data.tile=6",
    "methods=[sparse_coding, pca, random]",
    "sparse_coding.n_filters=24",
    "sparse_coding.n_iter=150",
    "sparse_coding.batch_size=256",
    "pca.n_filters=24",
    "random.n_filters=24",
    "analysis.n_code_samples=300",
]
SMALL = [arg for s in SMALL_ARGS for arg in ("--set", s)]
CONFIG = "experiments/mosaic_filters.yaml"


def _run(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(
        [
            "run",
            CONFIG,
            "--out",
            str(out),
            "--quiet",
            *SMALL,
            *extra,
        ]
    )
    assert code == 0
    return out


def _error_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--set", "data.n_sample=5"], "data.n_sample: unknown key"),
        (["--set", "data.tile=big"], "data.tile: expected int >= 2 <= 64, got 'big'"),
        (["--set", "data.zca_eps=0"], "data.zca_eps: expected float >= 1e-08 <= 10.0, got 0"),
        (["--set", "methods=[sparse_coding, ica]"], "methods: expected a non-empty list of"),
        (["--preset", "huge"], "--preset 'huge': not in this config; presets: 'smoke', 'full'"),
        (["--set", "data.tile=4000"], "tile"),
        (["--set", "data.grid=[0, 3]"], "data.grid: expected list of int of length 2 >= 1"),
    ],
)
def test_bad_config_exits_2_with_one_line(capsys, tmp_path, extra, expected):
    line = _error_line(capsys, ["run", CONFIG, "--out", str(tmp_path / "r"), "--quiet", *extra])
    assert expected in line
    assert not (tmp_path / "r").exists()  # nothing that looks like results


def test_bad_yaml_and_unknown_study_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: mosaic_filters\ndata: {n_samples: 3\n")
    assert "not valid YAML" in _error_line(capsys, ["run", str(bad)])
    other = tmp_path / "other.yaml"
    other.write_text("study: nonsense\n")
    assert "study: unknown study 'nonsense'; expected one of: " in _error_line(
        capsys, ["run", str(other)]
    )


def test_run_is_reproducible_and_seed_dependent(tmp_path):
    a = _run(tmp_path, "a")
    b = _run(tmp_path, "b")
    c = _run(tmp_path, "c", "--seed", "1")
    ma, mb, mc = (json.loads((d / "metrics.json").read_text()) for d in (a, b, c))
    assert ma == mb
    (sa,), (sc,) = ma["seeds"], mc["seeds"]
    assert sa["methods"]["sparse_coding"] != sc["methods"]["sparse_coding"]
    assert json.loads((c / "config.json").read_text())["seed"] == 1
    # what the folder holds, and that the report embeds every figure
    assert {p.name for p in a.iterdir()} >= {
        "config.json",
        "metrics.json",
        "run.json",
        "report.html",
        "figures",
    }
    html = (a / "report.html").read_text()
    figures = sorted(p.stem for p in (a / "figures").glob("*.png"))
    assert figures == ["filters", "locality_histogram", "mosaic_examples", "objectives_compared"]
    assert html.count("data:image/png;base64,") == len(figures)
    # locality, measured: sparse coding is local, random filters sit near chance (1/4 for 2x2 tiles)
    m = sa["methods"]
    assert m["sparse_coding"]["median_locality_fraction"] > 0.8
    assert (
        m["sparse_coding"]["median_locality_fraction"] > m["pca"]["median_locality_fraction"] + 0.2
    )
    assert 0.25 < m["random"]["median_locality_fraction"] < 0.45
    run = json.loads((a / "run.json").read_text())
    assert run["versions"]["torch"].startswith("2.13.0")


def test_report_rerenders_from_saved_results(tmp_path, capsys):
    a = _run(tmp_path / "root", "a")
    (a / "report.html").unlink()
    assert main(["report", str(a)]) == 0
    assert (a / "report.html").stat().st_size > 1000
    assert main(["report", str(tmp_path / "root")]) == 0
    index = (tmp_path / "root" / "index.html").read_text()
    assert 'href="a/report.html"' in index


def test_list_shows_every_config(capsys, tmp_path):
    (tmp_path / "one.yaml").write_text(
        textwrap.dedent("""\
        study: mosaic_filters
        description: first study
        presets: {fast: {data.n_samples: 200}}
        """)
    )
    assert main(["list", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "one" in out and "first study" in out and "fast" in out
