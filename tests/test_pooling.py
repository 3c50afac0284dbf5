"""Pooling layers: gradients, the max-pooling routing and tie rule, P2's Kronecker form,
LP pooling at zero, a plain-loop reference, and PyTorch parity."""

import itertools

import numpy as np
import pytest

import cnnbp
from cnnbp import functional as F
from cnnbp import layers as L


SHAPES = [(1, 1, 7, 6), (3, 3, 6, 7)]           # batch 1 and 3, channels 1 and 3, non-square
KERNELS = [2, 3]
STRIDES = [1, 2, 3]                              # 1 and 2 overlap for kernel 3; 1 for kernel 2
PADDINGS = [0, 1]
GRID = list(itertools.product(KERNELS, STRIDES, PADDINGS, SHAPES))
GRID_IDS = [f"k{k}-s{s}-p{p}-{'x'.join(map(str, sh))}" for k, s, p, sh in GRID]


def distinct_input(shape, seed=0):
    """Values spaced 0.1 apart in random order: no ties, so max pooling is differentiable."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 5.0


def naive_pool(x, k, s, p, reduce, pad_value):
    """The plain-loop reference: one window at a time."""
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * p, w + 2 * p), pad_value, dtype=x.dtype)
    xp[:, :, p:p + h, p:p + w] = x
    out_h, out_w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    y = np.empty((n, c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            y[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return y


# -- gradient checks over the grid -------------------------------------------------------
@pytest.mark.parametrize("k,s,p,shape", GRID, ids=GRID_IDS)
def test_max_pool_gradcheck(k, s, p, shape):
    r = cnnbp.gradcheck(L.MaxPool2d(k, s, p), distinct_input(shape))
    assert r.worst < 1e-6, r.report()


@pytest.mark.parametrize("k,s,p,shape", GRID, ids=GRID_IDS)
def test_avg_pool_gradcheck(k, s, p, shape):
    x = np.random.default_rng(1).normal(size=shape)
    r = cnnbp.gradcheck(L.AvgPool2d(k, s, p), x)
    assert r.worst < 1e-6, r.report()


@pytest.mark.parametrize("norm_type", [1, 2, 3])
@pytest.mark.parametrize("k,s,shape", [(k, s, sh) for k, s, p, sh in GRID if p == 0],
                         ids=[i for i, (_, _, p, _) in zip(GRID_IDS, GRID) if p == 0])
def test_lp_pool_gradcheck(norm_type, k, s, shape):
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    if norm_type == 3:
        x = np.abs(x) + 0.1                      # odd p: defined for non-negative inputs
    r = cnnbp.gradcheck(L.LPPool2d(norm_type, k, s), x)
    assert r.worst < 1e-6, r.report()


@pytest.mark.parametrize("layer", [
    L.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 0)),
    L.AvgPool2d((3, 2), stride=(2, 1), padding=(0, 1)),
    L.LPPool2d(2, (2, 3), stride=(1, 2)),
], ids=["max", "avg", "lp"])
def test_non_square_kernel_and_stride_gradcheck(layer):
    r = cnnbp.gradcheck(layer, distinct_input((2, 2, 7, 8)))
    assert r.worst < 1e-6, r.report()


# -- agreement with the plain-loop reference --------------------------------------------------
@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 3, 1)])
def test_max_and_avg_forward_match_plain_loops(k, s, p):
    x = np.random.default_rng(3).normal(size=(2, 3, 7, 9))
    np.testing.assert_allclose(F.max_pool2d(x, k, s, p), naive_pool(x, k, s, p, np.max, -np.inf))
    np.testing.assert_allclose(F.avg_pool2d(x, k, s, p), naive_pool(x, k, s, p, np.mean, 0.0))


def test_output_size_formula_rounds_down():
    # H_out = floor((H + 2p - k) / s) + 1: (7 + 2 - 3) // 2 + 1 = 4, (6 + 2 - 3) // 2 + 1 = 3
    assert F.pool_output_shape((2, 5, 7, 6), 3, 2, 1) == (2, 5, 4, 3)
    assert L.MaxPool2d(2).forward(np.zeros((1, 1, 5, 7))).shape == (1, 1, 2, 3)


# -- max pooling: the residual goes where the sample came from --------------------------------
def test_max_pool_residual_goes_only_to_the_sampled_position():
    x = np.array([[[[1., 2., 0., 7.],
                    [4., 3., 6., 5.],
                    [0., 9., 8., 1.],
                    [2., 1., 1., 3.]]]])
    pool = L.MaxPool2d(2)
    np.testing.assert_array_equal(pool.forward(x)[0, 0], [[4., 7.], [9., 8.]])
    dx = pool.backward(np.array([[[[10., 20.], [30., 40.]]]]))
    expected = np.zeros((4, 4))
    expected[1, 0], expected[0, 3], expected[2, 1], expected[2, 2] = 10., 20., 30., 40.
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_max_pool_tie_goes_to_first_position_in_row_major_window_order():
    x = np.array([[[[5., 5.], [5., 5.]]]])       # every position is the maximum
    pool = L.MaxPool2d(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1)))[0, 0], [[1., 0.], [0., 0.]])

    x = np.array([[[[0., 5.], [5., 1.]]]])       # (0, 1) comes before (1, 0) in row-major order
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1)))[0, 0], [[0., 1.], [0., 0.]])


def test_max_pool_overlapping_windows_sum_residuals_at_a_shared_maximum():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0                          # the maximum of all four 2x2 windows
    pool = L.MaxPool2d(2, stride=1)
    pool.forward(x)
    dx = pool.backward(np.array([[[[1., 2.], [3., 4.]]]]))
    assert dx[0, 0, 1, 1] == 10.0 and np.count_nonzero(dx) == 1


def test_max_pool_padding_is_never_sampled():
    x = -np.ones((1, 1, 2, 2)) * np.arange(1, 5).reshape(1, 1, 2, 2)   # all negative
    y = F.max_pool2d(x, 3, 1, 1)
    assert np.all(y < 0)                         # zero padding would have given 0
    np.testing.assert_array_equal(y[0, 0], [[-1., -1.], [-1., -1.]])


def test_max_pool_channels_are_pooled_separately():
    x = np.zeros((1, 2, 2, 2))
    x[0, 0, 0, 0] = 1.0
    x[0, 1, 1, 1] = 2.0
    np.testing.assert_array_equal(F.max_pool2d(x, 2)[0, :, 0, 0], [1.0, 2.0])


# -- mean pooling: P2's Kronecker upsampling -------------------------------------------------
@pytest.mark.parametrize("k,shape", [(2, (2, 3, 6, 4)), ((2, 3), (1, 2, 4, 9)), (3, (1, 1, 7, 8))])
def test_avg_pool_backward_is_kronecker_upsampling_when_stride_equals_kernel(k, shape):
    kh, kw = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(4)
    out_shape = F.pool_output_shape(shape, k)
    delta = rng.normal(size=out_shape)
    dx = F.avg_pool2d_backward(delta, shape, k)
    expected = np.zeros(shape)
    h, w = out_shape[2] * kh, out_shape[3] * kw  # rows/columns past these are in no window
    expected[:, :, :h, :w] = np.kron(delta, np.ones((1, 1, kh, kw))) / (kh * kw)
    np.testing.assert_allclose(dx, expected, rtol=0, atol=1e-15)
    # ... and the general (col2im) form of up() agrees with the Kronecker form.
    general = F.window_sum_backward(delta, shape, k, stride=(kh, kw), padding=0)
    np.testing.assert_allclose(general, expected * (kh * kw))


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 3, 1)])
def test_up_is_the_adjoint_of_down(k, s, p):
    # <down(x), delta> = <x, up(delta)>: up() sends each residual back where it came from.
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 2, 7, 6))
    delta = rng.normal(size=F.pool_output_shape(x.shape, k, s, p))
    lhs = np.sum(F.window_sum(x, k, s, p) * delta)
    rhs = np.sum(x * F.window_sum_backward(delta, x.shape, k, s, p))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_avg_pool_counts_padded_zeros_in_the_mean():
    x = np.ones((1, 1, 2, 2))
    y = F.avg_pool2d(x, 2, stride=2, padding=1)
    np.testing.assert_array_equal(y[0, 0], np.full((2, 2), 0.25))   # 1 real value of 4


def test_upsample_kron_repeats_each_residual_over_a_block():
    d = np.array([[[[1., 2.], [3., 4.]]]])
    np.testing.assert_array_equal(
        F.upsample_kron(d, 2)[0, 0],
        [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
    )


# -- LP (square) pooling ------------------------------------------------------------------------
def test_square_pooling_is_the_euclidean_norm_of_each_window():
    x = np.array([[[[3., 4.], [0., 0.]]]])
    np.testing.assert_allclose(F.lp_pool2d(x, 2, 2), [[[[5.0]]]])


def test_lp_pool_zero_window_gives_zero_finite_gradient():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = [[1., 2.], [2., 4.]]       # only the last window is non-zero
    pool = L.LPPool2d(2, 2)
    y = pool.forward(x)
    assert y[0, 0, 0, 0] == 0
    with np.errstate(all="raise"):
        dx = pool.backward(np.ones_like(y))
    assert np.all(np.isfinite(dx))
    np.testing.assert_array_equal(dx[0, 0, :2, :2], 0)
    np.testing.assert_allclose(dx[0, 0, 2:, 2:], x[0, 0, 2:, 2:] / 5.0)   # x / ||x||


def test_lp_pool_rejects_negative_input_for_odd_norm():
    with pytest.raises(ValueError, match="non-negative"):
        L.LPPool2d(3, 2).forward(-np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("norm_type", [0.5, 0, float("inf"), float("nan")])
def test_lp_pool_rejects_bad_norm_type(norm_type):
    with pytest.raises(ValueError, match="norm_type"):
        L.LPPool2d(norm_type, 2)


# -- argument and shape errors ------------------------------------------------------------------
def test_padding_larger_than_half_the_kernel_is_rejected():
    with pytest.raises(ValueError, match="half the kernel"):
        L.MaxPool2d(2, padding=2)


def test_kernel_larger_than_the_input_is_rejected():
    with pytest.raises(ValueError, match=r"larger than the padded input"):
        L.AvgPool2d(5).forward(np.zeros((1, 1, 4, 6)))


def test_non_nchw_input_is_rejected_with_the_shape_found():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got \(4, 4\)"):
        L.MaxPool2d(2).forward(np.zeros((4, 4)))


@pytest.mark.parametrize("make", [lambda: L.MaxPool2d(2), lambda: L.AvgPool2d(2),
                                  lambda: L.LPPool2d(2, 2)], ids=["max", "avg", "lp"])
def test_pooling_honours_float32(make):
    layer = make()
    x = np.random.default_rng(6).normal(size=(2, 2, 4, 6)).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_pooling_counts():
    pool = L.MaxPool2d(2)
    assert pool.num_parameters() == 0 and pool.parameters() == {}
    assert pool.num_connections((6, 28, 28), (6, 14, 14)) == 4 * 6 * 14 * 14


# -- PyTorch parity (float64) ----------------------------------------------------------------------
PARITY = [(2, None, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 0)), (2, 3, 0)]


@pytest.mark.parametrize("k,s,p", PARITY)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_torch_parity_max_avg(kind, k, s, p):
    torch = pytest.importorskip("torch")
    x = distinct_input((2, 3, 7, 8), seed=7)
    delta = np.random.default_rng(8).normal(size=F.pool_output_shape(x.shape, k, s, p))
    layer = (L.MaxPool2d if kind == "max" else L.AvgPool2d)(k, s, p)
    y = layer.forward(x)
    dx = layer.backward(delta)

    xt = torch.tensor(x, requires_grad=True)
    if kind == "max":
        yt = torch.nn.functional.max_pool2d(xt, k, s, p)
    else:
        yt = torch.nn.functional.avg_pool2d(xt, k, s, p)   # count_include_pad=True
    yt.backward(torch.tensor(delta))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm_type", [1, 2, 3])
@pytest.mark.parametrize("k,s", [(2, None), (3, 2), (3, 1), ((2, 3), (1, 2))])
def test_torch_parity_lp(norm_type, k, s):
    torch = pytest.importorskip("torch")
    x = np.abs(np.random.default_rng(9).normal(size=(2, 3, 7, 8))) + 0.1
    layer = L.LPPool2d(norm_type, k, s)
    y = layer.forward(x)
    delta = np.random.default_rng(10).normal(size=y.shape)
    dx = layer.backward(delta)

    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.lp_pool2d(xt, norm_type, k, s)
    yt.backward(torch.tensor(delta))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_integer_input_is_rejected_with_the_dtype_found():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        F.max_pool2d(np.zeros((1, 1, 4, 4), dtype=np.int64), 2)
