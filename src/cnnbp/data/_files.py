"""Temporary files for atomic writes: create beside the target, then ``os.replace``."""

from __future__ import annotations

import os
import secrets


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
