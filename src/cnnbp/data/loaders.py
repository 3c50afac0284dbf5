"""Loading a dataset split as NumPy arrays: ``load_dataset`` and friends.

Checks: every load reads the files through :func:`~cnnbp.data.read_idx`,
which checks the magic numbers, the dimensions and that the payload is
exactly as long as the header says; then the images must be ``(N, 28, 28)``,
the labels ``(N,)`` with values below the number of classes, and the two
counts equal. Checksums (SHA-256 of the 47 MB payload) are verified when a
file is downloaded, not on every load: call :func:`verify_dataset` to check
local copies explicitly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .datasets import DatasetSpec, check_split, get_dataset
from .download import DEFAULT_TIMEOUT, Checksum, fetch, verify_file
from .errors import DataError
from .idx import IDX_IMAGES, IDX_LABELS, read_idx
from .paths import ENV_VAR, find_file, resolve_data_dir


def dataset_folder(name: str, data_dir=None) -> Path:
    """The folder holding dataset ``name``'s files: ``<data_dir>/<name>/``
    (the package's own folder for shipped datasets such as ``mnist-sample``)."""
    spec = get_dataset(name)
    return spec.packaged_dir or resolve_data_dir(data_dir) / spec.folder


def _where_to_put(spec: DatasetSpec, folder: Path, names) -> str:
    """The how-to-use-local-files sentence of an error message."""
    note = ""
    strays = [n for n in names if find_file(folder.parent, n)]
    if strays:
        note = f" (found {', '.join(strays)} directly in {folder.parent}: move it into {folder}/)"
    return (
        f"To use local copies, put {' and '.join(names)} (gzip or raw, with or without .gz) "
        f"in {folder}/{note}, or point --data-dir or the {ENV_VAR} environment variable "
        f"at a folder that holds {spec.folder}/ with these files."
    )


def dataset_files(name: str, split: str = "train", data_dir=None, download: bool = True, *,
                  mirrors=None, checksums=None, timeout: float = DEFAULT_TIMEOUT,
                  progress: bool = True) -> tuple[Path, Path]:
    """The ``(images, labels)`` file paths of a split, downloading missing ones.

    Args: as :func:`load_dataset`.

    Raises:
        DataError: a file is missing and ``download`` is False.
        DownloadError: a file is missing and no mirror gave a verified copy.
    """
    spec = get_dataset(name)
    check_split(split)
    folder = dataset_folder(spec.name, data_dir)
    names = spec.files[split]
    if spec.packaged_dir is not None:
        missing = [n for n in names if find_file(folder, n) is None]
        if missing:
            raise DataError(f"{spec.name}: {', '.join(missing)} missing from {folder}; "
                            "the cnnbp installation is incomplete, reinstall it")
        return tuple(find_file(folder, n) for n in names)

    table = spec.checksums if checksums is None else {**spec.checksums, **checksums}
    paths = []
    for filename in names:
        path = find_file(folder, filename)
        if path is None:
            hint = _where_to_put(spec, folder, names)
            if not download:
                raise DataError(f"{spec.name} {split}: {folder / filename} not found (nor without "
                                f".gz) and downloading is off. {hint}")
            path = fetch(filename, folder, spec.mirrors if mirrors is None else mirrors,
                         table.get(filename), timeout=timeout, progress=progress, hint=hint)
        paths.append(path)
    return tuple(paths)


def load_dataset(name: str, split: str = "train", data_dir=None, download: bool = True, *,
                 mirrors=None, checksums: dict[str, Checksum] | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of a dataset.

    Args:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"mnist-sample"`` (shipped in
            the package: 4,000 training and 1,000 test digits; ignores
            ``data_dir`` and never downloads).
        split: ``"train"`` or ``"test"``.
        data_dir: the data directory; None means ``$CNNBP_DATA_DIR``, else the
            user's cache directory (see :mod:`cnnbp.data.paths`). Files are
            looked for in ``<data_dir>/<name>/``, gzip or raw.
        download: fetch missing files from the dataset's mirrors (verified,
            then renamed into place); False raises instead.
        mirrors: base URLs to use instead of the dataset's own.
        checksums: file name -> :class:`Checksum`, overriding the dataset's
            table for those files (None as a value: check the IDX structure only).
        timeout: seconds to wait on each mirror.
        progress: show a tqdm progress bar (stderr) while downloading; nothing
            is printed otherwise.

    Returns:
        ``(images, labels)``: images uint8 ``(N, 28, 28)``, 0 = background,
        255 = ink; labels uint8 ``(N,)`` in ``0 .. 9``.

    Raises:
        ValueError: unknown dataset or split.
        DataError: a file is missing, damaged, or does not match its partner.
        DownloadError: a missing file could not be downloaded.
    """
    spec = get_dataset(name)
    images_path, labels_path = dataset_files(
        spec.name, split, data_dir, download, mirrors=mirrors, checksums=checksums,
        timeout=timeout, progress=progress)
    images = read_idx(images_path, expect_magic=IDX_IMAGES)
    labels = read_idx(labels_path, expect_magic=IDX_LABELS)
    if images.shape[1:] != spec.image_shape:
        raise DataError(f"{images_path}: expected images of {spec.image_shape[0]}x"
                        f"{spec.image_shape[1]} pixels, found shape {images.shape}")
    if len(images) != len(labels):
        raise DataError(f"{spec.name} {split}: {images_path} holds {len(images)} images but "
                        f"{labels_path} holds {len(labels)} labels")
    if len(labels) and labels.max() >= spec.num_classes:
        raise DataError(f"{labels_path}: expected labels 0..{spec.num_classes - 1}, "
                        f"found {int(labels.max())}")
    return images, labels


def load_mnist(split: str = "train", data_dir=None, download: bool = True,
               **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """MNIST: images uint8 ``(N, 28, 28)``, labels uint8 ``(N,)``; N = 60,000 (train)
    or 10,000 (test). Other arguments as :func:`load_dataset`."""
    return load_dataset("mnist", split, data_dir, download, **kwargs)


def load_fashion_mnist(split: str = "train", data_dir=None, download: bool = True,
                       **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: images uint8 ``(N, 28, 28)``, labels uint8 ``(N,)``; N = 60,000
    (train) or 10,000 (test). Other arguments as :func:`load_dataset`."""
    return load_dataset("fashion-mnist", split, data_dir, download, **kwargs)


def verify_dataset(name: str, split: str | None = None, data_dir=None,
                   checksums: dict[str, Checksum] | None = None) -> list[Path]:
    """Check local copies against the dataset's checksums (no download).

    Args:
        split: one split, or None for both.

    Returns:
        The verified paths.

    Raises:
        DataError: a file is missing or does not match its checksum.
    """
    spec = get_dataset(name)
    table = spec.checksums if checksums is None else {**spec.checksums, **checksums}
    splits = [check_split(split)] if split is not None else list(spec.files)
    verified = []
    for s in splits:
        for path, filename in zip(dataset_files(spec.name, s, data_dir, download=False),
                                  spec.files[s]):
            verify_file(path, table.get(filename))
            verified.append(path)
    return verified
