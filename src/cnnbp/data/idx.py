"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, one big-endian ``uint32`` per dimension,
then the array in C order, big-endian::

    magic = 0x00 0x00 <type code> <ndim>
    dims  = d_1 ... d_ndim             (uint32 each)
    data  = d_1 * ... * d_ndim items   (of the type's size)

MNIST uses two magic numbers: ``0x00000801`` (unsigned bytes, 1-D: labels,
shape ``(N,)``) and ``0x00000803`` (unsigned bytes, 3-D: images, shape
``(N, rows, cols)``). The other type codes of the format are read too.

Files may be raw or gzip-compressed; gzip is recognised by its magic bytes
(``1f 8b``), not by the file name. A file is accepted only if its payload is
exactly as long as its header says: truncated, padded, badly compressed or
mislabelled files raise :class:`~cnnbp.data.DataError`, naming the file.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

import numpy as np

from .._files import atomic_write_bytes
from .errors import DataError

#: Magic number of a 1-D unsigned-byte IDX file (MNIST labels).
IDX_LABELS = 0x00000801
#: Magic number of a 3-D unsigned-byte IDX file (MNIST images).
IDX_IMAGES = 0x00000803

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian NumPy dtype.
_TYPE_CODES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in _TYPE_CODES.items()}

_MAX_GZIP_RATIO = 1100

# Errors the gzip module raises on a damaged stream.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def describe_magic(magic: int) -> str:
    """Say in words what an IDX magic number means, e.g. ``'uint8, 3-D'``."""
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 != 0 or code not in _TYPE_CODES:
        return "not an IDX magic number"
    return f"{_TYPE_CODES[code].newbyteorder('=').name}, {ndim}-D"


def is_gzip(path) -> bool:
    """True if the file at ``path`` starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_maybe_gzip(path):
    """Open ``path`` for binary reading, decompressing it if it is gzip."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _read_exactly(f, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _readinto_exactly(f, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``f``; return the number of bytes read (short only at EOF)."""
    got = 0
    while got < len(buffer):
        n = f.readinto(buffer[got:])
        if not n:
            break
        got += n
    return got


def read_idx(path, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a NumPy array.

    Args:
        path: the file. Compression is detected from its first bytes.
        expect_magic: if given (e.g. :data:`IDX_IMAGES`, :data:`IDX_LABELS`),
            the file's magic number must equal it.

    Returns:
        A writeable array in native byte order, of shape ``(d_1, ..., d_ndim)``
        as the header says: ``(N,)`` uint8 for labels, ``(N, rows, cols)``
        uint8 for images.

    Raises:
        DataError: the file is missing, is not IDX, has another magic number
            than expected, is truncated, has trailing bytes, or is a damaged
            gzip stream. The message names the file and gives expected vs found.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    compressed = is_gzip(path)
    what = "gzip-compressed IDX file" if compressed else "IDX file"
    size = path.stat().st_size
    try:
        with open_maybe_gzip(path) as f:
            return _read_idx_stream(f, path, what, expect_magic, size, compressed)
    except _GZIP_ERRORS as e:
        raise DataError(f"{path}: corrupted gzip data ({e}); delete the file and fetch it again") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e})") from e


def _read_idx_stream(f, path: Path, what: str, expect_magic: int | None,
                     size: int, compressed: bool) -> np.ndarray:
    """Parse one IDX stream from ``f``; ``size`` is the file's size on disk."""
    head = _read_exactly(f, 4)
    if len(head) < 4:
        raise DataError(f"{path}: truncated {what}: expected a 4-byte magic number, found {len(head)} bytes")
    magic = int.from_bytes(head, "big")
    code, ndim = head[2], head[3]
    if head[:2] != b"\0\0" or code not in _TYPE_CODES:
        raise DataError(
            f"{path}: not an IDX file: expected a magic number 0x0000TTDD with a known type "
            f"code TT, found bytes {head.hex(' ')}"
        )
    if expect_magic is not None and magic != expect_magic:
        raise DataError(
            f"{path}: wrong IDX magic number: expected 0x{expect_magic:08X} "
            f"({describe_magic(expect_magic)}), found 0x{magic:08X} ({describe_magic(magic)})"
        )
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions; expected at least 1")
    dims_raw = _read_exactly(f, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DataError(
            f"{path}: truncated {what}: header declares {ndim} dimensions "
            f"({4 * ndim} bytes), found {len(dims_raw)} bytes of them"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
    dtype = _TYPE_CODES[code]
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    # Checked before allocating, so a damaged header cannot ask for terabytes.
    # Deflate expands at most ~1032:1, which bounds what a gzip file decodes to.
    if compressed and expected > size * _MAX_GZIP_RATIO:
        raise DataError(
            f"{path}: truncated {what}: header says shape {shape} ({expected} payload bytes), "
            f"but {size} compressed bytes cannot hold that many"
        )
    if not compressed and expected > size - 4 - 4 * ndim:
        raise DataError(
            f"{path}: truncated {what}: header says shape {shape} ({expected} payload bytes), "
            f"found {size - 4 - 4 * ndim} bytes"
        )
    out = np.empty(shape, dtype=dtype)
    got = _readinto_exactly(f, memoryview(out.reshape(-1).view(np.uint8)))
    if got < expected:
        raise DataError(
            f"{path}: truncated {what}: header says shape {shape} of {dtype.newbyteorder('=').name} "
            f"({expected} payload bytes), found {got} bytes"
        )
    extra = _read_exactly(f, 1)  # also makes gzip check its CRC and length trailer
    if extra:
        rest = 1 + _count_rest(f)
        raise DataError(
            f"{path}: size mismatch in {what}: header says shape {shape} "
            f"({expected} payload bytes), found {expected + rest} bytes ({rest} extra)"
        )
    return out.astype(dtype.newbyteorder("="), copy=False)


def _count_rest(f) -> int:
    n = 0
    while chunk := f.read(1 << 20):
        n += len(chunk)
    return n


def idx_bytes(array) -> bytes:
    """Encode ``array`` as an uncompressed IDX file (header + big-endian payload).

    Args:
        array: uint8, int8, int16, int32, float32 or float64, with 1 to 255 axes.
    """
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError(
            "IDX supports dtypes uint8, int8, int16, int32, float32 and float64, "
            f"got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs an array with 1 to 255 axes, got shape {array.shape}")
    if any(d >= 2**32 for d in array.shape):
        raise ValueError(f"IDX dimensions must be < 2**32, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=_TYPE_CODES[code]).tobytes()


def gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` with no time stamp or file name, so equal inputs give equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def write_idx(path, array, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically.

    Args:
        path: destination; written to a temporary file in the same folder, then
            renamed into place.
        array: uint8, int8, int16, int32, float32 or float64, with 1 to 255 axes;
            MNIST-style files are uint8 ``(N,)`` labels or ``(N, rows, cols)`` images.
        compress: gzip the file; ``None`` means "if ``path`` ends in ``.gz``".
            The gzip stream carries no time stamp, so equal arrays give equal bytes.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    data = idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip_bytes(data)
    return atomic_write_bytes(path, data)
