"""Layer probes and maps: where in a network the label becomes linearly readable.

For every layer's features: the held-out accuracy of a linear probe (multinomial logistic
regression on standardised features; a k-nearest-neighbour probe as the nonlinear alternative), so
a user sees at which depth predictive information saturates (:func:`saturation_index`); and a 2-D
or 3-D t-SNE map coloured by label, with the share of each point's map neighbours that share its
label as the number behind the picture (3-D maps become a page a reader can rotate:
:mod:`structlearn.report.scatter3d`).

References
----------
- G. Alain & Y. Bengio, "Understanding intermediate layers using linear classifier probes",
  ICLR workshop (2017).
- L. van der Maaten & G. Hinton, "Visualizing data using t-SNE", JMLR 9 (2008).
- Y. Yu, K. H. R. Chan, C. You, C. Song, Y. Ma, "Learning diverse and discriminative
  representations via the principle of maximal coding rate reduction", NeurIPS (2020): layer-wise
  linear separability as the goal of MCR² and ReduNet layers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from structlearn.analysis.base import AnalysisResult, check_layers, new_axes
from structlearn.utils.validation import (
    check_labels,
    check_random_state,
    check_scalar,
    relabel,
)

__all__ = [
    "LayerMaps",
    "LayerProbes",
    "analyze_layer_maps",
    "analyze_probes",
    "probe_layers",
    "saturation_index",
    "tsne_maps",
]

PROBES = ("linear", "knn")


# --------------------------------------------------------------------------------------- validation
def _check_layers(layers: Any, labels: Any) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """Layers (see :func:`~structlearn.analysis.base.check_layers`) and their samples' labels."""
    names, arrays = check_layers(layers)
    y = check_labels(labels, "labels")
    if len(arrays[0]) != len(y):
        raise ValueError(
            f"layers[{names[0]!r}]: has {len(arrays[0])} samples but labels has {len(y)}; every "
            "layer must hold the features of the labelled samples, row for row"
        )
    if len(np.unique(y)) < 2:
        raise ValueError("labels: expected at least 2 classes, got 1")
    return names, arrays, y


# ------------------------------------------------------------------------------------------- probes
def saturation_index(scores: Any, tolerance: float) -> int:
    """Index of the first layer whose score is within ``tolerance`` of the best layer's.

    The saturation layer of Alain & Bengio's probe curves: with ``scores`` the probe accuracy of
    the input (index 0) and of each layer after it, layers past the returned index add at most
    ``tolerance`` to the best score.

    Parameters
    ----------
    scores : array-like of float (n_layers,)
        Finite scores, higher is better (accuracies, neighbour agreements).
    tolerance : float >= 0
        Same unit as ``scores``.

    >>> saturation_index([0.2, 0.5, 0.61, 0.6, 0.62], 0.01)
    2
    >>> saturation_index([0.9, 0.8, 0.5], 0.0)
    0
    """
    tol = check_scalar(tolerance, "tolerance", low=0.0)
    s = np.asarray(scores)
    if s.ndim != 1 or s.size == 0 or not np.issubdtype(s.dtype, np.number):
        raise ValueError(f"scores: expected a non-empty 1-D array of numbers, got {s!r:.80}")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise ValueError(f"scores: expected finite values, got {s.tolist()}")
    return int(np.flatnonzero(s >= s.max() - tol)[0])


@dataclass
class LayerProbes(AnalysisResult):
    """Probe accuracy of every layer (a linear probe unless ``probe`` says ``"knn"``).

    Attributes
    ----------
    names : list of str
    n_features : ndarray (n_layers,)
    train_accuracy, test_accuracy : ndarray (n_layers,)
    chance_accuracy : float
        The held-out share of the most frequent class (what a constant guess scores).
    saturation_layer : str
        The first layer whose test accuracy is within ``tolerance`` of the best layer's.
    tolerance : float
    n_train, n_test : int
    probe : str
        ``"linear"`` (logistic regression) or ``"knn"`` (k-nearest-neighbour vote).
    """

    names: list[str]
    n_features: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    chance_accuracy: float
    tolerance: float
    n_train: int
    n_test: int
    saturation_layer: str = field(init=False)
    probe: str = "linear"

    def __post_init__(self) -> None:
        self.saturation_layer = self.names[saturation_index(self.test_accuracy, self.tolerance)]

    def plot(self, ax: Any = None) -> Any:
        """Train and held-out probe accuracy by layer, with chance and the saturation layer."""
        ax = new_axes(ax)
        x = np.arange(len(self.names))
        ax.plot(x, self.test_accuracy, "o-", label="held-out")
        ax.plot(x, self.train_accuracy, "o--", color="C0", alpha=0.5, label="train")
        ax.axhline(self.chance_accuracy, color="k", ls=":", lw=1, label="chance")
        ax.axvline(
            self.names.index(self.saturation_layer), color="C3", lw=1, alpha=0.6, label="saturates"
        )
        ax.set_xticks(x, self.names, rotation=30 if len(x) > 6 else 0)
        ax.set_ylabel(f"{'linear' if self.probe == 'linear' else 'kNN'}-probe accuracy")
        ax.set_ylim(0.0, 1.02)
        ax.legend(frameon=False, fontsize="small")
        return ax


def _split(y: np.ndarray, test_size: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Stratified train/test indices that depend on which samples share a label, not on the
    label values (so relabelling the classes gives the same split): samples are visited in a
    seeded random order and the first ``round(test_size * n_c)`` of each class (at least one when
    the class has two or more) go to the test part."""
    order = rng.permutation(len(y))
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        members = order[y[order] == c]
        k = round(test_size * len(members))
        k = min(max(k, 1), len(members) - 1) if len(members) >= 2 else 0
        test[members[:k]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)


def _fit_probe(x_tr: np.ndarray, y_tr: np.ndarray, C: float, max_iter: int, name: str) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        probe.fit(x_tr, y_tr)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        warnings.warn(
            f"linear probe of layer {name!r} did not converge in max_iter={max_iter} iterations; "
            "its accuracy may be underestimated. Increase max_iter or lower C.",
            UserWarning,
            stacklevel=3,
        )
    return probe


def _check_split(split: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices given by a caller: two disjoint non-empty index arrays."""
    if not isinstance(split, tuple | list) or len(split) != 2:
        raise ValueError("split: expected (train indices, test indices)")
    parts = []
    for name, idx in zip(("train", "test"), split, strict=True):
        a = np.asarray(idx)
        if a.ndim != 1 or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"split: {name} indices: expected a non-empty 1-D integer array")
        if a.min() < 0 or a.max() >= n or len(np.unique(a)) < a.size:
            raise ValueError(f"split: {name} indices: expected distinct rows in [0, {n})")
        parts.append(a.astype(np.int64))
    if np.intersect1d(*parts).size:
        raise ValueError("split: train and test indices overlap; a probe must score unseen rows")
    return parts[0], parts[1]


def _fit_knn(x_tr: np.ndarray, y_tr: np.ndarray, n_neighbors: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    k = min(n_neighbors, len(y_tr))
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k)).fit(x_tr, y_tr)


def analyze_probes(
    layers: Any,
    labels: Any,
    *,
    probe: str = "linear",
    n_neighbors: int = 10,
    test_size: float = 0.25,
    C: float = 1.0,
    max_iter: int = 2000,
    tolerance: float = 0.01,
    random_state: int | np.random.Generator | None = 0,
    split: tuple[Any, Any] | None = None,
) -> LayerProbes:
    r"""Held-out accuracy of a linear probe (or a kNN probe) on every layer.

    Each layer's features are standardised (statistics of the training part) and a multinomial
    logistic regression with L2 penalty :math:`\frac{1}{2C}\|W\|^2` is fitted
    (``sklearn.linear_model.LogisticRegression``; Alain & Bengio's linear classifier probe); the
    same stratified split is used for every layer. ``probe="knn"`` replaces the logistic
    regression by a majority vote of the ``n_neighbors`` nearest training samples (Euclidean, on
    the standardised features): a nonlinear probe that needs no fitting, the usual cross-check
    that a layer's gain is not the linear probe's capacity.

    Parameters
    ----------
    layers : mapping name -> array (n_samples, ...) or list of arrays
        Features of every layer (torch tensors accepted; extra axes are flattened).
    labels : array-like of int (n_samples,)
    probe : {"linear", "knn"}
    n_neighbors : int
        Neighbours of the kNN probe (capped at the training size; unused by the linear probe).
    test_size : float in (0, 1)
        Held-out share.
    C : float
        Inverse regularisation strength.
    max_iter : int
        Solver iterations (a warning names the layer if it is not enough).
    tolerance : float
        Accuracy gap to the best layer under which a layer counts as saturated.
    random_state : int, Generator or None
        Seeds the split.
    split : (train indices, test indices), optional
        Rows to fit and to score the probes on instead of the seeded split (e.g. the split a
        network was trained on, so the probes score on samples it never saw); ``test_size`` and
        ``random_state`` are then unused. Disjoint, non-empty, inside ``[0, n_samples)``.

    Returns
    -------
    LayerProbes

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> layers = {"noise": rng.normal(size=(80, 3)), "signal": y[:, None] + 0.1 * rng.normal(size=(80, 1))}
    >>> res = analyze_probes(layers, y)
    >>> res.test_accuracy.tolist()[1], res.saturation_layer
    (1.0, 'signal')
    """
    names, arrays, y = _check_layers(layers, labels)
    if probe not in PROBES:
        raise ValueError(f"probe: expected one of {PROBES}, got {probe!r}")
    n_neighbors = check_scalar(n_neighbors, "n_neighbors", kind=(int, np.integer), low=1)
    ts = check_scalar(
        test_size, "test_size", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    C = check_scalar(C, "C", low=0.0, low_inclusive=False)
    max_iter = check_scalar(max_iter, "max_iter", kind=(int, np.integer), low=1)
    tol = check_scalar(tolerance, "tolerance", low=0.0)
    if split is None:
        tr, te = _split(y, ts, check_random_state(random_state))
    else:
        tr, te = _check_split(split, len(y))
    if len(np.unique(y[tr])) < 2:
        raise ValueError("labels: the training split holds a single class; use more samples")
    train_acc, test_acc = [], []
    for name, x in zip(names, arrays, strict=True):
        top = float(np.abs(x).max())
        x = x / top if top > 1e100 else x  # standardising is scale-free; x1e300 overflowed it
        if probe == "linear":
            fitted = _fit_probe(x[tr], y[tr], C, max_iter, name)
        else:
            fitted = _fit_knn(x[tr], y[tr], int(n_neighbors))
        train_acc.append(fitted.score(x[tr], y[tr]))
        test_acc.append(fitted.score(x[te], y[te]))
    return LayerProbes(
        names=names,
        n_features=np.array([a.shape[1] for a in arrays]),
        train_accuracy=np.array(train_acc),
        test_accuracy=np.array(test_acc),
        chance_accuracy=float(np.unique(y[te], return_counts=True)[1].max() / len(te)),
        tolerance=float(tol),
        n_train=len(tr),
        n_test=len(te),
        probe=probe,
    )


# --------------------------------------------------------------------------------------------- maps
@dataclass
class LayerMaps(AnalysisResult):
    """t-SNE maps of every layer's features (the same subsample of points for every layer).

    Attributes
    ----------
    names : list of str
    embedding : ndarray (n_layers, n_points, n_components)
        2-D maps by default; 3-D with ``n_components=3`` (write those as a page a reader can
        rotate with :func:`structlearn.report.scatter3d.write_scatter3d_page`).
    labels : ndarray (n_points,)
    indices : ndarray (n_points,)
        Which input samples were mapped.
    neighbour_agreement : ndarray (n_layers,)
        Share of each point's ``n_neighbors`` nearest map neighbours that carry its label,
        averaged over points: near 1 when classes form separate islands, near the label
        collision rate :math:`\\sum_c p_c^2` when the map ignores labels.
    chance_agreement : float
        That collision rate.
    perplexity : float
    n_neighbors : int
    degenerate : list of (str or None)
        Per layer, why it has no map (every sample has the same features: a dead or saturated
        layer, itself a finding), else None. Such a layer's embedding is all zeros and its
        neighbour agreement is the chance agreement (every neighbour is a tie).
    """

    names: list[str]
    embedding: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    neighbour_agreement: np.ndarray
    chance_agreement: float
    perplexity: float
    n_neighbors: int
    degenerate: list[str | None] = field(default_factory=list)

    @property
    def n_components(self) -> int:
        """Dimensions of the maps (2 or 3)."""
        return int(self.embedding.shape[-1])

    def plot(self, ax: Any = None, layer: int | str | None = None) -> Any:
        """One layer's map on ``ax`` (``layer``: index or name; default the last layer).

        3-D maps need 3-D axes (``fig.add_subplot(projection="3d")``; made when ``ax`` is None):
        a still view; the rotating one is the page of :mod:`structlearn.report.scatter3d`."""
        if ax is None and self.n_components == 3:
            import matplotlib.pyplot as plt

            ax = plt.figure(figsize=(4.0, 4.0)).add_subplot(projection="3d")
        if self.n_components == 3 and getattr(ax, "name", "") != "3d":
            raise ValueError("ax: a 3-D map needs axes made with projection='3d'")
        ax = new_axes(ax, figsize=(4.0, 4.0))
        i = len(self.names) - 1 if layer is None else layer
        i = self.names.index(i) if isinstance(i, str) else int(i)
        if self.degenerate and self.degenerate[i]:
            ax.text(
                0.5,
                0.5,
                self.degenerate[i].replace(": ", ":\n", 1),
                ha="center",
                va="center",
                wrap=True,
                fontsize="small",
                transform=ax.transAxes,
            )
            ax.set_title(f"{self.names[i]}: no map", fontsize="small")
            ax.set_xticks([])
            ax.set_yticks([])
            return ax
        emb = self.embedding[i]
        codes = relabel(self.labels)[0]
        ax.scatter(
            *emb.T,
            c=codes,
            s=6,
            cmap="tab10",
            alpha=0.8,
            vmin=-0.5,
            vmax=9.5 if codes.max() < 10 else None,
        )
        ax.set_title(
            f"{self.names[i]}: neighbours agree {self.neighbour_agreement[i]:.2f}", fontsize="small"
        )
        ax.set_xticks([])
        ax.set_yticks([])
        if self.n_components == 3:
            ax.set_zticks([])
        return ax

    def figure(self, n_cols: int = 4) -> Any:
        """All layers' maps on one figure."""
        import matplotlib.pyplot as plt

        n = len(self.names)
        cols = min(n, n_cols)
        rows = int(np.ceil(n / cols))
        fig, axes = plt.subplots(
            rows,
            cols,
            figsize=(3.2 * cols, 3.2 * rows),
            constrained_layout=True,
            squeeze=False,
            subplot_kw={"projection": "3d"} if self.n_components == 3 else None,
        )
        for i, ax in enumerate(axes.ravel()):
            if i < n:
                self.plot(ax, layer=i)
            else:
                ax.axis("off")
        return fig


def _neighbour_agreement(emb: np.ndarray, y: np.ndarray, k: int) -> float:
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(emb).kneighbors(emb)
    return float((y[idx[:, 1:]] == y[:, None]).mean())


def degenerate_reason(x: np.ndarray) -> str | None:
    """Why a layer's features (n_samples, n_units) cannot be mapped, or None when they can.

    A dead ReLU layer, a saturated tanh layer or a constant input gives every sample the same
    feature vector: there is nothing to embed (and t-SNE's PCA initialisation would divide by a
    zero variance and hand NaN to compiled code, which crashed the process).
    """
    if x.shape[1] == 0 or np.all(x == x[:1]):
        value = "all zero" if not np.any(x) else "constant"
        return (
            f"degenerate: every sample has the same features ({value}; a dead or saturated layer)"
        )
    return None


def _embed(
    x: np.ndarray,
    perplexity: float,
    pca_dims: int,
    seed: int,
    n_threads: int | None,
    n_components: int = 2,
) -> np.ndarray:
    """t-SNE of ``x`` (n_samples, n_units), which must not be degenerate, to
    (n_samples, n_components)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    # Standardising is scale-free; dividing by the largest magnitude first keeps the variances
    # of x1e300 features finite.
    z = StandardScaler().fit_transform(x / np.max(np.abs(x)))
    if z.shape[1] > pca_dims:
        # at most one component per sample: fewer points than pca_dims raised in PCA
        z = PCA(n_components=min(pca_dims, len(z)), random_state=seed).fit_transform(z)
    if z.shape[1] < n_components:  # PCA initialisation needs n_components columns; zero ones
        z = np.hstack([z, np.zeros((len(z), n_components - z.shape[1]))])  # change no distance
    if not np.isfinite(z).all():  # never hand NaN to compiled code
        raise ValueError("layers: standardised features are not finite; rescale the layer")
    # 3-D: Kobak & Berens' (2019) learning rate n/12. scikit-learn's "auto", max(n/48, 50), is
    # kept for 2-D (the maps it always gave); its floor of 50 leaves 3-D maps of a few hundred
    # points unconverged (90 points of three separated blobs: KL 1.2 against 0.007 at n/12,
    # and map neighbours of another class).
    lr: Any = "auto" if n_components == 2 else max(len(z) / 12.0, 1.0)
    with threadpool_limits(n_threads):
        tsne = TSNE(
            n_components=n_components,
            perplexity=perplexity,
            init="pca",
            random_state=seed,
            learning_rate=lr,
        )
        return tsne.fit_transform(z)


def analyze_layer_maps(
    layers: Any,
    labels: Any,
    *,
    n_max: int = 1000,
    perplexity: float = 30.0,
    pca_dims: int = 50,
    n_neighbors: int = 10,
    n_threads: int | None = 1,
    random_state: int | np.random.Generator | None = 0,
    n_components: int = 2,
) -> LayerMaps:
    """t-SNE map (2-D, or 3-D) of every layer's features, coloured by label.

    At most ``n_max`` samples (a seeded random subset, the same for every layer) are mapped;
    features are standardised and, above ``pca_dims`` dimensions, reduced by PCA first (the usual
    speed-up; t-SNE's cost grows with the dimension of its input).

    Parameters
    ----------
    layers : mapping name -> array (n_samples, ...) or list of arrays
    labels : array-like of int (n_samples,)
    n_max : int
    perplexity : float
        Capped at ``(n_points - 1) / 3`` for small subsets.
    pca_dims : int
    n_neighbors : int
        Map neighbours used for ``neighbour_agreement``.
    n_threads : int or None
        OpenMP threads for t-SNE's gradient (``threadpoolctl``). One by default: on a machine
        shared with other work, OpenMP's busy-waiting threads made a 1,000-point map 5x slower
        (49 s against 10 s on 2 loaded cores); ``None`` uses every core.
    random_state : int, Generator or None
    n_components : {2, 3}
        Dimensions of the maps (van der Maaten & Hinton 2008 map to 2 or 3). The same subsample
        and t-SNE seed are used for either, so ``random_state`` fixes both; 3-D maps use the
        learning rate n/12 (Kobak & Berens 2019, "The art of using t-SNE for single-cell
        transcriptomics"), 2-D maps scikit-learn's ``"auto"``.

    Returns
    -------
    LayerMaps
    """
    names, arrays, y = _check_layers(layers, labels)
    n_max = check_scalar(n_max, "n_max", kind=(int, np.integer), low=5)
    perp = check_scalar(perplexity, "perplexity", low=0.0, low_inclusive=False)
    pca_dims = check_scalar(pca_dims, "pca_dims", kind=(int, np.integer), low=2)
    if (
        not isinstance(n_components, int | np.integer)
        or isinstance(n_components, bool)
        or (n_components not in (2, 3))
    ):
        raise ValueError(f"n_components: expected 2 or 3 (map dimensions), got {n_components!r}")
    dim = int(n_components)
    rng = check_random_state(random_state)
    idx = np.sort(rng.choice(len(y), size=min(n_max, len(y)), replace=False))
    k = check_scalar(n_neighbors, "n_neighbors", kind=(int, np.integer), low=1, high=len(idx) - 1)
    perp = min(float(perp), (len(idx) - 1) / 3.0)
    seed = int(rng.integers(2**31 - 1))
    ys = y[idx]
    p = np.unique(ys, return_counts=True)[1] / len(ys)
    chance = float((p * p).sum())
    degenerate = [degenerate_reason(a[idx]) for a in arrays]
    emb = np.stack(
        [
            np.zeros((len(idx), dim))
            if bad
            else _embed(a[idx], perp, int(pca_dims), seed, n_threads, dim)
            for a, bad in zip(arrays, degenerate, strict=True)
        ]
    )
    agreement = [
        chance if bad else _neighbour_agreement(e, ys, int(k))
        for e, bad in zip(emb, degenerate, strict=True)
    ]
    return LayerMaps(
        names=names,
        embedding=emb,
        labels=ys,
        indices=idx,
        neighbour_agreement=np.array(agreement),
        chance_agreement=chance,
        perplexity=perp,
        n_neighbors=int(k),
        degenerate=degenerate,
    )


def probe_layers(*args: Any, **kwargs: Any) -> LayerProbes:
    """Deprecated alias of :func:`analyze_probes` (warns)."""
    warnings.warn(
        "probe_layers is deprecated; use analyze_probes (same arguments)",
        DeprecationWarning,
        stacklevel=2,
    )
    return analyze_probes(*args, **kwargs)


def tsne_maps(*args: Any, **kwargs: Any) -> LayerMaps:
    """Deprecated alias of :func:`analyze_layer_maps` (warns)."""
    warnings.warn(
        "tsne_maps is deprecated; use analyze_layer_maps (same arguments)",
        DeprecationWarning,
        stacklevel=2,
    )
    return analyze_layer_maps(*args, **kwargs)
