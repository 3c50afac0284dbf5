"""Euclidean radial-basis-function output units (LeCun et al. 1998, section II.B)."""

from __future__ import annotations

import numpy as np

from ..parameter import Parameter
from .base import Layer


class EuclideanRBF(Layer):
    r"""LeNet-5's output layer: unit i measures the squared distance of its input to a
    prototype ``w_i`` and returns it negated, as a logit:

    ``z_i = -y_i = -sum_j (x_j - w_ij)^2``.

    With :class:`~cnnbp.losses.SoftmaxCrossEntropy` on ``z`` the cost is
    ``y_correct + log(sum_i exp(-y_i))``, the paper's MAP criterion (without its
    constant ``exp(-j)`` term). Backward: ``dz_i/dx_j = -2 (x_j - w_ij)``, so
    ``dC/dx = -2 (x sum_i delta_i - delta W)``; with ``trainable=True`` also
    ``dC/dw_ij = 2 sum_n delta_ni (x_nj - w_ij)``.

    Args:
        prototypes: (units, features) array of prototype codes (fixed in the paper).
        trainable: make the prototypes a trainable parameter named "weight".

    Shape:
        input (N, features) -> output (N, units).
    """

    def __init__(self, prototypes, trainable: bool = False):
        super().__init__()
        prototypes = np.array(prototypes)
        if prototypes.ndim != 2 or not np.issubdtype(prototypes.dtype, np.floating):
            raise ValueError(
                f"prototypes must be a floating (units, features) array, got shape "
                f"{prototypes.shape} and dtype {prototypes.dtype}"
            )
        self.trainable = bool(trainable)
        if self.trainable:
            self._params["weight"] = Parameter(prototypes)
        self.prototypes = self._params["weight"].data if self.trainable else prototypes

    def _check_input(self, x):
        if x.ndim != 2 or x.shape[1] != self.prototypes.shape[1]:
            raise ValueError(
                f"EuclideanRBF expected input of shape (N, {self.prototypes.shape[1]}), got {x.shape}"
            )

    def _forward(self, x):
        w = self.prototypes.astype(x.dtype, copy=False)
        self._x = x
        diff = x[:, None, :] - w[None, :, :]  # (N, units, features)
        return -np.einsum("nuf,nuf->nu", diff, diff)

    def _backward(self, delta):
        x = self._x
        w = self.prototypes.astype(x.dtype, copy=False)
        dC_dx = -2 * (x * delta.sum(axis=1, keepdims=True) - delta @ w)
        if self.trainable:
            self._params["weight"].grad += 2 * (delta.T @ x - delta.sum(axis=0)[:, None] * w)
        return dC_dx

    def num_connections(self, input_shape, output_shape):
        return int(np.prod(self.prototypes.shape))

    def extra_repr(self):
        units, features = self.prototypes.shape
        return f"{features} -> {units}, trainable={self.trainable}"
