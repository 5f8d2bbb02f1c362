"""Random-weight networks: does what their features carry predict linear accuracy on them?

Many networks with random, untrained weights are drawn (depth, width, activation and weight scale
from a space of choices, :mod:`structlearn.models.random_features`); on a labelled data set each
one's output features get the layer measures of :mod:`structlearn.analysis.layer_measures`
(channel information, coding rate, sum of marginal entropies, standardised Gaussian log-det) and
the held-out accuracy of a linear classifier trained on them (and, as a control, of the same
classifier trained on shuffled labels). The Spearman rank correlation between each measure and the
accuracy, with a bootstrap interval over networks, says how far "carries more" means "more
linearly useful" for features nobody trained.

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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from structlearn.analysis.base import AnalysisResult, new_axes
from structlearn.analysis.layer_measures import (
    LAYER_MEASURES,
    LayerMeasures,
    analyze_layer_measures,
)
from structlearn.models.random_features import (
    DEFAULT_SPACE,
    check_space,
    random_features,
    sample_architectures,
)
from structlearn.scalars import Scalar, Summarised
from structlearn.utils.validation import (
    check_array,
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "CLASSIFIERS",
    "DEFAULT_CONFIG",
    "RandomNetworks",
    "analyze_random_networks",
    "check_config",
    "random_features",
    "sample_architectures",
    "spearman_interval",
]

#: the architecture space's defaults (now :data:`structlearn.models.random_features.DEFAULT_SPACE`)
DEFAULT_CONFIG = DEFAULT_SPACE
CLASSIFIERS = ("logistic", "ridge")
_OLD_ENTROPY = {"gaussian": "gaussian_entropy", "marginal": "marginal_entropy"}


def check_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The architecture space validated (:func:`~structlearn.models.random_features.check_space`);
    errors call it ``config``."""
    return check_space(config, name="config")


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
class RandomNetworks(AnalysisResult, Summarised):
    """Layer measures and linear accuracy of random-network features, and their rank correlations.

    Attributes
    ----------
    architectures : list of dict
        ``depth``, ``width``, ``activation``, ``weight_scale``, ``bias_scale``, ``seed``.
    measures : list of LayerMeasures or None
        Each network's output measures (None for a network whose units are all constant; it is
        left out of the correlations with a warning).
    measure : str
        The measure ``spearman`` leads with (one of
        :data:`~structlearn.analysis.layer_measures.LAYER_MEASURES`).
    classifier : str
        ``"logistic"`` (multinomial, softmax) or ``"ridge"``.
    train_accuracy, test_accuracy : ndarray (n_networks,)
        Linear classifier on standardised features; held-out part for ``test_accuracy``.
    shuffled_accuracy : ndarray (n_networks,)
        Held-out accuracy of the classifier trained on shuffled training labels (the control).
    chance_accuracy : float
        Held-out share of the most frequent class.
    spearman : dict measure -> [rho, low, high] (None where a variable is constant)
        Rank correlation of each measure with ``test_accuracy`` over the networks with
        non-constant features, and its percentile bootstrap interval over networks; a Gaussian
        log-det that is -inf (rank below width) ranks below every finite one. Also
        ``"control_shuffled"`` (``measure`` against ``shuffled_accuracy``) and ``"width"``
        (the number of units against ``test_accuracy``).
    n_bootstrap : int
    confidence : float
    space : dict
        The resolved architecture space.
    n_train, n_test : int
    """

    architectures: list[dict[str, Any]]
    measures: list[LayerMeasures | None]
    measure: str
    classifier: str
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    shuffled_accuracy: np.ndarray
    chance_accuracy: float
    spearman: dict[str, list[float]]
    n_bootstrap: int
    confidence: float
    space: dict[str, Any] = field(default_factory=dict)
    n_train: int = 0
    n_test: int = 0

    scalars: ClassVar[dict[str, Scalar]] = {
        **{
            f"rho_{m}{s}": Scalar("", True, doc=f"Spearman rho ({m}, held-out accuracy){d}")
            for m in (*LAYER_MEASURES, "control_shuffled", "width")
            for s, d in (("", ""), ("_low", ": bootstrap low"), ("_high", ": bootstrap high"))
        },
        "chance_accuracy": Scalar("accuracy", None, doc="held-out share of the largest class"),
        "median_test_accuracy": Scalar("accuracy", True, doc="median over networks"),
        "share_at_ceiling": Scalar(
            "fraction", False, doc="networks whose channel information is within 5% of log n"
        ),
        "n_networks": Scalar("count", None, doc="networks with non-constant features"),
    }

    def __getattr__(self, name: str) -> float | None:
        """``rho_<measure>[_low|_high]``: an entry of ``spearman`` (the declared scalars)."""
        spearman = self.__dict__.get("spearman")
        if spearman is not None and name.startswith("rho_"):
            for part, suffix in ((1, "_low"), (2, "_high"), (0, "")):
                key = name[4:].removesuffix(suffix) if suffix else name[4:]
                if (not suffix or name.endswith(suffix)) and key in spearman:
                    value = spearman[key][part]
                    return None if value is None else float(value)
        raise AttributeError(name)

    @property
    def median_test_accuracy(self) -> float:
        return float(np.median(self.test_accuracy[self.alive]))

    @property
    def alive(self) -> np.ndarray:
        """Networks with non-constant features, shape (n_networks,) bool."""
        return np.array([m is not None for m in self.measures])

    @property
    def n_networks(self) -> int:
        return int(self.alive.sum())

    @property
    def share_at_ceiling(self) -> float:
        ms = [m for m in self.measures if m is not None]
        return float(np.mean([m.channel_information >= 0.95 * m.channel_ceiling for m in ms]))

    def values(self, measure: str) -> np.ndarray:
        """One measure per network, shape (n_networks,); NaN for dead networks, -inf for a
        Gaussian log-det below full rank."""
        check_option(measure, "measure", LAYER_MEASURES)
        out = []
        for m in self.measures:
            v = None if m is None else getattr(m, measure)
            out.append(np.nan if m is None else (-np.inf if v is None else float(v)))
        return np.array(out)

    def per_network(self) -> dict[str, list]:
        """Per network, JSON-ready: width, accuracies and every measure (None for a dead
        network, and for a Gaussian log-det of -inf)."""
        out: dict[str, list] = {"width": [a["width"] for a in self.architectures]}
        for key in ("test_accuracy", "shuffled_accuracy"):
            acc = getattr(self, key)
            out[key] = [float(a) if ok else None for a, ok in zip(acc, self.alive, strict=True)]
        for m in LAYER_MEASURES:
            out[m] = [float(v) if np.isfinite(v) else None for v in self.values(m)]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: architectures, accuracies, each network's measures, the correlations."""
        return {
            "architectures": self.architectures,
            "measures": [None if m is None else m.summary() for m in self.measures],
            "measure": self.measure,
            "classifier": self.classifier,
            "train_accuracy": self.train_accuracy.tolist(),
            "test_accuracy": self.test_accuracy.tolist(),
            "shuffled_accuracy": self.shuffled_accuracy.tolist(),
            "spearman": self.spearman,
            **self.summary(),
        }

    def plot(self, ax: Any = None, measure: str | None = None) -> Any:
        """Held-out accuracy against ``measure`` (default: the leading one), one point per
        network, coloured by activation; rank-deficient Gaussian values drawn at the left edge."""
        measure = measure or self.measure
        ax = new_axes(ax)
        x = self.values(measure)
        finite = np.isfinite(x)
        left = np.nanmin(x[finite]) if finite.any() else 0.0
        acts = [a["activation"] for a in self.architectures]
        for i, name in enumerate(sorted(set(acts))):
            sel = np.array([a == name for a in acts]) & self.alive
            ax.scatter(
                np.where(finite, x, left)[sel],
                self.test_accuracy[sel],
                s=18,
                color=f"C{i}",
                alpha=0.8,
                marker="o",
                label=name,
            )
        ax.axhline(self.chance_accuracy, color="k", ls=":", lw=1, label="chance")
        if measure.startswith("channel_information"):
            ceiling = next(m for m in self.measures if m is not None).channel_ceiling
            ax.axvline(ceiling, color="grey", ls="--", lw=1, label=f"ceiling log n = {ceiling:.2f}")
        ax.set_xlabel(f"{measure.replace('_', ' ')} [nats]")
        ax.set_ylabel(f"held-out accuracy ({self.classifier})")
        rho, lo, hi = self.spearman[measure]
        ax.set_title(
            f"Spearman rho = {rho:.2f} [{lo:.2f}, {hi:.2f}], {self.n_networks} networks",
            fontsize="small",
        )
        ax.legend(frameon=False, fontsize="small")
        return ax


def _standardise_inputs(X: np.ndarray) -> np.ndarray:
    std = X.std(axis=0)
    return np.where(std > 0, (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0), 0.0)


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
        model = LogisticRegression(C=C, max_iter=1000)
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


def _ranked(x: np.ndarray) -> np.ndarray:
    """-inf (a Gaussian log-det below full rank) replaced by a value below every finite one: the
    same ranks, finite numbers for the bootstrap."""
    finite = x[np.isfinite(x)]
    floor = (finite.min() - 1.0) if finite.size else 0.0
    return np.where(np.isneginf(x), floor, x)


def _correlations(
    res_values: dict[str, np.ndarray],
    acc: np.ndarray,
    shuffled: np.ndarray,
    lead: str,
    boot: dict[str, Any],
) -> dict[str, list[float]]:
    out = {}
    pairs = {m: (v, acc) for m, v in res_values.items()}
    pairs["control_shuffled"] = (res_values[lead], shuffled)
    pairs["width"] = (res_values["width"], acc)
    for name, (x, a) in pairs.items():
        x = _ranked(x)
        if np.ptp(x) == 0 or np.ptp(a) == 0:
            out[name] = [None, None, None]  # undefined: a constant variable orders nothing
            continue
        out[name] = list(spearman_interval(x, a, **boot))
    return out


def _deprecated_options(config: Any, entropy: str | None, measure: str) -> tuple[dict, str]:
    space: dict[str, Any] = {}
    if config is not None:
        warnings.warn(
            "analyze_random_networks(X, y, config): the config dict is deprecated; pass depth=, "
            "width=, activation=, weight_scale=, bias_scale= as keywords",
            FutureWarning,
            stacklevel=3,
        )
        space = dict(check_config(config))
    if entropy is not None:
        warnings.warn(
            "analyze_random_networks(entropy=...) is deprecated; use measure= (one of "
            f"{', '.join(LAYER_MEASURES)})",
            FutureWarning,
            stacklevel=3,
        )
        measure = _OLD_ENTROPY[check_option(entropy, "entropy", list(_OLD_ENTROPY))]
    return space, measure


def analyze_random_networks(
    X: Any,
    y: Any,
    config: Mapping[str, Any] | None = None,
    *,
    n_networks: int = 50,
    depth: Sequence[int] = (1, 2, 3),
    width: Sequence[int] = (16, 32, 64, 128),
    activation: Sequence[str] = ("relu", "tanh", "sigmoid"),
    weight_scale: Sequence[float] = (0.1, 10.0),
    bias_scale: Sequence[float] = (0.0, 0.5),
    measure: str = "channel_information",
    noise_std: float = 0.3,
    eps: float = 0.5,
    max_samples: int | None = 1000,
    test_size: float = 0.25,
    classifier: str = "logistic",
    C: float = 1.0,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
    entropy: str | None = None,
) -> RandomNetworks:
    r"""Layer measures vs linear accuracy of the features of ``n_networks`` random networks.

    Inputs are standardised per feature (constant features set to 0) so that ``weight_scale``
    means the same on every data set; each network
    (:func:`~structlearn.models.random_features.random_features`, architecture drawn by
    :func:`~structlearn.models.random_features.sample_architectures` from ``depth``, ``width``, ``activation`` (uniform choices),
    ``weight_scale`` (log-uniform on [low, high]) and ``bias_scale`` (uniform)) maps them to
    features, measured by :func:`~structlearn.analysis.layer_measures.analyze_layer_measures`
    (no labels; a seeded subset of ``max_samples`` rows). A linear classifier on standardised
    features is fitted on a stratified training part and scored on the held-out part (the same
    split for every network); the control fits it on shuffled training labels.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    y : array-like of int, shape (n_samples,)
    config : dict, optional
        Deprecated: the architecture space as one dict; pass the keywords instead.
    n_networks : int
    depth, width, activation : sequences of choices
    weight_scale, bias_scale : [low, high]
    measure : one of ``LAYER_MEASURES``
        The measure the result leads with (every one is correlated).
    noise_std, eps, max_samples :
        See :func:`~structlearn.analysis.layer_measures.analyze_layer_measures`.
    test_size : float in (0, 1)
    classifier : {"logistic", "ridge"}
        ``"logistic"``: multinomial (softmax) logistic regression, L2 strength ``1 / C``;
        ``"ridge"``: least-squares one-vs-rest (``RidgeClassifier``, ``alpha = 1 / C``).
    C : float > 0
    n_bootstrap, confidence :
        Bootstrap over networks for the interval of Spearman's rho.
    random_state : int, Generator or None
        Seeds architectures, weights, split, label shuffle, subsets and bootstrap.
    entropy : {"gaussian", "marginal"}, deprecated
        The old name of ``measure``.

    Returns
    -------
    RandomNetworks
    """
    old_space, measure = _deprecated_options(config, entropy, measure)
    Xa = check_array(X, "X", ndim=2, min_samples=4)
    ya = check_labels(y, "y", n_samples=Xa.shape[0])
    if len(np.unique(ya)) < 2:
        raise ValueError("y: expected at least 2 classes, got 1")
    check_option(measure, "measure", LAYER_MEASURES)
    ts = check_scalar(
        test_size, "test_size", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    check_option(classifier, "classifier", CLASSIFIERS)
    check_scalar(C, "C", low=0.0, low_inclusive=False)
    check_scalar(n_bootstrap, "n_bootstrap", kind=(int, np.integer), low=1)
    space = check_space(
        old_space
        or dict(
            depth=depth,
            width=width,
            activation=activation,
            weight_scale=weight_scale,
            bias_scale=bias_scale,
        ),
        name="space",
    )
    rng = check_random_state(random_state)
    archs = sample_architectures(space, n_networks, rng)
    tr, te = _split(ya, float(ts), int(rng.integers(2**31 - 1)))
    shuffled = ya.copy()
    shuffled[tr] = rng.permutation(ya[tr])
    Xs = _standardise_inputs(Xa)
    rows = []
    for arch in archs:
        params = {k: v for k, v in arch.items() if k != "seed"}
        z = random_features(Xs, **params, random_state=arch["seed"])
        m = analyze_layer_measures(
            z, noise_std=noise_std, eps=eps, max_samples=max_samples, random_state=arch["seed"]
        )
        m = m if m.rank > 0 else None  # every unit constant
        acc = _linear_accuracy(z, ya, tr, te, classifier, C) if m else (np.nan, np.nan)
        ctl = _linear_accuracy(z, shuffled, tr, te, classifier, C)[1] if m else np.nan
        rows.append((m, *acc, ctl))
    measures, acc_tr, acc_te, acc_sh = (list(col) for col in zip(*rows, strict=True))
    alive = np.array([m is not None for m in measures])
    if not alive.all():
        warnings.warn(
            f"{int((~alive).sum())} of {len(alive)} random networks have only constant features "
            "(e.g. every ReLU dead); they are left out of the rank correlations. Narrow "
            "weight_scale or raise bias_scale.",
            UserWarning,
            stacklevel=2,
        )
    if alive.sum() < 3:
        raise ValueError(
            f"n_networks: only {int(alive.sum())} network(s) with non-constant features; need 3 "
            "for a rank correlation; draw more networks"
        )
    res = RandomNetworks(
        architectures=archs,
        measures=measures,
        measure=measure,
        classifier=classifier,
        train_accuracy=np.array(acc_tr),
        test_accuracy=np.array(acc_te),
        shuffled_accuracy=np.array(acc_sh),
        chance_accuracy=float(np.bincount(ya[te]).max() / len(te)),
        spearman={},
        n_bootstrap=int(n_bootstrap),
        confidence=float(confidence),
        space=space,
        n_train=len(tr),
        n_test=len(te),
    )
    values = {m: res.values(m)[alive] for m in LAYER_MEASURES}
    values["width"] = np.array([a["width"] for a in archs], dtype=float)[alive]
    boot = dict(n_bootstrap=int(n_bootstrap), confidence=confidence, random_state=rng)
    res.spearman = _correlations(
        values, res.test_accuracy[alive], res.shuffled_accuracy[alive], measure, boot
    )
    return res
