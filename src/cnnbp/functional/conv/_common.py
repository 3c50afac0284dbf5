"""Argument normalisation and checks shared by the convolution algorithms (and pooling).

Notation used throughout :mod:`cnnbp.functional.conv`:

- ``x``: input A^(l-1), shape (N, C, H, W) (NCHW);
- ``w``: kernels, shape (M, C, kh, kw); ``w[m, c]`` is the kernel from input map c
  to output map m (PyTorch's layout);
- ``s = (sh, sw)`` stride, ``d = (dh, dw)`` dilation, padding as four numbers
  ``(top, bottom, left, right)``;
- effective (dilated) kernel size ``KH = dh*(kh - 1) + 1`` (likewise KW);
- output size ``H_out = floor((H + top + bottom - KH) / sh) + 1``, which for
  symmetric padding p is the reference's ``o = (i - k + 2p)/s + 1`` in general form:
  ``floor((i + 2p - d(k-1) - 1)/s) + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def pair(value, name: str = "value", minimum: int = 1) -> tuple[int, int]:
    """``v`` -> ``(v, v)``; ``(a, b)`` -> ``(a, b)``; each an integer >= ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(out) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return out


def effective_kernel_size(k: int, d: int = 1) -> int:
    """Extent of a kernel of size k dilated by d: ``d*(k - 1) + 1``."""
    return d * (k - 1) + 1


def _padding_1d(padding, k: int, s: int, d: int, name: str = "padding") -> tuple[int, int]:
    """One axis of :func:`resolve_padding`: returns (before, after)."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "full":
            return d * (k - 1), d * (k - 1)
        if mode == "same":
            if s != 1:
                raise ValueError(f'{name}="same" needs stride 1, got stride {s}')
            total = d * (k - 1)
            return total // 2, total - total // 2
        raise ValueError(
            f'{name} must be an int, a pair, "valid", "same" or "full", got {padding!r}'
        )
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        p = int(padding)
        if p < 0:
            raise ValueError(f"{name} must be >= 0, got {padding!r}")
        return p, p
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in padding
    ):
        before, after = int(padding[0]), int(padding[1])
        if min(before, after) < 0:
            raise ValueError(f"{name} must be >= 0, got {padding!r}")
        return before, after
    raise TypeError(f"{name} must be an int, a (before, after) pair or a mode string, got {padding!r}")


def resolve_padding(padding, kernel_size, stride=1, dilation=1) -> tuple[int, int, int, int]:
    """Padding as four numbers ``(top, bottom, left, right)``.

    Accepted forms:

    - ``p`` (int): p on every side;
    - ``(ph, pw)``: ph above and below, pw left and right (each may itself be
      "valid"/"same"/"full" or a ``(before, after)`` pair);
    - ``(top, bottom, left, right)``: as given;
    - ``"valid"``: no padding (0);
    - ``"same"``: the output has the input's size; needs stride 1. The total padding
      ``d*(k-1)`` is split ``total // 2`` before and the rest after, so for an even
      kernel the extra row goes to the **bottom** and the extra column to the
      **right** (PyTorch does the same);
    - ``"full"``: ``d*(k-1)`` on every side, so every partial overlap of kernel and
      input is an output (o = i + k - 1 for d = 1).
    """
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation")
    if isinstance(padding, str) or (
        isinstance(padding, (int, np.integer)) and not isinstance(padding, bool)
    ):
        top, bottom = _padding_1d(padding, kh, sh, dh)
        left, right = _padding_1d(padding, kw, sw, dw)
        return top, bottom, left, right
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        return (*_padding_1d(padding[0], kh, sh, dh), *_padding_1d(padding[1], kw, sw, dw))
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        top, bottom = _padding_1d(tuple(padding[:2]), kh, sh, dh)
        left, right = _padding_1d(tuple(padding[2:]), kw, sw, dw)
        return top, bottom, left, right
    raise TypeError(
        'padding must be an int, (ph, pw), (top, bottom, left, right), "valid", "same" or "full", '
        f"got {padding!r}"
    )


def conv_output_size(i: int, k: int, s: int = 1, p=0, d: int = 1) -> int:
    """Output length of a convolution along one axis: ``floor((i + 2p - d(k-1) - 1)/s) + 1``.

    With d = 1 this is the reference's ``o = (i - k + 2p)/s + 1`` (REFERENCE.md
    section 2), rounded down when the windows do not tile the input exactly.

    Args:
        i: input length; k: kernel length; s: stride; d: dilation.
        p: padding per side (int), a ``(before, after)`` pair, or "valid" / "same" / "full".

    Raises:
        ValueError: when the (dilated) kernel is longer than the padded input.

    Examples:
        >>> conv_output_size(5, 4, 1, 2)       # arbitrary padding
        6
        >>> conv_output_size(5, 3, 1, "same")  # half padding, p = 1
        5
        >>> conv_output_size(5, 3, 1, "full")  # full padding, p = 2
        7
    """
    for name, v in (("i", i), ("k", k), ("s", s), ("d", d)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"conv_output_size: {name} must be a positive int, got {v!r}")
    before, after = _padding_1d(p, k, s, d, "p")
    padded = i + before + after
    extent = effective_kernel_size(k, d)
    if extent > padded:
        raise ValueError(
            f"kernel of size {k} (dilation {d}, extent {extent}) is larger than the padded "
            f"input of size {padded} (= {i} + {before} + {after})"
        )
    return (padded - extent) // s + 1


class ConvGeometry(NamedTuple):
    """Every size of one convolution, normalised: what the algorithm modules receive."""

    N: int
    C: int
    H: int
    W: int
    M: int
    kh: int
    kw: int
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    dilation: tuple[int, int]
    out_h: int
    out_w: int

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.C, self.H, self.W)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.M, self.C, self.kh, self.kw)

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.M, self.out_h, self.out_w)


def geometry(x_shape, w_shape, stride=1, padding=0, dilation=1) -> ConvGeometry:
    """Check the shapes of x (N, C, H, W) and w (M, C, kh, kw) and normalise every argument."""
    x_shape = tuple(int(v) for v in x_shape)
    w_shape = tuple(int(v) for v in w_shape)
    if len(x_shape) != 4:
        raise ValueError(f"conv2d expected a 4-D input (N, C, H, W), got shape {x_shape}")
    if len(w_shape) != 4:
        raise ValueError(f"conv2d expected 4-D kernels (out, in, kh, kw), got shape {w_shape}")
    N, C, H, W = x_shape
    M, Cw, kh, kw = w_shape
    if Cw != C:
        raise ValueError(
            f"conv2d channel mismatch: the input has {C} channels (shape {x_shape}) but the "
            f"kernels expect {Cw} (weight shape {w_shape})"
        )
    if min(w_shape) < 1 or min(x_shape) < 1:
        raise ValueError(f"conv2d needs non-empty input and kernels, got {x_shape} and {w_shape}")
    s = pair(stride, "stride")
    d = pair(dilation, "dilation")
    pad4 = resolve_padding(padding, (kh, kw), s, d)
    top, bottom, left, right = pad4
    out_h = conv_output_size(H, kh, s[0], (top, bottom), d[0])
    out_w = conv_output_size(W, kw, s[1], (left, right), d[1])
    return ConvGeometry(N, C, H, W, M, kh, kw, s, pad4, d, out_h, out_w)


def check_float(a, name: str) -> np.ndarray:
    """``a`` as a floating NumPy array, or TypeError naming the dtype found."""
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array (float32 or float64), got dtype {a.dtype}")
    return a


def check_connections(connections, in_channels: int, out_channels: int) -> np.ndarray | None:
    """A connection table as a bool (in_channels, out_channels) array, or None (all connected).

    ``connections[c, m]`` is True when input map c feeds output map m (the layout of
    LeCun et al. 1998, Table I, read by rows). 0/1 integers are accepted.
    """
    if connections is None:
        return None
    table = np.asarray(connections)
    if table.shape != (in_channels, out_channels):
        raise ValueError(
            f"connections must have shape (in_channels, out_channels) = "
            f"({in_channels}, {out_channels}), got {table.shape}"
        )
    if table.dtype != np.bool_:
        if not (np.issubdtype(table.dtype, np.integer) and np.isin(table, (0, 1)).all()):
            raise TypeError(
                f"connections must be a bool array (or 0/1 integers), got dtype {table.dtype}"
            )
        table = table.astype(bool)
    return table


def mask_kernels(w: np.ndarray, connections: np.ndarray | None) -> np.ndarray:
    """``w`` with every unconnected kernel set to exactly 0 (whatever it held, inf and NaN too)."""
    if connections is None:
        return w
    return np.where(connections.T[:, :, None, None], w, np.zeros((), dtype=w.dtype))


def pad_input(x: np.ndarray, padding4, value=0.0) -> np.ndarray:
    """Pad the two spatial axes of an NCHW array by (top, bottom, left, right) with ``value``."""
    top, bottom, left, right = padding4
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)
