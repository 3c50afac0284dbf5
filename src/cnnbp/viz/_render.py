"""Figures without global state: ``matplotlib.figure.Figure`` drawn by the Agg canvas.

pyplot is never imported, so building a report neither opens a window nor depends
on (or changes) the user's backend, and figures are freed as soon as they are encoded.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Resolution of every figure (dots per inch); modest, so a report builds in seconds.
DPI = 80

#: Colour maps: activations in grey (as the digit itself), signed quantities
#: (residuals, kernels, gradients) on a diverging map centred on 0.
ACTIVATION_CMAP = "gray"
SIGNED_CMAP = "RdBu_r"


def new_figure(width: float, height: float) -> Figure:
    """A blank figure of ``width`` x ``height`` inches attached to an Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure, dpi: int | None = None) -> bytes:
    """Encode ``fig`` as PNG (by matplotlib's Agg renderer) and return the bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or DPI, bbox_inches="tight", pad_inches=0.05,
                facecolor="white")
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:image/png;base64,...`` URI, embeddable in ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def symmetric_limit(*arrays) -> float:
    """``max |a|`` over every array: the half-width of a colour scale centred on 0.

    Never 0 (an all-zero residual still gets a valid, tiny scale).
    """
    m = max((float(np.nanmax(np.abs(a))) if np.size(a) else 0.0) for a in arrays)
    return m if m > 0 and np.isfinite(m) else 1e-12


def mosaic(maps: np.ndarray, ncols: int, gap: int = 1) -> np.ndarray:
    """Tile ``maps`` (K, h, w) into one 2-D array, ``ncols`` maps per row, NaN between them.

    Drawing one mosaic with one ``imshow`` is far faster than one axes per map;
    NaN cells (gaps, and any NaN inside ``maps``) are drawn in the background colour.
    """
    maps = np.asarray(maps, dtype=np.float64)
    k, h, w = maps.shape
    nrows = -(-k // ncols)
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap), np.nan)
    for idx in range(k):
        r, c = divmod(idx, ncols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = maps[idx]
    return out


def tile_origin(idx: int, ncols: int, h: int, w: int, gap: int = 1) -> tuple[int, int]:
    """Top-left (row, column) of map ``idx`` inside a :func:`mosaic`."""
    r, c = divmod(idx, ncols)
    return r * (h + gap), c * (w + gap)
