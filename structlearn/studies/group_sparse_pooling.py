r"""Study: do grouped units learn shifted copies of a filter, and does pooling a group buy shift
invariance? (Independent subspace analysis and its relatives on natural image patches.)

Claims, from independent subspace analysis and topographic ICA (Hyvärinen & Hoyer 2000,
"Emergence of phase- and shift-invariant features by decomposition of natural images into
independent feature subspaces"; Hyvärinen, Hoyer & Inki 2001, "Topographic independent component
analysis") and Kavukcuoglu, Ranzato, Fergus & LeCun 2009 ("Learning invariant features through
topographic filter maps"):

1. the units of a group span shifted (phase-shifted) copies of one filter;
2. pooling a group, :math:`\|a_g\|_2`, buys shift invariance: more than pooling the same codes
   over random groups of the same size (the regrouping control; pooling *any* units raises the
   correlation-under-shift, so "pooled beats single" cannot fail);
3. the pooling gain of the learned groups exceeds that of a plain :math:`\ell_1` dictionary's
   arbitrary groups.

Learners (:mod:`structlearn.models`): ISA, the canonical method (orthonormal filters on whitened
data, independent subspace norms) decides; topographic ICA (overlapping 3x3 neighbourhoods on a
torus, grouped for the measures into disjoint 2x2 blocks of the map) and the group-lasso dictionary
are alternatives; a plain :math:`\ell_1` dictionary with groups of consecutive atoms and a random
orthonormal basis on the same whitened subspace are controls. Measures
(:mod:`structlearn.analysis.subspaces`): the basis-invariant subspace capture of 1-px shifts (own
group minus best other), the pairwise similarity after the best shift (an alternative), and the
correlation over patches of codes of a patch and of the same scene shifted. Rules: 95% t-intervals
of per-seed paired differences.
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
from structlearn.models.isa import IndependentSubspaceAnalysis, TopographicICA
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    all_below,
    interval_above,
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
    "isa": {
        "n_components": Field(
            int, 60, low=2, high=4096, doc="whitened dims kept, a multiple of group_size"
        ),
        "n_iter": Field(int, 200, low=1, high=10**5, doc="projected gradient steps"),
        "step_size": Field(
            float, 1.0, low=1e-6, high=100.0, doc="initial step (halved on descent)"
        ),
        "eps": Field(float, 0.1, low=1e-6, high=10.0, doc="G(u) = -sqrt(eps + u)"),
    },
    "tica": {
        "map_shape": Field(
            list, [6, 10], item=int, length=2, low=1, high=64, doc="torus rows, cols"
        ),
        "radius": Field(int, 1, low=0, high=16, doc="neighbourhood half-width (1: 3x3)"),
        "block": Field(
            list, [2, 2], item=int, length=2, low=1, high=64, doc="groups for the measures"
        ),
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
        "invariant_above": Field(
            float, 0.9, low=0.0, high=1.0, doc="premise: single codes below this correlation"
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


def _random_basis(isa: IndependentSubspaceAnalysis, seed: int):
    """A random orthonormal W on ISA's whitened subspace, grouped like ISA's units."""
    W = np.linalg.qr(np.random.default_rng([seed, 3]).standard_normal((len(isa.groups_),) * 2))[0]
    filters = W @ isa.whitening_
    return (isa.dewhitening_ @ W.T).T, isa.groups_, lambda Z: (Z - isa.mean_) @ filters.T


LEARNERS = {"isa": _isa, "tica": _tica, "group": _group_lasso, "l1": _l1}


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
        fitted["random"] = (*_random_basis(fitted["isa"][-1], seed), None, None, None)
        pairs = {
            s: tuple(map(prep, _patches(photos, inv["n_pairs"], size, s, rng)))
            for s in inv["shifts"]
        }
        metrics, artefacts = {}, {}
        for name, (basis, groups, encode, progress, energy, _) in fitted.items():
            metrics[name] = self._measure_learner(config, basis, groups, encode, pairs, seed)
            if progress is not None:
                metrics[name]["objective_improvement"] = progress
            if name != "random":
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

    # ---- claims ------------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        shifts = [str(s) for s in config["invariance"]["shifts"]]
        s1, s2 = shifts[0], shifts[-1]
        learned = Premise(
            "ISA learned: its objective rose during training",
            Measure("isa.objective_improvement", "ISA objective gain"),
            all_above(0.0),
        )
        not_invariant = Premise(
            f"single ISA codes are not already shift-invariant (correlation < "
            f"{config['analysis']['invariant_above']:g} at {s1} px)",
            _inv("isa", s1, "single"),
            all_below(config["analysis"]["invariant_above"]),
        )
        pos = interval_above(0.0)
        return [
            Claim(
                text="the units of a group span shifted copies of one filter: a group's subspace "
                "captures more of its units' 1-px shifts than the best other group does, beyond "
                "the same units in random groups",
                paper=PAPER,
                measurement=_cap("isa", "ISA"),
                rule=pos,
                premise=learned,
                alternatives=[
                    Alternative(_cap("tica", "topographic ICA")),
                    Alternative(_cap("group", "group lasso")),
                    Alternative(Measure("isa.capture.gap", "ISA: own − best other, raw")),
                    Alternative(Measure("isa.similarity.gap", "ISA: within − between similarity")),
                ],
                controls=[
                    Control("l1 dictionary, arbitrary groups", _cap("l1", "l1")),
                    Control("random orthonormal basis", _cap("random", "random basis")),
                ],
            ),
            Claim(
                text="pooling a learned group buys shift invariance beyond pooling the same codes "
                "over random groups of the same size",
                paper=PAPER,
                measurement=_inv("isa", s1, "gain_over_regrouped"),
                rule=pos,
                premise=not_invariant,
                alternatives=[
                    Alternative(_inv("isa", s2, "gain_over_regrouped")),
                    Alternative(_inv("tica", s1, "gain_over_regrouped")),
                    Alternative(_inv("group", s1, "gain_over_regrouped")),
                ],
                controls=[
                    Control(
                        "l1 dictionary, arbitrary groups", _inv("l1", s1, "gain_over_regrouped")
                    ),
                    Control("random orthonormal basis", _inv("random", s1, "gain_over_regrouped")),
                ],
            ),
            Claim(
                text="the pooling gain of learned groups exceeds that of a plain l1 dictionary's "
                "arbitrary groups",
                paper=PAPER,
                measurement=_diff("isa", "l1", f"invariance.{s1}.gain", f"ISA − l1 gain, {s1} px"),
                rule=pos,
                premise=not_invariant,
                alternatives=[
                    Alternative(_diff("isa", "l1", f"invariance.{s2}.gain", f"at {s2} px")),
                    Alternative(_diff("group", "l1", f"invariance.{s1}.gain", "group lasso − l1")),
                ],
                controls=[
                    Control(
                        "ISA codes pooled over random regroupings",
                        _regrouped_gain_minus("isa", "l1", s1),
                    )
                ],
            ),
        ]

    # ---- table and figures -------------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for name in [*LEARNERS, "random"]:
            row = {
                "learner": name,
                "within − between similarity": seed_summary(
                    per_seed(records, f"{name}.similarity.gap")
                ),
                "capture own − other": seed_summary(per_seed(records, f"{name}.capture.gap")),
                "− regrouped": seed_summary(
                    per_seed(records, f"{name}.capture.gap_over_regrouped")
                ),
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
                bars(records, [*LEARNERS, "random"], config["invariance"]["shifts"]),
                "Correlation over patches between a code for a patch and for the same scene "
                "shifted: single units |a_k|, learned groups pooled, the same codes pooled over "
                "random groups of the same size; bars: mean over seeds, dots: seeds.",
            ),
        }


def _cap(learner: str, label: str) -> Measure:
    return Measure(f"{learner}.capture.gap_over_regrouped", f"{label}: capture gap − regrouped")


def _inv(learner: str, shift: str, key: str) -> Measure:
    return Measure(f"{learner}.invariance.{shift}.{key}", f"{learner}: {key} at {shift} px")


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
