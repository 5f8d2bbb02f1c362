"""Study configs: plain data, a declarative schema, dotted overrides, and errors that name the key.

A config is a nested dict read from YAML. Each study declares its schema as nested dicts whose leaves
are :class:`Field` objects; :func:`resolve_config` merges defaults, the file, an optional preset and
``key=value`` overrides, and checks every key against the schema before any work starts: an unknown
key, a wrong type or an out-of-range value raises :class:`ConfigError` with one line naming the
dotted key, what was expected and what came (the CLI turns it into exit status 2).

Example
-------
>>> schema = {"seed": Field(int, 0, low=0), "data": {"n": Field(int, 10, low=1)}}
>>> resolve_config(schema, {"data": {"n": 5}}, overrides=["seed=3"])
{'seed': 3, 'data': {'n': 5}}
>>> resolve_config(schema, {"data": {"m": 5}})
Traceback (most recent call last):
...
structlearn.config.ConfigError: data.m: unknown key; expected one of: data.n
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config key is unknown, has the wrong type, or is out of range."""


@dataclass(frozen=True)
class Field:
    """One config leaf.

    Parameters
    ----------
    type : expected type: int, float, bool, str, list, dict, or a tuple of them; float accepts ints.
    default : value used when the key is absent.
    low, high : inclusive bounds for numbers (or for list lengths when ``type`` is list). An
        ``int`` field without ``high`` is a count and gets ``MAX_COUNT`` = 10**6 (stated in errors).
    choices : allowed values.
    item : type of list items (checked when given).
    length : required list length.
    nullable : whether ``None`` (YAML ``null``) is allowed.
    doc : one line shown by ``structlearn list`` and in errors.
    subset_of : for lists: every item must be one of these (a non-empty subset: set ``low=1``).
    unique : for lists: no item may repeat.
    interval : for lists of two numbers: ``[low, high]`` with ``low <= high``.

    >>> f = Field(list, ["a"], item=str, subset_of=("a", "b"), unique=True, low=1)
    >>> _check_leaf("methods", f, ["b", "a"])
    ['b', 'a']
    >>> _check_leaf("methods", f, ["a", "a"])
    Traceback (most recent call last):
    ...
    structlearn.config.ConfigError: methods: expected a non-empty list of distinct items from 'a', 'b', got ['a', 'a']
    """

    type: type | tuple[type, ...]
    default: Any
    low: float | None = None
    high: float | None = None
    choices: Sequence[Any] | None = None
    item: type | tuple[type, ...] | None = None
    length: int | None = None
    nullable: bool = False
    doc: str = ""
    subset_of: Sequence[Any] | None = None
    unique: bool = False
    interval: bool = False

    def describe(self) -> str:
        if self.subset_of is not None:
            size = "non-empty " if self.low is not None and self.low >= 1 else ""
            distinct = "distinct " if self.unique else ""
            items = ", ".join(repr(c) for c in self.subset_of)
            return f"a {size}list of {distinct}items from {items}"
        if self.interval:
            bounds = ""
            if self.low is not None or self.high is not None:
                bounds = f" within [{self.low}, {self.high}]"
            return f"[low, high] with low <= high{bounds}"
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        out = " or ".join(t.__name__ for t in types)
        if self.item is not None:
            items = self.item if isinstance(self.item, tuple) else (self.item,)
            out += " of " + "/".join(t.__name__ for t in items)
        if self.length is not None:
            out += f" of length {self.length}"
        if self.choices is not None:
            out = "one of " + ", ".join(repr(c) for c in self.choices)
        if self.low is not None:
            out += f" >= {self.low}"
        high = _high(self)
        if high is not None:
            out += f" <= {high}"
        if self.nullable:
            out += " or null"
        return out


Schema = Mapping[str, "Field | Schema"]

#: Upper bound of an int field that states none: counts (samples, units, epochs, resamples) of
#: ``10**9`` are typos that would run for days or allocate terabytes.
MAX_COUNT = 10**6


def _high(field: Field) -> float | None:
    """The field's upper bound: its own, else ``MAX_COUNT`` for a count (an int field)."""
    if field.high is not None:
        return field.high
    types = field.type if isinstance(field.type, tuple) else (field.type,)
    items = field.item if isinstance(field.item, tuple) else (field.item,)
    counts = types == (int,) or (list in types and items == (int,))
    return MAX_COUNT if counts else None


def _type_ok(value: Any, types: type | tuple[type, ...]) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    for t in types:
        if t is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if t is int and isinstance(value, bool):
            continue
        if isinstance(value, t):
            return True
    return False


def _check_leaf(key: str, field: Field, value: Any) -> Any:
    def fail(why: str = "") -> ConfigError:
        return ConfigError(f"{key}: expected {field.describe()}, got {value!r}{why}")

    if value is None:
        if field.nullable:
            return None
        raise fail()
    if isinstance(value, tuple):
        value = list(value)
    if not _type_ok(value, field.type):
        raise fail()
    if field.choices is not None and value not in field.choices:
        raise fail()
    if isinstance(value, float) and not math.isfinite(value):
        raise fail()
    if isinstance(value, list):
        if field.length is not None and len(value) != field.length:
            raise fail()
        if field.item is not None and not all(_type_ok(v, field.item) for v in value):
            raise fail()
        _check_list_shape(field, value, fail)
        if field.subset_of is not None:
            return value
        numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        numbers = [value]
    else:
        numbers = []
    for v in numbers:
        high = _high(field)
        if (field.low is not None and v < field.low) or (high is not None and v > high):
            raise fail()
    if field.type is float and isinstance(value, int):
        value = float(value)
    return value


def _check_list_shape(field: Field, value: list, fail: Any) -> None:
    """The list-level constraints: ``subset_of``, ``unique``, ``interval`` and the length bounds."""
    if field.subset_of is not None:
        if any(v not in field.subset_of for v in value):
            raise fail()
        if field.low is not None and len(value) < field.low:
            raise fail()
    if field.unique and len({repr(v) for v in value}) != len(value):
        raise fail()
    if field.interval:
        nums = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        if len(value) != 2 or not nums or not value[0] <= value[1]:
            raise fail()


def seeds_fragment(default: int = 3, high: int = 1000) -> dict[str, Field]:
    """The ``n_seeds`` key every study shares: how many seeds the runner measures."""
    return {
        "n_seeds": Field(
            int,
            default,
            low=1,
            high=high,
            doc="seeds measured (seed, seed+1, ...); verdicts use all",
        )
    }


def training_fragment(**defaults: Any) -> dict[str, Field]:
    """The ``training`` section of a study that trains with :func:`structlearn.train.train`.

    One declaration for every study (derived from :class:`structlearn.train.TrainConfig`); a study
    passes its own defaults. Turn the section into a config with
    :func:`structlearn.train.TrainConfig.from_section`.

    >>> sorted(training_fragment(epochs=5))[:3]
    ['batch_size', 'epochs', 'lr']
    >>> training_fragment(epochs=5)["epochs"].default
    5
    """
    base: dict[str, Any] = {
        "optimizer": "adam",
        "lr": 1e-3,
        "momentum": 0.0,
        "weight_decay": 0.0,
        "epochs": 100,
        "batch_size": 256,
    }
    unknown = sorted(set(defaults) - set(base) - {"n_records", "ensemble"})
    if unknown:
        raise ValueError(f"defaults: unknown training key(s) {unknown}; known: {sorted(base)}")
    base.update({k: v for k, v in defaults.items() if k in base})
    out = {
        "optimizer": Field(str, base["optimizer"], choices=["sgd", "adam"]),
        "lr": Field(float, base["lr"], low=1e-12, high=10.0, doc="learning rate"),
        "momentum": Field(float, base["momentum"], low=0.0, high=0.999, doc="SGD only"),
        "weight_decay": Field(float, base["weight_decay"], low=0.0, high=10.0),
        "epochs": Field(int, base["epochs"], low=1, high=10**6),
        "batch_size": Field(
            int, base["batch_size"], low=1, high=10**7, nullable=True, doc="null: full batch"
        ),
    }
    if "n_records" in defaults:
        out["n_records"] = Field(
            int, defaults["n_records"], low=1, high=10**5, doc="log-spaced recorded epochs"
        )
    if "ensemble" in defaults:
        out["ensemble"] = Field(
            bool, defaults["ensemble"], doc="train the seeds' networks together (same results)"
        )
    return out


def _leaves(schema: Schema, prefix: str = "") -> list[str]:
    out = []
    for k, v in schema.items():
        key = f"{prefix}{k}"
        out.extend(_leaves(v, key + ".") if isinstance(v, Mapping) else [key])
    return out


def defaults(schema: Schema) -> dict[str, Any]:
    """The config made of every field's default."""
    return {
        k: defaults(v) if isinstance(v, Mapping) else copy.deepcopy(v.default)
        for k, v in schema.items()
    }


def validate(schema: Schema, config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Check ``config`` against ``schema`` (missing keys take defaults) and return the result."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {config!r}")
    for k in config:
        if k not in schema:
            sub = {kk: schema[kk] for kk in schema}
            valid = ", ".join(
                f"{prefix}{x}" if not isinstance(sub[x], Mapping) else f"{prefix}{x}.*" for x in sub
            )
            raise ConfigError(f"{prefix}{k}: unknown key; expected one of: {valid}")
    out: dict[str, Any] = {}
    for k, spec in schema.items():
        key = f"{prefix}{k}"
        if isinstance(spec, Mapping):
            out[k] = validate(spec, config.get(k, {}) or {}, key + ".")
        else:
            out[k] = (
                _check_leaf(key, spec, config[k]) if k in config else copy.deepcopy(spec.default)
            )
    return out


def set_dotted(config: dict[str, Any], key: str, value: Any) -> None:
    """Set ``config["a"]["b"] = value`` for ``key = "a.b"`` (creating inner dicts)."""
    parts = key.split(".")
    node = config
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{key}: {p} is a value, not a section; cannot set a key inside it")
        node = nxt
    node[parts[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` (value read as YAML: ``n=5`` -> 5, ``grid=[2,2]`` -> [2, 2])."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. data.n_samples=5000")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {text!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{key}: could not parse value {raw!r} ({exc.__class__.__name__})"
        ) from None
    return key, value


def resolve_config(
    schema: Schema,
    config: Mapping[str, Any] | None,
    *,
    overrides: Sequence[str] = (),
    preset: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``config``, then a ``preset`` (dotted key -> value), then ``overrides`` and validate.

    The schema's unknown-key check runs on the merged result, so a misspelt override fails as loudly
    as a misspelt file key.
    """
    merged = copy.deepcopy(dict(config or {}))
    for key, value in (preset or {}).items():
        _check_not_section(schema, key, value, "preset")
        set_dotted(merged, key, value)
    for text in overrides:
        key, value = parse_override(text)
        _check_not_section(schema, key, value, "--set")
        set_dotted(merged, key, value)
    return validate(schema, merged)


def _check_not_section(schema: Schema, key: str, value: Any, how: str) -> None:
    """Refuse replacing a whole section with a value (``--set data=null`` would silently drop
    the section, preset included, and run on defaults)."""
    node: Any = schema
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return  # unknown keys are reported by validate(), with the list of known ones
        node = node[part]
    if isinstance(node, Mapping) and not isinstance(value, Mapping):
        first = next(iter(_leaves(node)), "")
        raise ConfigError(
            f"{key}: is a section, not a value; {how} cannot set it to "
            f"{'null' if value is None else repr(value)}. "
            f"Set its keys instead, e.g. {key}.{first}=..."
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (PyYAML
    keeps the last one silently, so ``seed: 0`` ... ``seed: 7`` would run seed 7)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} given twice (lines {seen[key]} and {line})",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a file that does not parse or is not a mapping raises ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
            f"{exc.start}); save the config as UTF-8"
        ) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    return data


def describe_schema(schema: Schema) -> list[tuple[str, str, Any]]:
    """Rows (dotted key, expected, default) for documentation and ``structlearn list -v``."""
    rows = []
    for key in _leaves(schema):
        node: Any = schema
        for p in key.split("."):
            node = node[p]
        rows.append((key, node.describe() + (f"  -- {node.doc}" if node.doc else ""), node.default))
    return rows
