"""Atomic file writes: every file cnnbp writes holds either its old content or all
of the new one, never half of it (a temporary file beside the target, flushed and
fsync'ed, then renamed into place with :func:`os.replace`)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def make_temp(folder, name: str, suffix: str = ".tmp") -> tuple[int, str]:
    """Create a new hidden file ``.<name>.<random><suffix>`` in ``folder``.

    Unlike :func:`tempfile.mkstemp` (mode 0600), the file gets the usual
    permissions (0666 less the umask), which it keeps once renamed into place.

    Returns:
        ``(fd, path)``: an open descriptor for writing, and the file's path.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        path = os.path.join(folder, f".{name}.{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where the platform allows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; the parent folder is created if missing.

    The rename is fsync'ed too, so it survives a power loss.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path
