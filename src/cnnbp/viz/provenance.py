"""Where one gradient value comes from: the sums behind P3 and P4, written out.

For a convolution layer with input ``x`` (C, H, W), kernels ``w`` (M, C, kh, kw),
stride 1, no padding, and residual ``delta`` (M, H_out, W_out) of its output
(cross-correlation, as everywhere in cnnbp: ``z[m, oh, ow] = sum x[c, oh+i, ow+j] w[m, c, i, j]``):

- input pixel ``(c, h, v)`` (P3)::

      dC/dx[c, h, v] = sum over m, i, j with 0 <= h-i < H_out, 0 <= v-j < W_out
                       of delta[m, h-i, v-j] * w[m, c, i, j]

  "A residual goes back where it came from, and residuals arriving at the same
  place are summed": every output the pixel fed sends back its residual times the
  kernel tap that carried it.
- weight ``w[m, c, i, j]`` (P4, F1 with shared weights)::

      dC/dw[m, c, i, j] = sum over oh, ow of delta[m, oh, ow] * x[c, oh+i, ow+j]

Each value is computed here three independent ways, which must agree:

====================  =========================================  ===========================================
                      input pixel (P3)                           weight (P4)
====================  =========================================  ===========================================
direct loops          the sum above, term by term                the sum above, term by term
the formula           ``conv(delta, rot180(w), 'full')``         ``conv(a^(l-1), delta, 'valid')``
                      (:func:`cnnbp.functional.conv2d`)          (:func:`cnnbp.functional.conv2d`)
im2col / col2im       ``col2im(W^T delta)``                      ``delta cols^T`` (``im2col`` of the input)
====================  =========================================  ===========================================

and compared with what the layer's own backward produced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..functional.conv.im2col import col2im, im2col

__all__ = ["PixelProvenance", "WeightProvenance", "pixel_gradient", "weight_gradient",
           "choose_pixel", "choose_weight", "conv_provenance"]


class _Agreement:
    """What the provenance records share: how far apart their computations land."""

    @property
    def max_discrepancy(self) -> float:
        """The spread (max - min) of ``values``: 0 when every computation agrees."""
        v = list(self.values.values())
        return float(max(v) - min(v))


@dataclass
class PixelProvenance(_Agreement):
    """dC/dx at one input position, and the terms summed into it.

    Attributes:
        position: (c, h, v) in the input.
        terms: one row per term, columns ``m, oh, ow, i, j, delta, w, product``
            (float64 array (T, 8)): ``delta[m, oh, ow] * w[m, c, i, j]`` with
            ``oh = h - i``, ``ow = v - j``.
        direct: the sum of the terms, in loop order.
        full_correlation: the same value from ``conv(delta, rot180(w), 'full')`` (P3).
        col2im: the same value from ``col2im(W^T delta)``.
        library: the value the layer's backward returned (None when not given).
    """

    position: tuple[int, int, int]
    terms: np.ndarray
    direct: float
    full_correlation: float
    col2im: float
    library: float | None = None

    @property
    def values(self) -> dict[str, float]:
        out = {"direct loops": self.direct, "full correlation with rot180(w) (P3)": self.full_correlation,
               "col2im(W^T delta)": self.col2im}
        if self.library is not None:
            out["layer backward"] = self.library
        return out


@dataclass
class WeightProvenance(_Agreement):
    """dC/dw for one kernel tap, and the terms summed into it.

    Attributes:
        position: (m, c, i, j) in the kernel array.
        terms: (T, 5) rows ``oh, ow, delta, x, product`` with ``x = x[c, oh+i, ow+j]``.
        direct, valid_correlation, im2col: the three computations (see the module docstring).
        library: the gradient the library's backward produced (None when not given).
    """

    position: tuple[int, int, int, int]
    terms: np.ndarray
    direct: float
    valid_correlation: float
    im2col: float
    library: float | None = None

    @property
    def values(self) -> dict[str, float]:
        out = {"direct loops": self.direct, "valid correlation conv(a, delta) (P4)": self.valid_correlation,
               "delta @ im2col(a)^T": self.im2col}
        if self.library is not None:
            out["layer backward"] = self.library
        return out


def _check(x: np.ndarray, w: np.ndarray, delta: np.ndarray):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    if x.ndim != 3 or w.ndim != 4 or delta.ndim != 3:
        raise ValueError(
            f"expected x (C, H, W), w (M, C, kh, kw) and delta (M, H_out, W_out); got shapes "
            f"{x.shape}, {w.shape}, {delta.shape}"
        )
    C, H, W = x.shape
    M, Cw, kh, kw = w.shape
    expected = (M, H - kh + 1, W - kw + 1)
    if Cw != C or delta.shape != expected:
        raise ValueError(
            f"shapes do not fit a stride-1 valid convolution: x {x.shape}, w {w.shape} give "
            f"delta {expected}, got {delta.shape}"
        )
    return x, w, delta


def pixel_gradient(x, w, delta, position, library: float | None = None) -> PixelProvenance:
    """dC/dx[c, h, v] three ways (P3), with the terms of the sum.

    Args:
        x: the layer input (C, H, W) (only its shape is used).
        w: kernels (M, C, kh, kw).
        delta: residual of the layer's output (M, H_out, W_out).
        position: (c, h, v).
        library: optionally, the value the layer's backward gave, to compare.
    """
    x, w, delta = _check(x, w, delta)
    c, h, v = (int(p) for p in position)
    C, H, W = x.shape
    M, _, kh, kw = w.shape
    _, H_out, W_out = delta.shape
    if not (0 <= c < C and 0 <= h < H and 0 <= v < W):
        raise ValueError(f"position {position} is outside the input of shape {x.shape}")

    # 1. The direct loops: every (m, i, j) whose output window covered the pixel.
    terms = []
    total = 0.0
    for m in range(M):
        for i in range(kh):
            for j in range(kw):
                oh, ow = h - i, v - j
                if 0 <= oh < H_out and 0 <= ow < W_out:
                    product = delta[m, oh, ow] * w[m, c, i, j]
                    total += product
                    terms.append((m, oh, ow, i, j, delta[m, oh, ow], w[m, c, i, j], product))

    # 2. P3: the full correlation of delta with the kernels rotated by 180 degrees,
    #    summed over the output maps m (the kernels become (C, M, kh, kw): in and out swap).
    w_rot = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    dC_dx_full = F.conv2d(delta[None], np.ascontiguousarray(w_rot), padding="full",
                          algorithm="direct")[0]

    # 3. col2im of W^T delta: each window's share of the residual, added back in place.
    dcols = w.reshape(M, C * kh * kw).T @ delta.reshape(M, H_out * W_out)   # (C*kh*kw, H_out*W_out)
    dC_dx_cols = col2im(dcols.reshape(1, C, kh, kw, H_out, W_out), (1, C, H, W))[0]

    return PixelProvenance(
        position=(c, h, v), terms=np.array(terms, dtype=np.float64).reshape(-1, 8),
        direct=float(total), full_correlation=float(dC_dx_full[c, h, v]),
        col2im=float(dC_dx_cols[c, h, v]), library=None if library is None else float(library),
    )


def weight_gradient(x, w, delta, position, library: float | None = None) -> WeightProvenance:
    """dC/dw[m, c, i, j] three ways (P4), with the terms of the sum.

    Args:
        x: the layer input (C, H, W).
        w: kernels (M, C, kh, kw) (only the shape is used).
        delta: residual of the layer's output (M, H_out, W_out).
        position: (m, c, i, j).
        library: optionally, the gradient the layer's backward gave, to compare.
    """
    x, w, delta = _check(x, w, delta)
    m, c, i, j = (int(p) for p in position)
    M, C, kh, kw = w.shape
    _, H_out, W_out = delta.shape
    if not (0 <= m < M and 0 <= c < C and 0 <= i < kh and 0 <= j < kw):
        raise ValueError(f"position {position} is outside the kernels of shape {w.shape}")

    # 1. The direct loops: the residual of every output times the input the tap saw there.
    terms = []
    total = 0.0
    for oh in range(H_out):
        for ow in range(W_out):
            product = delta[m, oh, ow] * x[c, oh + i, ow + j]
            total += product
            terms.append((oh, ow, delta[m, oh, ow], x[c, oh + i, ow + j], product))

    # 2. P4: the valid correlation of the input map with the residual map (delta as the kernel).
    dC_dw_valid = F.conv2d(x[c][None, None], delta[m][None, None], algorithm="direct")[0, 0]

    # 3. im2col: dC/dW (M, K) = delta (M, P) @ cols^T (P, K).
    cols = im2col(x[None], kh, kw).reshape(C * kh * kw, H_out * W_out)
    dC_dW_cols = (delta.reshape(M, -1) @ cols.T).reshape(M, C, kh, kw)

    return WeightProvenance(
        position=(m, c, i, j), terms=np.array(terms, dtype=np.float64).reshape(-1, 5),
        direct=float(total), valid_correlation=float(dC_dw_valid[i, j]),
        im2col=float(dC_dW_cols[m, c, i, j]), library=None if library is None else float(library),
    )


def choose_pixel(input_delta: np.ndarray, kernel_size=(5, 5)) -> tuple[int, int, int]:
    """The input position with the largest |dC/dx| among those every kernel tap reaches
    (at least ``k - 1`` from the top-left border and inside the bottom-right one), so its
    sum has all ``M * kh * kw`` terms. Returns (c, h, v)."""
    g = np.abs(np.asarray(input_delta, dtype=np.float64))
    kh, kw = kernel_size
    C, H, W = g.shape
    inner = np.full_like(g, -1.0)
    inner[:, kh - 1:H - kh + 1, kw - 1:W - kw + 1] = g[:, kh - 1:H - kh + 1, kw - 1:W - kw + 1]
    return tuple(int(p) for p in np.unravel_index(np.argmax(inner), g.shape))


def choose_weight(dC_dW: np.ndarray) -> tuple[int, int, int, int]:
    """The kernel tap with the largest |dC/dw|. Returns (m, c, i, j)."""
    g = np.abs(np.asarray(dC_dW))
    return tuple(int(p) for p in np.unravel_index(np.argmax(g), g.shape))


def conv_provenance(trace, stage: str = "C1", pixel=None, weight=None):
    """Both provenances for a convolution stage of a :class:`~cnnbp.viz.trace.Trace`.

    Args:
        trace: from :func:`cnnbp.viz.trace.trace_digit` (float64).
        stage: the name of a stride-1, unpadded convolution stage (default "C1",
            whose input is the network input, so its dC/dx is ``trace.input_delta``).
        pixel: (c, h, v) in the stage's input; default :func:`choose_pixel`.
        weight: (m, c, i, j); default :func:`choose_weight`.

    Returns:
        ``(PixelProvenance, WeightProvenance)``, each with the library's own value
        (the layer's backward for the pixel, ``conv2d_backward_weight`` for the weight).
    """
    st = trace.stage(stage)
    w = np.asarray(st.layer.weight.data, dtype=np.float64)
    x, delta = st.x, st.delta
    kh, kw = w.shape[2:]
    dC_dx = st.delta_in
    dC_dW = F.conv2d_backward_weight(delta[None], x[None], w.shape, algorithm="im2col")
    if pixel is None:
        pixel = choose_pixel(dC_dx, (kh, kw))
    if weight is None:
        weight = choose_weight(dC_dW)
    return (pixel_gradient(x, w, delta, pixel, library=dC_dx[tuple(pixel)]),
            weight_gradient(x, w, delta, weight, library=dC_dW[tuple(weight)]))
