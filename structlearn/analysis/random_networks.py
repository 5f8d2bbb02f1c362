"""Random-weight networks: does the entropy of their features predict linear accuracy on them?

Many networks with random, untrained weights are drawn (depth, width, activation and weight scale
from a config); on a labelled data set each one's output features get an entropy (a stated
estimator, from :mod:`structlearn.analysis.entropy_gain`) and the held-out accuracy of a linear
classifier trained on them. The Spearman rank correlation between the two, with a bootstrap
interval over networks, says how far "more entropy" means "more linearly useful" for features
nobody trained -- the InfoMax intuition tested on the cheapest features there are.

References
----------
- R. Linsker, "Self-organization in a perceptual network", IEEE Computer 21 (1988): InfoMax.
- A. Rahimi & B. Recht, "Random features for large-scale kernel machines", NeurIPS (2007); and
  K. Jarrett, K. Kavukcuoglu, M. Ranzato, Y. LeCun, "What is the best multi-stage architecture for
  object recognition?", ICCV (2009): random-weight layers followed by a trained linear classifier.
- A. M. Saxe, P. W. Koh, Z. Chen, M. Bhand, B. Suresh, A. Y. Ng, "On random weights and
  unsupervised feature learning", ICML (2011): ranking architectures by their random-weight
  performance.
- C. Spearman, "The proof and measurement of association between two things", Am. J. Psychol. 15
  (1904); B. Efron & R. Tibshirani, *An Introduction to the Bootstrap* (1993): percentile interval.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.analysis.entropy_gain import MEASURES, DeadLayerError, _nan_to_none, layer_entropy
from structlearn.utils.validation import (
    check_array,
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "DEFAULT_CONFIG",
    "RandomNetworks",
    "analyze_random_networks",
    "random_features",
    "sample_architectures",
    "spearman_interval",
]

#: choices per key (``depth``, ``width``, ``activation``: drawn uniformly from the list) and ranges
#: (``weight_scale``: log-uniform on [low, high]; ``bias_scale``: uniform on [low, high])
DEFAULT_CONFIG: dict[str, Any] = {
    "depth": [1, 2, 3],
    "width": [16, 32, 64, 128],
    "activation": ["relu", "tanh", "sigmoid"],
    "weight_scale": [0.1, 10.0],
    "bias_scale": [0.0, 0.5],
}
_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "linear": lambda z: z,
}


# ------------------------------------------------------------------------------ the networks
def _check_choices(key: str, values: Any, kind: str) -> list:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"config[{key!r}]: expected a non-empty list of choices, got []")
    for v in values:
        if kind == "activation":
            check_option(v, f"config[{key!r}]", list(_ACTIVATIONS))
        elif isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"config[{key!r}]: expected positive integers, got {values}")
    return values


def _check_range(key: str, values: Any, low_positive: bool) -> list[float]:
    pair = [values, values] if isinstance(values, numbers.Real) else list(values)
    if len(pair) != 2:
        raise ValueError(f"config[{key!r}]: expected a number or a pair [low, high], got {values}")
    lo, hi = (float(check_scalar(v, f"config[{key!r}]", low=0.0)) for v in pair)
    if hi < lo or (low_positive and lo <= 0):
        want = "0 < low <= high" if low_positive else "0 <= low <= high"
        raise ValueError(f"config[{key!r}]: expected {want}, got {pair}")
    return [lo, hi]


def check_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge ``config`` into :data:`DEFAULT_CONFIG` and validate it; an unknown key is an error.

    >>> check_config({"depth": 2})["depth"]
    [2]
    >>> check_config({"depht": 2})
    Traceback (most recent call last):
    ...
    ValueError: config: unknown key(s) ['depht']; known keys are ['activation', 'bias_scale', 'depth', 'weight_scale', 'width']
    """
    config = {} if config is None else dict(config)
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(
            f"config: unknown key(s) {unknown}; known keys are {sorted(DEFAULT_CONFIG)}"
        )
    merged = {**DEFAULT_CONFIG, **config}
    return {
        "depth": _check_choices("depth", merged["depth"], "int"),
        "width": _check_choices("width", merged["width"], "int"),
        "activation": _check_choices("activation", merged["activation"], "activation"),
        "weight_scale": _check_range("weight_scale", merged["weight_scale"], True),
        "bias_scale": _check_range("bias_scale", merged["bias_scale"], False),
    }


def sample_architectures(
    config: Mapping[str, Any] | None, n_networks: int, random_state: Any = 0
) -> list[dict[str, Any]]:
    """Draw ``n_networks`` architectures from ``config`` (see :data:`DEFAULT_CONFIG`).

    Each is a dict with ``depth``, ``width``, ``activation``, ``weight_scale``, ``bias_scale``
    and ``seed`` (for its weights).

    >>> archs = sample_architectures({"depth": [2], "width": [8]}, 3, random_state=0)
    >>> [(a["depth"], a["width"]) for a in archs]
    [(2, 8), (2, 8), (2, 8)]
    """
    cfg = check_config(config)
    check_scalar(n_networks, "n_networks", kind=(int, np.integer), low=1)
    rng = check_random_state(random_state)
    archs = []
    for _ in range(int(n_networks)):
        lo, hi = np.log(cfg["weight_scale"])
        archs.append(
            {
                "depth": int(rng.choice(cfg["depth"])),
                "width": int(rng.choice(cfg["width"])),
                "activation": str(rng.choice(cfg["activation"])),
                "weight_scale": float(np.exp(rng.uniform(lo, hi))),
                "bias_scale": float(rng.uniform(*cfg["bias_scale"])),
                "seed": int(rng.integers(2**31 - 1)),
            }
        )
    return archs


def random_features(
    X: Any,
    depth: int,
    width: int,
    activation: str = "relu",
    weight_scale: float = 1.0,
    bias_scale: float = 0.0,
    *,
    random_state: Any = 0,
) -> np.ndarray:
    r"""Output of a random fully connected network on ``X``.

    :math:`h_0 = X`, :math:`h_l = \sigma(h_{l-1}W_l^\top + b_l)` with
    :math:`W_l \in \mathbb R^{\text{width}\times n_{l-1}}`,
    :math:`(W_l)_{ij}\sim\mathcal N(0, s^2/n_{l-1})` (``s = weight_scale``; 1 keeps the
    pre-activation variance of unit-variance inputs) and :math:`(b_l)_i\sim\mathcal N(0,
    \text{bias\_scale}^2)`.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    depth, width : int
    activation : {"relu", "tanh", "sigmoid", "linear"}
    weight_scale, bias_scale : float
    random_state : int, Generator or None

    Returns
    -------
    numpy.ndarray, shape (n_samples, width)

    Examples
    --------
    >>> random_features(np.eye(3), depth=2, width=4, random_state=0).shape
    (3, 4)
    """
    h = check_array(X, "X", ndim=2)
    check_scalar(depth, "depth", kind=(int, np.integer), low=1)
    check_scalar(width, "width", kind=(int, np.integer), low=1)
    act = _ACTIVATIONS[check_option(activation, "activation", list(_ACTIVATIONS))]
    check_scalar(weight_scale, "weight_scale", low=0.0, low_inclusive=False)
    check_scalar(bias_scale, "bias_scale", low=0.0)
    rng = check_random_state(random_state)
    for _ in range(int(depth)):
        w = rng.normal(0.0, weight_scale / np.sqrt(h.shape[1]), size=(int(width), h.shape[1]))
        b = rng.normal(0.0, 1.0, size=int(width)) * bias_scale
        h = act(h @ w.T + b)
    return h


# ------------------------------------------------------------------------------ statistics
def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = _ranks(x) - (len(x) + 1) / 2, _ranks(y) - (len(y) + 1) / 2
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float(np.clip((rx * ry).sum() / denom, -1.0, 1.0)) if denom > 0 else np.nan


def spearman_interval(
    x: Any,
    y: Any,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: Any = 0,
) -> tuple[float, float, float]:
    r"""Spearman's :math:`\rho` (Pearson correlation of ranks, ties averaged) and a bootstrap interval.

    The interval is the percentile interval of :math:`\rho` over ``n_bootstrap`` resamples of the
    pairs (with replacement); resamples where one variable is constant (:math:`\rho` undefined)
    are skipped.

    Parameters
    ----------
    x, y : array-like, shape (n,)
    n_bootstrap : int
    confidence : float in (0, 1)
    random_state : int, Generator or None

    Returns
    -------
    (float, float, float)
        :math:`\rho`, interval low, interval high.

    Examples
    --------
    >>> spearman_interval([1, 2, 3, 4], [10, 20, 30, 400], n_bootstrap=50)
    (1.0, 1.0, 1.0)
    """
    xa = check_array(x, "x", ndim=1, min_samples=3)
    ya = check_array(y, "y", ndim=1, min_samples=3)
    if xa.shape != ya.shape:
        raise ValueError(f"y: expected {xa.size} values like x, got {ya.size}")
    check_scalar(n_bootstrap, "n_bootstrap", kind=(int, np.integer), low=1)
    check_scalar(confidence, "confidence", low=0, high=1, low_inclusive=False, high_inclusive=False)
    rho = _spearman(xa, ya)
    if not np.isfinite(rho):
        raise ValueError("x: one of the variables is constant; the rank correlation is undefined")
    rng = check_random_state(random_state)
    boots = []
    for _ in range(int(n_bootstrap)):
        idx = rng.integers(0, xa.size, size=xa.size)
        boots.append(_spearman(xa[idx], ya[idx]))
    boots = np.array(boots)
    boots = boots[np.isfinite(boots)]
    alpha = 0.5 * (1.0 - confidence)
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha])
    return rho, float(lo), float(hi)


# ------------------------------------------------------------------------------ the analysis
@dataclass
class RandomNetworks(AnalysisResult):
    """Entropy and linear accuracy of random-network features, and their rank correlation.

    Attributes
    ----------
    architectures : list of dict
        ``depth``, ``width``, ``activation``, ``weight_scale``, ``bias_scale``, ``seed``.
    entropy_nats : ndarray (n_networks,)
        Entropy of each network's features (``entropy_estimator``); NaN (``None`` in JSON) for a
        network whose units are all constant (entropy -inf), left out of the
        correlation with a warning.
    entropy_estimator : str
        The estimator and normalisation, in words.
    per_unit : bool
        Whether ``entropy_nats`` is divided by the number of (non-constant) units.
    n_dims : ndarray (n_networks,)
        Units kept (constant units, e.g. dead ReLUs, are dropped).
    classifier : str
        ``"ridge"`` or ``"logistic"``.
    train_accuracy, test_accuracy : ndarray (n_networks,)
        Linear classifier on standardised features; held-out part for ``test_accuracy``.
    chance_accuracy : float
        Held-out share of the most frequent class.
    spearman : float
        Rank correlation of ``entropy_nats`` and ``test_accuracy`` (networks with finite
        entropy).
    spearman_interval : list of float
        Percentile bootstrap interval over networks.
    n_bootstrap : int
    confidence : float
    config : dict
        The resolved config the architectures were drawn from.
    n_train, n_test : int
    """

    architectures: list[dict[str, Any]]
    entropy_nats: np.ndarray
    entropy_estimator: str
    classifier: str
    per_unit: bool
    n_dims: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    chance_accuracy: float
    spearman: float
    spearman_interval: list[float]
    n_bootstrap: int
    confidence: float
    config: dict[str, Any] = field(default_factory=dict)
    n_train: int = 0
    n_test: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN entropies become ``None``."""
        return _nan_to_none(super().to_dict())

    def plot(self, ax: Any = None) -> Any:
        """Held-out accuracy vs entropy, one point per network, coloured by activation."""
        ax = new_axes(ax)
        acts = [a["activation"] for a in self.architectures]
        for i, name in enumerate(sorted(set(acts))):
            sel = np.array([a == name for a in acts])
            ax.scatter(
                self.entropy_nats[sel],
                self.test_accuracy[sel],
                s=18,
                color=f"C{i}",
                alpha=0.8,
                label=name,
            )
        ax.axhline(self.chance_accuracy, color="k", ls=":", lw=1, label="chance")
        unit = "nats per unit" if self.per_unit else "nats"
        ax.set_xlabel(f"feature entropy [{unit}]")
        ax.set_ylabel("linear held-out accuracy")
        lo, hi = self.spearman_interval
        ax.set_title(
            f"Spearman rho = {self.spearman:.2f} [{lo:.2f}, {hi:.2f}], {len(acts)} networks",
            fontsize="small",
        )
        ax.legend(frameon=False, fontsize="small")
        return ax


def _standardise_inputs(X: np.ndarray) -> np.ndarray:
    std = X.std(axis=0)
    return np.where(std > 0, (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0), 0.0)


CLASSIFIERS = ("ridge", "logistic")


def _linear_accuracy(
    z: np.ndarray, y: np.ndarray, tr: np.ndarray, te: np.ndarray, classifier: str, C: float
) -> tuple[float, float]:
    """Train and held-out accuracy of a linear classifier on standardised features."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if classifier == "ridge":
        model = RidgeClassifier(alpha=1.0 / C)
    else:
        model = LogisticRegression(C=C, max_iter=2000)
    clf = make_pipeline(StandardScaler(), model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # accuracy is what is measured
        clf.fit(z[tr], y[tr])
    return float(clf.score(z[tr], y[tr])), float(clf.score(z[te], y[te]))


def _split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    return np.sort(tr), np.sort(te)


def analyze_random_networks(
    X: Any,
    y: Any,
    config: Mapping[str, Any] | None = None,
    *,
    n_networks: int = 50,
    entropy: str = "gaussian",
    per_unit: bool = False,
    test_size: float = 0.25,
    classifier: str = "ridge",
    C: float = 1.0,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> RandomNetworks:
    r"""Entropy vs linear accuracy of the features of ``n_networks`` random networks.

    Inputs are standardised per feature (constant features set to 0) so that ``weight_scale``
    means the same on every data set; each network (:func:`random_features`, architecture from
    :func:`sample_architectures`) maps them to features, whose entropy is the ``entropy`` measure
    of :func:`~structlearn.analysis.entropy_gain.layer_entropies` after per-unit standardisation
    (``"gaussian"``: :math:`\tfrac d2\log 2\pi e + \tfrac12\log\det R`, R the units' correlation
    matrix; constant units dropped), on all samples (entropy uses no labels). A logistic
    classifier (``classifier``) on standardised features is fitted on a stratified training part and
    scored on the held-out part (the same split for every network).

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    y : array-like of int, shape (n_samples,)
    config : dict, optional
        Overrides of :data:`DEFAULT_CONFIG` (unknown keys are an error).
    n_networks : int
    entropy : {"gaussian", "marginal", "total_correlation"}
    per_unit : bool
        Divide each entropy by the number of units kept (compare networks of different widths).
    test_size : float in (0, 1)
    classifier : {"ridge", "logistic"}
        ``"ridge"``: least-squares one-vs-rest (``RidgeClassifier``, ``alpha = 1 / C``), closed
        form and ~100x faster; ``"logistic"``: multinomial logistic regression (L2, ``C``).
    C : float
        Inverse L2 strength of the classifier.
    n_bootstrap, confidence :
        Bootstrap over networks for the interval of Spearman's rho.
    random_state : int, Generator or None
        Seeds architectures, weights, split and bootstrap.

    Returns
    -------
    RandomNetworks
    """
    Xa = check_array(X, "X", ndim=2, min_samples=4)
    ya = check_labels(y, "y", n_samples=Xa.shape[0])
    if len(np.unique(ya)) < 2:
        raise ValueError("y: expected at least 2 classes, got 1")
    check_option(entropy, "entropy", MEASURES)
    ts = check_scalar(
        test_size, "test_size", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    check_option(classifier, "classifier", CLASSIFIERS)
    check_scalar(C, "C", low=0.0, low_inclusive=False)
    cfg = check_config(config)
    rng = check_random_state(random_state)
    archs = sample_architectures(cfg, n_networks, rng)
    tr, te = _split(ya, float(ts), int(rng.integers(2**31 - 1)))
    Xs = _standardise_inputs(Xa)
    rows = []
    for arch in archs:
        params = {k: v for k, v in arch.items() if k != "seed"}
        z = random_features(Xs, **params, random_state=arch["seed"])
        try:
            h, d = layer_entropy(z, entropy)
        except DeadLayerError:  # every unit dead: left out below, with a warning
            h, d = float("nan"), 0
        rows.append(
            (h / max(d, 1) if per_unit else h, d, *_linear_accuracy(z, ya, tr, te, classifier, C))
        )
    ent, dims, acc_tr, acc_te = (np.array(col) for col in zip(*rows, strict=True))
    ok = np.isfinite(ent)
    if not ok.all():
        warnings.warn(
            f"{int((~ok).sum())} of {len(ent)} random networks have only constant features "
            "(e.g. every ReLU dead; entropy -inf); they are left out of the rank correlation "
            "(entropy NaN). Narrow config['weight_scale'] or raise config['bias_scale'].",
            UserWarning,
            stacklevel=2,
        )
    if ok.sum() < 3:
        raise ValueError(
            f"n_networks: only {int(ok.sum())} network(s) with non-constant features; need 3 "
            "for a rank correlation; draw more networks"
        )
    rho, lo, hi = spearman_interval(
        ent[ok], acc_te[ok], n_bootstrap=n_bootstrap, confidence=confidence, random_state=rng
    )
    desc = (
        f"{entropy} entropy of the features after per-unit standardisation (constant units dropped)"
    )
    return RandomNetworks(
        architectures=archs,
        entropy_nats=ent,
        entropy_estimator=desc,
        classifier=classifier,
        per_unit=bool(per_unit),
        n_dims=dims.astype(int),
        train_accuracy=acc_tr,
        test_accuracy=acc_te,
        chance_accuracy=float(np.bincount(ya[te]).max() / len(te)),
        spearman=rho,
        spearman_interval=[lo, hi],
        n_bootstrap=int(n_bootstrap),
        confidence=float(confidence),
        config=cfg,
        n_train=len(tr),
        n_test=len(te),
    )
