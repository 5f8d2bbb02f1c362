r"""Study: do grouped units learn shifted copies of a filter, and do pooled codes tolerate shifts?

Claims, from independent subspace analysis and topographic ICA (Hyvärinen & Hoyer 2000,
"Emergence of phase- and shift-invariant features by decomposition of natural images into
independent feature subspaces"; Hyvärinen, Hoyer & Inki 2001, "Topographic independent component
analysis") and Kavukcuoglu, Ranzato, Fergus & LeCun 2009 ("Learning invariant features through
topographic filter maps"):

1. units within a group become shifted (phase-shifted) copies of one filter;
2. the pooled code of a group, :math:`\|a_g\|_2`, is more invariant to a 1-2 px shift of the input
   than a single unit's code :math:`|a_k|`;
3. that gain comes from the learned groups: pooling arbitrary groups of a plain :math:`\ell_1`
   dictionary gains less.

Learners: the group-lasso dictionary (:class:`structlearn.models.group_dictionary.GroupSparseDictionary`)
and, as the reference with arbitrary groups of consecutive atoms, a plain :math:`\ell_1` dictionary
(SPAMS ``trainDL``). Measures: :mod:`structlearn.analysis.subspaces`.
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
from structlearn.config import ConfigError, Field, seeds_fragment
from structlearn.data.mosaic import zca_whitening
from structlearn.data.natural import load_natural_images
from structlearn.models.group_dictionary import GroupSparseDictionary
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
)
from structlearn.utils.spams import sparse_encode, train_dictionary

PAPER = "Hyvärinen & Hoyer 2000; Hyvärinen, Hoyer & Inki 2001; Kavukcuoglu et al. 2009"

SCHEMA = {
    **seeds_fragment(3),
    "data": {
        "images": Field(list, [], item=str, doc="bundled photographs ([] = all of them)"),
        "patch_size": Field(int, 8, low=3, high=64, doc="square patch side (px)"),
        "n_train": Field(int, 20000, low=10, high=10**6, doc="training patches"),
        "zca_eps": Field(float, 1.0, low=1e-6, high=100.0, doc="relative ZCA regulariser"),
    },
    "group_coding": {
        "n_atoms": Field(int, 64, low=2, high=4096),
        "group_size": Field(int, 4, low=2, high=64),
        "lambda1": Field(float, 0.15, low=1e-6, high=100.0, doc="group-lasso weight"),
        "n_iter": Field(int, 300, low=1, high=10**6, doc="alternating (online) iterations"),
        "batch_size": Field(int, 256, low=1, high=10**6),
        "forget_window": Field(int, 20, low=1, high=10**6, doc="iterations remembered"),
        "code_iter": Field(int, 50, low=1, high=10**5, doc="FISTA iterations per coding"),
    },
    "l1_coding": {
        "lambda1": Field(float, 0.15, low=1e-6, high=100.0, doc="lasso weight of the reference"),
        "n_iter": Field(int, 300, low=1, high=10**6, doc="SPAMS trainDL iterations"),
    },
    "invariance": {
        "n_pairs": Field(int, 3000, low=10, high=10**6, doc="patch pairs per shift"),
        "shifts": Field(list, [1, 2], item=int, low=1, high=16, unique=True, doc="shifts (px)"),
        "n_regroupings": Field(int, 5, low=1, high=1000, doc="random regroupings averaged"),
    },
    "analysis": {
        "max_residual_shift": Field(int, 2, low=0, high=16, doc="shift_similarity's slack"),
        "similarity_margin": Field(
            float, 0.1, low=0.0, high=1.0, doc="within-group similarity must beat between by this"
        ),
    },
}


# ---- data --------------------------------------------------------------------------------------


def _patches(images: list[np.ndarray], n: int, size: int, shift: int, rng: np.random.Generator):
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
    premise = float(est.energy_[0] - est.energy_[-1])
    return est.components_, est.groups_, est.transform, premise, est.energy_


def _l1(X, config, rng, seed):
    g, c = config["group_coding"], config["l1_coding"]
    D = train_dictionary(
        X, g["n_atoms"], lambda1=c["lambda1"], n_iter=c["n_iter"], random_state=seed
    )
    groups = np.arange(len(D)) // g["group_size"]
    return D, groups, lambda Z: sparse_encode(Z, D, lambda1=c["lambda1"]), None, None


LEARNERS = {"group": _group_lasso, "l1": _l1}


class GroupSparsePooling(Study):
    """Grouped units on natural patches: shifted copies within groups, pooled invariance."""

    name = "group_sparse_pooling"
    summary = (
        "Group sparse coding on natural patches: shifted copies within groups, pooled invariance"
    )
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> list[np.ndarray]:
        g = config["group_coding"]
        if g["n_atoms"] % g["group_size"]:
            raise ConfigError(
                f"group_coding.n_atoms: expected a multiple of group_coding.group_size "
                f"({g['group_size']}), got {g['n_atoms']}"
            )
        try:
            photos = [im.image for im in load_natural_images(config["data"]["images"] or None)]
        except ValueError as exc:
            raise ConfigError(f"data.images: {exc}") from None
        need = config["data"]["patch_size"] + 2 * max(config["invariance"]["shifts"])
        if need > min(min(p.shape) for p in photos):
            raise ConfigError(f"data.patch_size: patches plus shifts ({need} px) exceed an image")
        return photos

    def measure(self, config: dict[str, Any], seed: int, photos: Any) -> SeedResult:
        d, inv = config["data"], config["invariance"]
        rng = np.random.default_rng(seed)
        size = d["patch_size"]
        raw, _ = _patches(photos, d["n_train"], size, 0, rng)
        prep = _Preprocess(raw, d["zca_eps"])
        X = prep(raw)
        fitted = {name: learn(X, config, rng, seed) for name, learn in LEARNERS.items()}
        pairs = {
            s: tuple(map(prep, _patches(photos, inv["n_pairs"], size, s, rng)))
            for s in inv["shifts"]
        }
        metrics, artefacts = {}, {}
        for name, (basis, groups, encode, progress, energy) in fitted.items():
            metrics[name] = self._measure_learner(config, basis, groups, encode, pairs, seed)
            if progress is not None:
                metrics[name]["objective_improvement"] = progress
            artefacts[name] = {"basis": basis, "groups": groups, "energy": energy}
        return SeedResult(metrics, artefacts)

    @staticmethod
    def _measure_learner(config, basis, groups, encode, pairs, seed) -> dict[str, Any]:
        size = config["data"]["patch_size"]
        S = sign_free_shift_similarity(
            basis, (size, size), config["analysis"]["max_residual_shift"]
        )
        within, between = group_similarity(S, groups)
        out: dict[str, Any] = {
            "similarity": {"within": within, "between": between, "gap": within - between},
            "capture": subspace_capture(basis, groups, (size, size)).summary(),
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

    # ---- claims ------------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        margin = config["analysis"]["similarity_margin"]
        shifts = [str(s) for s in config["invariance"]["shifts"]]
        s1, s2 = shifts[0], shifts[-1]
        learned = Premise(
            "the group-lasso dictionary learned: its batch energy fell during training",
            Measure("group.objective_improvement", "energy fall"),
            all_above(0.0),
        )
        return [
            Claim(
                text="atoms of a group are shifted copies of one filter: similarity after the best "
                f"shift (sign ignored) within groups beats between groups by > {margin:g}",
                paper=PAPER,
                measurement=Measure("group.similarity.gap", "group lasso: within − between"),
                rule=all_above(margin),
                premise=learned,
                alternatives=[Alternative(_diff("group", "l1", "similarity.within", "within"))],
                controls=[
                    Control(
                        "l1 dictionary, arbitrary groups",
                        Measure("l1.similarity.gap", "l1: within − between"),
                    )
                ],
            ),
            Claim(
                text="pooled group codes ||a_g|| are more shift-invariant than single codes |a_k|",
                paper=PAPER,
                measurement=_inv("group", s1, "gain"),
                rule=all_above(0.0),
                premise=learned,
                alternatives=[Alternative(_inv("group", s2, "gain"))],
                controls=[Control("l1 dictionary, arbitrary groups", _inv("l1", s1, "gain"))],
            ),
            Claim(
                text="the pooling gain comes from the learned groups: the l1 dictionary's arbitrary "
                "groups gain less",
                paper=PAPER,
                measurement=_diff("group", "l1", f"invariance.{s1}.gain", f"gain at {s1} px"),
                rule=all_above(0.0),
                premise=learned,
                alternatives=[
                    _alt(_diff("group", "l1", f"invariance.{s2}.gain", f"gain at {s2} px"))
                ],
                controls=[
                    Control(
                        "group-lasso codes pooled over random regroupings",
                        _regrouped_gain_minus("group", "l1", s1),
                    )
                ],
            ),
        ]

    # ---- table and figures -------------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for name in LEARNERS:
            row = {
                "learner": name,
                "within − between similarity": seed_summary(
                    per_seed(records, f"{name}.similarity.gap")
                ),
                "capture own − other": seed_summary(per_seed(records, f"{name}.capture.gap")),
            }
            for s in config["invariance"]["shifts"]:
                for kind in ("single", "pooled", "pooled_regrouped"):
                    row[f"{kind}, {s} px"] = seed_summary(
                        per_seed(records, f"{name}.invariance.{s}.{kind}")
                    )
            rows.append(row)
        return rows

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        from structlearn.studies._group_sparse_plots import bars, group_image_panels

        first = records[0]
        size = config["data"]["patch_size"]
        return {
            "dictionaries": (
                group_image_panels(first.artefacts, size),
                f"Units (whitened patch space) of each learner, one group per row; seed {first.seed}.",
            ),
            "invariance": (
                bars(records, list(LEARNERS), config["invariance"]["shifts"]),
                "Correlation over patches between a code for a patch and for the same scene "
                "shifted: single units |a_k|, learned groups pooled, the same codes pooled over "
                "random groups of the same size; bars: mean over seeds, dots: seeds.",
            ),
        }


def _inv(learner: str, shift: str, key: str) -> Measure:
    return Measure(f"{learner}.invariance.{shift}.{key}", f"{learner}: {key} at {shift} px")


def _alt(m: Measure) -> Alternative:
    return Alternative(m)


def _diff(a: str, b: str, key: str, label: str) -> Measure:
    return _diff_keys(a, key, b, key, label)


def _diff_keys(a: str, key_a: str, b: str, key_b: str, label: str = "") -> Measure:
    def value(m: dict[str, Any]) -> float:
        return _get(m[a], key_a) - _get(m[b], key_b)

    return Measure(value, label or f"{a}.{key_a} − {b}.{key_b}")


def _regrouped_gain_minus(a: str, b: str, shift: str) -> Measure:
    """``a``'s gain when its codes are pooled over random regroupings, minus ``b``'s gain."""

    def value(m: dict[str, Any]) -> float:
        inv = m[a]["invariance"][shift]
        return inv["pooled_regrouped"] - inv["single"] - m[b]["invariance"][shift]["gain"]

    return Measure(value, f"{a} regrouped gain − {b} gain at {shift} px")


def _get(node: Any, key: str) -> float:
    for part in key.split("."):
        node = node[part]
    return float(node)


STUDY = GroupSparsePooling()
