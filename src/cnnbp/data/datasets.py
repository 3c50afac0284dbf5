"""The registry of datasets cnnbp knows: file names, mirrors, checksums.

Each dataset is a :class:`DatasetSpec`. ``mnist`` and ``fashion-mnist`` live in
``<data_dir>/<folder>/`` and can be downloaded; ``mnist-sample`` ships inside
the package (see :mod:`cnnbp.data.sample`) and needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .download import Checksum

SPLITS = ("train", "test")

# The official file names, shared by MNIST and Fashion-MNIST: split -> (images, labels).
OFFICIAL_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

SAMPLE_DIR = Path(__file__).resolve().parent / "mnist_sample"


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset's files are and how to check them.

    Attributes:
        name: the name :func:`~cnnbp.data.load_dataset` takes, e.g. ``"mnist"``.
        folder: the sub-folder of the data directory holding the files.
        files: split -> (images file, labels file), official names ending in ``.gz``
            (the raw, uncompressed file without ``.gz`` is accepted too).
        mirrors: base URLs tried in order; a file's URL is ``mirror + file name``.
        checksums: file name -> :class:`~cnnbp.data.download.Checksum`.
        image_shape: ``(rows, cols)`` of every image.
        classes: the label names, indexed by label.
        packaged_dir: for datasets shipped inside the package, their folder;
            such datasets ignore the data directory and are never downloaded.
    """

    name: str
    folder: str
    files: dict[str, tuple[str, str]]
    mirrors: tuple[str, ...] = ()
    checksums: dict[str, Checksum] = field(default_factory=dict)
    image_shape: tuple[int, int] = (28, 28)
    classes: tuple[str, ...] = tuple(str(d) for d in range(10))
    packaged_dir: Path | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)


# MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0). Two checksums per file: the
# SHA-256 of the decompressed payload (so a re-compressed copy verifies) and
# the MD5 of the official .gz archive.
MNIST = DatasetSpec(
    name="mnist",
    folder="mnist",
    files=OFFICIAL_FILES,
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    checksums={
        "train-images-idx3-ubyte.gz": Checksum(
            payload_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            gz_md5="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": Checksum(
            payload_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            gz_md5="d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": Checksum(
            payload_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            gz_md5="9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": Checksum(
            payload_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            gz_md5="ec29112dd5afa0611ce80d1b7f02629c"),
    },
)

# Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence): official .gz MD5s.
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    folder="fashion-mnist",
    files=OFFICIAL_FILES,
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    checksums={
        "train-images-idx3-ubyte.gz": Checksum(gz_md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte.gz": Checksum(gz_md5="25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte.gz": Checksum(gz_md5="bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte.gz": Checksum(gz_md5="bb300cfdad3c16e7a12a480ee83cd310"),
    },
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)

# A class-balanced subset of real MNIST shipped in the package; made by
# scripts/make_mnist_sample.py (see mnist_sample/README.txt for its contents).
MNIST_SAMPLE = DatasetSpec(
    name="mnist-sample",
    folder="mnist_sample",
    files=OFFICIAL_FILES,
    packaged_dir=SAMPLE_DIR,
)

DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (MNIST, FASHION_MNIST, MNIST_SAMPLE)}


def get_dataset(name: str) -> DatasetSpec:
    """The spec of dataset ``name`` (case and ``_``/``-`` are not significant)."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return DATASETS[key]


def check_split(split: str) -> str:
    """Return ``split`` if it is ``"train"`` or ``"test"``, else raise a ValueError."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    return split
