"""The learners and measures of :mod:`structlearn.studies.group_sparse_pooling`: shifted patch
pairs, the patch preprocessing, the four learners and the random-basis control, one learner's
measures, and the claims' derived measurements (Hyvärinen & Hoyer 2000; Hyvärinen, Hoyer & Inki
2001; Kavukcuoglu et al. 2009).

Not a study (its name starts with an underscore): what the study file would otherwise hold below
its schema.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.analysis.subspaces import (
    group_similarity,
    pooling_invariance,
    sign_free_shift_similarity,
    subspace_capture,
)
from structlearn.config import ConfigError
from structlearn.data.mosaic import zca_whitening
from structlearn.data.natural import load_natural_images
from structlearn.data.sources import load_source, parse_source
from structlearn.models.group_dictionary import GroupSparseDictionary
from structlearn.models.isa import IndependentSubspaceAnalysis, TopographicICA
from structlearn.studies.claims import Measure
from structlearn.utils.spams import sparse_encode, train_dictionary

# ---- data --------------------------------------------------------------------------------------


def shifted_patches(
    images: list[np.ndarray], n: int, size: int, shift: int, rng: np.random.Generator
):
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


class Preprocess:
    """Patch-mean removal, ZCA whitening fitted on training patches, scale to unit mean norm."""

    def __init__(self, X: np.ndarray, eps: float) -> None:
        Xc = X - X.mean(axis=1, keepdims=True)
        self.W, self.mu = zca_whitening(Xc, eps=eps)
        Z = (Xc - self.mu) @ self.W
        self.scale = float(np.sqrt(np.mean(np.sum(Z**2, axis=1))))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return ((X - X.mean(axis=1, keepdims=True) - self.mu) @ self.W) / self.scale


def grey_images(
    d: dict[str, Any], sources: tuple[str, ...], who: str
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The grey images ``data.source`` names, and their description for the run-level metrics."""
    if parse_source(d["source"], sources).kind == "photos":
        try:
            photos = load_natural_images(d["images"] or None)
        except ValueError as exc:
            raise ConfigError(f"data.images: {exc}") from None
        names = [p.name for p in photos]
        return [p.image for p in photos], {"source": "photos", "images": names}
    data = load_source(d, random_state=0, accepts=sources)
    images = data.require_images(who)
    if any(im.ndim != 2 for im in images):
        raise ConfigError(f"data.color: {who} needs grey images, got rgb from {data.source!r}")
    return images, data.to_dict()


def check_sizes(config: dict[str, Any]) -> None:
    """Refuse group, subspace and map sizes the learners cannot use (one line naming the key)."""
    g = config["group_coding"]
    if g["n_atoms"] % g["group_size"]:
        raise ConfigError(
            f"group_coding.n_atoms: expected a multiple of group_coding.group_size "
            f"({g['group_size']}), got {g['n_atoms']}"
        )
    if config["isa"]["n_components"] % g["group_size"]:
        raise ConfigError(
            f"isa.n_components: expected a multiple of group_coding.group_size "
            f"({g['group_size']}), got {config['isa']['n_components']}"
        )
    n_pix = config["data"]["patch_size"] ** 2 - 1  # patch-mean removal drops one dimension
    (rows, cols), (br, bc) = config["tica"]["map_shape"], config["tica"]["block"]
    for key, k in (
        ("isa.n_components", config["isa"]["n_components"]),
        ("tica.map_shape", rows * cols),
    ):
        if k > n_pix:
            raise ConfigError(f"{key}: {k} units exceed the {n_pix} dimensions of a patch")
    if rows % br or cols % bc or br * bc != g["group_size"]:
        raise ConfigError(
            f"tica.block: expected a {g['group_size']}-unit block dividing the map "
            f"{rows}x{cols}, got {br}x{bc}"
        )


# ---- learners: (basis rows, groups, encode) -----------------------------------------------------


def _group_lasso(X, config, rng, seed):
    g = config["group_coding"]
    est = GroupSparseDictionary(
        g["n_atoms"],
        g["group_size"],
        lambda1=g["lambda1"],
        n_iter=g["n_iter"],
        batch_size=g["batch_size"],
        forget_window=g["forget_window"],
        code_iter=g["code_iter"],
        random_state=rng,
    ).fit(X)
    fall = float(est.energy_[0] - est.energy_[-1])
    return est.components_, est.groups_, est.transform, fall, est.energy_, est


def _l1(X, config, rng, seed):
    g, c = config["group_coding"], config["l1_coding"]
    D = train_dictionary(
        X, g["n_atoms"], lambda1=c["lambda1"], n_iter=c["n_iter"], random_state=seed
    )
    groups = np.arange(len(D)) // g["group_size"]
    return D, groups, lambda Z: sparse_encode(Z, D, lambda1=c["lambda1"]), None, None, None


def _isa(X, config, rng, seed):
    c, g = config["isa"], config["group_coding"]["group_size"]
    est = IndependentSubspaceAnalysis(
        c["n_components"],
        g,
        n_iter=c["n_iter"],
        step_size=c["step_size"],
        eps=c["eps"],
        random_state=seed,
    ).fit(X)
    gain = float(est.objective_[-1] - est.objective_[0])
    return est.basis_, est.groups_, est.transform, gain, est.objective_, est


def _tica(X, config, rng, seed):
    c, i = config["tica"], config["isa"]
    est = TopographicICA(
        tuple(c["map_shape"]),
        c["radius"],
        n_iter=i["n_iter"],
        step_size=i["step_size"],
        eps=i["eps"],
        random_state=seed,
    ).fit(X)
    groups = est.block_groups(tuple(c["block"]))
    gain = float(est.objective_[-1] - est.objective_[0])
    return est.basis_, groups, est.transform, gain, est.objective_, est


def random_basis(isa: IndependentSubspaceAnalysis, seed: int):
    """A random orthonormal W on ISA's whitened subspace, grouped like ISA's units."""
    W = np.linalg.qr(np.random.default_rng([seed, 3]).standard_normal((len(isa.groups_),) * 2))[0]
    filters = W @ isa.whitening_
    return (isa.dewhitening_ @ W.T).T, isa.groups_, lambda Z: (Z - isa.mean_) @ filters.T


LEARNERS = {"isa": _isa, "tica": _tica, "group": _group_lasso, "l1": _l1}


def measure_learner(config, basis, groups, encode, pairs, seed) -> dict[str, Any]:
    """Shift similarity, subspace capture and pooled invariance of one learner's basis."""
    size = config["data"]["patch_size"]
    S = sign_free_shift_similarity(basis, (size, size), config["analysis"]["max_residual_shift"])
    within, between = group_similarity(S, groups)
    out: dict[str, Any] = {
        "similarity": {"within": within, "between": between, "gap": within - between},
        "capture": subspace_capture(
            basis,
            groups,
            (size, size),
            n_regroupings=config["invariance"]["n_regroupings"],
            random_state=np.random.default_rng([seed, 5]),
        ).summary(),
        "invariance": {},
    }
    for s, (a, b) in pairs.items():
        out["invariance"][str(s)] = pooling_invariance(
            encode(a),
            encode(b),
            groups,
            n_regroupings=config["invariance"]["n_regroupings"],
            random_state=np.random.default_rng([seed, s]),
        ).summary()
    return out


# ---- derived measurements of the claims ---------------------------------------------------------


def capture_gap(learner: str, label: str) -> Measure:
    return Measure(f"{learner}.capture.gap_over_regrouped", f"{label}: capture gap − regrouped")


def invariance(learner: str, shift: str, key: str) -> Measure:
    return Measure(f"{learner}.invariance.{shift}.{key}", f"{learner}: {key} at {shift} px")


def difference(a: str, b: str, key: str, label: str) -> Measure:
    return _diff_keys(a, key, b, key, label)


def _diff_keys(a: str, key_a: str, b: str, key_b: str, label: str = "") -> Measure:
    def value(m: dict[str, Any]) -> float:
        return _get(m[a], key_a) - _get(m[b], key_b)

    return Measure(value, label or f"{a}.{key_a} − {b}.{key_b}")


def regrouped_gain_minus(a: str, b: str, shift: str) -> Measure:
    """``a``'s gain when its codes are pooled over random regroupings, minus ``b``'s gain."""

    def value(m: dict[str, Any]) -> float:
        inv = m[a]["invariance"][shift]
        return inv["pooled_regrouped"] - inv["single"] - m[b]["invariance"][shift]["gain"]

    return Measure(value, f"{a} regrouped gain − {b} gain at {shift} px")


def _get(node: Any, key: str) -> float:
    for part in key.split("."):
        node = node[part]
    return float(node)
