"""S fully connected networks of one architecture, held as stacked weights and run as one.

The information-plane protocol of Shwartz-Ziv & Tishby (2017), "Opening the black box of deep
neural networks via information", averages 50 randomly initialised 12-10-7-5-4-3-2 networks; each
is so small that a training step costs the per-call overhead of PyTorch, not arithmetic. Stacking
the S networks' weights, ``weight_l`` of shape ``(S, n_out, n_in)``, turns S small products into one
batched product (``torch.baddbmm``) per layer.

Layout (measured in ``benchmarks/ensemble.py``): activations are kept *feature-major*,
``(S, n_units, batch)``, so each product is ``W_l (n_out, n_in) @ H (n_in, batch)`` with the long
batch axis last, which the batched BLAS kernels run 5-9x faster than the row-major
``H (batch, n_in) @ W_l^T`` for these widths. The taps handed out are row-major views
``(S, batch, n_units)``.

``tanh`` is computed as :math:`2\\sigma(2z) - 1` with :math:`\\sigma` the logistic function (within
2e-7 of ``torch.tanh``, whose CPU kernel runs about 6x slower here); its gradient is
:math:`1 - \\tanh^2`, as ``torch.tanh``'s. Network ``s`` computes what :class:`MLP` computes up to
float32 rounding: the products sum in another order and tanh differs by at most 2e-7.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from structlearn.models.mlp import MLP


class _FastTanh(torch.autograd.Function):
    """:math:`\\tanh z = 2\\sigma(2z) - 1`; backward :math:`g (1 - \\tanh^2 z)`."""

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        y = torch.sigmoid(z * 2.0).mul_(2.0).sub_(1.0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


def fast_tanh(z: torch.Tensor) -> torch.Tensor:
    """:math:`\\tanh z` as :math:`2\\sigma(2z) - 1` (absolute error <= 2e-7 in float32).

    >>> z = torch.linspace(-8, 8, 1001)
    >>> bool((fast_tanh(z) - torch.tanh(z)).abs().max() < 2.5e-7)
    True
    """
    return _FastTanh.apply(z)


_FEATURE_MAJOR = {
    "tanh": fast_tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "linear": lambda z: z,
}


class StackedMLP(nn.Module):
    """S networks ``widths[0] -> ... -> widths[-1]`` with independent weights, run together.

    Build it from S :class:`MLP` networks with :meth:`from_mlps` (so that network ``s`` starts
    from exactly the weights the single-network path gives for its seed, whatever initialisation
    produced them) and read network ``s`` back as an :class:`MLP` with :meth:`network`.

    Parameters
    ----------
    n_networks : int
        S.
    widths, activation, output_activation, noise_std, bias
        As :class:`MLP`; shared by every network.

    Attributes
    ----------
    weights : nn.ParameterList
        ``weights[l]`` of shape ``(S, widths[l + 1], widths[l])`` (``nn.Linear``'s (out, in)).
    biases : nn.ParameterList
        ``biases[l]`` of shape ``(S, widths[l + 1])`` (empty when ``bias=False``).
    generators : list of torch.Generator or None
        One per network: the noise of network ``s`` is drawn from ``generators[s]`` exactly as
        :class:`MLP` draws it from torch's global generator (one ``(batch, n_units)`` normal draw
        per hidden layer, in layer order). Set by the trainer; needed when ``noise_std > 0``.

    Examples
    --------
    >>> nets = [MLP([12, 10, 2], "tanh", random_state=s) for s in range(3)]
    >>> stacked = StackedMLP.from_mlps(nets)
    >>> [tuple(t.shape) for t in stacked(torch.zeros(5, 12))]
    [(3, 5, 10), (3, 5, 2)]
    >>> bool(torch.equal(stacked.network(1).layers[0].weight, nets[1].layers[0].weight))
    True
    """

    def __init__(
        self,
        n_networks: int,
        widths: Sequence[int],
        activation: str = "tanh",
        *,
        output_activation: str | None = None,
        noise_std: float | Sequence[float] = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(n_networks, bool) or not isinstance(n_networks, int | np.integer):
            raise TypeError(f"n_networks: expected a positive int, got {n_networks!r}")
        if n_networks < 1:
            raise ValueError(f"n_networks: expected at least 1 network, got {n_networks}")
        # one MLP validates the architecture and names the layers
        template = MLP(
            widths,
            activation,
            output_activation=output_activation,
            noise_std=noise_std,
            bias=bias,
            random_state=0,
        )
        self.n_networks = int(n_networks)
        self.widths = template.widths
        self.activation = template.activation
        self.output_activation = template.output_activation
        self.noise_std = template.noise_std
        self.bias = template.bias
        self.layer_names = list(template.layer_names)
        pairs = list(zip(self.widths[:-1], self.widths[1:]))
        self.weights = nn.ParameterList(
            nn.Parameter(torch.zeros(self.n_networks, o, i)) for i, o in pairs
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.zeros(self.n_networks, o)) for _, o in pairs if self.bias
        )
        self.generators: list[torch.Generator] | None = None

    @classmethod
    def from_mlps(cls, models: Sequence[MLP]) -> StackedMLP:
        """Stack ``models`` (same architecture) into one; their weights are copied bitwise."""
        models = list(models)
        if not models or not all(isinstance(m, MLP) for m in models):
            got = sorted({type(m).__name__ for m in models}) or ["nothing"]
            raise TypeError(f"models: expected a non-empty sequence of MLP, got {got}")
        first = models[0]
        for i, m in enumerate(models):
            if m.extra_repr() != first.extra_repr() or m.bias != first.bias:
                raise ValueError(
                    f"models: every network must share one architecture; models[{i}] is "
                    f"MLP({m.extra_repr()}), models[0] is MLP({first.extra_repr()})"
                )
        out = cls(
            len(models),
            first.widths,
            first.activation,
            output_activation=first.output_activation,
            noise_std=first.noise_std,
            bias=first.bias,
        ).to(first.layers[0].weight.dtype)
        with torch.no_grad():
            for layer in range(out.n_layers):
                out.weights[layer].copy_(torch.stack([m.layers[layer].weight for m in models]))
                if out.bias:
                    out.biases[layer].copy_(torch.stack([m.layers[layer].bias for m in models]))
        return out.to(first.layers[0].weight.device)

    def network(self, index: int) -> MLP:
        """Network ``index`` as a stand-alone :class:`MLP` (a copy of its current weights)."""
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        if not -self.n_networks <= index < self.n_networks:
            raise ValueError(f"index: expected a network in [0, {self.n_networks}), got {index}")
        net = MLP(
            self.widths,
            self.activation,
            output_activation=self.output_activation,
            noise_std=self.noise_std,
            bias=self.bias,
            random_state=0,
        ).to(device=self.weights[0].device, dtype=self.weights[0].dtype)
        with torch.no_grad():
            for layer in range(self.n_layers):
                net.layers[layer].weight.copy_(self.weights[layer][index])
                if self.bias:
                    net.layers[layer].bias.copy_(self.biases[layer][index])
        net.train(self.training)
        return net

    @property
    def n_layers(self) -> int:
        """Number of linear layers, i.e. of taps."""
        return len(self.weights)

    @property
    def noise_variance(self) -> tuple[float, ...]:
        """Variance :math:`s^2` of each hidden layer's noise (as :attr:`structlearn.models.mlp.MLP.noise_variance`)."""
        return tuple(s * s for s in self.noise_std)

    def layer_parameters(self, layer: int) -> list[nn.Parameter]:
        """The stacked parameters of ``layer`` in :class:`MLP`'s order (weight, then bias)."""
        return [self.weights[layer]] + ([self.biases[layer]] if self.bias else [])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output of every network.

        Parameters
        ----------
        x : Tensor of shape (batch, widths[0]) (the same inputs for every network) or
            (S, batch, widths[0]) (network ``s`` reads ``x[s]``).

        Returns
        -------
        list of Tensor
            ``n_layers`` row-major views, tap ``l`` of shape ``(S, batch, widths[l + 1])``.
        """
        return [t.transpose(1, 2) for t in self.forward_features(self._features(x))]

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        d = self.widths[0]
        if x.dim() == 2 and x.shape[1] == d:
            return x.t()
        if x.dim() == 3 and x.shape[0] == self.n_networks and x.shape[2] == d:
            return x.transpose(1, 2)
        raise ValueError(
            f"x: expected shape (batch, {d}) or ({self.n_networks}, batch, {d}), "
            f"got {tuple(x.shape)}"
        )

    def forward_features(self, h: torch.Tensor) -> list[torch.Tensor]:
        """The taps in feature-major layout.

        Parameters
        ----------
        h : Tensor of shape (widths[0], batch) or (S, widths[0], batch)

        Returns
        -------
        list of Tensor, tap ``l`` of shape ``(S, widths[l + 1], batch)``
        """
        hidden = _FEATURE_MAJOR[self.activation]
        taps = []
        for layer in range(self.n_layers):
            z = self._linear(layer, h)
            if layer == self.n_layers - 1:
                if self.output_activation is not None:
                    z = _FEATURE_MAJOR[self.output_activation](z)
                taps.append(z)
                break
            h = hidden(z)
            if self.training and self.noise_std[layer] > 0:
                h = h + self.noise_std[layer] * self._noise(h)
            taps.append(h)
        return taps

    def _linear(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        w = self.weights[layer]
        if h.dim() == 2:  # shared inputs: (n_in, batch) broadcast over the networks
            h = h.unsqueeze(0).expand(self.n_networks, -1, -1)
        if self.bias:
            return torch.baddbmm(self.biases[layer].unsqueeze(-1), w, h)
        return torch.bmm(w, h)

    def _noise(self, h: torch.Tensor) -> torch.Tensor:
        """Standard normal noise shaped like ``h`` (S, units, batch), network s from generator s."""
        if self.generators is None or len(self.generators) != self.n_networks:
            raise ValueError(
                "generators: a noisy StackedMLP in training mode needs one torch.Generator per "
                f"network ({self.n_networks}); the ensemble trainer sets them"
            )
        _s, units, batch = h.shape
        draws = [
            torch.randn((batch, units), generator=g, dtype=h.dtype, device=h.device)
            for g in self.generators
        ]
        return torch.stack(draws).transpose(1, 2)

    def extra_repr(self) -> str:
        return (
            f"n_networks={self.n_networks}, widths={list(self.widths)}, "
            f"activation={self.activation!r}, output_activation={self.output_activation!r}, "
            f"noise_std={list(self.noise_std)}"
        )
