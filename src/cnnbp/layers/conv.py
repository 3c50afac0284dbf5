"""2-D convolution layer, with an optional connection table (LeNet-5's C3)."""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..functional.conv import (
    ALGORITHMS,
    KernelTransformCache,
    conv2d,
    conv2d_backward_bias,
    conv2d_backward_input,
    conv2d_backward_weight,
    resolve_algorithm,
)
from ..functional.conv import compiled as _compiled
from ..functional.conv import im2col as _im2col
from ..functional.conv._common import (
    check_connections,
    geometry,
    mask_kernels,
    pair,
    resolve_padding,
)
from ..parameter import Parameter
from .base import Layer


class Conv2d(Layer):
    r"""2-D convolution over NCHW input: M kernels, each summing over its input maps.

    Like every CNN library, "convolution" means **cross-correlation** (no kernel flip):

        z[n, m, oh, ow] = b[m] + sum_{c, i, j} x_p[n, c, oh*sh + i*dh, ow*sw + j*dw] * w[m, c, i, j]

    with x_p the zero-padded input and the sum over c restricted to the input maps
    connected to output map m. Backward implements REFERENCE.md section 6:

    - P3: ``dC/dx = conv(delta, rot180(w), 'full')`` summed over the output maps each
      input map feeds (zeros inserted into delta for stride > 1); the ``f'(z)`` factor
      of P3 is applied by the activation layer below;
    - P4: ``dC/dw[m, c] = conv(x[c], delta[m], 'valid')`` summed over the batch, and
      ``dC/db[m] = sum(delta[m])``; both are *added* into ``.grad``.

    Args:
        in_channels, out_channels: C and M.
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (ph, pw), (top, bottom, left, right), "valid" (= 0), "same" (stride 1;
            for an even kernel the extra row/column is at the bottom/right, as in
            PyTorch) or "full" (``dilation*(k-1)`` per side).
        bias: learn one bias per output map.
        connections: None (every input map feeds every output map) or a bool array of
            shape (in_channels, out_channels), ``connections[c, m]`` = "input map c feeds
            output map m" (LeNet-5's C3: LeCun et al. 1998, Table I). The weight stays a
            full (out, in, kh, kw) array; an unconnected kernel has no effect on the
            output whatever its values, its gradient is zero, and it is not counted by
            :meth:`num_parameters`.
        algorithm: "direct" (the reference loops), "im2col", "fft" or "auto"
            (:func:`cnnbp.functional.conv.choose_algorithm`, decided per input shape).
        init: initialiser name (:mod:`cnnbp.init`) or callable; default He uniform
            (variance 2/fan_in, suited to ReLU; pass "lecun_uniform" or "lecun1998" for
            tanh networks such as the classic LeNet-5). fan_in = connected inputs x kh x kw,
            counted per output map when there is a connection table; fan_out = M x kh x kw
            (scaled by the fraction of connected kernels with a table).
        rng: ``np.random.Generator`` or int seed for the initial weights.
        dtype: parameter dtype (float32; float64 for gradient checks).

    Shape:
        - input (N, C, H, W) -> output (N, M, H_out, W_out), where
          ``H_out = floor((H + pad_top + pad_bottom - dilation[0]*(kernel_size[0]-1) - 1) / stride[0]) + 1``
          (likewise W_out);
        - weight (M, C, kh, kw); bias (M,).

    Example:
        >>> import numpy as np
        >>> from cnnbp.layers import Conv2d
        >>> c1 = Conv2d(1, 6, 5, rng=0)                      # LeNet-5's C1
        >>> c1(np.zeros((2, 1, 32, 32), np.float32)).shape
        (2, 6, 28, 28)
        >>> c1.num_parameters(), c1.num_connections((1, 32, 32), (6, 28, 28))
        (156, 122304)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, connections=None, algorithm: str = "auto",
                 init="he_uniform", rng=None, dtype=np.float32):
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"Conv2d needs positive channel counts, got in_channels={in_channels}, "
                f"out_channels={out_channels}"
            )
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        resolve_padding(padding, self.kernel_size, self.stride, self.dilation)  # fail early
        self.padding = padding
        self.algorithm = algorithm
        self.connections = check_connections(connections, self.in_channels, self.out_channels)

        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        rng = initializers.as_rng(rng)
        draw = initializers.get(init)
        if self.connections is None:
            w = draw(shape, self.in_channels * kh * kw, self.out_channels * kh * kw, rng, dtype)
        else:
            # Each output map has its own fan-in: the inputs it is connected to.
            fan_out = self.connections.sum() / self.in_channels * kh * kw
            w = np.zeros(shape, dtype=dtype)
            for m in range(self.out_channels):
                inputs = np.flatnonzero(self.connections[:, m])
                if inputs.size:
                    w[m, inputs] = draw((inputs.size, kh, kw), inputs.size * kh * kw, fan_out, rng, dtype)
        self._params["weight"] = Parameter(np.asarray(w, dtype=dtype))
        if bias:
            self._params["bias"] = Parameter(np.zeros(self.out_channels, dtype=dtype))
        self._x: np.ndarray | None = None
        self._algorithm_used: str | None = None
        self._fft_cache = KernelTransformCache()
        self._geometry_cache: tuple = (None, None)
        # Internal work arrays (columns, padded input, laid-out delta), reused while the shapes repeat
        # (never an array this layer returns).
        self._scratch: dict[str, np.ndarray] = {}
        # (M, C) bool, the kernels the compiled loops compute
        self._live = _compiled.live_kernels(
            geometry((1, self.in_channels, kh, kw), shape, 1, 0, 1), self.connections)

    @property
    def weight(self) -> Parameter:
        return self._params["weight"]

    @property
    def bias(self) -> Parameter | None:
        return self._params.get("bias")

    def _options(self, algorithm: str) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    algorithm=algorithm, connections=self.connections)

    def _geometry(self, x_shape):
        """The checked :class:`ConvGeometry` for this input shape (kept while the shape repeats)."""
        shape, g = self._geometry_cache
        if shape != x_shape:
            g = geometry(x_shape, self.weight.shape, self.stride, self.padding, self.dilation)
            self._geometry_cache = (x_shape, g)
        return g

    def _check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d expected input of shape (N, {self.in_channels}, H, W), got {x.shape}"
            )
        self._geometry(x.shape)

    def _forward(self, x):
        self._x = x
        g = self._geometry(x.shape)
        self._algorithm_used = resolve_algorithm(self.algorithm, g)
        w = self._param_dtype(x, "weight")
        b = self._param_dtype(x, "bias") if self.bias is not None else None
        self._saved = None
        if self._algorithm_used == "compiled":
            # The padded, row-flattened input is kept for dC/dW; unconnected kernels are skipped.
            self._saved = _compiled.flat_input(x, g, reuse=self._scratch.get("xf"))
            self._scratch["xf"] = self._saved
            return _compiled.forward_flat(self._saved, w, b, g, self._live)
        if self._algorithm_used == "im2col":
            # The columns are kept: dC/dW (P4) is a product with the same columns.
            self._saved = self._scratch["cols"] = _im2col.columns(x, g, reuse=self._scratch.get("cols"))
            y = _im2col.forward_columns(self._saved, mask_kernels(w, self.connections), g)
            if b is not None:
                y += b[None, :, None, None]
            return y
        # With "fft" the kernel transform is computed here once for the whole batch and
        # reused by backward (the cache recomputes it only when the weight changes).
        return conv2d(x, w, b, fft_cache=self._fft_cache, **self._options(self._algorithm_used))

    def _backward(self, delta):
        x = self._x
        g = self._geometry(x.shape)
        w = self._param_dtype(x, "weight")
        if self._algorithm_used == "compiled":
            delta = np.ascontiguousarray(delta, dtype=x.dtype)
            # laid out once for P3 and P4, in a buffer kept from step to step
            ef = self._scratch["ef"] = _compiled.spread_delta(delta, g, reuse=self._scratch.get("ef"))
            dC_dx = _compiled.backward_input(delta, w, g, self._live, ef)  # P3
            self.weight.grad += _compiled.backward_weight_flat(delta, self._saved, g, self._live, ef)  # P4
        elif self._algorithm_used == "im2col":
            delta = delta.astype(x.dtype, copy=False)
            dC_dx = _im2col.backward_input(delta, mask_kernels(w, self.connections), g)  # P3
            dC_dW = _im2col.backward_weight_columns(delta, self._saved, g)  # P4
            self.weight.grad += mask_kernels(dC_dW, self.connections)
        else:
            options = self._options(self._algorithm_used)
            dC_dx = conv2d_backward_input(delta, w, x.shape, fft_cache=self._fft_cache, **options)  # P3
            self.weight.grad += conv2d_backward_weight(delta, x, w.shape, **options)  # P4
        if self.bias is not None:
            self.bias.grad += conv2d_backward_bias(delta)  # P4, bias
        return dC_dx

    # -- counts ---------------------------------------------------------------------
    def _inputs_per_map(self) -> np.ndarray:
        """(M,) number of input maps connected to each output map."""
        if self.connections is None:
            return np.full(self.out_channels, self.in_channels)
        return self.connections.sum(axis=0)

    def num_parameters(self) -> int:
        """Connected kernels x kh x kw, plus one bias per output map."""
        kh, kw = self.kernel_size
        n = int(self._inputs_per_map().sum()) * kh * kw
        return n + (self.out_channels if self.bias is not None else 0)

    def num_connections(self, input_shape, output_shape) -> int:
        """Multiply-adds per example, bias included (LeCun 1998's count):
        ``sum over output maps m of (kh*kw*inputs(m) + 1) * H_out * W_out``."""
        kh, kw = self.kernel_size
        out_h, out_w = output_shape[-2:]
        per_map = kh * kw * self._inputs_per_map() + (1 if self.bias is not None else 0)
        return int(per_map.sum()) * int(out_h) * int(out_w)

    def extra_repr(self) -> str:
        kh, kw = self.kernel_size
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size=({kh}, {kw})"]
        if self.stride != (1, 1):
            parts.append(f"stride={self.stride}")
        if self.padding not in (0, "valid"):
            parts.append(f"padding={self.padding!r}")
        if self.dilation != (1, 1):
            parts.append(f"dilation={self.dilation}")
        if self.bias is None:
            parts.append("bias=False")
        if self.connections is not None:
            parts.append(f"connections={int(self.connections.sum())}/{self.connections.size}")
        if self.algorithm != "auto":
            parts.append(f"algorithm={self.algorithm!r}")
        return ", ".join(parts)
