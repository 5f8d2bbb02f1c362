"""Config validation: unknown keys, wrong types and out-of-range values name the dotted key."""

import pytest

from structlearn.config import ConfigError, Field, load_yaml, parse_override, resolve_config

SCHEMA = {
    "seed": Field(int, 0, low=0),
    "data": {
        "n": Field(int, 10, low=1),
        "grid": Field(list, [3, 3], item=int, length=2, low=1),
        "eps": Field(float, 0.5, low=1e-9),
        "kind": Field(str, "a", choices=["a", "b"]),
        "whiten": Field(bool, True),
    },
}


def test_defaults_fill_missing_keys_and_file_values_win():
    cfg = resolve_config(SCHEMA, {"data": {"n": 7}})
    assert cfg == {
        "seed": 0,
        "data": {"n": 7, "grid": [3, 3], "eps": 0.5, "kind": "a", "whiten": True},
    }


def test_overrides_and_presets_apply_in_order():
    cfg = resolve_config(
        SCHEMA, {"data": {"n": 7}}, preset={"data.n": 8, "seed": 4}, overrides=["data.n=9"]
    )
    assert (cfg["data"]["n"], cfg["seed"]) == (9, 4)
    assert resolve_config(SCHEMA, {}, overrides=["data.grid=[2, 5]"])["data"]["grid"] == [2, 5]


def test_int_is_accepted_as_float_and_converted():
    cfg = resolve_config(SCHEMA, {"data": {"eps": 1}})
    assert cfg["data"]["eps"] == 1.0 and isinstance(cfg["data"]["eps"], float)


@pytest.mark.parametrize(
    ("config", "overrides", "match"),
    [
        ({"data": {"nn": 3}}, [], r"^data\.nn: unknown key"),
        ({"bogus": 1}, [], r"^bogus: unknown key"),
        ({}, ["data.typo=3"], r"^data\.typo: unknown key"),
        ({"data": {"n": "ten"}}, [], r"^data\.n: expected int >= 1 <= 1000000, got 'ten'"),
        ({"data": {"n": 0}}, [], r"^data\.n: expected int >= 1 <= 1000000, got 0"),
        ({"data": {"n": True}}, [], r"^data\.n: expected int"),
        ({"data": {"n": 2.5}}, [], r"^data\.n: expected int"),
        ({"data": {"grid": [0, 3]}}, [], r"^data\.grid: expected list of int of length 2 >= 1"),
        ({"data": {"grid": [3]}}, [], r"^data\.grid: expected"),
        ({"data": {"eps": 0.0}}, [], r"^data\.eps: expected float >= 1e-09, got 0.0"),
        ({"data": {"eps": float("nan")}}, [], r"^data\.eps: expected float"),
        ({"data": {"kind": "c"}}, [], r"^data\.kind: expected one of 'a', 'b', got 'c'"),
        ({"data": {"whiten": "yes"}}, [], r"^data\.whiten: expected bool"),
        ({"data": 5}, [], r"^data: expected a mapping"),
        ({"seed": None}, [], r"^seed: expected int"),
    ],
)
def test_bad_values_name_the_key(config, overrides, match):
    with pytest.raises(ConfigError, match=match):
        resolve_config(SCHEMA, config, overrides=overrides)


def test_override_needs_key_equals_value():
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override("data.n")
    assert parse_override("a.b=[1, 2]") == ("a.b", [1, 2])
    assert parse_override("a=0.5") == ("a", 0.5)


def test_yaml_that_does_not_parse_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: x\ndata: [1, 2\nseed: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML at line \d+"):
        load_yaml(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_yaml(listy)
