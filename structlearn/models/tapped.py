"""Any ``nn.Module`` as a model that returns the outputs of chosen layers (its "taps").

structlearn's trainer, recordings, information plane (Shwartz-Ziv & Tishby 2017), probes,
teacher–student alignment and gradient signal-to-noise ratios all read a model whose ``forward``
returns the list of every layer's output. :class:`Tapped` gives a researcher's own network that
interface without rewriting it: forward hooks on the named submodules (names as in
``module.named_modules()``; ``""`` is the whole module's output) collect their outputs during the
wrapped module's own forward pass.

>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> with Tapped(net, layers=["1", "2"]) as model:
...     taps = model(torch.zeros(5, 4))
>>> [tuple(t.shape) for t in taps], model.layer_names
([(5, 8), (5, 3)], ['1', '2'])
>>> Tapped(net, layers=["3"])
Traceback (most recent call last):
...
ValueError: layers: unknown layer '3'; available: '' (Sequential), '0' (Linear), '1' (ReLU), '2' (Linear)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["Tapped"]


def _available(module: nn.Module) -> str:
    return ", ".join(f"{n!r} ({type(m).__name__})" for n, m in module.named_modules())


class Tapped(nn.Module):
    """Wrap ``module`` so that calling it returns the outputs of ``layers``, in that order.

    Parameters
    ----------
    module : nn.Module
        Any network; its own ``forward`` runs unchanged.
    layers : sequence of str
        Submodule names as in ``module.named_modules()`` (``"encoder.0"``, ``"fc2"``); ``""``
        taps the module's own output. Each must run exactly once per forward pass.

    Attributes
    ----------
    module : nn.Module
        The wrapped network (its parameters are this model's parameters).
    layer_names : list of str
        The tapped names: recordings and reports use them.
    layers : nn.ModuleList
        One group per tap, for per-layer gradient statistics: the parameters of each tapped
        submodule plus those of the modules registered between the previous tap and it, in
        ``named_modules()`` order (so tapping a ``ReLU`` counts the ``Linear`` before it).
        Parameters registered after the last tap belong to the ``""`` tap when there is one,
        else to no group. Not a child module (``state_dict`` holds ``module.*`` only).

    Notes
    -----
    A forward pass returns a list of tensors of shape ``(batch, ...)``; a tapped submodule that
    returns a tuple (an LSTM) contributes its first element. A layer that does not run, or runs
    twice (a shared module), raises a RuntimeError naming it. Hooks are removed by
    :meth:`close` or on leaving a ``with`` block; a closed model raises when called.
    """

    def __init__(self, module: nn.Module, layers: Sequence[str]) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
        if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
            raise ValueError(
                f"layers: expected a non-empty list of submodule names, got {layers!r}; "
                f"available: {_available(module)}"
            )
        named = dict(module.named_modules())
        for name in layers:
            if not isinstance(name, str) or name not in named:
                raise ValueError(f"layers: unknown layer {name!r}; available: {_available(module)}")
        if len(set(layers)) != len(layers):
            raise ValueError(f"layers: each layer once, got {list(layers)}")
        self.module = module
        self.layer_names = list(layers)
        object.__setattr__(self, "layers", _gradient_groups(module, self.layer_names))
        self._outputs: dict[str, list[torch.Tensor]] = {}
        self._handles = [
            named[name].register_forward_hook(self._hook(name)) for name in self.layer_names
        ]

    def _hook(self, name: str) -> Any:
        def store(_module: nn.Module, _inputs: Any, output: Any) -> None:
            if isinstance(output, tuple | list) and output and torch.is_tensor(output[0]):
                output = output[0]
            if not torch.is_tensor(output):
                raise TypeError(
                    f"layers: {name!r} returned {type(output).__name__}, not a tensor; tap a "
                    "submodule that returns one"
                )
            self._outputs.setdefault(name, []).append(output)

        return store

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Run the wrapped module on ``x``; returns the tapped outputs in ``layer_names`` order."""
        if not self._handles:
            raise RuntimeError("Tapped: this model was closed; wrap the module again")
        self._outputs = {}
        try:
            self.module(x)
            taps = []
            for name in self.layer_names:
                got = self._outputs.get(name, [])
                if len(got) != 1:
                    raise RuntimeError(
                        f"layers: {name!r} ran {len(got)} times in one forward pass; tap "
                        "submodules that run exactly once"
                    )
                taps.append(got[0])
        finally:
            self._outputs = {}
        return taps

    def close(self) -> None:
        """Remove the forward hooks (the wrapped module is left as it was)."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> Tapped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extra_repr(self) -> str:
        return f"layers={self.layer_names}"


def _gradient_groups(module: nn.Module, names: list[str]) -> nn.ModuleList:
    """Per tap, the modules whose parameters it stands for (see :class:`Tapped`)."""
    order = [n for n, _ in module.named_modules()]
    mods = dict(module.named_modules())
    position = {n: i for i, n in enumerate(order)}
    taps = sorted(names, key=position.__getitem__)
    groups: dict[str, list[nn.Module]] = {n: [] for n in names}
    for n in order:
        inside = [t for t in taps if t and (n == t or n.startswith(t + "."))]
        later = (t for t in taps if t and position[t] >= position[n])
        owner = inside[-1] if inside else next(later, "" if "" in groups else None)
        if owner is not None and any(True for _ in mods[n].parameters(recurse=False)):
            groups[owner].append(mods[n])
    return nn.ModuleList(_Group(groups[n]) for n in names)


class _Group(nn.Module):
    """Modules whose parameters make one gradient group."""

    def __init__(self, modules: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(modules)
