"""Study: is the depth where entropy stops growing the depth where linear accuracy saturates?

Claim (layer-wise InfoMax / sparse-coding stacks: Linsker 1988, "Self-organization in a perceptual
network"; Bell & Sejnowski 1995; Olshausen & Field 1996 and their stacked successors; the
log-determinant rate growth of ReduNet, Chan et al. 2022): layers are worth adding while each adds
information (entropy) to the representation, so the depth after which the entropy gain per layer
stays below a tolerance (:func:`structlearn.analysis.entropy_gain.analyze_entropy_gain`) is the
depth at which a linear read-out stops improving.

Per seed, random patches (``data.patch`` pixels square) are cut from the bundled photographs,
their mean removed and ZCA-whitened; a :class:`structlearn.models.stack.SparseCodingStack`
(sparse coding through SPAMS, or FastICA InfoMax) is learned layer by layer on one set of patches;
on a second, held-out set its codes give

- the entropy gain per layer (Gaussian log-determinant entropy of each layer after per-unit
  standardisation, in nats; the first layer's gain is over the whitened input) and the recommended
  depth with a bootstrap interval over patches;
- the held-out accuracy of a linear probe (:func:`structlearn.analysis.probes.probe_layers`) at
  every depth (0 = the whitened pixels) on a labelled task: which photograph the patch came from
  (``probe.task: photograph``), or the digit of scikit-learn's 8x8 digits pushed through the same
  whitening and stack (``digits``; needs ``data.patch: 8``).

"Accuracy saturates" at the first depth whose accuracy is within ``probe.tolerance`` of the best
depth's (per seed, and on the mean-over-seeds curve). Both depths get t-intervals over seeds.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict

TASKS = ("photograph", "digits")

SCHEMA = {
    "n_seeds": Field(int, 3, low=1, doc="seeds context.seed, +1, ...: new patches and stack"),
    "data": {
        "images": Field(list, [], item=str, doc="photographs (empty: all bundled ones)"),
        "patch": Field(int, 8, low=3, high=32, doc="patch side in pixels"),
        "per_image": Field(int, 250, low=10, doc="training patches per photograph (the stack)"),
        "eval_per_image": Field(int, 150, low=10, doc="held-out patches per photograph"),
        "zca_eps": Field(float, 0.01, low=1e-8, doc="ZCA regulariser (relative)"),
    },
    "stack": {
        "method": Field(str, "sparse_coding", choices=["sparse_coding", "ica"]),
        "n_layers": Field(int, 4, low=1, high=12),
        "n_atoms": Field(int, 64, low=2, doc="atoms (components) per layer"),
        "lambda1": Field(float, 0.1, low=1e-6, doc="sparsity weight (samples at unit mean norm)"),
        "group_size": Field(int, 4, low=1, nullable=True, doc="atoms per pooled group; null: none"),
        "pooling": Field(str, "l2", choices=["l2", "max"], doc="pooling over groups"),
        "n_iter": Field(int, 50, low=1, doc="dictionary-learning iterations (FastICA max_iter)"),
    },
    "entropy": {
        "measure": Field(str, "gaussian", choices=["gaussian", "marginal", "total_correlation"]),
        "tolerance": Field(float, 0.5, low=1e-6, doc="nats under which a layer adds nothing"),
        "n_bootstrap": Field(int, 20, low=0, doc="resamples of the patches for the depth"),
    },
    "probe": {
        "task": Field(str, "photograph", choices=list(TASKS)),
        "test_size": Field(float, 0.25, low=0.05, high=0.9),
        "C": Field(float, 1.0, low=1e-6),
        "max_iter": Field(int, 300, low=10),
        "tolerance": Field(float, 0.01, low=0.0, doc="accuracy within this of the best: saturated"),
    },
    "verdict": {
        "depth_tolerance": Field(
            float, 0.5, low=0.0, doc="layers the two mean depths may differ by"
        ),
    },
}


def _check_config(config: dict[str, Any]) -> None:
    s, d = config["stack"], config["data"]
    if config["probe"]["task"] == "digits" and d["patch"] != 8:
        raise ConfigError(
            f"probe.task: 'digits' are 8x8 images and need data.patch: 8, got {d['patch']}"
        )
    if s["group_size"] is not None and s["n_atoms"] % s["group_size"]:
        raise ConfigError(
            f"stack.group_size: expected a divisor of stack.n_atoms={s['n_atoms']}, "
            f"got {s['group_size']}"
        )
    if s["method"] == "ica":
        width = s["n_atoms"] // (s["group_size"] or 1)
        if s["n_atoms"] > d["patch"] ** 2 or (s["n_layers"] > 1 and s["n_atoms"] > width):
            raise ConfigError(
                "stack.n_atoms: ICA layers have at most as many components as their input has "
                f"features ({d['patch'] ** 2} pixels, then {width} per layer with group_size="
                f"{s['group_size']}); set stack.group_size: null and n_atoms <= "
                f"{d['patch'] ** 2}, got n_atoms={s['n_atoms']}"
            )


# ----------------------------------------------------------------------------- data
def cut_patches(images: list[np.ndarray], patch: int, per_image: int, rng) -> tuple:
    """``per_image`` random patches from each image, flattened: (n_images * per_image, patch**2),
    and the index of the image each came from."""
    X, y = [], []
    for k, img in enumerate(images):
        rows = rng.integers(0, img.shape[0] - patch + 1, per_image)
        cols = rng.integers(0, img.shape[1] - patch + 1, per_image)
        X.append(np.stack([img[r : r + patch, c : c + patch].ravel() for r, c in zip(rows, cols)]))
        y.append(np.full(per_image, k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


class Whitener:
    """Per-patch mean removal, ZCA whitening fitted on training patches, and one scale making
    the training patches' mean squared norm 1 (so ``lambda1`` means the same at any size)."""

    def __init__(self, X: np.ndarray, eps: float) -> None:
        from structlearn.data.mosaic import zca_whitening

        Xc = X - X.mean(axis=1, keepdims=True)
        self.W, self.mean = zca_whitening(Xc, eps)
        Z = (Xc - self.mean) @ self.W
        self.scale = float(np.sqrt(np.mean(np.sum(Z**2, axis=1))))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        Xc = X - X.mean(axis=1, keepdims=True)
        return (Xc - self.mean) @ self.W / self.scale


def _data(config: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Whitened training patches, evaluation inputs and their labels, the photographs' names."""
    from structlearn.data.natural import load_natural_images

    d = config["data"]
    try:
        photos = load_natural_images(d["images"] or None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"data.images: {exc}") from None
    small = [p.name for p in photos if min(p.image.shape) < d["patch"]]
    if small:
        raise ConfigError(f"data.patch: {d['patch']} is larger than the photograph(s) {small}")
    rng = np.random.default_rng(seed)
    imgs = [p.image for p in photos]
    X_train, _ = cut_patches(imgs, d["patch"], d["per_image"], rng)
    white = Whitener(X_train, d["zca_eps"])
    if config["probe"]["task"] == "photograph":
        X_eval, y_eval = cut_patches(imgs, d["patch"], d["eval_per_image"], rng)
    else:
        from structlearn.data.vision import load_digits_data

        digits = load_digits_data()
        X_eval, y_eval = digits.X, digits.y
    return white(X_train), white(X_eval), y_eval, [p.name for p in photos]


# ----------------------------------------------------------------------------- one seed
def _stack(config: dict[str, Any], seed: int) -> Any:
    from structlearn.models.stack import SparseCodingStack

    s = config["stack"]
    return SparseCodingStack(
        n_layers=s["n_layers"],
        n_atoms=s["n_atoms"],
        lambda1=s["lambda1"],
        group_size=s["group_size"],
        pooling=s["pooling"] if s["group_size"] else None,
        method=s["method"],
        n_iter=s["n_iter"],
        random_state=seed,
    )


def saturation_depth(accuracy: Any, tolerance: float) -> int:
    """First depth (index into ``accuracy``, 0 = input) within ``tolerance`` of the best.

    >>> saturation_depth([0.2, 0.5, 0.61, 0.6, 0.62], 0.01)
    2
    """
    a = np.asarray(accuracy, dtype=np.float64)
    return int(np.flatnonzero(a >= a.max() - tolerance)[0])


def _one_seed(config: dict[str, Any], seed: int) -> tuple[dict[str, Any], Any, Any]:
    from structlearn.analysis.entropy_gain import analyze_entropy_gain
    from structlearn.analysis.probes import probe_layers

    X_train, X_eval, y_eval, names = _data(config, seed)
    t0 = time.perf_counter()
    stack = _stack(config, seed).fit(X_train)
    codes = stack.transform_all(X_eval)
    t1 = time.perf_counter()
    e, p = config["entropy"], config["probe"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dead units are reported in n_constant
        gain = analyze_entropy_gain(
            {f"layer {i + 1}": c for i, c in enumerate(codes)},
            inputs=X_eval,
            measure=e["measure"],
            tolerance=e["tolerance"],
            n_bootstrap=e["n_bootstrap"],
            random_state=seed,
        )
        probes = probe_layers(
            {"pixels": X_eval, **{f"layer {i + 1}": c for i, c in enumerate(codes)}},
            y_eval,
            test_size=p["test_size"],
            C=p["C"],
            max_iter=p["max_iter"],
            tolerance=p["tolerance"],
            random_state=seed,
        )
    t2 = time.perf_counter()
    ent = gain.entropies
    metrics = {
        "seed": seed,
        "n_train_patches": len(X_train),
        "n_eval": len(X_eval),
        "photographs": names,
        "entropy_nats": gain.entropy_nats.round(6).tolist(),
        "input_entropy_nats": round(float(_measure_of(ent, e["measure"])[0]), 6),
        "gain_nats": gain.gain_nats.round(6).tolist(),
        "gain_interval_nats": np.nan_to_num(gain.gain_interval_nats).round(6).tolist(),
        "n_constant_units": ent.n_constant_units.tolist(),
        "code_density": [round(float(np.mean(c != 0)), 6) for c in codes],
        "entropy_depth": gain.depth,
        "entropy_depth_interval": gain.depth_interval,
        "test_accuracy": probes.test_accuracy.round(6).tolist(),
        "train_accuracy": probes.train_accuracy.round(6).tolist(),
        "chance_accuracy": probes.chance_accuracy,
        "accuracy_depth": saturation_depth(probes.test_accuracy, p["tolerance"]),
        "timings": {"stack_s": round(t1 - t0, 2), "analysis_s": round(t2 - t1, 2)},
    }
    return metrics, gain, probes


def _measure_of(ent: Any, measure: str) -> np.ndarray:
    return {
        "gaussian": ent.gaussian_nats,
        "marginal": ent.marginal_nats,
        "total_correlation": ent.total_correlation_nats,
    }[measure]


# ----------------------------------------------------------------------------- the study
def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Learn a stack per seed; entropy gains, recommended depth and probe accuracy by depth."""
    from structlearn.utils.progress import progress

    _check_config(config)
    per_seed, first = [], {}
    timings = {"stack": 0.0, "analysis": 0.0}
    for s in progress(range(config["n_seeds"]), desc="seeds"):
        m, gain, probes = _one_seed(config, context.seed + s)
        t = m.pop("timings")
        timings["stack"] += t["stack_s"]
        timings["analysis"] += t["analysis_s"]
        per_seed.append(m)
        if s == 0:
            first = {"gain": gain, "probes": probes}
    tol = config["probe"]["tolerance"]
    agg = aggregate(per_seed, tol)
    return StudyOutput(
        metrics={"per_seed": per_seed, "aggregate": agg},
        figures=_figures(first, per_seed, agg, config),
        summary=_summary(per_seed),
        verdicts=[depth_verdict(per_seed, agg, config)],
        captions=_captions(config),
        timings=timings,
    )


def aggregate(per_seed: list[dict], tolerance: float) -> dict[str, Any]:
    """Mean-over-seeds curves with t-intervals and both depths (per seed and on the mean curve)."""
    acc = np.array([p["test_accuracy"] for p in per_seed])
    mean_acc = acc.mean(axis=0)
    return {
        "accuracy_by_depth": [mean_interval(col).to_dict() for col in acc.T],
        "gain_by_layer": [
            mean_interval(col).to_dict() for col in np.array([p["gain_nats"] for p in per_seed]).T
        ],
        "entropy_depth": mean_interval([p["entropy_depth"] for p in per_seed]).to_dict(),
        "accuracy_depth": mean_interval([p["accuracy_depth"] for p in per_seed]).to_dict(),
        "accuracy_depth_of_mean_curve": saturation_depth(mean_acc, tolerance),
        "best_depth_of_mean_curve": int(mean_acc.argmax()),
    }


def depth_verdict(per_seed: list[dict], agg: dict[str, Any], config: dict[str, Any]) -> Verdict:
    """Rule: held when the mean entropy depth and the mean accuracy-saturation depth (over
    seeds) differ by at most ``verdict.depth_tolerance`` layers."""
    tol_d = config["verdict"]["depth_tolerance"]
    d_h = mean_interval([p["entropy_depth"] for p in per_seed])
    d_a = mean_interval([p["accuracy_depth"] for p in per_seed])
    pairs = ", ".join(f"({p['entropy_depth']}, {p['accuracy_depth']})" for p in per_seed)
    acc = "; ".join(
        f"{d}: {iv['mean']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]"
        for d, iv in enumerate(agg["accuracy_by_depth"])
    )
    s, e, p = config["stack"], config["entropy"], config["probe"]
    return Verdict(
        claim=f"The depth where the entropy gain per layer falls below {e['tolerance']:g} nats "
        f"({e['measure']} entropy) is where linear-probe accuracy saturates (first depth within "
        f"{p['tolerance']:g} of the best) -- layer-wise InfoMax / sparse-coding stacks "
        f"(Linsker 1988; Olshausen & Field 1996); {s['method']} stack, task: {p['task']}",
        measured=f"entropy depth {d_h}; accuracy-saturation depth {d_a} (0 = pixels; on the "
        f"mean curve {agg['accuracy_depth_of_mean_curve']}); per seed (entropy, accuracy): "
        f"{pairs}. Held-out accuracy by depth: {acc}. Rule: |difference of means| <= {tol_d:g}",
        held=bool(abs(d_h.mean - d_a.mean) <= tol_d),
    )


def _summary(per_seed: list[dict]) -> list[dict[str, Any]]:
    acc = np.array([p["test_accuracy"] for p in per_seed])
    gain = np.array([p["gain_nats"] for p in per_seed])
    ent = np.array([p["entropy_nats"] for p in per_seed])
    rows = [
        {
            "depth": 0,
            "layer": "pixels",
            "entropy nats": float(np.mean([p["input_entropy_nats"] for p in per_seed])),
            "gain nats": "",
            "probe accuracy": float(acc[:, 0].mean()),
            "code density": "",
        }
    ]
    for i in range(gain.shape[1]):
        rows.append(
            {
                "depth": i + 1,
                "layer": f"layer {i + 1}",
                "entropy nats": float(ent[:, i].mean()),
                "gain nats": float(gain[:, i].mean()),
                "probe accuracy": float(acc[:, i + 1].mean()),
                "code density": float(np.mean([p["code_density"][i] for p in per_seed])),
            }
        )
    return rows


# ----------------------------------------------------------------------------- figures
def _figures(first: dict[str, Any], per_seed: list[dict], agg: dict, config) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    figs = {}
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    first["gain"].plot(ax)
    ax.set_title(f"entropy and gain per layer, seed {per_seed[0]['seed']}", fontsize="small")
    figs["entropy_gain"] = fig

    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    depths = np.arange(len(agg["accuracy_by_depth"]))
    for p in per_seed:
        ax.plot(depths, p["test_accuracy"], color="C0", lw=0.7, alpha=0.4)
    ivs = agg["accuracy_by_depth"]
    mean = np.array([iv["mean"] for iv in ivs])
    ax.errorbar(
        depths,
        mean,
        yerr=[mean - [iv["low"] for iv in ivs], [iv["high"] for iv in ivs] - mean],
        fmt="o-",
        color="C0",
        capsize=3,
        label="held-out accuracy (mean, 95% CI; thin: seeds)",
    )
    ax.axhline(per_seed[0]["chance_accuracy"], color="k", ls=":", lw=1, label="chance")
    d_h, d_a = agg["entropy_depth"], agg["accuracy_depth"]
    ax.axvspan(d_h["low"], d_h["high"], color="C3", alpha=0.12, lw=0)
    ax.axvline(d_h["mean"], color="C3", lw=1.5, label=f"entropy depth {d_h['mean']:.2g}")
    ax.axvline(d_a["mean"], color="C2", ls="--", lw=1.5, label=f"saturation {d_a['mean']:.2g}")
    ax.set_xticks(depths, ["pixels"] + [str(d) for d in depths[1:]])
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel(f"linear-probe accuracy ({config['probe']['task']})")
    ax.legend(frameon=False, fontsize="x-small")
    figs["accuracy_by_depth"] = fig

    fig, ax = plt.subplots(figsize=(6.0, 3.6), constrained_layout=True)
    for i, p in enumerate(per_seed):
        ax.scatter(
            p["entropy_depth"] + 0.06 * (i - 1),
            p["accuracy_depth"],
            s=40,
            color=f"C{i}",
            label=f"seed {p['seed']}",
        )
    top = config["stack"]["n_layers"]
    ax.plot([0, top], [0, top], "k:", lw=1, label="equal")
    ax.set_xlabel("depth chosen by entropy saturation")
    ax.set_ylabel("depth where accuracy saturates")
    ax.set_xlim(-0.3, top + 0.3)
    ax.set_ylim(-0.3, top + 0.3)
    ax.legend(frameon=False, fontsize="x-small")
    figs["depths"] = fig
    return figs


def _captions(config: dict[str, Any]) -> dict[str, str]:
    e, p = config["entropy"], config["probe"]
    return {
        "entropy_gain": f"{e['measure'].capitalize()} entropy of each layer's codes (nats, after "
        "per-unit standardisation) and its gain over the previous layer (the first over the "
        f"whitened pixels), bootstrap intervals; red: the recommended depth (gains below "
        f"{e['tolerance']:g} nats afterwards).",
        "accuracy_by_depth": f"Held-out linear-probe accuracy ({p['task']}) by depth; red: "
        f"entropy depth (band: its t-interval over seeds); green dashed: first depth within "
        f"{p['tolerance']:g} of the best.",
        "depths": "Per seed: the depth chosen by entropy against the depth where accuracy "
        "saturates.",
    }


class _DepthByEntropy:
    name = "depth_by_entropy"
    summary = "Does entropy saturation choose the depth where linear accuracy saturates?"
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _DepthByEntropy()
