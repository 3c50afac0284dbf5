"""Datasets as NumPy arrays: MNIST, Fashion-MNIST and a shipped MNIST sample.

    >>> from cnnbp import data
    >>> images, labels = data.load_dataset("mnist-sample", "test")
    >>> images.shape, images.dtype, labels.shape
    ((1000, 28, 28), dtype('uint8'), (1000,))

Modules: :mod:`~cnnbp.data.idx` (the IDX file format), :mod:`~cnnbp.data.paths`
(the data directory), :mod:`~cnnbp.data.datasets` (names, files, mirrors,
checksums), :mod:`~cnnbp.data.download` (verified downloads),
:mod:`~cnnbp.data.loaders` (``load_*``), :mod:`~cnnbp.data.sample` (the shipped
sample). Errors are :class:`DataError` (a ``ValueError``) naming the file.
"""

from .datasets import DATASETS, SPLITS, DatasetSpec, get_dataset
from .download import Checksum, fetch, verify_file
from .errors import DataError, DownloadError
from .idx import IDX_IMAGES, IDX_LABELS, read_idx, write_idx
from .loaders import (dataset_files, dataset_folder, load_dataset, load_fashion_mnist,
                      load_mnist, verify_dataset)
from .paths import ENV_VAR, default_data_dir, resolve_data_dir

__all__ = [
    "load_mnist", "load_fashion_mnist", "load_dataset", "dataset_files", "dataset_folder",
    "verify_dataset", "read_idx", "write_idx", "IDX_IMAGES", "IDX_LABELS",
    "DataError", "DownloadError", "Checksum", "fetch", "verify_file",
    "default_data_dir", "resolve_data_dir", "ENV_VAR",
    "DATASETS", "SPLITS", "DatasetSpec", "get_dataset",
]
