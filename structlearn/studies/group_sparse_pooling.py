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

Data (``data.source``): the bundled photographs (default), a folder of images, MNIST, CIFAR-10
(grey) or an npz of (n, H, W) images: patches are cut from random images of the set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.config import ConfigError, Field, seeds_fragment
from structlearn.data.sources import data_fragment
from structlearn.studies._group_sparse_learners import (
    LEARNERS,
    Preprocess,
    capture_gap,
    check_sizes,
    difference,
    grey_images,
    invariance,
    measure_learner,
    random_basis,
    regrouped_gain_minus,
    shifted_patches,
)
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

PAPER = "Hyvärinen & Hoyer 2000; Hyvärinen, Hoyer & Inki 2001; Kavukcuoglu et al. 2009"

#: grey images of any size at least patch_size + 2 x the largest shift (12 px by default)
SOURCES = ("photos", "images", "mnist", "mnist5k", "cifar10", "npz")

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "photos",
        patch_size=Field(int, 8, low=3, high=64, doc="square patch side (px)"),
        n_train=Field(int, 20000, low=10, high=10**6, doc="training patches"),
        zca_eps=Field(float, 1.0, low=1e-6, high=100.0, doc="relative ZCA regulariser"),
    ),
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


class GroupSparsePooling(Study):
    """Grouped units on natural patches: shifted copies within groups, pooled invariance."""

    name = "group_sparse_pooling"
    summary = (
        "Group sparse coding on natural patches: shifted copies within groups, pooled invariance"
    )
    schema = SCHEMA

    def prepare(self, config: dict[str, Any]) -> list[np.ndarray]:
        check_sizes(config)
        photos, _ = grey_images(config["data"], SOURCES, self.name)
        need = config["data"]["patch_size"] + 2 * max(config["invariance"]["shifts"])
        if need > min(min(p.shape) for p in photos):
            raise ConfigError(f"data.patch_size: patches plus shifts ({need} px) exceed an image")
        return photos

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"data": grey_images(config["data"], SOURCES, self.name)[1]}

    def measure(self, config: dict[str, Any], seed: int, photos: Any) -> SeedResult:
        d, inv = config["data"], config["invariance"]
        rng = np.random.default_rng(seed)
        size = d["patch_size"]
        raw, _ = shifted_patches(photos, d["n_train"], size, 0, rng)
        prep = Preprocess(raw, d["zca_eps"])
        X = prep(raw)
        fitted = {name: learn(X, config, rng, seed) for name, learn in LEARNERS.items()}
        fitted["random"] = (*random_basis(fitted["isa"][-1], seed), None, None, None)
        pairs = {
            s: tuple(map(prep, shifted_patches(photos, inv["n_pairs"], size, s, rng)))
            for s in inv["shifts"]
        }
        metrics, artefacts = {}, {}
        for name, (basis, groups, encode, progress, energy, _) in fitted.items():
            metrics[name] = measure_learner(config, basis, groups, encode, pairs, seed)
            if progress is not None:
                metrics[name]["objective_improvement"] = progress
            if name != "random":
                artefacts[name] = {"basis": basis, "groups": groups, "energy": energy}
        return SeedResult(metrics, artefacts)

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
            invariance("isa", s1, "single"),
            all_below(config["analysis"]["invariant_above"]),
        )
        pos = interval_above(0.0)
        return [
            Claim(
                text="the units of a group span shifted copies of one filter: a group's subspace "
                "captures more of its units' 1-px shifts than the best other group does, beyond "
                "the same units in random groups",
                paper=PAPER,
                measurement=capture_gap("isa", "ISA"),
                rule=pos,
                premise=learned,
                alternatives=[
                    Alternative(capture_gap("tica", "topographic ICA")),
                    Alternative(capture_gap("group", "group lasso")),
                    Alternative(Measure("isa.capture.gap", "ISA: own − best other, raw")),
                    Alternative(Measure("isa.similarity.gap", "ISA: within − between similarity")),
                ],
                controls=[
                    Control("l1 dictionary, arbitrary groups", capture_gap("l1", "l1")),
                    Control("random orthonormal basis", capture_gap("random", "random basis")),
                ],
            ),
            Claim(
                text="pooling a learned group buys shift invariance beyond pooling the same codes "
                "over random groups of the same size",
                paper=PAPER,
                measurement=invariance("isa", s1, "gain_over_regrouped"),
                rule=pos,
                premise=not_invariant,
                alternatives=[
                    Alternative(invariance("isa", s2, "gain_over_regrouped")),
                    Alternative(invariance("tica", s1, "gain_over_regrouped")),
                    Alternative(invariance("group", s1, "gain_over_regrouped")),
                ],
                controls=[
                    Control(
                        "l1 dictionary, arbitrary groups",
                        invariance("l1", s1, "gain_over_regrouped"),
                    ),
                    Control(
                        "random orthonormal basis", invariance("random", s1, "gain_over_regrouped")
                    ),
                ],
            ),
            Claim(
                text="the pooling gain of learned groups exceeds that of a plain l1 dictionary's "
                "arbitrary groups",
                paper=PAPER,
                measurement=difference(
                    "isa", "l1", f"invariance.{s1}.gain", f"ISA − l1 gain, {s1} px"
                ),
                rule=pos,
                premise=not_invariant,
                alternatives=[
                    Alternative(difference("isa", "l1", f"invariance.{s2}.gain", f"at {s2} px")),
                    Alternative(
                        difference("group", "l1", f"invariance.{s1}.gain", "group lasso − l1")
                    ),
                ],
                controls=[
                    Control(
                        "ISA codes pooled over random regroupings",
                        regrouped_gain_minus("isa", "l1", s1),
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


STUDY = GroupSparsePooling()
