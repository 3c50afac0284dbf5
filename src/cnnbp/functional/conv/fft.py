"""Convolution by real FFTs: a product in frequency replaces the sliding window.

REFERENCE.md section 5: convolution in space is a product in frequency, and the
kernel needs transforming only once. For real signals ``u`` and ``v`` of length F
(zero-padded), with ``U = rfft(u)`` and ``V = rfft(v)``:

- circular convolution:       ``irfft(U * V)[t]       = sum_a u[a] v[(t - a) mod F]``;
- circular cross-correlation: ``irfft(U * conj(V))[t] = sum_a u[(t + a) mod F] v[a]``.

Choosing F at least as long as the part of the padded input that any window reaches
(``E = (out - 1)*s + KH`` rows, KH the dilated kernel extent) means no index ever
wraps around, so the circular results equal the linear ones. All three passes use
the same F, so one kernel transform ``K = rfft2(w_dilated, (Fh, Fw))`` serves the
forward pass (``conj(K)``, a correlation) and dC/dx (``K``, a convolution):

- forward:  ``Y[n, m] = sum_c X[n, c] * conj(K[m, c])``, then keep every s-th output;
- dC/dx (P3): ``DX[n, c] = sum_m D[n, m] * K[m, c]`` where D is the transform of delta
  with s-1 zeros inserted (a full convolution with w is the full correlation with
  rot180(w));
- dC/dW (P4): ``DW[m, c] = sum_n conj(D[n, m]) * X[n, c]`` (the valid correlation of the
  input with delta), read at the first KH x KW lags, every d-th for dilation d.

Stride is handled as a stride-1 convolution subsampled (forward) or a residual with
zeros inserted (backward); dilation by dilating the kernel; padding by padding the input.

Use a :class:`KernelTransformCache` (``cache=``) to compute K once per weight update
and reuse it across the batch and between the forward and backward passes.
"""

from __future__ import annotations

import numpy as np

from ._common import ConvGeometry, pad_input
from .direct import dilate_kernel, insert_zeros


def fast_length(n: int) -> int:
    """The smallest m >= n whose only prime factors are 2, 3 and 5 (fast FFT lengths)."""
    m = max(int(n), 1)
    while True:
        rest = m
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def reach(g: ConvGeometry) -> tuple[int, int]:
    """Rows and columns of the padded input that some window reaches: (E_h, E_w)."""
    (sh, sw), (dh, dw) = g.stride, g.dilation
    return ((g.out_h - 1) * sh + dh * (g.kh - 1) + 1,
            (g.out_w - 1) * sw + dw * (g.kw - 1) + 1)


def transform_shape(g: ConvGeometry) -> tuple[int, int]:
    """The FFT size (Fh, Fw): at least the reach, so nothing wraps around."""
    E_h, E_w = reach(g)
    return fast_length(E_h), fast_length(E_w)


def kernel_transform(w: np.ndarray, dilation: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """K = rfft2 of the dilated kernels zero-padded to ``shape``: (M, C, Fh, Fw//2 + 1), complex."""
    return np.fft.rfft2(dilate_kernel(w, dilation), s=shape)


class KernelTransformCache:
    """Remembers the last kernel transform and recomputes it only when the kernels change.

    A layer keeps one and passes it as ``fft_cache=`` to the forward and to dC/dx: the
    transform is then computed once per weight update and shared by every example of
    the batch and by both passes. Kernels are compared by value (a copy of the last
    ones is kept, small next to their transform), so an optimiser updating the weight
    in place is noticed. ``computed`` counts the transforms actually computed.
    """

    def __init__(self) -> None:
        self._key = None
        self._w: np.ndarray | None = None
        self._K: np.ndarray | None = None
        self.computed = 0

    def get(self, w: np.ndarray, dilation: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
        key = (w.shape, w.dtype, tuple(dilation), tuple(shape))
        if self._K is None or key != self._key or not np.array_equal(w, self._w):
            self._K = kernel_transform(w, dilation, shape)
            self._w = w.copy()
            self._key = key
            self.computed += 1
        return self._K

    def clear(self) -> None:
        self.__init__()


def _kernel(w, g, shape, cache):
    if cache is None:
        return kernel_transform(w, g.dilation, shape)
    return cache.get(w, g.dilation, shape)


def _sum_over(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``out[a, b] = sum_k A[a, k] * B[k, b]`` at every frequency: (P, Q, ...) x (Q, R, ...) -> (P, R, ...).

    One small matrix product per frequency (the channel sum of a convolution layer).
    """
    out = np.matmul(A.transpose(2, 3, 0, 1), B.transpose(2, 3, 0, 1))
    return out.transpose(2, 3, 0, 1)


def forward(x: np.ndarray, w: np.ndarray, g: ConvGeometry, cache: KernelTransformCache | None = None
            ) -> np.ndarray:
    """Cross-correlation via ``irfft2(X * conj(K))``, summed over channels, every s-th kept.

    Shapes: x (N, C, H, W), w (M, C, kh, kw) -> y (N, M, out_h, out_w).
    """
    (sh, sw) = g.stride
    E_h, E_w = reach(g)
    shape = transform_shape(g)
    x_p = pad_input(x, g.padding)[:, :, :E_h, :E_w]
    X = np.fft.rfft2(x_p, s=shape)  # (N, C, Fh, Fw//2+1)
    K = _kernel(w, g, shape, cache)  # (M, C, Fh, Fw//2+1)
    Y = _sum_over(X, np.conj(K).transpose(1, 0, 2, 3))  # (N, M, ...): sum over c
    y_stride1 = np.fft.irfft2(Y, s=shape)
    y = y_stride1[:, :, :(g.out_h - 1) * sh + 1:sh, :(g.out_w - 1) * sw + 1:sw]
    return np.ascontiguousarray(y, dtype=x.dtype)


def backward_input(delta: np.ndarray, w: np.ndarray, g: ConvGeometry,
                   cache: KernelTransformCache | None = None) -> np.ndarray:
    """P3 in frequency: the full correlation of delta with rot180(w) is the full
    convolution of delta with w, ``irfft2(D * K)``, summed over the output maps m.

    Shapes: delta (N, M, out_h, out_w), w (M, C, kh, kw) -> dC/dx (N, C, H, W).
    """
    top, bottom, left, right = g.padding
    E_h, E_w = reach(g)
    shape = transform_shape(g)
    D = np.fft.rfft2(insert_zeros(delta, g.stride), s=shape)  # (N, M, ...)
    K = _kernel(w, g, shape, cache)  # (M, C, ...)
    dC_dx_reach = np.fft.irfft2(_sum_over(D, K), s=shape)[:, :, :E_h, :E_w]  # sum over m
    dC_dx_p = np.zeros((g.N, g.C, g.H + top + bottom, g.W + left + right), dtype=delta.dtype)
    dC_dx_p[:, :, :E_h, :E_w] = dC_dx_reach
    return np.ascontiguousarray(dC_dx_p[:, :, top:top + g.H, left:left + g.W])


def backward_weight(delta: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """P4 in frequency: the valid correlation of the input with delta, ``irfft2(conj(D) * X)``,
    summed over the batch, read at lags 0, d, 2d, ... of the dilated kernel.

    Shapes: delta (N, M, out_h, out_w), x (N, C, H, W) -> dC/dW (M, C, kh, kw).
    """
    (dh, dw) = g.dilation
    E_h, E_w = reach(g)
    shape = transform_shape(g)
    x_p = pad_input(x, g.padding)[:, :, :E_h, :E_w]
    X = np.fft.rfft2(x_p, s=shape)  # (N, C, ...)
    D = np.fft.rfft2(insert_zeros(delta, g.stride), s=shape)  # (N, M, ...)
    DW = _sum_over(np.conj(D).transpose(1, 0, 2, 3), X)  # (M, C, ...): sum over n
    lags = np.fft.irfft2(DW, s=shape)
    dC_dW = lags[:, :, :dh * (g.kh - 1) + 1:dh, :dw * (g.kw - 1) + 1:dw]
    return np.ascontiguousarray(dC_dW, dtype=delta.dtype)
