"""Where data lives: the data directory and the files inside it.

The data directory is, in order of precedence:

1. the ``data_dir`` argument (the CLI's ``--data-dir``);
2. the ``CNNBP_DATA_DIR`` environment variable, if set and not empty;
3. the user's cache directory: ``$XDG_CACHE_HOME/cnnbp``, else ``~/.cache/cnnbp``
   (``%LOCALAPPDATA%\\cnnbp\\Cache`` on Windows).

It holds one folder per dataset (``mnist/``, ``fashion-mnist/``) with the
official file names, each gzip-compressed (``.gz``) or raw (no ``.gz``).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CNNBP_DATA_DIR"


def default_data_dir() -> Path:
    """The per-user cache directory cnnbp downloads into when nothing else is given."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "cnnbp" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "cnnbp"
    return Path.home() / ".cache" / "cnnbp"


def resolve_data_dir(data_dir=None) -> Path:
    """The data directory to use: ``data_dir``, else ``$CNNBP_DATA_DIR``, else the cache.

    ``~`` is expanded; the directory need not exist yet.
    """
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(env).expanduser()
    return default_data_dir()


def candidates(folder: Path, filename: str) -> list[Path]:
    """The paths a file may have: ``name.gz`` first, then the raw ``name``."""
    stem = filename[:-3] if filename.endswith(".gz") else filename
    return [folder / f"{stem}.gz", folder / stem]


def find_file(folder: Path, filename: str) -> Path | None:
    """The existing copy of ``filename`` in ``folder`` (gzip or raw), or None."""
    for path in candidates(folder, filename):
        if path.is_file():
            return path
    return None
