"""Fully connected layer."""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..functional.dense import dense_backward, dense_forward
from ..parameter import Parameter
from .base import Layer


class Dense(Layer):
    r"""Fully connected layer: ``z = x W^T + b`` (REFERENCE.md section 1).

    Backward implements the residual recurrences of the reference:

    - F1: ``dC/dw_ij = delta_i a_j`` (weight gradient = residual times incoming activation);
    - F2: ``dC/db_i = delta_i``;
    - F5: ``dC/da^(l-1) = W^T delta``; the factor ``f'(z^(l-1))`` of F5 is applied by
      the activation layer before this one, so a Dense + activation pair computes F5 in full.

    Args:
        in_features, out_features: sizes of the input and output.
        bias: learn an additive bias.
        init: initialiser name (see :mod:`cnnbp.init`) or callable; default Glorot uniform.
        rng: ``np.random.Generator`` (or int seed) for the initial weights.
        dtype: parameter dtype (float32; float64 for gradient checks).

    Shape:
        input (N, in_features) -> output (N, out_features); weight (out, in); bias (out,).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init="glorot_uniform", rng=None, dtype=np.float32):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"Dense needs positive sizes, got in_features={in_features}, out_features={out_features}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        rng = initializers.as_rng(rng)
        w = initializers.get(init)((out_features, in_features), in_features, out_features, rng, dtype)
        self._params["weight"] = Parameter(np.asarray(w, dtype=dtype))
        if bias:
            self._params["bias"] = Parameter(np.zeros(out_features, dtype=dtype))
        self._x: np.ndarray | None = None

    @property
    def weight(self) -> Parameter:
        return self._params["weight"]

    @property
    def bias(self) -> Parameter | None:
        return self._params.get("bias")

    def _check_input(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Dense expected input of shape (N, {self.in_features}), got {x.shape}"
            )

    def _forward(self, x):
        self._x = x
        b = self._param_dtype(x, "bias") if self.bias is not None else None
        return dense_forward(x, self._param_dtype(x, "weight"), b)

    def _backward(self, delta):
        x = self._x
        dC_dx, dC_dW, dC_db = dense_backward(
            delta, x, self._param_dtype(x, "weight"), bias=self.bias is not None
        )
        self.weight.grad += dC_dW
        if self.bias is not None:
            self.bias.grad += dC_db
        return dC_dx

    def num_connections(self, input_shape, output_shape):
        return (self.in_features + (self.bias is not None)) * self.out_features

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"
