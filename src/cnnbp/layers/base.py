"""The layer contract, and ``Sequential``.

Every layer follows one contract (Caffe's Layer, Torch7's Module):

- ``y = layer.forward(x)`` computes the output and keeps only what backward needs;
- ``dx = layer.backward(delta)`` takes ``delta = dC/dy`` and returns ``dC/dx``
  (Torch7's ``updateGradInput``), and *adds* ``dC/dparam`` into each parameter's
  ``.grad`` (``accGradParameters``);
- ``layer.parameters()`` maps names to :class:`~cnnbp.Parameter` objects.

Subclasses implement ``_forward`` and ``_backward``; the public methods check the
input and the residual, so every layer fails the same clear way.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..parameter import Parameter


def as_float_array(x, name: str = "input") -> np.ndarray:
    """Return ``x`` as a floating NumPy array, or raise a TypeError naming what was found."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64), got dtype {x.dtype}"
        )
    return x


class Layer:
    """Base class of every layer. See the module docstring for the contract."""

    def __init__(self) -> None:
        self.training = True
        self._params: dict[str, Parameter] = {}
        self._out_shape: tuple[int, ...] | None = None

    # -- the contract -------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x)
        self._check_input(x)
        y = self._forward(x)
        self._out_shape = y.shape
        return y

    def backward(self, delta: np.ndarray) -> np.ndarray:
        if self._out_shape is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): "
                "run forward on a batch first"
            )
        delta = as_float_array(delta, "delta")
        if delta.shape != self._out_shape:
            raise ValueError(
                f"{type(self).__name__}.backward() expected delta of shape "
                f"{self._out_shape} (the shape of the last output), got {delta.shape}"
            )
        return self._backward(delta)

    __call__ = forward

    def _forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _backward(self, delta: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_input(self, x: np.ndarray) -> None:
        """Raise ValueError when ``x`` has the wrong shape for this layer (override)."""

    # -- parameters -------------------------------------------------------------------
    def parameters(self) -> dict[str, Parameter]:
        """Map parameter names ("weight", "bias", ...) to :class:`Parameter` objects."""
        return dict(self._params)

    def zero_grad(self) -> None:
        for p in self.parameters().values():
            p.zero_grad()

    def num_parameters(self) -> int:
        """The number of trainable values (layers with masks count only the live ones)."""
        return sum(p.size for p in self.parameters().values())

    def num_connections(self, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
        """Multiply-adds (bias included) per example, as in LeCun 1998's table.

        ``input_shape`` and ``output_shape`` exclude the batch dimension. Layers
        without weights (activations, reshapes) have none.
        """
        return 0

    # -- modes ----------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Layer":
        self.training = mode
        return self

    def eval(self) -> "Layer":
        return self.train(False)

    def _param_dtype(self, x: np.ndarray, name: str) -> np.ndarray:
        """Parameter ``name`` in the dtype of the input (no copy when they match)."""
        return self._params[name].data.astype(x.dtype, copy=False)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse.

    A failure inside a layer is re-raised with the layer's index and class, e.g.
    ``layer 3 (Conv2d): ...``. Parameters are named ``"<index>.<name>"``.
    """

    def __init__(self, *layers: Layer):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential item {i} must be a Layer, got {type(layer).__name__}")
        self.layers = list(layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def _wrap(self, i: int, layer: Layer, exc: Exception, what: str) -> Exception:
        msg = f"layer {i} ({type(layer).__name__}) {what}: {exc}"
        try:
            new = type(exc)(msg)
        except Exception:  # exception types with unusual constructors
            new = RuntimeError(msg)
        return new

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x)
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except (ValueError, TypeError, RuntimeError, FloatingPointError) as exc:
                raise self._wrap(i, layer, exc, "forward") from exc
        self._out_shape = x.shape
        return x

    __call__ = forward

    def backward(self, delta: np.ndarray) -> np.ndarray:
        if self._out_shape is None:
            raise RuntimeError("Sequential.backward() called before forward()")
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            try:
                delta = layer.backward(delta)
            except (ValueError, TypeError, RuntimeError, FloatingPointError) as exc:
                raise self._wrap(i, layer, exc, "backward") from exc
        return delta

    def parameters(self) -> dict[str, Parameter]:
        params: dict[str, Parameter] = {}
        for i, layer in enumerate(self.layers):
            for name, p in layer.parameters().items():
                params[f"{i}.{name}"] = p
        return params

    def num_parameters(self) -> int:
        return sum(layer.num_parameters() for layer in self.layers)

    def train(self, mode: bool = True) -> "Sequential":
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def summary_rows(self, input_shape: tuple[int, ...]) -> list[dict]:
        """One row per layer: name, output shape, parameters and connections.

        ``input_shape`` excludes the batch dimension. Shapes are found by running
        a batch of one zero example forward (in evaluation mode, then restored).
        """
        mode = self.training
        self.eval()
        rows = []
        try:
            x = np.zeros((1, *input_shape), dtype=np.float64)
            for i, layer in enumerate(self.layers):
                in_shape = x.shape[1:]
                x = layer.forward(x)
                rows.append({
                    "index": i,
                    "layer": type(layer).__name__,
                    "name": getattr(layer, "name", None) or type(layer).__name__,
                    "description": repr(layer),
                    "output_shape": list(x.shape[1:]),
                    "parameters": layer.num_parameters(),
                    "connections": layer.num_connections(in_shape, x.shape[1:]),
                })
        finally:
            self.train(mode)
        return rows

    def summary(self, input_shape: tuple[int, ...] | None = None) -> str:
        """A table of every layer's output shape, parameters and connections, with totals."""
        if input_shape is None:
            input_shape = getattr(self, "input_shape", None)
            if input_shape is None:
                raise ValueError("summary() needs input_shape (without the batch dimension)")
        rows = self.summary_rows(tuple(input_shape))
        head = f"{'#':>3}  {'layer':<12} {'output shape':<16} {'parameters':>11} {'connections':>12}"
        lines = [f"input shape {tuple(input_shape)}", head, "-" * len(head)]
        for r in rows:
            shape = "x".join(str(s) for s in r["output_shape"])
            lines.append(
                f"{r['index']:>3}  {r['name']:<12} {shape:<16} {r['parameters']:>11,} {r['connections']:>12,}"
            )
        lines.append("-" * len(head))
        total_p = sum(r["parameters"] for r in rows)
        total_c = sum(r["connections"] for r in rows)
        lines.append(f"{'':>3}  {'total':<12} {'':<16} {total_p:>11,} {total_c:>12,}")
        return "\n".join(lines)

    def extra_repr(self) -> str:
        return ", ".join(repr(layer) for layer in self.layers)
