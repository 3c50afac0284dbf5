"""Preparing a user's digit image like MNIST: grayscale, inverted, centred, 28x28."""

import numpy as np
import pytest
from PIL import Image

from cnnbp.data.digits import ImageError, load_digit, to_mnist


def _dark_on_light_seven(h=90, w=60):
    img = np.full((h, w), 240, dtype=np.uint8)
    img[15:22, 10:50] = 20          # the bar of a 7
    for r in range(22, 80):         # its diagonal stroke
        c = 48 - (r - 22) // 2
        img[r, c - 3:c + 3] = 20
    return img


def test_dark_on_light_digit_is_inverted_scaled_and_centred():
    digit = to_mnist(_dark_on_light_seven().astype(float))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # black background, light ink
    rows, cols = np.nonzero(digit)
    assert rows.max() - rows.min() <= 20 and cols.max() - cols.min() <= 20  # fits 20x20
    yy, xx = np.mgrid[0:28, 0:28]
    com = ((yy * digit).sum() / digit.sum(), (xx * digit).sum() / digit.sum())
    assert abs(com[0] - 13.5) <= 1 and abs(com[1] - 13.5) <= 1


def test_colour_png_file_loads(tmp_path):
    gray = _dark_on_light_seven()
    rgb = np.stack([gray, gray, gray], axis=-1)
    path = tmp_path / "seven.png"
    Image.fromarray(rgb).save(path)
    assert load_digit(path).shape == (28, 28)


def test_blank_image_is_a_clear_error(tmp_path):
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((30, 30), 255, np.uint8)).save(path)
    with pytest.raises(ImageError, match="blank"):
        load_digit(path)


def test_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        load_digit(path)
    with pytest.raises(ImageError, match="no such file"):
        load_digit(tmp_path / "missing.png")
