"""Random ReLU teacher networks and the Gaussian inputs they label, for teacher-student studies.

Tian (2019/2020), "Student Specialization in Deep Rectified Networks With Finite Width and Input
Dimension" (ICML 2020, arXiv:1909.13458), and Tian (2019), "Luck matters: understanding training
dynamics of deep ReLU networks" (arXiv:1905.13405): a fixed teacher network labels Gaussian inputs;
an over-realised student is trained on its outputs, and one asks which student units come to
match ("specialise to") which teacher units. Teacher units with large fan-out weights are learned
first, so the teacher's *strength decay* matters: hidden unit :math:`k` (0-based) of every hidden
layer has its fan-out weights multiplied by :math:`(k+1)^{-p}`, ``p = output_decay``.

Orientation: ``nn.Linear.weight`` has shape ``(out_features, in_features)``, so the fan-out of
hidden unit ``k`` of layer ``l`` is **column** ``k`` of layer ``l + 1``'s weight,
``layers[l + 1].weight[:, k]``; :meth:`TeacherNetwork.fan_out_weights` returns it transposed, one
row per hidden unit.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from structlearn.utils.validation import check_random_state, check_scalar

__all__ = [
    "CODE_CHOICES",
    "InputPool",
    "TeacherNetwork",
    "make_code_teacher",
    "make_teacher",
    "sample_teacher_data",
    "strength_decay",
]

#: weight levels of :func:`make_code_teacher` (quarter steps in [-1, 1])
CODE_CHOICES = (-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0)


def strength_decay(width: int, output_decay: float) -> np.ndarray:
    """Fan-out scale of each of ``width`` hidden units: :math:`s_k = (k+1)^{-p}`, ``k = 0..width-1``.

    >>> strength_decay(4, 1.0)
    array([1.        , 0.5       , 0.33333333, 0.25      ])
    >>> strength_decay(3, 0.0)
    array([1., 1., 1.])
    """
    return np.arange(1, width + 1, dtype=np.float64) ** (-float(output_decay))


class TeacherNetwork(nn.Module):
    """A fixed fully connected ReLU network ``input -> ReLU hidden layers -> linear output``.

    Parameters
    ----------
    input_dim : int
        Input dimension ``d``.
    widths : sequence of int
        ``(m_1, ..., m_L, n_out)``: the hidden layers' widths, then the output dimension.
    bias : bool
        Whether every layer has a bias.

    Notes
    -----
    The parameters do not require gradients (a teacher is fixed); :func:`make_teacher` draws them.
    """

    def __init__(self, input_dim: int, widths: Sequence[int], bias: bool = True) -> None:
        super().__init__()
        dims = [int(input_dim), *(int(w) for w in widths)]
        self.layers = nn.ModuleList(
            nn.Linear(dims[i], dims[i + 1], bias=bias) for i in range(len(dims) - 1)
        )
        self.requires_grad_(False)

    @property
    def input_dim(self) -> int:
        """Input dimension."""
        return self.layers[0].in_features

    @property
    def hidden_widths(self) -> list[int]:
        """Widths ``(m_1, ..., m_L)`` of the hidden ReLU layers."""
        return [layer.out_features for layer in self.layers[:-1]]

    @property
    def output_dim(self) -> int:
        """Output dimension."""
        return self.layers[-1].out_features

    def hidden_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Post-ReLU activations of every hidden layer: shapes ``(n_samples, m_l)``."""
        out = []
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher output of shape ``(n_samples, n_out)`` for ``x`` of shape ``(n_samples, d)``."""
        hidden = self.hidden_activations(x)
        return self.layers[-1](hidden[-1] if hidden else x)

    def fan_out_weights(self, layer: int) -> torch.Tensor:
        """Fan-out weights of hidden layer ``layer`` (0-based), one row per hidden unit.

        Shape ``(m_layer, n_next)``: row ``k`` is ``layers[layer + 1].weight[:, k]``.
        """
        if not 0 <= layer < len(self.layers) - 1:
            raise ValueError(
                f"layer: expected a hidden layer index in [0, {len(self.layers) - 1}), got {layer}"
            )
        return self.layers[layer + 1].weight.detach().T

    def fan_out_norms(self, layer: int) -> torch.Tensor:
        """Euclidean norm of each hidden unit's fan-out weights, shape ``(m_layer,)``."""
        return self.fan_out_weights(layer).norm(dim=1)


def make_teacher(
    input_dim: int,
    widths: Sequence[int],
    *,
    bias: bool = True,
    output_decay: float = 0.0,
    weight_scale: float = 1.0,
    random_state: int | np.random.Generator | None = 0,
) -> TeacherNetwork:
    """Draw a random teacher ReLU network.

    Every weight and bias of a layer with fan-in :math:`n` is drawn i.i.d. from
    :math:`\\mathcal N(0, \\sigma^2 / n)` with :math:`\\sigma` = ``weight_scale``; then column ``k`` of
    every layer after the first (the fan-out of hidden unit ``k`` below it) is multiplied by
    :math:`(k+1)^{-p}`, :math:`p` = ``output_decay`` (see :func:`strength_decay`).

    Parameters
    ----------
    input_dim : int >= 1
    widths : sequence of int >= 1
        ``(m_1, ..., m_L, n_out)`` with at least one hidden layer: ``(10, 1)`` is a two-layer
        teacher with 10 hidden units and one output.
    bias : bool
    output_decay : float >= 0
        Strength-decay exponent ``p``; 0 leaves all teacher units equally strong.
    weight_scale : float > 0
    random_state : int, Generator or None

    Returns
    -------
    TeacherNetwork
        float32, in eval mode, parameters frozen.

    Examples
    --------
    >>> t = make_teacher(20, (10, 15, 3), output_decay=1.0, random_state=0)
    >>> t.hidden_widths, t.output_dim
    ([10, 15], 3)
    >>> tuple(t.fan_out_weights(1).shape)  # 15 units of the second hidden layer, 3 outputs each
    (15, 3)
    """
    widths = _check_widths(widths)
    if isinstance(input_dim, bool) or not isinstance(input_dim, numbers.Integral) or input_dim < 1:
        raise ValueError(f"input_dim: expected a positive int, got {input_dim!r}")
    check_scalar(output_decay, "output_decay", low=0)
    check_scalar(weight_scale, "weight_scale", low=0, low_inclusive=False)
    rng = check_random_state(random_state)
    teacher = TeacherNetwork(int(input_dim), widths, bias=bias)
    for i, layer in enumerate(teacher.layers):
        std = weight_scale / np.sqrt(layer.in_features)
        weight = rng.normal(0.0, std, size=(layer.out_features, layer.in_features))
        if i > 0:
            weight *= strength_decay(layer.in_features, output_decay)[None, :]  # columns
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        if layer.bias is not None:
            layer.bias.copy_(torch.as_tensor(rng.normal(0.0, std, size=layer.out_features)))
    return teacher.eval()


def _distinct_codes(n_rows: int, n_cols: int, choices, rng: np.random.Generator) -> np.ndarray:
    """``n_rows`` distinct non-zero rows of ``n_cols`` entries drawn uniformly from ``choices``."""
    if len(choices) ** n_cols - 1 < n_rows:
        raise ValueError(
            f"widths: {n_rows} distinct codes of length {n_cols} do not exist with "
            f"{len(choices)} levels"
        )
    seen: set[tuple[float, ...]] = set()
    out = np.empty((n_rows, n_cols))
    values = np.asarray(choices, dtype=np.float64)
    for i in range(n_rows):
        while True:
            row = values[rng.integers(len(values), size=n_cols)]
            key = tuple(row.tolist())
            if key not in seen and np.any(row != 0):
                break
        seen.add(key)
        out[i] = row
    return out


def make_code_teacher(
    input_dim: int,
    widths: Sequence[int],
    *,
    output_decay: float = 1.0,
    bias: float = -0.1,
    choices: Sequence[float] = CODE_CHOICES,
    random_state: int | np.random.Generator | None = 0,
) -> TeacherNetwork:
    """A two-layer teacher built the way Tian's reference code builds it.

    As in ``facebookresearch/luckmatters`` (``student_specialization/recon_two_layer.py``): each
    hidden unit's input weights are a distinct code of levels ``choices``, normalised to unit norm
    (so units are well separated); each output's weights over the hidden units are a distinct code
    too, with hidden unit ``k``'s fan-out divided by :math:`(k+1)^p`; every hidden and output bias
    is ``bias`` (-0.1 there). The levels there are passed on the command line; quarter steps in
    [-1, 1] are used here (after normalisation only their ratios matter for the first layer).

    Parameters
    ----------
    input_dim : int >= 1
    widths : (n_hidden, n_out)
    output_decay : float >= 0, the strength-decay exponent p
    bias : float
    choices : sequence of float, the weight levels
    random_state : int, Generator or None

    Examples
    --------
    >>> t = make_code_teacher(30, (10, 50), random_state=0)
    >>> bool(torch.allclose(t.layers[0].weight.norm(dim=1), torch.ones(10)))
    True
    >>> float(t.layers[1].bias[0])
    -0.1
    """
    widths = _check_widths(widths)
    if len(widths) != 2:
        raise ValueError(f"widths: expected (n_hidden, n_out) of a two-layer teacher, got {widths}")
    check_scalar(output_decay, "output_decay", low=0)
    check_scalar(bias, "bias")
    if isinstance(input_dim, bool) or not isinstance(input_dim, numbers.Integral) or input_dim < 1:
        raise ValueError(f"input_dim: expected a positive int, got {input_dim!r}")
    rng = check_random_state(random_state)
    m, c = widths
    w1 = _distinct_codes(m, int(input_dim), choices, rng)
    w1 /= np.linalg.norm(w1, axis=1, keepdims=True)
    w2 = _distinct_codes(c, m, choices, rng) * strength_decay(m, output_decay)[None, :]
    teacher = TeacherNetwork(int(input_dim), widths, bias=True)
    for layer, w in zip(teacher.layers, (w1, w2), strict=True):
        layer.weight.copy_(torch.as_tensor(w, dtype=torch.float32))
        layer.bias.fill_(float(bias))
    return teacher.eval()


def sample_teacher_data(
    teacher: TeacherNetwork,
    n_samples: int,
    *,
    input_std: float = 1.0,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs and the teacher's outputs on them.

    Parameters
    ----------
    teacher : TeacherNetwork
    n_samples : int >= 1
    input_std : float > 0, standard deviation of the inputs (Tian's reference code uses 1.5)
    random_state : int, Generator or None

    Returns
    -------
    X : torch.Tensor
        float32, shape ``(n_samples, input_dim)``, i.i.d. :math:`\\mathcal N(0, \\sigma^2)` entries.
    Y : torch.Tensor
        float32, shape ``(n_samples, n_out)``, ``teacher(X)`` (no gradient).

    Examples
    --------
    >>> X, Y = sample_teacher_data(make_teacher(5, (4, 2)), 100, random_state=0)
    >>> tuple(X.shape), tuple(Y.shape), X.dtype
    ((100, 5), (100, 2), torch.float32)
    """
    if not isinstance(teacher, TeacherNetwork):
        raise TypeError(f"teacher: expected a TeacherNetwork, got {type(teacher).__name__}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples: expected a positive int, got {n_samples!r}")
    check_scalar(input_std, "input_std", low=0, low_inclusive=False)
    rng = check_random_state(random_state)
    X = torch.as_tensor(
        input_std * rng.standard_normal((int(n_samples), teacher.input_dim)), dtype=torch.float32
    )
    with torch.no_grad():
        Y = teacher(X)
    return X, Y


def _check_widths(widths: Sequence[int]) -> list[int]:
    try:
        values = list(widths)
    except TypeError:
        raise ValueError(f"widths: expected a sequence of ints, got {widths!r}") from None
    if len(values) < 2:
        raise ValueError(
            f"widths: expected (hidden widths..., n_out) with at least one hidden layer, got "
            f"{widths!r}; e.g. (10, 1) for 10 hidden units and one output"
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"widths: expected positive ints, got {widths!r}")
    return [int(v) for v in values]


class InputPool:
    """A researcher's inputs for a teacher to label, in place of Gaussian ones.

    Tian (2019, 2020) feeds the teacher Gaussian inputs; applying a fixed random teacher to real
    inputs (digits, MNIST, a table) keeps the teacher-student setup (the labels are still a known
    ReLU network's outputs) while the input distribution becomes the data's. Each feature is
    standardised over the pool (:func:`structlearn.data.preprocess.standardize`; constant features
    become 0) and scaled by ``input_std``, so the inputs have the per-coordinate scale of the
    Gaussian ones.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        The inputs (rows of a :class:`~structlearn.data.sources.Dataset`).
    input_std : float > 0
        Per-feature standard deviation after standardising.

    Attributes
    ----------
    X : numpy.ndarray
        float32, shape (n_rows, n_features): the standardised, scaled inputs.

    Examples
    --------
    >>> pool = InputPool(np.arange(20.0).reshape(10, 2), input_std=1.5)
    >>> (train_X, train_Y), (test_X, _) = pool.draw(make_teacher(2, (3, 1)), 6, 4, random_state=0)
    >>> tuple(train_X.shape), tuple(test_X.shape), tuple(train_Y.shape)
    ((6, 2), (4, 2), (6, 1))
    """

    def __init__(self, X: np.ndarray, input_std: float = 1.0) -> None:
        from structlearn.data.preprocess import standardize

        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2 or not np.isfinite(X).all():
            raise ValueError(f"X: expected a finite (n_rows >= 2, n_features) array, got {X.shape}")
        check_scalar(input_std, "input_std", low=0, low_inclusive=False)
        self.X = (standardize(X)[2][0] * float(input_std)).astype(np.float32)

    @property
    def n_rows(self) -> int:
        """Rows in the pool."""
        return int(self.X.shape[0])

    def rows(
        self, n_train: int, n_test: int, random_state: int | np.random.Generator | None = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Disjoint row indices ``(train (n_train,), test (n_test,))`` of a seeded permutation.

        The test rows are the permutation's first ``n_test``, the training rows the next
        ``n_train``: with one seed, a larger ``n_train`` extends the smaller one's rows and keeps
        the test rows.
        """
        if n_train < 1 or n_test < 1 or n_train + n_test > self.n_rows:
            raise ValueError(
                f"n_train + n_test: expected at most the pool's {self.n_rows} rows (both >= 1), "
                f"got {n_train} + {n_test}"
            )
        order = check_random_state(random_state).permutation(self.n_rows)
        return order[n_test : n_test + n_train], order[:n_test]

    def draw(
        self,
        teacher: TeacherNetwork,
        n_train: int,
        n_test: int,
        random_state: int | np.random.Generator | None = 0,
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """Training and held-out inputs (disjoint rows, see :meth:`rows`) and ``teacher``'s outputs.

        Returns ``((X (n_train, d), Y (n_train, n_out)), (X_test, Y_test))``, float32 tensors.
        """
        if teacher.input_dim != self.X.shape[1]:
            raise ValueError(
                f"teacher: expected input_dim {self.X.shape[1]} (the pool's features), "
                f"got {teacher.input_dim}"
            )
        out = []
        for idx in self.rows(n_train, n_test, random_state):
            X = torch.from_numpy(self.X[idx])
            with torch.no_grad():
                out.append((X, teacher(X)))
        return out[0], out[1]
