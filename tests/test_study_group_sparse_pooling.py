"""group_sparse_pooling study: the group dictionary learner (monotone energy, planted groups
recovered), the similarity and invariance measures against plain references, verdict rules, config
errors and reproducibility."""

import copy
import json

import numpy as np
import pytest

from structlearn.config import ConfigError
from structlearn.experiment import run_experiment
from structlearn.studies.group_sparse_pooling import (
    _patches,
    code_invariance,
    group_lasso_energy,
    group_similarity,
    sign_free_shift_similarity,
    train_group_dictionary,
    verdicts,
)
from structlearn.utils.spams import group_sparse_encode

CONFIG = "experiments/group_sparse_pooling.yaml"
TINY = [
    "n_seeds=1",
    "data.images=[camera, coins]",
    "data.patch_size=5",
    "data.n_train=600",
    "group_coding.n_atoms=8",
    "group_coding.group_size=2",
    "group_coding.n_iter=5",
    "group_coding.batch_size=200",
    "l1_coding.n_iter=20",
    "invariance.n_pairs=100",
    "invariance.shifts=[1]",
]


def test_batch_alternation_never_increases_the_energy():
    rng = np.random.default_rng(0)
    X = rng.laplace(size=(400, 10)) @ rng.standard_normal((10, 10))
    res = train_group_dictionary(
        X, 12, 3, lambda1=0.3, n_iter=12, batch_size=10_000, forget_window=1, random_state=1
    )
    steps = np.diff(res.energy)
    assert np.all(steps <= 1e-5 * res.energy[0])
    assert res.energy[-1] < 0.9 * res.energy[0]
    assert np.all(np.linalg.norm(res.components, axis=1) <= 1 + 1e-12)
    # the energy reported is the energy of the codes the wrapper returns for those atoms
    codes = group_sparse_encode(X, res.components, res.groups, lambda1=0.3, max_iter=500)
    assert group_lasso_energy(X, res.components, codes, res.groups, 0.3) <= res.energy[-1] + 1e-9


def test_planted_group_dictionary_is_an_attractor():
    """Data made of one active group at a time of a known dictionary (orthonormal atoms, groups of
    2). Started from the planted atoms mixed with noise (across groups too), the learner
    returns to them: every learned group spans its planted group's subspace. (From a random start
    alternating minimisation can settle with groups that mix two planted ones: a local minimum.)"""
    rng = np.random.default_rng(0)
    n_features, group_size, n_groups, n = 12, 2, 4, 1500
    D_true = np.linalg.qr(rng.standard_normal((n_features, n_features)))[0][: group_size * n_groups]
    codes = np.zeros((n, group_size * n_groups))
    for i, g in enumerate(rng.integers(n_groups, size=n)):
        codes[i, g * group_size : (g + 1) * group_size] = rng.standard_normal(group_size) * 3
    X = codes @ D_true + 0.01 * rng.standard_normal((n, n_features))
    noisy = D_true + 0.6 * np.random.default_rng(1).standard_normal(D_true.shape) / np.sqrt(
        n_features
    )
    res = train_group_dictionary(
        X, group_size * n_groups, group_size, lambda1=0.1, n_iter=40, batch_size=500, init=noisy
    )

    def captured(D, h):
        learned = D[h * group_size : (h + 1) * group_size]
        P = D_true[h * group_size : (h + 1) * group_size]
        return np.linalg.norm(learned @ P.T) ** 2 / np.linalg.norm(learned) ** 2

    before = [captured(noisy, h) for h in range(n_groups)]
    after = [captured(res.components, h) for h in range(n_groups)]
    assert np.mean(before) < 0.85
    assert min(after) > 0.93
    assert all(a > b for a, b in zip(after, before, strict=True))


def test_group_similarity_and_invariance_match_plain_loops():
    rng = np.random.default_rng(3)
    S = rng.uniform(-1, 1, size=(6, 6))
    S = (S + S.T) / 2
    groups = np.array([0, 0, 1, 1, 2, 2])
    within = [S[i, j] for i in range(6) for j in range(6) if i != j and groups[i] == groups[j]]
    between = [S[i, j] for i in range(6) for j in range(6) if groups[i] != groups[j]]
    assert group_similarity(S, groups) == pytest.approx((np.mean(within), np.mean(between)))
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    b[:, 3] = 1.0  # a constant unit is left out
    ref = np.mean([np.corrcoef(a[:, k], b[:, k])[0, 1] for k in range(3)])
    assert code_invariance(a, b) == pytest.approx(ref, rel=1e-12)


def test_sign_free_similarity_finds_shifted_negated_copies():
    base = np.zeros((7, 7))
    base[2:4, 2:5] = [[1.0, -2.0, 1.0], [0.5, -1.0, 0.5]]
    moved = -np.roll(base, (1, 2), axis=(0, 1))
    other = np.zeros((7, 7))
    other[1:6, 3] = 1.0
    D = np.stack([base.ravel(), moved.ravel(), other.ravel()])
    S = sign_free_shift_similarity(D, (7, 7), 1)
    assert S[0, 1] == pytest.approx(1.0)
    assert S[0, 2] < 0.7


def test_shifted_patch_pairs_are_the_same_scene_moved():
    img = np.arange(400.0).reshape(20, 20)  # value = 20 * row + col
    a, b = _patches([img], 50, 4, 2, np.random.default_rng(0))
    diff = (b - a)[:, 0]
    assert set(np.unique(diff)) <= {2.0, -2.0, 40.0, -40.0}
    assert np.allclose(b - a, diff[:, None])


def _per_seed(within=0.6, between=0.3, l1_within=0.3, pooled=0.8, single=0.6, l1_gain=0.1):
    inv = {"1": {"pooled": pooled, "single": single}, "2": {"pooled": pooled, "single": single}}
    l1 = {
        "1": {"pooled": 0.5 + l1_gain, "single": 0.5},
        "2": {"pooled": 0.5 + l1_gain, "single": 0.5},
    }
    row = {
        "group": {"similarity_within": within, "similarity_between": between, "invariance": inv},
        "l1": {"similarity_within": l1_within, "similarity_between": 0.3, "invariance": l1},
    }
    return [copy.deepcopy(row), copy.deepcopy(row)]


@pytest.mark.parametrize(
    ("kwargs", "held"),
    [
        ({}, [True, True, True]),
        ({"within": 0.35}, [False, True, True]),
        ({"l1_within": 0.7}, [False, True, True]),
        ({"pooled": 0.55}, [True, False, False]),
        ({"l1_gain": 0.3}, [True, True, False]),
    ],
)
def test_verdict_rules_on_constructed_metrics(kwargs, held):
    assert [v.held for v in verdicts(_per_seed(**kwargs), [1, 2], 0.1)] == held


def test_tiny_run_is_reproducible(tmp_path):
    folders = [
        run_experiment(CONFIG, out=tmp_path / n, preset="smoke", overrides=TINY, quiet=True)[0]
        for n in ("a", "b")
    ]
    ma, mb = (json.loads((f / "metrics.json").read_text()) for f in folders)
    assert ma == mb
    g = ma["per_seed"][0]["group"]
    assert -1.0 <= g["similarity_between"] <= 1.0 and 0 < g["groups_used"] <= 4
    assert sorted(p.stem for p in (folders[0] / "figures").glob("*.png")) == [
        "dictionaries",
        "group_similarity",
        "shift_invariance",
        "training_energy",
    ]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("group_coding.n_atom=8", "group_coding.n_atom: unknown key"),
        ("group_coding.n_atoms=18", "group_coding.n_atoms"),
        ("data.patch_size=600", "data.patch_size"),
        ("data.images=[nonsense]", "data.images"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(override, key, tmp_path):
    with pytest.raises(ConfigError, match=key):
        run_experiment(CONFIG, out=tmp_path / "r", preset="smoke", overrides=[override], quiet=True)


def test_train_group_dictionary_rejects_bad_arguments():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match="n_atoms"):
        train_group_dictionary(X, 5, 2, lambda1=0.1)
    with pytest.raises(ValueError, match="lambda1"):
        train_group_dictionary(X, 4, 2, lambda1=0.0)
