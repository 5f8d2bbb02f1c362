"""layerwise_vs_backprop study: baselines equal plain scikit-learn, R²SVM's first layer is the linear
SVM, nearest subspace equals a brute-force reference and ReduNet's own predict, verdict rules."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.models.redunet import ReduNet
from structlearn.studies._stats import mean_interval
from structlearn.studies.layerwise_vs_backprop import (
    count_outcomes,
    nearest_subspace_predict,
    verdicts,
)

CONFIG = "experiments/layerwise_vs_backprop.yaml"
LOADERS = {"iris": load_iris, "wine": load_wine}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("layerwise_vs_backprop") / "run"
    folder, _ = run_experiment(CONFIG, out=out, preset="smoke", quiet=True)
    return folder, json.loads((folder / "metrics.json").read_text())


def _plain_split(name, seed):
    X, y = LOADERS[name](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def test_baselines_equal_plain_scikit_learn_and_r2svm_layer_one_is_the_linear_svm(tiny_run):
    _, m = tiny_run
    for name, res in m["results"].items():
        for i, seed in enumerate(m["seeds"]):
            Xtr, Xte, ytr, yte = _plain_split(name, seed)
            lin = LinearSVC(C=1.0).fit(Xtr, ytr).score(Xte, yte)
            rbf = SVC(C=1.0).fit(Xtr, ytr).score(Xte, yte)
            methods = res["methods"]
            assert methods["linear_svm"]["accuracy_per_seed"][i] == [pytest.approx(lin)]
            assert methods["rbf_svm"]["accuracy_per_seed"][i] == [pytest.approx(rbf)]
            # the first R²SVM layer is a LinearSVC (same C, primal solver) on the same input
            assert methods["r2svm"]["accuracy_per_seed"][i][0] == pytest.approx(lin)
            # ReduNet scored by our nearest subspace at the last layer = ReduNet's own predict
            net = ReduNet(n_layers=3, eta=0.5, eps=0.5, lmbda=500.0).fit(Xtr, ytr)
            assert methods["redunet"]["accuracy_per_seed"][i][-1] == pytest.approx(
                net.score(Xte, yte)
            )
            delta_r = methods["redunet"]["delta_R_nats_per_seed"][i]
            assert delta_r == pytest.approx(net.delta_R_.tolist())


def test_paired_differences_and_summary_follow_from_per_seed_accuracies(tiny_run):
    _, m = tiny_run
    for name, res in m["results"].items():
        r2 = np.array(res["methods"]["r2svm"]["accuracy_per_seed"])[:, -1]
        for base in ("linear_svm", "rbf_svm"):
            b = np.array(res["methods"][base]["accuracy_per_seed"])[:, -1]
            expected = mean_interval(r2 - b).to_dict()
            assert m[f"r2svm_minus_{base}"][name] == pytest.approx(expected)
        for method in res["methods"].values():
            acc = np.array(method["accuracy_per_seed"])
            assert method["accuracy_mean"] == pytest.approx(acc.mean(0).tolist())
            assert np.all((acc >= 0) & (acc <= 1))
    assert [v["held"] for v in m["verdicts"]] == [
        v.held for v in verdicts({k: m[k] for k in m if k.startswith("r2svm_minus")})
    ]


def test_same_seed_same_metrics_for_the_trained_learners(tiny_run, tmp_path):
    folder, m = tiny_run
    learners = ["sparse_coding", "mlp_ce", "mlp_mcr2"]
    again, _ = run_experiment(
        CONFIG,
        out=tmp_path / "again",
        preset="smoke",
        overrides=[f"methods=[{', '.join(learners)}]"],
        quiet=True,
    )
    m2 = json.loads((again / "metrics.json").read_text())
    for name in m["results"]:
        for method in learners:
            assert m2["results"][name]["methods"][method] == m["results"][name]["methods"][method]
    names = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert names == ["accuracy_by_depth", "accuracy_vs_time", "r2svm_differences"]


def _brute_force_nearest_subspace(Z_train, y_train, Z_test, r):
    """Residual of least-squares projection on each class's top-r singular directions."""
    preds = []
    for z in Z_test:
        residuals = []
        for j in np.unique(y_train):
            _, _, Vt = np.linalg.svd(Z_train[y_train == j])
            B = Vt[:r].T
            coef, *_ = np.linalg.lstsq(B, z, rcond=None)
            residuals.append(np.linalg.norm(z - B @ coef))
        preds.append(int(np.argmin(residuals)))
    return np.array(preds)


def test_nearest_subspace_equals_brute_force_and_is_permutation_invariant():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 15)
    bases = rng.standard_normal((3, 6, 2))
    Z = np.stack([bases[c] @ rng.standard_normal(2) for c in y]) + 0.3 * rng.standard_normal(
        (45, 6)
    )
    Zt = rng.standard_normal((30, 6))
    pred = nearest_subspace_predict(Z, y, Zt, n_components=2)
    assert np.array_equal(pred, _brute_force_nearest_subspace(Z, y, Zt, 2))
    perm = rng.permutation(45)
    assert np.array_equal(nearest_subspace_predict(Z[perm], y[perm], Zt, n_components=2), pred)
    # points drawn from class subspaces are classified to their class
    own = np.stack([bases[c] @ rng.standard_normal(2) for c in y])
    assert np.array_equal(nearest_subspace_predict(Z, y, own, n_components=2), y)


def _diffs(means, half=0.01):
    return {
        f"d{i}": {"mean": v, "low": v - half, "high": v + half, "n": 3} for i, v in enumerate(means)
    }


@pytest.mark.parametrize(
    ("linear", "rbf", "held"),
    [
        ([0.02, 0.01, 0.03, -0.01], [-0.02, -0.01, -0.03, -0.04], [True, True]),
        ([0.02, 0.0, -0.01, -0.01], [-0.02, 0.01, 0.03, -0.04], [False, False]),  # 1 win; 2 losses
        ([0.02, 0.01, 0.0, 0.0], [-0.02, -0.01, -0.03, 0.0], [False, True]),  # 2 of 4 not most
        ([0.02], [-0.02], [None, None]),  # one data set: no tally
    ],
)
def test_verdict_rules_on_constructed_metrics(linear, rbf, held):
    metrics = {"r2svm_minus_linear_svm": _diffs(linear), "r2svm_minus_rbf_svm": _diffs(rbf)}
    assert [v.held for v in verdicts(metrics)] == held


def test_count_outcomes_separates_mean_and_interval_tallies():
    d = _diffs([0.02, 0.005, -0.03], half=0.01)
    assert count_outcomes(d) == {
        "n": 3,
        "wins": 2,
        "losses": 1,
        "significant_wins": 1,
        "significant_losses": 1,
    }


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("r2svm.n_layer=3", "r2svm.n_layer: unknown key"),
        ("methods=[r2svm, deep_svm]", "methods"),
        ("data.datasets=[iris, mnist]", "data.datasets"),
        ("mlp.depths=[1, 1]", "mlp.depths"),
        ("svm.gamma=0.1", "svm.gamma"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)
    assert not (tmp_path / "r").exists()
