"""Image filtering kernels of REFERENCE.md section 2, applied with the library's own convolution.

A kernel slid over an image is the same operation as a convolutional layer with
one fixed, hand-made filter; these are the examples the tutorial uses before it
lets a network learn its own filters. :func:`apply` runs them through
:func:`cnnbp.functional.conv2d`, which (as in every CNN) computes the
*cross-correlation*: the kernel is not flipped. For the symmetric kernels this
makes no difference; for the directional ones (the edge detectors, emboss) the
kernel as written below is the pattern that gives the strongest response.

The named kernels (``get_kernel(name)``; :data:`KERNELS` lists them):

========================  ====================================================
``identity``              leaves the image unchanged (REFERENCE.md section 2)
``sharpen``               ``9`` at the centre, ``-1`` around it: the pixel plus
                          8 times its difference from its neighbours
``sharpen_5x5``           a larger, finer sharpen: 5x5, centre 8, inner ring 2,
                          outer ring -1, divided by 8 (weights sum to 1)
``edge_horizontal``       5x5, responds where the intensity changes along a row
                          (``-1 -1 2`` on the middle row)
``edge_vertical``         5x5, responds where the intensity changes down a column
                          (``-1 -1 4 -1 -1`` on the middle column)
``edge_45``               5x5, responds across the main diagonal
                          (``-1 -2 6 -2 -1`` along it)
``edge_all``              3x3 Laplacian-like ``8`` at the centre, ``-1`` around
``emboss``                3x3 ``[[-1,-1,0],[-1,0,1],[0,1,1]]``; applied with an
                          offset of 128 so flat regions come out mid-grey
``box_blur``              mean of a ``size`` x ``size`` window (default 3)
``gaussian_blur``         normalised Gaussian, ``size`` x ``size`` (default 5),
                          standard deviation ``sigma`` (default 1.0)
========================  ====================================================

The tutorial's figures show the edge and emboss kernels only as pictures; the
arrays above are the ones usually printed beside those pictures. Every kernel
except the edge detectors and emboss sums to 1, so it keeps the mean brightness;
the edge detectors sum to 0, so flat regions become 0 (black).

Example:
    >>> import numpy as np
    >>> from cnnbp import filters
    >>> img = np.arange(25, dtype=np.uint8).reshape(5, 5)
    >>> bool((filters.apply(img, "identity") == img).all())
    True
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "KERNELS", "OFFSETS", "get_kernel", "kernel_names", "box_blur", "gaussian_blur", "apply",
]


def _f(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def box_blur(size: int = 3) -> np.ndarray:
    """The ``size`` x ``size`` mean filter: every weight ``1 / size**2``."""
    size = _check_size(size)
    return np.full((size, size), 1.0 / (size * size))


def gaussian_blur(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A ``size`` x ``size`` Gaussian ``exp(-(u^2 + v^2) / (2 sigma^2))``, normalised to sum 1.

    ``(u, v)`` are offsets from the kernel's centre (half-integers for even sizes).
    """
    size = _check_size(size)
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"gaussian_blur needs sigma > 0, got {sigma}")
    u = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(u * u) / (2.0 * sigma * sigma))
    k = np.outer(g, g)
    return k / k.sum()


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"kernel size must be a positive integer, got {size!r}")
    return int(size)


# Fixed kernels: name -> (array, one-line description).
_FIXED: dict[str, tuple[np.ndarray, str]] = {
    "identity": (_f([[0, 0, 0],
                     [0, 1, 0],
                     [0, 0, 0]]), "leaves the image unchanged"),
    "sharpen": (_f([[-1, -1, -1],
                    [-1, 9, -1],
                    [-1, -1, -1]]), "3x3 sharpen of REFERENCE.md section 2"),
    "sharpen_5x5": (_f([[-1, -1, -1, -1, -1],
                        [-1, 2, 2, 2, -1],
                        [-1, 2, 8, 2, -1],
                        [-1, 2, 2, 2, -1],
                        [-1, -1, -1, -1, -1]]) / 8.0, "5x5 finer sharpen"),
    "edge_horizontal": (_f([[0, 0, 0, 0, 0],
                            [0, 0, 0, 0, 0],
                            [-1, -1, 2, 0, 0],
                            [0, 0, 0, 0, 0],
                            [0, 0, 0, 0, 0]]), "horizontal edge detection"),
    "edge_vertical": (_f([[0, 0, -1, 0, 0],
                          [0, 0, -1, 0, 0],
                          [0, 0, 4, 0, 0],
                          [0, 0, -1, 0, 0],
                          [0, 0, -1, 0, 0]]), "vertical edge detection"),
    "edge_45": (_f([[-1, 0, 0, 0, 0],
                    [0, -2, 0, 0, 0],
                    [0, 0, 6, 0, 0],
                    [0, 0, 0, -2, 0],
                    [0, 0, 0, 0, -1]]), "45-degree edge detection"),
    "edge_all": (_f([[-1, -1, -1],
                     [-1, 8, -1],
                     [-1, -1, -1]]), "edges in every direction"),
    "emboss": (_f([[-1, -1, 0],
                   [-1, 0, 1],
                   [0, 1, 1]]), "emboss (output offset by 128)"),
}

# Parametric kernels: name -> (function, one-line description).
_PARAMETRIC = {
    "box_blur": (box_blur, "mean of a size x size window (size=3)"),
    "gaussian_blur": (gaussian_blur, "Gaussian blur (size=5, sigma=1.0)"),
}

#: name -> one-line description of every named kernel, in a stable order.
KERNELS: dict[str, str] = {
    **{name: desc for name, (_, desc) in _FIXED.items()},
    **{name: desc for name, (_, desc) in _PARAMETRIC.items()},
}

#: Value added after filtering when a kernel is applied by name (emboss: mid-grey).
OFFSETS: dict[str, float] = {"emboss": 128.0}


def kernel_names() -> list[str]:
    """The names :func:`get_kernel` accepts."""
    return list(KERNELS)


def get_kernel(name: str, **params) -> np.ndarray:
    """The named kernel as a new float64 array of shape (kh, kw).

    Args:
        name: one of :func:`kernel_names`.
        **params: ``size`` for ``box_blur``; ``size`` and ``sigma`` for
            ``gaussian_blur``. The fixed kernels take none.

    Raises:
        ValueError: unknown name (the message lists the valid ones), or
            parameters given to a kernel that takes none / other ones.
    """
    if name in _FIXED:
        if params:
            raise ValueError(
                f"kernel {name!r} takes no parameters, got {sorted(params)}"
            )
        return _FIXED[name][0].copy()
    if name in _PARAMETRIC:
        fn = _PARAMETRIC[name][0]
        allowed = {"box_blur": {"size"}, "gaussian_blur": {"size", "sigma"}}[name]
        unknown = set(params) - allowed
        if unknown:
            raise ValueError(
                f"kernel {name!r} takes parameters {sorted(allowed)}, got {sorted(unknown)}"
            )
        return fn(**params)
    raise ValueError(
        f"unknown kernel {name!r}; valid names: {', '.join(kernel_names())}"
    )


def apply(image, kernel, *, offset: float | None = None) -> np.ndarray:
    """Filter a grayscale or RGB image with one kernel, each channel separately.

    The image is zero-padded ("same" padding) so the output has the image's
    height and width, and every colour channel is filtered with the same kernel
    by :func:`cnnbp.functional.conv2d` (cross-correlation, stride 1, its
    ``"auto"`` algorithm: the plain-loop reference is too slow for photographs).
    For an even-sized kernel the extra padding row and column go to the bottom
    and right, as conv2d's "same" padding does.

    Args:
        image: (H, W) grayscale or (H, W, C) with C colour channels (1, 3 or 4),
            any real dtype.
        kernel: a name of :func:`kernel_names` or a 2-D array (kh, kw).
        offset: value added to the result; default 0, or the named kernel's
            entry of :data:`OFFSETS` (128 for ``emboss``).

    Returns:
        The filtered image, same shape as ``image``. A ``uint8`` image gives a
        ``uint8`` result, rounded and clipped to 0..255; any other input gives
        float64 (float32 stays float32), unclipped.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((4, 6), dtype=np.uint8); img[:, 3:] = 200
        >>> apply(img, "box_blur")[1]
        array([  0,   0,  67, 133, 200, 133], dtype=uint8)
    """
    from .functional import conv2d

    if isinstance(kernel, str):
        if offset is None:
            offset = OFFSETS.get(kernel, 0.0)
        kernel = get_kernel(kernel)
    offset = 0.0 if offset is None else float(offset)
    k = np.asarray(kernel)
    if k.ndim != 2 or k.size == 0 or not np.issubdtype(k.dtype, np.number):
        raise ValueError(f"kernel must be a non-empty 2-D numeric array, got shape {k.shape}")

    img = np.asarray(image)
    if not (np.issubdtype(img.dtype, np.number) or img.dtype == bool):
        raise TypeError(f"image must be a numeric array, got dtype {img.dtype}")
    if img.ndim == 2:
        planes = img[None]                           # (1, H, W)
    elif img.ndim == 3 and img.shape[2] in (1, 3, 4):
        planes = np.moveaxis(img, 2, 0)              # (C, H, W)
    else:
        raise ValueError(
            f"image must have shape (H, W) or (H, W, C) with C in 1, 3, 4; got {img.shape}"
        )

    work = np.float32 if img.dtype == np.float32 else np.float64
    x = planes.astype(work)[:, None]                 # (C, 1, H, W): channels as a batch
    w = k.astype(work)[None, None]                   # (1, 1, kh, kw)
    y = conv2d(x, w, padding="same", algorithm="auto")[:, 0]   # (C, H, W)
    if offset:
        y = y + work(offset)
    y = y[0] if img.ndim == 2 else np.moveaxis(y, 0, 2)
    if img.dtype == np.uint8:
        return np.clip(np.rint(y), 0, 255).astype(np.uint8)
    return y
