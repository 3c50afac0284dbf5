"""Data augmentation for digit images: random shifts and elastic distortions.

Both work on a whole batch at once, ``(N, H, W)`` or ``(N, C, H, W)``, draw every
random number from the ``np.random.Generator`` passed in, and return an array of
the input's shape and dtype (integer images are rounded and clipped back to
their dtype's range). Pixels that come from outside the image are 0: the
background of MNIST digits before any preprocessing, which is why the trainer
applies augmentation to the raw images, before ``preprocess``.

- :func:`shift_images` / :func:`random_shift`: integer translations with zero fill.
- :func:`elastic_distort`: Simard, Steinkraus and Platt (2003), "Best Practices for
  Convolutional Neural Networks Applied to Visual Document Analysis", section 2:
  a displacement field of independent uniform(-1, 1) values per pixel, smoothed
  by a Gaussian of standard deviation ``sigma`` and scaled by ``alpha``; each
  output pixel is read, by bilinear interpolation, at its position plus the
  displacement. The paper uses sigma = 4 and alpha = 34 for MNIST.

The objects :class:`RandomShift`, :class:`ElasticDistortion` and :class:`Compose`
wrap these as callables ``augment(images, rng) -> images``, the form the
:class:`~cnnbp.training.Trainer` takes.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "shift_images", "random_shift", "gaussian_kernel1d", "smoothing_matrix", "gaussian_smooth",
    "bilinear_sample", "elastic_distort", "RandomShift", "ElasticDistortion", "Compose",
]


# -- shapes and dtypes ------------------------------------------------------------------
def _as_nchw(images) -> tuple[np.ndarray, tuple[int, ...]]:
    """View a batch (N, H, W) or (N, C, H, W) as (N, C, H, W); also return the original shape."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images[:, None], images.shape
    if images.ndim == 4:
        return images, images.shape
    raise ValueError(
        f"augmentation expects a batch of images (N, H, W) or (N, C, H, W), got shape {images.shape}"
    )


def _to_dtype(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast the float result back to the input's dtype (round and clip for integers)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(x), info.min, info.max).astype(dtype)
    return x.astype(dtype, copy=False)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


# -- shifts ---------------------------------------------------------------------------------
def shift_images(images: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Translate each image by a whole number of pixels, filling with zeros.

    The pixel at (row, col) of image n moves to (row + dy_n, col + dx_n), so
    ``out[n, ..., i, j] = images[n, ..., i - dy_n, j - dx_n]`` (0 outside the image).

    Args:
        images: (N, H, W) or (N, C, H, W), any dtype.
        shifts: (N, 2) integers ``(dy, dx)``; positive moves down and right.

    Returns:
        an array of the input's shape and dtype.
    """
    x, shape = _as_nchw(images)
    n, _, h, w = x.shape
    shifts = np.asarray(shifts)
    if shifts.shape != (n, 2) or not np.issubdtype(shifts.dtype, np.integer):
        raise ValueError(
            f"shifts must be integers of shape ({n}, 2) (dy, dx per image), "
            f"got shape {shifts.shape} and dtype {shifts.dtype}"
        )
    k = int(np.abs(shifts).max(initial=0))
    if k == 0:
        return np.array(images, copy=True)
    padded = np.pad(x, ((0, 0), (0, 0), (k, k), (k, k)))
    # Source index in the padded image of output pixel i: i - dy + k.
    rows = np.arange(h)[None, :] + k - shifts[:, 0:1]          # (N, H)
    cols = np.arange(w)[None, :] + k - shifts[:, 1:2]          # (N, W)
    batch = np.arange(n)[:, None, None, None]
    chans = np.arange(x.shape[1])[None, :, None, None]
    out = padded[batch, chans, rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(shape)


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift each image by (dy, dx), each drawn uniformly from {-max_shift, ..., max_shift}.

    Args:
        images: (N, H, W) or (N, C, H, W).
        max_shift: the largest shift in pixels along each axis (0: the identity).
        rng: the generator the shifts are drawn from (one (N, 2) draw per call).
    """
    _check_rng(rng)
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift}")
    n = np.shape(images)[0]
    shifts = rng.integers(-int(max_shift), int(max_shift) + 1, size=(n, 2))
    return shift_images(images, shifts)


# -- Gaussian smoothing --------------------------------------------------------------------
def gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian ``exp(-t^2 / (2 sigma^2))`` for t = -r..r, r = round(truncate*sigma).

    Returns a float64 array of length 2r + 1 that sums to 1.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    radius = max(int(truncate * sigma + 0.5), 1)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


@functools.lru_cache(maxsize=32)
def smoothing_matrix(size: int, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The (size, size) matrix S with ``S @ v`` = v filtered by the Gaussian of ``sigma``.

    Filtering is linear, so along one axis it is a matrix. The border is handled
    by mirror reflection (``... v1 v0 | v0 v1 ... | ... v_{n-1}``, the border value
    repeated, as scipy.ndimage's ``mode="reflect"``): row i of S adds kernel weight
    k[t] to the column that position ``i + t`` reflects to. The result is cached
    and read-only.
    """
    kernel = gaussian_kernel1d(sigma, truncate)
    radius = kernel.size // 2
    # The index each padded position reads from (np.pad mirrors repeatedly if needed).
    source = np.pad(np.arange(size), radius, mode="symmetric")         # (size + 2r,)
    rows = np.repeat(np.arange(size), kernel.size)                      # i, repeated for each t
    taps = np.tile(np.arange(kernel.size), size)                        # t + r
    matrix = np.zeros((size, size))
    np.add.at(matrix, (rows, source[rows + taps]), np.tile(kernel, size))
    matrix.flags.writeable = False          # cached: shared by every call
    return matrix


def gaussian_smooth(fields: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Smooth a batch of 2-D fields (..., H, W) with an isotropic Gaussian (separable).

    Computes ``S_h @ field @ S_w^T`` for every field, with the matrices of
    :func:`smoothing_matrix`: a blur along the columns, then along the rows.
    Floating fields keep their dtype (float32 is about four times faster here);
    others are computed in float64.
    """
    fields = np.asarray(fields)
    if not np.issubdtype(fields.dtype, np.floating):
        fields = fields.astype(np.float64)
    h, w = fields.shape[-2:]
    s_h = smoothing_matrix(h, sigma, truncate).astype(fields.dtype)
    s_w = s_h if w == h else smoothing_matrix(w, sigma, truncate).astype(fields.dtype)
    return s_h @ fields @ s_w.T


# -- bilinear resampling -----------------------------------------------------------------
def bilinear_sample(images: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                    dtype=np.float32) -> np.ndarray:
    """Read each image at fractional positions, by bilinear interpolation, with 0 outside.

    With r0 = floor(r), fr = r - r0 (and likewise for columns):
    ``out = (1-fr)(1-fc) I[r0, c0] + (1-fr) fc I[r0, c0+1] + fr (1-fc) I[r0+1, c0] + fr fc I[r0+1, c0+1]``,
    where ``I`` is 0 beyond the image's border.

    Args:
        images: (N, C, H, W).
        rows, cols: (N, H_out, W_out) positions, the same for every channel.
        dtype: the floating dtype of the computation and of the result.

    Returns:
        (N, C, H_out, W_out) of ``dtype``.
    """
    n, c, h, w = images.shape
    if rows.shape != cols.shape or rows.ndim != 3 or rows.shape[0] != n:
        raise ValueError(
            f"rows and cols must both have shape ({n}, H_out, W_out), got {rows.shape} and {cols.shape}"
        )
    # Positions beyond the image are clipped to one pixel outside it, and the image
    # padded with zeros (one row/column before, two after), so every neighbour read
    # from there is 0 and far-away positions give 0 just like positions near the edge.
    rows = np.clip(rows, -1, h, dtype=dtype)
    cols = np.clip(cols, -1, w, dtype=dtype)
    r0 = np.floor(rows)
    c0 = np.floor(cols)
    fr = (rows - r0)[:, None]                                   # (N, 1, H_out, W_out)
    fc = (cols - c0)[:, None]
    width = w + 3
    # Flat index of (image n, channel k, padded row r0 + 1, padded col c0 + 1).
    padded = np.pad(images.astype(dtype, copy=False), ((0, 0), (0, 0), (1, 2), (1, 2)))
    itype = np.int32 if padded.size < 2**31 - 1 else np.intp
    corner = (r0.astype(itype) + 1) * itype(width) + (c0.astype(itype) + 1)
    base = np.arange(n * c, dtype=itype).reshape(n, c, 1, 1) * itype((h + 3) * width)
    index = base + corner[:, None]
    flat = padded.ravel()

    i00, i01 = flat.take(index), flat.take(index + 1)                  # I[r0, c0], I[r0, c0+1]
    i10, i11 = flat.take(index + width), flat.take(index + width + 1)  # I[r0+1, c0], I[r0+1, c0+1]
    top = i00 + fc * (i01 - i00)             # (1-fc) I[r0, c0] + fc I[r0, c0+1]
    bottom = i10 + fc * (i11 - i10)
    return top + fr * (bottom - top)


# -- elastic distortion ---------------------------------------------------------------------
def elastic_distort(images: np.ndarray, alpha: float, sigma: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Elastic distortion of Simard et al. (2003), one random field per image.

    ``dx, dy = alpha * G_sigma * U(-1, 1)``: uniform noise per pixel, smoothed by a
    Gaussian of standard deviation ``sigma`` (pixels), scaled by ``alpha``. Output
    pixel (i, j) takes the bilinearly interpolated value at (i + dy_ij, j + dx_ij).
    Small sigma gives nearly random fields (noise-like distortion); large sigma
    nearly a translation; sigma around 4 looks like handwriting variation.

    Args:
        images: (N, H, W) or (N, C, H, W); all channels of an image share its field.
        alpha: displacement scale in pixels (0: the identity, no random numbers drawn).
        sigma: standard deviation of the smoothing Gaussian, in pixels (> 0).
        rng: the generator; one (2, N, H, W) float32 draw per call.

    Returns:
        an array of the input's shape and dtype.
    """
    _check_rng(rng)
    if alpha < 0 or not sigma > 0:
        raise ValueError(f"elastic distortion needs alpha >= 0 and sigma > 0, got alpha={alpha}, sigma={sigma}")
    x, shape = _as_nchw(images)
    if alpha == 0:
        return np.array(images, copy=True)
    n, _, h, w = x.shape
    # Uniform(-1, 1) noise; float32 throughout (displacements of a few pixels need no more).
    noise = 2 * rng.random(size=(2, n, h, w), dtype=np.float32) - 1
    dy, dx = np.float32(alpha) * gaussian_smooth(noise, sigma)
    rows = np.arange(h, dtype=np.float32)[None, :, None] + dy
    cols = np.arange(w, dtype=np.float32)[None, None, :] + dx
    work = np.float64 if x.dtype == np.float64 else np.float32
    out = bilinear_sample(x, rows, cols, dtype=work)
    return _to_dtype(out, x.dtype).reshape(shape)


# -- callables for the trainer --------------------------------------------------------------
class RandomShift:
    """``augment(images, rng)``: :func:`random_shift` by up to ``max_shift`` pixels."""

    def __init__(self, max_shift: int = 2):
        if int(max_shift) != max_shift or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative integer, got {max_shift}")
        self.max_shift = int(max_shift)

    def __call__(self, images, rng):
        return random_shift(images, self.max_shift, rng)

    def config(self) -> dict:
        return {"type": "shift", "max_shift": self.max_shift}

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


class ElasticDistortion:
    """``augment(images, rng)``: :func:`elastic_distort` (defaults: Simard 2003's MNIST values)."""

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0):
        if alpha < 0 or not sigma > 0:
            raise ValueError(f"elastic distortion needs alpha >= 0 and sigma > 0, got alpha={alpha}, sigma={sigma}")
        self.alpha, self.sigma = float(alpha), float(sigma)

    def __call__(self, images, rng):
        return elastic_distort(images, self.alpha, self.sigma, rng)

    def config(self) -> dict:
        return {"type": "elastic", "alpha": self.alpha, "sigma": self.sigma}

    def __repr__(self):
        return f"ElasticDistortion(alpha={self.alpha}, sigma={self.sigma})"


class Compose:
    """Apply augmentations in order, all drawing from the same generator."""

    def __init__(self, *augments):
        if len(augments) == 1 and isinstance(augments[0], (list, tuple)):
            augments = tuple(augments[0])
        for i, a in enumerate(augments):
            if not callable(a):
                raise TypeError(f"Compose item {i} must be callable as augment(images, rng), got {type(a).__name__}")
        self.augments = list(augments)

    def __call__(self, images, rng):
        for augment in self.augments:
            images = augment(images, rng)
        return images

    def config(self) -> dict:
        return {"type": "compose",
                "augments": [a.config() if hasattr(a, "config") else repr(a) for a in self.augments]}

    def __repr__(self):
        return f"Compose({', '.join(repr(a) for a in self.augments)})"
