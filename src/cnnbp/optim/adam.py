"""Adam (Kingma and Ba, 2015) with PyTorch's update rule."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam: per-parameter first and second moment estimates with bias correction.

    With ``g = grad + weight_decay * w`` (L2 penalty, as ``torch.optim.Adam``) at step t:
    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
    ``w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"eps and weight_decay must be >= 0, got {eps}, {weight_decay}")
        self.betas = (float(b1), float(b2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)

    def step(self) -> None:
        b1, b2 = self.betas
        for p, state in zip(self.params, self.state):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
            state["step"] += 1
            t = state["step"]
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            step_size = self.lr / (1 - b1 ** t)
            denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + self.eps
            p.data -= (step_size * m / denom).astype(p.dtype, copy=False)

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.betas = tuple(self.betas)
        for s in self.state:
            if "step" in s:
                s["step"] = int(s["step"])
