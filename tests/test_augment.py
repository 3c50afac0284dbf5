"""Data augmentation: integer shifts and elastic distortions (Simard et al. 2003)."""

import numpy as np
import pytest

from cnnbp.training import augment as A


def dot_images(n, size=9, row=4, col=4, dtype=np.uint8):
    x = np.zeros((n, size, size), dtype=dtype)
    x[:, row, col] = 200
    return x


# -- shifts ------------------------------------------------------------------------------
@pytest.mark.parametrize("dy, dx", [(1, 0), (0, 1), (-2, 3), (3, -1), (0, 0)])
def test_shift_moves_the_pixel_by_dy_dx(dy, dx):
    x = dot_images(1)
    out = A.shift_images(x, np.array([[dy, dx]]))
    expected = np.zeros_like(x)
    expected[0, 4 + dy, 4 + dx] = 200
    np.testing.assert_array_equal(out, expected)


def test_shift_fills_with_zeros_and_drops_pixels_that_leave_the_image():
    x = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4)   # non-square
    out = A.shift_images(x, np.array([[1, -2]]))
    expected = np.array([[0, 0, 0, 0], [3, 4, 0, 0], [7, 8, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(out[0], expected)


def test_shift_applies_each_images_own_shift():
    x = dot_images(3)
    out = A.shift_images(x, np.array([[0, 0], [1, 1], [-1, 2]]))
    assert [tuple(np.argwhere(img)[0]) for img in out] == [(4, 4), (5, 5), (3, 6)]


def test_random_shift_zero_is_the_identity(rng):
    x = rng.integers(0, 256, (5, 7, 6), dtype=np.uint8)
    np.testing.assert_array_equal(A.random_shift(x, 0, rng), x)
    np.testing.assert_array_equal(A.shift_images(x, np.zeros((5, 2), dtype=int)), x)


def test_random_shift_stays_within_max_shift_and_uses_every_offset(rng):
    out = A.random_shift(dot_images(400), 2, rng)
    offsets = np.array([np.argwhere(img)[0] - 4 for img in out])
    assert np.abs(offsets).max() == 2
    assert {tuple(o) for o in offsets} == {(a, b) for a in range(-2, 3) for b in range(-2, 3)}


# -- Gaussian smoothing and bilinear interpolation -------------------------------------------
def test_gaussian_kernel_is_normalised_and_symmetric():
    k = A.gaussian_kernel1d(1.5)
    assert k.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(k, k[::-1])
    assert k.size == 2 * round(4 * 1.5) + 1


def test_smoothing_matrix_equals_a_direct_convolution_with_mirrored_borders(rng):
    v = rng.normal(size=11)
    k = A.gaussian_kernel1d(2.0)
    r = k.size // 2
    padded = np.pad(v, r, mode="symmetric")
    direct = np.array([padded[i:i + k.size] @ k for i in range(v.size)])
    np.testing.assert_allclose(A.smoothing_matrix(11, 2.0) @ v, direct, rtol=1e-12, atol=1e-14)
    # A constant field stays constant: each row of the matrix sums to 1.
    np.testing.assert_allclose(A.smoothing_matrix(11, 2.0).sum(axis=1), 1.0)


def test_bilinear_sample_matches_a_plain_loop_reference(rng):
    images = rng.normal(size=(2, 3, 5, 7))
    rows = rng.uniform(-3, 8, size=(2, 4, 6))
    cols = rng.uniform(-3, 10, size=(2, 4, 6))

    def pixel(n, k, r, c):
        return images[n, k, r, c] if 0 <= r < 5 and 0 <= c < 7 else 0.0

    expected = np.zeros((2, 3, 4, 6))
    for n, k, i, j in np.ndindex(*expected.shape):
        r, c = rows[n, i, j], cols[n, i, j]
        r0, c0 = int(np.floor(r)), int(np.floor(c))
        fr, fc = r - r0, c - c0
        expected[n, k, i, j] = ((1 - fr) * (1 - fc) * pixel(n, k, r0, c0) + (1 - fr) * fc * pixel(n, k, r0, c0 + 1)
                                + fr * (1 - fc) * pixel(n, k, r0 + 1, c0) + fr * fc * pixel(n, k, r0 + 1, c0 + 1))
    out = A.bilinear_sample(images, rows, cols, dtype=np.float64)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_bilinear_sample_at_the_pixel_grid_returns_the_image(rng):
    images = rng.normal(size=(2, 1, 4, 5))
    rows, cols = np.meshgrid(np.arange(4.0), np.arange(5.0), indexing="ij")
    out = A.bilinear_sample(images, np.broadcast_to(rows, (2, 4, 5)), np.broadcast_to(cols, (2, 4, 5)),
                            dtype=np.float64)
    np.testing.assert_array_equal(out, images)


# -- elastic distortion ---------------------------------------------------------------------
def test_elastic_with_alpha_zero_is_the_identity(rng):
    x = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(A.elastic_distort(x, 0.0, 4.0, rng), x)


def test_elastic_with_a_tiny_alpha_barely_moves_pixels(rng):
    x = rng.random((3, 12, 10))
    out = A.elastic_distort(x, 1e-3, 3.0, rng)
    assert 0 < np.abs(out - x)[:, 1:-1, 1:-1].max() < 1e-2


def test_elastic_gives_each_image_its_own_field(rng):
    x = np.repeat(rng.integers(0, 256, (1, 16, 16), dtype=np.uint8), 2, axis=0)
    out = A.elastic_distort(x, 8.0, 3.0, rng)
    assert not np.array_equal(out[0], out[1])
    assert not np.array_equal(out[0], x[0])


@pytest.mark.parametrize("shape", [(5, 11, 9), (5, 1, 11, 9), (1, 2, 8, 8)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("name", ["shift", "elastic"])
def test_output_keeps_shape_and_dtype(shape, dtype, name, rng):
    x = (rng.random(shape) * 255).astype(dtype)
    out = A.RandomShift(2)(x, rng) if name == "shift" else A.ElasticDistortion(10.0, 3.0)(x, rng)
    assert out.shape == x.shape and out.dtype == x.dtype
    if dtype == np.uint8:
        assert out.max() <= 255


def test_channels_of_one_image_share_the_displacement(rng):
    x = rng.random((2, 1, 10, 10))
    both = A.elastic_distort(np.concatenate([x, x], axis=1), 6.0, 2.0, np.random.default_rng(5))
    np.testing.assert_array_equal(both[:, 0], both[:, 1])


@pytest.mark.parametrize("augment", [A.RandomShift(2), A.ElasticDistortion(34.0, 4.0),
                                     A.Compose(A.RandomShift(1), A.ElasticDistortion())])
def test_same_seed_same_output_other_seed_other_output(augment):
    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28), dtype=np.uint8)
    a = augment(x, np.random.default_rng(42))
    b = augment(x, np.random.default_rng(42))
    c = augment(x, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_input_is_not_modified(rng):
    x = rng.integers(0, 256, (4, 10, 10), dtype=np.uint8)
    before = x.copy()
    A.Compose(A.RandomShift(2), A.ElasticDistortion(5.0, 2.0))(x, rng)
    np.testing.assert_array_equal(x, before)


def test_bad_arguments_raise_clear_errors(rng):
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, C, H, W\)"):
        A.random_shift(np.zeros((4, 4)), 1, rng)
    with pytest.raises(TypeError, match="Generator"):
        A.random_shift(np.zeros((1, 4, 4)), 1, 0)
    with pytest.raises(ValueError, match="max_shift"):
        A.RandomShift(-1)
    with pytest.raises(ValueError, match="sigma"):
        A.elastic_distort(np.zeros((1, 4, 4)), 1.0, 0.0, rng)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        A.shift_images(np.zeros((2, 4, 4)), np.zeros((3, 2), dtype=int))
