"""Convolution by im2col and one matrix product (Chellapilla, Puri, Simard 2006).

"High Performance Convolutional Neural Networks for Document Processing" unrolls
every sliding window of the input into a column, so the whole convolution becomes
one matrix product that BLAS does fast; the price is memory: each input value is
copied once per window that covers it (up to kh*kw times).

This module also exports the two window helpers that pooling reuses:

- :func:`im2col` gathers the windows into ``cols`` of shape
  ``(N, C, kh, kw, out_h, out_w)``, where ``cols[n, c, i, j, oh, ow]`` is the input
  value under kernel offset (i, j) of the window at output position (oh, ow):
  ``x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]``. Every window is first a strided
  *view* of the padded input (``sliding_window_view``, no copy); one copy then
  lays the columns out contiguously.
- :func:`col2im` is its adjoint: it sends every column entry back to the input
  position it came from, *adding* (``+=``) where windows overlap; the reference's
  "residuals arriving at the same place are summed".

The algorithm (same signature as :mod:`.direct` and :mod:`.fft`), with
``K = C*kh*kw`` and ``P = out_h*out_w``, one matrix product per example (the
stacked ``np.matmul`` runs them in one call) so that every operand and result
is already in NCHW order, with no transposes:

- forward: ``Y[n] (M, P) = W (M, K) @ cols[n] (K, P)``;
- dC/dx (P3): ``dcols[n] (K, P) = W^T (K, M) @ delta[n] (M, P)``, then col2im;
- dC/dW (P4): ``dW (M, K) = sum_n delta[n] (M, P) @ cols[n]^T (P, K)``.

A layer keeps the forward pass's ``cols`` for dC/dW (:func:`forward_columns`,
:func:`backward_weight_columns`) instead of gathering them twice.
"""

from __future__ import annotations

import numpy as np

from numpy.lib.stride_tricks import sliding_window_view

from ._common import ConvGeometry, pad_input, pair, resolve_padding


def _window_geometry(x_shape, kh, kw, stride, padding, dilation):
    """Normalised (stride, dilation, padding4, out_h, out_w) for the window helpers."""
    sh, sw = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation")
    kh, kw = pair((kh, kw), "kernel_size")
    pad4 = resolve_padding(padding, (kh, kw), (sh, sw), (dh, dw))
    top, bottom, left, right = pad4
    _, _, H, W = x_shape
    Hp, Wp = H + top + bottom, W + left + right
    KH, KW = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if KH > Hp or KW > Wp:
        raise ValueError(
            f"window of extent {KH}x{KW} (kernel {kh}x{kw}, dilation {dh}x{dw}) is larger than "
            f"the padded input {Hp}x{Wp} (input {H}x{W}, padding {pad4})"
        )
    out_h = (Hp - KH) // sh + 1
    out_w = (Wp - KW) // sw + 1
    return (sh, sw), (dh, dw), pad4, out_h, out_w


def im2col(x: np.ndarray, kh: int, kw: int, stride=1, padding=0, dilation=1,
           pad_value=0.0) -> np.ndarray:
    """Gather every kh x kw window of ``x`` (N, C, H, W) into ``cols``.

    Args:
        x: input, shape (N, C, H, W).
        kh, kw: kernel (window) height and width.
        stride, dilation: int or (h, w).
        padding: ``(top, bottom, left, right)``, or any form
            :func:`~._common.resolve_padding` accepts (int, pair, "same", ...).
        pad_value: value of the padded border (0 for convolution, -inf for max pooling).

    Returns:
        cols, shape (N, C, kh, kw, out_h, out_w), dtype of x:
        ``cols[n, c, i, j, oh, ow] = x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]``.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"im2col expected a 4-D input (N, C, H, W), got shape {x.shape}")
    (sh, sw), (dh, dw), pad4, out_h, out_w = _window_geometry(x.shape, kh, kw, stride, padding, dilation)
    xp = pad_input(x, pad4, pad_value)
    # views[n, c, r, s, a, b] = xp[n, c, r + a, s + b]: every (dilated-extent) window, no copy;
    # keep every s-th window start and every d-th tap of each window.
    KH, KW = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    views = sliding_window_view(xp, (KH, KW), axis=(2, 3))
    views = views[:, :, :sh * (out_h - 1) + 1:sh, :sw * (out_w - 1) + 1:sw, ::dh, ::dw]
    cols = np.ascontiguousarray(views.transpose(0, 1, 4, 5, 2, 3))  # the one copy
    return cols


def col2im(cols: np.ndarray, x_shape, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each column entry back where it came from.

    Args:
        cols: shape (N, C, kh, kw, out_h, out_w), e.g. dC/dcols.
        x_shape: (N, C, H, W), the shape of the input im2col was applied to.
        stride, padding, dilation: as given to im2col.

    Returns:
        array of shape x_shape (dtype of cols) with
        ``out[n, c, h, w] = sum of cols[n, c, i, j, oh, ow]`` over every (i, j, oh, ow)
        that im2col read from input position (h, w); values that fell on the
        padding are dropped.
    """
    cols = np.asarray(cols)
    x_shape = tuple(int(v) for v in x_shape)
    if cols.ndim != 6 or len(x_shape) != 4 or cols.shape[:2] != x_shape[:2]:
        raise ValueError(
            f"col2im expected cols of shape (N, C, kh, kw, out_h, out_w) matching x_shape "
            f"(N, C, H, W) = {x_shape}, got cols of shape {cols.shape}"
        )
    N, C, kh, kw, out_h, out_w = cols.shape
    (sh, sw), (dh, dw), pad4, exp_h, exp_w = _window_geometry(x_shape, kh, kw, stride, padding, dilation)
    if (out_h, out_w) != (exp_h, exp_w):
        raise ValueError(
            f"col2im: cols hold {out_h}x{out_w} windows but a {x_shape[2]}x{x_shape[3]} input "
            f"gives {exp_h}x{exp_w} with these settings"
        )
    top, bottom, left, right = pad4
    H, W = x_shape[2:]
    xp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=cols.dtype)
    for i in range(kh):
        r0 = i * dh
        for j in range(kw):
            c0 = j * dw
            xp[:, :, r0:r0 + sh * (out_h - 1) + 1:sh, c0:c0 + sw * (out_w - 1) + 1:sw] += cols[:, :, i, j]
    # Crop the padding by explicit end indices (top + H), never ``xp[p:-p]``,
    # which would be empty when p == 0.
    return np.ascontiguousarray(xp[:, :, top:top + H, left:left + W])


# -- the algorithm ---------------------------------------------------------------------------

def columns(x: np.ndarray, g: ConvGeometry, reuse: np.ndarray | None = None) -> np.ndarray:
    """The columns of every example: (N, K, P) = (N, C*kh*kw, out_h*out_w).

    ``reuse``: an array of that shape and dtype to fill instead of allocating one.
    """
    shape = (g.N, g.C * g.kh * g.kw, g.out_h * g.out_w)
    # (When one window covers the whole input, e.g. LeNet's C5, im2col returns a read-only
    # view of x itself: nothing to copy, and nothing to refill.)
    if reuse is None or reuse.shape != shape or reuse.dtype != x.dtype or not reuse.flags.writeable:
        return im2col(x, g.kh, g.kw, g.stride, g.padding, g.dilation).reshape(shape)
    (sh, sw), (dh, dw) = g.stride, g.dilation
    xp = pad_input(x, g.padding)
    KH, KW = dh * (g.kh - 1) + 1, dw * (g.kw - 1) + 1
    views = sliding_window_view(xp, (KH, KW), axis=(2, 3))
    views = views[:, :, :sh * (g.out_h - 1) + 1:sh, :sw * (g.out_w - 1) + 1:sw, ::dh, ::dw]
    np.copyto(reuse.reshape(g.N, g.C, g.kh, g.kw, g.out_h, g.out_w), views.transpose(0, 1, 4, 5, 2, 3))
    return reuse


def forward_columns(cols: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """y[n] (M, P) = W (M, K) @ cols[n] (K, P), shaped (N, M, out_h, out_w)."""
    y = np.matmul(w.reshape(g.M, -1), cols)  # one GEMM per example, (N, M, P)
    return y.reshape(g.y_shape)


def forward(x: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """y (N, M, out_h, out_w): the windows unrolled, then W @ cols."""
    return forward_columns(columns(x, g), w, g)


def backward_input(delta: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P3 as a product: dcols = W^T delta (each window's share of the residual), then col2im.

    col2im adds the shares of overlapping windows, which is the sum that the full
    correlation with the rotated kernel computes in :func:`.direct.backward_input`.
    """
    delta_mat = delta.reshape(g.N, g.M, g.out_h * g.out_w)  # (N, M, P)
    dcols = np.matmul(w.reshape(g.M, -1).T, delta_mat)  # (N, K, P)
    dcols = dcols.reshape(g.N, g.C, g.kh, g.kw, g.out_h, g.out_w)
    return col2im(dcols, g.x_shape, g.stride, g.padding, g.dilation)


#: At most this many output positions per example, dC/dW folds the batch into one GEMM.
FOLD_MAX_POSITIONS = 16


def backward_weight_columns(delta: np.ndarray, cols: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P4 from the forward pass's columns: dW (M, K) = sum_n delta[n] (M, P) @ cols[n]^T (P, K).

    With few output positions (P <= FOLD_MAX_POSITIONS, e.g. LeNet's C5, 1x1) the N
    products would be tiny, so the batch is folded into one product
    ``(M, N*P) @ (N*P, K)`` instead (measured at batch 128: 0.15 ms against 15 ms for C5;
    for C3's P = 100 the per-example products are 2.5x faster).
    """
    P = g.out_h * g.out_w
    delta_mat = delta.reshape(g.N, g.M, P)
    if P <= FOLD_MAX_POSITIONS:
        rows = delta_mat.transpose(1, 0, 2).reshape(g.M, g.N * P)  # (M, N*P)
        dC_dW = rows @ cols.transpose(0, 2, 1).reshape(g.N * P, -1)  # (M, K)
    else:
        dC_dW = np.matmul(delta_mat, cols.transpose(0, 2, 1)).sum(axis=0)  # (M, K)
    return dC_dW.reshape(g.w_shape)


def backward_weight(delta: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P4 as a product: dC/dW (M, K) = sum over every window of residual times the
    input it saw (F1 with shared weights), ``sum_n delta[n] @ cols[n]^T``."""
    return backward_weight_columns(delta, columns(x, g), g)
