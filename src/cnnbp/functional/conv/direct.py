"""The reference convolution: plain loops, as in REFERENCE.md section 5.

The reference loop is

    for w in 1..W, h in 1..H, x in 1..K, y in 1..K, m in 1..M, c in 1..C:
        output(w, h, m) += input(w+x, h+y, c) * filter(m, x, y, c)

Here the two outer loops run over the output positions (oh, ow) and the next two
over the kernel offsets (i, j), exactly as written; the two innermost loops, over
the kernels m and the channels c (and over the batch), are one small matrix
product ``(N, C) @ (C, M)``, so the code stays recognisable and fast enough for tests.
With stride s and dilation d the input position read is ``(oh*s + i*d, ow*s + j*d)``.

This module is slow on purpose: it is the definition the im2col and FFT algorithms
are tested against. Like every algorithm module it takes arrays already checked
and a :class:`~._common.ConvGeometry` (see :func:`cnnbp.functional.conv2d`).
"""

from __future__ import annotations

import numpy as np

from ._common import ConvGeometry, pad_input


def forward(x: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Cross-correlation: ``y[n, m, oh, ow] = sum_{c,i,j} x_p[n, c, oh*sh + i*dh, ow*sw + j*dw] * w[m, c, i, j]``.

    Shapes: x (N, C, H, W), w (M, C, kh, kw) -> y (N, M, out_h, out_w).
    """
    (sh, sw), (dh, dw) = g.stride, g.dilation
    x_p = pad_input(x, g.padding)
    y = np.zeros(g.y_shape, dtype=x.dtype)
    for oh in range(g.out_h):
        for ow in range(g.out_w):
            for i in range(g.kh):
                for j in range(g.kw):
                    # output(oh, ow, m) += input(oh + i, ow + j, c) * filter(m, i, j, c),
                    # summed over c and done for every m and example n at once.
                    y[:, :, oh, ow] += x_p[:, :, oh * sh + i * dh, ow * sw + j * dw] @ w[:, :, i, j].T
    return y


def insert_zeros(delta: np.ndarray, stride: tuple[int, int]) -> np.ndarray:
    """Spread ``delta`` (N, M, out_h, out_w) out with s-1 zeros between neighbours.

    A stride-s convolution is a stride-1 convolution whose output is kept only at
    every s-th position; the positions dropped had no effect on the cost, so their
    residual is 0. Result shape (N, M, (out_h-1)*sh + 1, (out_w-1)*sw + 1).
    """
    sh, sw = stride
    N, M, out_h, out_w = delta.shape
    delta_up = np.zeros((N, M, (out_h - 1) * sh + 1, (out_w - 1) * sw + 1), dtype=delta.dtype)
    delta_up[:, :, ::sh, ::sw] = delta
    return delta_up


def dilate_kernel(w: np.ndarray, dilation: tuple[int, int]) -> np.ndarray:
    """Kernels (M, C, kh, kw) with d-1 zeros between taps: (M, C, dh*(kh-1)+1, dw*(kw-1)+1)."""
    dh, dw = dilation
    M, C, kh, kw = w.shape
    w_d = np.zeros((M, C, dh * (kh - 1) + 1, dw * (kw - 1) + 1), dtype=w.dtype)
    w_d[:, :, ::dh, ::dw] = w
    return w_d


def backward_input(delta: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P3: dC/dx = conv(delta, rot180(w), 'full'), summed over the output maps each input map feeds.

    REFERENCE.md section 6, P3: ``delta_j^(l) = f'(z_j^(l)) (.) conv(delta_j^(l+1),
    rot180(w_j^(l+1)), 'full')``. This function returns the correlation part; the factor
    ``f'(z)`` is applied by the activation layer below (as in F5).

    Steps (stride s, dilation d, padding p):

    1. insert s-1 zeros between the entries of delta (stride);
    2. dilate the kernel with d-1 zeros (dilation) and rotate it by 180 degrees;
    3. full correlation: pad delta by (kernel extent - 1) on every side and slide the
       rotated kernel over it; the matrix product ``(N, M) @ (M, C)`` sums over the
       output maps m that input map c feeds (an unconnected kernel is 0 here);
    4. drop the rows and columns that were padding in the forward pass.

    Shapes: delta (N, M, out_h, out_w), w (M, C, kh, kw) -> dC/dx (N, C, H, W).
    """
    top, bottom, left, right = g.padding
    delta_up = insert_zeros(delta, g.stride)  # (N, M, Hu, Wu)
    rot = dilate_kernel(w, g.dilation)[:, :, ::-1, ::-1]  # rot180(w), (M, C, KH, KW)
    KH, KW = rot.shape[2:]
    delta_full = np.pad(delta_up, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    # Rows of the padded input reached by some window; a stride that does not tile the
    # input leaves the last rows unread, and their gradient stays 0.
    reach_h = delta_up.shape[2] + KH - 1
    reach_w = delta_up.shape[3] + KW - 1
    dC_dx_p = np.zeros((g.N, g.C, g.H + top + bottom, g.W + left + right), dtype=delta.dtype)
    for a in range(reach_h):
        for b in range(reach_w):
            for i in range(KH):
                for j in range(KW):
                    dC_dx_p[:, :, a, b] += delta_full[:, :, a + i, b + j] @ rot[:, :, i, j]
    return dC_dx_p[:, :, top:top + g.H, left:left + g.W].copy()


def backward_weight(delta: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P4: dC/dw = conv(a^(l-1), delta, 'valid'), summed over the batch.

    REFERENCE.md section 6, P4: ``dC/dw_ij^(l) = conv(a_i^(l-1), delta_j^(l), 'valid')``
    (there i is the input map and j the output map; here ``w[m, c]`` with m the output,
    c the input map). With stride s, delta is spread with zeros first; with dilation d,
    the valid correlation is computed for the dilated kernel and read at every d-th tap:

        dC/dw_d[m, c, a, b] = sum_{n, p, q} delta_up[n, m, p, q] * x_p[n, c, a + p, b + q]
        dC/dw = dC/dw_d[:, :, ::dh, ::dw]

    Shapes: delta (N, M, out_h, out_w), x (N, C, H, W) -> dC/dW (M, C, kh, kw).
    """
    (dh, dw) = g.dilation
    x_p = pad_input(x, g.padding)
    delta_up = insert_zeros(delta, g.stride)  # (N, M, Hu, Wu)
    Hu, Wu = delta_up.shape[2:]
    KH, KW = dh * (g.kh - 1) + 1, dw * (g.kw - 1) + 1
    dC_dW_d = np.zeros((g.M, g.C, KH, KW), dtype=delta.dtype)
    for a in range(0, KH, dh):  # only the taps the dilated kernel has
        for b in range(0, KW, dw):
            for p in range(Hu):
                for q in range(Wu):
                    # residual times the input it saw, summed over the batch (F1)
                    dC_dW_d[:, :, a, b] += delta_up[:, :, p, q].T @ x_p[:, :, a + p, b + q]
    return dC_dW_d[:, :, ::dh, ::dw].copy()
