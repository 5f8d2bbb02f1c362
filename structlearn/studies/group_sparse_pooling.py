r"""Study: does group sparse coding grow shifted copies of a filter, and do pooled codes tolerate
shifts?

Group sparse coding learns a dictionary ``D`` (atoms as rows) whose codes are penalised by the sum
of the :math:`\ell_2` norms of groups of atoms,

.. math:: \min_{D,\,\{a_i\}} \frac1n\sum_i \tfrac12\|x_i - a_i D\|_2^2
          + \lambda\sum_g \|a_{i,g}\|_2, \qquad \|d_k\|_2 \le 1,

so atoms of one group are used together. Claims, from independent subspace analysis and
topographic ICA (Hyvärinen & Hoyer 2000, "Emergence of phase- and shift-invariant features by
decomposition of natural images into independent feature subspaces"; Hyvärinen, Hoyer & Inki 2001,
"Topographic independent component analysis") and Kavukcuoglu, Ranzato, Fergus & LeCun 2009
("Learning invariant features through topographic filter maps"):

1. atoms within a group become shifted (phase-shifted) copies of one filter: their similarity after
   the best translation (:func:`structlearn.analysis.filters.shift_similarity`, sign ignored) is
   higher within groups than between groups, and higher than within arbitrary groups of a plain
   :math:`\ell_1` dictionary;
2. the pooled code of a group, :math:`\|a_g\|_2`, is more invariant to a 1-2 px shift of the input
   than a single atom's code :math:`|a_k|` (correlation over patches of the code of a patch and of
   the same scene shifted);
3. that gain comes from the learned groups: pooling arbitrary groups of an :math:`\ell_1`
   dictionary gains less.

SPAMS's ``trainDL`` learns only :math:`\ell_1`/:math:`\ell_0` dictionaries; its ``structTrainDL``
accepts tree/graph penalties but is not wrapped by :mod:`structlearn.utils.spams` (and aborts the
process on an unknown penalty name). So the dictionary is learned here by the online alternating
scheme of Mairal, Bach, Ponce & Sapiro (2010, JMLR, Algorithm 1-2) with group-lasso codes
(:func:`structlearn.utils.spams.group_sparse_encode`) in place of lasso codes:
:func:`train_group_dictionary`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from structlearn.analysis.filters import shift_similarity
from structlearn.config import ConfigError, Field
from structlearn.data.mosaic import zca_whitening
from structlearn.data.natural import load_natural_images, natural_image_names
from structlearn.models.blocks import pool_groups
from structlearn.studies._stats import mean_interval
from structlearn.studies.base import RunContext, StudyOutput, Verdict
from structlearn.utils.spams import group_sparse_encode, sparse_encode, train_dictionary
from structlearn.utils.validation import check_array, check_random_state, check_scalar

SCHEMA = {
    "n_seeds": Field(int, 3, low=1, doc="seeds context.seed, +1, ...; intervals are over them"),
    "data": {
        "images": Field(list, [], item=str, doc="bundled photographs ([] = all of them)"),
        "patch_size": Field(int, 8, low=3, doc="square patch side (px)"),
        "n_train": Field(int, 20000, low=10, doc="training patches"),
        "zca_eps": Field(float, 1.0, low=1e-6, doc="relative ZCA regulariser"),
    },
    "group_coding": {
        "n_atoms": Field(int, 64, low=2),
        "group_size": Field(int, 4, low=2),
        "lambda1": Field(float, 0.15, low=1e-6, doc="group-lasso weight (unit mean-norm patches)"),
        "n_iter": Field(int, 300, low=1, doc="alternating (online) iterations"),
        "batch_size": Field(int, 256, low=1),
        "forget_window": Field(int, 20, low=1, doc="iterations remembered by the statistics"),
        "code_iter": Field(int, 50, low=1, doc="FISTA iterations per group-lasso coding"),
    },
    "l1_coding": {
        "lambda1": Field(float, 0.15, low=1e-6, doc="lasso weight of the plain baseline"),
        "n_iter": Field(int, 300, low=1, doc="SPAMS trainDL iterations"),
    },
    "invariance": {
        "n_pairs": Field(int, 3000, low=10, doc="patch pairs per shift"),
        "shifts": Field(list, [1, 2], item=int, low=1, doc="input shifts (px)"),
    },
    "analysis": {
        "max_residual_shift": Field(int, 2, low=0, doc="extra shift allowed by shift_similarity"),
        "similarity_margin": Field(
            float, 0.1, low=0.0, doc="within-group similarity must beat between by this"
        ),
    },
}


# ----------------------------------------------------------------------- group dictionary learning
@dataclass
class GroupDictionary:
    """A dictionary learned under a group-lasso penalty.

    Attributes
    ----------
    components : ndarray (n_atoms, n_features), atoms as rows, :math:`\\|d_k\\| \\le 1`
    groups : ndarray of int (n_atoms,), group of each atom (consecutive runs)
    energy : ndarray (n_iter,), the energy of each iteration's batch at its codes, before the
        dictionary update (nats are not involved: squared error plus penalty)
    """

    components: np.ndarray
    groups: np.ndarray
    energy: np.ndarray


def group_lasso_energy(
    X: np.ndarray, D: np.ndarray, A: np.ndarray, groups: np.ndarray, lambda1: float
) -> float:
    r"""Mean over samples of :math:`\tfrac12\|x - aD\|^2 + \lambda\sum_g\|a_g\|_2`.

    Parameters
    ----------
    X : (n_samples, n_features); D : (n_atoms, n_features); A : (n_samples, n_atoms)
    groups : (n_atoms,) int; lambda1 : float

    >>> group_lasso_energy(np.ones((1, 2)), np.eye(2), np.array([[3.0, 4.0]]), np.array([0, 0]), 1.0)
    11.5
    """
    residual = 0.5 * np.sum((X - A @ D) ** 2, axis=1)
    norms = np.sqrt(
        np.stack([np.sum(A[:, groups == g] ** 2, axis=1) for g in np.unique(groups)], 1)
    )
    return float(np.mean(residual + lambda1 * norms.sum(axis=1)))


def _update_atoms(D: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    r"""One sweep of block coordinate descent on the atoms (Mairal et al. 2010, Algorithm 2):
    :math:`d_j \leftarrow \Pi_{\|d\|\le 1}\big(d_j + (B_j - A_j D)/A_{jj}\big)` with
    :math:`A = \overline{a^\top a}`, :math:`B = \overline{a^\top x}`; atoms never used are kept."""
    D = D.copy()
    for j in range(D.shape[0]):
        if A[j, j] <= 1e-12:
            continue
        u = D[j] + (B[j] - A[j] @ D) / A[j, j]
        D[j] = u / max(float(np.linalg.norm(u)), 1.0)
    return D


def train_group_dictionary(
    X: Any,
    n_atoms: int,
    group_size: int,
    *,
    lambda1: float,
    n_iter: int = 100,
    batch_size: int = 512,
    forget_window: int = 20,
    code_iter: int = 100,
    init: Any = None,
    random_state: int | np.random.Generator | None = 0,
) -> GroupDictionary:
    r"""Learn a dictionary under the group-lasso penalty by online alternating minimisation.

    Each iteration draws a batch (all of ``X`` when ``batch_size >= n_samples``), codes it with
    :func:`~structlearn.utils.spams.group_sparse_encode` against the current atoms, folds
    :math:`a^\top a` and :math:`a^\top x` into running averages that forget after
    ``forget_window`` iterations (weight :math:`\max(1/t, 1/\text{window})` for the new batch),
    and updates the atoms by one sweep of block coordinate descent under :math:`\|d_k\|\le 1`
    (Mairal, Bach, Ponce & Sapiro 2010). With the whole data set as the batch and
    ``forget_window=1`` it is plain alternating minimisation and the energy never increases (up to
    the coding solver's tolerance).

    Parameters
    ----------
    X : array (n_samples, n_features)
    n_atoms : int, a multiple of ``group_size``
    group_size : int >= 1, atoms per group (consecutive atoms form a group)
    lambda1 : float > 0
    n_iter, batch_size, forget_window, code_iter : int >= 1
    init : array (n_atoms, n_features), optional
        Initial atoms (normalised); default: normalised random samples of ``X``.
    random_state : int, Generator or None (initial atoms and batches)

    Returns
    -------
    GroupDictionary

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.laplace(size=(300, 6))
    >>> res = train_group_dictionary(X, 6, 2, lambda1=0.2, n_iter=5, batch_size=300,
    ...                              forget_window=1)
    >>> res.components.shape, bool(np.all(np.diff(res.energy) <= 1e-6))
    ((6, 6), True)
    """
    X = check_array(X, "X", min_samples=2)
    check_scalar(group_size, "group_size", kind=int, low=1)
    check_scalar(n_atoms, "n_atoms", kind=int, low=1)
    if n_atoms % group_size:
        raise ValueError(
            f"n_atoms: expected a multiple of group_size={group_size}, got n_atoms={n_atoms}"
        )
    check_scalar(lambda1, "lambda1", low=0, low_inclusive=False)
    for name, v in (
        ("n_iter", n_iter),
        ("batch_size", batch_size),
        ("forget_window", forget_window),
    ):
        check_scalar(v, name, kind=int, low=1)
    rng = check_random_state(random_state)
    n, n_features = X.shape
    groups = np.arange(n_atoms) // group_size
    if init is None:
        norms = np.linalg.norm(X, axis=1)
        pick = rng.choice(np.flatnonzero(norms > 1e-12), size=n_atoms, replace=n < n_atoms)
        D = X[pick] / norms[pick, None]
    else:
        D = check_array(init, "init", ndim=2)
        if D.shape != (n_atoms, n_features) or not np.all(np.linalg.norm(D, axis=1) > 0):
            raise ValueError(
                f"init: expected non-zero atoms of shape ({n_atoms}, {n_features}), got {D.shape}"
            )
        D = D / np.linalg.norm(D, axis=1, keepdims=True)
    A = np.zeros((n_atoms, n_atoms))
    B = np.zeros((n_atoms, n_features))
    energy = []
    for t in range(1, n_iter + 1):
        batch = X if batch_size >= n else X[rng.choice(n, size=batch_size, replace=False)]
        codes = group_sparse_encode(batch, D, groups, lambda1=lambda1, max_iter=code_iter, tol=1e-6)
        energy.append(group_lasso_energy(batch, D, codes, groups, lambda1))
        w = max(1.0 / t, 1.0 / forget_window)
        A = (1 - w) * A + w * (codes.T @ codes) / len(batch)
        B = (1 - w) * B + w * (codes.T @ batch) / len(batch)
        D = _update_atoms(D, A, B)
    return GroupDictionary(components=D, groups=groups, energy=np.asarray(energy))


# ------------------------------------------------------------------------------------------ data
def _patches(
    images: list[np.ndarray], n: int, size: int, shift: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random patches (n, size*size) and the same scenes moved by ``shift`` px, in a random
    one of the four axis directions per pair (``shift=0``: the second array equals the first)."""
    img_idx = rng.integers(len(images), size=n)
    direction = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)])[rng.integers(4, size=n)] * shift
    first, second = np.empty((n, size * size)), np.empty((n, size * size))
    for i, (k, (dy, dx)) in enumerate(zip(img_idx, direction, strict=True)):
        im = images[k]
        r = rng.integers(shift, im.shape[0] - size - shift + 1)
        c = rng.integers(shift, im.shape[1] - size - shift + 1)
        first[i] = im[r : r + size, c : c + size].ravel()
        second[i] = im[r + dy : r + dy + size, c + dx : c + dx + size].ravel()
    return first, second


class _Preprocess:
    """Patch-mean removal, ZCA whitening fitted on training patches, scale to unit mean norm."""

    def __init__(self, X: np.ndarray, eps: float) -> None:
        Xc = X - X.mean(axis=1, keepdims=True)
        self.W, self.mu = zca_whitening(Xc, eps=eps)
        Z = (Xc - self.mu) @ self.W
        self.scale = float(np.sqrt(np.mean(np.sum(Z**2, axis=1))))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return ((X - X.mean(axis=1, keepdims=True) - self.mu) @ self.W) / self.scale


# ------------------------------------------------------------------------------------- measuring
def sign_free_shift_similarity(D: np.ndarray, shape: tuple[int, int], r: int) -> np.ndarray:
    """:func:`~structlearn.analysis.filters.shift_similarity` maximised also over the sign of the
    second atom (a group's l2 pooling does not see signs), shape (n_atoms, n_atoms).

    >>> a = np.zeros((5, 5)); a[2, 1:3] = [1.0, -1.0]
    >>> sign_free_shift_similarity(np.stack([a.ravel(), -a.ravel()]), (5, 5), 0).round(6).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    n = len(D)
    S = shift_similarity(np.vstack([D, -D]), shape, max_residual_shift=r)
    return np.maximum(S[:n, :n], S[:n, n:])


def group_similarity(S: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Mean similarity over pairs of distinct atoms in the same group, and in different groups.

    >>> S = np.array([[1, .9, .1, .2], [.9, 1, .3, .0], [.1, .3, 1, .7], [.2, .0, .7, 1]])
    >>> [round(v, 4) for v in group_similarity(S, np.array([0, 0, 1, 1]))]
    [0.8, 0.15]
    """
    same = groups[:, None] == groups[None, :]
    off = ~np.eye(len(S), dtype=bool)
    return float(S[same & off].mean()), float(S[~same].mean())


def code_invariance(codes: np.ndarray, shifted: np.ndarray) -> float:
    """Mean over units of the Pearson correlation, over samples, between a unit's code for a patch
    and for the shifted patch; units constant in either set are left out (nan if all are).

    >>> c = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> round(code_invariance(c, c * 2 + 1), 6)
    1.0
    """
    a = codes - codes.mean(0)
    b = shifted - shifted.mean(0)
    den = np.sqrt((a * a).sum(0) * (b * b).sum(0))
    ok = den > 1e-12
    if not ok.any():
        return float("nan")
    return float(np.mean((a * b).sum(0)[ok] / den[ok]))


def _invariance(encode, first: np.ndarray, second: np.ndarray, group_size: int) -> dict:
    ca, cb = encode(first), encode(second)
    return {
        "single": code_invariance(np.abs(ca), np.abs(cb)),
        "single_signed": code_invariance(ca, cb),
        "pooled": code_invariance(
            pool_groups(ca, group_size, "l2"), pool_groups(cb, group_size, "l2")
        ),
        "fraction_nonzero": float(np.mean(ca != 0)),
    }


def _one_seed(photos: list[np.ndarray], cfg: dict[str, Any], seed: int) -> tuple[dict, dict, dict]:
    d, g, l1 = cfg["data"], cfg["group_coding"], cfg["l1_coding"]
    rng = np.random.default_rng(seed)
    size = d["patch_size"]
    raw, _ = _patches(photos, d["n_train"], size, 0, rng)
    prep = _Preprocess(raw, d["zca_eps"])
    X = prep(raw)
    timings = {}
    t0 = time.perf_counter()
    gd = train_group_dictionary(
        X,
        g["n_atoms"],
        g["group_size"],
        lambda1=g["lambda1"],
        n_iter=g["n_iter"],
        batch_size=g["batch_size"],
        forget_window=g["forget_window"],
        code_iter=g["code_iter"],
        random_state=rng,
    )
    t1 = time.perf_counter()
    D1 = train_dictionary(
        X, g["n_atoms"], lambda1=l1["lambda1"], n_iter=l1["n_iter"], random_state=seed
    )
    timings["group_dictionary"], timings["l1_dictionary"] = t1 - t0, time.perf_counter() - t1
    groups, r = gd.groups, cfg["analysis"]["max_residual_shift"]
    models = {
        "group": (
            gd.components,
            lambda Z: group_sparse_encode(
                Z, gd.components, groups, lambda1=g["lambda1"], max_iter=g["code_iter"], tol=1e-6
            ),
        ),
        "l1": (D1, lambda Z: sparse_encode(Z, D1, lambda1=l1["lambda1"])),
    }
    out: dict[str, Any] = {"seed": seed}
    t2 = time.perf_counter()
    for name, (D, encode) in models.items():
        S = sign_free_shift_similarity(D, (size, size), r)
        within, between = group_similarity(S, groups)
        inv = {}
        for s in cfg["invariance"]["shifts"]:
            a, b = _patches(photos, cfg["invariance"]["n_pairs"], size, s, rng)
            inv[str(s)] = _invariance(encode, prep(a), prep(b), g["group_size"])
        usage = pool_groups(encode(X[:2000]), g["group_size"], "l2")
        out[name] = {
            "similarity_within": within,
            "similarity_between": between,
            "invariance": inv,
            "groups_used": int(np.sum(np.any(usage > 0, axis=0))),
        }
    timings["analysis"] = time.perf_counter() - t2
    out["group"]["energy_first"], out["group"]["energy_last"] = (
        float(gd.energy[0]),
        float(gd.energy[-1]),
    )
    return out, {"group": gd.components, "l1": D1, "energy": gd.energy}, timings


# -------------------------------------------------------------------------------------- verdicts
def _iv(per_seed: list[dict], fn) -> Any:
    return mean_interval([fn(m) for m in per_seed])


def verdicts(per_seed: list[dict], shifts: list[int], margin: float) -> list[Verdict]:
    """The three claims' verdicts from per-seed metrics (rules stated in each)."""
    w = _iv(per_seed, lambda m: m["group"]["similarity_within"])
    b = _iv(per_seed, lambda m: m["group"]["similarity_between"])
    wl = _iv(per_seed, lambda m: m["l1"]["similarity_within"])
    held1 = all(
        m["group"]["similarity_within"] > m["group"]["similarity_between"] + margin
        and m["group"]["similarity_within"] > m["l1"]["similarity_within"]
        for m in per_seed
    )
    out = [
        Verdict(
            claim="Group sparse coding makes the atoms of a group shifted copies of one filter "
            "(Hyvärinen & Hoyer 2000/2001; Kavukcuoglu et al. 2009): similarity after the best "
            "shift (sign ignored) is higher within groups than between",
            measured=f"group dictionary: within {w}, between {b}; l1 dictionary, arbitrary "
            f"groups: within {wl}. Rule: within > between + {margin:g} and > the l1 dictionary's "
            "within, every seed",
            held=bool(held1),
        )
    ]
    parts, held2, gains = [], True, []
    for s in shifts:
        k = str(s)
        single = _iv(per_seed, lambda m, k=k: m["group"]["invariance"][k]["single"])
        pooled = _iv(per_seed, lambda m, k=k: m["group"]["invariance"][k]["pooled"])
        parts.append(f"shift {s} px: pooled {pooled} vs single |a_k| {single}")
        held2 &= all(
            m["group"]["invariance"][k]["pooled"] > m["group"]["invariance"][k]["single"]
            for m in per_seed
        )
        gains.append(
            (
                _iv(per_seed, lambda m, k=k: _gain(m["group"], k)),
                _iv(per_seed, lambda m, k=k: _gain(m["l1"], k)),
            )
        )
    out.append(
        Verdict(
            claim="Pooled group codes ||a_g|| are more invariant to a small shift of the input "
            "than single-atom codes |a_k| (correlation over patches of a patch's code and the "
            "shifted patch's)",
            measured="; ".join(parts) + ". Rule: pooled > single at every shift, every seed",
            held=bool(held2),
        )
    )
    held3 = all(
        _gain(m["group"], str(s)) > _gain(m["l1"], str(s)) for m in per_seed for s in shifts
    )
    out.append(
        Verdict(
            claim="The gain from pooling comes from the learned groups: pooling arbitrary groups "
            "of a plain l1 dictionary gains less",
            measured="; ".join(
                f"shift {s} px: gain (pooled - single) group {gg}, l1 {gl}"
                for s, (gg, gl) in zip(shifts, gains, strict=True)
            )
            + ". Rule: group gain > l1 gain at every shift, every seed",
            held=bool(held3),
        )
    )
    return out


def _gain(model: dict, shift: str) -> float:
    inv = model["invariance"][shift]
    return inv["pooled"] - inv["single"]


# --------------------------------------------------------------------------------------- figures
def _group_image(D: np.ndarray, group_size: int, size: int) -> np.ndarray:
    """One row of ``group_size`` atoms per group, groups in two columns, 1-px separators (nan)."""
    n_groups = len(D) // group_size
    cols = 2 if n_groups > 1 else 1
    rows = int(np.ceil(n_groups / cols))
    cell = size + 1
    img = np.full((rows * cell, cols * (group_size * cell + 2)), np.nan)
    scale = np.abs(D).max(axis=1, keepdims=True)
    W = np.divide(D, scale, out=np.zeros_like(D), where=scale > 0)
    for k, w in enumerate(W):
        gi, j = divmod(k, group_size)
        r, c = divmod(gi, cols)
        x0 = c * (group_size * cell + 2) + j * cell
        img[r * cell : r * cell + size, x0 : x0 + size] = w.reshape(size, size)
    return img


def _figures(per_seed: list[dict], first: dict, cfg: dict[str, Any]) -> dict:
    import matplotlib.pyplot as plt

    g, size = cfg["group_coding"]["group_size"], cfg["data"]["patch_size"]
    figs = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 6.2), constrained_layout=True)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.75")
    for ax, key, title in (
        (axes[0], "group", "group sparse coding: one group per row"),
        (axes[1], "l1", "plain l1 sparse coding: arbitrary groups of consecutive atoms"),
    ):
        img = np.ma.masked_invalid(_group_image(first[key], g, size))
        ax.imshow(img, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize="small")
    figs["dictionaries"] = fig

    fig, ax = plt.subplots(figsize=(5.6, 3.8), constrained_layout=True)
    labels = ["group: within", "group: between", "l1: within", "l1: between"]
    vals = np.array(
        [
            [
                m["group"]["similarity_within"],
                m["group"]["similarity_between"],
                m["l1"]["similarity_within"],
                m["l1"]["similarity_between"],
            ]
            for m in per_seed
        ]
    )
    ax.bar(labels, vals.mean(0), color=["C0", "C0", "C1", "C1"], alpha=0.7)
    for row in vals:
        ax.plot(labels, row, "k.", ms=5)
    ax.set_ylabel("mean similarity after best shift (sign ignored)")
    ax.set_ylim(0, 1)
    ax.tick_params(axis="x", labelsize="small")
    figs["group_similarity"] = fig

    fig, ax = plt.subplots(figsize=(6.2, 3.8), constrained_layout=True)
    shifts = [str(s) for s in cfg["invariance"]["shifts"]]
    x = np.arange(len(shifts))
    for i, (model, kind, color) in enumerate(
        [
            ("group", "single", "C0"),
            ("group", "pooled", "C2"),
            ("l1", "single", "C1"),
            ("l1", "pooled", "C3"),
        ]
    ):
        v = np.array([[m[model]["invariance"][s][kind] for s in shifts] for m in per_seed])
        ax.bar(
            x + (i - 1.5) * 0.2, v.mean(0), 0.2, color=color, alpha=0.75, label=f"{model}, {kind}"
        )
        for row in v:
            ax.plot(x + (i - 1.5) * 0.2, row, "k.", ms=4)
    ax.set_xticks(x, [f"shift {s} px" for s in shifts])
    ax.set_ylabel("correlation of codes: patch vs shifted patch")
    ax.legend(frameon=False, fontsize="small", ncol=2)
    figs["shift_invariance"] = fig

    fig, ax = plt.subplots(figsize=(5.0, 3.4), constrained_layout=True)
    ax.plot(np.arange(1, len(first["energy"]) + 1), first["energy"])
    ax.set_xlabel("iteration")
    ax.set_ylabel("group-lasso energy of the batch")
    ax.set_title("dictionary learning under the group penalty (seed 0)", fontsize="small")
    figs["training_energy"] = fig
    return figs


# ------------------------------------------------------------------------------------------- run
def _check(config: dict[str, Any]) -> list[np.ndarray]:
    g = config["group_coding"]
    if g["n_atoms"] % g["group_size"]:
        raise ConfigError(
            f"group_coding.n_atoms: expected a multiple of group_coding.group_size "
            f"({g['group_size']}), got {g['n_atoms']}"
        )
    names = config["data"]["images"] or natural_image_names()
    try:
        photos = [im.image for im in load_natural_images(names)]
    except ValueError as exc:
        raise ConfigError(f"data.images: {exc}") from None
    need = config["data"]["patch_size"] + 2 * max(config["invariance"]["shifts"])
    if need > min(min(p.shape) for p in photos):
        raise ConfigError(f"data.patch_size: patches plus shifts ({need} px) exceed an image side")
    return photos


def run(config: dict[str, Any], context: RunContext) -> StudyOutput:
    """Learn group and plain dictionaries per seed; measure within-group shift similarity and the
    shift invariance of pooled vs single codes."""
    from structlearn.utils.progress import progress

    photos = _check(config)
    per_seed, timings, first = [], {}, {}
    for s in progress(range(config["n_seeds"]), desc="seeds"):
        m, dicts, t = _one_seed(photos, config, context.seed + s)
        per_seed.append(m)
        for k, v in t.items():
            timings[k] = round(timings.get(k, 0.0) + v, 2)
        if s == 0:
            first = dicts
    shifts = config["invariance"]["shifts"]
    return StudyOutput(
        metrics={
            "per_seed": per_seed,
            "dictionary_learning": "online alternating (Mairal 2010) "
            "with group-lasso codes; see train_group_dictionary",
        },
        figures=_figures(per_seed, first, config),
        summary=_summary(per_seed, shifts),
        verdicts=verdicts(per_seed, shifts, config["analysis"]["similarity_margin"]),
        captions={
            "dictionaries": "Atoms (whitened patch space) of the group dictionary, one group per "
            "row, and of the plain l1 dictionary in the same layout. Seed 0.",
            "group_similarity": "Mean similarity of two atoms after the best translation (sign "
            "ignored), for pairs in the same group and in different groups; dots: seeds.",
            "shift_invariance": "Correlation over patches between a code for a patch and for the "
            "same scene shifted: single atoms |a_k| vs pooled groups ||a_g||; dots: seeds.",
            "training_energy": "Energy of each iteration's batch under the current dictionary.",
        },
        timings=timings,
    )


def _path_iv(per_seed: list[dict], *keys: str) -> str:
    """Interval over seeds of ``m[keys[0]][keys[1]]...``, as text."""
    values = []
    for m in per_seed:
        for k in keys:
            m = m[k]
        values.append(m)
    return str(mean_interval(values))


def _summary(per_seed: list[dict], shifts: list[int]) -> list[dict[str, Any]]:
    rows = []
    for model, name in (("group", "group sparse coding"), ("l1", "l1 sparse coding")):
        row = {
            "dictionary": name,
            "within-group similarity": _path_iv(per_seed, model, "similarity_within"),
            "between-group similarity": _path_iv(per_seed, model, "similarity_between"),
        }
        for s in shifts:
            for kind in ("single", "pooled"):
                row[f"{kind} invariance, {s} px"] = _path_iv(
                    per_seed, model, "invariance", str(s), kind
                )
        rows.append(row)
    return rows


class _GroupSparsePooling:
    name = "group_sparse_pooling"
    summary = (
        "Group sparse coding on natural patches: shifted copies within groups, pooled invariance"
    )
    schema = SCHEMA
    run = staticmethod(run)


STUDY = _GroupSparsePooling()
