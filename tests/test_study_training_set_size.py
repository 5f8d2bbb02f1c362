"""training_set_size: the splits, the distance to the IB curve, the controls, the config."""

from __future__ import annotations

import math

import numpy as np
import pytest

from structlearn.config import ConfigError, defaults, resolve_config
from structlearn.data.tishby import load_tishby_task
from structlearn.data.tishby_rule import tishby_joint
from structlearn.estimators import ib_curve
from structlearn.experiment import COMMON_SCHEMA
from structlearn.studies.claims import evaluate
from structlearn.studies.training_set_size import (
    STUDY,
    final_layers,
    fraction_key,
    nested_split,
)

TASK = load_tishby_task()


@pytest.mark.parametrize(("fraction", "n_train"), [(0.05, 205), (0.45, 1843), (0.85, 3482)])
def test_the_papers_fractions_train_on_round_f_times_4096_inputs(fraction, n_train):
    assert n_train == round(fraction * 4096)
    s = nested_split(TASK.X, TASK.y, fraction, seed=3)
    assert (s.train_index.size, s.test_index.size) == (n_train, 4096 - n_train)
    both = np.concatenate([s.train_index, s.test_index])
    assert np.array_equal(np.sort(both), np.arange(4096))  # a partition of the inputs


def test_smaller_training_sets_are_nested_in_larger_ones_of_the_same_seed():
    small, mid, big = (
        set(nested_split(TASK.X, TASK.y, f, 7).train_index) for f in (0.05, 0.45, 0.85)
    )
    assert small < mid < big
    other = set(nested_split(TASK.X, TASK.y, 0.05, 8).train_index)
    assert other != small  # another seed draws another subset


def test_excess_is_zero_for_the_ib_optimal_encoder_and_log_n_minus_h_y_for_the_identity():
    """Deterministic labels: the curve is min(I(X;T), H(Y)); T = Y is on it, T = X is not."""
    joint = tishby_joint(None)
    curve = ib_curve(joint, np.geomspace(0.5, 1000, 6))
    h_y = -sum(p * math.log(p) for p in joint.sum(axis=0))
    label = np.where(TASK.y[:, None] == 1, 0.9, -0.9)
    identity = np.where(TASK.X > 0.5, 0.9, -0.9)
    out = final_layers([identity, label], joint, curve, 30)
    assert out["hidden_2"]["ib_excess_nats"] == pytest.approx(0.0, abs=1e-9)
    assert out["hidden_2"]["ib_I_XT_nats"] == pytest.approx(h_y, abs=1e-9)
    assert out["hidden_1"]["ib_excess_nats"] == pytest.approx(math.log(4096) - h_y, abs=1e-9)
    assert out["hidden_1"]["ib_gap_nats"] == pytest.approx(0.0, abs=1e-9)  # vertical: blind


def test_a_layer_that_merges_nothing_more_has_no_smaller_excess():
    """Dropping input bits from a layer can only move it left, never beyond the curve."""
    joint = tishby_joint(0.5)
    curve = ib_curve(joint, np.geomspace(0.5, 1000, 8))
    identity = np.where(TASK.X > 0.5, 0.9, -0.9)
    out = final_layers([identity, identity[:, :6], identity[:, :1]], joint, curve, 30)
    xs = [out[f"hidden_{i}"]["ib_I_XT_nats"] for i in (1, 2, 3)]
    assert xs == pytest.approx([math.log(4096), math.log(64), math.log(2)], abs=1e-9)
    assert all(out[n]["ib_excess_nats"] >= -1e-9 for n in out)


def test_fraction_keys_hold_no_dots():
    assert [fraction_key(f) for f in (0.05, 0.45, 0.85, 0.125)] == ["5%", "45%", "85%", "12_5%"]


def _config(**over):
    schema = {**COMMON_SCHEMA, **STUDY.schema}
    cfg = defaults(schema)
    cfg.update(study="training_set_size", n_seeds=1, n_networks=2)
    cfg["data"]["train_fractions"] = [0.05, 0.85]
    cfg["training"].update(epochs=60, lr=0.01, batch_size=1024)  # fast, not the paper's protocol
    cfg["ib"]["n_betas"] = 6
    for k, v in over.items():
        cfg[k] = v
    return resolve_config(schema, cfg)


@pytest.fixture(scope="module")
def measured():
    cfg = _config()
    shared = STUDY.prepare(cfg)
    return cfg, STUDY.measure_seeds(cfg, [0], shared)[0].metrics


def test_true_labels_generalise_and_shuffled_labels_stay_at_chance(measured):
    _, m = measured
    big = m["fractions"]["85%"]
    assert (big["n_train"], big["n_test"]) == (3482, 614)
    assert big["trained"]["gap"]["test_accuracy"] > 0.8
    for key in ("5%", "85%"):  # held out, true labels: a network that learned no rule
        assert abs(m["fractions"][key]["shuffled"]["gap"]["test_accuracy"] - 0.5) < 0.1
        assert abs(m["fractions"][key]["untrained"]["gap"]["accuracy_gap"]) < 0.1


def test_the_held_out_claim_reads_the_change_and_its_shuffled_control_stays_near_zero(measured):
    cfg, m = measured
    verdict = evaluate(STUDY.claims(cfg)[2], [m])
    f = m["fractions"]
    assert verdict.measured["values"][0] == pytest.approx(
        f["85%"]["trained"]["gap"]["test_accuracy"] - f["5%"]["trained"]["gap"]["test_accuracy"]
    )
    ctl = verdict.controls[0]
    assert ctl["name"] == "labels shuffled"
    assert abs(ctl["measured"]["values"][0]) < 0.1
    assert verdict.measured["values"][0] > 0.0  # more of the rule seen: better held out


def test_layers_are_bounded_by_the_inputs_and_the_rule(measured):
    _, m = measured
    for f in m["fractions"].values():
        for kind in ("trained", "shuffled", "untrained"):
            for layer in f[kind]["layers"].values():
                assert -1e-9 <= layer["ib_I_XT_nats"] <= math.log(4096) + 1e-9
                assert -1e-9 <= layer["ib_I_TY_nats"] <= m["I_XY_nats"] + 1e-9
                assert layer["ib_excess_nats"] >= -1e-6 and layer["ib_gap_nats"] >= -1e-6


def test_config_refuses_other_sources_one_fraction_and_fractions_out_of_range():
    schema = {**COMMON_SCHEMA, **STUDY.schema}
    base = defaults(schema)
    with pytest.raises(ConfigError, match=r"data\.source"):
        resolve_config(schema, {**base, "data": {**base["data"], "source": "digits"}})
    with pytest.raises(ConfigError, match=r"data\.train_fractions"):
        resolve_config(schema, {**base, "data": {**base["data"], "train_fractions": [0.05, 1.0]}})
    with pytest.raises(ConfigError, match="at least two"):
        STUDY.prepare({**base, "data": {**base["data"], "train_fractions": [0.5]}})
