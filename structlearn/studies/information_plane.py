"""Study: does a network fit then compress? The information plane on the 12-bit task.

Claims tested
-------------
The rules and thresholds are in the private module ``structlearn.studies._information_plane_claims``.
R. Shwartz-Ziv & N. Tishby, "Opening the black box of deep neural networks via information",
arXiv:1703.00810 (2017), on a tanh network 12-10-7-5-4-3-2 trained on their 12-bit task with
I(X;T) measured by binning every unit into 30 bins on [-1, 1]:

- (i) after fitting, the layers *compress* (I(X;T) falls after its peak), and most of training
  is spent compressing: measured per seed on the hidden layers below the binning ceiling (a layer
  whose I(X;T) stays within ``verdict.ceiling_margin`` of log 4096 at every epoch resolves every
  input and cannot register a drop) and as the share of training epochs after each compressing
  layer's peak; premise: the network has fitted (train accuracy >= ``verdict.fit_accuracy``);
  alternatives: IDNNs' 29 bins (edges ``linspace(-1, 1, 30)``; ours are 30 equal bins) and KDE
  with an assumed noise variance; control: the untrained network.
- (ii) the gradient SNR falls from drift to diffusion around the end of fitting (alternative: the
  onset of compression; control: the middle of training).
- (iii) the final layers lie close to the IB curve, measured as the *horizontal excess* (I(X;T)
  beyond the least any encoder needs for its I(T;Y)) and the IB Lagrangian gap at the matched
  beta (the vertical gap is ~0 for any sufficient layer: the identity encoder is the control);
  and the layer's encoder p(t|x) and decoder p(y|t) satisfy the IB self-consistent equations
  (:func:`structlearn.estimators.ib_self_consistency`; control: the untrained network). Both
  under the stochastic-label variant p(y=1|x) = sigmoid(s(x)/T) of the task's rule (with
  deterministic labels the curve is the trivial diagonal), where binned layers are exact
  encoders.

A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018): with
ReLU (bins over each layer's range; Saxe et al. used 100, the alternative) the compression
vanishes, decided from per-seed drops (control: the tanh network); a noisy network measured by
the Kolchinsky--Tracey KDE with its own noise compresses as its activation does.

Protocol
--------
The authors' released code (IDNNs) trains with Adam at 4e-4, batch 512, 8000 epochs on 80% of the
4096 inputs and measures on all 4096 at about 270 log-spaced epochs; the paper's text says SGD and
85% (the ``paper_text`` preset). The ``paper`` preset runs the released protocol on 50 networks;
the default trains 1,500 epochs and 3 seeds. Weights start as in IDNNs (truncated normal, std
1/sqrt(fan-in), zero biases) or PyTorch's default (``network.init``). The output tap is the
2-unit softmax. Every seed's network of one kind is trained in one call
(:meth:`InformationPlaneStudy.measure_seeds`, the ensemble trainer by default); the analyzer is
:func:`structlearn.analysis.info_plane.analyze_information_plane`, whose declared scalars are
stored verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from structlearn.config import ConfigError, Field, seeds_fragment, training_fragment
from structlearn.data.sources import data_fragment, load_source
from structlearn.models.mlp import idnns_init_
from structlearn.studies._information_plane_claims import claims, hidden_names
from structlearn.studies._information_plane_figures import all_figures
from structlearn.studies._information_plane_measure import (
    build_model,
    ib_reference,
    measure_networks,
    split_inputs,
    train_kind,
)
from structlearn.studies.base import SeedRecord, SeedResult, Study, per_seed, seed_summary
from structlearn.studies.claims import Claim

NETWORKS = ("tanh", "relu", "noisy")

SCHEMA = {
    **seeds_fragment(3, high=100),
    "networks": Field(
        list, list(NETWORKS), item=str, subset_of=NETWORKS, unique=True, low=1, doc="trained"
    ),
    "data": data_fragment(
        ("tishby12",),
        "tishby12",
        train_fraction=Field(
            float, 0.8, low=0.05, high=0.95, doc="share of the 4096 inputs trained on (IDNNs 0.8)"
        ),
        n_samples=Field(
            int, None, nullable=True, low=4096, high=4096, doc="null: every input is measured"
        ),
    ),
    "network": {
        "hidden": Field(
            list, [10, 7, 5, 4, 3], item=int, low=1, high=1024, doc="hidden widths (12 in, 2 out)"
        ),
        "init": Field(str, "idnns", choices=["idnns", "pytorch"], doc="initial weights"),
    },
    "noisy": {
        "activation": Field(str, "tanh", choices=["tanh", "relu"]),
        "noise_std": Field(
            float, 0.316, low=1e-3, high=10.0, doc="hidden-layer noise (Saxe et al.: var 0.1)"
        ),
    },
    "training": {
        **training_fragment(
            optimizer="adam", lr=4e-4, epochs=1500, batch_size=512, n_records=60, ensemble=True
        ),
    },
    "binning": {
        "n_bins": Field(int, 30, low=2, high=10**4),
        "tanh_range": Field(list, [-1.0, 1.0], item=float, interval=True, doc="tanh layers' bins"),
    },
    "kde": {
        "n_inputs": Field(int, 512, low=16, high=4096, doc="inputs the O(n^2) estimate uses"),
        "n_epochs": Field(int, 20, low=3, high=10**4, doc="recorded epochs it is evaluated at"),
        "bound": Field(str, "upper", choices=["upper", "lower"]),
    },
    "ib": {
        "temperature": Field(float, 0.5, low=1e-3, high=100.0, doc="label noise of the variant"),
        "n_betas": Field(int, 30, low=3, high=1000, doc="trade-offs on the IB curve (0.5-1000)"),
        "max_encoder_states": Field(
            int, 2048, low=1, high=4096, doc="self-consistency of layers with at most this many"
        ),
    },
    "alternatives": {
        "kde_noise_variance": Field(
            float, 0.1, low=1e-6, high=10.0, doc="KDE on deterministic layers (Saxe et al.: 0.1)"
        ),
        "relu_bins": Field(int, 100, low=2, high=10**4, doc="ReLU bins (Saxe et al.: 100)"),
    },
    "analysis": {
        "workers": Field(
            int, 1, low=1, high=64, doc="processes measuring the networks (same metrics)"
        ),
    },
    "verdict": {
        "fit_accuracy": Field(
            float, 0.99, low=0.5, high=1.0, doc="premise: train accuracy before compression"
        ),
        "compression_tol": Field(float, 0.1, low=0.0, high=10.0, doc="nats a layer must drop by"),
        "ceiling_margin": Field(
            float, 0.1, low=0.0, high=10.0, doc="a layer within this of log n all run: ceiling"
        ),
        "most_epochs": Field(
            float, 0.5, low=0.0, high=1.0, doc="claim (i): share of training after the peak"
        ),
        "min_snr_drop": Field(float, 0.5, low=0.0, high=10.0, doc="decades the SNR must fall"),
        "snr_window": Field(
            float, 0.5, low=0.0, high=10.0, doc="decades between SNR drop and end of fitting"
        ),
        "fit_fraction": Field(
            float, 0.9, low=0.1, high=1.0, doc="fitting ends when I(T;Y) reaches this of its max"
        ),
        "ib_excess_fraction": Field(
            float, 0.1, low=0.0, high=1.0, doc="'close to the IB curve': excess below this x H(X)"
        ),
        "self_consistency_tol": Field(
            float, 0.1, low=0.0, high=1.0, doc="TV distance from one IB update counted as 0"
        ),
    },
}


# ----------------------------------------------------------------------------- the study
class InformationPlaneStudy(Study):
    """Fitting and compression in the information plane (12-bit task; tanh, ReLU, noisy KDE)."""

    name = "information_plane"
    summary = "Fitting and compression in the information plane (12-bit task; tanh, ReLU, KDE)"
    schema = SCHEMA
    threads = 1  # tiny networks: a second thread only adds synchronisation
    batch_seeds = True

    def prepare(self, config: dict[str, Any]) -> dict[str, Any]:
        nets = config["networks"]
        if "tanh" not in nets:
            raise ConfigError(
                f"networks: the ReLU and noisy claims use the tanh network as their control and "
                f"the IB and SNR claims are about it; include 'tanh', got {nets!r}"
            )
        if not config["network"]["hidden"]:
            raise ConfigError("network.hidden: expected at least one hidden width, got []")
        task = load_source(config["data"], random_state=config["seed"])
        return {"task": task, "ib": ib_reference(config)}

    # ---- measure every seed ----------------------------------------------------------------

    def measure_seeds(
        self, config: dict[str, Any], seeds: Sequence[int], shared: Any
    ) -> list[SeedResult]:
        ctx = self.context
        work = None if ctx is None else ctx.work_dir
        metrics: list[dict[str, Any]] = [{} for _ in seeds]
        artefacts: list[dict[str, Any]] = [{} for _ in seeds]
        for kind in config["networks"]:
            trained = train_kind(
                kind, config, seeds, shared["task"], work, resume=bool(ctx and ctx.resume)
            )
            measured = measure_networks(kind, trained, config, seeds, shared)
            for i, (m, art) in enumerate(measured):
                metrics[i][kind], artefacts[i][kind] = m, art
        return [SeedResult(m, a) for m, a in zip(metrics, artefacts, strict=True)]

    # ---- claims ----------------------------------------------------------------------------

    def claims(self, config: dict[str, Any]) -> list[Claim]:
        return claims(config)

    # ---- table and figures -----------------------------------------------------------------

    def table(self, config: dict[str, Any], records: list[SeedRecord]) -> list[dict[str, Any]]:
        tol = config["verdict"]["compression_tol"]
        return [
            _table_row(kind, name, records, tol)
            for kind in config["networks"]
            for name in hidden_names(config)
        ]

    def run_metrics(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return {"protocol": protocol(config)}

    def figures(self, config: dict[str, Any], records: list[SeedRecord]) -> dict[str, Any]:
        return all_figures(config, records)


# ----------------------------------------------------------------------------- protocol, captions
def protocol(config: dict[str, Any]) -> dict[str, Any]:
    """Which protocol ran (IDNNs release, the paper's text, or custom), in one line and fields."""
    t = config["training"]
    frac = config["data"]["train_fraction"]
    released = t["optimizer"] == "adam" and t["lr"] == 4e-4 and t["batch_size"] == 512
    released = released and frac == 0.8
    text = t["optimizer"] == "sgd" and frac == 0.85
    name = "IDNNs release" if released else ("paper's text" if text else "custom")
    if (released or text) and t["epochs"] != 8000:
        name += f" settings, {t['epochs']} epochs (not 8000)"
    return {
        "name": name,
        **{k: t[k] for k in ("optimizer", "lr", "batch_size", "epochs", "n_records")},
        "train_fraction": frac,
        "init": config["network"]["init"],
        "n_bins": config["binning"]["n_bins"],
        "line": f"{name}: {t['optimizer']} lr {t['lr']:g}, batch {t['batch_size']}, "
        f"{t['epochs']} epochs, {frac:.0%} of inputs trained on, {t['n_records']} log-spaced "
        f"records, {config['network']['init']} init",
    }


def _table_row(kind: str, name: str, records: list[SeedRecord], tol: float) -> dict[str, Any]:
    """One hidden layer of one network over seeds (counts of seeds for yes/no outcomes)."""
    key = f"{kind}.layers.{name}"
    drops = per_seed(records, f"{key}.compression_nats")
    ceiling = per_seed(records, f"{key}.at_ceiling")
    n = len(records)
    ib = (
        ""
        if kind != "tanh"
        else seed_summary(per_seed(records, f"tanh.ib.layers.{name}.ib_excess_nats"))
    )
    return {
        "network": kind,
        "layer": name,
        "at the ceiling": f"{int(ceiling.sum())} of {n} seeds",
        "peak I(X;T) nats": seed_summary(per_seed(records, f"{key}.peak_I_XT_nats")),
        "drop after peak nats": seed_summary(drops),
        f"drop > {tol:g}": f"{int((drops > tol).sum())} of {n} seeds",
        "share of training after peak": seed_summary(per_seed(records, f"{key}.share_after_peak")),
        "IB excess nats": ib,
        "train accuracy": seed_summary(per_seed(records, f"{kind}.train_accuracy")),
    }


STUDY = InformationPlaneStudy()
__all__ = [
    "STUDY",
    "InformationPlaneStudy",
    "build_model",
    "idnns_init_",
    "protocol",
    "split_inputs",
    "train_kind",
]
