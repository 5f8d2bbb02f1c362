r"""Study: layer-wise learners without backprop against end-to-end networks and kernel SVMs.

Learners compared on sklearn's digits and its bundled tabular sets (iris, wine, breast cancer),
every input standardised with the training split's mean and standard deviation:

- **R²SVM** (Vinyals, Jia, Deng & Darrell 2012, "Learning with recursive perceptual
  representations"): linear SVMs stacked with random projections of their scores
  (:class:`~structlearn.models.r2svm.R2SVMClassifier`); accuracy of every layer's SVM.
- **ReduNet** (Chan, Yu, You, Qi, Wright & Ma 2022): layers written down from the gradient of the
  rate reduction ΔR (:class:`~structlearn.models.redunet.ReduNet`), classified by nearest class
  subspace of each layer's training features (:func:`nearest_subspace_predict`).
- **Sparse-coding stack** (Olshausen & Field 1996; Mairal et al. 2010): unsupervised dictionaries
  learned layer by layer (:class:`~structlearn.models.stack.SparseCodingStack`), then a linear SVM
  on each layer's standardised codes.
- **MLP, cross-entropy**: trained end to end with backprop (:func:`structlearn.train.train`).
- **MLP, MCR²** (Yu, Chan, You, Song & Ma 2020): the same MLP trained end to end to maximise the
  rate reduction of its last layer; classified by **nearest class subspace** (the classifier of
  Yu et al. 2020) on the sphere-projected features of the training set.
- Baselines: a linear SVM (``LinearSVC``) and an RBF-kernel SVM (``SVC``).

"Depth" is the number of layers a learner stacks: SVMs for R²SVM, ΔR steps for ReduNet, coding
layers for the stack (each + a linear SVM), hidden layers for the MLPs (+ a linear readout).
Training time is the process CPU time of each fit, with BLAS, OpenMP and torch held to one thread
(so a loaded machine inflates it little); it goes to ``run.json`` and the figures, not to
``metrics.json``, which holds only what the seed determines.

Claim checked (a public replication of R²SVM on 23 UCI data sets): R²SVM beats a linear SVM on
most data sets and loses to an RBF SVM on nearly all. Wins are counted per data set from the paired
per-seed difference of test accuracies (each seed is one split and one initialisation); see
:func:`verdicts` for the rules.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict
from structlearn.utils.validation import check_array, check_labels

DATASETS = ("digits", "iris", "wine", "breast_cancer")
METHODS = ("linear_svm", "rbf_svm", "r2svm", "redunet", "sparse_coding", "mlp_ce", "mlp_mcr2")
LABELS = {
    "linear_svm": "linear SVM",
    "rbf_svm": "RBF SVM",
    "r2svm": "R²SVM",
    "redunet": "ReduNet (nearest subspace)",
    "sparse_coding": "sparse-coding stack + linear SVM",
    "mlp_ce": "MLP, cross-entropy",
    "mlp_mcr2": "MLP, MCR² (nearest subspace)",
}

SCHEMA = {
    "n_seeds": Field(int, 3, low=1, doc="seeds context.seed, +1, ...: each a split and an init"),
    "data": {
        "datasets": Field(list, list(DATASETS), item=str, doc=f"subset of {', '.join(DATASETS)}"),
        "test_size": Field(float, 0.25, low=0.05, high=0.9, doc="stratified test fraction"),
    },
    "methods": Field(list, list(METHODS), item=str, doc=f"subset of {', '.join(METHODS)}"),
    "svm": {
        "C": Field(float, 1.0, low=1e-8, doc="C of the linear and RBF SVM baselines"),
        "gamma": Field(str, "scale", choices=["scale", "auto"], doc="RBF width rule of SVC"),
    },
    "r2svm": {
        "n_layers": Field(int, 10, low=1, doc="layers; the claim uses the last one"),
        "beta": Field(float, 0.1, low=1e-8, doc="scale of the random projections"),
        "C": Field(float, 1.0, low=1e-8),
    },
    "redunet": {
        "n_layers": Field(int, 10, low=1),
        "eta": Field(float, 0.5, low=1e-8, doc="step size"),
        "eps": Field(float, 0.5, low=1e-8, doc="ε (not ε²) of the coding rate"),
        "lmbda": Field(float, 500.0, low=0.0, doc="sharpness of the estimated membership"),
    },
    "sparse_coding": {
        "n_layers": Field(int, 3, low=1),
        "atoms_per_feature": Field(float, 1.0, low=0.1, doc="atoms = round(this x n_features)"),
        "lambda1": Field(float, 0.1, low=1e-6, doc="l1 weight (inputs scaled to unit mean norm)"),
        "n_iter": Field(int, 50, low=1, doc="SPAMS trainDL iterations per layer"),
    },
    "mlp": {
        "depths": Field(list, [1, 2, 3], item=int, low=1, doc="numbers of hidden layers trained"),
        "width": Field(int, 128, low=1, doc="units per hidden layer"),
        "activation": Field(str, "relu", choices=["relu", "tanh"]),
        "mcr2_features": Field(int, 32, low=2, doc="width of the MCR² feature layer"),
        "mcr2_eps": Field(float, 0.7071, low=1e-6, doc="ε of MCR² (published code's ε² = 0.5)"),
        "steps": Field(int, 500, low=1, doc="Adam steps at least (whole epochs, rounded up)"),
        "batch_size": Field(int, 64, low=2, doc="minibatch (capped at the training-set size)"),
        "lr": Field(float, 3e-3, low=1e-8, doc="Adam learning rate"),
    },
}


# ------------------------------------------------------------------------------- shared helpers


@contextlib.contextmanager
def cpu_settings() -> Iterator[None]:
    """One BLAS/OpenMP/torch thread (restored on exit): stable CPU-time figures on a shared machine."""
    import torch
    from threadpoolctl import threadpool_limits

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(n)


@dataclass(frozen=True)
class Split:
    """Standardised train/test arrays: X (n_samples, n_features), y (n_samples,) in 0..k-1."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """X (n_samples, n_features) float64 and integer labels y of a bundled data set."""
    from sklearn import datasets

    if name == "digits":
        from structlearn.data.vision import load_digits_data

        d = load_digits_data()
        return d.X, d.y
    if name not in DATASETS:
        raise ValueError(f"name: expected one of {', '.join(DATASETS)}, got {name!r}")
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def stratified_split(X: np.ndarray, y: np.ndarray, test_size: float, seed: int) -> Split:
    """Stratified split, then standardise both parts with the training mean and sd.

    >>> X = np.arange(40.0).reshape(20, 2); y = np.repeat([0, 1], 10)
    >>> s = stratified_split(X, y, 0.5, 0)
    >>> np.allclose(s.X_train.mean(0), 0), np.bincount(s.y_test).tolist()
    (True, [5, 5])
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X = check_array(X, "X", ndim=2)
    y = check_labels(y, "y", n_samples=X.shape[0])
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    return Split(scaler.transform(Xtr), ytr, scaler.transform(Xte), yte, int(y.max()) + 1)


def class_subspaces(Z: np.ndarray, y: np.ndarray, n_components: int | None = None) -> np.ndarray:
    """Orthonormal bases (n_classes, n_features, r) of each class's principal (uncentred) subspace.

    ``r = n_components`` or ``max(1, n_features // n_classes)``, capped by the smallest class.
    """
    Z = check_array(Z, "Z", ndim=2)
    y = check_labels(y, "y", n_samples=Z.shape[0])
    k, d = int(y.max()) + 1, Z.shape[1]
    r = n_components if n_components is not None else max(1, d // k)
    r = min(r, d, int(np.bincount(y, minlength=k).min()))
    if r < 1:
        raise ValueError(f"y: every class 0..{k - 1} needs at least one sample")
    bases = np.empty((k, d, r))
    for j in range(k):
        bases[j] = np.linalg.svd(Z[y == j], full_matrices=False)[2][:r].T
    return bases


def nearest_subspace_predict(
    Z_train: np.ndarray, y_train: np.ndarray, Z_test: np.ndarray, n_components: int | None = None
) -> np.ndarray:
    r"""Class :math:`\arg\min_j \|z - U_jU_j^\top z\|` of each row of Z_test (n_test, n_features).

    :math:`U_j` spans the top ``n_components`` right singular vectors of class j's training
    features Z_train (n_train, n_features) (see :func:`class_subspaces`), the classifier of MCR²
    (Yu et al. 2020) and ReduNet (Chan et al. 2022).

    >>> Z = np.array([[1.0, 0.1], [2.0, -0.1], [0.1, 1.0], [-0.1, 3.0]])
    >>> nearest_subspace_predict(Z, np.array([0, 0, 1, 1]), np.array([[5.0, 1.0], [0.0, -1.0]]))
    array([0, 1])
    """
    bases = class_subspaces(Z_train, y_train, n_components)
    Z_test = check_array(Z_test, "Z_test", ndim=2)
    proj = np.einsum("nd,jdr->jnr", Z_test, bases)
    residual = np.sum(Z_test**2, axis=1)[None] - np.sum(proj**2, axis=2)
    return np.argmin(residual, axis=0)


def sphere(Z: np.ndarray) -> np.ndarray:
    """Rows of Z (n_samples, n_features) scaled to unit norm (zero rows stay zero)."""
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norms > 0, norms, 1.0)


def train_mlp(model: Any, objective: Any, X: np.ndarray, y: np.ndarray, mlp_cfg: dict, seed: int):
    """Adam on (X, y) with minibatches of ``mlp_cfg['batch_size']``, for ``mlp_cfg['epochs']``
    epochs or, given ``mlp_cfg['steps']`` instead, for the fewest whole epochs reaching that many
    steps (the same amount of optimisation on data sets of any size)."""
    import torch

    from structlearn.train import TrainConfig, train

    batch = min(mlp_cfg["batch_size"], X.shape[0])
    if "steps" in mlp_cfg:
        epochs = math.ceil(mlp_cfg["steps"] / math.ceil(X.shape[0] / batch))
    else:
        epochs = mlp_cfg["epochs"]
    config = TrainConfig(
        optimizer="adam",
        lr=mlp_cfg["lr"],
        epochs=epochs,
        batch_size=batch,
        record_epochs="none",
        store_activations=False,
        record_gradients=False,
        seed=seed,
    )
    data = (torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y))
    return train(model, objective, data, config=config)


def taps_of(model: Any, X: np.ndarray) -> list[np.ndarray]:
    """Every layer's output of a trained model in eval mode, as float64 arrays."""
    import torch

    model.eval()
    with torch.no_grad():
        return [t.double().numpy() for t in model(torch.as_tensor(X, dtype=torch.float32))]


# ------------------------------------------------------------------------------------ learners


@dataclass
class Curve:
    """Test accuracy (one per depth) of one learner on one split, plus learner-specific numbers."""

    depths: list[int]
    accuracy: list[float]
    extra: dict[str, Any]


def _acc(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(pred == y))


def _linear_svm(s: Split, cfg: dict, seed: int) -> Curve:
    from sklearn.svm import LinearSVC

    clf = LinearSVC(C=cfg["svm"]["C"], random_state=seed).fit(s.X_train, s.y_train)
    return Curve([1], [_acc(clf.predict(s.X_test), s.y_test)], {})


def _rbf_svm(s: Split, cfg: dict, seed: int) -> Curve:
    from sklearn.svm import SVC

    clf = SVC(C=cfg["svm"]["C"], gamma=cfg["svm"]["gamma"]).fit(s.X_train, s.y_train)
    return Curve([1], [_acc(clf.predict(s.X_test), s.y_test)], {})


def _r2svm(s: Split, cfg: dict, seed: int) -> Curve:
    from structlearn.models.r2svm import R2SVMClassifier

    c = cfg["r2svm"]
    clf = R2SVMClassifier(n_layers=c["n_layers"], beta=c["beta"], C=c["C"], random_state=seed)
    acc = clf.fit(s.X_train, s.y_train).layer_scores(s.X_test, s.y_test)
    return Curve(list(range(1, len(acc) + 1)), [float(a) for a in acc], {})


def _redunet(s: Split, cfg: dict, seed: int) -> Curve:
    from structlearn.models.redunet import ReduNet

    c = cfg["redunet"]
    net = ReduNet(n_layers=c["n_layers"], eta=c["eta"], eps=c["eps"], lmbda=c["lmbda"])
    net.fit(s.X_train, s.y_train)
    Z_train, Z_test = net.transform_all(s.X_train)[1:], net.transform_all(s.X_test)[1:]
    acc = [
        _acc(nearest_subspace_predict(a, s.y_train, b), s.y_test) for a, b in zip(Z_train, Z_test)
    ]
    return Curve(list(range(1, len(acc) + 1)), acc, {"delta_R_nats": net.delta_R_.tolist()})


def _linear_probe(C_train: np.ndarray, y: np.ndarray, C_test: np.ndarray, C: float, seed: int):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    scaler = StandardScaler().fit(C_train)
    clf = LinearSVC(C=C, random_state=seed).fit(scaler.transform(C_train), y)
    return clf.predict(scaler.transform(C_test))


def _sparse_coding(s: Split, cfg: dict, seed: int) -> Curve:
    from structlearn.models.stack import SparseCodingStack

    c = cfg["sparse_coding"]
    scale = np.sqrt(np.mean(np.sum(s.X_train**2, axis=1)))  # unit mean norm: lambda1 is relative
    stack = SparseCodingStack(
        n_layers=c["n_layers"],
        n_atoms=max(1, round(c["atoms_per_feature"] * s.X_train.shape[1])),
        lambda1=c["lambda1"],
        n_iter=c["n_iter"],
        random_state=seed,
    ).fit(s.X_train / scale)
    codes = zip(stack.transform_all(s.X_train / scale), stack.transform_all(s.X_test / scale))
    acc, density = [], []
    for a, b in codes:
        acc.append(_acc(_linear_probe(a, s.y_train, b, cfg["svm"]["C"], seed), s.y_test))
        density.append(float(np.mean(b != 0)))
    return Curve(list(range(1, len(acc) + 1)), acc, {"code_density": density})


def _mlp(s: Split, cfg: dict, seed: int, objective_name: str) -> Curve:
    from structlearn.models.mlp import MLP
    from structlearn.objectives.coding_rate import MaximalCodingRateReduction
    from structlearn.objectives.supervised import CrossEntropy

    c = cfg["mlp"]
    acc = []
    for depth in c["depths"]:
        widths = [s.X_train.shape[1]] + [c["width"]] * depth
        if objective_name == "ce":
            model = MLP([*widths, s.n_classes], c["activation"], random_state=seed)
            train_mlp(model, CrossEntropy(), s.X_train, s.y_train, c, seed)
            acc.append(_acc(taps_of(model, s.X_test)[-1].argmax(1), s.y_test))
            continue
        model = MLP([*widths, c["mcr2_features"]], c["activation"], random_state=seed)
        objective = MaximalCodingRateReduction(eps=c["mcr2_eps"], n_classes=s.n_classes)
        train_mlp(model, objective, s.X_train, s.y_train, c, seed)
        Z_train, Z_test = (sphere(taps_of(model, X)[-1]) for X in (s.X_train, s.X_test))
        acc.append(_acc(nearest_subspace_predict(Z_train, s.y_train, Z_test), s.y_test))
    return Curve(list(c["depths"]), acc, {})


LEARNERS: dict[str, Callable[[Split, dict, int], Curve]] = {
    "linear_svm": _linear_svm,
    "rbf_svm": _rbf_svm,
    "r2svm": _r2svm,
    "redunet": _redunet,
    "sparse_coding": _sparse_coding,
    "mlp_ce": lambda s, cfg, seed: _mlp(s, cfg, seed, "ce"),
    "mlp_mcr2": lambda s, cfg, seed: _mlp(s, cfg, seed, "mcr2"),
}


# ------------------------------------------------------------------------------------- the run


def _check_subset(key: str, values: list[str], allowed: tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown or not values or len(set(values)) != len(values):
        raise ConfigError(
            f"{key}: expected a non-empty subset of {', '.join(allowed)} without repeats, "
            f"got {values!r}"
        )


def _check_config(config: dict[str, Any]) -> None:
    _check_subset("data.datasets", config["data"]["datasets"], DATASETS)
    _check_subset("methods", config["methods"], METHODS)
    depths = config["mlp"]["depths"]
    if not depths or len(set(depths)) != len(depths):
        raise ConfigError(f"mlp.depths: expected distinct positive integers, got {depths!r}")


def _summarise(curves: list[Curve]) -> dict[str, Any]:
    """Per-depth mean and interval over seeds of one learner on one data set."""
    per_seed = np.array([c.accuracy for c in curves])  # (n_seeds, n_depths)
    intervals = [mean_interval(per_seed[:, i]) for i in range(per_seed.shape[1])]
    out = {
        "depths": curves[0].depths,
        "accuracy_per_seed": per_seed.tolist(),
        "accuracy_mean": [iv.mean for iv in intervals],
        "accuracy_low": [iv.low for iv in intervals],
        "accuracy_high": [iv.high for iv in intervals],
        "final_accuracy": intervals[-1].to_dict(),
        "best_depth": int(curves[0].depths[int(np.argmax([iv.mean for iv in intervals]))]),
    }
    for key in curves[0].extra:
        out[f"{key}_per_seed"] = [c.extra[key] for c in curves]
    return out


def _method_order(methods: list[str]) -> list[str]:
    """SPAMS last: its OpenMP threads keep spinning after a call and slow every later torch step
    in the process 10-20x on 2 cores (measured), so the sparse-coding stack runs after the MLPs."""
    return sorted(methods, key=lambda m: m == "sparse_coding")


def _run_all(config: dict, seeds: list[int], timings: dict) -> dict[str, dict[str, Any]]:
    """Every learner on every (data set, seed) split; per data set its info and summaries."""
    from structlearn.utils.progress import progress

    names = config["data"]["datasets"]
    data = {name: load_dataset(name) for name in names}
    splits = {
        (name, seed): stratified_split(*data[name], config["data"]["test_size"], seed)
        for name in names
        for seed in seeds
    }
    curves: dict[str, dict[str, list[Curve]]] = {n: {} for n in names}
    for method in progress(_method_order(config["methods"]), desc="learners"):
        for (name, seed), split in splits.items():
            t0 = time.process_time()
            curves[name].setdefault(method, []).append(LEARNERS[method](split, config, seed))
            timings[f"{name}/{method}/seed{seed}_cpu_s"] = round(time.process_time() - t0, 4)
    results = {}
    for name in names:
        X, y = data[name]
        info = {
            "n_samples": int(X.shape[0]),
            "n_features": int(X.shape[1]),
            "n_classes": int(y.max()) + 1,
            "n_test": int(splits[name, seeds[0]].y_test.size),
        }
        summaries = {m: _summarise(curves[name][m]) for m in config["methods"]}
        results[name] = {"info": info, "methods": summaries}
    return results


def paired_differences(results: dict[str, dict], a: str, b: str) -> dict[str, Any]:
    """Per data set: interval over seeds of final accuracy of ``a`` minus that of ``b`` (paired)."""
    out = {}
    for name, res in results.items():
        acc_a = np.array(res["methods"][a]["accuracy_per_seed"])[:, -1]
        acc_b = np.array(res["methods"][b]["accuracy_per_seed"])[:, -1]
        out[name] = mean_interval(acc_a - acc_b).to_dict()
    return out


def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Fit every learner on every data set for ``n_seeds`` splits; accuracy by depth and time."""

    _check_config(config)
    seeds = [context.seed + i for i in range(config["n_seeds"])]
    timings: dict[str, float] = {}
    with cpu_settings():
        results = _run_all(config, seeds, timings)
    metrics: dict[str, Any] = {"seeds": seeds, "results": results}
    have = set(config["methods"])
    for other in ("linear_svm", "rbf_svm"):
        if {"r2svm", other} <= have:
            metrics[f"r2svm_minus_{other}"] = paired_differences(results, "r2svm", other)
    cpu = _mean_cpu(timings, results, seeds)
    return StudyOutput(
        metrics=metrics,
        figures=_figures(results, metrics, cpu),
        summary=_summary(results),
        verdicts=verdicts(metrics),
        captions=_captions(config),
        timings=timings,
    )


def _mean_cpu(timings: dict, results: dict, seeds: list[int]) -> dict[str, dict[str, float]]:
    return {
        name: {
            m: float(np.mean([timings[f"{name}/{m}/seed{s}_cpu_s"] for s in seeds]))
            for m in res["methods"]
        }
        for name, res in results.items()
    }


def _summary(results: dict[str, dict]) -> list[dict[str, Any]]:
    rows = []
    for name, res in results.items():
        for method, m in res["methods"].items():
            f = m["final_accuracy"]
            rows.append(
                {
                    "data set": name,
                    "learner": method,
                    "depth": m["depths"][-1],
                    "test accuracy": f["mean"],
                    "95% CI": f"[{f['low']:.3f}, {f['high']:.3f}]",
                    "best depth": m["best_depth"],
                    "accuracy at best depth": max(m["accuracy_mean"]),
                }
            )
    return rows


# ----------------------------------------------------------------------------------- verdicts


def count_outcomes(diffs: dict[str, dict]) -> dict[str, Any]:
    """Wins / losses by the sign of the mean paired difference, and by 95% intervals excluding 0."""
    means = {k: v["mean"] for k, v in diffs.items()}
    return {
        "n": len(diffs),
        "wins": sum(m > 0 for m in means.values()),
        "losses": sum(m < 0 for m in means.values()),
        "significant_wins": sum(v["low"] > 0 for v in diffs.values()),
        "significant_losses": sum(v["high"] < 0 for v in diffs.values()),
    }


def _describe(diffs: dict[str, dict], c: dict[str, Any], other: str) -> str:
    per = "; ".join(
        f"{k} {v['mean']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}]" for k, v in diffs.items()
    )
    return (
        f"R²SVM − {other} test accuracy, mean over seeds [95% CI]: {per}. Wins {c['wins']}, "
        f"losses {c['losses']}, ties {c['n'] - c['wins'] - c['losses']} of {c['n']} data sets "
        f"(with CI excluding 0: {c['significant_wins']} wins, {c['significant_losses']} losses)"
    )


def verdicts(metrics: dict[str, Any]) -> list[Verdict]:
    """Rules. A data set is a win (loss) for R²SVM when its paired mean difference in final test
    accuracy is > 0 (< 0), the tally of the replication; intervals are reported beside it.
    "Beats a linear SVM on most": wins > n/2. "Loses to an RBF SVM on nearly all": losses >=
    ceil(0.75 n). Fewer than 2 data sets: not decidable (None)."""
    out = []
    rules = (
        ("linear_svm", "linear SVM", "beats a linear SVM on most data sets", "most"),
        ("rbf_svm", "RBF SVM", "loses to an RBF SVM on nearly all data sets", "nearly_all"),
    )
    for key, label, claim, rule in rules:
        diffs = metrics.get(f"r2svm_minus_{key}")
        if diffs is None:
            continue
        c = count_outcomes(diffs)
        if c["n"] < 2:
            held = None
        elif rule == "most":
            held = c["wins"] > c["n"] / 2
        else:
            held = c["losses"] >= math.ceil(0.75 * c["n"])
        out.append(
            Verdict(
                claim=f"R²SVM (Vinyals et al. 2012) {claim} (public replication on 23 UCI sets)",
                measured=_describe(diffs, c, label),
                held=held,
            )
        )
    return out


# ------------------------------------------------------------------------------------- figures


def _captions(config: dict[str, Any]) -> dict[str, str]:
    return {
        "accuracy_by_depth": "Test accuracy by depth (mean over seeds, band: 95% t-interval); "
        "depth = SVM layers (R²SVM), ΔR steps (ReduNet), coding layers (stack), hidden layers "
        "(MLPs). Dashed/dotted lines: linear and RBF SVM.",
        "accuracy_vs_time": "Final-depth test accuracy against training CPU time (one thread; "
        "mean over seeds; MLP time summed over its depths "
        f"{config['mlp']['depths']}). Times are from this run and machine.",
        "r2svm_differences": "Paired per-seed difference of final test accuracy, R²SVM minus each "
        "SVM baseline, per data set (mean, 95% t-interval); right of 0 = R²SVM better.",
    }


def _figures(results: dict, metrics: dict, cpu: dict) -> dict[str, Any]:
    return {
        "accuracy_by_depth": _plot_depth(results),
        "accuracy_vs_time": _plot_time(results, cpu),
        **(
            {"r2svm_differences": _plot_differences(metrics)}
            if any(k.startswith("r2svm_minus") for k in metrics)
            else {}
        ),
    }


def _panels(n: int, width: float = 4.2, height: float = 3.4):
    import matplotlib.pyplot as plt

    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), constrained_layout=True, squeeze=False
    )
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def _plot_depth(results: dict):
    fig, axes = _panels(len(results))
    for ax, (name, res) in zip(axes, results.items()):
        for i, (method, m) in enumerate(res["methods"].items()):
            color = f"C{i}"
            if method in ("linear_svm", "rbf_svm"):
                ls = "--" if method == "linear_svm" else ":"
                ax.axhline(m["accuracy_mean"][0], color=color, ls=ls, lw=1.5, label=LABELS[method])
                continue
            ax.plot(m["depths"], m["accuracy_mean"], "o-", ms=3, color=color, label=LABELS[method])
            low, high = np.clip(m["accuracy_low"], 0, 1), np.clip(m["accuracy_high"], 0, 1)
            ax.fill_between(m["depths"], low, high, color=color, alpha=0.15)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(top=1.01)
        ax.set_title(f"{name} (n_test = {res['info']['n_test']})", fontsize=10)
        ax.set_xlabel("depth (layers)")
        ax.set_ylabel("test accuracy")
    axes[0].legend(fontsize="x-small", frameon=False)
    return fig


def _plot_time(results: dict, cpu: dict):
    fig, axes = _panels(len(results))
    for ax, (name, res) in zip(axes, results.items()):
        for i, (method, m) in enumerate(res["methods"].items()):
            f = m["final_accuracy"]
            t = max(cpu[name][method], 1e-4)
            ax.errorbar(
                t,
                f["mean"],
                yerr=[[f["mean"] - f["low"]], [f["high"] - f["mean"]]],
                fmt="o",
                color=f"C{i}",
                capsize=3,
                label=LABELS[method],
            )
        ax.set_xscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("training CPU time per fit (s, log scale)")
        ax.set_ylabel("test accuracy at final depth")
    axes[0].legend(fontsize="x-small", frameon=False)
    return fig


def _plot_differences(metrics: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.4), constrained_layout=True)
    keys = [k for k in ("r2svm_minus_linear_svm", "r2svm_minus_rbf_svm") if k in metrics]
    names = list(metrics[keys[0]])
    for j, key in enumerate(keys):
        for i, name in enumerate(names):
            v = metrics[key][name]
            y = i + (j - 0.5 * (len(keys) - 1)) * 0.25
            ax.errorbar(
                v["mean"],
                y,
                xerr=[[v["mean"] - v["low"]], [v["high"] - v["mean"]]],
                fmt="o",
                color=f"C{j}",
                capsize=3,
                label=key.replace("r2svm_minus_", "R²SVM − ").replace("_", " ") if i == 0 else None,
            )
    ax.axvline(0, color="k", lw=1)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("difference in test accuracy (R²SVM − baseline)")
    ax.legend(frameon=False, fontsize="small")
    return fig


class _LayerwiseVsBackprop:
    name = "layerwise_vs_backprop"
    summary = "Layer-wise learners (R²SVM, ReduNet, sparse coding) vs backprop MLPs and SVMs"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _LayerwiseVsBackprop()
