"""The direct convolution loops, compiled with numba (optional; stride 1, no dilation).

Same sums as :mod:`.direct` (the reference), laid out so the compiler can
vectorise them. Used by ``algorithm="compiled"``, and by ``"auto"`` when numba
is installed (:mod:`cnnbp.functional._fast`); without numba, asking for it
raises a RuntimeError.

The "flattened rows" trick
--------------------------
Stride 1, dilation 1. Write the padded input map ``x_p[n, c]`` (Hp x Wp) as one
flat vector ``xf`` of length Hp*Wp and give the output rows the same length Wp
(the last ``Wp - W_out`` columns of each row are scratch). Output position
``q = oh*Wp + ow`` then reads the input at ``q + i*Wp + j`` for kernel tap
(i, j), so the cross-correlation is

    yf[n, m, q] = b[m] + sum_{c, i, j} w[m, c, i, j] * xf[n, c, q + i*Wp + j],
    q = 0 .. L-1,   L = (H_out - 1)*Wp + W_out,

one long contiguous loop over q per tap (which the compiler turns into SIMD
multiply-adds) instead of two short ones. The backward passes use the same
index map, with ``e`` the residual delta laid out with row length Wp and zeros
in the scratch columns (so the scratch adds nothing):

- P3: ``dxf[n, c, q + i*Wp + j] += w[m, c, i, j] * e[n, m, q]``: each residual is sent
  back through every tap that read an input, which is the full correlation with
  rot180(w) of :func:`.direct.backward_input`; the padding is then cropped;
- P4: ``dW[m, c, i, j] = sum_{n, q} e[n, m, q] * xf[n, c, q + i*Wp + j]``, the valid
  correlation of the input with the residual, summed over the batch.

Unconnected kernels (a connection table) are skipped, not multiplied by zero.
The batch is split over threads (``prange``); dC/dW sums one partial result per
thread, so the result does not depend on how threads are scheduled.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _fast
from .._fast import jit, prange
from ._common import ConvGeometry

SUPPORTED = "stride 1 and dilation 1"


def supports(g: ConvGeometry) -> bool:
    """The compiled loops handle stride 1, dilation 1 (any padding, kernel, channels)."""
    return g.stride == (1, 1) and g.dilation == (1, 1)


def _check(g: ConvGeometry) -> None:
    if not _fast.available():
        raise RuntimeError(
            'algorithm="compiled" needs numba (pip install "cnnbp[fast]") and CNNBP_NUMBA not 0; '
            'use "im2col", "fft", "direct" or "auto"'
        )
    if not supports(g):
        raise ValueError(
            f'algorithm="compiled" supports {SUPPORTED} only, got stride {g.stride} and '
            f'dilation {g.dilation}; use "im2col" or "auto"'
        )


# -- kernels ------------------------------------------------------------------------------
@jit
def _gather_madd(src, offsets, weights, count, L, acc):
    """acc[q] += sum_{t < count} weights[t] * src[offsets[t] + q], for q < L.

    The one inner loop of the forward pass and of P3. Taps go eight at a time, so
    each pass over acc loads and stores it once per eight multiply-adds (measured:
    10-20% faster than four at a time on LeNet's C3, and 4x faster than one).
    """
    t = 0
    while t + 8 <= count:
        w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
        w4, w5, w6, w7 = weights[t + 4], weights[t + 5], weights[t + 6], weights[t + 7]
        s0 = src[offsets[t]:offsets[t] + L]  # views, so the loop below vectorises
        s1 = src[offsets[t + 1]:offsets[t + 1] + L]
        s2 = src[offsets[t + 2]:offsets[t + 2] + L]
        s3 = src[offsets[t + 3]:offsets[t + 3] + L]
        s4 = src[offsets[t + 4]:offsets[t + 4] + L]
        s5 = src[offsets[t + 5]:offsets[t + 5] + L]
        s6 = src[offsets[t + 6]:offsets[t + 6] + L]
        s7 = src[offsets[t + 7]:offsets[t + 7] + L]
        for q in range(L):
            acc[q] += ((w0 * s0[q] + w1 * s1[q]) + (w2 * s2[q] + w3 * s3[q])
                       + (w4 * s4[q] + w5 * s5[q]) + (w6 * s6[q] + w7 * s7[q]))
        t += 8
    while t < count:
        wt = weights[t]
        st = src[offsets[t]:offsets[t] + L]
        for q in range(L):
            acc[q] += wt * st[q]
        t += 1


@jit(parallel=True)
def _correlate_kernel(src, offsets, weights, counts, bias, Wp, row0, col0, out):
    """out[n, k, h, w] = bias[k] + sum_t weights[k, t] * src[n, offsets[k, t] + (row0 + h)*Wp + col0 + w].

    src (N, S): each example's source maps, rows of length Wp, flattened; for output
    map k, taps t < counts[k] read at ``offsets[k, t]`` with weight ``weights[k, t]``.
    out (N, K, H, W) is written. The accumulator holds rows row0 .. row0+H-1.
    """
    N, K, H, W = out.shape
    L = (row0 + H - 1) * Wp + col0 + W  # positions 0 .. L-1 of the row-flattened map
    for n in prange(N):
        acc = np.empty(L, dtype=out.dtype)
        x = src[n]
        for k in range(K):
            acc[:] = bias[k]
            _gather_madd(x, offsets[k], weights[k], counts[k], L, acc)
            for h in range(H):  # keep the rows and columns asked for
                r = (row0 + h) * Wp + col0
                out[n, k, h, :] = acc[r:r + W]


@jit
def _rows(delta_nm, Wp, start, e):
    """e[start + oh*Wp + ow] = delta_nm[oh, ow]: delta with rows of length Wp, zeros elsewhere."""
    out_h, out_w = delta_nm.shape
    e[:] = 0
    for oh in range(out_h):
        e[start + oh * Wp:start + oh * Wp + out_w] = delta_nm[oh, :]


@jit(parallel=True)
def _spread_kernel(delta, Wp, start, length, ef):
    """ef[n, m] = delta[n, m] laid out by :func:`_rows` (length ``length`` per map)."""
    N, M = delta.shape[0], delta.shape[1]
    for n in prange(N):
        for m in range(M):
            _rows(delta[n, m], Wp, start, ef[n, m * length:(m + 1) * length])


@jit(parallel=True)
def _backward_weight_kernel(ef, start, xf, live, Wp, L, bounds, zero, partial):
    """P4: partial[t, m, c, i, j] = sum over the t-th chunk of the batch of
    sum_{q < L} e[n, m, q] xf[n, c, q + i*Wp + j], with e[n, m, q] = ef[n, m, start + q];
    ``zero`` is 0 in the arrays' dtype. Four taps (i, j), (i, j+1), ... share each
    load of the residual."""
    M, C = ef.shape[1], xf.shape[1]
    kh, kw = partial.shape[3], partial.shape[4]
    for t in prange(bounds.shape[0] - 1):
        part = partial[t]
        part[:] = 0
        for n in range(bounds[t], bounds[t + 1]):
            for m in range(M):
                e = ef[n, m, start:start + L]
                for c in range(C):
                    if not live[m, c]:
                        continue
                    x = xf[n, c]
                    for i in range(kh):
                        j = 0
                        while j + 4 <= kw:
                            o = i * Wp + j
                            s0 = x[o:o + L]
                            s1 = x[o + 1:o + 1 + L]
                            s2 = x[o + 2:o + 2 + L]
                            s3 = x[o + 3:o + 3 + L]
                            a0 = a1 = a2 = a3 = zero
                            for q in range(L):
                                eq = e[q]
                                a0 += eq * s0[q]
                                a1 += eq * s1[q]
                                a2 += eq * s2[q]
                                a3 += eq * s3[q]
                            part[m, c, i, j] += a0
                            part[m, c, i, j + 1] += a1
                            part[m, c, i, j + 2] += a2
                            part[m, c, i, j + 3] += a3
                            j += 4
                        while j < kw:
                            s0 = x[i * Wp + j:i * Wp + j + L]
                            a0 = zero
                            for q in range(L):
                                a0 += e[q] * s0[q]
                            part[m, c, i, j] += a0
                            j += 1


@functools.lru_cache(maxsize=64)
def _tap_offsets(S: int, kh: int, kw: int, map_stride: int, Wp: int, rotate: bool) -> np.ndarray:
    """Offsets of every tap (s, i, j) in row-major order, (S*kh*kw,) int64 (see :func:`_taps`)."""
    i = np.arange(kh)[:, None]
    j = np.arange(kw)[None, :]
    within = (kh - 1 - i) * Wp + (kw - 1 - j) if rotate else i * Wp + j
    offsets = (np.arange(S)[:, None, None] * map_stride + within).reshape(-1).astype(np.int64)
    offsets.flags.writeable = False
    return offsets


def _taps(w: np.ndarray, live: np.ndarray, map_stride: int, Wp: int, rotate: bool):
    """Tap tables for :func:`_correlate_kernel`, one row per output map k.

    Forward (rotate False), k = m: tap (c, i, j) reads source map c at offset
    ``c*map_stride + i*Wp + j`` with weight w[m, c, i, j].
    P3 (rotate True), k = c: tap (m, i, j) reads residual map m at offset
    ``m*map_stride + (kh-1-i)*Wp + (kw-1-j)`` (the 180-degree rotation) with weight w[m, c, i, j].
    Unconnected kernels (``live[m, c]`` False) get no taps.

    Returns ``(offsets (K, T) int64, weights (K, T), counts (K,) int64)``; row k's
    first counts[k] taps are its live ones.
    """
    M, C, kh, kw = w.shape
    if rotate:
        w = w.transpose(1, 0, 2, 3)  # (C, M, kh, kw): one row per input map
        live = live.T
    K, S = w.shape[:2]
    offsets = _tap_offsets(S, kh, kw, map_stride, Wp, rotate)
    weights = np.ascontiguousarray(w.reshape(K, S * kh * kw))
    if live.all():  # every tap of every row: the same offsets for each row
        counts = np.full(K, S * kh * kw, dtype=np.int64)
        return np.broadcast_to(offsets, (K, offsets.size)), weights, counts
    keep = np.repeat(live, kh * kw, axis=1)  # (K, S*kh*kw)
    counts = keep.sum(axis=1).astype(np.int64)
    order = np.argsort(~keep, axis=1, kind="stable")  # live taps first, in order
    offsets = np.take_along_axis(np.broadcast_to(offsets, keep.shape), order, 1)
    weights = np.ascontiguousarray(np.take_along_axis(weights, order, 1))
    return offsets, weights, counts


# -- the algorithm (same signature as .direct, .im2col, .fft) --------------------------------
def flat_input(x: np.ndarray, g: ConvGeometry, reuse: np.ndarray | None = None) -> np.ndarray:
    """The zero-padded input with rows flattened: (N, C, Hp*Wp), C-contiguous.

    No copy when there is no padding and x is contiguous. ``reuse``: an array that an
    earlier call returned for the same geometry and dtype (its border is still zero);
    it is filled again instead of allocating. A layer keeps the result for dC/dW.
    """
    top, bottom, left, right = g.padding
    Hp, Wp = g.H + top + bottom, g.W + left + right
    if top == bottom == left == right == 0:
        return np.ascontiguousarray(x).reshape(g.N, g.C, Hp * Wp)
    shape = (g.N, g.C, Hp * Wp)
    if reuse is not None and reuse.shape == shape and reuse.dtype == x.dtype:
        xf = reuse
    else:
        xf = np.zeros(shape, dtype=x.dtype)
    xf.reshape(g.N, g.C, Hp, Wp)[:, :, top:top + g.H, left:left + g.W] = x
    return xf


def live_kernels(g: ConvGeometry, connections: np.ndarray | None) -> np.ndarray:
    """(M, C) bool, C-contiguous: the kernels to compute, ``connections.T`` (all without a table)."""
    if connections is None:
        return np.ones((g.M, g.C), dtype=bool)
    return np.ascontiguousarray(connections.T)


def forward_flat(xf: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: ConvGeometry,
                 live: np.ndarray | None = None) -> np.ndarray:
    """y (N, M, out_h, out_w) from the flattened input of :func:`flat_input`, bias added."""
    _check(g)
    dtype = xf.dtype
    Hp, Wp = xf.shape[2] // (g.W + g.padding[2] + g.padding[3]), g.W + g.padding[2] + g.padding[3]
    b = np.zeros(g.M, dtype=dtype) if b is None else np.ascontiguousarray(b, dtype=dtype)
    live = live_kernels(g, None) if live is None else live
    offsets, weights, counts = _taps(w.astype(dtype, copy=False), live, Hp * Wp, Wp, rotate=False)
    y = np.empty(g.y_shape, dtype=dtype)
    _correlate_kernel(xf.reshape(g.N, -1), offsets, weights, counts, b, Wp, 0, 0, y)
    return y


def forward(x: np.ndarray, w: np.ndarray, g: ConvGeometry,
            live: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation (see the module docstring): (N, C, H, W) -> (N, M, out_h, out_w).

    ``live`` (M, C) bool: the connected kernels (:func:`live_kernels`); all by default.
    """
    _check(g)
    return forward_flat(flat_input(x, g), w, None, g, live)


def spread_delta(delta: np.ndarray, g: ConvGeometry, reuse: np.ndarray | None = None) -> np.ndarray:
    """The residual laid out for both backward passes: (N, M*length), one block per map.

    Block m holds ``Z = (kh-1)*Wp + (kw-1)`` zeros, then delta[n, m] with rows of length
    Wp (zeros in the scratch columns), then zeros up to ``length = Z + Hp*Wp``.
    ``reuse``: an array of that shape and dtype to overwrite instead of allocating.
    """
    top, bottom, left, right = g.padding
    Hp, Wp = g.H + top + bottom, g.W + left + right
    Z = (g.kh - 1) * Wp + (g.kw - 1)
    length = Z + Hp * Wp
    shape = (g.N, g.M * length)
    if reuse is not None and reuse.shape == shape and reuse.dtype == delta.dtype:
        ef = reuse
    else:
        ef = np.empty(shape, dtype=delta.dtype)
    _spread_kernel(np.ascontiguousarray(delta), Wp, Z, length, ef)
    return ef


def backward_input(delta: np.ndarray, w: np.ndarray, g: ConvGeometry,
                   live: np.ndarray | None = None, ef: np.ndarray | None = None) -> np.ndarray:
    """P3, dC/dx (N, C, H, W): the full correlation of delta with rot180(w).

    delta is laid out with rows of length Wp after ``Z = (kh-1)*Wp + (kw-1)`` zeros
    (:func:`spread_delta`; pass ``ef`` to reuse one), so
    ``dxf[c, r] = sum_{m,i,j} w[m,c,i,j] * e[m, r - i*Wp - j]`` reads it at the
    non-negative offset ``Z - i*Wp - j``; the padding rows and columns are not kept.
    """
    _check(g)
    top, bottom, left, right = g.padding
    dtype = delta.dtype
    Wp = g.W + left + right
    live = live_kernels(g, None) if live is None else live
    ef = spread_delta(delta, g) if ef is None else ef
    offsets, weights, counts = _taps(w.astype(dtype, copy=False), live, ef.shape[1] // g.M, Wp,
                                     rotate=True)
    dx = np.empty(g.x_shape, dtype=dtype)
    _correlate_kernel(ef, offsets, weights, counts, np.zeros(g.C, dtype=dtype), Wp, top, left, dx)
    return dx


def backward_weight_flat(delta: np.ndarray, xf: np.ndarray, g: ConvGeometry,
                         live: np.ndarray | None = None, ef: np.ndarray | None = None) -> np.ndarray:
    """P4, dC/dW (M, C, kh, kw) summed over the batch, from the flattened input.

    ``live`` (M, C) bool: kernels to compute (others get exactly 0); all by default.
    ``ef``: the residual laid out by :func:`spread_delta`, to reuse the one of P3.
    """
    _check(g)
    dtype = delta.dtype
    Wp = g.W + g.padding[2] + g.padding[3]
    L = (g.out_h - 1) * Wp + g.out_w
    Z = (g.kh - 1) * Wp + (g.kw - 1)
    live = live_kernels(g, None) if live is None else live
    ef = spread_delta(delta, g) if ef is None else ef
    T = max(1, min(g.N, _fast.num_threads()))
    bounds = np.linspace(0, g.N, T + 1).astype(np.int64)
    partial = np.empty((T, g.M, g.C, g.kh, g.kw), dtype=dtype)
    _backward_weight_kernel(ef.reshape(g.N, g.M, -1), Z, xf.astype(dtype, copy=False), live, Wp, L,
                            bounds, dtype.type(0), partial)
    return partial.sum(axis=0) if T > 1 else partial[0]


def backward_weight(delta: np.ndarray, x: np.ndarray, g: ConvGeometry,
                    live: np.ndarray | None = None) -> np.ndarray:
    """P4, dC/dW (M, C, kh, kw), summed over the batch (0 for kernels not ``live``)."""
    _check(g)
    return backward_weight_flat(delta, flat_input(x, g), g, live)
