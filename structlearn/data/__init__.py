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
from structlearn.data.teacher import TeacherNetwork, make_teacher, sample_teacher_data
from structlearn.data.tishby import TishbyTask, load_tishby_task
from structlearn.data.vision import VisionData, load_cifar10, load_digits_data, load_mnist, read_idx

__all__ = [
    "CONTRAST_EPS",
    "Mosaic",
    "NaturalImage",
    "TeacherNetwork",
    "TishbyTask",
    "VisionData",
    "load_cifar10",
    "load_digits_data",
    "load_image_directory",
    "load_mnist",
    "load_natural_images",
    "load_tishby_task",
    "make_mosaic",
    "make_teacher",
    "make_tile_map",
    "natural_image_names",
    "read_idx",
    "sample_teacher_data",
    "zca_whitening",
]
