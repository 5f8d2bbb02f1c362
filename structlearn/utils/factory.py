"""Models and objectives named by import path in a config, so a researcher brings their own.

::

    model:
      factory: my_lab.nets:make_resnet      # package.module:callable (a class or a function)
      kwargs: {width: 64}
      layers: [layer1, layer2, fc]           # names from named_modules(); [] = the model as is
    objective:
      factory: my_lab.losses:InfoNCE        # must build a torch.nn.Module
      kwargs: {temperature: 0.1}

:func:`build_model` calls the factory with the kwargs and, when ``layers`` are given, wraps the
result in :class:`~structlearn.models.tapped.Tapped`; :func:`build_objective` calls its factory.
Every failure is one line naming the key: a module that does not import, a missing attribute, a
factory that is not callable, kwargs it refuses, or a result of the wrong type. The working
directory is searched last for modules (after installed packages, which it cannot shadow), so a
``my_models.py`` beside the config works with the ``structlearn`` command.

A study declares the sections with :func:`factory_fragment`::

    SCHEMA = {"model": factory_fragment("model", "structlearn.models.mlp:MLP", kwargs={...}), ...}
    model = build_model(config["model"])
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from structlearn.config import ConfigError, Field

__all__ = ["FactoryPath", "build_model", "build_objective", "factory_fragment", "resolve_factory"]

_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class FactoryPath(tuple):
    """``choices`` of a factory field: shows the pattern in errors, admits any ``module:attr``."""

    def __new__(cls) -> FactoryPath:
        return super().__new__(cls, ["package.module:callable"])

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and bool(_PATH.match(value))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return ()


def factory_fragment(
    kind: str, default: str | None = None, *, kwargs: Mapping[str, Any] | None = None
) -> dict[str, Field]:
    """The ``model`` or ``objective`` section of a schema: ``factory``, ``kwargs`` (and ``layers``).

    >>> from structlearn.config import validate
    >>> schema = {"model": factory_fragment("model")}
    >>> validate(schema, {"model": {"factory": "torch.nn:Linear", "kwargs": {"in_features": 3}}})
    {'model': {'factory': 'torch.nn:Linear', 'kwargs': {'in_features': 3}, 'layers': []}}
    >>> validate(schema, {"model": {"factory": "torch.nn.Linear"}})
    Traceback (most recent call last):
    ...
    structlearn.config.ConfigError: model.factory: expected one of 'package.module:callable' or null, got 'torch.nn.Linear'
    """
    if kind not in ("model", "objective"):
        raise ValueError(f"kind: expected 'model' or 'objective', got {kind!r}")
    out = {
        "factory": Field(
            str,
            default,
            choices=FactoryPath(),
            nullable=True,
            doc=f"import path of a callable building the {kind} (null: the study's own)",
        ),
        "kwargs": Field(dict, dict(kwargs or {}), doc="keyword arguments of the factory"),
    }
    if kind == "model":
        out["layers"] = Field(
            list, [], item=str, doc="submodules to record (named_modules names); []: as is"
        )
    return out


def resolve_factory(path: str, key: str = "factory") -> Callable[..., Any]:
    """Import ``"package.module:attr.sub"`` and return the callable; errors name ``key``.

    >>> resolve_factory("torch.nn:Linear").__name__
    'Linear'
    >>> resolve_factory("torch.nn:Linearr", "model.factory")
    Traceback (most recent call last):
    ...
    structlearn.config.ConfigError: model.factory: module 'torch.nn' has no attribute 'Linearr'
    """
    if not isinstance(path, str) or not _PATH.match(path):
        raise ConfigError(f"{key}: expected 'package.module:callable', got {path!r}")
    module_name, attr = path.split(":")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or the module's own code failing on import
        raise ConfigError(
            f"{key}: cannot import module {module_name!r} ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        if added:
            sys.path.remove(cwd)
    obj: Any = module
    for i, part in enumerate(attr.split(".")):
        if not hasattr(obj, part):
            where = module_name + "".join("." + p for p in attr.split(".")[:i])
            raise ConfigError(f"{key}: module {where!r} has no attribute {part!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"{key}: {path!r} is a {type(obj).__name__}, not a callable")
    return obj


def _call(section: Mapping[str, Any], key: str) -> Any:
    path = section.get("factory")
    kwargs = section.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{key}.kwargs: expected a mapping, got {kwargs!r}")
    factory = resolve_factory(path, f"{key}.factory")
    try:
        return factory(**kwargs)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ConfigError(
            f"{key}.kwargs: {path}(**{dict(kwargs)}) failed: {type(exc).__name__}: {first}"
        ) from None


def build_model(section: Mapping[str, Any], key: str = "model") -> Any:
    """Call the section's factory; wrap the module in ``Tapped`` when ``layers`` are given.

    Returns
    -------
    torch.nn.Module
        The factory's module, or ``Tapped(module, layers)``.
    """
    from torch import nn

    from structlearn.models.tapped import Tapped

    model = _call(section, key)
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"{key}.factory: {section['factory']!r} returned {type(model).__name__}, expected a "
            "torch.nn.Module"
        )
    layers = section.get("layers") or []
    if not layers:
        return model
    try:
        return Tapped(model, layers)
    except ValueError as exc:
        raise ConfigError(f"{key}.{exc}") from None


def build_objective(section: Mapping[str, Any], key: str = "objective") -> Any:
    """Call the section's factory; the result must be a ``torch.nn.Module`` (losses are modules).

    An objective is called as ``objective(taps, targets) -> Loss(total, parts)`` by the trainer
    (see :class:`structlearn.objectives.base.Objective`).
    """
    from torch import nn

    objective = _call(section, key)
    if not isinstance(objective, nn.Module):
        raise ConfigError(
            f"{key}.factory: {section['factory']!r} returned {type(objective).__name__}, expected "
            "a torch.nn.Module (an Objective)"
        )
    return objective
