"""What `structlearn` does around a run when the world is hostile: a user's folder or file given as
--out, a read-only or full disk, two runs at once, leftovers of killed runs, malformed saved files.
Each case is a reproducer from the reliability audit (F1, F10, F11 and its "minor" list); the rule
is one line on stderr, exit status 2, and no file of the user's touched."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _fake_study import install, write_config

from structlearn.cli import main
from structlearn.utils.io import exclusive_lock

HERE = Path(__file__).parent


@pytest.fixture
def fake(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    return install(monkeypatch)


def _error_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _litter(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_folder_of_user_files_is_never_replaced_without_force(fake, tmp_path, capsys):
    cfg = write_config(tmp_path)
    (tmp_path / "mydata" / "sub").mkdir(parents=True)
    (tmp_path / "mydata" / "notes.txt").write_text("irreplaceable")
    (tmp_path / "mydata" / "sub" / "data.csv").write_text("1,2,3")
    before = _snapshot(tmp_path / "mydata")
    line = _error_line(capsys, ["run", str(cfg), "--quiet", "--out", "mydata"])
    assert line.startswith("structlearn run: error: --out: mydata holds files but is not a")
    assert "--force" in line
    assert _snapshot(tmp_path / "mydata") == before
    assert fake.runs == 0 and _litter(tmp_path) == []
    assert main(["run", str(cfg), "--quiet", "--out", "mydata", "--force"]) == 0
    assert sorted(p.name for p in (tmp_path / "mydata").iterdir()) == [
        "config.json",
        "figures",
        "metrics.json",
        "report.html",
        "run.json",
        "summary.csv",
    ]


def test_a_file_is_never_replaced_even_with_force(fake, tmp_path, capsys):
    cfg = write_config(tmp_path)
    (tmp_path / "afile").write_text("precious")
    for extra in ([], ["--force"]):
        line = _error_line(capsys, ["run", str(cfg), "--quiet", "--out", "afile", *extra])
        assert "--out: afile exists and is not a folder; it is never replaced" in line
    assert (tmp_path / "afile").read_text() == "precious"
    assert fake.runs == 0 and _litter(tmp_path) == []


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        (".", "--out: . is the current folder or holds it"),
        ("..", "--out: .. is the current folder or holds it"),
        ("afile/sub", "is a file, not a folder"),
    ],
)
def test_impossible_out_is_refused_before_any_work(fake, tmp_path, capsys, out, expected):
    cfg = write_config(tmp_path)
    (tmp_path / "afile").write_text("precious")
    before = _snapshot(tmp_path)
    assert expected in _error_line(capsys, ["run", str(cfg), "--quiet", "--out", out])
    assert fake.runs == 0
    assert _snapshot(tmp_path) == before and _litter(tmp_path) == []


def test_results_folder_and_empty_folder_are_replaced_with_the_umask(fake, tmp_path):
    cfg = write_config(tmp_path, "size: 3\n")
    (tmp_path / "empty").mkdir()
    old = os.umask(0o027)
    try:
        assert main(["run", str(cfg), "--quiet", "--out", "empty"]) == 0
        assert main(["run", str(cfg), "--quiet", "--out", "r", "--set", "size=2"]) == 0
        assert main(["run", str(cfg), "--quiet", "--out", "r", "--set", "size=4"]) == 0
    finally:
        os.umask(old)
    assert len(json.loads((tmp_path / "r" / "metrics.json").read_text())["values"]) == 4
    assert (tmp_path / "r").stat().st_mode & 0o777 == 0o750  # not mkdtemp's 0700
    assert _litter(tmp_path) == []
    threads = json.loads((tmp_path / "r" / "run.json").read_text())["threads"]
    import torch

    assert threads["torch"] == torch.get_num_threads()
    assert threads["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS")


def test_second_concurrent_run_is_refused_naming_the_first(fake, tmp_path, capsys):
    cfg = write_config(tmp_path)
    main(["run", str(cfg), "--quiet", "--out", "r"])
    before = _snapshot(tmp_path / "r")
    with exclusive_lock(tmp_path / "r", "--out"):  # what a live run holds
        line = _error_line(capsys, ["run", str(cfg), "--quiet", "--out", "r"])
    assert f"--out: r is being written by another structlearn process (pid {os.getpid()})" in line
    assert _snapshot(tmp_path / "r") == before and fake.runs == 1
    assert main(["run", str(cfg), "--quiet", "--out", "r"]) == 0  # the lock died with its holder
    assert _litter(tmp_path) == []


def test_two_real_processes_one_out(tmp_path):
    """Two CLI processes started together: exactly one writes, the other exits 2 naming --out
    (without the lock both exited 0 and shared, then deleted, one work folder)."""
    cfg = write_config(tmp_path, "size: 200000\n")  # ~4 MB of JSON: long enough to overlap
    cmd = [sys.executable, str(HERE / "_fake_study.py"), "run", str(cfg), "--quiet", "--out", "r"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), *sys.path])}
    with exclusive_lock(tmp_path / "r", "--out"):  # both start while the folder is busy ...
        first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
        assert first.wait(timeout=120) == 2
    assert "is being written by another structlearn process" in first.stderr.read()
    procs = [  # ... and two that race for it
        subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes[0] == 0 and codes[1] in (0, 2)  # 0, 0 only if the first finished first
    assert len(json.loads((tmp_path / "r" / "metrics.json").read_text())["values"]) == 200000
    assert _litter(tmp_path) == []


def test_litter_of_killed_runs_is_removed(fake, tmp_path):
    cfg = write_config(tmp_path)
    for name in (".r.abc123.partial", ".r.old-999", ".other.x1.partial"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text("{}")
    assert main(["run", str(cfg), "--quiet", "--out", "r"]) == 0
    assert _litter(tmp_path) == [".other.x1.partial"]  # another folder's leftovers are not ours


def test_errors_inside_the_run_are_one_line_and_leave_nothing(fake, tmp_path, capsys):
    cfg = write_config(tmp_path)
    line = _error_line(capsys, ["run", str(cfg), "--quiet", "--out", "r", "--set", "fail=memory"])
    assert line.startswith("structlearn run: error: out of memory (Unable to allocate 74.5 GiB")
    line = _error_line(capsys, ["run", str(cfg), "--quiet", "--out", "r", "--set", "fail=value"])
    assert line == "structlearn run: error: fail: asked to fail"
    assert not (tmp_path / "r").exists()
    assert _litter(tmp_path) == [".r.work"]  # kept for --resume


def _unshare_ok() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null"],
        capture_output=True,
    )
    return probe.returncode == 0


def _run_on_mount(tmp_path, mount_opts, args, prepare=""):
    """Run the CLI (fake study) in a private mount namespace with a tmpfs on ``tmp_path/m``."""
    mnt = tmp_path / "m"
    mnt.mkdir()
    cli = f"{sys.executable} {HERE / '_fake_study.py'} {args}"
    script = (
        f"mount -t tmpfs -o {mount_opts} tmpfs {mnt} && {prepare} {cli}; echo rc=$?; ls -A {mnt}"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), *sys.path])}
    out = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines(), out.stderr.strip().splitlines()


@pytest.mark.skipif(not _unshare_ok(), reason="mounting a tmpfs needs user namespaces")
def test_full_disk_keeps_the_previous_results_and_leaves_no_partial(tmp_path):
    cfg = write_config(tmp_path, "size: 3\n")
    mnt = tmp_path / "m"
    prepare = f"{sys.executable} {HERE / '_fake_study.py'} run {cfg} --quiet --out {mnt}/r && "
    stdout, stderr = _run_on_mount(
        tmp_path, "size=300k", f"run {cfg} --quiet --out {mnt}/r --set size=100000", prepare
    )
    # the first results stay; no hidden .partial (the work folder is kept for --resume)
    assert stdout[0] == "rc=2" and stdout[1:] == [".r.work", "r"]
    assert len(stderr) == 1 and "No space left on device (errno 28)" in stderr[0]


@pytest.mark.skipif(not _unshare_ok(), reason="mounting a tmpfs needs user namespaces")
def test_read_only_out_is_one_line(tmp_path):
    cfg = write_config(tmp_path)
    mnt = tmp_path / "m"
    stdout, stderr = _run_on_mount(tmp_path, "ro", f"run {cfg} --quiet --out {mnt}/r")
    assert stdout == ["rc=2"]
    assert len(stderr) == 1 and f"--out: cannot write in {tmp_path / 'm'} (permission" in stderr[0]


def test_config_errors_name_the_key_or_file(fake, tmp_path, capsys):
    cfg = write_config(tmp_path, "size: 3\n")
    run = ["run", str(cfg), "--quiet", "--out", "r"]
    assert "study: set to 'fake'" in _error_line(capsys, [*run, "--set", "study=pixel_mi"])
    line = _error_line(capsys, [*run, "--set", "size=null"])
    assert "size: expected int >= 1 <= 1000000, got None" in line
    line = _error_line(capsys, [*run, "--seed", "99999999999999999999999"])
    assert "seed: expected int >= 0 <= 9223372036854775807" in line
    assert "size: expected int >= 1 <= 1000000, got 1000000000" in _error_line(
        capsys, [*run, "--set", "size=1000000000"]
    )
    (tmp_path / "latin1.yaml").write_bytes(b"study: fake\ndescription: caf\xe9\n")
    line = _error_line(capsys, ["run", str(tmp_path / "latin1.yaml")])
    assert "latin1.yaml: not UTF-8 text (byte 0xe9 at position 28)" in line
    (tmp_path / "dup.yaml").write_text("study: fake\nseed: 0\nsize: 2\nseed: 7\n")
    line = _error_line(capsys, ["run", str(tmp_path / "dup.yaml")])
    assert "dup.yaml: not valid YAML at line 4: key 'seed' given twice (lines 2 and 4)" in line
    assert fake.runs == 0


def test_a_section_cannot_be_set_to_null(capsys, tmp_path):
    """`--set data=null` used to drop the whole section, preset included (a smoke run then used
    20,000 samples instead of 2,000)."""
    argv = ["run", "experiments/mosaic_filters.yaml", "--preset", "smoke", "--out", str(tmp_path)]
    line = _error_line(capsys, [*argv, "--set", "data=null"])
    assert "data: is a section, not a value; --set cannot set it to null" in line
    assert not (tmp_path / "r").exists()


def test_list_verbose_names_the_bad_config(capsys, tmp_path):
    (tmp_path / "a.yaml").write_text("description: no study key\n")
    line = _error_line(capsys, ["list", "-v", "--dir", str(tmp_path)])
    assert line.endswith("a.yaml: study: missing; name the study this config runs")
    (tmp_path / "a.yaml").write_text("study: nope\n")
    assert "a.yaml: study: unknown study 'nope'" in _error_line(
        capsys, ["list", "-v", "--dir", str(tmp_path)]
    )


def test_unreachable_scheduler_is_one_line(capsys, monkeypatch, tmp_path):
    pytest.importorskip("distributed")
    import structlearn.sweep as sweep

    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT_S", 1)
    argv = ["sweep", "experiments/random_networks.yaml", "--grid", "data.n_samples=400,500"]
    argv += ["--scheduler", "tcp://127.0.0.1:1", "--quiet", "--out", str(tmp_path / "s")]
    line = _error_line(capsys, argv)
    assert "--scheduler: no Dask scheduler answered at tcp://127.0.0.1:1 within 1 s" in line


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("metrics.json", "[1, 2]", "metrics.json: expected a JSON object, got a list"),
        ("metrics.json", '{"summary": "x"}', "metrics.json: summary: expected a list of rows"),
        ("metrics.json", '{"a": 1,\n', "metrics.json: not valid JSON (Expecting"),
        ("metrics.json", "", "metrics.json: not valid JSON (Expecting value: line 1"),
        ("run.json", '{"wall_time_s": "fast"}', "run.json: wall_time_s: expected a number"),
        ("config.json", b"\xff{}", "config.json: not UTF-8 text"),
    ],
)
def test_report_names_the_malformed_file(fake, tmp_path, capsys, name, content, expected):
    cfg = write_config(tmp_path)
    assert main(["run", str(cfg), "--quiet", "--out", "root/good"]) == 0
    assert main(["run", str(cfg), "--quiet", "--out", "root/bad"]) == 0
    path = tmp_path / "root" / "bad" / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = _error_line(capsys, ["report", "root/bad"])
    assert expected in line and str(Path("root/bad") / name) in line
    line = _error_line(capsys, ["report", "root"])  # the index is still written, bad run listed
    assert "1 results folder(s) could not be rendered" in line and expected in line
    index = (tmp_path / "root" / "index.html").read_text()
    assert 'href="good/report.html"' in index
    assert "<td>bad</td>" in index and "unreadable:" in index


# ------------------------------------------------------------ interruption, then --resume (F5)


def _start(tmp_path, out, log, sleep, *extra):
    cfg = tmp_path / "slow.yaml"
    cfg.write_text("study: slow\nseed: 3\nn_seeds: 4\nsize: 7\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE.parent), *sys.path]),
        "STRUCTLEARN_FAKE_LOG": str(log),
        "STRUCTLEARN_FAKE_SLEEP": str(sleep),
    }
    cmd = [sys.executable, str(HERE / "_fake_study.py"), "run", str(cfg), "--quiet"]
    return subprocess.Popen(
        [*cmd, "--out", out, *extra],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        # a shell starts background jobs (nohup, `cmd &`, CI runners) with SIGINT ignored, and
        # the child would inherit that: give it the default, so Python raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _measured(log: Path) -> list[int]:
    return [int(s) for s in log.read_text().split()] if log.exists() else []


@pytest.mark.parametrize(
    "sig",
    [signal.SIGINT, pytest.param(signal.SIGKILL, marks=pytest.mark.slow)],  # ~10 s each on CI
    ids=["SIGINT", "SIGKILL"],
)
def test_interrupted_run_resumes_finished_seeds_and_ends_byte_identical(tmp_path, monkeypatch, sig):
    """The README's promise: after a real SIGINT or SIGKILL in the middle of a multi-seed study,
    --resume measures only the seeds that had not finished, and metrics.json equals the
    uninterrupted run's byte for byte (before the study contract, --resume recomputed all)."""
    log = tmp_path / "run.log"
    proc = _start(tmp_path, "r", log, 1.0)
    monkeypatch.chdir(tmp_path)  # the uninterrupted reference, in this process meanwhile
    monkeypatch.setenv("STRUCTLEARN_FAKE_LOG", str(tmp_path / "ref.log"))
    install(monkeypatch)
    assert main(["run", "slow.yaml", "--quiet", "--out", "ref"]) == 0
    seeds = tmp_path / ".r.work" / "seeds"
    deadline = time.monotonic() + 300
    while not (seeds / "seed-4.pkl").exists():  # seeds 3 and 4 checkpointed, 5 under way
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(sig)
    code = proc.wait(timeout=120)
    if sig == signal.SIGINT:
        assert code == 130
        assert proc.stderr.read().strip().splitlines()[-1] == (
            "structlearn: interrupted; rerun with --resume to continue"
        )
    else:
        assert code == -signal.SIGKILL
    assert not (tmp_path / "r").exists()  # nothing that looks complete
    first = _measured(log)
    assert first[:2] == [3, 4]
    resumed = _start(tmp_path, "r", log, 0, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert _measured(log)[len(first) :] == [5, 6]  # seeds 3 and 4 came from their checkpoints
    assert (tmp_path / "r" / "metrics.json").read_bytes() == (
        tmp_path / "ref" / "metrics.json"
    ).read_bytes()
    assert _litter(tmp_path) == []  # work folder, lock and partial folders all gone
