"""Fully connected (dense) layer, forward and backward, as in REFERENCE.md section 1.

Notation: ``x`` is A^(l-1) with shape (N, in), ``w`` is W^(l) with shape (out, in)
(``w[i, j]`` connects input j to output i), ``b`` is B^(l) with shape (out,), and the
output ``z`` = Z^(l) has shape (N, out). The batch runs along the rows, so the
matrix form ``Z = W A + B`` of the text is written ``z = x @ w.T + b`` here.
"""

from __future__ import annotations

import numpy as np


def dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``z = x @ w.T + b``: (N, in) x (out, in) -> (N, out)."""
    z = x @ w.T
    if b is not None:
        z += b
    return z


def dense_backward(
    delta: np.ndarray, x: np.ndarray, w: np.ndarray, bias: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of a dense layer given its residual ``delta = dC/dz`` (N, out).

    Returns ``(dC/dx, dC/dw, dC/db)``:

    - F1: ``dC/dw_ij = delta_i * a_j`` summed over the batch -> ``delta.T @ x`` (out, in);
    - F2: ``dC/db_i = delta_i`` summed over the batch -> ``delta.sum(0)`` (out,);
    - F5 (without the activation factor, which the activation layer applies):
      ``dC/da^(l-1) = W^T delta`` -> ``delta @ w`` (N, in).
    """
    dC_dx = delta @ w
    dC_dw = delta.T @ x
    dC_db = delta.sum(axis=0) if bias else None
    return dC_dx, dC_dw, dC_db
