"""layerwise_vs_backprop study: baselines equal plain scikit-learn, tuning equals a direct call,
claims decide per data set with the linear/RBF gap as premise."""

import json

import numpy as np
import pytest
from sklearn.svm import SVC, LinearSVC

from structlearn.config import ConfigError
from structlearn.data.tabular import load_table, split_table
from structlearn.experiment import load_config, run_experiment
from structlearn.models.redunet import ReduNet
from structlearn.models.svm_tuning import tune
from structlearn.studies.claims import evaluate
from structlearn.studies.layerwise_vs_backprop import STUDY

CONFIG = "experiments/layerwise_vs_backprop.yaml"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("layerwise") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_baselines_and_tuning_equal_direct_calls(smoke):
    folder, m = smoke
    config = json.loads((folder / "config.json").read_text())
    d = config["data"]
    for seed_metrics in m["seeds"]:
        seed = seed_metrics["seed"]
        for res in seed_metrics["datasets"].values():
            X, y = load_table(res["source"], random_state=config["seed"])
            s = split_table(X, y, d["test_size"], seed, max_samples=d["max_samples"])
            acc = res["accuracy"]
            lin = (
                LinearSVC(C=1.0, random_state=seed)
                .fit(s.X_train, s.y_train)
                .score(s.X_test, s.y_test)
            )
            rbf = SVC(C=1.0).fit(s.X_train, s.y_train).score(s.X_test, s.y_test)
            assert acc["linear_svm"] == [pytest.approx(lin)]
            assert acc["rbf_svm"] == [pytest.approx(rbf)]
            # R²SVM's first layer is a LinearSVC with the same C on the same input
            assert acc["r2svm"][0] == pytest.approx(lin, abs=0.02)
            net = ReduNet(n_layers=2, eta=0.5, eps=0.5, lmbda=500.0).fit(s.X_train, s.y_train)
            assert acc["redunet"][-1] == pytest.approx(net.score(s.X_test, s.y_test))
            t = config["tuning"]
            grid = [{"C": c} for c in t["C"]]
            chosen = tune("linear", s.X_train, s.y_train, grid, n_folds=t["n_folds"], seed=seed)
            assert res["tuned"]["linear"]["params"] == chosen
            assert 1 <= res["tuned"]["r2svm"]["params"]["n_layers"] <= config["r2svm"]["n_layers"]
    names = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert names == ["accuracy_by_depth", "accuracy_vs_time", "r2svm_tuned"]


def _seed(gap=0.3, r2_minus_lin=0.05, r2_minus_rbf=-0.2, ctl=0.0, jitter=0.0):
    lin = 0.6
    tuned = {"linear": {"accuracy": lin}, "rbf": {"accuracy": lin + gap},
             "r2svm": {"accuracy": lin + r2_minus_lin + jitter}}  # fmt: skip
    data = {"tuned": tuned,
            "accuracy": {"r2svm": [lin, lin + r2_minus_lin], "linear_svm": [lin], "rbf_svm": [lin + gap]},
            "shuffled_labels": {"r2svm": 0.5 + ctl + jitter, "linear": 0.5, "rbf": 0.5}}  # fmt: skip
    return {"datasets": {"multiplexer": data}}


def _verdicts(seeds):
    config = load_config(CONFIG, overrides=["data.datasets=[multiplexer]"])
    return [evaluate(c, seeds) for c in STUDY.claims(config)]


def test_claims_decide_per_data_set():
    seeds = [_seed(jitter=0.01 * (i - 1)) for i in range(3)]
    v = _verdicts(seeds)
    assert [x.verdict for x in v] == ["held", "held"]
    # where the linear SVM is as good as the RBF SVM, the claim cannot show
    v = _verdicts([_seed(gap=0.0, jitter=0.01 * (i - 1)) for i in range(3)])
    assert [x.verdict for x in v] == ["premise not met", "premise not met"]
    v = _verdicts(
        [_seed(r2_minus_lin=-0.1, r2_minus_rbf=0.1, jitter=0.01 * (i - 1)) for i in range(3)]
    )
    assert v[0].verdict == "not held"
    # R²SVM "beating" the linear SVM on shuffled labels as well voids the win
    v = _verdicts([_seed(ctl=0.05, jitter=0.01 * (i - 1)) for i in range(3)])
    assert v[0].display == "not held (control passes too)"


def test_a_labelled_npz_file_is_a_data_set(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 60)
    X = rng.standard_normal((120, 4)) + np.outer(y, [1.5, 0, 0, 0])
    np.savez(tmp_path / "t.npz", X=X, y=y)
    folder, _ = run_experiment(
        CONFIG, out=tmp_path / "r", preset="smoke", quiet=True,
        overrides=[f"data.datasets=[npz:{tmp_path / 't.npz'}]", "n_seeds=1", "methods=[linear_svm, rbf_svm, r2svm]"],
    )  # fmt: skip
    m = json.loads((folder / "metrics.json").read_text())
    res = m["seeds"][0]["datasets"]["t_npz"]
    assert res["source"] == f"npz:{tmp_path / 't.npz'}"
    assert res["n_train"] == 90 and res["n_features"] == 4
    assert res["accuracy"]["linear_svm"][0] > 0.7


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("r2svm.n_layer=3", "r2svm.n_layer: unknown key"),
        ("methods=[r2svm, deep_svm]", "methods"),
        ("data.datasets=[iris, cifar]", "data.datasets"),
        ("mlp.depths=[1, 1]", "mlp.depths"),
        ("tuning.n_folds=1", "tuning.n_folds"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()
