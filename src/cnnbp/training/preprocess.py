"""Turning raw images into a model's input.

A preprocess is any callable ``preprocess(images) -> x``: it receives a batch of
raw images, e.g. uint8 (N, 28, 28) as the MNIST loader returns them (after any
augmentation), and returns the float array the model's first layer expects.
"""

from __future__ import annotations

import numpy as np

__all__ = ["default_preprocess", "make_preprocess"]


def _scale(images: np.ndarray, dtype) -> np.ndarray:
    """Integer images -> [0, 1] (divided by their dtype's maximum); float images unchanged."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return images.astype(dtype) / dtype(np.iinfo(images.dtype).max)
    if np.issubdtype(images.dtype, np.floating):
        return images.astype(dtype, copy=False)
    raise TypeError(f"images must be an integer or floating array, got dtype {images.dtype}")


def default_preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 images in [0, 255] -> float32 in [0, 1]; (N, H, W) gains a channel axis.

    Shapes: (N, H, W) -> (N, 1, H, W); any other shape (e.g. (N, C, H, W) or
    feature vectors (N, D)) is kept. Float inputs are taken as already scaled.
    """
    x = _scale(images, np.float32)
    return x[:, None] if x.ndim == 3 else x


def make_preprocess(pad: int = 0, low: float = 0.0, high: float = 1.0, dtype=np.float32):
    """A preprocess that maps pixel 0 to ``low`` and the maximum to ``high``, and pads.

    LeNet-5 as in LeCun et al. 1998 (section II.A): MNIST's 28x28 digits centred in
    a 32x32 field, background -0.1 and foreground 1.175, so the inputs have roughly
    zero mean and unit variance: ``make_preprocess(pad=2, low=-0.1, high=1.175)``.

    Args:
        pad: zero-pixel border added on each side (filled with ``low``, the background).
        low, high: the values of pixel 0 and of the full-scale pixel.
        dtype: the floating dtype of the result.

    Returns:
        ``preprocess(images)``: (N, H, W) -> (N, 1, H + 2 pad, W + 2 pad);
        (N, C, H, W) -> (N, C, H + 2 pad, W + 2 pad).
    """
    if int(pad) != pad or pad < 0:
        raise ValueError(f"pad must be a non-negative integer, got {pad}")
    pad = int(pad)
    dtype = np.dtype(dtype).type

    def preprocess(images: np.ndarray) -> np.ndarray:
        x = _scale(images, dtype)
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4:
            raise ValueError(f"preprocess expects images (N, H, W) or (N, C, H, W), got shape {x.shape}")
        x = dtype(low) + dtype(high - low) * x
        if pad:
            x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=low)
        return x

    preprocess.config = {"pad": pad, "low": float(low), "high": float(high)}
    return preprocess
