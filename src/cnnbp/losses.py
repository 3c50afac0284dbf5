"""Cost functions, averaged over the batch (REFERENCE.md section 1).

``value = loss.forward(output, target)`` returns the cost C as a Python float;
``delta = loss.backward()`` returns ``dC/d(output)``, the residual that starts
backpropagation. Combined with the output activation's ``f'(z)`` this is F3
(quadratic) or F4 (cross-entropy).
"""

from __future__ import annotations

import numpy as np

from .functional.activations import log_softmax
from .layers.base import as_float_array


class Loss:
    """Base class: checks shapes and keeps what ``backward`` needs."""

    def __init__(self) -> None:
        self._cache = None

    def __call__(self, output, target) -> float:
        return self.forward(output, target)

    def forward(self, output, target) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        return self._backward()

    def _backward(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _same_shape_target(output, target, name):
        output = as_float_array(output, "output")
        target = np.asarray(target)
        if target.shape != output.shape:
            raise ValueError(
                f"{name} expected a target of the output's shape {output.shape}, got {target.shape}"
            )
        if output.ndim < 1 or output.shape[0] == 0:
            raise ValueError(f"{name} expected a non-empty batch, got output shape {output.shape}")
        return output, target.astype(output.dtype, copy=False)


class Quadratic(Loss):
    """``C = 1/(2n) sum_x ||y(x) - a(x)||^2``; ``dC/da = (a - y) / n``.

    With an output activation f, the residual is F3: ``delta^(L) = (a - y) f'(z)``
    (divided by n for the batch mean). When f saturates, f'(z) -> 0 and almost
    nothing flows back: the reason to prefer cross-entropy (F4).
    """

    def forward(self, output, target) -> float:
        a, y = self._same_shape_target(output, target, "Quadratic")
        diff = a - y
        self._cache = (diff, a.shape[0])
        return float(0.5 * np.sum(diff * diff) / a.shape[0])

    def _backward(self):
        diff, n = self._cache
        return diff / n


class CrossEntropy(Loss):
    """Binary cross-entropy on probabilities ``a`` in (0, 1):
    ``C = -1/n sum_x [y ln a + (1 - y) ln(1 - a)]``.

    ``dC/da = (a - y) / (a (1 - a)) / n``; after a sigmoid output (whose derivative is
    ``a (1 - a)``) the residual is F4: ``delta^(L) = (a - y) / n``, which does not
    vanish when the unit saturates. As in PyTorch's ``BCELoss``, each log is
    clamped at -100 and the derivative's denominator at 1e-12, so a = 0 or 1 stays finite.
    """

    def forward(self, output, target) -> float:
        a, y = self._same_shape_target(output, target, "CrossEntropy")
        if np.any((a < 0) | (a > 1)) or np.any(np.isnan(a)):
            raise ValueError("CrossEntropy expects probabilities in [0, 1]; apply a Sigmoid first")
        with np.errstate(divide="ignore"):
            log_a = np.maximum(np.log(a), -100)
            log_1ma = np.maximum(np.log1p(-a), -100)
        self._cache = (a, y)
        return float(-np.sum(y * log_a + (1 - y) * log_1ma) / a.shape[0])

    def _backward(self):
        a, y = self._cache
        return (a - y) / np.maximum(a * (1 - a), 1e-12) / a.shape[0]


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, fused, on logits ``z`` (N, K).

    ``C = -1/n sum_x sum_k y_k log softmax(z)_k``, computed with log-sum-exp so any
    finite logits are safe. Targets are integer labels (N,) or one-hot / probability
    rows (N, K). The residual is ``delta^(L) = (softmax(z) - y) / n``: the softmax
    counterpart of F4.
    """

    def forward(self, output, target) -> float:
        z = as_float_array(output, "output")
        if z.ndim != 2 or z.shape[0] == 0:
            raise ValueError(f"SoftmaxCrossEntropy expected logits of shape (N, K), got {z.shape}")
        n, k = z.shape
        target = np.asarray(target)
        if target.ndim == 1:
            if target.shape[0] != n:
                raise ValueError(f"SoftmaxCrossEntropy expected {n} labels, got {target.shape[0]}")
            if not np.issubdtype(target.dtype, np.integer):
                raise TypeError(f"integer labels expected, got dtype {target.dtype}")
            if target.min() < 0 or target.max() >= k:
                raise ValueError(
                    f"labels must lie in [0, {k - 1}], got values from {target.min()} to {target.max()}"
                )
            y = np.zeros_like(z)
            y[np.arange(n), target] = 1
        elif target.shape == z.shape:
            y = target.astype(z.dtype, copy=False)
        else:
            raise ValueError(
                f"SoftmaxCrossEntropy expected labels of shape ({n},) or one-hot targets "
                f"of shape {z.shape}, got {target.shape}"
            )
        logp = log_softmax(z, axis=1)
        self._cache = (np.exp(logp), y)
        return float(-np.sum(y * logp) / n)

    def _backward(self):
        p, y = self._cache
        return (p - y) / p.shape[0]


LOSSES = {"quadratic": Quadratic, "cross_entropy": CrossEntropy,
          "softmax_cross_entropy": SoftmaxCrossEntropy}
