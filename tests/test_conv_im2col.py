"""im2col / col2im: the window helpers shared by convolution and pooling."""

import numpy as np
import pytest

from cnnbp.functional.conv.im2col import col2im, im2col

# (x_shape, kh, kw, stride, padding, dilation): zero padding, non-square inputs and
# kernels, strides that do not tile the input, dilation and 4-number padding.
WINDOW_CASES = [
    ((2, 3, 5, 5), 3, 3, 1, 0, 1),
    ((1, 2, 7, 5), 2, 3, 1, 0, 1),
    ((2, 1, 6, 9), 3, 2, (2, 3), 0, 1),
    ((1, 2, 5, 4), 3, 3, 1, 1, 1),
    ((2, 2, 6, 7), 2, 3, 2, (1, 2), 1),
    ((1, 3, 9, 8), 3, 2, 1, 2, 2),
    ((1, 1, 5, 6), 4, 2, 1, (1, 2, 0, 1), 1),
    ((1, 1, 6, 5), 2, 2, 3, 0, (2, 1)),
]


def _loop_im2col(x, kh, kw, s, p4, d, pad_value=0.0):
    """Plain loops over every window: the definition im2col must match."""
    top, bottom, left, right = p4
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=pad_value)
    N, C, Hp, Wp = xp.shape
    oh = (Hp - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (Wp - d[1] * (kw - 1) - 1) // s[1] + 1
    cols = np.zeros((N, C, kh, kw, oh, ow), dtype=x.dtype)
    for a in range(oh):
        for b in range(ow):
            for i in range(kh):
                for j in range(kw):
                    cols[:, :, i, j, a, b] = xp[:, :, a * s[0] + i * d[0], b * s[1] + j * d[1]]
    return cols


def _four(p):
    if isinstance(p, int):
        return (p, p, p, p)
    if len(p) == 2:
        return (p[0], p[0], p[1], p[1])
    return tuple(p)


def _two(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("x_shape, kh, kw, s, p, d", WINDOW_CASES)
def test_im2col_matches_the_window_loops(x_shape, kh, kw, s, p, d, rng):
    x = rng.normal(size=x_shape)
    cols = im2col(x, kh, kw, s, p, d)
    np.testing.assert_array_equal(cols, _loop_im2col(x, kh, kw, _two(s), _four(p), _two(d)))


@pytest.mark.parametrize("x_shape, kh, kw, s, p, d", WINDOW_CASES)
def test_col2im_is_the_adjoint_of_im2col(x_shape, kh, kw, s, p, d, rng):
    # <im2col(x), c> == <x, col2im(c)> for every x and c
    x = rng.normal(size=x_shape)
    cols = im2col(x, kh, kw, s, p, d)
    c = rng.normal(size=cols.shape)
    back = col2im(c, x_shape, s, p, d)
    assert back.shape == x_shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


def test_col2im_without_padding_keeps_every_row_and_column():
    # The x[p:-p] bug returns an empty array when p == 0.
    x_shape = (1, 1, 4, 3)
    ones = np.ones((1, 1, 2, 2, 3, 2))
    back = col2im(ones, x_shape, 1, 0, 1)
    expected = np.array([[1, 2, 1], [2, 4, 2], [2, 4, 2], [1, 2, 1]], dtype=float)
    np.testing.assert_array_equal(back[0, 0], expected)


def test_im2col_pads_with_the_given_value():
    x = np.zeros((1, 1, 2, 2))
    cols = im2col(x, 2, 2, 2, 1, 1, pad_value=-np.inf)
    assert cols.shape == (1, 1, 2, 2, 2, 2)
    # window (0, 0) covers one real value, at kernel offset (1, 1)
    assert cols[0, 0, 1, 1, 0, 0] == 0 and np.isneginf(cols[0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_keep_the_dtype(dtype):
    x = np.ones((1, 2, 4, 4), dtype=dtype)
    cols = im2col(x, 3, 3, 1, 1, 1)
    assert cols.dtype == dtype
    assert col2im(cols, x.shape, 1, 1, 1).dtype == dtype


def test_im2col_rejects_a_window_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="larger than the padded input"):
        im2col(np.zeros((1, 1, 3, 5)), 4, 2, 1, 0, 1)


def test_col2im_rejects_cols_that_do_not_match_the_input_shape():
    with pytest.raises(ValueError, match="windows"):
        col2im(np.zeros((1, 1, 2, 2, 3, 3)), (1, 1, 5, 5), 1, 0, 1)
