"""Scalar summaries that analyzer results declare once, so studies store them verbatim.

An analyzer result lists its scalar summaries in a ``scalars`` class attribute, ``name ->``
:class:`Scalar` (unit, direction, chance level where one exists), and :class:`Summarised` gives it
one method, :meth:`Summarised.summary`, returning ``{name_with_unit: value}``. Studies put that dict
into their per-seed metrics as it is, and claims address its keys, so a ``metrics.json`` key can be
grepped straight back to the analyzer that computed it (the torchmetrics pattern of metadata on the
metric class).

>>> from dataclasses import dataclass
>>> @dataclass
... class Toy(Summarised):
...     mi: float
...     scalars = {"mi": Scalar("nats", higher_is_better=True, doc="mutual information")}
>>> Toy(0.5).summary()
{'mi_nats': 0.5}
>>> Toy.describe_scalars()["mi_nats"]["higher_is_better"]
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

#: units that are appended to the key (``I_XT`` -> ``I_XT_nats``); others are stated only
_KEY_UNITS = ("nats", "bits", "px", "s")


@dataclass(frozen=True)
class Scalar:
    """How to read one scalar summary of a result.

    Attributes
    ----------
    unit : str
        "nats", "px", "fraction", "count", "accuracy", "" ...; nats/bits/px/s are appended to
        the key name.
    higher_is_better : bool or None
        True, False, or None where the direction depends on the question.
    chance : float, callable or None
        The value with no structure (a number, or a function of the result), or None.
    doc : str
        One line for the report and the documentation.
    """

    unit: str = ""
    higher_is_better: bool | None = None
    chance: float | Callable[[Any], float] | None = None
    doc: str = ""

    def key(self, name: str) -> str:
        suffix = f"_{self.unit}"
        if self.unit in _KEY_UNITS and not name.endswith(suffix):
            return name + suffix
        return name


class Summarised:
    """Mixin: ``summary()`` returns the declared scalars under their canonical names."""

    scalars: ClassVar[Mapping[str, Scalar]] = {}

    def summary(self) -> dict[str, float | int | None]:
        """``{name (with unit suffix): value}`` for every declared scalar, plain Python numbers."""
        out: dict[str, float | int | None] = {}
        for name, spec in self.scalars.items():
            value = getattr(self, name)
            if value is None:
                out[spec.key(name)] = None
            elif isinstance(value, bool | np.bool_):
                out[spec.key(name)] = bool(value)
            elif isinstance(value, int | np.integer):
                out[spec.key(name)] = int(value)
            else:
                out[spec.key(name)] = float(value)
        return out

    def chance_levels(self) -> dict[str, float]:
        """``{key: chance}`` for the scalars that declare a chance level."""
        out = {}
        for name, spec in self.scalars.items():
            if spec.chance is not None:
                out[spec.key(name)] = float(
                    spec.chance(self) if callable(spec.chance) else spec.chance
                )
        return out

    @classmethod
    def describe_scalars(cls) -> dict[str, dict[str, Any]]:
        """Unit, direction and meaning of every scalar (for reports and documentation)."""
        return {
            spec.key(name): {
                "unit": spec.unit,
                "higher_is_better": spec.higher_is_better,
                "doc": spec.doc,
            }
            for name, spec in cls.scalars.items()
        }


__all__ = ["Scalar", "Summarised"]
