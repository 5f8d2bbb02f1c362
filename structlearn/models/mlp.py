"""Fully connected networks that return every layer's output (the "taps").

The networks of the information-plane studies: Shwartz-Ziv & Tishby (2017), "Opening the black box
of deep neural networks via information" (a 12-10-7-5-4-3-2 tanh network on a 12-bit task), and
Saxe et al. (2018), "On the information bottleneck theory of deep learning" (the same nets with
ReLU or linear units, and Gaussian noise added to the hidden layers so that mutual information is
finite and a kernel density estimate applies, after Kolchinsky, Tracey & Wolpert 2019, "Nonlinear
information bottleneck").

A layer is :math:`h_l = \\sigma(W_l h_{l-1} + b_l)` with ``W_l`` the ``weight`` of an ``nn.Linear``,
of shape ``(n_out, n_in)``. Hence a hidden unit ``j`` of layer ``l`` *receives* row ``j`` of ``W_l``
(its fan-in) and *sends* column ``j`` of ``W_{l+1}`` (its fan-out).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from structlearn.utils.validation import check_option, check_scalar, check_tensor

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")

_ACTIVATION_FUNCTIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "linear": lambda z: z,
}


def fan_in_norms(weight: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """Norm of each unit's incoming weights: the rows of ``weight``.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
        The ``weight`` of an ``nn.Linear`` (PyTorch stores it as (out, in)).
    p : float
        Order of the norm, :math:`\\|W_{j,:}\\|_p`.

    Returns
    -------
    Tensor of shape (n_out,)

    >>> fan_in_norms(torch.tensor([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0]]))
    tensor([5., 1., 1.])
    """
    return torch.linalg.vector_norm(weight.detach(), ord=p, dim=1)


def fan_out_norms(next_weight: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """Norm of each unit's outgoing weights: the COLUMNS of the next layer's ``weight``.

    Parameters
    ----------
    next_weight : Tensor of shape (n_next, n_units)
        The ``weight`` of the ``nn.Linear`` that reads the layer (stored (out, in)).
    p : float
        Order of the norm, :math:`\\|W_{:,j}\\|_p`.

    Returns
    -------
    Tensor of shape (n_units,)

    >>> fan_out_norms(torch.tensor([[3.0, 0.0, 1.0], [4.0, 1.0, 0.0]]))
    tensor([5., 1., 1.])
    """
    return torch.linalg.vector_norm(next_weight.detach(), ord=p, dim=0)


def _torch_generator(random_state: int | torch.Generator | np.random.Generator | None):
    """A ``torch.Generator`` from an int, a numpy Generator, a torch Generator or None."""
    if isinstance(random_state, torch.Generator):
        return random_state
    gen = torch.Generator()
    if random_state is None:
        gen.seed()
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        gen.manual_seed(int(random_state))
    elif isinstance(random_state, np.random.Generator):
        gen.manual_seed(int(random_state.integers(2**63 - 1)))
    else:
        raise TypeError(
            "random_state: expected None, an int, a numpy.random.Generator or a torch.Generator, "
            f"got {type(random_state).__name__}"
        )
    return gen


def _check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    try:
        out = tuple(widths)
    except TypeError:
        raise TypeError(
            f"widths: expected a sequence of layer widths such as [12, 10, 2], got {widths!r}"
        ) from None
    if len(out) < 2:
        raise ValueError(
            f"widths: expected at least 2 entries (input width and output width), got {list(out)}"
        )
    for w in out:
        if isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1:
            raise ValueError(f"widths: expected positive integers, got {list(out)}")
    return tuple(int(w) for w in out)


class MLP(nn.Module):
    """A fully connected network ``widths[0] -> widths[1] -> ... -> widths[-1]``.

    ``forward(x)`` returns the list of every layer's output (the taps, input excluded): the
    hidden layers after their activation (and noise, in training mode), the last one the output
    ``logits`` (after ``output_activation`` if one is given).

    Parameters
    ----------
    widths : sequence of int
        Layer widths including input and output, e.g. ``[12, 10, 7, 5, 4, 3, 2]``.
    activation : {"tanh", "relu", "sigmoid", "linear"}
        Activation of the hidden layers.
    output_activation : {"tanh", "relu", "sigmoid", "linear"} or None
        Activation of the output layer; None keeps raw logits (what cross-entropy expects).
    noise_std : float or sequence of float
        Standard deviation :math:`s` (NOT the variance; the variance is :math:`s^2`) of the
        Gaussian noise added to each hidden layer's output in training mode,
        :math:`\\tilde h_l = h_l + \\varepsilon,\\ \\varepsilon\\sim\\mathcal N(0, s^2 I)`: the
        "noisy" networks of Saxe et al. (2018). One value for every hidden layer or one per hidden
        layer. In evaluation mode (``model.eval()``) no noise is drawn, so recordings are the
        noiseless :math:`h_l`; a KDE estimator then adds the noise analytically with kernel
        variance :attr:`noise_variance`. Noise comes from torch's global generator (the trainer
        seeds it per epoch).
    bias : bool
        Whether every linear layer has a bias.
    random_state : int, numpy.random.Generator, torch.Generator or None
        Seeds the initial weights, drawn as in PyTorch's default ``nn.Linear`` initialisation:
        :math:`W, b \\sim \\mathcal U(-1/\\sqrt{n_{in}}, 1/\\sqrt{n_{in}})`.

    Attributes
    ----------
    layers : nn.ModuleList of nn.Linear
        ``layers[l].weight`` has shape ``(widths[l + 1], widths[l])``.
    layer_names : list of str
        ``["hidden_1", ..., "output"]``, one per tap.

    Examples
    --------
    >>> net = MLP([12, 10, 7, 5, 4, 3, 2], "tanh", random_state=0)
    >>> [tuple(t.shape) for t in net(torch.zeros(5, 12))]
    [(5, 10), (5, 7), (5, 5), (5, 4), (5, 3), (5, 2)]
    >>> tuple(net.hidden_fan_out(0).shape), tuple(net.fan_in(0).shape)
    ((10,), (10,))
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "tanh",
        *,
        output_activation: str | None = None,
        noise_std: float | Sequence[float] = 0.0,
        bias: bool = True,
        random_state: int | torch.Generator | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.widths = _check_widths(widths)
        self.activation = check_option(activation, "activation", ACTIVATIONS)
        if output_activation is not None:
            check_option(output_activation, "output_activation", ACTIVATIONS)
        self.output_activation = output_activation
        self.noise_std = self._check_noise(noise_std, len(self.widths) - 2)
        self.bias = bool(bias)
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out, bias=self.bias)
            for n_in, n_out in zip(self.widths[:-1], self.widths[1:])
        )
        self.layer_names = [f"hidden_{i + 1}" for i in range(len(self.layers) - 1)] + ["output"]
        self._init_weights(_torch_generator(random_state))

    @staticmethod
    def _check_noise(noise_std: float | Sequence[float], n_hidden: int) -> tuple[float, ...]:
        if isinstance(noise_std, numbers.Real):
            values = [noise_std] * n_hidden
        elif isinstance(noise_std, Sequence | np.ndarray) and not isinstance(noise_std, str):
            values = list(noise_std)
        else:
            raise TypeError(
                f"noise_std: expected a number or one per hidden layer, got {noise_std!r}"
            )
        if len(values) != n_hidden:
            raise ValueError(
                f"noise_std: expected one value or {n_hidden} (one per hidden layer), "
                f"got {len(values)}"
            )
        for v in values:
            check_scalar(v, "noise_std", low=0.0)
        return tuple(float(v) for v in values)

    @torch.no_grad()
    def _init_weights(self, gen: torch.Generator) -> None:
        for layer in self.layers:
            bound = 1.0 / np.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=gen)
            if layer.bias is not None:
                layer.bias.uniform_(-bound, bound, generator=gen)

    @property
    def n_layers(self) -> int:
        """Number of linear layers, i.e. of taps."""
        return len(self.layers)

    @property
    def noise_variance(self) -> tuple[float, ...]:
        """Variance :math:`s^2` of the noise of each hidden layer (the KDE kernel variance)."""
        return tuple(s * s for s in self.noise_std)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output for ``x`` of shape (n_samples, widths[0]).

        Returns
        -------
        list of Tensor
            ``n_layers`` tensors, tap ``l`` of shape ``(n_samples, widths[l + 1])``.
        """
        x = check_tensor(x, "x", ndim=2, min_samples=1)
        if x.shape[1] != self.widths[0]:
            raise ValueError(
                f"x: expected shape (n_samples, {self.widths[0]}), got {tuple(x.shape)}"
            )
        dtype = self.layers[0].weight.dtype
        if x.dtype != dtype:  # float64/float16/numpy input meet the weights
            x = x.to(dtype)
        if not bool(torch.isfinite(x.detach()).all()):
            raise ValueError(
                f"x: values too large for the network's {str(x.dtype).replace('torch.', '')} "
                "weights (they overflow when cast); rescale the inputs or use model.double()"
            )
        hidden = _ACTIVATION_FUNCTIONS[self.activation]
        taps = []
        h = x
        for i, layer in enumerate(self.layers[:-1]):
            h = hidden(layer(h))
            if self.training and self.noise_std[i] > 0:
                h = h + self.noise_std[i] * torch.randn_like(h)
            taps.append(h)
        out = self.layers[-1](h)
        if self.output_activation is not None:
            out = _ACTIVATION_FUNCTIONS[self.output_activation](out)
        taps.append(out)
        return taps

    def _check_layer(self, layer: int, n: int, what: str) -> int:
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
            raise TypeError(f"layer: expected an int, got {type(layer).__name__}")
        if not -n <= layer < n:
            raise ValueError(f"layer: expected {what} index in [{-n}, {n}), got {layer}")
        return int(layer) % n

    def hidden_fan_out(self, layer: int, *, p: float = 2.0) -> torch.Tensor:
        """Norm of each hidden unit's fan-out weights, shape ``(widths[layer + 1],)``.

        ``layer`` indexes the hidden layers (tap ``layer``, ``0 <= layer < n_layers - 1``); unit
        ``j``'s fan-out is column ``j`` of ``layers[layer + 1].weight``.
        """
        layer = self._check_layer(layer, self.n_layers - 1, "a hidden-layer")
        return fan_out_norms(self.layers[layer + 1].weight, p)

    def fan_in(self, layer: int, *, p: float = 2.0) -> torch.Tensor:
        """Norm of each unit's fan-in weights (rows of ``layers[layer].weight``), shape (widths[layer + 1],)."""
        layer = self._check_layer(layer, self.n_layers, "a layer")
        return fan_in_norms(self.layers[layer].weight, p)

    def extra_repr(self) -> str:
        return (
            f"widths={list(self.widths)}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, noise_std={list(self.noise_std)}"
        )


def accuracy(net: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Share of the rows of ``X`` (n, d) whose arg-max output is the label ``y`` (n,), in [0, 1].

    ``net(x)`` returns the taps (see :class:`MLP`): the last one, the logits (n, n_classes), is
    read without gradients in the network's current mode.

    >>> net = MLP([2, 2], "linear", random_state=0)
    >>> _ = net.layers[0].weight.data.copy_(torch.eye(2)); _ = net.layers[0].bias.data.zero_()
    >>> accuracy(net, np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]), np.array([0, 0, 0]))
    0.6666666666666666
    """
    Xa, ya = np.asarray(X), np.asarray(y)
    if Xa.ndim != 2 or ya.shape != (Xa.shape[0],):
        raise ValueError(f"X, y: expected shapes (n, d) and (n,), got {Xa.shape} and {ya.shape}")
    with torch.no_grad():
        logits = net(torch.as_tensor(Xa, dtype=torch.float32))[-1]
    return float((logits.argmax(1).numpy() == ya).mean())


def idnns_init_(model: MLP, seed: int) -> MLP:
    """The initial weights of the IDNNs release (Shwartz-Ziv & Tishby 2017), in place.

    Every ``W_l`` (n_out, n_in) drawn from a normal of std :math:`1/\\sqrt{n_{in}}` truncated at two
    standard deviations (so its std is about :math:`0.880/\\sqrt{n_{in}}`), every bias 0; the
    draws come from a torch generator seeded with ``seed``, so a seed fixes the network.

    Returns
    -------
    MLP
        ``model`` itself.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model: expected an MLP, got {type(model).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for layer in model.layers:
            std = 1.0 / np.sqrt(layer.in_features)
            nn.init.trunc_normal_(layer.weight, 0.0, std, -2.0 * std, 2.0 * std, generator=gen)
            if layer.bias is not None:
                layer.bias.zero_()
    return model
