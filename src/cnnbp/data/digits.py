"""Turning a photo or scan of a handwritten digit into an MNIST-like 28x28 image.

MNIST's own recipe (LeCun et al.): the digit is scaled to fit a 20x20 box,
keeping its aspect ratio, then placed in a 28x28 image so that its centre of
mass is at the centre. Here, additionally, colour images are made grayscale and
dark-on-light images (ink darker than the paper) are inverted, since MNIST is
light ink on a black background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class ImageError(ValueError):
    """An image file that cannot be read or holds no digit."""


def load_image(path) -> np.ndarray:
    """Read an image file as a float grayscale array (H, W) in [0, 255]."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, rgba)
            gray = np.asarray(img.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from None
    return gray


def to_mnist(gray: np.ndarray) -> np.ndarray:
    """Grayscale digit (H, W), any size -> uint8 (28, 28), light ink on black, centred.

    Raises ImageError when the image is blank (no ink to centre).
    """
    from PIL import Image

    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ImageError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    # MNIST is light ink on dark paper: invert when the border (the paper) is light.
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray = 255.0 - gray
    lo, hi = np.percentile(gray, 1), gray.max()
    if hi - lo < 1e-6:
        raise ImageError("the image is blank: no digit to read")
    ink = np.clip((gray - lo) / (hi - lo), 0, 1)
    ink[ink < 0.1] = 0
    rows, cols = np.nonzero(ink)
    if rows.size == 0:
        raise ImageError("the image is blank: no digit to read")
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = ink.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((ink * 255).astype(np.uint8)).resize((new_w, new_h), Image.LANCZOS)
    box = np.asarray(small, dtype=np.float64)
    canvas = np.zeros((28, 28))
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = box
    # Shift so the centre of mass lies at the centre (13.5, 13.5), as MNIST does.
    total = canvas.sum()
    yy, xx = np.mgrid[0:28, 0:28]
    dy = int(round(13.5 - (yy * canvas).sum() / total))
    dx = int(round(13.5 - (xx * canvas).sum() / total))
    dy = int(np.clip(dy, -top, 28 - top - new_h))
    dx = int(np.clip(dx, -left, 28 - left - new_w))
    canvas = np.roll(canvas, (dy, dx), axis=(0, 1))
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def load_digit(path) -> np.ndarray:
    """Read an image file and return it as an MNIST-like uint8 (28, 28) digit."""
    try:
        return to_mnist(load_image(path))
    except ImageError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ImageError(f"{path}: {exc}") from None
