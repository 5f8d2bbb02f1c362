"""Inputs of the mosaic_filters study: the source photographs, the mosaics and the learned layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from structlearn.config import ConfigError
from structlearn.data.mosaic import Mosaic, make_mosaic, mcr2_labels
from structlearn.data.sources import parse_source
from structlearn.models import filter_learners as fl

SOURCES = ("mosaic", "photos", "images")


def _train_config(cfg: dict[str, Any], seed: int, **override: Any):
    from structlearn.train import TrainConfig

    return TrainConfig.from_section(
        {**cfg["training"], **override},
        seed=seed,
        store_activations=False,
        record_gradients=False,
        n_records=1,
    )


def learn_filters(name: str, X: np.ndarray, mosaic: Mosaic, cfg: dict[str, Any], seed: int):
    """The layer learned by objective ``name`` (see :mod:`structlearn.models.filter_learners`)."""
    c = cfg[name]
    n = c["n_filters"]
    if name == "sparse_coding":
        return fl.sparse_coding_filters(
            X, n, lambda1=c["lambda1"], n_iter=c["n_iter"], batch_size=c["batch_size"],
            random_state=seed,
        )  # fmt: skip
    if name == "ica_infomax":
        config = _train_config(cfg, seed, lr=c["lr"])
        return fl.ica_infomax_filters(X, n, nonlinearity=c["nonlinearity"], config=config)
    if name == "gaussian_infomax":
        return fl.gaussian_infomax_filters(X, n, ridge=c["ridge"], config=_train_config(cfg, seed))
    if name == "mcr2":
        y = mcr2_labels(mosaic, c["labels"])
        return fl.mcr2_filters(X, y, n, eps=c["eps"], config=_train_config(cfg, seed))
    if name == "pca":
        return fl.pca_filters(X, n)
    return fl.random_filters(n, X.shape[1], random_state=seed)


def source_images(data: dict[str, Any]) -> tuple[list[Any] | None, dict[str, Any]]:
    """The photographs the mosaics' tiles are cut from, and what was read.

    ``mosaic`` or ``photos``: the bundled photographs (``data.images`` picks some);
    ``mosaic:DIR`` or ``images:DIR``: every readable image in ``DIR`` (grey), skipped files named.
    """
    from structlearn.data.natural import NaturalImage, scan_image_directory

    spec = parse_source(data["source"], SOURCES)
    if spec.path is None:
        return (data["images"] or None), {"source": spec.text}
    found, skipped = scan_image_directory(spec.path)
    if not found:
        raise ConfigError(f"data.source: {spec.text!r}: no readable image in {spec.path}")
    images = [NaturalImage(name=i.name, source=str(spec.path), image=i.image) for i in found]
    return images, {"source": spec.text, "n_files": len(found), "skipped": skipped}


def build_data(cfg: dict[str, Any], seed: int, *, n: int | None = None, whiten: bool = True):
    d = cfg["data"]
    images, _ = source_images(d)
    mosaic = make_mosaic(
        n or d["n_samples"],
        grid=tuple(d["grid"]),
        tile=d["tile"],
        remove_tile_mean=d["remove_tile_mean"],
        contrast_normalize=d["contrast_normalize"],
        whiten=d["whiten"] and whiten,
        zca_eps=d["zca_eps"],
        images=images,
        random_state=seed,
    )
    # Scale so the mean squared norm of a sample is 1: lambda1 then means the same at any size.
    scale = np.sqrt(np.mean(np.sum(mosaic.X**2, axis=1)))
    return mosaic, mosaic.X / scale
