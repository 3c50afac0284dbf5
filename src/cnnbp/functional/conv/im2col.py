"""Convolution by im2col and one matrix product (Chellapilla, Puri, Simard 2006).

"High Performance Convolutional Neural Networks for Document Processing" unrolls
every sliding window of the input into a column, so the whole convolution becomes
one matrix product that BLAS does fast; the price is memory: each input value is
copied once per window that covers it (up to kh*kw times).

This module also exports the two window helpers that pooling reuses:

- :func:`im2col` gathers the windows into ``cols`` of shape
  ``(N, C, kh, kw, out_h, out_w)``, where ``cols[n, c, i, j, oh, ow]`` is the input
  value under kernel offset (i, j) of the window at output position (oh, ow):
  ``x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]``. As in Chainer v1 it loops only
  over the kh*kw kernel offsets; each offset is one strided slice of the input.
- :func:`col2im` is its adjoint: it sends every column entry back to the input
  position it came from, *adding* (``+=``) where windows overlap; the reference's
  "residuals arriving at the same place are summed".

The algorithm (same signature as :mod:`.direct` and :mod:`.fft`), with
``K = C*kh*kw`` and ``P = N*out_h*out_w``:

- forward: ``Y (M, P) = W (M, K) @ cols (K, P)``;
- dC/dx (P3): ``dcols (K, P) = W^T (K, M) @ delta (M, P)``, then col2im;
- dC/dW (P4): ``dW (M, K) = delta (M, P) @ cols^T (P, K)``.
"""

from __future__ import annotations

import numpy as np

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
    N, C = x.shape[:2]
    cols = np.empty((N, C, kh, kw, out_h, out_w), dtype=x.dtype)
    for i in range(kh):
        top = i * dh  # first row this kernel offset touches
        for j in range(kw):
            left = j * dw
            cols[:, :, i, j] = xp[:, :, top:top + sh * (out_h - 1) + 1:sh,
                                  left:left + sw * (out_w - 1) + 1:sw]
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

def _cols_matrix(cols: np.ndarray) -> np.ndarray:
    """(N, C, kh, kw, oh, ow) -> the column matrix (K, P) = (C*kh*kw, N*oh*ow)."""
    N, C, kh, kw, oh, ow = cols.shape
    return cols.transpose(1, 2, 3, 0, 4, 5).reshape(C * kh * kw, N * oh * ow)


def forward(x: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """y (N, M, out_h, out_w) = W (M, K) @ cols (K, P), reshaped to NCHW."""
    cols = im2col(x, g.kh, g.kw, g.stride, g.padding, g.dilation)
    y = w.reshape(g.M, -1) @ _cols_matrix(cols)  # (M, N*oh*ow): the one GEMM
    return np.ascontiguousarray(y.reshape(g.M, g.N, g.out_h, g.out_w).transpose(1, 0, 2, 3))


def backward_input(delta: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P3 as a product: dcols = W^T delta (each window's share of the residual), then col2im.

    col2im adds the shares of overlapping windows, which is the sum that the full
    correlation with the rotated kernel computes in :func:`.direct.backward_input`.
    """
    delta_mat = delta.transpose(1, 0, 2, 3).reshape(g.M, -1)  # (M, P)
    dcols = w.reshape(g.M, -1).T @ delta_mat  # (K, P)
    dcols = dcols.reshape(g.C, g.kh, g.kw, g.N, g.out_h, g.out_w).transpose(3, 0, 1, 2, 4, 5)
    return col2im(dcols, g.x_shape, g.stride, g.padding, g.dilation)


def backward_weight(delta: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P4 as a product: dC/dW (M, K) = delta (M, P) @ cols^T (P, K), the sum over every
    window of residual times the input it saw (F1 with shared weights)."""
    cols = im2col(x, g.kh, g.kw, g.stride, g.padding, g.dilation)
    delta_mat = delta.transpose(1, 0, 2, 3).reshape(g.M, -1)  # (M, P)
    dC_dW = delta_mat @ _cols_matrix(cols).T  # (M, K)
    return dC_dW.reshape(g.w_shape)
