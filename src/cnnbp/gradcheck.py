"""Numerical gradient checking: central differences in float64 against the analytic backward.

The scalar checked is ``L = sum(y * delta)`` for a random upstream residual
``delta``, so ``dL/dy = delta`` and the analytic ``backward(delta)`` must equal the
numerical derivative of L. Each element ``t`` of the input and of every parameter
is moved by ``+eps`` and ``-eps``; the numerical derivative is
``sum((y(t + eps) - y(t - eps)) * delta) / (2 eps)`` (differences taken before the
sum, so unaffected outputs cancel exactly).

Error measure, per element: ``|a - n| / max(|a|, |n|, floor)`` with
``floor = 1e-3 * max|n|`` over the tensor (and at least 1e-12), so entries that are
tiny next to the rest of the tensor are judged against its scale rather than
against rounding noise.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


class GradcheckResult(dict):
    """``{"input": err, "<param>": err, ...}``: the worst relative error per tensor.

    Attributes:
        where: name -> index (tuple) of the worst element;
        analytic, numerical: name -> the two values at that element.
    """

    def __init__(self):
        super().__init__()
        self.where: dict[str, tuple[int, ...]] = {}
        self.analytic: dict[str, float] = {}
        self.numerical: dict[str, float] = {}

    @property
    def worst(self) -> float:
        return max(self.values()) if self else 0.0

    def passed(self, tol: float = 1e-6) -> bool:
        return self.worst < tol

    def report(self) -> str:
        lines = []
        for name, err in self.items():
            lines.append(
                f"{name:<12} worst relative error {err:.2e} at {self.where[name]} "
                f"(analytic {self.analytic[name]:+.6e}, numerical {self.numerical[name]:+.6e})"
            )
        return "\n".join(lines)


def _record(result, name, analytic, numerical):
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise ValueError(
            f"analytic gradient of {name} has shape {analytic.shape}, expected {numerical.shape}"
        )
    if analytic.size == 0:
        result[name] = 0.0
        result.where[name] = ()
        result.analytic[name] = result.numerical[name] = 0.0
        return
    floor = max(1e-3 * float(np.max(np.abs(numerical))), 1e-12)
    denom = np.maximum(np.maximum(np.abs(analytic), np.abs(numerical)), floor)
    err = np.abs(analytic - numerical) / denom
    err = np.where(np.isnan(err), np.inf, err)
    idx = np.unravel_index(int(np.argmax(err)), err.shape)
    result[name] = float(err[idx])
    result.where[name] = tuple(int(i) for i in idx)
    result.analytic[name] = float(analytic[idx])
    result.numerical[name] = float(numerical[idx])


def _numerical(f: Callable[[], np.ndarray], t: np.ndarray, delta: np.ndarray, eps: float):
    """d sum(f() * delta) / dt by central differences, perturbing ``t`` in place."""
    grad = np.zeros_like(t, dtype=np.float64)
    flat_t = t.reshape(-1)
    flat_g = grad.reshape(-1)
    for i in range(flat_t.size):
        orig = flat_t[i]
        flat_t[i] = orig + eps
        y_plus = np.array(f(), dtype=np.float64)
        flat_t[i] = orig - eps
        y_minus = np.array(f(), dtype=np.float64)
        flat_t[i] = orig
        flat_g[i] = np.sum((y_plus - y_minus) * delta) / (2 * eps)
    return grad


def gradcheck(layer_or_fn, x, *, target=None, backward=None, delta=None, eps: float = 1e-6,
              rng=None, check_params: bool = True) -> GradcheckResult:
    """Compare the analytic backward of a layer, loss or function with central differences.

    Args:
        layer_or_fn: a layer (``forward``/``backward``/``parameters``); a loss
            (``forward(output, target)``/``backward()``, pass ``target=``); or a
            function ``fn(x) -> y`` together with ``backward=fn_backward(delta) -> dx``
            (called after ``fn(x)``).
        x: the input; copied to float64.
        delta: the upstream residual dC/dy (default: standard normal, seeded by ``rng``).
            For a loss the output is the scalar cost, so delta is 1.
        eps: the finite-difference step.
        rng: ``np.random.Generator`` or seed for delta (default seed 0).
        check_params: also check every parameter (they must be float64).

    Returns:
        :class:`GradcheckResult`: ``{"input": worst_error, "weight": ..., ...}``.

    Example:
        >>> import numpy as np, cnnbp
        >>> layer = cnnbp.layers.Dense(4, 3, dtype=np.float64, rng=0)
        >>> cnnbp.gradcheck(layer, np.random.default_rng(1).normal(size=(2, 4))).worst < 1e-6
        True
    """
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(0) if rng is None else np.random.default_rng(rng)
    result = GradcheckResult()

    is_loss = target is not None
    if is_loss:
        loss = layer_or_fn

        def f():
            return np.array(loss.forward(x, target))

        f()
        analytic_dx = loss.backward()
        _record(result, "input", analytic_dx, _numerical(f, x, np.array(1.0), eps))
        return result

    if backward is not None:
        fn = layer_or_fn
        y = np.asarray(fn(x))
        d = rng.standard_normal(y.shape) if delta is None else np.asarray(delta, dtype=np.float64)
        dx = backward(d)
        _record(result, "input", dx, _numerical(lambda: fn(x), x, d, eps))
        return result

    layer = layer_or_fn
    if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
        raise TypeError(
            "gradcheck expects a layer, a loss (with target=) or a function (with backward=), "
            f"got {type(layer).__name__}"
        )
    params = layer.parameters() if check_params and hasattr(layer, "parameters") else {}
    for name, p in params.items():
        if p.data.dtype != np.float64:
            raise TypeError(
                f"gradcheck needs float64 parameters, but {name!r} is {p.data.dtype}; "
                "build the layer with dtype=np.float64"
            )
    y = layer.forward(x)
    d = rng.standard_normal(y.shape) if delta is None else np.asarray(delta, dtype=np.float64)
    for p in params.values():
        p.zero_grad()
    dx = layer.backward(d)
    analytic = {name: p.grad.copy() for name, p in params.items()}

    def f():
        return layer.forward(x)

    _record(result, "input", dx, _numerical(f, x, d, eps))
    for name, p in params.items():
        _record(result, name, analytic[name], _numerical(f, p.data, d, eps))
    return result
