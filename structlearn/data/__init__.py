"""structlearn.data: data sets as plain arrays plus metadata.

Natural photographs bundled with scikit-image / scikit-learn, patch mosaics built from them, the
12-bit information-plane task, random teacher ReLU networks and the vision sets (digits bundled,
MNIST / CIFAR-10 read from files). One card per data set lives in ``datasets/``.
"""

from structlearn.data.mosaic import CONTRAST_EPS, Mosaic, make_mosaic, make_tile_map, zca_whitening
from structlearn.data.natural import (
    NaturalImage,
    load_image_directory,
    load_natural_images,
    natural_image_names,
)

__all__ = [
    "CONTRAST_EPS",
    "Mosaic",
    "NaturalImage",
    "load_image_directory",
    "load_natural_images",
    "make_mosaic",
    "make_tile_map",
    "natural_image_names",
    "zca_whitening",
]
