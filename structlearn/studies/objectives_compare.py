r"""Study: one MLP, four objectives: accuracy, label noise, ΔR and each model's own information.

The network ``n_features -> width -> t_dim`` (the ``t_dim`` layer is :math:`T`) is trained end to
end under cross-entropy (``ce``, linear readout), MCR² (``mcr2``; Yu, Chan, You, Song & Ma 2020:
maximise ΔR of :math:`T` on the sphere, classify by nearest class subspace), the variational IB
(``vib``; Alemi, Fischer, Dillon & Murphy 2017: the Gaussian encoder
:math:`p(z|x) = \mathcal N(\mu(x), \sigma(x)^2)` is the ``width -> t_dim`` layer, loss CE + β·KL)
and the nonlinear IB (``nib``; Kolchinsky, Tracey & Wolpert 2019: Gaussian noise of variance
:math:`\sigma^2` on :math:`T`, loss CE + β·Î_KDE(X;T)); β weights compression.

Measured on the clean test split (nats): test accuracy; the share of corrupted training labels
reproduced; ΔR of :math:`T` at the training ε and at ε/2 and 2ε; the largest cosine of the
principal angles between class subspaces; nearest-subspace accuracy of every objective's
:math:`T`; :math:`I(X;T)`, :math:`I(T;Y)` through a stated channel :math:`T + \mathcal N(0,
\sigma^2 I)` (Kolchinsky–Tracey bounds, σ² relative to T's mean unit variance: the measure the
study used so far) with an I(T;Y) permutation floor. VIB's own channel is measured over a β sweep
(``vib.betas``, clean labels): the rate :math:`E_x\,\mathrm{KL}(p(z|x)\|\mathcal N(0, I))` and
pairwise-KL / Bhattacharyya bounds on :math:`I(X;Z)` with the encoder's own σ(x)
(:func:`structlearn.estimators.gaussian_channel.gaussian_channel_mi_bounds`). For VIB, :math:`T`
elsewhere is μ(x), the mean of that channel (not a layer before it).

Controls: a second cross-entropy network from another initialisation (``ce_twin``): "CE vs CE"
must not pass a rule that "MCR² vs CE" passes; for the β sweep the untrained encoder.

Training: the runner hands every seed at once; the cross-entropy networks and twins of every seed
and noise rate are trained together by the ensemble trainer (``training.ensemble``; ``false``: one
by one, the reference path, equal within float32 rounding), the other objectives one by one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.config import Field, seeds_fragment, training_fragment
from structlearn.data.sources import data_fragment, load_source
from structlearn.data.tabular import corrupt_labels, split_table
from structlearn.fit import fit_arrays, layer_outputs
from structlearn.models.blocks import sphere
from structlearn.models.subspace import (
    class_subspaces,
    nearest_subspace_predict,
    principal_angle_cosines,
)
from structlearn.objectives.coding_rate import delta_R_nats
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import (
    Alternative,
    Claim,
    Control,
    Measure,
    Premise,
    all_above,
    interval_above,
)

OBJECTIVES = ("ce", "mcr2", "vib", "nib")
SOURCES = ("digits", "mnist5k", "mnist", "npz", "csv")
PAPERS = {"mcr2": "Yu et al. 2020", "vib": "Alemi et al. 2017", "nib": "Kolchinsky et al. 2019"}

SCHEMA = {
    **seeds_fragment(3),
    "data": data_fragment(
        SOURCES,
        "digits",
        test_size=Field(float, 0.25, low=0.05, high=0.9, doc="stratified test fraction"),
        max_features=Field(int, 784, low=1, high=10**5, doc="PCA to this many (training split)"),
    ),
    "objectives": Field(list, list(OBJECTIVES), item=str, subset_of=OBJECTIVES, unique=True, low=1),
    "label_noise": Field(list, [0.0, 0.2, 0.4], item=float, low=0.0, high=0.9, unique=True),
    "mlp": {
        "width": Field(int, 128, low=1, high=10**4, doc="units of the first hidden layer"),
        "t_dim": Field(int, 32, low=1, high=10**4, doc="units of the last hidden layer T"),
        "activation": Field(str, "tanh", choices=["tanh", "relu", "sigmoid"]),
    },
    "training": training_fragment(
        optimizer="adam", epochs=100, batch_size=128, lr=1e-3, ensemble=True
    ),
    "mcr2": {"eps": Field(float, 0.7071, low=1e-6, high=100.0, doc="ε of MCR² and of ΔR")},
    "vib": {
        "beta": Field(float, 1e-3, low=0.0, high=100.0, doc="β of the noise sweep (Alemi: 1e-3)"),
        "betas": Field(
            list,
            [1e-3, 1e-2, 1e-1, 1.0],
            item=float,
            low=0.0,
            high=100.0,
            unique=True,
            doc="β sweep of VIB's own channel (clean labels)",
        ),
    },
    "nib": {
        "beta": Field(float, 0.1, low=0.0, high=100.0, doc="weight of the KDE I(X;T) bound"),
        "noise_variance": Field(float, 1.0, low=1e-8, high=1e4, doc="σ² of the noise on T"),
    },
    "information": {
        "noise_variance": Field(float, 1.0, low=1e-8, high=1e4, doc="KDE σ² x T's unit variance"),
        "absolute_noise_variance": Field(float, 1.0, low=1e-8, high=1e4, doc="alternative σ²"),
        "n_shuffles": Field(int, 5, low=1, high=1000, doc="label permutations of I(T;Y) floor"),
    },
}


def _tag(rate: float) -> str:
    """Metric key of a noise rate: 0.2 -> 'p20' (dots would split dotted keys)."""
    return f"p{round(100 * rate)}"


def _fit(
    name: str, s: Any, y: np.ndarray, cfg: dict, seed: int, beta: float | None = None, train=True
):
    """Train objective ``name`` (mcr2, vib, nib; ce: :func:`train_ce_networks`) on (X_train, y);
    returns (T_train, T_test, pred_train, pred_test, extra), T the last hidden layer (VIB: the
    encoder's mean μ(x); extra holds its σ(x))."""
    import torch

    from structlearn.models.mlp import MLP
    from structlearn.objectives import MaximalCodingRateReduction
    from structlearn.objectives.bottleneck import NonlinearIB, VariationalIB

    m, d, k, act = cfg["mlp"], s.X_train.shape[1], s.n_classes, cfg["mlp"]["activation"]
    widths = [d, m["width"]] if name == "vib" else [d, m["width"], m["t_dim"]]
    model = MLP(widths, act, output_activation=act, random_state=seed)
    if name == "mcr2":
        objective = MaximalCodingRateReduction(eps=cfg["mcr2"]["eps"], n_classes=k)
        fit_arrays(model, objective, s.X_train, y, cfg["training"], seed)
        T_tr, T_te = (layer_outputs(model, X)[-1] for X in (s.X_train, s.X_test))
        pred = [nearest_subspace_predict(sphere(T_tr), y, sphere(T)) for T in (T_tr, T_te)]
        return T_tr, T_te, *pred, {}
    if name == "vib":
        b = cfg["vib"]["beta"] if beta is None else beta
        objective = VariationalIB(m["width"], m["t_dim"], k, beta=b, random_state=seed)
    else:
        c = cfg["nib"]
        objective = NonlinearIB(m["t_dim"], k, beta=c["beta"], noise_variance=c["noise_variance"],
                                random_state=seed)  # fmt: skip
    if train:  # train=False: the untrained network (a control)
        fit_arrays(model, objective, s.X_train, y, cfg["training"], seed)
    model.eval()
    objective.eval()
    out = []
    with torch.no_grad():
        for X in (s.X_train, s.X_test):
            h = model(torch.as_tensor(X, dtype=torch.float32))
            mu, sd = objective.encode(h[-1]) if name == "vib" else (h[-1], None)
            pred = objective.predict(h).argmax(1).numpy()
            out.append((mu.double().numpy(), pred, None if sd is None else sd.double().numpy()))
    return out[0][0], out[1][0], out[0][1], out[1][1], {"std_test": out[1][2]}


def ce_widths(cfg: dict[str, Any], n_features: int, n_classes: int) -> list[int]:
    """The cross-entropy network: n_features -> width -> t_dim -> n_classes (linear readout)."""
    return [n_features, cfg["mlp"]["width"], cfg["mlp"]["t_dim"], n_classes]


def _ce_outputs(model: Any, s: Any) -> tuple:
    """A trained CE network's (T_train, T_test, pred_train, pred_test, {}) (T: last hidden)."""
    tr, te = (layer_outputs(model, X) for X in (s.X_train, s.X_test))
    return tr[-2], te[-2], tr[-1].argmax(1), te[-1].argmax(1), {}


def train_ce_networks(cfg: dict[str, Any], jobs: list[tuple[Any, np.ndarray, int]]) -> list:
    """The CE networks of ``jobs`` ``[(split, training labels, seed), ...]`` trained in one call
    (:func:`structlearn.ensemble.train_classifier_mlps`: together with ``training.ensemble``,
    else one by one, the reference path); each network's :func:`_fit` output, in order."""
    from structlearn.ensemble import train_classifier_mlps

    s0 = jobs[0][0]
    nets, _ = train_classifier_mlps(
        ce_widths(cfg, s0.X_train.shape[1], s0.n_classes), cfg["mlp"]["activation"],
        [j[0].X_train for j in jobs], [j[1] for j in jobs], seeds=[j[2] for j in jobs],
        section=cfg["training"],
    )  # fmt: skip
    return [_ce_outputs(net, j[0]) for net, j in zip(nets, jobs, strict=True)]


def layer_information(T: np.ndarray, y: np.ndarray, info: dict[str, Any], seed: int) -> dict:
    """I(X;T), I(T;Y) (nats) through T + N(0, σ²I), σ² = noise_variance x T's mean unit variance,
    on equally likely test inputs (ceiling log n), and the I(T;Y) floor of shuffled labels;
    ``I_XT_absolute_nats``: the same with σ² = absolute_noise_variance (NIB's own channel)."""
    from structlearn.estimators import kde_mi_bounds, mutual_information

    unit_var = float(np.mean(np.var(T, axis=0)))
    var = info["noise_variance"] * (unit_var if unit_var > 0 else 1.0)
    b = kde_mi_bounds(T, y, var)
    absolute = kde_mi_bounds(T, y, info["absolute_noise_variance"])["I_XT_upper_nats"]
    floor = mutual_information(T, y, "kde", noise_variance=var, return_baseline=True,
                               n_shuffles=info["n_shuffles"], n_bootstrap=0, random_state=seed)  # fmt: skip
    return {
        "I_XT_nats": b["I_XT_upper_nats"],
        "I_XT_absolute_nats": absolute,
        "I_TY_nats": b["I_TY_upper_nats"],
        "I_TY_floor_nats": floor.null_mean,
        "log_n_test_nats": float(np.log(T.shape[0])),
    }


def _geometry(T_tr, T_te, s, y_tr, eps: float) -> dict[str, float]:
    """ΔR at ε/2, ε, 2ε (test, sphere); class-subspace angles; nearest-subspace accuracy."""
    Z_tr, Z_te = sphere(T_tr), sphere(T_te)
    cos = principal_angle_cosines(class_subspaces(Z_te, s.y_test))
    off = cos[~np.eye(len(cos), dtype=bool)]
    out = {f"delta_R{tag}_nats": delta_R_nats(Z_te, s.y_test, f * eps, n_classes=s.n_classes)
           for tag, f in (("", 1.0), ("_half_eps", 0.5), ("_double_eps", 2.0))}  # fmt: skip
    pred = nearest_subspace_predict(Z_tr, y_tr, Z_te)
    out.update(mean_subspace_cosine=float(off.mean()),
               nearest_subspace_accuracy=float(np.mean(pred == s.y_test)))  # fmt: skip
    return out


class ObjectivesCompare(Study):
    """One MLP under CE, MCR², VIB and NIB."""

    name = "objectives_compare"
    summary = "One MLP under CE, MCR², VIB and NIB: accuracy, ΔR, each model's information"
    schema = SCHEMA
    batch_seeds = True  # every seed's cross-entropy networks are trained together

    def prepare(self, config: dict[str, Any]) -> Any:
        data = load_source(config["data"], random_state=config["seed"], accepts=SOURCES)
        return data.require_matrix("objectives_compare"), data.y, data.description

    def measure(self, config: dict[str, Any], seed: int, shared: Any) -> SeedResult:
        return self.measure_seeds(config, [seed], shared)[0]

    def measure_seeds(self, config: dict[str, Any], seeds, shared: Any) -> list[SeedResult]:
        """Every seed's cross-entropy networks (and twins) at every noise rate trained in one
        call (:func:`train_ce_networks`); MCR², VIB and NIB, whose objectives have no stacked
        counterpart, one by one."""
        X, y, _ = shared
        d = config["data"]
        splits = [
            split_table(X, y, d["test_size"], s, max_features=d["max_features"]) for s in seeds
        ]
        rates = list(enumerate(config["label_noise"]))
        noisy = {
            (k, i): corrupt_labels(sp.y_train, rate, sp.n_classes, seed * 1000 + i)
            for k, (seed, sp) in enumerate(zip(seeds, splits)) for i, rate in rates
        }  # fmt: skip
        twins = (0, 1) if "ce" in config["objectives"] else (1,)  # 1: ce_twin, the control
        keys = [(t, k, i) for t in twins for k in range(len(seeds)) for i, _ in rates]
        jobs = [(splits[k], noisy[k, i][0], seeds[k] + t * 10**6) for t, k, i in keys]
        runs_ce = dict(zip(keys, train_ce_networks(config, jobs), strict=True))
        return [
            self._measure_seed(config, seed, splits[k], rates, noisy, runs_ce, k)
            for k, seed in enumerate(seeds)
        ]

    def _measure_seed(self, config, seed, s, rates, noisy, runs_ce, k) -> SeedResult:
        noise, examples = {}, {}
        for i, rate in rates:
            y_noisy, flipped = noisy[k, i]
            runs = {
                n: runs_ce[0, k, i] if n == "ce" else _fit(n, s, y_noisy, config, seed)
                for n in config["objectives"]
            }
            runs["ce_twin"] = runs_ce[1, k, i]  # another init: seed + 10**6
            noise[_tag(rate)] = {
                n: self._measure(r, s, y_noisy, flipped, config, seed) for n, r in runs.items()
            }
            examples = examples or {n: r[1] for n, r in runs.items()}
        metrics = {"noise": noise}
        if "vib" in config["objectives"]:
            metrics["vib_sweep"] = [
                self._channel(s, config, seed, b) for b in config["vib"]["betas"]
            ]
            metrics["vib_untrained"] = self._channel(s, config, seed, 1.0, train=False)
        return SeedResult(metrics, {"T_test": examples, "y_test": s.y_test})

    @staticmethod
    def _measure(run, s, y_noisy, flipped, cfg, seed) -> dict[str, Any]:
        T_tr, T_te, p_tr, p_te, _ = run
        return {
            "test_accuracy": float(np.mean(p_te == s.y_test)),
            "memorised_corrupted_share": float(np.mean(p_tr[flipped] == y_noisy[flipped]))
            if flipped.any() else None,
            **_geometry(T_tr, T_te, s, y_noisy, cfg["mcr2"]["eps"]),
            **layer_information(T_te, s.y_test, cfg["information"], seed),
        }  # fmt: skip

    @staticmethod
    def _channel(s, cfg, seed: int, beta: float, train: bool = True) -> dict[str, float]:
        """VIB at one β on clean labels: accuracy, rate, bounds on I(X;Z), the old μ-only measure."""
        from structlearn.estimators.gaussian_channel import gaussian_channel_mi_bounds

        _, mu, _, pred, extra = _fit("vib", s, s.y_train, cfg, seed, beta=beta, train=train)
        sd = extra["std_test"]
        b = gaussian_channel_mi_bounds(mu, sd)
        return {
            "beta": beta,
            "test_accuracy": float(np.mean(pred == s.y_test)),
            "rate_nats": float(np.mean(0.5 * np.sum(mu**2 + sd**2 - 1 - 2 * np.log(sd), 1))),
            **b,
            "I_XT_mu_relative_kde_nats": layer_information(mu, s.y_test, cfg["information"], seed)[
                "I_XT_nats"
            ],
        }

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        objs, rates = config["objectives"], config["label_noise"]
        ref = _tag(0.0 if 0.0 in rates else rates[0])
        out: list[Claim] = []
        if "mcr2" in objs and 0.0 in rates:
            out += [_robustness(_tag(r), r) for r in rates if r > 0]
        if "mcr2" in objs:
            out.append(_delta_r_claim(ref, config["mcr2"]["eps"]))
        if "vib" in objs and len(config["vib"]["betas"]) >= 2:
            out.append(_vib_claim(config["vib"]["betas"]))
        if "nib" in objs:
            out.append(_nib_claim(ref))
        return out

    # ---- table and figures -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        rows = []
        for rate in config["label_noise"]:
            for n in [*config["objectives"], "ce_twin"]:
                key = f"noise.{_tag(rate)}.{n}"
                rows.append({"label noise": rate, "objective": n} | {
                    col: seed_summary(per_seed(records, f"{key}.{k}")) for col, k in (
                        ("test accuracy", "test_accuracy"), ("ΔR (nats)", "delta_R_nats"),
                        ("subspace cos", "mean_subspace_cosine"),
                        ("nearest-subspace acc.", "nearest_subspace_accuracy"),
                        ("I(X;T) rel. KDE (nats)", "I_XT_nats"))})  # fmt: skip
        return rows

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        X, _y, description = self.prepare(config)
        return {"data": {"description": description, "n_samples": int(X.shape[0])}}

    def figures(self, config, records) -> dict[str, tuple[Any, str]]:
        from structlearn.studies._objectives_figures import (
            plot_delta_r,
            plot_noise,
            plot_similarity,
            plot_vib_sweep,
        )

        out = {
            "accuracy_vs_noise": (plot_noise(config, records), "Clean test accuracy against the share of corrupted training labels (mean over seeds, band: 95% t-interval); ce_twin: cross-entropy from another initialisation (the control)."),
            "delta_R": (plot_delta_r(config, records), "Rate reduction ΔR (nats) of T on the clean test set at ε/2, ε (MCR²'s training value) and 2ε, and the largest cosine between class subspaces (0: orthogonal), mean and 95% t-interval over seeds."),
            "feature_similarity": (plot_similarity(records[0].artefacts), "|cos| between test features T sorted by class (first seed, first noise rate): MCR² aims at orthogonal class subspaces (block diagonal)."),
        }  # fmt: skip
        if "vib" in config["objectives"]:
            out["vib_beta_sweep"] = (plot_vib_sweep(records), "VIB over β (clean labels): the rate E KL(p(z|x)||N(0,I)), pairwise-KL (upper) and Bhattacharyya (lower) bounds on I(X;Z) through the encoder's own channel N(μ(x), σ(x)²), and the study's former measure (KDE on μ with noise scaled to μ's spread); dashed: the ceiling log n_test. Nats, mean over seeds, thin lines per seed.")  # fmt: skip
        return out


def _diff(a: str, b: str, key: str):
    return lambda m: _get(m, a, key) - _get(m, b, key)


def _get(m: dict, path: str, key: str) -> float:
    node = m
    for part in path.split("."):
        node = node[part]
    return node[key]


def _robustness(tag: str, rate: float) -> Claim:
    def drop(who: str):
        return lambda m: (
            m["noise"]["p0"][who]["test_accuracy"] - m["noise"][tag][who]["test_accuracy"]
        )

    return Claim(
        f"MCR²-trained features are more robust to label noise than cross-entropy: at {rate:.0%} "
        "corrupted training labels MCR² loses less clean test accuracy than CE",
        PAPERS["mcr2"],
        Measure(lambda m: drop("ce")(m) - drop("mcr2")(m), "CE drop − MCR² drop", "accuracy"),
        interval_above(0.0),
        Premise("the noise hurts cross-entropy: CE's drop > 0 in every seed",
                Measure(drop("ce"), "CE accuracy drop"), all_above(0.0)),
        [Alternative(Measure(_diff(f"noise.{tag}.mcr2", f"noise.{tag}.ce", "test_accuracy"),
                             "MCR² − CE accuracy at this noise"))],
        [Control("CE vs CE from another initialisation",
                 Measure(lambda m: drop("ce")(m) - drop("ce_twin")(m), "CE drop − twin's drop"))],
    )  # fmt: skip


def _delta_r_claim(ref: str, eps: float) -> Claim:
    mc, ce = f"noise.{ref}.mcr2", f"noise.{ref}.ce"
    return Claim(
        f"MCR² features have a larger rate reduction ΔR than cross-entropy features (test set, "
        f"ε = {eps:g}, the ε MCR² is trained on)",
        PAPERS["mcr2"],
        Measure(_diff(mc, ce, "delta_R_nats"), "ΔR(MCR²) − ΔR(CE)", "nats"),
        interval_above(0.0),
        Premise("MCR² classifies: nearest-subspace test accuracy > 0.5 in every seed",
                Measure(f"{mc}.test_accuracy", "MCR² test accuracy"), all_above(0.5)),
        [Alternative(Measure(_diff(mc, ce, "delta_R_half_eps_nats"), "the same at ε/2", "nats")),
         Alternative(Measure(_diff(mc, ce, "delta_R_double_eps_nats"), "the same at 2ε", "nats")),
         Alternative(Measure(_diff(ce, mc, "mean_subspace_cosine"),
                             "CE − MCR² largest class-subspace cosine (more orthogonal)")),
         Alternative(Measure(_diff(mc, ce, "nearest_subspace_accuracy"),
                             "MCR² − CE nearest-subspace accuracy"))],
        [Control("CE vs CE from another initialisation",
                 Measure(_diff(ce, f"noise.{ref}.ce_twin", "delta_R_nats"), "ΔR(CE) − ΔR(twin)"))],
    )  # fmt: skip


def _vib_claim(betas: list[float]) -> Claim:
    lo, hi = int(np.argmin(betas)), int(np.argmax(betas))

    def fall(key: str):
        return lambda m: m["vib_sweep"][lo][key] - m["vib_sweep"][hi][key]

    return Claim(
        f"The VIB compresses: I(X;Z) through its own channel falls as β grows "
        f"({betas[lo]:g} -> {betas[hi]:g})",
        PAPERS["vib"],
        Measure(fall("I_XZ_upper_nats"), "I(X;Z) pairwise-KL bound: small β − large β", "nats"),
        interval_above(0.0),
        Premise(f"the VIB fits at β = {betas[lo]:g}: test accuracy > 0.5 in every seed",
                Measure(lambda m: m["vib_sweep"][lo]["test_accuracy"], "accuracy"), all_above(0.5)),
        [Alternative(Measure(fall("rate_nats"), "rate E KL: small β − large β", "nats")),
         Alternative(Measure(fall("I_XZ_lower_nats"), "Bhattacharyya bound: small − large", "nats")),
         Alternative(Measure(fall("I_XT_mu_relative_kde_nats"),
                             "former measure (KDE on μ, noise scaled to μ): small − large", "nats"))],
        [Control("untrained encoder (same at every β)",
                 Measure(lambda m: 0.0 * m["vib_untrained"]["I_XZ_upper_nats"], "drop, untrained"))],
    )  # fmt: skip


def _nib_claim(ref: str) -> Claim:
    ce, nib = f"noise.{ref}.ce", f"noise.{ref}.nib"
    return Claim(
        "The NIB objective compresses: its T carries less I(X;T) than cross-entropy's "
        "(KDE, σ² = noise_variance x T's mean unit variance)",
        PAPERS["nib"],
        Measure(_diff(ce, nib, "I_XT_nats"), "I(X;T) of CE − NIB", "nats"),
        interval_above(0.0),
        Premise("NIB classifies: test accuracy > 0.5 in every seed",
                Measure(f"{nib}.test_accuracy", "NIB accuracy"), all_above(0.5)),
        [Alternative(Measure(_diff(ce, nib, "I_XT_absolute_nats"),
                             "the same through NIB's own channel (absolute σ²)", "nats"))],
        [Control("CE vs CE from another initialisation",
                 Measure(_diff(ce, f"noise.{ref}.ce_twin", "I_XT_nats"), "I(X;T) CE − twin"))],
    )  # fmt: skip


STUDY = ObjectivesCompare()
