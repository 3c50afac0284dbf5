"""A trainable array and its gradient, side by side (Caffe's data/diff)."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array ``data`` with its gradient ``grad`` of the same shape and dtype.

    Layers *add* dC/dparam into ``grad`` during ``backward`` (residuals arriving at
    the same place are summed); optimisers read ``grad`` and update ``data`` in place.
    """

    __slots__ = ("data", "grad")

    def __init__(self, data: np.ndarray):
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(f"Parameter data must be a floating array, got dtype {data.dtype}")
        self.data = np.ascontiguousarray(data)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
