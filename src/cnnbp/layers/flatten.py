"""Flatten: the reshape between the convolutional and the dense part of a network."""

from __future__ import annotations

from .base import Layer


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W); backward reshapes the residual back."""

    def _forward(self, x):
        if x.ndim < 1:
            raise ValueError("Flatten expected an input with a batch dimension")
        self._in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def _backward(self, delta):
        return delta.reshape(self._in_shape)
