"""LeNet-5's trainable subsampling layers S2 and S4 (REFERENCE.md section 4)."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import init as initializers
from ..functional.pooling import pool_arguments
from ..parameter import Parameter
from .base import Layer


class Subsampling(Layer):
    r"""LeNet subsampling: ``y_c = weight_c * sum(window of x_c) + bias_c``.

    Each map ``c`` has one trainable coefficient (LeCun 1998's beta) and one
    bias; the window sum ``down(x)`` runs over non-overlapping ``k x k``
    windows by default. LeCun et al. 1998 apply a sigmoidal squashing function
    after it; in cnnbp that is the next layer (e.g. ``ScaledTanh``).

    Backward, as in the reference (``up`` sends each residual to every position
    of its window; for non-overlapping windows it is the Kronecker product with
    a block of ones):

    - P2: ``dC/dx_c = weight_c * up(delta_c)`` (the activation factor of P2 is
      applied by the activation layer before this one);
    - P4: ``dC/dweight_c = sum(delta_c (.) down(x_c))``, ``dC/dbias_c = sum(delta_c)``,
      summed over the batch and the map.

    Args:
        channels: number of maps C (6 for S2, 16 for S4).
        kernel_size: window size, int or (kh, kw); 2 in LeNet-5.
        dtype: parameter dtype (float32; float64 for gradient checks).
        stride: int or (sh, sw); ``None`` = kernel_size, as in LeNet.
        padding: zero border on each side, int or (ph, pw), at most half the kernel.
        init: the initial weights: ``"lecun1998"`` (default; the paper's
            uniform ``(-2.4/F, 2.4/F)`` with fan-in ``F = kh*kw``, i.e. +-0.6 for
            2x2), ``"average"`` (every weight ``1/(kh*kw)``: the layer starts as
            mean pooling), a number (every weight that value), or any
            initialiser of :mod:`cnnbp.init` (name or callable). Biases start at 0.
        rng: ``np.random.Generator`` or int seed for random initialisers.

    Shape:
        input (N, C, H, W) -> output (N, C, H_out, W_out) with
        ``H_out = floor((H + 2 ph - kh) / sh) + 1`` (likewise W_out);
        weight (C,), bias (C,).

    Counts (REFERENCE.md section 4): parameters ``2 C`` (S2: 12, S4: 32);
    connections ``(kh kw + 1) C H_out W_out`` (S2: 5,880, S4: 2,000).

    Example:
        >>> import numpy as np
        >>> s2 = Subsampling(6, init="average")
        >>> s2.forward(np.ones((1, 6, 28, 28), dtype=np.float32)).shape
        (1, 6, 14, 14)
        >>> s2.num_parameters(), s2.num_connections((6, 28, 28), (6, 14, 14))
        (12, 5880)
    """

    def __init__(self, channels: int, kernel_size=2, dtype=np.float32, *, stride=None,
                 padding=0, init="lecun1998", rng=None):
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
            raise ValueError(f"Subsampling needs a positive number of channels, got {channels!r}")
        self.channels = int(channels)
        self.kernel_size, self.stride, self.padding = pool_arguments(kernel_size, stride, padding)
        self._params["weight"] = Parameter(self._initial_weight(init, rng, dtype))
        self._params["bias"] = Parameter(np.zeros(self.channels, dtype=dtype))
        self._x_shape: tuple[int, ...] | None = None

    def _initial_weight(self, init, rng, dtype) -> np.ndarray:
        c = self.channels
        fan_in = self.kernel_size[0] * self.kernel_size[1]
        if isinstance(init, str) and init == "average":
            return np.full(c, 1.0 / fan_in, dtype=dtype)
        if isinstance(init, (int, float, np.number)) and not isinstance(init, bool):
            return np.full(c, init, dtype=dtype)
        # One coefficient per map, fed by fan_in inputs, feeding fan_in outputs.
        w = initializers.get(init)((c,), fan_in, fan_in, initializers.as_rng(rng), dtype)
        return np.asarray(w, dtype=dtype)

    @property
    def weight(self) -> Parameter:
        return self._params["weight"]

    @property
    def bias(self) -> Parameter:
        return self._params["bias"]

    def _check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"Subsampling expected input of shape (N, {self.channels}, H, W), got {x.shape}"
            )
        F.pool_output_shape(x.shape, self.kernel_size, self.stride, self.padding)

    def _forward(self, x):
        self._x_shape = x.shape
        # down(x) is kept: P4's weight gradient needs it.
        self._down = F.window_sum(x, self.kernel_size, self.stride, self.padding)
        w = self._param_dtype(x, "weight")
        b = self._param_dtype(x, "bias")
        return w[:, None, None] * self._down + b[:, None, None]

    def _backward(self, delta):
        dC_dx, dC_dweight, dC_dbias = F.subsampling_backward(
            delta, self._x_shape, self._down, self.weight.data.astype(delta.dtype, copy=False),
            self.kernel_size, self.stride, self.padding,
        )
        self.weight.grad += dC_dweight
        self.bias.grad += dC_dbias
        return dC_dx

    def num_connections(self, input_shape, output_shape):
        """``(kh kw + 1)`` multiply-adds (window and bias) per output value."""
        kh, kw = self.kernel_size
        return (kh * kw + 1) * int(np.prod(output_shape))

    def extra_repr(self):
        return f"{self.channels}, kernel_size={self.kernel_size}, stride={self.stride}"
