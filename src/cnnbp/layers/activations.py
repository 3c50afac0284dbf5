"""Activation layers: element-wise ``a = f(z)`` and its derivative factor ``f'(z)`` of F3/F5."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .base import Layer


class Sigmoid(Layer):
    """``1 / (1 + exp(-z))``; backward multiplies by ``a (1 - a)``."""

    def _forward(self, x):
        self._y = F.sigmoid(x)
        return self._y

    def _backward(self, delta):
        return F.sigmoid_backward(delta, self._y)


class Tanh(Layer):
    """``tanh(z)``; backward multiplies by ``1 - a^2``."""

    def _forward(self, x):
        self._y = F.tanh(x)
        return self._y

    def _backward(self, delta):
        return F.tanh_backward(delta, self._y)


class ScaledTanh(Layer):
    """LeCun 1998's ``1.7159 tanh(2z/3)``: f(1) = 1 and f(-1) = -1, gain largest near 0."""

    def _forward(self, x):
        self._y = F.scaled_tanh(x)
        return self._y

    def _backward(self, delta):
        return F.scaled_tanh_backward(delta, self._y)


class ReLU(Layer):
    """``max(z, 0)``; the residual passes where ``z > 0``."""

    def _forward(self, x):
        self._x = x
        return F.relu(x)

    def _backward(self, delta):
        return F.relu_backward(delta, self._x)


class LeakyReLU(Layer):
    """``z`` for ``z > 0``, else ``negative_slope * z``."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def _forward(self, x):
        self._x = x
        return F.leaky_relu(x, self.negative_slope)

    def _backward(self, delta):
        return F.leaky_relu_backward(delta, self._x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Maxout(Layer):
    """Maximum over groups of ``pieces`` consecutive features (N, F) or channels (N, C, H, W).

    Output has F // pieces features; the residual goes only to the winning piece
    (the first one on ties).
    """

    def __init__(self, pieces: int):
        super().__init__()
        if int(pieces) < 1:
            raise ValueError(f"Maxout needs pieces >= 1, got {pieces}")
        self.pieces = int(pieces)

    def _check_input(self, x):
        if x.ndim not in (2, 4):
            raise ValueError(f"Maxout expected input (N, F) or (N, C, H, W), got shape {x.shape}")

    def _forward(self, x):
        y, self._argmax = F.maxout(x, self.pieces)
        return y

    def _backward(self, delta):
        return F.maxout_backward(delta, self._argmax, self.pieces)

    def extra_repr(self):
        return f"pieces={self.pieces}"


class Softmax(Layer):
    """``exp(z_k) / sum_j exp(z_j)`` over axis 1. For training, prefer
    :class:`cnnbp.losses.SoftmaxCrossEntropy` on logits (fused and stable)."""

    def _forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"Softmax expected input (N, K, ...), got shape {x.shape}")
        self._y = F.softmax(x, axis=1)
        return self._y

    def _backward(self, delta):
        return F.softmax_backward(delta, self._y, axis=1)
