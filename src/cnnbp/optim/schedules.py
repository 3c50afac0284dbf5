"""Learning-rate schedules, stepped once per epoch: ``eta(t)`` of REFERENCE.md section 1."""

from __future__ import annotations

import math

from .optimizer import Optimizer

# LeCun et al. 1998: 0.0005 for passes 1-2, 0.0002 for the next three, 0.0001 for the
# next three, 0.00005 for the next four, then 0.00001.
LENET5_LRS = [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8


class Schedule:
    """Sets ``optimizer.lr`` from the epoch count. Call ``step()`` at the end of each epoch."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> float:
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)
        return self.optimizer.lr

    def state_dict(self) -> dict:
        return {"type": type(self).__name__, "epoch": self.epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict) -> None:
        if state.get("type") != type(self).__name__:
            raise ValueError(f"schedule state was saved by {state.get('type')}, not {type(self).__name__}")
        self.epoch = int(state["epoch"])
        self.base_lr = float(state["base_lr"])
        self.optimizer.lr = self.lr_at(self.epoch)


class ConstantLR(Schedule):
    def lr_at(self, epoch):
        return self.base_lr


class StepLR(Schedule):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineLR(Schedule):
    """Cosine annealing from ``base_lr`` to ``eta_min`` over ``t_max`` epochs, then ``eta_min``."""

    def __init__(self, optimizer, t_max: int, eta_min: float = 0.0):
        if t_max < 1:
            raise ValueError(f"t_max must be >= 1, got {t_max}")
        self.t_max, self.eta_min = int(t_max), float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        e = min(epoch, self.t_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * e / self.t_max)) / 2


class EpochListLR(Schedule):
    """An explicit learning rate per epoch; the last value holds after the list ends.

    ``EpochListLR(opt, LENET5_LRS)`` is LeCun 1998's schedule.
    """

    def __init__(self, optimizer, lrs):
        self.lrs = [float(v) for v in lrs]
        if not self.lrs or any(v < 0 for v in self.lrs):
            raise ValueError(f"lrs must be a non-empty list of non-negative rates, got {lrs}")
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.lrs[min(epoch, len(self.lrs) - 1)]
