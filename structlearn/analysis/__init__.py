"""Analyzers: from a trained model, a run's recordings or a data set to numbers and pictures.

Every analyzer returns a result dataclass with ``.to_dict()`` (JSON-ready, information in nats)
and ``.plot(ax)``:

- :mod:`~structlearn.analysis.filters`: locality, spread, sparsity and conv-likeness of filter banks;
- :mod:`~structlearn.analysis.pixel_mi`: pixel-pair mutual information vs distance;
- :mod:`~structlearn.analysis.entropy_gain`: per-layer entropy, gain and the recommended depth;
- :mod:`~structlearn.analysis.layer_measures`: what a layer carries (channel information, coding
  rate, marginal and Gaussian entropy) with its rank and normalisation;
- :mod:`~structlearn.analysis.info_plane`: the information plane and gradient-SNR phases;
- :mod:`~structlearn.analysis.alignment`: teacher–student correlations, the L-shaped plot, pruning;
- :mod:`~structlearn.analysis.random_networks`: layer measures vs accuracy of random networks;
- :mod:`~structlearn.analysis.probes`: linear probes and t-SNE maps of every layer.
"""

from __future__ import annotations

from structlearn.analysis.alignment import (
    DEFAULT_THRESHOLDS,
    AlignmentResult,
    PruningCurve,
    StreamingCorrelation,
    analyze_alignment,
    fanout_norm,
    hidden_mask_evaluator,
    pruning_curve,
    unit_correlation,
)
from structlearn.analysis.entropy_gain import (
    MEASURES,
    NORMALISATIONS,
    EntropyGain,
    LayerEntropies,
    analyze_entropy_gain,
    layer_entropies,
    layer_entropy,
    normalise_layer,
    recommended_depth,
)
from structlearn.analysis.filters import (
    FilterAnalysis,
    FilterLocality,
    analyze_filters,
    best_tile_fraction,
    best_window_fraction,
    cluster_shapes,
    conv_likeness,
    default_window,
    energy_centroid,
    filter_grid_image,
    filter_locality,
    hoyer_sparsity,
    plot_filter_grid,
    prune_filters,
    shift_similarity,
    spatial_spread,
    support_is_local,
)
from structlearn.analysis.info_plane import (
    ESTIMATORS,
    InformationPlane,
    analyze_information_plane,
    compression,
    detect_phase_transition,
    ib_bound_at,
    information_plane_points,
    recordings_from_arrays,
)
from structlearn.analysis.layer_measures import (
    LAYER_MEASURES,
    LayerMeasures,
    analyze_layer_measures,
)
from structlearn.analysis.pixel_mi import (
    MosaicPixelMI,
    PixelMI,
    analyze_pixel_mi,
    disc_offsets,
    edge_feature_maps,
    pixel_mi_by_offset,
    pixel_mi_feature_maps,
    pixel_mi_mosaic,
    quantile_codes,
)
from structlearn.analysis.probes import (
    LayerMaps,
    LayerProbes,
    analyze_layer_maps,
    analyze_probes,
    probe_layers,
    tsne_maps,
)
from structlearn.analysis.random_networks import (
    DEFAULT_CONFIG,
    RandomNetworks,
    analyze_random_networks,
    random_features,
    sample_architectures,
    spearman_interval,
)

#: The analyzer modules, in the order of the list above.
MODULES = (
    "filters",
    "pixel_mi",
    "entropy_gain",
    "layer_measures",
    "info_plane",
    "alignment",
    "random_networks",
    "probes",
)

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_THRESHOLDS",
    "ESTIMATORS",
    "LAYER_MEASURES",
    "MEASURES",
    "MODULES",
    "NORMALISATIONS",
    "AlignmentResult",
    "EntropyGain",
    "FilterAnalysis",
    "FilterLocality",
    "InformationPlane",
    "LayerEntropies",
    "LayerMaps",
    "LayerMeasures",
    "LayerProbes",
    "MosaicPixelMI",
    "PixelMI",
    "PruningCurve",
    "RandomNetworks",
    "StreamingCorrelation",
    "analyze_alignment",
    "analyze_entropy_gain",
    "analyze_filters",
    "analyze_information_plane",
    "analyze_layer_maps",
    "analyze_layer_measures",
    "analyze_pixel_mi",
    "analyze_probes",
    "analyze_random_networks",
    "best_tile_fraction",
    "best_window_fraction",
    "cluster_shapes",
    "compression",
    "conv_likeness",
    "default_window",
    "detect_phase_transition",
    "disc_offsets",
    "edge_feature_maps",
    "energy_centroid",
    "fanout_norm",
    "filter_grid_image",
    "filter_locality",
    "hidden_mask_evaluator",
    "hoyer_sparsity",
    "ib_bound_at",
    "information_plane_points",
    "layer_entropies",
    "layer_entropy",
    "normalise_layer",
    "pixel_mi_by_offset",
    "pixel_mi_feature_maps",
    "pixel_mi_mosaic",
    "plot_filter_grid",
    "probe_layers",
    "prune_filters",
    "pruning_curve",
    "quantile_codes",
    "random_features",
    "recommended_depth",
    "recordings_from_arrays",
    "sample_architectures",
    "shift_similarity",
    "spatial_spread",
    "spearman_interval",
    "support_is_local",
    "tsne_maps",
    "unit_correlation",
]
