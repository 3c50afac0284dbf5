"""Activation functions and their derivatives (REFERENCE.md section 1).

Each ``*_backward(delta, ...)`` returns ``delta * f'(z)``: the factor ``f'(Z^(l))``
of F3 and F5. Backward functions take whatever forward values make the
derivative cheapest (usually the output ``y``). All are finite, without
overflow warnings, for |x| up to 1e4 in float32 and float64.
"""

from __future__ import annotations

import numpy as np

from . import _fast

SCALED_TANH_A = 1.7159
SCALED_TANH_S = 2.0 / 3.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, evaluated through ``exp(-|x|)`` so it never overflows
    and keeps full relative precision for large negative ``x``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_backward(delta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``delta * y * (1 - y)`` where ``y = sigmoid(x)``."""
    return delta * y * (1 - y)


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


@_fast.jit
def _tanh_backward_kernel(delta, y, out):
    """out = delta * (1 - y*y), one pass over flat arrays (NumPy's expression makes three)."""
    for k in range(out.size):
        out[k] = delta[k] * (1 - y[k] * y[k])


#: Arrays at least this large take the compiled single pass (when numba is there).
_FUSED_MIN_SIZE = 4096


def tanh_backward(delta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``delta * (1 - y^2)`` where ``y = tanh(x)``.

    With numba, large same-dtype contiguous arrays take one compiled pass instead of
    NumPy's three (and two temporaries); tests check both give the same numbers.
    """
    if (_fast.available() and delta.size >= _FUSED_MIN_SIZE and delta.shape == y.shape
            and delta.dtype == y.dtype and delta.flags.c_contiguous and y.flags.c_contiguous):
        out = np.empty_like(delta)
        _tanh_backward_kernel(delta.reshape(-1), y.reshape(-1), out.reshape(-1))
        return out
    return delta * (1 - y * y)


def scaled_tanh(x: np.ndarray) -> np.ndarray:
    """LeCun 1998's squashing function ``1.7159 * tanh(2x/3)``."""
    a = x.dtype.type(SCALED_TANH_A)
    s = x.dtype.type(SCALED_TANH_S)
    return a * np.tanh(s * x)


def scaled_tanh_backward(delta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``delta * A * S * (1 - tanh^2)`` with ``tanh = y / A``."""
    a = y.dtype.type(SCALED_TANH_A)
    s = y.dtype.type(SCALED_TANH_S)
    t = y / a
    return delta * (a * s) * (1 - t * t)


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` element-wise (``np.maximum``, not ``np.max``)."""
    return np.maximum(x, 0)


def relu_backward(delta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``delta`` where ``x > 0``, else 0 (the derivative at 0 is taken as 0)."""
    return delta * (x > 0)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_backward(delta: np.ndarray, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """``delta`` where ``x > 0``, else ``negative_slope * delta`` (as PyTorch)."""
    return np.where(x > 0, delta, delta * delta.dtype.type(negative_slope))


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum so it never overflows."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(delta: np.ndarray, y: np.ndarray, axis: int = 1) -> np.ndarray:
    """Jacobian-vector product of softmax: ``y * (delta - sum(delta * y))``."""
    return y * (delta - np.sum(delta * y, axis=axis, keepdims=True))


def log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """``x - logsumexp(x)`` along ``axis``, stable for any finite ``x``."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _maxout_view(x: np.ndarray, pieces: int) -> np.ndarray:
    """View (N, F, ...) as (N, F // pieces, pieces, ...)."""
    n, f = x.shape[:2]
    if f % pieces:
        raise ValueError(
            f"maxout with {pieces} pieces needs the feature/channel count to be a multiple "
            f"of {pieces}, got {f}"
        )
    return x.reshape(n, f // pieces, pieces, *x.shape[2:])


def maxout(x: np.ndarray, pieces: int) -> tuple[np.ndarray, np.ndarray]:
    """Maximum over groups of ``pieces`` consecutive features (axis 1).

    Returns ``(y, argmax)``; ``argmax`` (which piece won, first on ties) is what
    :func:`maxout_backward` needs.
    """
    g = _maxout_view(x, pieces)
    idx = g.argmax(axis=2)
    y = np.take_along_axis(g, idx[:, :, None], axis=2)[:, :, 0]
    return y, idx


def maxout_backward(delta: np.ndarray, argmax: np.ndarray, pieces: int) -> np.ndarray:
    """The residual goes only to the piece that won in the forward pass."""
    n, g = delta.shape[:2]
    dx = np.zeros((n, g, pieces, *delta.shape[2:]), dtype=delta.dtype)
    np.put_along_axis(dx, argmax[:, :, None], delta[:, :, None], axis=2)
    return dx.reshape(n, g * pieces, *delta.shape[2:])
