"""information_plane study: the plane at epoch 0 equals a plain binning of the initial network,
information bounds hold, the claims decide from per-seed values, config errors name the key."""

import json

import numpy as np
import pytest
import torch

from structlearn.config import ConfigError
from structlearn.data.tishby import load_tishby_task
from structlearn.experiment import load_config, run_experiment
from structlearn.studies.claims import evaluate
from structlearn.studies.information_plane import STUDY, build_model, split_inputs

CONFIG = "experiments/information_plane.yaml"
TINY = ["training.epochs=6", "training.n_records=5", "kde.n_inputs=48", "kde.n_epochs=3"]
HIDDEN = [f"hidden_{i}" for i in range(1, 6)]


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
    h_t = -sum(c / n * np.log(c / n) for c in np.bincount(t))
    h_t_given_y = 0.0
    for label in np.unique(y):
        sub = t[y == label]
        counts = np.bincount(sub)
        counts = counts[counts > 0]
        h_t_given_y -= len(sub) / n * (counts / len(sub) * np.log(counts / len(sub))).sum()
    return h_t, h_t - h_t_given_y


def test_epoch0_plane_equals_plain_binning_of_the_initial_network(tiny_run):
    """Epoch 0 is the initial network, rebuilt here from the seed: every layer's I(X;T) and
    I(T;Y) equals a plain count of binned rows (softmax output, bins on [-1, 1])."""
    folder, m = tiny_run
    config = json.loads((folder / "config.json").read_text())
    task = load_tishby_task()
    seed = m["seeds"][1]
    curves = seed["tanh"]["curves"]
    assert curves["epochs"][0] == 0
    model = build_model("tanh", config, seed["seed"]).eval()
    with torch.no_grad():
        taps = [t.numpy().astype(np.float64) for t in model(torch.as_tensor(task.X).float())]
    taps[-1] = np.exp(taps[-1]) / np.exp(taps[-1]).sum(1, keepdims=True)
    for i, acts in enumerate(taps):
        h, i_ty = _plain_binned_information(acts, task.y, 30, -1.0, 1.0)
        assert curves["I_XT_nats"][i][0] == pytest.approx(h, abs=1e-5)
        assert curves["I_TY_nats"][i][0] == pytest.approx(i_ty, abs=1e-5)


def test_information_bounds_and_compression_bookkeeping(tiny_run):
    _, m = tiny_run
    y = load_tishby_task().y
    p = np.bincount(y) / len(y)
    h_y = -(p * np.log(p)).sum()
    for s in m["seeds"]:
        for kind in ("tanh", "relu", "noisy"):
            r = s[kind]
            ixt, ity = np.array(r["curves"]["I_XT_nats"]), np.array(r["curves"]["I_TY_nats"])
            assert r["H_X_nats"] == pytest.approx(np.log(48 if kind == "noisy" else 4096))
            assert (ixt >= 0).all() and (ixt <= r["H_X_nats"] + 1e-6).all(), kind
            assert (ity >= 0).all() and (ity <= h_y + 1e-6).all(), kind
            layers = list(r["layers"].values())
            assert len(layers) == (5 if kind == "noisy" else 6)  # noise only in hidden layers
            drop = [v["compression_nats"] for v in layers]
            assert np.allclose(drop, ixt.max(1) - ixt[:, -1], atol=1e-5)
            running = np.maximum.accumulate(ixt, axis=1)
            largest = [v["largest_drop_nats"] for v in layers]
            assert np.allclose(largest, (running - ixt).max(1), atol=1e-5)
            ep = np.array(r["curves"]["epochs"])
            assert [v["peak_epoch"] for v in layers] == ep[ixt.argmax(1)].tolist()
        # exact encoders under the stochastic labels: below H_X, below I(X;Y) (data processing)
        ib = s["tanh"]["ib"]
        assert ib["I_XY_nats"] == pytest.approx(0.38796, abs=1e-4)
        for v in ib["layers"].values():
            assert v["ib_I_XT_nats"] <= np.log(4096) + 1e-9
            assert v["ib_I_TY_nats"] <= ib["I_XY_nats"] + 1e-9
            assert v["ib_gap_nats"] >= -1e-9


def test_protocol_is_recorded(tiny_run):
    _, m = tiny_run
    assert m["protocol"]["optimizer"] == "adam" and m["protocol"]["train_fraction"] == 0.8
    assert m["protocol"]["name"].startswith("IDNNs release settings, 6 epochs")


def test_split_sizes_and_presets():
    tr, te = split_inputs(4096, 0.8, 0)
    assert len(tr) == 3277 and len(te) == 819 and not set(tr) & set(te)
    cfg = load_config(CONFIG, preset="paper_text")
    assert cfg["training"]["optimizer"] == "sgd" and cfg["data"]["train_fraction"] == 0.85
    full = load_config(CONFIG, preset="full")
    assert full["training"]["epochs"] == 8000 and full["training"]["lr"] == 4e-4
    assert full["training"]["batch_size"] == 512 and full["training"]["n_records"] == 270


def _seed(drops, *, fit=0.5, tanh_drops=None):
    """Hand-made metrics of one seed: per hidden layer drops (tanh, relu), a fitted network."""

    def net(d):
        layers = {n: {"compression_nats": x, "largest_drop_nats": x} for n, x in zip(HIDDEN, d)}
        layers["output"] = {"compression_nats": 0.0, "largest_drop_nats": 0.0}
        ity = [[0.0, fit]] * 6
        return {"layers": layers, "curves": {"I_TY_nats": ity}, "H_X_nats": 8.3}

    return {"tanh": net(tanh_drops if tanh_drops is not None else drops), "relu": net(drops)}


def _claim(config, starts):
    return next(c for c in STUDY.claims(config) if c.text.startswith(starts))


def test_does_not_compress_is_decided_from_per_seed_drops():
    """Issue 12: drops 0.099, 0.001, 0.000 against 0.1 is 'does not', not 'undecided'."""
    config = load_config(CONFIG)
    claim = _claim(config, "ReLU + binning")
    seeds = [
        _seed([0.0, 0.0, 0.0, 0.0, d], tanh_drops=[0, 0, 0, 0, 2.0]) for d in (0.099, 0.001, 0)
    ]
    v = evaluate(claim, seeds)
    assert v.verdict == "held" and v.measured["text"] == "3 of 3 seeds below 0.1"
    # the tanh control does not compress either: the rule cannot tell the activations apart
    flat = [_seed([0.0, 0.0, 0.0, 0.0, d]) for d in (0.099, 0.001, 0)]
    assert evaluate(claim, flat).display == "not held (control passes too)"
    assert evaluate(claim, [_seed([0, 0, 0, 0, 0.5])] * 3).verdict == "not held"


@pytest.mark.parametrize(
    ("drops", "fit", "verdict"),
    [
        ([[0.5, 0.4, 0.6, 0, 0]] * 3, 0.5, "held"),
        ([[0.5, 0.4, 0.6, 0, 0]] * 3, 0.0, "premise not met"),  # no fitting
        ([[0.5, 0.0, 0.0, 0, 0]] * 3, 0.5, "not held"),  # 1 of 5 compresses
        ([[0.5, 0.4, 0.6, 0, 0], [0.5, 0, 0, 0, 0], [0.5, 0.4, 0.6, 0, 0]], 0.5, "undecided"),
    ],
)
def test_compression_claim_counts_seeds(drops, fit, verdict):
    config = load_config(CONFIG)
    v = evaluate(_claim(config, "tanh + binning"), [_seed(d, fit=fit) for d in drops])
    assert v.verdict == verdict


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("training.epoch=5", "training.epoch: unknown key"),
        ("networks=[tanh, sigmoid]", "networks"),
        ("networks=[relu]", "networks: the ReLU and noisy claims"),
        ("network.hidden=[]", "network.hidden"),
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
