"""Pooling (down-sampling) layers: max, mean and LP ("square") pooling (REFERENCE.md section 3).

Pooling has no parameters; it shrinks each map on its own (channels never mix),
which cuts the parameters of the layers after it and makes the network less
sensitive to small shifts. The maths and the backward passes (P2) are in
:mod:`cnnbp.functional.pooling`.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..functional.pooling import pool_arguments
from .base import Layer


class _Pool2d(Layer):
    """Shared arguments, checks and counts of the pooling layers."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = pool_arguments(kernel_size, stride, padding)
        self._x_shape: tuple[int, ...] | None = None

    def _check_input(self, x):
        if x.ndim != 4:
            raise ValueError(
                f"{type(self).__name__} expected input of shape (N, C, H, W), got {x.shape}"
            )
        F.pool_output_shape(x.shape, self.kernel_size, self.stride, self.padding)

    def num_connections(self, input_shape, output_shape):
        """``kh * kw`` inputs read per output value (no weights, no bias)."""
        kh, kw = self.kernel_size
        return kh * kw * int(np.prod(output_shape))

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    r"""Max pooling: each output is the maximum of its window.

    Backward (P2 for max pooling): the residual goes only to the position that
    was sampled in the forward pass; every other position of the window gets 0.
    Ties go to the *first* maximal position in row-major window order. The
    padding is ``-inf``, so it is never sampled.

    Args:
        kernel_size: window size, int or (kh, kw).
        stride: step between windows, int or (sh, sw); ``None`` = kernel_size.
            A stride smaller than the kernel gives overlapping windows.
        padding: implicit ``-inf`` border on each side, int or (ph, pw), at most
            half the kernel.

    Shape:
        input (N, C, H, W) -> output (N, C, H_out, W_out) with
        ``H_out = floor((H + 2 ph - kh) / sh) + 1`` (likewise W_out).

    Example:
        >>> import numpy as np
        >>> pool = MaxPool2d(2)
        >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """

    def _forward(self, x):
        self._x_shape = x.shape
        y, self._argmax = F.max_pool2d(x, self.kernel_size, self.stride, self.padding,
                                       return_argmax=True)
        return y

    def _backward(self, delta):
        return F.max_pool2d_backward(delta, self._argmax, self._x_shape, self.kernel_size,
                                     self.stride, self.padding)


class AvgPool2d(_Pool2d):
    r"""Mean pooling: each output is the mean of its window.

    Backward (P2): ``dC/dx = up(delta) / (kh kw)``, where ``up`` sends each
    residual back to every position of its window and sums where windows
    overlap; for stride == kernel it is the Kronecker product with a block of
    ones of the reference. Padded zeros count in the mean (PyTorch's default
    ``count_include_pad=True``): every window is divided by ``kh kw``.

    Args:
        kernel_size: window size, int or (kh, kw).
        stride: int or (sh, sw); ``None`` = kernel_size.
        padding: zero border on each side, int or (ph, pw), at most half the kernel.

    Shape:
        input (N, C, H, W) -> output (N, C, H_out, W_out) with
        ``H_out = floor((H + 2 ph - kh) / sh) + 1`` (likewise W_out).

    Example:
        >>> import numpy as np
        >>> AvgPool2d(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """

    def _forward(self, x):
        self._x_shape = x.shape
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def _backward(self, delta):
        return F.avg_pool2d_backward(delta, self._x_shape, self.kernel_size, self.stride,
                                     self.padding)


class LPPool2d(_Pool2d):
    r"""LP pooling ``y = (sum_window x^p)^(1/p)``, as PyTorch's ``LPPool2d`` (no padding).

    ``norm_type=2`` is the square (L2) pooling of the reference: the Euclidean
    norm of each window. Backward: ``dC/dx_i = x_i^(p-1) up(delta / y^(p-1))_i``
    (for p = 2, ``x * up(delta / y)``); where a window's norm is 0 the gradient
    is 0. For p other than 1 or an even integer the input must be non-negative.

    Args:
        norm_type: p, a finite number >= 1.
        kernel_size: window size, int or (kh, kw).
        stride: int or (sh, sw); ``None`` = kernel_size.

    Shape:
        input (N, C, H, W) -> output (N, C, H_out, W_out) with
        ``H_out = floor((H - kh) / sh) + 1`` (likewise W_out).

    Example:
        >>> import numpy as np
        >>> LPPool2d(2, 2).forward(np.full((1, 1, 2, 2), 3.0))[0, 0]
        array([[6.]])
    """

    def __init__(self, norm_type, kernel_size, stride=None):
        super().__init__(kernel_size, stride, 0)
        p = float(norm_type)
        if not np.isfinite(p) or p < 1:
            raise ValueError(
                f"LPPool2d needs a finite norm_type >= 1 (use MaxPool2d for p = inf), got {norm_type!r}"
            )
        self.norm_type = norm_type

    def _forward(self, x):
        self._x = x
        self._y = F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride)
        return self._y

    def _backward(self, delta):
        return F.lp_pool2d_backward(delta, self._x, self._y, self.norm_type, self.kernel_size,
                                    self.stride)

    def extra_repr(self):
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}"
