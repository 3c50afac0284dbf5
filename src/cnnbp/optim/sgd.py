"""Stochastic gradient descent: ``W(t+1) = W(t) - eta(t) dC/dW`` (REFERENCE.md section 1)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD with optional momentum, Nesterov momentum and weight decay (PyTorch's rules).

    With ``g = grad + weight_decay * w``:

    - no momentum: ``w -= lr * g``;
    - momentum: ``b = g`` on the first step, then ``b = momentum * b + (1 - dampening) * g``;
      ``w -= lr * b``, or with Nesterov ``w -= lr * (g + momentum * b)``.
    """

    hyperparameters = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, dampening: float = 0.0):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"momentum and weight_decay must be >= 0, got {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.dampening = float(dampening)

    def step(self) -> None:
        for p, state in zip(self.params, self.state):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
                else:
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            p.data -= (self.lr * g).astype(p.dtype, copy=False)
