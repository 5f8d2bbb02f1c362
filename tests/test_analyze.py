"""structlearn analyze KIND INPUT --out DIR: every kind on files the test writes, through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from structlearn.cli import main


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["analyze", *map(str, argv)])
    return code, capsys.readouterr().err


def _metrics(out) -> dict:
    return json.loads((out / "metrics.json").read_text())


def _tile_local_filters(rng: np.random.Generator) -> np.ndarray:
    """8 filters on a 2x2 grid of 4-pixel tiles (8x8 image), each inside one tile."""
    from structlearn.data.mosaic import make_tile_map

    tiles = make_tile_map((2, 2), 4).ravel()
    W = rng.normal(size=(8, 64))
    W[np.arange(64)[None, :] * 0 + tiles[None, :] != (np.arange(8) % 4)[:, None]] = 0.0
    return W


def test_locality_of_tile_local_filters_is_one_and_the_folder_is_complete(tmp_path, capsys):
    W = _tile_local_filters(np.random.default_rng(0))
    np.save(tmp_path / "W.npy", W)
    out = tmp_path / "r"
    code, err = _run(
        capsys, "locality", tmp_path / "W.npy", "--grid", 2, 2, "--tile", 4, "--out", out, "--quiet"
    )
    assert (code, err) == (0, "")
    m = _metrics(out)
    assert m["median_locality_fraction"] == pytest.approx(1.0, abs=1e-12)
    assert m["geometry"] == "tiles" and m["n_tiles"] == 4
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["filters.png", "locality.png"]
    assert "data:image/png;base64" in (out / "report.html").read_text()
    # spread filters score near chance (1/4) on the same geometry, from a .pt state dict
    torch.save(
        {"fc.weight": torch.randn(8, 64, generator=torch.Generator().manual_seed(1))},
        tmp_path / "net.pt",
    )
    code, _ = _run(
        capsys,
        "locality",
        tmp_path / "net.pt",
        "--key",
        "fc.weight",
        "--grid",
        2,
        2,
        "--tile",
        4,
        "--out",
        tmp_path / "r2",
        "--quiet",
    )
    assert code == 0 and _metrics(tmp_path / "r2")["median_locality_fraction"] < 0.5


def test_locality_width_that_does_not_match_the_geometry_exits_2_with_one_line(tmp_path, capsys):
    np.save(tmp_path / "W.npy", np.ones((4, 50)))
    code, err = _run(
        capsys, "locality", tmp_path / "W.npy", "--image-shape", 8, 8, "--out", tmp_path / "r"
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(
        "structlearn analyze: error: INPUT: the weight matrix has filters of 50 "
        "weights (shape (4, 50)) but the geometry (images of 8x8) has 64 pixels"
    )
    assert not (tmp_path / "r").exists()
    code, err = _run(capsys, "locality", tmp_path / "W.npy", "--out", tmp_path / "r")
    assert code == 2 and "--image-shape: the filters' geometry is needed" in err


def test_an_existing_folder_that_is_not_results_is_never_replaced(tmp_path, capsys):
    np.save(tmp_path / "W.npy", np.eye(16)[:4])
    mine = tmp_path / "my_thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    code, err = _run(capsys, "locality", tmp_path / "W.npy", "--image-shape", 4, 4, "--out", mine)
    assert code == 2 and "--out: " in err and "is not a structlearn results folder" in err
    assert (mine / "chapter1.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["W.npy", "my_thesis"]
    # an earlier results folder is replaced by the new results
    out = tmp_path / "r"
    for threshold in ("0.2", "0.5"):
        code, err = _run(
            capsys,
            "locality",
            tmp_path / "W.npy",
            "--image-shape",
            4,
            4,
            "--threshold",
            threshold,
            "--out",
            out,
            "--quiet",
        )
        assert (code, err) == (0, "")
    assert json.loads((out / "config.json").read_text())["options"]["threshold"] == 0.5


def test_pixel_mi_of_smooth_images_decays_with_distance_and_reports_skipped_files(tmp_path, capsys):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(2)
    folder = tmp_path / "photos"
    folder.mkdir()
    for k in range(3):
        field = gaussian_filter(rng.normal(size=(64, 64)), 3.0)
        field = (field - field.min()) / (field.max() - field.min())
        Image.fromarray((255 * field).astype(np.uint8)).save(folder / f"{k}.png")
    (folder / "readme.txt").write_text("not an image")
    out = tmp_path / "r"
    code, err = _run(
        capsys, "pixel-mi", folder, "--max-distance", 8, "--n-bins", 16, "--out", out, "--quiet"
    )
    assert (code, err) == (0, "")
    m = _metrics(out)
    assert m["data"]["n_samples"] == 3 and m["data"]["skipped"][0][0] == "readme.txt"
    d = np.asarray(m["distance"])
    mi = np.asarray(m["mi_nats"])
    assert mi[d == 1].mean() > mi[d >= 7].mean() > 0


def _layers(n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(n, 8))
    rotation = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    return {"a": z[:, :4], "b": z, "c": z @ rotation}


def test_depth_stops_where_a_layer_adds_no_entropy(tmp_path, capsys):
    layers = _layers()
    labels = (layers["b"][:, 5] > 0).astype(np.int64)
    np.savez(tmp_path / "feats.npz", **layers, y=labels)
    out = tmp_path / "r"
    code, err = _run(
        capsys,
        "depth",
        tmp_path / "feats.npz",
        "--labels",
        "y",
        "--n-bootstrap",
        5,
        "--out",
        out,
        "--quiet",
    )
    assert (code, err) == (0, "")
    m = _metrics(out)
    # b adds 4 independent standard Gaussians: 4 * 0.5 * log(2 pi e) = 5.676 nats; c adds none
    assert m["gain_nats"][1] == pytest.approx(2 * np.log(2 * np.pi * np.e), abs=0.3)
    assert abs(m["gain_nats"][2]) < 0.05 and m["recommended_depth"] == 2
    # the label is a coordinate only b and c hold: probes saturate at b
    assert m["probe_saturation_layer"] == "b"


def test_depth_layers_with_different_sample_counts_exit_2(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", a=np.zeros((100, 3)), b=np.zeros((90, 3)))
    code, err = _run(capsys, "depth", tmp_path / "bad.npz", "--out", tmp_path / "r")
    assert code == 2 and err == (
        "structlearn analyze: error: INPUT: layer 'b' has 90 samples but layer 'a' has 100; "
        "every array must hold the same inputs, row for row\n"
    )


def test_info_plane_of_a_recorded_run(tmp_path, capsys):
    from structlearn.models.mlp import MLP
    from structlearn.objectives.supervised import CrossEntropy
    from structlearn.train import TrainConfig, train

    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 2, (256, 6), generator=g).float()
    y = (X[:, 0] + X[:, 1] > 0.5).long()
    config = TrainConfig(optimizer="adam", lr=0.02, epochs=12, batch_size=64, n_records=4)
    train(
        MLP([6, 5, 2], random_state=0),
        CrossEntropy(),
        (X, y),
        config=config,
        out_dir=tmp_path / "run",
    )
    out = tmp_path / "r"
    code, err = _run(
        capsys, "info-plane", tmp_path / "run", "--n-bins", 10, "--out", out, "--quiet"
    )
    assert (code, err) == (0, "")
    m = _metrics(out)
    ixt = np.asarray(m["I_XT_nats"])
    assert ixt.shape == (2, 4) and np.all(ixt <= np.log(len(np.unique(X.numpy(), axis=0))) + 1e-9)
    code, err = _run(capsys, "info-plane", tmp_path, "--out", tmp_path / "r3")
    assert code == 2 and "is not a run folder with recordings/" in err


def test_alignment_finds_the_copied_teacher_units_and_their_fanout(tmp_path, capsys):
    rng = np.random.default_rng(4)
    teacher = rng.normal(size=(500, 3))
    student = np.column_stack([teacher[:, 0], 2 * teacher[:, 1] + 1, rng.normal(size=500)])
    np.save(tmp_path / "t.npy", teacher)
    np.save(tmp_path / "s.npy", student)
    np.save(tmp_path / "w.npy", np.array([[3.0, 0.0, 0.1], [4.0, 1.0, 0.0]]))
    out = tmp_path / "r"
    code, err = _run(
        capsys,
        "alignment",
        tmp_path / "t.npy",
        "--student",
        tmp_path / "s.npy",
        "--fanout",
        tmp_path / "w.npy",
        "--out",
        out,
        "--quiet",
    )
    assert (code, err) == (0, "")
    m = _metrics(out)
    np.testing.assert_allclose(m["student_best_corr"][:2], [1.0, 1.0], atol=1e-12)
    assert m["student_best_corr"][2] < 0.2
    np.testing.assert_allclose(m["fanout_norm"], [5.0, 1.0, 0.1], atol=1e-12)
    np.save(tmp_path / "short.npy", student[:400])
    code, err = _run(
        capsys,
        "alignment",
        tmp_path / "t.npy",
        "--student",
        tmp_path / "short.npy",
        "--out",
        tmp_path / "r2",
    )
    assert code == 2 and "--student: has 400 samples but the teacher's activations have 500" in err
