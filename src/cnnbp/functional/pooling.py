"""Pooling and subsampling, forward and backward (REFERENCE.md sections 3, 4 and 6).

Notation (NCHW, as everywhere in cnnbp):

- ``x``: input of shape (N, C, H, W); ``delta = dC/dy``: residual of the output;
- kernel ``(kh, kw)``, stride ``(sh, sw)`` (``None`` = the kernel, as in PyTorch),
  zero padding ``(ph, pw)`` added on *each* side;
- output size, rounded down (PyTorch's ``ceil_mode=False``)::

      H_out = floor((H + 2 ph - kh) / sh) + 1,   W_out = floor((W + 2 pw - kw) / sw) + 1

- windows: ``im2col`` (the one convolution uses) lays the pooling windows out as
  an array ``w`` of shape (N, C, kh, kw, H_out, W_out) with
  ``w[n, c, i, j, p, q] = x_padded[n, c, p*sh + i, q*sw + j]``.
  Every pooling is a reduction of ``w`` over its axes 2 and 3 (one channel at a
  time: pooling never mixes channels).

Two operators of the reference name the backward passes:

- ``down(a)``: the sum of each window (:func:`window_sum`); mean pooling is
  ``down(a) / (kh kw)`` and LeNet's subsampling is ``beta * down(a) + b``.
- ``up(delta)``: its adjoint, :func:`window_sum_backward`: every output's
  residual is sent back to every input position of its window, and residuals
  arriving at the same position (overlapping windows) are summed, exactly as
  F5 says. ``col2im`` does this. For non-overlapping windows that tile the
  input (stride == kernel, no padding) ``up`` is the Kronecker product with a
  ``kh x kw`` block of ones of P2, :func:`upsample_kron`; that form is used in
  that case and the general one everywhere else (tests check they agree).

Backward passes implemented here:

- P2, mean pooling: ``dC/dx = up(delta) / (kh kw)``;
- P2, max pooling: the residual goes only to the position that was sampled
  in the forward pass (the window's maximum);
- P2 and P4, subsampling ``y_c = beta_c down(a_c) + b_c``:
  ``dC/da_c = beta_c up(delta_c)``, ``dC/dbeta_c = sum(delta_c (.) down(a_c))``,
  ``dC/db_c = sum(delta_c)``;
- LP ("square" for p = 2) pooling, ``y = (sum_window x^p)^(1/p)``:
  ``dC/dx_i = x_i^(p-1) up(delta / y^(p-1))_i``, with 0 where a window's norm is 0.

The tie rule of max pooling: when several positions of a window hold the
maximum, the *first* in row-major window order (smallest ``i``, then smallest
``j``) is the one sampled, and only it receives the residual.

Fast path: non-overlapping windows (stride == kernel, no padding), LeNet's
case. Then the windows are *tiles*, and ``x[:, :, :H_out*kh, :W_out*kw]``
reshaped to (N, C, H_out, kh, W_out, kw) is a view of them, with no im2col copy:
``down`` adds the kh*kw strided slices ``tiles[:, :, :, i, :, j]``, ``up`` writes
delta into each of them, and max pooling compares them one after the other
(keeping the first maximum, the tie rule). The general im2col path handles every
other case; the tests check the two agree (``_general=True`` forces it).
"""

from __future__ import annotations

import numpy as np

from . import _fast
from .conv._common import check_float, conv_output_size, pair
from .conv.im2col import col2im, im2col

__all__ = [
    "pool_output_shape", "window_sum", "window_sum_backward", "upsample_kron",
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "lp_pool2d", "lp_pool2d_backward", "subsampling", "subsampling_backward",
]


# -- arguments ---------------------------------------------------------------------
def pool_arguments(kernel_size, stride=None, padding=0):
    """Normalise pooling arguments to (h, w) pairs ``(k, s, p)``; stride None means k.

    Raises ValueError for non-positive sizes and for padding over half the kernel
    (as in PyTorch: with more padding a window could hold padding only).
    """
    k = pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else pair(stride, "stride", 1)
    p = pair(padding, "padding", 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(
            f"padding must be at most half the kernel size, got padding {p} for kernel {k}"
        )
    return k, s, p


def _geometry(x_shape, kernel_size, stride, padding):
    """Check the arguments against an (N, C, H, W) shape; return ``(k, s, p, out_hw)``."""
    if len(x_shape) != 4:
        raise ValueError(f"pooling expected input of shape (N, C, H, W), got shape {tuple(x_shape)}")
    k, s, p = pool_arguments(kernel_size, stride, padding)
    h, w = x_shape[2], x_shape[3]
    if h + 2 * p[0] < k[0] or w + 2 * p[1] < k[1]:
        raise ValueError(
            f"kernel {k} is larger than the padded input ({h + 2 * p[0]}, {w + 2 * p[1]}) "
            f"(input H, W = ({h}, {w}), padding {p})"
        )
    out_hw = (conv_output_size(h, k[0], s[0], p[0]), conv_output_size(w, k[1], s[1], p[1]))
    return k, s, p, out_hw


def pool_output_shape(x_shape, kernel_size, stride=None, padding=0) -> tuple[int, int, int, int]:
    """The output shape (N, C, H_out, W_out) of pooling an input of shape ``x_shape``."""
    _, _, _, (out_h, out_w) = _geometry(tuple(x_shape), kernel_size, stride, padding)
    return (x_shape[0], x_shape[1], out_h, out_w)


def _padding4(p):
    return (p[0], p[0], p[1], p[1])


def _windows(x, k, s, p, pad_value=0.0) -> np.ndarray:
    """(N, C, H, W) -> windows (N, C, kh, kw, H_out, W_out) of the padded input."""
    return im2col(x, k[0], k[1], s, _padding4(p), (1, 1), pad_value=pad_value)


def _unwindows(cols, x_shape, s, p) -> np.ndarray:
    """Adjoint of :func:`_windows`: sum every window entry back into (N, C, H, W)."""
    return col2im(cols, tuple(x_shape), s, _padding4(p), (1, 1))


def _check_delta(delta, expected):
    if delta.shape != tuple(expected):
        raise ValueError(f"expected delta of shape {tuple(expected)}, got {delta.shape}")


def _tiling(k, s, p) -> bool:
    """Non-overlapping windows without padding: the fast path applies."""
    return s == k and p == (0, 0)


def _tiles(a: np.ndarray, k, out_hw) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H_out, kh, W_out, kw): tiles[n, c, p, i, q, j] = a[n, c, p*kh + i, q*kw + j].

    A view when kh divides H and kw divides W (rows and columns past the last whole
    tile are in no window and are left out).
    """
    (kh, kw), (oh, ow) = k, out_hw
    N, C = a.shape[:2]
    return a[:, :, :oh * kh, :ow * kw].reshape(N, C, oh, kh, ow, kw)


def _tile_sum(x: np.ndarray, k, out_hw) -> np.ndarray:
    """``down(x)`` for tiles: the sum of the kh*kw strided slices, (N, C, H_out, W_out)."""
    t = _tiles(x, k, out_hw)
    out = t[:, :, :, 0, :, 0].copy()
    for i in range(k[0]):
        for j in range(k[1]):
            if i or j:
                out += t[:, :, :, i, :, j]
    return out


def _tile_spread(values: np.ndarray, x_shape, k) -> np.ndarray:
    """``up`` for tiles: every tile of an (N, C, H, W) array filled with its value; 0 elsewhere."""
    (kh, kw), (oh, ow) = k, values.shape[2:]
    # (A compiled version was measured no faster: writing the new array is the cost.)
    whole = x_shape[2] == oh * kh and x_shape[3] == ow * kw
    out = (np.empty if whole else np.zeros)(tuple(x_shape), dtype=values.dtype)
    _tiles(out, k, (oh, ow))[...] = values[:, :, :, None, :, None]
    return out

# -- down() and up() ----------------------------------------------------------------
def window_sum(x: np.ndarray, kernel_size, stride=None, padding=0, *, _general=False) -> np.ndarray:
    """``down(x)``: the sum of every pooling window (zero padding counts as 0).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).
    """
    x = check_float(x, "x")
    k, s, p, out_hw = _geometry(x.shape, kernel_size, stride, padding)
    if _tiling(k, s, p) and not _general:
        return _tile_sum(x, k, out_hw)
    return _windows(x, k, s, p).sum(axis=(2, 3))


def upsample_kron(delta: np.ndarray, kernel_size) -> np.ndarray:
    """P2's ``up(delta)`` for non-overlapping windows: ``delta (x) ones(kh, kw)``.

    The Kronecker product repeats each residual over a ``kh x kw`` block:
    (N, C, h, w) -> (N, C, h*kh, w*kw).

    Example:
        >>> upsample_kron(np.array([[[[1., 2.]]]]), 2)[0, 0]
        array([[1., 1., 2., 2.],
               [1., 1., 2., 2.]])
    """
    kh, kw = pair(kernel_size, "kernel_size", 1)
    return np.kron(delta, np.ones((1, 1, kh, kw), dtype=delta.dtype))


def window_sum_backward(delta: np.ndarray, x_shape, kernel_size, stride=None,
                        padding=0, *, _general=False) -> np.ndarray:
    """``up(delta)``: the adjoint of :func:`window_sum`, i.e. its gradient.

    Each ``delta[n, c, p, q]`` goes back to every input position of window
    ``(p, q)``; residuals arriving at the same position are summed; those that
    land on padding are dropped; rows and columns no window covers get 0.
    When stride == kernel and padding == 0 this is :func:`upsample_kron` (P2),
    computed by writing delta into the tiles (the module's fast path).

    Shape: delta (N, C, H_out, W_out) -> (N, C, H, W) with ``x_shape = (N, C, H, W)``.
    """
    k, s, p, out_hw = _geometry(tuple(x_shape), kernel_size, stride, padding)
    _check_delta(delta, (*x_shape[:2], *out_hw))
    if _tiling(k, s, p) and not _general:
        return _tile_spread(delta, tuple(x_shape), k)
    if _tiling(k, s, p):
        # Non-overlapping windows: the Kronecker form of the reference. When kh
        # does not divide H (or kw, W) the last rows (columns) are in no window.
        up = np.zeros(tuple(x_shape), dtype=delta.dtype)
        up[:, :, :out_hw[0] * k[0], :out_hw[1] * k[1]] = upsample_kron(delta, k)
        return up
    cols = np.broadcast_to(delta[:, :, None, None], (*delta.shape[:2], *k, *out_hw))
    return _unwindows(cols, x_shape, s, p)


# -- max pooling ------------------------------------------------------------------
def max_pool2d(x: np.ndarray, kernel_size, stride=None, padding=0, return_argmax: bool = False,
               *, _general=False):
    """Max pooling: the maximum of every window. Padding is ``-inf``, so it never wins.

    Args:
        x: (N, C, H, W), float32 or float64.
        kernel_size, stride, padding: int or (h, w); ``stride=None`` means the
            kernel size; padding at most half the kernel.
        return_argmax: also return which window position was sampled.

    Returns:
        ``y`` (N, C, H_out, W_out), or ``(y, argmax)`` where ``argmax`` (int,
        same shape) is the row-major position ``i * kw + j`` inside the window;
        on ties the first such position (see the module docstring).
    """
    x = check_float(x, "x")
    k, s, p, out_hw = _geometry(x.shape, kernel_size, stride, padding)
    if _tiling(k, s, p) and not _general:
        y, argmax = _tile_max(x, k, out_hw)
        return (y, argmax) if return_argmax else y
    win = _windows(x, k, s, p, pad_value=-np.inf)
    win = win.reshape(x.shape[0], x.shape[1], k[0] * k[1], *out_hw)
    argmax = win.argmax(axis=2)                       # the first maximum: the tie rule
    y = np.take_along_axis(win, argmax[:, :, None], axis=2)[:, :, 0]
    return (y, argmax) if return_argmax else y


@_fast.jit(parallel=True, fastmath=False)
def _tile_max_kernel(x, kh, kw, y, argmax):
    """Compiled max pooling over tiles, one pass: the same comparisons as :func:`_tile_max`."""
    N, C, OH, OW = y.shape
    for n in _fast.prange(N):
        for c in range(C):
            for p in range(OH):
                for q in range(OW):
                    best = x[n, c, p * kh, q * kw]
                    idx = 0
                    for i in range(kh):
                        for j in range(kw):
                            v = x[n, c, p * kh + i, q * kw + j]
                            # strictly larger (ties keep the first), or the first NaN
                            if v > best or (v != v and best == best):
                                best = v
                                idx = i * kw + j
                    y[n, c, p, q] = best
                    argmax[n, c, p, q] = idx


@_fast.jit(parallel=True)
def _tile_max_backward_kernel(delta, argmax, kh, kw, dx):
    """dx (zeroed) gets each residual at the position its tile sampled."""
    N, C, OH, OW = delta.shape
    for n in _fast.prange(N):
        for c in range(C):
            for p in range(OH):
                for q in range(OW):
                    a = argmax[n, c, p, q]
                    dx[n, c, p * kh + a // kw, q * kw + a % kw] = delta[n, c, p, q]


def _tile_max(x: np.ndarray, k, out_hw):
    """Max pooling over tiles: compare the kh*kw slices in window order.

    A later position replaces the running maximum only when strictly larger, so
    ties keep the first maximum (the tie rule). NaN behaves as in ``np.argmax``
    (the general path): the first NaN of a window wins and is kept. With numba,
    one compiled pass does the same comparisons.

    Returns ``(y, argmax)``, both (N, C, H_out, W_out); argmax is ``i*kw + j``.
    """
    if _fast.available():
        y = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
        argmax = np.empty(y.shape, dtype=np.intp)
        _tile_max_kernel(np.ascontiguousarray(x), k[0], k[1], y, argmax)
        return y, argmax
    t = _tiles(x, k, out_hw)
    y = t[:, :, :, 0, :, 0].copy()
    argmax = np.zeros(y.shape, dtype=np.intp)
    has_nan = bool(np.isnan(x).any())
    seen_nan = np.isnan(y) if has_nan else None
    for i in range(k[0]):
        for j in range(k[1]):
            if i == 0 and j == 0:
                continue
            cand = t[:, :, :, i, :, j]
            better = cand > y
            if has_nan:
                cand_nan = np.isnan(cand)
                better = (better | cand_nan) & ~seen_nan
                seen_nan |= cand_nan
            np.copyto(y, cand, where=better)
            np.copyto(argmax, i * k[1] + j, where=better)
    return y, argmax


def max_pool2d_backward(delta: np.ndarray, argmax: np.ndarray, x_shape, kernel_size,
                        stride=None, padding=0, *, _general=False) -> np.ndarray:
    """P2 for max pooling: each residual goes only to the position sampled in forward.

    Positions that were never a window's maximum get 0; a position that was the
    maximum of several overlapping windows gets the sum of their residuals.

    Shape: delta and argmax (N, C, H_out, W_out) -> dC/dx (N, C, H, W).
    """
    k, s, p, out_hw = _geometry(tuple(x_shape), kernel_size, stride, padding)
    _check_delta(delta, (*x_shape[:2], *out_hw))
    if argmax.shape != delta.shape:
        raise ValueError(f"expected argmax of shape {delta.shape}, got {argmax.shape}")
    if _tiling(k, s, p) and not _general:
        # Tiles do not overlap: slice (i, j) of each tile gets delta where it was the maximum.
        dx = np.zeros(tuple(x_shape), dtype=delta.dtype)
        if _fast.available():
            _tile_max_backward_kernel(np.ascontiguousarray(delta), np.ascontiguousarray(argmax),
                                      k[0], k[1], dx)
            return dx
        t = _tiles(dx, k, out_hw)
        for i in range(k[0]):
            for j in range(k[1]):
                np.copyto(t[:, :, :, i, :, j], delta, where=argmax == i * k[1] + j)
        return dx
    cols = np.zeros((*delta.shape[:2], k[0] * k[1], *out_hw), dtype=delta.dtype)
    np.put_along_axis(cols, argmax[:, :, None], delta[:, :, None], axis=2)
    return _unwindows(cols.reshape(*delta.shape[:2], *k, *out_hw), x_shape, s, p)


# -- mean pooling -------------------------------------------------------------------
def avg_pool2d(x: np.ndarray, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Mean pooling: ``down(x) / (kh kw)``.

    Padded zeros count in the mean (PyTorch's default ``count_include_pad=True``):
    every window is divided by ``kh kw``, also at the border.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).
    """
    k = pair(kernel_size, "kernel_size", 1)
    y = window_sum(x, k, stride, padding)  # a new array: divide it in place
    y /= y.dtype.type(k[0] * k[1])
    return y


def avg_pool2d_backward(delta: np.ndarray, x_shape, kernel_size, stride=None,
                        padding=0) -> np.ndarray:
    """P2 for mean pooling: ``dC/dx = up(delta) / (kh kw)``.

    With stride == kernel and no padding, ``up`` is the Kronecker product with
    a block of ones (:func:`upsample_kron`), as written in the reference.

    Shape: delta (N, C, H_out, W_out) -> dC/dx (N, C, H, W).
    """
    k = pair(kernel_size, "kernel_size", 1)
    kk = delta.dtype.type(k[0] * k[1])
    s, p = (k if stride is None else pair(stride, "stride", 1)), pair(padding, "padding", 0)
    if _tiling(k, s, p):
        # Tiles: each input gets one residual, so divide the (kh*kw times smaller) delta first.
        return window_sum_backward(delta / kk, x_shape, k, stride, padding)
    dx = window_sum_backward(delta, x_shape, k, stride, padding)  # a new array
    dx /= kk
    return dx


# -- LP (square) pooling --------------------------------------------------------------
def _check_norm_type(norm_type) -> float:
    p = float(norm_type)
    if not np.isfinite(p) or p < 1:
        raise ValueError(
            f"norm_type must be a finite number >= 1 (use max pooling for p = inf), got {norm_type!r}"
        )
    return p


def _needs_nonnegative(p: float) -> bool:
    """x^p and (sum x^p)^(1/p) are real for any x only when p is 1 or an even integer."""
    return not (p == 1 or (p.is_integer() and int(p) % 2 == 0))


def lp_pool2d(x: np.ndarray, norm_type, kernel_size, stride=None) -> np.ndarray:
    """LP pooling, ``y = (sum_window x^p)^(1/p)``, as PyTorch's ``lp_pool2d`` (no padding).

    ``p = 2`` is the square (L2) pooling of the reference: the Euclidean norm of
    each window. ``p = 1`` is sum pooling. For any ``p`` other than 1 or an even
    integer the input must be non-negative (e.g. after a ReLU), since ``x^p`` or
    its ``1/p``-th root would not be real (PyTorch gives NaN there; this raises).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out) with ``padding = 0``.
    """
    x = check_float(x, "x")
    p = _check_norm_type(norm_type)
    if _needs_nonnegative(p) and x.size and x.min() < 0:
        raise ValueError(
            f"lp_pool2d with norm_type={norm_type} needs a non-negative input "
            f"(found minimum {x.min()}); use norm_type 1 or an even integer for signed inputs"
        )
    t = x.dtype.type
    return window_sum(x ** t(p), kernel_size, stride, 0) ** t(1.0 / p)


def lp_pool2d_backward(delta: np.ndarray, x: np.ndarray, y: np.ndarray, norm_type,
                       kernel_size, stride=None) -> np.ndarray:
    """Gradient of LP pooling: ``dC/dx_i = x_i^(p-1) * up(delta / y^(p-1))_i``.

    From ``dy/dx_i = (1/p) s^(1/p - 1) p x_i^(p-1) = x_i^(p-1) / y^(p-1)`` with
    ``s = sum x^p``; for p = 2, ``dC/dx = x * up(delta / y)``. Where a window's
    norm ``y`` is 0 (for p > 1) the derivative does not exist; its residual is
    dropped (gradient 0), so the result stays finite.

    Args:
        delta: (N, C, H_out, W_out); x: the forward input (N, C, H, W); y: the
            forward output.
    """
    p = _check_norm_type(norm_type)
    k, s, _, out_hw = _geometry(x.shape, kernel_size, stride, 0)
    _check_delta(delta, (*x.shape[:2], *out_hw))
    t = x.dtype.type
    if p == 1:
        g = delta                                      # y = sum(x): dy/dx_i = 1
    else:
        g = np.zeros_like(delta)
        np.divide(delta, y ** t(p - 1), out=g, where=y > 0)
    return x ** t(p - 1) * window_sum_backward(g, x.shape, k, s, 0)


# -- LeNet subsampling ---------------------------------------------------------------
def subsampling(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, kernel_size=2,
                stride=None, padding=0) -> np.ndarray:
    """LeNet-5's S2/S4: ``y_c = beta_c * down(x_c) + b_c`` (one weight and bias per map).

    ``down`` is the window sum (:func:`window_sum`); the squashing function that
    LeCun 1998 applies after it is a separate activation layer in cnnbp.

    Shape: x (N, C, H, W), weight (C,), bias (C,) -> (N, C, H_out, W_out).
    """
    down = window_sum(x, kernel_size, stride, padding)    # also checks x is (N, C, H, W)
    _check_channel_params(x.shape, weight, bias)
    return weight[:, None, None] * down + bias[:, None, None]


def subsampling_backward(delta: np.ndarray, x_shape, down_x: np.ndarray, weight: np.ndarray,
                         kernel_size=2, stride=None, padding=0):
    """Gradients of :func:`subsampling`; returns ``(dC/dx, dC/dweight, dC/dbias)``.

    - P2: ``dC/da_c = beta_c * up(delta_c)`` (the activation factor ``f'`` of
      P2 is applied by the activation layer before this one);
    - P4: ``dC/dbeta_c = sum(delta_c (.) down(a_c))``, summed over the batch and
      the map; ``down_x`` is ``window_sum(x)`` kept from the forward pass;
    - P4: ``dC/db_c = sum(delta_c)``.

    Shape: delta and down_x (N, C, H_out, W_out); weight (C,) -> dC/dx (N, C, H, W),
    dC/dweight (C,), dC/dbias (C,).
    """
    if down_x.shape != delta.shape:
        raise ValueError(f"expected down_x of shape {delta.shape}, got {down_x.shape}")
    dC_dx = weight[:, None, None] * window_sum_backward(delta, x_shape, kernel_size, stride, padding)
    dC_dweight = np.sum(delta * down_x, axis=(0, 2, 3))
    dC_dbias = np.sum(delta, axis=(0, 2, 3))
    return dC_dx, dC_dweight, dC_dbias


def _check_channel_params(x_shape, weight, bias):
    c = x_shape[1]
    for name, v in (("weight", weight), ("bias", bias)):
        if v.shape != (c,):
            raise ValueError(
                f"subsampling expected {name} of shape ({c},) (one per input map), got {v.shape}"
            )
