"""2-D convolution: the forward pass and the residuals of REFERENCE.md sections 2, 5 and 6.

**Convolution here is cross-correlation**, as in every CNN library and in the
reference's worked example: the kernel is *not* flipped,

    y[n, m, oh, ow] = b[m] + sum_{c, i, j} x_p[n, c, oh*sh + i*dh, ow*sw + j*dw] * w[m, c, i, j]

where x_p is the input padded with zeros. (The mathematical convolution
``s(t) = sum_a x(a) w(t - a)`` would flip w; the flip reappears in the backward pass
as the 180-degree rotation of P3.)

Notation and shapes (cs231n style):

- x: input, (N, C, H, W); w: kernels, (M, C, kh, kw), ``w[m, c]`` maps input map c to
  output map m; b: bias, (M,); y and delta = dC/dy: (N, M, H_out, W_out);
- stride ``(sh, sw)``, dilation ``(dh, dw)``: int or pair;
- padding: int, (ph, pw), (top, bottom, left, right), "valid", "same" (stride 1; for an
  even kernel the extra row/column goes to the bottom/right, as in PyTorch) or "full"
  (``d*(k-1)`` per side), see :func:`resolve_padding`;
- ``H_out = floor((H + top + bottom - dh*(kh-1) - 1) / sh) + 1`` (likewise W_out),
  :func:`conv_output_size`;
- connections: None (every input map feeds every output map) or a bool array
  (C, M); ``connections[c, m]`` says whether input map c feeds output map m (LeNet-5's
  C3 table, LeCun et al. 1998, Table I). An unconnected kernel ``w[m, c]`` is treated
  as exactly zero whatever it holds, and its gradient is exactly zero.

Algorithms (``algorithm=``), each a module with ``forward``, ``backward_input`` and
``backward_weight`` of the same signature, all giving the same numbers:

- ``"direct"``: the plain loops of REFERENCE.md section 5 (:mod:`.direct`), the reference;
- ``"im2col"``: unrolled windows and one GEMM, Chellapilla et al. 2006 (:mod:`.im2col`);
- ``"fft"``: real FFTs, kernel transformed once (:mod:`.fft`);
- ``"compiled"``: the direct loops compiled with numba, stride 1 and no dilation only
  (:mod:`.compiled`; needs the optional numba, ``pip install "cnnbp[fast]"``);
- ``"auto"``: :func:`choose_algorithm`.

dtype: each function computes in the dtype of its first array argument (x for
:func:`conv2d`, delta for the backward functions); float32 stays float32 and
float64 stays float64. Non-float arrays raise TypeError.
"""

from __future__ import annotations

import numpy as np

from .. import _fast
from . import compiled as _compiled
from . import direct as _direct
from . import fft as _fft
from . import im2col as _im2col
from ._common import (
    ConvGeometry,
    check_connections,
    check_float,
    conv_output_size,
    geometry,
    mask_kernels,
    pair,
    resolve_padding,
)
from .fft import KernelTransformCache

ALGORITHMS = ("direct", "im2col", "fft", "compiled", "auto")

#: "auto" uses the FFT when the dilated kernel is at least this large in both directions ...
FFT_MIN_KERNEL = 7
#: ... and the padded input has at least this many rows and columns.
FFT_MIN_INPUT = 16
#: With numba, "auto" uses the compiled loops for stride-1 undilated kernels up to this size ...
COMPILED_MAX_KERNEL = 9
#: ... when each output map has at least this many positions (their inner loop runs over them).
COMPILED_MIN_OUTPUT = 64


def choose_algorithm(g: ConvGeometry, compiled: bool = False) -> str:
    """The rule of ``algorithm="auto"``: compiled loops, else FFT for large kernels, else im2col.

    With ``compiled=True`` (what "auto" passes when numba is installed and switched on):
    "compiled" for stride 1, dilation 1, kernels up to ``COMPILED_MAX_KERNEL`` (9) and
    output maps of at least ``COMPILED_MIN_OUTPUT`` (64) positions. Otherwise, and
    always without numba, the NumPy rule: "fft" when ``min(KH, KW) >= FFT_MIN_KERNEL``
    (7; KH = dh*(kh-1)+1 is the dilated kernel extent), ``min(H_p, W_p) >= FFT_MIN_INPUT``
    (16; the padded input) and the stride is 1 (a strided FFT convolution computes every
    output and throws most away); else "im2col", whose cost grows with kh*kw while the
    FFT's grows only with the image. "direct" is never chosen: it is the reference.

    Measured by ``benchmarks/conv_algorithms.py`` (float32, batch 4, 4 -> 8 maps, one
    thread, forward + dC/dx + dC/dW, 2-core AMD EPYC shared with other jobs):

    - FFT against im2col: with 3x3 and 5x5 kernels the FFT never wins up to 128x128
      (5x5 on 128x128: 23 ms against 16 ms); from 7x7 it wins from 28x28 on (7x7 on
      64x64: 5.6 against 7.7 ms; 11x11 on 64x64: 9.5 against 24.5 ms);
    - FFT against the compiled loops: the compiled loops win for every kernel up to 9x9
      (9x9 on 128x128: 26 against 38 ms); with 11x11 the two are within 10-20% of each
      other from 48x48 on and either wins from run to run (11x11 on 128x128: 39 against
      41 ms in one run, 48 against 36 in another), so 11x11 and larger go to the FFT;
    - small outputs: LeNet-5's C5 (16 -> 120 maps, 5x5 input, a 1x1 output) at batch 128
      takes 70 ms compiled and 1.8 ms with im2col (one GEMM), hence the 64-position floor;
      C1 (1 -> 6, 28x28 padded by 2) takes 4.6 ms compiled against 17.6 ms with im2col,
      C3 (6 -> 16, 14x14) 13.4 against 16.0 ms.
    """
    if (compiled and _compiled.supports(g) and max(g.kh, g.kw) <= COMPILED_MAX_KERNEL
            and g.out_h * g.out_w >= COMPILED_MIN_OUTPUT):
        return "compiled"
    top, bottom, left, right = g.padding
    KH = g.dilation[0] * (g.kh - 1) + 1
    KW = g.dilation[1] * (g.kw - 1) + 1
    large_kernel = min(KH, KW) >= FFT_MIN_KERNEL
    large_input = min(g.H + top + bottom, g.W + left + right) >= FFT_MIN_INPUT
    if large_kernel and large_input and g.stride == (1, 1):
        return "fft"
    return "im2col"


def resolve_algorithm(algorithm: str, g: ConvGeometry) -> str:
    """The algorithm that runs: ``algorithm`` itself, or for "auto" :func:`choose_algorithm`'s
    pick (the compiled loops are considered when numba is installed and switched on)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm == "auto":
        return choose_algorithm(g, compiled=_fast.available())
    return algorithm


def _module(algorithm: str, g: ConvGeometry):
    return {"direct": _direct, "im2col": _im2col, "fft": _fft,
            "compiled": _compiled}[resolve_algorithm(algorithm, g)]


def _live(connections, g: ConvGeometry):
    """The compiled loops skip unconnected kernels: (M, C) bool."""
    return _compiled.live_kernels(g, check_connections(connections, g.C, g.M))


def _algorithm_options(impl, g: ConvGeometry, connections, fft_cache) -> dict:
    """The keyword that forward/backward_input of ``impl`` take beyond (a, w, g): the
    FFT's kernel-transform cache, or the compiled loops' connected kernels."""
    if impl is _fft:
        return {"cache": fft_cache}
    if impl is _compiled:
        return {"live": _live(connections, g)}
    return {}


def _prepare_kernels(w, dtype, g: ConvGeometry, connections) -> np.ndarray:
    table = check_connections(connections, g.C, g.M)
    return mask_kernels(np.asarray(w).astype(dtype, copy=False), table)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, algorithm: str = "direct",
           connections=None, *, fft_cache: KernelTransformCache | None = None) -> np.ndarray:
    """Forward pass of a convolution layer (a cross-correlation, see the module docstring).

    Args:
        x: input, (N, C, H, W), float.
        w: kernels, (M, C, kh, kw).
        b: bias, (M,), or None.
        stride, dilation: int or (h, w).
        padding: int, (ph, pw), (top, bottom, left, right), "valid", "same" or "full".
        algorithm: "direct", "im2col", "fft" or "auto".
        connections: None or bool (C, M); unconnected kernels count as zero.
        fft_cache: a :class:`KernelTransformCache` to reuse the kernel transform ("fft").

    Returns:
        y, (N, M, H_out, W_out), dtype of x.

    Example:
        >>> x = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3],
        ...               [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]], dtype=float)[None, None]
        >>> w = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)[None, None]
        >>> conv2d(x, w)[0, 0]
        array([[12., 12., 17.],
               [10., 17., 19.],
               [ 9.,  6., 14.]])
    """
    x = check_float(x, "x")
    w = check_float(w, "w")
    g = geometry(x.shape, w.shape, stride, padding, dilation)
    impl = _module(algorithm, g)
    w = _prepare_kernels(w, x.dtype, g, connections)
    y = impl.forward(x, w, g, **_algorithm_options(impl, g, connections, fft_cache))
    if b is not None:
        b = check_float(b, "b")
        if b.shape != (g.M,):
            raise ValueError(f"conv2d expected a bias of shape ({g.M},), got {b.shape}")
        y = y + b.astype(x.dtype, copy=False)[None, :, None, None]
    return y.astype(x.dtype, copy=False)


def _check_delta(delta, g: ConvGeometry) -> np.ndarray:
    delta = check_float(delta, "delta")
    if delta.shape != g.y_shape:
        raise ValueError(
            f"delta must have the shape of the convolution's output {g.y_shape} "
            f"(N, M, H_out, W_out), got {delta.shape}"
        )
    return delta


def conv2d_backward_input(delta, w, x_shape, stride=1, padding=0, dilation=1,
                          algorithm: str = "direct", connections=None, *,
                          fft_cache: KernelTransformCache | None = None) -> np.ndarray:
    """dC/dx of a convolution (REFERENCE.md P3).

    P3: ``delta^(l) = f'(z^(l)) (.) conv(delta^(l+1), rot180(w), 'full')``, summed over
    every output map the input map feeds. This returns the convolution part, dC/da^(l);
    the factor f'(z) belongs to the activation layer. Stride s: zeros are inserted into
    delta; padding: the rows and columns that were padding are dropped.

    Args:
        delta: dC/dy, (N, M, H_out, W_out).
        w: kernels, (M, C, kh, kw).
        x_shape: (N, C, H, W), the shape of the forward input.
        stride, padding, dilation, algorithm, connections, fft_cache: as in :func:`conv2d`.

    Returns:
        dC/dx, (N, C, H, W), dtype of delta.
    """
    w = check_float(w, "w")
    g = geometry(x_shape, w.shape, stride, padding, dilation)
    delta = _check_delta(delta, g)
    impl = _module(algorithm, g)
    w = _prepare_kernels(w, delta.dtype, g, connections)
    dC_dx = impl.backward_input(delta, w, g, **_algorithm_options(impl, g, connections, fft_cache))
    return dC_dx.astype(delta.dtype, copy=False)


def conv2d_backward_weight(delta, x, w_shape, stride=1, padding=0, dilation=1,
                           algorithm: str = "direct", connections=None) -> np.ndarray:
    """dC/dW of a convolution (REFERENCE.md P4), summed over the batch.

    P4: ``dC/dw_ij = conv(a_i^(l-1), delta_j, 'valid')``: the valid correlation of input
    map i with the residual of output map j (here ``w[m, c]``: m = j, c = i). Entries
    of unconnected kernels are exactly zero.

    Args:
        delta: dC/dy, (N, M, H_out, W_out).
        x: the forward input, (N, C, H, W).
        w_shape: (M, C, kh, kw).
        stride, padding, dilation, algorithm, connections: as in :func:`conv2d`.

    Returns:
        dC/dW, (M, C, kh, kw), dtype of delta.
    """
    x = check_float(x, "x")
    g = geometry(x.shape, w_shape, stride, padding, dilation)
    delta = _check_delta(delta, g)
    impl = _module(algorithm, g)
    dC_dW = impl.backward_weight(delta, x.astype(delta.dtype, copy=False), g)
    table = check_connections(connections, g.C, g.M)
    dC_dW = mask_kernels(dC_dW, table)
    return dC_dW.astype(delta.dtype, copy=False)


def conv2d_backward_bias(delta) -> np.ndarray:
    """dC/db (P4): the sum of delta over the batch and every position, (N, M, H_out, W_out) -> (M,)."""
    delta = check_float(delta, "delta")
    if delta.ndim != 4:
        raise ValueError(f"delta must be 4-D (N, M, H_out, W_out), got shape {delta.shape}")
    # Sum each map's positions (contiguous), then the batch: faster than axis=(0, 2, 3).
    return delta.reshape(delta.shape[0], delta.shape[1], -1).sum(axis=2).sum(axis=0)


def conv2d_backward(delta, x, w, bias: bool = True, stride=1, padding=0, dilation=1,
                    algorithm: str = "direct", connections=None, *,
                    fft_cache: KernelTransformCache | None = None):
    """All three gradients at once: ``(dC/dx (N, C, H, W), dC/dW (M, C, kh, kw), dC/db (M,) or None)``."""
    x = check_float(x, "x")
    w = check_float(w, "w")
    kw = dict(stride=stride, padding=padding, dilation=dilation, algorithm=algorithm,
              connections=connections)
    dC_dx = conv2d_backward_input(delta, w, x.shape, fft_cache=fft_cache, **kw)
    dC_dW = conv2d_backward_weight(delta, x, w.shape, **kw)
    dC_db = conv2d_backward_bias(delta) if bias else None
    return dC_dx, dC_dW, dC_db


__all__ = [
    "conv2d", "conv2d_backward", "conv2d_backward_input", "conv2d_backward_weight",
    "conv2d_backward_bias", "conv_output_size", "choose_algorithm", "resolve_padding", "pair",
    "KernelTransformCache", "ConvGeometry", "ALGORITHMS", "resolve_algorithm",
]
