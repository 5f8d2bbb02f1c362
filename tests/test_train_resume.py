"""Checkpoint and resume: an interrupted-then-resumed run equals an uninterrupted one bitwise (CPU)."""

import dataclasses
import json
import os
import signal

import numpy as np
import pytest
import torch

from structlearn.checkpoint import load_checkpoint
from structlearn.models.mlp import MLP
from structlearn.objectives.supervised import CrossEntropy
from structlearn.recordings import load_recordings
from structlearn.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_thread")


def blobs(n=48, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    return (rng.normal(size=(n, d)) + 2.0 * np.eye(k, d)[y]).astype(np.float32), y


class InterruptAt(CrossEntropy):
    """Cross-entropy that raises KeyboardInterrupt (or sends SIGINT) at its n-th training call."""

    def __init__(self, n_calls, *, real_signal=False):
        super().__init__()
        self.left = n_calls
        self.real_signal = real_signal

    def forward(self, features, targets=None):
        if self.training:
            self.left -= 1
            if self.left == 0:
                if self.real_signal:
                    os.kill(os.getpid(), signal.SIGINT)
                else:
                    raise KeyboardInterrupt
        return super().forward(features, targets)


CONFIGS = {
    "adam-step-noisy": (
        TrainConfig(
            optimizer="adam",
            lr=0.01,
            epochs=12,
            batch_size=16,
            lr_schedule="step",
            lr_step_size=4,
            lr_gamma=0.5,
            n_records=8,
            checkpoint_every=5,
            seed=3,
        ),
        dict(widths=[5, 6, 4, 3], activation="tanh", noise_std=0.1),
    ),
    "sgd-momentum-cosine": (
        TrainConfig(
            optimizer="sgd",
            lr=0.05,
            momentum=0.9,
            weight_decay=1e-3,
            epochs=12,
            batch_size=20,
            lr_schedule="cosine",
            record_epochs="all",
            seed=1,
        ),
        dict(widths=[5, 4, 3], activation="relu"),
    ),
}


def run(tmp, config, net_kwargs, objective=None, **kwargs):
    net = MLP(**net_kwargs, random_state=0)
    res = train(
        net,
        objective or CrossEntropy(),
        blobs(),
        eval_data=blobs(n=24, seed=1),
        config=config,
        out_dir=tmp,
        **kwargs,
    )
    return net, res


def assert_same_run(dir_a, net_a, res_a, dir_b, net_b, res_b):
    for (name, a), b in zip(net_a.state_dict().items(), net_b.state_dict().values()):
        assert torch.equal(a, b), name
    assert res_a.final_metrics == res_b.final_metrics
    assert res_a.history == res_b.history
    ra, rb = load_recordings(dir_a), load_recordings(dir_b)
    np.testing.assert_array_equal(ra.epochs, rb.epochs)
    for la, lb in zip(ra.activations, rb.activations):
        np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(ra.gradient_mean, rb.gradient_mean)
    np.testing.assert_array_equal(ra.gradient_std, rb.gradient_std)
    assert (dir_a / "metrics.json").read_text() == (dir_b / "metrics.json").read_text()


@pytest.mark.parametrize(
    ("name", "flush_bytes", "n_parts"),
    [
        ("adam-step-noisy", None, 4),  # parts at the checkpoints 5, 7 (interrupt), 10, 12 (end)
        ("sgd-momentum-cosine", None, 2),  # 7 (interrupt), 12 (end)
        ("sgd-momentum-cosine", 1, 12),  # one per epoch, the first with epochs 0 and 1
    ],
)
def test_resume_after_keyboard_interrupt_is_bitwise_equal(
    tmp_path, monkeypatch, name, flush_bytes, n_parts
):
    if flush_bytes is not None:  # recordings written as a new part after every epoch
        monkeypatch.setattr("structlearn.train.FLUSH_BYTES", flush_bytes)
    config, net_kwargs = CONFIGS[name]
    n_batches = -(-48 // config.batch_size)
    net_a, res_a = run(tmp_path / "a", config, net_kwargs)
    # Interrupt in the middle of epoch 8: the checkpoint holds the end of epoch 7.
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", config, net_kwargs, InterruptAt(7 * n_batches + 2))
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["epoch"] == 7
    assert load_recordings(tmp_path / "b").epochs.max() <= 7
    net_b, res_b = run(tmp_path / "b", config, net_kwargs, resume=True)
    assert res_b.resumed_from == 7
    index = json.loads((tmp_path / "b" / "recordings" / "index.json").read_text())
    assert len(index["parts"]) == n_parts
    assert_same_run(tmp_path / "a", net_a, res_a, tmp_path / "b", net_b, res_b)


@pytest.fixture
def sigint_raises():
    """Python's default SIGINT handler, whatever launched pytest: a shell starts background jobs
    (``nohup``, ``cmd &``, some CI runners) with SIGINT ignored, and the signal would be lost."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_resume_after_a_real_sigint_before_the_first_epoch_ends(tmp_path, sigint_raises):
    config, net_kwargs = CONFIGS["adam-step-noisy"]
    net_a, res_a = run(tmp_path / "a", config, net_kwargs)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", config, net_kwargs, InterruptAt(2, real_signal=True))
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["epoch"] == 0
    net_b, res_b = run(tmp_path / "b", config, net_kwargs, resume=True)
    assert_same_run(tmp_path / "a", net_a, res_a, tmp_path / "b", net_b, res_b)


def test_resume_a_shorter_run_with_more_epochs(tmp_path):
    config, net_kwargs = CONFIGS["sgd-momentum-cosine"]
    config = dataclasses.replace(config, lr_schedule="none")
    net_a, res_a = run(tmp_path / "a", config, net_kwargs)
    run(tmp_path / "b", dataclasses.replace(config, epochs=5), net_kwargs)
    net_b, res_b = run(tmp_path / "b", config, net_kwargs, resume=True)
    assert res_b.resumed_from == 5
    assert_same_run(tmp_path / "a", net_a, res_a, tmp_path / "b", net_b, res_b)


def test_resuming_a_finished_run_changes_nothing(tmp_path):
    config, net_kwargs = CONFIGS["sgd-momentum-cosine"]
    _, res_a = run(tmp_path, config, net_kwargs)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    _, res_b = run(tmp_path, config, net_kwargs, resume=True)
    assert res_b.resumed_from == 12
    assert res_b.final_metrics == res_a.final_metrics
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert before == after


def test_checkpoint_from_another_config_is_refused(tmp_path):
    config, net_kwargs = CONFIGS["sgd-momentum-cosine"]
    short = dataclasses.replace(config, epochs=2, lr_schedule="none")
    run(tmp_path, short, net_kwargs)
    other = dataclasses.replace(short, lr=0.1, batch_size=12)
    with pytest.raises(ValueError, match=r"checkpoint: .*differing keys \['batch_size', 'lr'\]"):
        run(tmp_path, other, net_kwargs, resume=True)
    with pytest.raises(
        ValueError, match=r"differing parameters \['0.layers.0.bias', '0.layers.0.weight'"
    ):
        run(tmp_path, short, dict(widths=[5, 7, 3]), resume=True)
    with pytest.raises(ValueError, match="epochs: the checkpoint's cosine schedule"):
        cos = dataclasses.replace(short, lr_schedule="cosine")
        run(tmp_path / "c", cos, net_kwargs)
        run(tmp_path / "c", dataclasses.replace(cos, epochs=4), net_kwargs, resume=True)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_checkpoint_is_refused_and_nothing_is_overwritten(tmp_path, damage):
    config, net_kwargs = CONFIGS["sgd-momentum-cosine"]
    short = dataclasses.replace(config, epochs=3)
    run(tmp_path, short, net_kwargs)
    ckpt = tmp_path / "checkpoint.pt"
    raw = ckpt.read_bytes()
    bad = (
        raw[: len(raw) // 2]
        if damage == "truncate"
        else raw[:500] + bytes([raw[500] ^ 1]) + raw[501:]
    )
    ckpt.write_bytes(bad)
    files = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"checkpoint: .*checkpoint.pt is corrupt"):
        run(tmp_path, short, net_kwargs, resume=True)
    with pytest.raises(ValueError, match="out_dir"):
        run(tmp_path, short, net_kwargs)  # a fresh run does not overwrite it either
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == files


def test_missing_recording_part_is_refused(tmp_path):
    config, net_kwargs = CONFIGS["sgd-momentum-cosine"]
    short = dataclasses.replace(config, epochs=2)
    run(tmp_path, short, net_kwargs)
    (tmp_path / "recordings" / "part-00000.npz").unlink()
    with pytest.raises(ValueError, match="checkpoint: refers to recording parts"):
        run(tmp_path, short, net_kwargs, resume=True)


def test_resume_without_checkpoint_warns_and_overwrite_replaces(tmp_path):
    config, net_kwargs = CONFIGS["sgd-momentum-cosine"]
    short = dataclasses.replace(config, epochs=2)
    with pytest.warns(UserWarning, match="resume: no checkpoint"):
        _, res = run(tmp_path, short, net_kwargs, resume=True)
    assert res.resumed_from is None and len(res.history) == 3
    longer = dataclasses.replace(short, epochs=3)
    run(tmp_path, longer, net_kwargs, overwrite=True)
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 3
    assert load_recordings(tmp_path).epochs.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("activation", r"model\.activation: 'tanh' -> 'relu'"),
        ("noise", r"model\.noise_std: \(0\.1, 0\.1\) -> \(0\.0, 0\.0\)"),
        ("data", r"train_data: other arrays"),
        ("labels", r"train_data: other arrays"),
        ("eval", r"eval_data: other arrays"),
    ],
)
def test_checkpoint_of_another_model_or_data_is_refused_and_kept(tmp_path, change, expected):
    """F7: these four resumed silently (only parameter shapes and TrainConfig were compared) and
    the old checkpoint was overwritten."""
    config, net_kwargs = CONFIGS["adam-step-noisy"]
    short = dataclasses.replace(config, epochs=2)
    run(tmp_path, short, net_kwargs)
    files = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    X, y = blobs()
    kwargs, data, eval_data = dict(net_kwargs), (X, y), blobs(n=24, seed=1)
    if change == "activation":
        kwargs["activation"] = "relu"
    elif change == "noise":
        kwargs["noise_std"] = 0.0
    elif change == "data":
        data = (X + 1, y)
    elif change == "labels":
        data = (X, np.roll(y, 1))
    else:
        eval_data = (eval_data[0][::-1], eval_data[1][::-1])  # also: negative strides accepted
    with pytest.raises(
        ValueError, match=r"^checkpoint: written for another model or data; .*" + expected
    ):
        train(
            MLP(**kwargs, random_state=0),
            CrossEntropy(),
            data,
            eval_data=eval_data,
            config=short,
            out_dir=tmp_path,
            resume=True,
        )
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == files
    _, res = run(tmp_path, short, net_kwargs, resume=True)  # the matching run still resumes
    assert res.resumed_from == 2


def test_out_dir_that_is_a_file_is_named(tmp_path):
    config, net_kwargs = CONFIGS["adam-step-noisy"]
    (tmp_path / "f").write_text("keep")
    with pytest.raises(ValueError, match=r"^out_dir: .*f is a file; expected a folder"):
        run(tmp_path / "f", dataclasses.replace(config, epochs=1), net_kwargs)
    assert (tmp_path / "f").read_text() == "keep"
