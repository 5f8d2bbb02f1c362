"""Sweeps on Dask: validation before submission, per-run failures, reruns that skip, exact aggregates.

A test-only study (``sweep_toy``) is added to the study registry by extending
``structlearn.studies.__path__``, in this process with monkeypatch and in the Dask worker processes
with a worker preload script. Its summary numbers are closed forms of (scale, seed), so the test
recomputes every aggregate independently.
"""

import csv
import json
import logging
import re
import sys
from html.parser import HTMLParser

import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import structlearn.studies
from structlearn.cli import main
from structlearn.config import ConfigError
from structlearn.sweep import (
    aggregate_summaries,
    parse_grid,
    plan_sweep,
    run_name,
    run_sweep,
    split_values,
    summarize,
)

TOY_STUDY = '''
"""Test-only study: numbers that are closed forms of (scale, seed); fails above a threshold."""
import numpy as np

from structlearn.config import Field
from structlearn.studies.base import StudyOutput

SCHEMA = {
    "toy": {
        "scale": Field(float, 1.0),
        "fail_above": Field(float, 100.0),
        "log": Field(str, ""),
    }
}


def run(config, context):
    toy = config["toy"]
    if toy["log"]:
        with open(toy["log"], "a") as fh:
            fh.write(f"{toy['scale']} {context.seed}\\n")
    if toy["scale"] > toy["fail_above"]:
        raise RuntimeError(f"toy: scale {toy['scale']} is above {toy['fail_above']}")
    x = toy["scale"] * np.random.default_rng(context.seed).normal(size=8)
    summary = [  # every row has the same keys; "note" and "flag" are not numbers
        {"part": "all", "mean (nats)": float(x.mean()), "count": 8, "note": "a", "flag": True},
        {"part": "head", "mean (nats)": float(x[:4].mean()), "count": 4, "note": "", "flag": False},
    ]
    return StudyOutput(metrics={"x": x.tolist()}, summary=summary)


class _Toy:
    name = "sweep_toy"
    summary = "test-only study"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _Toy()
'''


def toy_values(scale, seed):
    """What the toy study computes, written out again here."""
    return scale * np.random.default_rng(seed).normal(size=8)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """Register ``sweep_toy`` here and in Dask workers; returns (config path, run log path)."""
    folder = tmp_path / "toy_studies"
    folder.mkdir()
    (folder / "sweep_toy.py").write_text(TOY_STUDY)
    preload = tmp_path / "toy_preload.py"
    preload.write_text(
        f"import structlearn.studies\nstructlearn.studies.__path__.append({str(folder)!r})\n"
    )
    monkeypatch.setattr(
        structlearn.studies, "__path__", [*structlearn.studies.__path__, str(folder)]
    )
    log = tmp_path / "runs.log"
    config = tmp_path / "toy.yaml"
    config.write_text(f"study: sweep_toy\nseed: 0\ntoy:\n  scale: 1.0\n  log: {str(log)!r}\n")
    with dask.config.set({"distributed.worker.preload": [str(preload)]}):
        yield config, log
    sys.modules.pop("structlearn.studies.sweep_toy", None)


def _error_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# ----------------------------------------------------------------------------- grid and names


def test_split_and_parse_grid_values():
    assert split_values("[1, 2], {a: 3}, 'x,y', z") == ["[1, 2]", "{a: 3}", "'x,y'", "z"]
    assert parse_grid("methods=[pca, random],[pca]") == ("methods", [["pca", "random"], ["pca"]])
    assert parse_grid("a.b=1,2.5,true,null,text") == ("a.b", [1, 2.5, True, None, "text"])
    for bad in ["novalues", "=1,2", "key=", "key=1,,2", "key=[1,"]:
        with pytest.raises(ConfigError, match="--grid"):
            parse_grid(bad)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-5, 5),
            st.floats(-3, 3, allow_nan=False),
            st.text(max_size=6),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda v: json.dumps(v),
    ),
    st.integers(0, 3),
)
def test_run_names_are_stable_distinct_and_safe(values, n_seeds):
    """Folder names depend only on (values, seed), differ for distinct runs, use safe characters."""
    values = [v for i, v in enumerate(values) if v not in values[:i]]  # 1 == 1.0 == True
    names = [run_name({"a.b": v, "c": [v, 1]}, s) for v in values for s in range(n_seeds + 1)]
    again = [run_name({"a.b": v, "c": [v, 1]}, s) for v in values for s in range(n_seeds + 1)]
    assert names == again
    assert all(re.fullmatch(r"[A-Za-z0-9._+=-]+", n) and len(n) <= 120 for n in names)
    # plan_sweep adds a hash to names that coincide after sanitising; here check the raw rate
    plain = [v for v in values if isinstance(v, int | float)]
    plain_names = {run_name({"a.b": v}, 0) for v in plain}
    assert len(plain_names) == len(plain)


def test_long_names_are_cut_with_distinct_hashes():
    a = run_name({"key": "x" * 200}, 0)
    b = run_name({"key": "x" * 199 + "y"}, 0)
    assert len(a) == len(b) == 120 and a != b


def test_plan_validates_every_run_and_colliding_names_get_hashes(toy):
    config, _ = toy
    runs = plan_sweep(config, {"toy.scale": [1, 2], "toy.log": ["a b", "a_b"]}, 2)
    assert len(runs) == 2 * 2 * 2
    assert len({r.name for r in runs}) == 8  # 'a b' and 'a_b' sanitise alike: hashes added
    assert [r.seed for r in runs[:2]] == [0, 1]
    assert runs[0].config["toy"]["scale"] == 1.0 and runs[-1].config["toy"]["log"] == "a_b"
    with pytest.raises(ConfigError, match=r"toy\.scale: expected float"):
        plan_sweep(config, {"toy.scale": [1, "big"]}, 1)
    for bad in ([float("nan")], [np.float64(1.0), 1.0], []):
        with pytest.raises(ConfigError, match=r"--grid toy\.scale: (expected|repeated)"):
            plan_sweep(config, {"toy.scale": bad}, 1)
    (run,) = plan_sweep(config, {"toy.scale": (np.float32(0.5),)}, [7])  # numpy, tuple, seed list
    assert run.config["toy"]["scale"] == 0.5 and run.seed == 7 and run.point == {"toy.scale": 0.5}


# ---------------------------------------------------------------------------- bad input: exit 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--grid", "toy.scael=1,2"], "toy.scael: unknown key"),
        (["--grid", "toy.scale=1,2", "--grid", "toy.scale=3"], "--grid toy.scale: given twice"),
        (["--grid", "seed=1,2"], "--grid seed: the seed is not a grid key; use --seeds N"),
        (["--grid", "toy.scale=1,1"], "--grid toy.scale: repeated value"),
        (["--grid", "toy.scale=1", "--seeds", "0"], "--seeds: expected a count >= 1, got 0"),
        (["--grid", "toy.scale"], "--grid 'toy.scale': expected key=v1,v2"),
        ([], "--grid: expected at least one"),
        (["--grid", "toy.scale=1", "--preset", "big"], "--preset 'big': not in this config"),
        (["--grid", "toy.scale=1", "--workers", "0"], "n_workers: expected an int >= 1, got 0"),
    ],
)
def test_bad_sweep_exits_2_with_one_line_and_submits_nothing(capsys, tmp_path, toy, args, expected):
    config, log = toy
    root = tmp_path / "sweep"
    line = _error_line(capsys, ["sweep", str(config), "--out", str(root), "--quiet", *args])
    assert expected in line
    assert not root.exists() and not log.exists()  # nothing ran, no folder was made


def test_folder_from_another_config_is_refused(capsys, tmp_path, toy):
    config, log = toy
    root = tmp_path / "sweep"
    (run,) = plan_sweep(config, {"toy.scale": [1.0]}, 1)
    folder = root / run.name
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    (folder / "config.json").write_text(
        json.dumps({**run.config, "toy": {**run.config["toy"], "fail_above": 7.0}})
    )
    line = _error_line(
        capsys, ["sweep", str(config), "--out", str(root), "--quiet", "--grid", "toy.scale=1.0"]
    )
    assert f"--out: {folder} holds results of another config (toy.fail_above differs)" in line
    assert not log.exists()


# ----------------------------------------------------------------------------------- aggregation


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=12))
def test_summarize_matches_numpy_and_scipy_t_interval(values):
    s = summarize(values)
    v = np.asarray(values)
    assert s["n"] == len(values)
    assert s["mean"] == pytest.approx(v.mean(), abs=1e-9)
    assert s["std"] == pytest.approx(v.std(ddof=1), abs=1e-9)
    sem = v.std(ddof=1) / np.sqrt(len(v))
    if sem > 0:
        low, high = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=sem)
    else:
        low = high = v.mean()
    assert s["ci95_low"] == pytest.approx(low, abs=1e-6)
    assert s["ci95_high"] == pytest.approx(high, abs=1e-6)


def test_aggregate_matches_rows_by_label_and_skips_non_numbers():
    seed_a = [{"m": "pca", "x": 1.0, "s": "1 [0, 2]", "ok": True}, {"m": "sc", "x": 10, "y": 4.0}]
    seed_b = [{"m": "sc", "x": 14, "y": 6.0}, {"m": "pca", "x": 3.0, "s": "3 [2, 4]", "ok": False}]
    seed_c = [{"m": "sc", "x": 12}]
    agg = aggregate_summaries([seed_a, seed_b, seed_c])
    assert [(r["label_key"], r["label"]) for r in agg] == [("m", "pca"), ("m", "sc")]
    pca, sc = (r["metrics"] for r in agg)
    assert set(pca) == {"x"} and pca["x"]["values"] == [1.0, 3.0] and pca["x"]["mean"] == 2.0
    assert sc["x"]["values"] == [10.0, 14.0, 12.0] and sc["x"]["mean"] == 12.0
    assert sc["x"]["std"] == pytest.approx(2.0)
    assert sc["y"]["n"] == 2 and sc["y"]["mean"] == 5.0
    assert summarize([3.5]) == {
        "n": 1,
        "mean": 3.5,
        "std": None,
        "ci95_low": None,
        "ci95_high": None,
    }


# --------------------------------------------------------------------- a LocalCluster, two workers


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def _log_lines(log):
    return sorted(log.read_text().splitlines()) if log.exists() else []


def test_sweep_on_local_cluster_failures_rerun_and_exact_aggregates(capsys, tmp_path, toy):
    """9 runs on 2 workers (3 raise); a rerun after losing one folder runs only what is missing.

    One LocalCluster (two worker processes, one thread each) serves the CLI (``--scheduler``) and
    the rerun (``client=``); the default ``--workers`` path is run by the slow test below.
    """
    config, log = toy
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, silence_logs=logging.CRITICAL
        ) as cluster,
        Client(cluster) as client,
    ):
        _check_sweep(capsys, tmp_path, config, log, cluster.scheduler_address, client)


def _check_sweep(capsys, tmp_path, config, log, address, client):
    root = tmp_path / "sweep"
    argv = ["sweep", str(config), "--out", str(root), "--scheduler", address, "--quiet"]
    argv += ["--grid", "toy.scale=1,2,3", "--seeds", "3", "--set", "toy.fail_above=2.5"]
    assert main(argv) == 1  # some runs failed
    err = capsys.readouterr().err
    failures = [ln for ln in err.splitlines() if "failed:" in ln]
    assert len(failures) == 3
    assert all("RuntimeError: toy: scale 3.0 is above 2.5" in ln for ln in failures)

    summary = json.loads((root / "sweep.json").read_text())
    assert summary["counts"] == {"ran": 6, "cached": 0, "failed": 3, "pending": 0}
    by_status = {}
    for rec in summary["runs"]:
        by_status.setdefault(rec["status"], set()).add((rec["point"]["toy.scale"], rec["seed"]))
    assert by_status["failed"] == {(3, s) for s in range(3)}
    assert by_status["ran"] == {(a, s) for a in (1, 2) for s in range(3)}
    failed = [r for r in summary["runs"] if r["status"] == "failed"]
    assert all(r["error"] == "RuntimeError: toy: scale 3.0 is above 2.5" for r in failed)
    assert all("Traceback" in r["traceback"] for r in failed)
    assert len(_log_lines(log)) == 9  # every run executed once
    for rec in summary["runs"]:
        assert (root / rec["name"] / "metrics.json").is_file() == (rec["status"] == "ran")

    # aggregates: the toy's closed form recomputed here, and the per-run metrics.json files
    points = {p["point"]["toy.scale"]: p for p in summary["points"]}
    assert points[3]["n_finished"] == 0 and points[3]["rows"] == []
    for scale in (1, 2):
        rows = {r["label"]: r["metrics"] for r in points[scale]["rows"]}
        assert set(rows) == {"all", "head"}
        assert set(rows["all"]) == set(rows["head"]) == {"mean (nats)", "count"}
        expected = np.array([toy_values(scale, s).mean() for s in range(3)])
        got = rows["all"]["mean (nats)"]
        assert got["n"] == 3
        assert got["mean"] == pytest.approx(expected.mean(), rel=1e-12)
        assert got["std"] == pytest.approx(expected.std(ddof=1), rel=1e-12)
        half = stats.t.ppf(0.975, 2) * expected.std(ddof=1) / np.sqrt(3)
        assert got["ci95_low"] == pytest.approx(expected.mean() - half, rel=1e-9)
        assert got["ci95_high"] == pytest.approx(expected.mean() + half, rel=1e-9)
        head = np.mean([toy_values(scale, s)[:4].mean() for s in range(3)])
        assert rows["head"]["mean (nats)"]["mean"] == pytest.approx(head, rel=1e-12)
        assert rows["head"]["count"]["mean"] == 4.0 and rows["head"]["count"]["std"] == 0.0
        files = [
            json.loads((root / name / "metrics.json").read_text())["summary"][1]["mean (nats)"]
            for name in points[scale]["runs"]
        ]
        assert rows["head"]["mean (nats)"]["mean"] == pytest.approx(np.mean(files), rel=1e-12)

    # sweep.csv holds the same numbers, one line per (point, row, metric)
    with open(root / "sweep.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 2 * 4
    line = next(
        r for r in table if (r["toy.scale"], r["part"], r["metric"]) == ("2", "all", "mean (nats)")
    )
    assert float(line["mean"]) == pytest.approx(
        points[2]["rows"][0]["metrics"]["mean (nats)"]["mean"], rel=1e-12
    )
    assert int(line["n"]) == 3

    # index.html shows the aggregates, links every finished run's report, and each link resolves
    index = (root / "index.html").read_text()
    mean_2 = points[2]["rows"][0]["metrics"]["mean (nats)"]
    cells = '<td>2</td><td>all</td><td>mean (nats)</td><td class="num">3</td><td class="num">'
    assert f"{cells}{mean_2['mean']:.4g}</td>" in index
    assert "6 ran, 0 cached, 3 failed, 0 pending" in index
    parser = _Links()
    parser.feed(index)
    assert len(parser.hrefs) == 6
    assert all((root / href).is_file() for href in parser.hrefs)

    # interruption: one finished folder is lost; the rerun (Python API) redoes only it
    lost = next(r for r in summary["runs"] if r["status"] == "ran")
    kept = next(r for r in summary["runs"] if r["status"] == "ran" and r is not lost)
    before_lost = (root / lost["name"] / "metrics.json").read_text()
    kept_inode = (root / kept["name"] / "metrics.json").stat().st_ino
    (root / lost["name"]).rename(tmp_path / "moved-away")
    stale = root / f".{lost['name']}.k1ll3d.partial"  # what a killed worker leaves behind
    stale.mkdir()
    log.write_text("")
    result = run_sweep(
        config,
        {"toy.scale": [1, 2, 3]},
        3,
        out=root,
        overrides=["toy.fail_above=2.5"],
        client=client,
        quiet=True,
    )
    assert (result.count("cached"), result.count("ran"), result.count("failed")) == (5, 1, 3)
    assert _log_lines(log) == sorted(
        [f"{float(lost['point']['toy.scale'])} {lost['seed']}"] + [f"3.0 {s}" for s in range(3)]
    )
    assert (
        root / lost["name"] / "metrics.json"
    ).read_text() == before_lost  # same seed, same numbers
    assert (root / kept["name"] / "metrics.json").stat().st_ino == kept_inode  # untouched
    assert not stale.exists()
    again = json.loads((root / "sweep.json").read_text())
    assert again["points"] == summary["points"]

    # a sweep whose runs are all finished needs no cluster: an unreachable scheduler is never called
    done = run_sweep(
        config,
        {"toy.scale": [1, 2]},
        3,
        out=root,
        overrides=["toy.fail_above=2.5"],
        scheduler="tcp://127.0.0.1:9",
        quiet=True,
    )
    assert done.count("cached") == 6 and done.count("ran") == 0


# ------------------------------------------------------------------------------ the real study


@pytest.mark.slow
def test_mosaic_sweep_aggregates_per_run_metrics(tmp_path):
    """The real study, 2 lambdas x 2 seeds on the default LocalCluster with 2 workers (~1 min)."""
    small = [
        "data.n_samples=2000",
        "data.grid=[2, 2]",
        "data.tile=6",
        "methods=[sparse_coding, random]",
        "sparse_coding.n_filters=16",
        "sparse_coding.n_iter=30",
        "random.n_filters=16",
        "analysis.n_code_samples=200",
    ]
    root = tmp_path / "mosaic"
    result = run_sweep(
        "experiments/mosaic_filters.yaml",
        {"sparse_coding.lambda1": [0.1, 0.3]},
        2,
        out=root,
        overrides=small,
        n_workers=2,
        quiet=True,
    )
    assert result.count("ran") == 4 and not result.failed
    for point in result.points:
        rows = {r["label"]: r["metrics"] for r in point["rows"]}
        per_run = [json.loads((root / n / "metrics.json").read_text()) for n in point["runs"]]
        for method in ("sparse_coding", "random"):
            expected = np.mean(
                [
                    next(r for r in m["summary"] if r["objective"] == method)["Hoyer codes"]
                    for m in per_run
                ]
            )
            assert rows[method]["Hoyer codes"]["mean"] == pytest.approx(expected, rel=1e-12)
            assert rows[method]["Hoyer codes"]["n"] == 2
