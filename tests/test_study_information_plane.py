"""information_plane study: the plane at epoch 0 equals a plain binning of the initial network,
information bounds hold, the verdict rules, config errors."""

import json

import numpy as np
import pytest
import torch

from structlearn.config import ConfigError
from structlearn.data.tishby import load_tishby_task
from structlearn.experiment import load_config, run_experiment
from structlearn.studies.information_plane import (
    _build_model,
    _compression_verdict,
    _snr_verdict,
    end_of_fitting,
    layer_status,
    split_inputs,
)

CONFIG = "experiments/information_plane.yaml"
TINY = [
    "training.epochs=6",
    "training.n_records=5",
    "kde.n_inputs=48",
    "kde.n_epochs=3",
    "ib.n_betas=12",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("information_plane") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", overrides=TINY, quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def _plain_binned_information(acts, y, n_bins, lo, hi):
    """H(T) and I(T;Y) in nats of rows binned into n_bins equal bins on [lo, hi], by counting."""
    edges = np.linspace(lo, hi, n_bins + 1)
    codes = np.clip(np.digitize(acts, edges[1:-1]), 0, n_bins - 1)
    _, t = np.unique(codes, axis=0, return_inverse=True)
    t = t.ravel()
    n = len(t)
    h_t = 0.0
    for c in np.bincount(t):
        h_t -= c / n * np.log(c / n)
    h_t_given_y = 0.0
    for label in np.unique(y):
        sub = t[y == label]
        p_y = len(sub) / n
        for c in np.bincount(sub):
            if c:
                h_t_given_y -= p_y * (c / len(sub)) * np.log(c / len(sub))
    return h_t, h_t - h_t_given_y


def test_epoch0_plane_equals_plain_binning_of_the_initial_network(tiny_run):
    """Epoch 0 is the initial network, rebuilt here from the seed: every layer's I(X;T) and
    I(T;Y) equals a plain count of binned rows (softmax output, bins on [-1, 1])."""
    folder, m = tiny_run
    config = json.loads((folder / "config.json").read_text())
    task = load_tishby_task()
    tanh = m["networks"]["tanh"][0]
    assert tanh["epochs"][0] == 0
    model = _build_model("tanh", config, tanh["seed"]).eval()
    with torch.no_grad():
        taps = [t.numpy().astype(np.float64) for t in model(torch.as_tensor(task.X).float())]
    taps[-1] = np.exp(taps[-1]) / np.exp(taps[-1]).sum(1, keepdims=True)
    for i, acts in enumerate(taps):
        h, i_ty = _plain_binned_information(acts, task.y, 30, -1.0, 1.0)
        assert tanh["I_XT_nats"][i][0] == pytest.approx(h, abs=1e-5)
        assert tanh["I_TY_nats"][i][0] == pytest.approx(i_ty, abs=1e-5)


def test_information_bounds_and_compression_bookkeeping(tiny_run):
    _, m = tiny_run
    h_x = np.log(4096)
    y = load_tishby_task().y
    p = np.bincount(y) / len(y)
    h_y = -(p * np.log(p)).sum()
    for kind, runs in m["networks"].items():
        for r in runs:
            ixt, ity = np.array(r["I_XT_nats"]), np.array(r["I_TY_nats"])
            n_max = np.log(r.get("kde_n_inputs", 4096))
            assert (ixt >= 0).all() and (ixt <= n_max + 1e-6).all(), kind
            assert (ity >= 0).all() and (ity <= h_y + 1e-6).all(), kind
            assert np.allclose(r["compression_nats"], ixt.max(1) - ixt[:, -1], atol=1e-5)
            running = np.maximum.accumulate(ixt, axis=1)
            assert np.allclose(r["largest_drop_nats"], (running - ixt).max(1), atol=1e-5)
            assert (
                np.array(r["largest_drop_nats"]) >= np.array(r["compression_nats"]) - 1e-9
            ).all()
            ep = np.array(r["epochs"])
            assert r["peak_epoch"] == ep[ixt.argmax(1)].tolist()
    assert m["networks"]["noisy"][0]["kde_n_inputs"] == 48
    assert m["networks"]["noisy"][0]["estimator"] == "kde"
    assert len(m["networks"]["noisy"][0]["layer_names"]) == 5  # hidden layers: noise only there
    # exact encoders under the stochastic labels: below H_X, below I(X;Y) (data processing)
    tanh = m["networks"]["tanh"][0]
    pts = np.array(tanh["ib_points_nats"])
    assert (pts[:, 0] <= h_x + 1e-9).all()
    assert (pts[:, 1] <= tanh["I_XY_stochastic_nats"] + 1e-9).all()
    assert tanh["I_XY_stochastic_nats"] == pytest.approx(0.38796, abs=1e-4)


def test_protocol_is_recorded_and_named_in_the_verdicts(tiny_run):
    _, m = tiny_run
    assert m["protocol"]["optimizer"] == "adam" and m["protocol"]["train_fraction"] == 0.8
    assert m["protocol"]["name"].startswith("IDNNs release settings, 6 epochs")
    assert m["protocol"]["line"] in m["verdicts"][0]["claim"]
    assert [v["held"] in (True, False, None) for v in m["verdicts"]] == [True] * 5


def test_split_sizes_and_paper_text_preset():
    tr, te = split_inputs(4096, 0.8, 0)
    assert len(tr) == 3277 and len(te) == 819 and not set(tr) & set(te)
    cfg = load_config(CONFIG, preset="paper_text")
    assert cfg["training"]["optimizer"] == "sgd" and cfg["data"]["train_fraction"] == 0.85
    full = load_config(CONFIG, preset="full")
    assert full["training"]["epochs"] == 8000 and full["training"]["lr"] == 4e-4
    assert full["training"]["batch_size"] == 512 and full["training"]["n_records"] == 270


def test_end_of_fitting_and_layer_status():
    assert end_of_fitting(np.array([0, 1, 5, 50]), np.array([0.1, 0.2, 0.5, 0.6]), 0.8) == 5
    assert layer_status([0.5, 0.7, 0.6], 0.1) == "compresses"
    assert layer_status([0.0, 0.01, 0.02], 0.1) == "does not"
    assert layer_status([0.0, 0.4, 0.05], 0.1) == "undecided"
    assert layer_status([0.3], 0.1) == "compresses"  # one seed: zero-width interval


def _runs(drops_per_seed, fit=0.5):
    n = len(drops_per_seed[0])
    return [
        {
            "layer_names": [f"hidden_{i + 1}" for i in range(n)] + ["output"],
            "hidden_layers": list(range(n)),
            "compression_nats": [*d, 0.0],
            "largest_drop_nats": [*d, 0.0],
            "fit_gain_nats": fit,
            "seed": s,
        }
        for s, d in enumerate(drops_per_seed)
    ]


@pytest.mark.parametrize(
    ("drops", "expect", "fit", "held"),
    [
        ([[0.5, 0.4, 0.6, 0, 0]] * 3, True, 0.5, True),
        ([[0.5, 0.4, 0.6, 0, 0]] * 3, True, 0.0, False),  # no fitting
        ([[0.5, 0.0, 0.0, 0, 0]] * 3, True, 0.5, False),  # 1 of 5 compresses
        ([[0.5, 0.4, 0.0, 0, 0], [0.5, 0.0, 0.9, 0, 0], [0.5, 0.1, 0.5, 0, 0]], True, 0.5, None),
        ([[0.0] * 5, [0.01] * 5, [0.0] * 5], False, 0.5, True),
        ([[0.0, 0.5, 0, 0, 0], [0.0, 0.6, 0, 0, 0], [0.0, 0.55, 0, 0, 0]], False, 0.5, False),
        ([[0.0, 0.5, 0, 0, 0], [0.0, 0.0, 0, 0, 0], [0.0, 0.2, 0, 0, 0]], False, 0.5, None),
    ],
)
def test_compression_verdict_rule(drops, expect, fit, held):
    v = _compression_verdict(_runs(drops, fit), 0.1, "claim", expect, fit_required=expect)
    assert v.held is held


@pytest.mark.parametrize(
    ("transitions", "held"),
    [([(100, 150), (80, 60)], True), ([(100, 5000), (80, 60)], None), ([(None, 50)], False)],
)
def test_snr_verdict_rule(transitions, held):
    runs = [
        {
            "seed": s,
            "transition_epoch": t,
            "fit_end_epoch": f,
            "snr_status": "measured",
            "log10_snr_before": 0.3,
            "log10_snr_after": -0.6,
        }
        for s, (t, f) in enumerate(transitions)
    ]
    assert _snr_verdict(runs, window=0.5, min_drop=0.5).held is held


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("training.epoch=5", "training.epoch: unknown key"),
        ("networks=[tanh, sigmoid]", "networks"),
        ("network.widths=[10, 5, 2]", "network.widths"),
        ("binning.tanh_range=[1.0, -1.0]", "binning.tanh_range"),
        ("training.optimizer=rmsprop", "training.optimizer"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_same_seed_same_metrics(tiny_run, tmp_path):
    _, m = tiny_run
    again, _ = run_experiment(
        CONFIG, out=tmp_path / "again", preset="smoke", overrides=TINY, quiet=True
    )
    assert json.loads((again / "metrics.json").read_text()) == m
