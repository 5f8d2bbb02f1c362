"""Ensembles: each network of a StackedMLP trained by train_ensemble equals train() with its seed.

Bitwise: initial weights, minibatch order, noise streams, the optimiser's elementwise update, and
resume vs an uninterrupted ensemble. Within float32 rounding (batched products sum in another
order, tanh as 2 sigmoid(2z) - 1): weights, activations and gradient statistics after 200 epochs.
"""

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler

from structlearn import ensemble as ens
from structlearn.ensemble import (
    epoch_noise_seed,
    minibatch_order,
    network_dir,
    recording_bytes,
    train_ensemble,
)
from structlearn.models.mlp import MLP
from structlearn.models.stacked_mlp import StackedMLP, fast_tanh
from structlearn.objectives.stacked import (
    StackedCrossEntropy,
    StackedSquaredError,
    class_argmax,
    stacked_objective,
)
from structlearn.objectives.supervised import CrossEntropy, MeanSquaredError
from structlearn.recordings import load_recordings
from structlearn.train import TrainConfig, _seed_epoch, train

pytestmark = pytest.mark.usefixtures("one_thread")


def task(n=96, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def params_of(model):
    return [p.detach().clone() for p in model.parameters()]


# ------------------------------------------------------------------------------ bitwise pieces
@pytest.mark.parametrize(("n", "seed", "epoch"), [(7, 0, 1), (100, 3, 17), (3277, 41, 8000)])
def test_minibatch_order_is_the_single_trainers(n, seed, epoch):
    sampler = DistributedSampler(range(n), num_replicas=1, rank=0, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    assert minibatch_order(n, seed, epoch).tolist() == list(iter(sampler))


def test_noise_seed_is_the_single_trainers():
    _seed_epoch(7, 0, 12)
    expected = torch.randn(40, 3)
    got = torch.randn((40, 3), generator=torch.Generator().manual_seed(epoch_noise_seed(7, 12)))
    assert torch.equal(expected, got)


def test_from_mlps_copies_bitwise_and_forward_agrees():
    nets = [MLP([6, 5, 4, 3], "tanh", random_state=s) for s in (4, 9)]
    stacked = StackedMLP.from_mlps(nets)
    for i, net in enumerate(nets):
        back = stacked.network(i)
        for a, b in zip(net.parameters(), back.parameters()):
            assert torch.equal(a, b)
    x = torch.randn(11, 6, generator=torch.Generator().manual_seed(0))
    taps = stacked(x)
    assert [tuple(t.shape) for t in taps] == [(2, 11, 5), (2, 11, 4), (2, 11, 3)]
    for i, net in enumerate(nets):
        for t_s, t_1 in zip(taps, net(x)):
            assert float((t_s[i] - t_1).detach().abs().max()) < 1e-6
    per_network = stacked(torch.stack([x, 2 * x]))
    assert float((per_network[-1][1] - nets[1](2 * x)[-1]).detach().abs().max()) < 1e-6


def test_fast_tanh_value_and_gradient():
    z = torch.linspace(-12, 12, 20001, dtype=torch.float32, requires_grad=True)
    y = fast_tanh(z)
    assert float((y - torch.tanh(z)).detach().abs().max()) < 2.5e-7
    (g,) = torch.autograd.grad(y.sum(), z)
    assert float((g - (1 - torch.tanh(z.detach()) ** 2)).abs().max()) < 5e-7


@pytest.mark.parametrize(
    "make",
    [
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-3),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    ],
)
def test_one_optimiser_over_stacked_tensors_is_s_separate_ones_bitwise(make):
    gen = torch.Generator().manual_seed(0)
    S = 4
    stacked = torch.nn.Parameter(torch.randn(S, 5, 3, generator=gen))
    separate = [torch.nn.Parameter(stacked.detach()[s].clone()) for s in range(S)]
    opt, opts = make([stacked]), [make([p]) for p in separate]
    for _ in range(6):
        grad = torch.randn(S, 5, 3, generator=gen)
        stacked.grad = grad.clone()
        opt.step()
        for s, (p, o) in enumerate(zip(separate, opts)):
            p.grad = grad[s].clone()
            o.step()
    for s in range(S):
        assert torch.equal(stacked.detach()[s], separate[s].detach())


def test_class_argmax_is_torch_argmax_with_ties():
    scores = torch.randint(0, 3, (5, 4, 50), generator=torch.Generator().manual_seed(1)).float()
    assert torch.equal(class_argmax(scores), scores.argmax(dim=1))


def test_stacked_losses_equal_the_single_ones():
    gen = torch.Generator().manual_seed(2)
    logits, labels = (
        torch.randn(3, 20, 4, generator=gen),
        torch.randint(0, 4, (3, 20), generator=gen),
    )
    loss = StackedCrossEntropy()([logits], labels)
    for s in range(3):
        single = CrossEntropy()(logits[s], labels[s])
        assert abs(float(loss.total[s]) - float(single.total)) < 1e-6
        assert float(loss.parts["accuracy"][s]) == pytest.approx(single.parts["accuracy"])
    pred, target = torch.randn(3, 20, 2, generator=gen), torch.randn(3, 20, 2, generator=gen)
    mse = StackedSquaredError()([pred], target).total
    for s in range(3):
        assert abs(float(mse[s]) - MeanSquaredError()(pred[s], target[s]).parts["mse"]) < 1e-6


# ------------------------------------------------------------------------------ vs train()
def compare(single, member, model, index, single_model, atol_w, atol_act, rtol_grad):
    """Tolerances measured (tanh/Adam with noise, relu/SGD momentum, 200 epochs): weights within
    2e-6, activations within 2e-6, gradient norms within 2e-5 relative."""
    for a, b in zip(single_model.parameters(), model.network(index).parameters()):
        assert float((a.detach() - b.detach()).abs().max()) < atol_w
    ra, rb = single.recordings, member.recordings
    assert ra.epochs.tolist() == rb.epochs.tolist()
    for layer in range(ra.n_layers):
        diff = np.abs(ra.activations[layer] - rb.activations[layer]).max()
        assert diff < atol_act
    np.testing.assert_allclose(rb.gradient_mean, ra.gradient_mean, rtol=rtol_grad)
    np.testing.assert_allclose(rb.gradient_std, ra.gradient_std, rtol=rtol_grad)
    la = [r["train_loss"] for r in single.history[1:]]
    lb = [r["train_loss"] for r in member.history[1:]]
    np.testing.assert_allclose(lb, la, rtol=1e-4)
    assert single.final_metrics.keys() == member.final_metrics.keys()


@pytest.mark.parametrize(
    ("optimizer", "widths", "activation", "noise"),
    [
        ("adam", [6, 8, 5, 2], "tanh", 0.2),  # noisy tanh, per-network train splits
        ("sgd", [6, 7, 2], "relu", 0.0),
    ],
)
def test_each_network_matches_the_single_trainer_after_200_epochs(
    optimizer, widths, activation, noise
):
    X, y = task()
    seeds = [3, 8, 21]
    splits = [np.sort(np.random.default_rng(s).permutation(96)[:64]) for s in seeds]
    config = TrainConfig(
        optimizer=optimizer,
        lr=0.01 if optimizer == "adam" else 0.05,
        momentum=0.0 if optimizer == "adam" else 0.9,
        epochs=200,
        batch_size=32,
        n_records=12,
        activation_dtype="float32",
    )
    nets = [MLP(widths, activation, noise_std=noise, random_state=s) for s in seeds]
    model = StackedMLP.from_mlps(nets)
    data = (np.stack([X[i] for i in splits]), np.stack([y[i] for i in splits]))
    result = train_ensemble(
        model, CrossEntropy(), data, eval_data=(X, y), seeds=seeds, config=config
    )
    for i, s in enumerate(seeds):
        net = MLP(widths, activation, noise_std=noise, random_state=s)
        single = train(
            net,
            CrossEntropy(),
            (X[splits[i]], y[splits[i]]),
            eval_data=(X, y),
            config=TrainConfig(**{**config.to_dict(), "seed": s}),
        )
        compare(single, result.networks[i], model, i, net, 1e-4, 1e-4, 1e-3)
        assert result.networks[i].config["seed"] == s


def test_shared_order_gives_identical_networks_from_identical_starts():
    X, y = task()
    config = TrainConfig(optimizer="adam", lr=0.01, epochs=15, batch_size=16, record_epochs="none")
    for order, expect_equal in (("shared", True), ("per_network", False)):
        model = StackedMLP.from_mlps([MLP([6, 5, 2], "tanh", random_state=0) for _ in range(3)])
        train_ensemble(
            model, CrossEntropy(), (X, y), seeds=[0, 1, 2], config=config, minibatch_order=order
        )
        gap = max(float((w[0] - w[2]).detach().abs().max()) for w in model.weights)
        # batched products of identical slices may round differently (kernel per alignment)
        assert (gap < 1e-5) is expect_equal, gap


# ------------------------------------------------------------------------------ files, resume
class InterruptAt(StackedCrossEntropy):
    def __init__(self, n_calls):
        super().__init__()
        self.left = n_calls

    def forward(self, taps, targets):
        if self.training:
            self.left -= 1
            if self.left == 0:
                raise KeyboardInterrupt
        return super().forward(taps, targets)


def make_model(noise=0.1):
    return StackedMLP.from_mlps(
        [MLP([6, 5, 4, 2], "tanh", noise_std=noise, random_state=s) for s in (1, 2)]
    )


@pytest.mark.parametrize("flush_bytes", [None, 1])
def test_resume_equals_uninterrupted_bitwise(tmp_path, monkeypatch, flush_bytes):
    if flush_bytes is not None:  # force parts written between checkpoints
        monkeypatch.setattr(ens, "FLUSH_BYTES", flush_bytes)
    X, y = task()
    config = TrainConfig(
        optimizer="adam",
        lr=0.01,
        epochs=14,
        batch_size=32,
        lr_schedule="step",
        lr_step_size=5,
        lr_gamma=0.5,
        n_records=9,
        checkpoint_every=4,
    )
    ref_model = make_model()
    ref = train_ensemble(
        ref_model, CrossEntropy(), (X, y), seeds=[5, 6], config=config, out_dir=tmp_path / "a"
    )
    model = make_model()
    with pytest.raises(KeyboardInterrupt):  # during epoch 10 (3 minibatches per epoch)
        train_ensemble(
            model, InterruptAt(29), (X, y), seeds=[5, 6], config=config, out_dir=tmp_path / "b"
        )
    model = make_model()
    got = train_ensemble(
        model,
        CrossEntropy(),
        (X, y),
        seeds=[5, 6],
        config=config,
        out_dir=tmp_path / "b",
        resume=True,
    )
    assert got.resumed_from == 9
    for a, b in zip(ref_model.parameters(), model.parameters()):
        assert torch.equal(a, b)
    for i in range(2):
        ra, rb = ref.networks[i].recordings, got.networks[i].recordings
        assert ra.epochs.tolist() == rb.epochs.tolist() == rb.epochs.tolist()
        for layer in range(ra.n_layers):
            assert np.array_equal(ra.activations[layer], rb.activations[layer])
        assert np.array_equal(ra.gradient_mean, rb.gradient_mean)
        assert ref.networks[i].history == got.networks[i].history
        for name in ("metrics.json", "history.csv", "config.json"):
            a = (network_dir(tmp_path / "a", i) / name).read_text()
            assert a == (network_dir(tmp_path / "b", i) / name).read_text()


def test_run_folder_is_a_single_runs_folder_per_network(tmp_path):
    X, y = task()
    config = TrainConfig(optimizer="adam", lr=0.01, epochs=6, batch_size=32, n_records=4, seed=2)
    train(
        MLP([6, 5, 4, 2], "tanh", random_state=1),
        CrossEntropy(),
        (X, y),
        config=config,
        out_dir=tmp_path / "single",
    )
    train_ensemble(
        make_model(0.0),
        CrossEntropy(),
        (X, y),
        seeds=[2, 3],
        config=config,
        out_dir=tmp_path / "ens",
    )
    a = json.loads((tmp_path / "single/recordings/index.json").read_text())
    b = json.loads((network_dir(tmp_path / "ens", 0) / "recordings/index.json").read_text())
    assert a == b
    assert json.loads((network_dir(tmp_path / "ens", 1) / "config.json").read_text())["seed"] == 3
    rec = load_recordings(network_dir(tmp_path / "ens", 1))
    assert rec.activations[1].shape == (4, 96, 4) and rec.labels.tolist() == y.tolist()


def test_recording_bytes_closed_form():
    # the paper's protocol: 50 networks, 270 records, 4096 inputs, 31 units, float16
    assert recording_bytes(50, [10, 7, 5, 4, 3, 2], 270, 4096) == 50 * 270 * 4096 * 31 * 2
    assert recording_bytes(2, [3], 5, 10, "float32") == 2 * 5 * 10 * 3 * 4


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_named(tmp_path, monkeypatch):
    X, y = task()
    cfg = TrainConfig(epochs=2, batch_size=32, n_records=2)
    model = make_model(0.0)
    with pytest.raises(ValueError, match="seeds: expected one seed per network"):
        train_ensemble(model, CrossEntropy(), (X, y), seeds=[1], config=cfg)
    with pytest.raises(ValueError, match="seeds: expected a sequence of non-negative"):
        train_ensemble(model, CrossEntropy(), (X, y), seeds=[1, -2], config=cfg)
    with pytest.raises(TypeError, match="model: expected a StackedMLP"):
        train_ensemble(MLP([6, 2]), CrossEntropy(), (X, y), seeds=[1], config=cfg)
    with pytest.raises(TypeError, match="objective: MSELoss has no stacked counterpart"):
        train_ensemble(model, torch.nn.MSELoss(), (X, y), seeds=[1, 2], config=cfg)
    with pytest.raises(ValueError, match=r"train_data\[0\] \(inputs\): expected shape"):
        train_ensemble(model, CrossEntropy(), (np.stack([X] * 3), y), seeds=[1, 2], config=cfg)
    with pytest.raises(ValueError, match=r"train_data\[1\] \(targets\)"):
        train_ensemble(model, CrossEntropy(), (X, y[:10]), seeds=[1, 2], config=cfg)
    with pytest.raises(ValueError, match=r"eval_data\[0\] \(inputs\): expected 6 features"):
        train_ensemble(
            model, CrossEntropy(), (X, y), eval_data=(X[:, :4], y), seeds=[1, 2], config=cfg
        )
    with pytest.raises(ValueError, match="minibatch_order"):
        train_ensemble(
            model, CrossEntropy(), (X, y), seeds=[1, 2], config=cfg, minibatch_order="random"
        )
    with pytest.raises(ValueError, match="out_dir: resume=True needs"):
        train_ensemble(model, CrossEntropy(), (X, y), seeds=[1, 2], config=cfg, resume=True)
    with pytest.raises(ValueError, match="models: every network must share one architecture"):
        StackedMLP.from_mlps([MLP([6, 2]), MLP([6, 3])])
    monkeypatch.setattr(ens, "IN_MEMORY_LIMIT", 100)
    with pytest.raises(ValueError, match="out_dir: the recordings would hold"):
        train_ensemble(model, CrossEntropy(), (X, y), seeds=[1, 2], config=cfg)


def test_checkpoint_of_other_data_or_seeds_is_refused(tmp_path):
    X, y = task()
    cfg = TrainConfig(epochs=3, batch_size=32, n_records=2, checkpoint_every=1)
    out = tmp_path / "run"
    train_ensemble(make_model(), CrossEntropy(), (X, y), seeds=[1, 2], config=cfg, out_dir=out)
    with pytest.raises(ValueError, match="already holds a run"):
        train_ensemble(make_model(), CrossEntropy(), (X, y), seeds=[1, 2], config=cfg, out_dir=out)
    with pytest.raises(ValueError, match=r"differing keys \['seeds'\]"):
        train_ensemble(
            make_model(),
            CrossEntropy(),
            (X, y),
            seeds=[1, 3],
            config=cfg,
            out_dir=out,
            resume=True,
        )
    with pytest.raises(ValueError, match="other train_data or eval_data"):
        train_ensemble(
            make_model(),
            CrossEntropy(),
            (X + 1, y),
            seeds=[1, 2],
            config=cfg,
            out_dir=out,
            resume=True,
        )


def test_divergence_names_the_network():
    X, y = task()
    X[0, 0] = 1e30
    cfg = TrainConfig(optimizer="sgd", lr=10.0, epochs=3, batch_size=96, record_epochs="none")
    model = StackedMLP.from_mlps([MLP([6, 3, 2], "relu", random_state=s) for s in (0, 1)])
    with pytest.raises(FloatingPointError, match=r"network 0 \(seed 4\)"):
        train_ensemble(model, CrossEntropy(), (X, y), seeds=[4, 5], config=cfg)


def test_stacked_objective_mapping():
    assert isinstance(stacked_objective(CrossEntropy(tap=1)), StackedCrossEntropy)
    assert isinstance(stacked_objective(MeanSquaredError()), StackedSquaredError)
    assert stacked_objective(CrossEntropy(tap=1)).tap == 1

    class WithStacked(torch.nn.Module):
        def stacked(self):
            return StackedSquaredError()

    assert isinstance(stacked_objective(WithStacked()), StackedSquaredError)


def test_train_networks_both_paths_agree_and_update_the_models(tmp_path):
    X, y = task()
    seeds = [0, 4]
    datas = [(X[s * 8 : s * 8 + 64], y[s * 8 : s * 8 + 64]) for s in seeds]
    config = TrainConfig(optimizer="adam", lr=0.01, epochs=20, batch_size=32, n_records=5)
    runs = {}
    for flag in (True, False):
        nets = [MLP([6, 5, 2], "tanh", random_state=s) for s in seeds]
        start = params_of(nets[1])
        results = ens.train_networks(
            nets,
            CrossEntropy(),
            datas,
            seeds=seeds,
            config=config,
            eval_data=(X, y),
            ensemble=flag,
            out_dir=tmp_path / str(flag),
        )
        assert not torch.equal(start[0], nets[1].layers[0].weight.detach())  # trained in place
        runs[flag] = (nets, results)
    for i in range(2):
        for a, b in zip(runs[True][0][i].parameters(), runs[False][0][i].parameters()):
            assert float((a - b).detach().abs().max()) < 1e-5
        ra, rb = runs[True][1][i], runs[False][1][i]
        assert ra.config == rb.config and ra.config["seed"] == seeds[i]
        assert ra.final_metrics.keys() == rb.final_metrics.keys()
        assert ra.final_metrics["train_loss"] == pytest.approx(rb.final_metrics["train_loss"], 1e-5)
        assert ra.recordings.epochs.tolist() == rb.recordings.epochs.tolist()
    with pytest.raises(ValueError, match="ensemble: these networks cannot be trained together"):
        ens.train_networks(
            [MLP([6, 5, 2]), MLP([6, 4, 2])], CrossEntropy(), datas, seeds=seeds, config=config
        )


def test_train_networks_streams_big_recordings_to_a_scratch_folder(monkeypatch):
    import gc

    monkeypatch.setattr(ens, "IN_MEMORY_LIMIT", 1000)
    X, y = task()
    config = TrainConfig(optimizer="adam", lr=0.01, epochs=4, batch_size=32, n_records=3)
    nets = [MLP([6, 5, 2], "tanh", random_state=s) for s in (0, 1)]
    results = ens.train_networks(nets, CrossEntropy(), [(X, y)] * 2, seeds=[0, 1], config=config)
    folder = results[1].run_dir.parent
    assert folder.is_dir() and results[1].run_dir.name == "network-001"
    assert results[1].recordings.activations[0].shape == (3, 96, 5)
    assert results[1].recordings is not results[1].recordings  # read anew, never cached
    del results
    gc.collect()
    assert not folder.exists()


def test_regression_students_match_the_single_trainer():
    """The teacher-student setting: ReLU students, mean squared error on float targets."""
    X, _ = task()
    Y = np.tanh(X @ np.random.default_rng(1).normal(size=(6, 3))).astype(np.float32)
    config = TrainConfig(
        optimizer="adam",
        lr=0.01,
        epochs=60,
        batch_size=32,
        record_epochs="none",
        record_gradients=False,
        store_activations=False,
    )
    runs = {}
    for flag in (True, False):
        nets = [MLP([6, 8, 3], "relu", random_state=s) for s in (2, 3)]
        res = ens.train_networks(
            nets, MeanSquaredError(), [(X, Y)] * 2, seeds=[2, 3], config=config, ensemble=flag
        )
        runs[flag] = (nets, [r.final_metrics["train_mse"] for r in res])
    for a, b in zip(runs[True][0], runs[False][0]):
        for p, q in zip(a.parameters(), b.parameters()):
            assert float((p - q).detach().abs().max()) < 1e-5
    np.testing.assert_allclose(runs[True][1], runs[False][1], rtol=1e-5)
    assert runs[True][1][0] < 0.5 * float(((Y - Y.mean(0)) ** 2).sum(1).mean())  # it learned


@pytest.mark.slow
def test_paper_architecture_matches_after_200_epochs():
    """The 12-bit task as IDNNs ran it (12-10-7-5-4-3-2 tanh, Adam 4e-4, batch 512, own 80% split
    per seed, recorded on all 4,096 inputs); measured: weights 6.7e-7, activations 5.5e-6,
    gradient norms 9.2e-6 relative (benchmarks/ensemble.py, 5 networks)."""
    from structlearn.data.tishby import load_tishby_task

    data = load_tishby_task()
    X, y = data.X.astype(np.float32), data.y
    seeds = [0, 1]
    splits = [np.sort(np.random.default_rng(s).permutation(4096)[:3277]) for s in seeds]
    config = TrainConfig(
        optimizer="adam",
        lr=4e-4,
        epochs=200,
        batch_size=512,
        n_records=20,
        activation_dtype="float32",
    )
    widths = [12, 10, 7, 5, 4, 3, 2]
    model = StackedMLP.from_mlps([MLP(widths, "tanh", random_state=s) for s in seeds])
    stacked = (np.stack([X[i] for i in splits]), np.stack([y[i] for i in splits]))
    result = train_ensemble(
        model, CrossEntropy(), stacked, eval_data=(X, y), seeds=seeds, config=config
    )
    for i, s in enumerate(seeds):
        net = MLP(widths, "tanh", random_state=s)
        single = train(
            net,
            CrossEntropy(),
            (X[splits[i]], y[splits[i]]),
            eval_data=(X, y),
            config=TrainConfig(**{**config.to_dict(), "seed": s}),
        )
        compare(single, result.networks[i], model, i, net, 1e-5, 1e-4, 1e-4)


def test_full_batch_and_per_network_evaluation_sets():
    X, y = task()
    seeds = [1, 2]
    parts = [slice(0, 60), slice(30, 90)]
    config = TrainConfig(
        optimizer="sgd", lr=0.1, momentum=0.5, epochs=25, n_records=4, activation_dtype="float32"
    )  # batch_size None: full batch
    model = StackedMLP.from_mlps([MLP([6, 4, 2], "tanh", random_state=s) for s in seeds])
    train_d = (np.stack([X[p] for p in parts]), np.stack([y[p] for p in parts]))
    eval_d = (np.stack([X[p][:20] for p in parts]), np.stack([y[p][:20] for p in parts]))
    result = train_ensemble(
        model, CrossEntropy(), train_d, eval_data=eval_d, seeds=seeds, config=config
    )
    for i, s in enumerate(seeds):
        net = MLP([6, 4, 2], "tanh", random_state=s)
        single = train(
            net,
            CrossEntropy(),
            (X[parts[i]], y[parts[i]]),
            eval_data=(X[parts[i]][:20], y[parts[i]][:20]),
            config=TrainConfig(**{**config.to_dict(), "seed": s}),
        )
        compare(single, result.networks[i], model, i, net, 1e-5, 1e-5, 1e-4)
        assert result.networks[i].recordings.labels.tolist() == y[parts[i]][:20].tolist()
        assert result.networks[i].final_metrics["eval_accuracy"] == pytest.approx(
            single.final_metrics["eval_accuracy"]
        )


def test_train_classifier_mlps_same_networks_together_or_one_by_one():
    """The studies' helper: both paths give the same trained weights (float32 rounding) and the
    same per-epoch history length, and the section's batch size is capped at the sample count."""
    from structlearn.ensemble import train_classifier_mlps

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    section = {"optimizer": "adam", "lr": 0.05, "epochs": 15, "batch_size": 10**6}
    a, ra = train_classifier_mlps([3, 5, 2], "tanh", X, y, seeds=[1, 2], section=section)
    b, rb = train_classifier_mlps(
        [3, 5, 2], "tanh", X, y, seeds=[1, 2], section={**section, "ensemble": False}
    )
    for na, nb in zip(a, b):
        for pa, pb in zip(na.parameters(), nb.parameters()):
            assert torch.allclose(pa, pb, atol=1e-5)
    assert [len(r.history) for r in ra] == [len(r.history) for r in rb] == [16, 16]  # + epoch 0
    assert ra[0].history[-1]["train_accuracy"] > 0.8
