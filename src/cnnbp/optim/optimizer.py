"""Optimiser base: holds parameters and per-parameter state that persists across steps."""

from __future__ import annotations

import numpy as np

from ..parameter import Parameter


class Optimizer:
    """Base class. ``params`` is an iterable of :class:`Parameter` (for example
    ``list(model.parameters().values())``). ``state[i]`` holds parameter i's state
    (momentum buffers, moments, step counts) and lives as long as the optimiser."""

    hyperparameters: tuple[str, ...] = ("lr",)

    def __init__(self, params, lr: float):
        if isinstance(params, dict):
            params = params.values()
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError("optimiser got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"params[{i}] must be a cnnbp.Parameter, got {type(p).__name__}")
        if not lr >= 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.lr = float(lr)
        self.state: list[dict[str, np.ndarray | int]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Hyperparameters and per-parameter state (arrays are copies)."""
        return {
            "type": type(self).__name__,
            "hyper": {name: getattr(self, name) for name in self.hyperparameters},
            "state": [
                {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                for s in self.state
            ],
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("type") != type(self).__name__:
            raise ValueError(f"state was saved by {state.get('type')}, not {type(self).__name__}")
        if len(state["state"]) != len(self.params):
            raise ValueError(
                f"state holds {len(state['state'])} parameters, this optimiser has {len(self.params)}"
            )
        for i, (p, s) in enumerate(zip(self.params, state["state"])):
            for k, v in s.items():
                if isinstance(v, np.ndarray) and v.shape != p.shape:
                    raise ValueError(
                        f"state of parameter {i} ({k}) has shape {v.shape}, expected {p.shape}"
                    )
        for name, value in state["hyper"].items():
            setattr(self, name, value)
        self.state = [
            {k: (np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in zip(self.params, state["state"])
        ]
