"""Downloading a file from a list of mirrors, verified before it is used.

:func:`fetch` tries each mirror in order. The body is streamed into a
temporary file in the target folder (with a tqdm progress bar on stderr, which
``progress=False`` turns off), checked against its :class:`Checksum`, and only
then renamed into place with :func:`os.replace`, so the folder never holds a
partial or unverified file. Any failure (HTTP error, refused connection,
timeout, short body, bad checksum, corrupted gzip) deletes the temporary file
and moves on to the next mirror; when every mirror has failed,
:class:`~cnnbp.data.DownloadError` lists each URL with its reason.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .._files import make_temp
from .errors import DataError, DownloadError
from .idx import open_maybe_gzip, read_idx

DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Checksum:
    """What a verified file must hash to; matching either value is enough.

    Attributes:
        payload_sha256: SHA-256 (hex) of the decompressed IDX payload, so a
            re-compressed or raw copy verifies too.
        gz_md5: MD5 (hex) of the official ``.gz`` archive, byte for byte.
    """

    payload_sha256: str | None = None
    gz_md5: str | None = None

    def __bool__(self) -> bool:
        return bool(self.payload_sha256 or self.gz_md5)

    def describe(self) -> str:
        parts = []
        if self.payload_sha256:
            parts.append(f"payload SHA-256 {self.payload_sha256}")
        if self.gz_md5:
            parts.append(f".gz MD5 {self.gz_md5}")
        return " or ".join(parts)


def file_digests(path) -> tuple[str, str]:
    """``(payload_sha256, file_md5)`` of a raw or gzip file, in hex.

    Raises:
        DataError: the file starts like gzip but does not decompress.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            md5.update(chunk)
    sha = hashlib.sha256()
    try:
        with open_maybe_gzip(path) as f:
            while chunk := f.read(_CHUNK):
                sha.update(chunk)
    except (EOFError, OSError, ValueError) as e:  # gzip.BadGzipFile and zlib.error among them
        raise DataError(f"{path}: corrupted gzip data ({e})") from e
    return sha.hexdigest(), md5.hexdigest()


def verify_file(path, checksum: Checksum | None) -> None:
    """Check ``path`` against ``checksum``; raise :class:`DataError` if it does not match.

    With no checksum (None or empty), only the IDX structure is checked
    (:func:`~cnnbp.data.read_idx`).
    """
    if not checksum:
        read_idx(path)
        return
    sha, md5 = file_digests(path)
    if sha == checksum.payload_sha256 or md5 == checksum.gz_md5:
        return
    raise DataError(
        f"{path}: checksum mismatch: expected {checksum.describe()}, "
        f"found payload SHA-256 {sha}, file MD5 {md5}"
    )


def _describe_failure(e: BaseException, tmp: str) -> str:
    """One short phrase for why a mirror failed."""
    if isinstance(e, urllib.error.HTTPError):
        e.close()
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"cannot connect: {e.reason}"
    if isinstance(e, TimeoutError):
        return "timed out"
    if isinstance(e, DataError):
        # drop the temporary file's name: the URL already says what was fetched
        return str(e).removeprefix(f"{tmp}: ")
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _download_to(url: str, dest, timeout: float, progress: bool, desc: str) -> None:
    """Stream ``url`` into the open binary file ``dest``; raise on a short body."""
    from tqdm import tqdm  # only needed, and only imported, when downloading

    request = urllib.request.Request(url, headers={"User-Agent": "cnnbp (Python urllib)"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        got = 0
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=desc, disable=not progress, leave=False) as bar:
            while chunk := response.read(_CHUNK):
                dest.write(chunk)
                got += len(chunk)
                bar.update(len(chunk))
    if total is not None and got != total:
        raise DataError(f"short transfer: expected {total} bytes, got {got}")


def fetch(filename: str, folder, mirrors, checksum: Checksum | None = None, *,
          timeout: float = DEFAULT_TIMEOUT, progress: bool = True, hint: str = "") -> Path:
    """Download ``filename`` from the first mirror that gives a verified copy.

    Args:
        filename: the file's name, appended to each mirror's base URL.
        folder: where the file goes; created if missing.
        mirrors: base URLs, tried in order (``http(s)://`` or ``file://``).
        checksum: what the file must hash to; None checks only the IDX structure.
        timeout: seconds to wait for a connection or for data.
        progress: show a tqdm progress bar on stderr while downloading.
        hint: appended to the error message if every mirror fails.

    Returns:
        The path of the verified file, ``folder / filename``.

    Raises:
        DownloadError: no mirror gave a verified copy; lists each URL tried and why.
    """
    folder = Path(folder)
    mirrors = [mirrors] if isinstance(mirrors, str) else list(mirrors)
    target = folder / filename
    suffix = f" {hint}" if hint else ""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = make_temp(folder, filename, suffix=".part")
        os.close(fd)
    except OSError as e:
        raise DownloadError(f"cannot write into {folder} to download {filename} ({e}).{suffix}") from e
    tried = []
    try:
        for mirror in mirrors:
            url = (mirror if mirror.endswith("/") else mirror + "/") + filename
            try:
                with open(tmp, "wb") as dest:
                    _download_to(url, dest, timeout, progress, filename)
                    dest.flush()
                    os.fsync(dest.fileno())
                verify_file(tmp, checksum)
                os.replace(tmp, target)
                return target
            except (OSError, http.client.HTTPException, ValueError) as e:
                # URLError, HTTPError and timeouts are OSErrors; DataError is a ValueError
                tried.append(f"{url} ({_describe_failure(e, tmp)})")
    finally:
        if os.path.exists(tmp):  # a failed or interrupted download is never kept
            os.unlink(tmp)
    if not tried:
        raise DownloadError(f"cannot download {filename}: no mirrors given.{suffix}")
    raise DownloadError(f"could not download {filename}; tried {'; '.join(tried)}.{suffix}")
