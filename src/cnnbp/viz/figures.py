"""Figure functions: arrays in, a :class:`matplotlib.figure.Figure` out.

Every function takes plain NumPy arrays (not a model), so each can be used on its
own, e.g. in a notebook; :mod:`cnnbp.viz.report` assembles them into a page.
Conventions:

- activations (feature maps, the digit) are grey, on one scale per figure;
- signed quantities (residuals ``delta``, kernels, gradients) use a diverging
  map centred on 0 with a symmetric scale ``[-max|v|, +max|v|]`` shared by every
  panel of the figure, and a colour bar that says what is drawn;
- many small maps are tiled into one mosaic (:func:`._render.mosaic`), one image
  per figure, which keeps a report fast to build.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.patches import Rectangle

from ._render import (ACTIVATION_CMAP, SIGNED_CMAP, mosaic, new_figure, symmetric_limit,
                      tile_origin)

__all__ = [
    "image_figure", "grid_figure", "kernel_grid_figure", "connection_table_figure",
    "probability_figure", "output_residual_figure", "anatomy_figure", "matrix_figure",
    "subsampling_gradient_figure", "routing_figure", "pixel_provenance_figure",
    "weight_provenance_figure", "worked_example_figure", "filter_gallery_figure",
    "training_curves_figure", "confusion_figure",
]

_BAD = "#dcdcdc"  # gaps between tiles, unconnected kernels


def _cmap(name: str):
    return matplotlib.colormaps[name].with_extremes(bad=_BAD)


def _plain(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _colorbar(fig, im, ax, label: str | None):
    """A slim colour bar; numbers as ``%.2g`` (no detached "1e-5" multiplier)."""
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, format="%.2g")
    if label:
        cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return cb


def _signed_image(fig, ax, arr, vmax: float, label: str | None = None, colorbar: bool = True,
                  bad: str = _BAD):
    cmap = matplotlib.colormaps[SIGNED_CMAP].with_extremes(bad=bad)
    im = ax.imshow(arr, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
    if colorbar:
        _colorbar(fig, im, ax, label)
    return im


def _grey_image(fig, ax, arr, vmin=None, vmax=None, label: str | None = None, colorbar: bool = True,
                cmap: str = ACTIVATION_CMAP):
    im = ax.imshow(arr, cmap=_cmap(cmap), vmin=vmin, vmax=vmax, interpolation="nearest")
    if colorbar:
        _colorbar(fig, im, ax, label)
    return im


def _window_grid(ax, shape, window, color="#ffb000") -> None:
    """Thin lines on the borders of the pooling windows of a (h, w) map."""
    h, w = shape
    kh, kw = window
    for r in range(kh, h, kh):
        ax.axhline(r - 0.5, color=color, lw=0.6)
    for c in range(kw, w, kw):
        ax.axvline(c - 0.5, color=color, lw=0.6)


def vector_as_image(v: np.ndarray, ncols: int | None = None) -> np.ndarray:
    """A vector (F,) as a (rows, ncols) image, row by row, NaN-padded (C5's 120 -> 10 x 12,
    F6's 84 -> 12 x 7, the size of LeNet-5's RBF digit bitmaps)."""
    v = np.asarray(v, dtype=np.float64).ravel()
    if ncols is None:
        ncols = {84: 7, 120: 12, 10: 10}.get(v.size, int(np.ceil(np.sqrt(v.size))))
    rows = -(-v.size // ncols)
    out = np.full(rows * ncols, np.nan)
    out[:v.size] = v
    return out.reshape(rows, ncols)


# -- single images, grids, kernels ------------------------------------------------------------
def image_figure(img: np.ndarray, title: str, *, signed: bool = False, label: str | None = None,
                 width: float = 3.0, vmin=None, vmax=None):
    """One 2-D array as an image with a colour bar (signed: diverging, symmetric)."""
    img = np.asarray(img, dtype=np.float64)
    fig = new_figure(width, width * 0.85)
    ax = fig.add_subplot()
    if signed:
        _signed_image(fig, ax, img, vmax or symmetric_limit(img), label)
    else:
        _grey_image(fig, ax, img, vmin, vmax, label)
    ax.set_title(title, fontsize=9)
    _plain(ax)
    return fig


def grid_figure(maps: np.ndarray, title: str, *, ncols: int | None = None, signed: bool = False,
                label: str | None = None, width: float = 7.0, vmin=None, vmax=None,
                tile_labels: Sequence[str] | None = None, max_height: float = 3.2):
    """Maps (K, h, w) tiled in one image on one colour scale, each labelled with its index.

    Args:
        maps: (K, h, w); a vector (F,) is drawn as one image (see :func:`vector_as_image`).
        title: figure title.
        ncols: maps per row (default: all in one row up to 8).
        signed: diverging colours on ``[-max|v|, max|v|]`` (residuals, gradients); else grey.
        label: colour-bar label, e.g. ``"delta = dC/dz"``.
        vmin, vmax: the grey scale's limits (default: the data's range); for signed,
            ``vmax`` overrides the symmetric limit.
        tile_labels: text drawn on each tile (default: its index).
        max_height: the image's largest height in inches (tall images get narrower).
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 1:
        maps = vector_as_image(maps)[None]
        tile_labels = tile_labels or [""]
    k, h, w = maps.shape
    ncols = ncols or min(k, 8)
    gap = max(1, h // 10)
    tiled = mosaic(maps, ncols, gap)
    rows = -(-k // ncols)
    aspect = tiled.shape[0] / tiled.shape[1]
    if width * aspect > max_height:              # tall images (F6's 12x7): narrow the figure
        width = max_height / aspect + 1.2        # room for the colour bar
    fig = new_figure(width, max(1.4, min(width * aspect, max_height) + 0.6))
    ax = fig.add_subplot()
    if signed:
        _signed_image(fig, ax, tiled, vmax or symmetric_limit(maps), label)
    else:
        finite = maps[np.isfinite(maps)]
        lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
        hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
        _grey_image(fig, ax, tiled, lo, hi if hi > lo else lo + 1e-12, label)
    labels = list(tile_labels) if tile_labels is not None else [str(i) for i in range(k)]
    if h >= 5 and rows * ncols <= 64:
        for idx, text in enumerate(labels[:k]):
            if text:
                r0, c0 = tile_origin(idx, ncols, h, w, gap)
                ax.text(c0 + 0.3, r0 + 0.3, text, fontsize=7, color="#d07000", va="top", ha="left",
                        fontweight="bold")
    ax.set_title(title, fontsize=10)
    _plain(ax)
    return fig


def kernel_grid_figure(w: np.ndarray, title: str, connections: np.ndarray | None = None, *,
                       in_name: str = "input map", out_name: str = "output map",
                       label: str = "kernel weight", width: float = 7.5):
    """Kernels (M, C, kh, kw) as a C x M grid: row = input map c, column = output map m.

    With a connection table (C, M) the unconnected kernels are blank (grey): the
    grid then *is* the table of LeCun 1998, Table I, filled with the learned kernels.
    """
    w = np.asarray(w, dtype=np.float64)
    M, C, kh, kw = w.shape
    kernels = w.transpose(1, 0, 2, 3).copy()                  # (C, M, kh, kw): rows are inputs
    table = None if connections is None else np.asarray(connections, dtype=bool)
    if table is not None:
        kernels[~table] = np.nan
    gap = 1
    tiled = mosaic(kernels.reshape(C * M, kh, kw), M, gap)
    fig = new_figure(width, max(1.5, width * tiled.shape[0] / tiled.shape[1] + 0.7))
    ax = fig.add_subplot()
    _signed_image(fig, ax, tiled, symmetric_limit(np.nan_to_num(kernels)), label, bad="white")
    if table is not None:
        for c, m in zip(*np.nonzero(~table)):
            r0, c0 = tile_origin(c * M + m, M, kh, kw, gap)
            ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), kw, kh, fc=_BAD, ec="none"))
    ax.set_xticks([m * (kw + gap) + (kw - 1) / 2 for m in range(M)], [str(m) for m in range(M)],
                  fontsize=7)
    ax.set_yticks([c * (kh + gap) + (kh - 1) / 2 for c in range(C)], [str(c) for c in range(C)],
                  fontsize=7)
    ax.set_xlabel(out_name, fontsize=8)
    ax.set_ylabel(in_name, fontsize=8)
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=10)
    return fig


def connection_table_figure(table: np.ndarray, title: str = "C3 connection table (LeCun 1998, Table I)",
                            *, in_name: str = "S2 map", out_name: str = "C3 map", width: float = 7.0):
    """A boolean (C, M) table as a grid of filled (connected) and empty cells, with
    the number of inputs of each output map above its column."""
    table = np.asarray(table, dtype=bool)
    C, M = table.shape
    fig = new_figure(width, width * C / M + 1.0)
    ax = fig.add_subplot()
    ax.imshow(table, cmap=matplotlib.colors.ListedColormap(["white", "#2b6cb0"]), vmin=0, vmax=1,
              interpolation="nearest")
    for c in range(C):
        for m in range(M):
            if table[c, m]:
                ax.text(m, c, "X", ha="center", va="center", color="white", fontsize=8, fontweight="bold")
    ax.set_xticks(range(M), [str(m) for m in range(M)], fontsize=7)
    ax.set_yticks(range(C), [str(c) for c in range(C)], fontsize=7)
    ax.set_xticks(np.arange(-0.5, M, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, C, 1), minor=True)
    ax.grid(which="minor", color="#888888", lw=0.5)
    ax.tick_params(which="both", length=0)
    ax.set_xlabel(f"{out_name} (inputs per map: " + " ".join(str(n) for n in table.sum(0)) + ")",
                  fontsize=8)
    ax.set_ylabel(in_name, fontsize=8)
    ax.set_title(title, fontsize=10)
    return fig


# -- the output ----------------------------------------------------------------------------------
def probability_figure(probabilities: np.ndarray, predicted: int, target: int | None = None,
                       width: float = 5.0):
    """Bars of the softmax probabilities; the prediction filled, the true class outlined."""
    p = np.asarray(probabilities, dtype=np.float64)
    fig = new_figure(width, 2.4)
    ax = fig.add_subplot()
    colors = ["#2b6cb0" if k == predicted else "#a0aec0" for k in range(p.size)]
    bars = ax.bar(range(p.size), p, color=colors)
    if target is not None:
        bars[target].set_edgecolor("#c53030")
        bars[target].set_linewidth(2)
    for k, v in enumerate(p):
        ax.text(k, v + 0.02, f"{v:.2f}", ha="center", fontsize=7)
    ax.set_ylim(0, 1.15)
    ax.set_xticks(range(p.size))
    ax.set_xlabel("class", fontsize=8)
    ax.set_ylabel("probability", fontsize=8)
    title = f"softmax output: predicted {predicted}"
    if target is not None:
        title += f", true {target} (red outline)"
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    return fig


def output_residual_figure(delta_f4: np.ndarray, delta_f3: np.ndarray, target: int, width: float = 7.0):
    """The output residual with the cross-entropy cost (F4, propagated) beside the one the
    quadratic cost would give (F3), on one scale: F3's factor f'(Z) shrinks it."""
    d4 = np.asarray(delta_f4, dtype=np.float64)
    d3 = np.asarray(delta_f3, dtype=np.float64)
    lim = symmetric_limit(d4, d3) * 1.1
    fig = new_figure(width, 2.4)
    for pos, (d, name) in enumerate(((d4, r"F4 (cross-entropy): $\delta^{L} = A - Y$"),
                                     (d3, r"F3 (quadratic): $(A - Y)\odot f'(Z)$"))):
        ax = fig.add_subplot(1, 2, pos + 1)
        ax.bar(range(d.size), d, color=["#c53030" if v > 0 else "#2b6cb0" for v in d])
        ax.axhline(0, color="black", lw=0.5)
        ax.set_ylim(-lim, lim)
        ax.set_xticks(range(d.size))
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(f"class (target {target})", fontsize=7)
        ax.tick_params(labelsize=7)
    fig.axes[0].set_ylabel(r"$\delta = \partial C/\partial z$", fontsize=8)
    return fig


# -- backward: residuals, the anatomy of one formula, gradients ------------------------------
def anatomy_figure(dC_da: np.ndarray, f_prime: np.ndarray, delta: np.ndarray, title: str,
                   left: str = r"$\partial C/\partial a$", width: float = 7.5):
    """One map of ``delta = dC/da (.) f'(z)``: the residual arriving, the activation's
    slope, and their product, side by side (the factor the activation contributes)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (dC_da, f_prime, delta)]
    if arrays[0].ndim == 1:
        arrays = [vector_as_image(a) for a in arrays]
    fig = new_figure(width, 2.6)
    lim = symmetric_limit(arrays[0], arrays[2])
    names = [left + " (from above)", r"$\odot\ f'(z)$", r"$=\ \delta = \partial C/\partial z$"]
    for pos, (arr, name) in enumerate(zip(arrays, names)):
        ax = fig.add_subplot(1, 3, pos + 1)
        if pos == 1:
            _grey_image(fig, ax, arr, 0.0, max(float(np.nanmax(arr)), 1e-12), "slope", cmap="viridis")
        else:
            _signed_image(fig, ax, arr, lim, "shared scale" if pos == 2 else None, colorbar=pos == 2)
        ax.set_title(name, fontsize=9)
        _plain(ax)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(wspace=0.45, top=0.8)
    return fig


def matrix_figure(m: np.ndarray, title: str, *, xlabel: str = "", ylabel: str = "",
                  label: str | None = None, width: float = 6.0):
    """A signed matrix (e.g. a dense layer's dC/dW, rows = outputs, columns = inputs)."""
    m = np.asarray(m, dtype=np.float64)
    fig = new_figure(width, max(1.6, min(width * m.shape[0] / m.shape[1] + 0.8, 6.0)))
    ax = fig.add_subplot()
    _signed_image(fig, ax, m, symmetric_limit(m), label)
    ax.set_aspect("auto")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=10)
    return fig


def subsampling_gradient_figure(grads: Mapping[str, tuple[np.ndarray, np.ndarray]], width: float = 7.0):
    """Bars of ``dC/dbeta`` and ``dC/db`` per map for each subsampling layer (P4)."""
    fig = new_figure(width, 1.9 * len(grads) + 0.3)
    for r, (name, (d_beta, d_b)) in enumerate(grads.items()):
        for c, (g, sym) in enumerate(((d_beta, r"\beta"), (d_b, "b"))):
            ax = fig.add_subplot(len(grads), 2, 2 * r + c + 1)
            g = np.asarray(g, dtype=np.float64)
            ax.bar(range(g.size), g, color=["#c53030" if v > 0 else "#2b6cb0" for v in g])
            ax.axhline(0, color="black", lw=0.5)
            ax.set_title(f"{name}: $\\partial C/\\partial {sym}_j$", fontsize=8)
            ax.set_xticks(range(g.size))
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


# -- pooling routing (P2) ------------------------------------------------------------------------
def routing_figure(pool_input: np.ndarray, delta_out: np.ndarray, routed: np.ndarray,
                   delta_below: np.ndarray, window: tuple[int, int], title: str,
                   mask: np.ndarray | None = None, width: float = 11.0):
    """Where a pooling layer sends each residual (P2), for one map.

    Panels: the pooling input with its windows (and, for max pooling, the sampled
    positions marked); the residual at the pooling output; the residual routed back
    to the input (``beta up(delta)`` for subsampling: the same share at every position
    of a window; for max pooling: only the marked positions); the residual of the
    layer below after the activation factor. Each residual panel has its own symmetric
    scale (its colour bar), so the routing pattern shows whatever the sizes.
    """
    fig = new_figure(width, 3.0)
    panels = [(pool_input, "pooling input $a$"), (delta_out, r"$\delta$ at the pooling output"),
              (routed, r"routed back: $\partial C/\partial a$"), (delta_below, r"$\delta$ below = routed $\odot f'(z)$")]
    for pos, (arr, name) in enumerate(panels):
        ax = fig.add_subplot(1, 4, pos + 1)
        arr = np.asarray(arr, dtype=np.float64)
        if pos == 0:
            _grey_image(fig, ax, arr, colorbar=False)
        else:
            _signed_image(fig, ax, arr, symmetric_limit(arr), None)
        if pos in (0, 2, 3):
            _window_grid(ax, arr.shape, window)
            if mask is not None:
                rr, cc = np.nonzero(mask)
                ax.scatter(cc, rr, s=6, facecolors="none", edgecolors="#00a000", linewidths=0.8)
        ax.set_title(name, fontsize=8)
        _plain(ax)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(wspace=0.45, top=0.78)
    return fig


# -- provenance -----------------------------------------------------------------------------------
def pixel_provenance_figure(delta: np.ndarray, w: np.ndarray, prov, width: float = 8.0):
    """For input pixel ``prov.position = (c, h, v)``: each residual map with the window of
    entries that reached the pixel (top), the rotated kernel laid over that window (middle),
    and the products summed into dC/dx (bottom; each map's sum written under it)."""
    delta = np.asarray(delta, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    M, H_out, W_out = delta.shape
    _, _, kh, kw = w.shape
    c, h, v = prov.position
    top, left = h - (kh - 1), v - (kw - 1)       # window of delta entries: rows h-kh+1 .. h
    products = np.full((M, kh, kw), np.nan)
    for m, oh, ow, i, j, d, wt, prod in prov.terms:
        products[int(m), int(oh) - top, int(ow) - left] = prod
    rotated = w[:, c, ::-1, ::-1]
    fig = new_figure(width, 4.8)
    rows = [(delta, r"residual maps $\delta_m$ of the layer (green: the entries that reached the pixel)",
             "δ", max(1, H_out // 10)),
            (rotated, r"kernels rotated by 180$\degree$, as laid over those windows", "w", 1),
            (products, r"products $\delta \cdot w$; $\Sigma$ per map below", "δ·w", 1)]
    for r, (maps, title, label, gap) in enumerate(rows):
        ax = fig.add_subplot(3, 1, r + 1)
        _signed_image(fig, ax, mosaic(maps, M, gap), symmetric_limit(np.nan_to_num(maps)), label, bad="white")
        hh, ww = maps.shape[1:]
        for m in range(M):
            r0, c0 = tile_origin(m, M, hh, ww, gap)
            if r == 0:
                ax.add_patch(Rectangle((c0 + left - 0.5, r0 + top - 0.5), kw, kh, fill=False,
                                       ec="#00a000", lw=1.0))
        ax.set_xticks([tile_origin(m, M, hh, ww, gap)[1] + (ww - 1) / 2 for m in range(M)],
                      [f"map {m}" if r < 2 else f"Σ={np.nansum(products[m]):+.1e}" for m in range(M)],
                      fontsize=7)
        ax.set_yticks([])
        ax.tick_params(length=0)
        ax.set_title(title, fontsize=8)
    fig.suptitle(f"input pixel (row {h}, col {v}): dC/dx = {prov.direct:+.6e} "
                 f"= sum of {len(prov.terms)} products", fontsize=9)
    return fig


def weight_provenance_figure(x: np.ndarray, delta: np.ndarray, w: np.ndarray, prov, width: float = 8.0):
    """For kernel tap ``prov.position = (m, c, i, j)``: the input window that tap saw at every
    output position, the tap in its kernel, the residual map, and the products summed (P4)."""
    x = np.asarray(x, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    m, c, i, j = prov.position
    _, H_out, W_out = delta.shape
    window = x[c, i:i + H_out, j:j + W_out]
    product = delta[m] * window
    fig = new_figure(width, 2.7)
    ax = fig.add_subplot(1, 4, 1)
    _grey_image(fig, ax, x[c], colorbar=False)
    ax.add_patch(Rectangle((j - 0.5, i - 0.5), W_out, H_out, fill=False, ec="#00a000", lw=1.2))
    ax.set_title(f"input: window at offset ({i}, {j})", fontsize=8)
    _plain(ax)
    ax = fig.add_subplot(1, 4, 2)
    _signed_image(fig, ax, w[m, c], symmetric_limit(w[m, c]), colorbar=False)
    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#00a000", lw=2))
    ax.set_title(f"kernel {m}, tap ({i}, {j})", fontsize=8)
    _plain(ax)
    ax = fig.add_subplot(1, 4, 3)
    _signed_image(fig, ax, delta[m], symmetric_limit(delta[m]), colorbar=False)
    ax.set_title(f"$\\delta$ map {m}", fontsize=8)
    _plain(ax)
    ax = fig.add_subplot(1, 4, 4)
    _signed_image(fig, ax, product, symmetric_limit(product), "product", colorbar=True)
    ax.set_title(r"$\delta \odot$ window", fontsize=8)
    _plain(ax)
    fig.suptitle(f"weight w[{m},{c},{i},{j}]: dC/dw = {prov.direct:+.6e} "
                 f"= sum of {len(prov.terms)} products", fontsize=9)
    return fig


# -- the worked example, the filter gallery ------------------------------------------------------
def _numbers(fig, ax, a, title, highlight=None, fmt="{:g}"):
    a = np.asarray(a, dtype=np.float64)
    span = np.ptp(a) or 1.0
    ax.imshow(a, cmap=_cmap("Blues"), vmin=a.min() - 0.3 * span, vmax=a.max() + 1.2 * span,
              interpolation="nearest")
    for (r, c), val in np.ndenumerate(a):
        ax.text(c, r, fmt.format(val), ha="center", va="center", fontsize=10)
    if highlight is not None:
        r, c, hh, ww = highlight
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), ww, hh, fill=False, ec="#c53030", lw=2))
    ax.set_title(title, fontsize=9)
    _plain(ax)


def worked_example_figure(image: np.ndarray, kernel: np.ndarray, output: np.ndarray, width: float = 7.0):
    """The reference's worked cross-correlation: image, kernel and output as numbers, the
    first window and the output it makes outlined."""
    fig = new_figure(width, 2.8)
    kh, kw = np.asarray(kernel).shape
    for pos, (a, title, hl) in enumerate(((image, "image (5x5)", (0, 0, kh, kw)),
                                          (kernel, "kernel (3x3)", None),
                                          (output, "output (3x3)", (0, 0, 1, 1)))):
        ax = fig.add_subplot(1, 3, pos + 1)
        _numbers(fig, ax, a, title, hl)
    return fig


def filter_gallery_figure(filtered: Mapping[str, np.ndarray], ncols: int = 5, width: float = 8.0):
    """Each named kernel's output on the same digit (uint8 images of one size), tiled in one
    image, each tile named."""
    names = list(filtered)
    images = np.stack([np.asarray(filtered[n], dtype=np.float64) for n in names])
    k, h, w = images.shape
    gap = max(1, h // 8)
    tiled = mosaic(images, ncols, gap)
    fig = new_figure(width, width * tiled.shape[0] / tiled.shape[1] + 0.3)
    ax = fig.add_subplot()
    ax.imshow(tiled, cmap=matplotlib.colormaps["gray"].with_extremes(bad="white"), vmin=0, vmax=255,
              interpolation="nearest")
    for idx, name in enumerate(names):
        r0, c0 = tile_origin(idx, ncols, h, w, gap)
        ax.text(c0 + 0.5, r0 + 0.5, name, fontsize=7, color="#ffb000", va="top", ha="left")
    _plain(ax)
    return fig


# -- training --------------------------------------------------------------------------------------
def _series(history: Sequence[Mapping], key: str):
    xs, ys = [], []
    for n, rec in enumerate(history):
        val = rec.get(key)
        if isinstance(val, (int, float)) and np.isfinite(val):
            xs.append(rec.get("epoch", n + 1))
            ys.append(float(val))
    return xs, ys


def training_curves_figure(history: Sequence[Mapping], width: float = 8.0):
    """Loss and accuracy per epoch from a training history (the Trainer's records:
    ``train_loss``, ``val_loss``, ``train_accuracy``, ``val_accuracy``; any other numeric
    key containing "loss" or "acc" is drawn too)."""
    keys = sorted({k for rec in history for k, v in rec.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)})
    fig = new_figure(width, 2.8)
    for pos, (word, ylabel) in enumerate((("loss", "loss"), ("acc", "accuracy"))):
        ax = fig.add_subplot(1, 2, pos + 1)
        for key in keys:
            if word in key:
                xs, ys = _series(history, key)
                if xs:
                    ax.plot(xs, ys, marker="o", ms=3, label=key)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if ax.lines:
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_figure(matrix: np.ndarray, title: str = "confusion matrix", width: float = 4.6):
    """Counts (K, K), row = true class, column = predicted class, each cell numbered."""
    m = np.asarray(matrix, dtype=np.int64)
    fig = new_figure(width, width * 0.9)
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="Blues", interpolation="nearest")
    thresh = m.max() / 2 if m.size else 0
    for (r, c), val in np.ndenumerate(m):
        if val:
            ax.text(c, r, str(val), ha="center", va="center", fontsize=6,
                    color="white" if val > thresh else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)
    k = m.shape[0]
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    accuracy = np.trace(m) / m.sum() if m.sum() else float("nan")
    ax.set_title(f"{title} (accuracy {accuracy:.1%} of {m.sum()})", fontsize=9)
    return fig
