"""Every fast path against its readable reference.

- the compiled convolution loops (numba, optional) against the direct loops;
- the Conv2d layer's compiled and im2col routes (kept columns / flattened input)
  against the direct algorithm, with and without a connection table;
- the pooling fast path for tiles (stride == kernel, no padding) against the
  general im2col path;
- "auto" with the compiled kernels switched on and off.

Timings live in benchmarks/, not here.
"""

import numpy as np
import pytest

from cnnbp import layers
from cnnbp.functional import _fast
from cnnbp.functional import pooling as P
from cnnbp.functional.conv import (
    compiled,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weight,
    geometry,
    resolve_algorithm,
)
from cnnbp.functional.conv.im2col import im2col

needs_numba = pytest.mark.skipif(not _fast.available(), reason="numba not installed or switched off")

# (x shape, w shape, padding): non-square, asymmetric padding, even kernels, 1x1, batch 1
CONV_CASES = [
    ((2, 1, 8, 8), (3, 1, 5, 5), 2),
    ((1, 3, 7, 9), (4, 3, 3, 3), 0),
    ((3, 2, 6, 5), (2, 2, 2, 3), (1, 0)),
    ((2, 2, 9, 6), (3, 2, 4, 2), "same"),
    ((2, 3, 5, 6), (2, 3, 1, 1), 0),
    ((1, 2, 6, 7), (2, 2, 3, 3), (0, 2, 1, 0)),
    ((2, 1, 5, 5), (1, 1, 3, 3), "full"),
]


@pytest.fixture
def numpy_only():
    """Run a test with the compiled kernels switched off, then restore the switch."""
    old = _fast.available()
    _fast.set_enabled(False)
    yield
    if old:
        _fast.set_enabled(True)


def _arrays(x_shape, w_shape, padding, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    b = rng.normal(size=w_shape[0]).astype(dtype)
    delta = rng.normal(size=conv2d(x, w, padding=padding).shape).astype(dtype)
    return x, w, b, delta


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


# -- compiled convolution ----------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, padding", CONV_CASES)
def test_compiled_forward_matches_direct(x_shape, w_shape, padding, dtype):
    x, w, b, _ = _arrays(x_shape, w_shape, padding, dtype)
    y = conv2d(x, w, b, padding=padding, algorithm="compiled")
    assert y.dtype == dtype
    np.testing.assert_allclose(y, conv2d(x, w, b, padding=padding), **_tol(dtype))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, padding", CONV_CASES)
def test_compiled_backward_input_matches_direct(x_shape, w_shape, padding, dtype):
    x, w, _, delta = _arrays(x_shape, w_shape, padding, dtype)
    got = conv2d_backward_input(delta, w, x.shape, padding=padding, algorithm="compiled")
    assert got.dtype == dtype
    np.testing.assert_allclose(got, conv2d_backward_input(delta, w, x.shape, padding=padding),
                               **_tol(dtype))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, padding", CONV_CASES)
def test_compiled_backward_weight_matches_direct(x_shape, w_shape, padding, dtype):
    x, w, _, delta = _arrays(x_shape, w_shape, padding, dtype)
    got = conv2d_backward_weight(delta, x, w.shape, padding=padding, algorithm="compiled")
    assert got.dtype == dtype
    np.testing.assert_allclose(got, conv2d_backward_weight(delta, x, w.shape, padding=padding),
                               **_tol(dtype))


@needs_numba
def test_compiled_skips_unconnected_kernels_whatever_they_hold():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 7, 7))
    w = rng.normal(size=(4, 3, 3, 3))
    table = rng.random((3, 4)) < 0.5
    w_bad = w.copy()
    w_bad[~table.T] = np.nan  # unconnected kernels must not matter
    delta = rng.normal(size=(2, 4, 5, 5))
    opts = dict(connections=table)
    np.testing.assert_allclose(conv2d(x, w_bad, algorithm="compiled", **opts), conv2d(x, w, **opts),
                               atol=1e-10)
    np.testing.assert_allclose(
        conv2d_backward_input(delta, w_bad, x.shape, algorithm="compiled", **opts),
        conv2d_backward_input(delta, w, x.shape, **opts), atol=1e-10)
    dW = conv2d_backward_weight(delta, x, w.shape, algorithm="compiled", **opts)
    assert np.all(dW[~table.T] == 0)
    np.testing.assert_allclose(dW, conv2d_backward_weight(delta, x, w.shape, **opts), atol=1e-10)


@needs_numba
def test_compiled_rejects_stride_and_dilation():
    x, w = np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="stride 1 and dilation 1"):
        conv2d(x, w, stride=2, algorithm="compiled")
    with pytest.raises(ValueError, match="stride 1 and dilation 1"):
        conv2d(x, w, dilation=2, algorithm="compiled")


def test_compiled_without_numba_is_a_clear_error(numpy_only):
    with pytest.raises(RuntimeError, match="numba"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), algorithm="compiled")


@needs_numba
def test_compiled_backward_weight_does_not_depend_on_the_thread_split():
    numba = pytest.importorskip("numba")
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(7, 2, 6, 6)), rng.normal(size=(3, 2, 3, 3))
    delta = rng.normal(size=(7, 3, 4, 4))
    g = geometry(x.shape, w.shape)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = compiled.backward_weight(delta, x, g)
        numba.set_num_threads(old)
        many = compiled.backward_weight(delta, x, g)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_allclose(one, many, rtol=1e-12)


# -- "auto" ------------------------------------------------------------------------------
@needs_numba
def test_auto_uses_the_compiled_loops_for_stride_one():
    g = geometry((1, 1, 32, 32), (6, 1, 5, 5))
    assert resolve_algorithm("auto", g) == "compiled"
    assert resolve_algorithm("auto", geometry((1, 1, 32, 32), (6, 1, 5, 5), stride=2)) == "im2col"


def test_auto_without_numba_uses_the_numpy_rule(numpy_only):
    assert resolve_algorithm("auto", geometry((1, 1, 32, 32), (6, 1, 5, 5))) == "im2col"
    assert resolve_algorithm("auto", geometry((1, 1, 64, 64), (6, 1, 9, 9))) == "fft"


# -- the Conv2d layer's routes -------------------------------------------------------------
def _layer_pair(algorithm, connections=None, padding=0):
    fast = layers.Conv2d(3, 4, 3, padding=padding, connections=connections, algorithm=algorithm,
                         rng=0, dtype=np.float64)
    ref = layers.Conv2d(3, 4, 3, padding=padding, connections=connections, algorithm="direct",
                        rng=0, dtype=np.float64)
    return fast, ref


def _check_layer_routes(algorithm, connections=None, padding=0):
    rng = np.random.default_rng(3)
    fast, ref = _layer_pair(algorithm, connections, padding)
    for n in (2, 2, 3):  # reused work arrays (same shape), then a new shape
        x = rng.normal(size=(n, 3, 7, 6))
        y = fast.forward(x)
        np.testing.assert_allclose(y, ref.forward(x), atol=1e-10)
        delta = rng.normal(size=y.shape)
        np.testing.assert_allclose(fast.backward(delta), ref.backward(delta), atol=1e-10)
        for name in ("weight", "bias"):
            np.testing.assert_allclose(fast.parameters()[name].grad, ref.parameters()[name].grad,
                                       atol=1e-10)


TABLE = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool)


@needs_numba
@pytest.mark.parametrize("connections", [None, TABLE])
@pytest.mark.parametrize("padding", [0, 1])
def test_conv2d_layer_compiled_route_matches_direct(connections, padding):
    _check_layer_routes("compiled", connections, padding)


@pytest.mark.parametrize("connections", [None, TABLE])
@pytest.mark.parametrize("padding", [0, 1])
def test_conv2d_layer_im2col_route_matches_direct(connections, padding):
    _check_layer_routes("im2col", connections, padding)


@pytest.mark.parametrize("algorithm", ["im2col", "auto"])
def test_conv2d_layer_with_a_one_by_one_output_keeps_the_input_intact(algorithm):
    # A window as large as the input (LeNet's C5): the columns are a view of x.
    rng = np.random.default_rng(9)
    fast = layers.Conv2d(3, 5, (7, 6), algorithm=algorithm, rng=0, dtype=np.float64)
    ref = layers.Conv2d(3, 5, (7, 6), algorithm="direct", rng=0, dtype=np.float64)
    for _ in range(2):
        x = rng.normal(size=(4, 3, 7, 6))
        x_copy = x.copy()
        np.testing.assert_allclose(fast.forward(x), ref.forward(x), atol=1e-10)
        delta = rng.normal(size=(4, 5, 1, 1))
        np.testing.assert_allclose(fast.backward(delta), ref.backward(delta), atol=1e-10)
        np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_allclose(fast.weight.grad, ref.weight.grad, atol=1e-10)


@pytest.mark.parametrize("connections", [None, TABLE])
def test_conv2d_layer_auto_without_numba_matches_direct(numpy_only, connections):
    _check_layer_routes("auto", connections)


# -- im2col through strided views --------------------------------------------------------
@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((1, 2), (0, 1), (2, 1))])
def test_im2col_views_match_the_definition(stride, padding, dilation):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 2, 7, 8))
    kh, kw = 3, 2
    cols = im2col(x, kh, kw, stride, padding, dilation)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    for i in range(kh):
        for j in range(kw):
            for oh in range(cols.shape[4]):
                for ow in range(cols.shape[5]):
                    np.testing.assert_array_equal(cols[:, :, i, j, oh, ow],
                                                  xp[:, :, oh * sh + i * dh, ow * sw + j * dw])


# -- pooling over tiles ----------------------------------------------------------------------
POOL_SHAPES = [((2, 3, 8, 8), 2), ((1, 2, 9, 7), 2), ((2, 1, 6, 9), (3, 2)), ((1, 1, 5, 5), 5),
               ((1, 2, 8, 8), 3)]


@pytest.mark.parametrize("shape, k", POOL_SHAPES)
def test_tile_window_sum_matches_general(shape, k):
    x = np.random.default_rng(5).normal(size=shape)
    np.testing.assert_allclose(P.window_sum(x, k), P.window_sum(x, k, _general=True), atol=1e-12)


@pytest.mark.parametrize("shape, k", POOL_SHAPES)
def test_tile_window_sum_backward_matches_general(shape, k):
    rng = np.random.default_rng(6)
    out_shape = P.pool_output_shape(shape, k)
    delta = rng.normal(size=out_shape)
    np.testing.assert_allclose(P.window_sum_backward(delta, shape, k),
                               P.window_sum_backward(delta, shape, k, _general=True), atol=1e-12)


@pytest.mark.parametrize("shape, k", POOL_SHAPES)
def test_numpy_tile_window_sum_backward_matches_general(numpy_only, shape, k):
    test_tile_window_sum_backward_matches_general(shape, k)


@pytest.mark.parametrize("shape, k", POOL_SHAPES)
def test_tile_avg_pool_backward_matches_general(shape, k):
    delta = np.random.default_rng(10).normal(size=P.pool_output_shape(shape, k))
    general = P.window_sum_backward(delta, shape, k, _general=True) / np.prod(P.pair(k, "k"))
    np.testing.assert_allclose(P.avg_pool2d_backward(delta, shape, k), general, rtol=1e-12)


@pytest.mark.parametrize("shape, k", POOL_SHAPES)
def test_tile_max_pool_matches_general_with_ties(shape, k):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=shape).astype(np.float32)  # many ties
    y, a = P.max_pool2d(x, k, return_argmax=True)
    y_ref, a_ref = P.max_pool2d(x, k, return_argmax=True, _general=True)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(a, a_ref)
    delta = rng.normal(size=y.shape).astype(np.float32)
    np.testing.assert_array_equal(P.max_pool2d_backward(delta, a, shape, k),
                                  P.max_pool2d_backward(delta, a_ref, shape, k, _general=True))


def _check_tile_max_nan():
    x = np.array([[[[1.0, np.nan, np.nan, 2.0],
                    [np.nan, 5.0, 3.0, 4.0]]]])
    y, a = P.max_pool2d(x, 2, return_argmax=True)
    y_ref, a_ref = P.max_pool2d(x, 2, return_argmax=True, _general=True)
    np.testing.assert_array_equal(a, a_ref)
    np.testing.assert_array_equal(a, [[[[1, 0]]]])
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_ref))


def test_tile_max_pool_takes_the_first_nan_as_argmax_does(numpy_only):
    _check_tile_max_nan()


@needs_numba
def test_compiled_tile_max_pool_takes_the_first_nan_as_argmax_does():
    _check_tile_max_nan()


@pytest.mark.parametrize("shape, k", POOL_SHAPES)
def test_numpy_tile_max_pool_matches_general(numpy_only, shape, k):
    test_tile_max_pool_matches_general_with_ties(shape, k)


# -- activations ---------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_tanh_backward_matches_numpy(dtype):
    from cnnbp.functional import activations as A

    rng = np.random.default_rng(8)
    delta = rng.normal(size=(4, 3, 20, 20)).astype(dtype)
    y = np.tanh(rng.normal(size=delta.shape)).astype(dtype)
    assert delta.size >= A._FUSED_MIN_SIZE
    got = A.tanh_backward(delta, y)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, delta * (1 - y * y), **_tol(dtype))
