"""Convolution: the reference numbers, P3/P4 by gradient checks, and the three algorithms agreeing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnbp
from cnnbp import functional as F
from cnnbp.functional.conv import (
    KernelTransformCache,
    choose_algorithm,
    conv2d,
    conv2d_backward,
    conv2d_backward_input,
    conv2d_backward_weight,
    conv_output_size,
    resolve_padding,
)
from cnnbp.functional.conv._common import geometry
from cnnbp.layers import Conv2d

ALGORITHMS = ["direct", "im2col", "fft"]

# REFERENCE.md section 2: the worked example (cross-correlation, stride 1, no padding).
IMAGE = np.array([[3, 3, 2, 1, 0],
                  [0, 0, 1, 3, 1],
                  [3, 1, 2, 2, 3],
                  [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]], dtype=float)
KERNEL = np.array([[0, 1, 2],
                   [2, 2, 0],
                   [0, 1, 2]], dtype=float)
EXPECTED = np.array([[12, 12, 17],
                     [10, 17, 19],
                     [9, 6, 14]], dtype=float)

# LeNet-5's C3 table, LeCun et al. 1998, Table I: the S2 maps feeding each C3 map.
C3_INPUTS = [(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
             (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
             (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5)]


def c3_table():
    table = np.zeros((6, 16), dtype=bool)
    for m, inputs in enumerate(C3_INPUTS):
        table[list(inputs), m] = True
    return table


def table_3x2():
    """A partial table for 3 input maps and 2 output maps: map 0 sees inputs 0, 1; map 1 sees 1, 2."""
    return np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)


def table_3x3():
    return np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0]], dtype=bool)


# The option grid: (N, C, M, H, W, kernel, stride, padding, dilation, connections).
# Every option appears at least once: stride 1/2/3, padding 0/1/2/"same"/"full",
# dilation 1/2, non-square inputs and kernels, batch 1 and 3, channels 1 and 3,
# with and without a connection table.
GRID = [
    (1, 1, 1, 5, 5, 3, 1, 0, 1, None),
    (3, 3, 2, 6, 5, (3, 2), 1, 1, 1, None),
    (1, 3, 2, 7, 6, (2, 3), 2, 0, 1, "3x2"),
    (3, 1, 2, 8, 7, 3, 3, 2, 1, None),
    (1, 3, 3, 5, 6, (3, 2), 1, "same", 1, "3x3"),
    (1, 1, 2, 4, 5, (2, 3), 1, "full", 1, None),
    (1, 3, 2, 7, 7, 2, 1, 1, 2, None),
    (3, 3, 2, 8, 6, (3, 2), 2, "full", 2, "3x2"),
    (1, 1, 1, 6, 5, (4, 2), 1, "same", 1, None),
    (1, 3, 2, 9, 8, 3, (3, 2), (2, 1), (2, 1), "3x2"),
    (3, 3, 2, 5, 6, 3, 1, "same", 2, None),
    (1, 1, 3, 3, 7, (1, 4), 2, "valid", 1, None),
]
TABLES = {None: lambda: None, "3x2": table_3x2, "3x3": table_3x3}


def grid_id(case):
    N, C, M, H, W, k, s, p, d, t = case
    return f"N{N}-C{C}-M{M}-{H}x{W}-k{k}-s{s}-p{p}-d{d}-{t or 'all_connected'}".replace(" ", "")


def case_arrays(case, rng, dtype=np.float64):
    N, C, M, H, W, k, s, p, d, t = case
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.normal(size=(N, C, H, W)).astype(dtype)
    w = rng.normal(size=(M, C, kh, kw)).astype(dtype)
    b = rng.normal(size=M).astype(dtype)
    options = dict(stride=s, padding=p, dilation=d, connections=TABLES[t]())
    return x, w, b, options


def rel_err(a, ref):
    """Largest difference relative to the largest reference value."""
    return float(np.max(np.abs(a - ref)) / max(np.max(np.abs(ref)), 1e-300))


# -- the reference numbers -------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS + ["auto"])
def test_worked_example_is_reproduced_by_every_algorithm(algorithm):
    y = conv2d(IMAGE[None, None], KERNEL[None, None], algorithm=algorithm)
    np.testing.assert_allclose(y[0, 0], EXPECTED, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_worked_example_through_the_layer(algorithm):
    layer = Conv2d(1, 1, 3, bias=False, algorithm=algorithm, dtype=np.float64)
    layer.weight.data[0, 0] = KERNEL
    np.testing.assert_allclose(layer(IMAGE[None, None])[0, 0], EXPECTED, atol=1e-12)


@pytest.mark.parametrize("i, k, s, p, expected", [
    (5, 4, 1, 2, 6),        # arbitrary padding
    (5, 3, 1, 1, 5),        # half ("same") padding, p = (k-1)/2
    (5, 3, 1, "same", 5),
    (5, 3, 1, 2, 7),        # full padding, p = k-1
    (5, 3, 1, "full", 7),
])
def test_reference_padding_examples_give_the_stated_output_sizes(i, k, s, p, expected):
    assert conv_output_size(i, k, s, p) == expected
    x = np.zeros((1, 1, i, i))
    assert conv2d(x, np.zeros((1, 1, k, k)), stride=s, padding=p).shape == (1, 1, expected, expected)


def test_output_size_formula_with_stride_and_dilation():
    # floor((i + 2p - d(k-1) - 1)/s) + 1
    assert conv_output_size(7, 3, 2, 1, 1) == 4
    assert conv_output_size(8, 3, 3, 0, 2) == 2
    assert conv_output_size(32, 5) == 28


@pytest.mark.parametrize("k, d, expected", [
    (3, 1, (1, 1, 1, 1)),
    (4, 1, (1, 2, 1, 2)),   # even kernel: the extra row/column at the bottom/right
    (3, 2, (2, 2, 2, 2)),
    (2, 1, (0, 1, 0, 1)),
])
def test_same_padding_puts_the_extra_row_at_the_bottom_right(k, d, expected):
    assert resolve_padding("same", k, 1, d) == expected


def test_full_padding_is_dilation_times_k_minus_1():
    assert resolve_padding("full", (3, 2), 1, (2, 3)) == (4, 4, 3, 3)
    assert resolve_padding("valid", 5) == (0, 0, 0, 0)
    assert resolve_padding((1, 2), 3) == (1, 1, 2, 2)


# -- gradient checks (P3, P4) ----------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("case", GRID, ids=grid_id)
def test_conv2d_gradcheck(case, algorithm):
    rng = np.random.default_rng(7)
    N, C, M, H, W, k, s, p, d, t = case
    layer = Conv2d(C, M, k, stride=s, padding=p, dilation=d, connections=TABLES[t](),
                   algorithm=algorithm, init="he_normal", rng=rng, dtype=np.float64)
    layer.bias.data[:] = rng.normal(size=M)
    result = cnnbp.gradcheck(layer, rng.normal(size=(N, C, H, W)), rng=1)
    assert set(result) == {"input", "weight", "bias"}
    assert result.worst < 1e-6, result.report()


def test_conv2d_gradcheck_without_bias():
    layer = Conv2d(2, 3, (2, 3), padding=1, bias=False, algorithm="direct", rng=0, dtype=np.float64)
    result = cnnbp.gradcheck(layer, np.random.default_rng(0).normal(size=(2, 2, 4, 5)))
    assert set(result) == {"input", "weight"}
    assert result.worst < 1e-6, result.report()


# -- the three algorithms agree --------------------------------------------------------------

def all_passes(x, w, b, options, algorithm, delta):
    y = conv2d(x, w, b, algorithm=algorithm, **options)
    dC_dx = conv2d_backward_input(delta, w, x.shape, algorithm=algorithm, **options)
    dC_dW = conv2d_backward_weight(delta, x, w.shape, algorithm=algorithm, **options)
    return y, dC_dx, dC_dW


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-4)])
@pytest.mark.parametrize("case", GRID, ids=grid_id)
def test_algorithms_agree_with_the_direct_loops(case, dtype, tol):
    rng = np.random.default_rng(3)
    x, w, b, options = case_arrays(case, rng, dtype)
    y_shape = conv2d(x, w, **options).shape
    delta = rng.normal(size=y_shape).astype(dtype)
    reference = all_passes(x, w, b, options, "direct", delta)
    for algorithm in ("im2col", "fft", "auto"):
        results = all_passes(x, w, b, options, algorithm, delta)
        for name, got, ref in zip(("y", "dC/dx", "dC/dW"), results, reference):
            assert got.dtype == dtype, (algorithm, name, got.dtype)
            assert got.shape == ref.shape
            assert rel_err(got, ref) < tol, (algorithm, name, rel_err(got, ref))


@st.composite
def conv_configs(draw):
    N = draw(st.integers(1, 2))
    C = draw(st.integers(1, 3))
    M = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["int", "pair", "same", "full", "valid"]))
    sh = 1 if mode == "same" else draw(st.integers(1, 3))
    sw = 1 if mode == "same" else draw(st.integers(1, 3))
    padding = {"int": draw(st.integers(0, 2)), "pair": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
               "same": "same", "full": "full", "valid": "valid"}[mode]
    # an input at least as large as the dilated kernel, plus a few more rows/columns
    H = dh * (kh - 1) + 1 + draw(st.integers(0, 4))
    W = dw * (kw - 1) + 1 + draw(st.integers(0, 4))
    table = None
    if draw(st.booleans()):
        table = np.array(draw(st.lists(st.booleans(), min_size=C * M, max_size=C * M))).reshape(C, M)
    seed = draw(st.integers(0, 2**16))
    return (N, C, M, H, W, (kh, kw), (sh, sw), padding, (dh, dw), table, seed)


@settings(max_examples=40, deadline=None)
@given(conv_configs())
def test_algorithms_agree_on_random_configurations(config):
    N, C, M, H, W, k, s, p, d, table, seed = config
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W))
    w = rng.normal(size=(M, C, *k))
    options = dict(stride=s, padding=p, dilation=d, connections=table)
    delta = rng.normal(size=conv2d(x, w, **options).shape)
    reference = all_passes(x, w, None, options, "direct", delta)
    for algorithm in ("im2col", "fft"):
        for got, ref in zip(all_passes(x, w, None, options, algorithm, delta), reference):
            assert rel_err(got, ref) < 1e-9 or np.max(np.abs(ref)) == 0


# -- connection tables -----------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unconnected_kernels_have_no_effect_on_the_output(algorithm):
    rng = np.random.default_rng(0)
    table = c3_table()
    x = rng.normal(size=(2, 6, 9, 9))
    w = rng.normal(size=(16, 6, 5, 5))
    w_junk = w.copy()
    w_junk[~table.T] = rng.normal(size=(~table).sum() * 25).reshape(-1, 5, 5) * 1e6
    w_junk[0, 5, 0, 0] = np.nan  # (input 5 does not feed map 0)
    w_junk[1, 0, 1, 1] = np.inf
    y = conv2d(x, w, algorithm=algorithm, connections=table)
    np.testing.assert_array_equal(conv2d(x, w_junk, algorithm=algorithm, connections=table), y)
    delta = rng.normal(size=y.shape)
    dx = conv2d_backward_input(delta, w, x.shape, algorithm=algorithm, connections=table)
    dx_junk = conv2d_backward_input(delta, w_junk, x.shape, algorithm=algorithm, connections=table)
    np.testing.assert_array_equal(dx_junk, dx)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unconnected_kernels_get_exactly_zero_gradient(algorithm):
    rng = np.random.default_rng(1)
    layer = Conv2d(6, 16, 5, connections=c3_table(), algorithm=algorithm, rng=rng, dtype=np.float64)
    layer.forward(rng.normal(size=(2, 6, 14, 14)))
    layer.backward(rng.normal(size=(2, 16, 10, 10)))
    grad = layer.weight.grad
    assert np.all(grad[~c3_table().T] == 0)
    assert np.all(np.abs(grad[c3_table().T]).sum(axis=(1, 2)) > 0)


def test_a_connection_table_equals_zeroing_the_unconnected_kernels():
    rng = np.random.default_rng(2)
    table = table_3x2()
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 3, 2))
    w_zeroed = w * table.T[:, :, None, None]
    np.testing.assert_allclose(conv2d(x, w, connections=table), conv2d(x, w_zeroed), atol=1e-12)


def test_lenet_c1_counts():
    c1 = Conv2d(1, 6, 5, rng=0)
    assert c1.num_parameters() == 156
    assert c1.num_connections((1, 32, 32), (6, 28, 28)) == 122_304


def test_lenet_c3_counts_with_lecun_table():
    c3 = Conv2d(6, 16, 5, connections=c3_table(), rng=0)
    assert c3.weight.shape == (16, 6, 5, 5)  # the full array is kept
    assert c3.num_parameters() == 1_516
    assert c3.num_connections((6, 14, 14), (16, 10, 10)) == 151_600
    assert c3(np.zeros((1, 6, 14, 14), np.float32)).shape == (1, 16, 10, 10)


def test_init_fan_in_counts_only_connected_inputs():
    table = c3_table()
    calls = []

    def record(shape, fan_in, fan_out, rng, dtype):
        calls.append(fan_in)
        return np.ones(shape, dtype)

    layer = Conv2d(6, 16, 5, connections=table, init=record, rng=0)
    assert sorted(calls) == sorted(25 * len(i) for i in C3_INPUTS)
    assert np.all(layer.weight.data[~table.T] == 0)


def test_connections_accept_zero_one_integers():
    layer = Conv2d(3, 2, 3, connections=table_3x2().astype(int), rng=0)
    assert layer.connections.dtype == bool
    assert layer.num_parameters() == 4 * 9 + 2


# -- the layer ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ALGORITHMS + ["auto"])
def test_layer_honours_the_input_dtype(algorithm, dtype):
    layer = Conv2d(2, 3, 3, padding="same", algorithm=algorithm, rng=0)  # float32 parameters
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 4)).astype(dtype)
    y = layer(x)
    assert y.dtype == dtype
    assert layer.backward(np.ones_like(y)).dtype == dtype
    assert layer.weight.grad.dtype == np.float32


def test_layer_adds_into_grad():
    rng = np.random.default_rng(0)
    layer = Conv2d(2, 2, 2, rng=rng, dtype=np.float64)
    x, delta = rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(1, 2, 3, 3))
    layer(x)
    layer.backward(delta)
    once = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.backward(delta)
    np.testing.assert_allclose(layer.weight.grad, 2 * once[0])
    np.testing.assert_allclose(layer.bias.grad, 2 * once[1])


def test_bias_gradient_is_the_sum_of_delta():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 2, 5, 5)), rng.normal(size=(4, 2, 3, 3))
    delta = rng.normal(size=(3, 4, 3, 3))
    _, _, dC_db = conv2d_backward(delta, x, w)
    np.testing.assert_allclose(dC_db, delta.sum(axis=(0, 2, 3)))


def test_fft_kernel_transform_is_computed_once_per_weight_update():
    rng = np.random.default_rng(0)
    layer = Conv2d(3, 4, 5, algorithm="fft", rng=rng, dtype=np.float64)
    x = rng.normal(size=(4, 3, 12, 12))
    y = layer(x)
    layer.backward(np.ones_like(y))
    layer(x)
    assert layer._fft_cache.computed == 1  # forward, backward and a second forward share it
    layer.weight.data -= 0.1 * layer.weight.grad  # an optimiser step, in place
    y2 = layer(x)
    assert layer._fft_cache.computed == 2
    np.testing.assert_allclose(y2, conv2d(x, layer.weight.data, layer.bias.data), atol=1e-10)


def test_kernel_transform_cache_can_be_passed_to_the_functions():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 2, 8, 8)), rng.normal(size=(3, 2, 3, 3))
    cache = KernelTransformCache()
    y = conv2d(x, w, algorithm="fft", fft_cache=cache)
    conv2d_backward_input(np.ones_like(y), w, x.shape, algorithm="fft", fft_cache=cache)
    assert cache.computed == 1


def test_auto_rule_picks_fft_for_large_kernels_on_large_images():
    g_small = geometry((1, 1, 32, 32), (6, 1, 5, 5))
    g_large = geometry((1, 1, 64, 64), (6, 1, 9, 9))
    g_small_image = geometry((1, 1, 12, 12), (6, 1, 9, 9))
    assert choose_algorithm(g_small) == "im2col"
    assert choose_algorithm(g_large) == "fft"
    assert choose_algorithm(g_small_image) == "im2col"
    assert choose_algorithm(geometry((1, 1, 64, 64), (6, 1, 9, 9), stride=2)) == "im2col"
    assert choose_algorithm(geometry((1, 1, 16, 16), (6, 1, 7, 7))) == "fft"


def test_auto_gives_the_direct_numbers_when_it_picks_fft():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(1, 2, 16, 17)), rng.normal(size=(2, 2, 7, 7))
    np.testing.assert_allclose(conv2d(x, w, algorithm="auto"), conv2d(x, w), atol=1e-10)


def test_repr_mentions_the_options():
    layer = Conv2d(6, 16, (5, 3), stride=2, padding="full", connections=c3_table()[:, :16], rng=0)
    text = repr(layer)
    assert "Conv2d(6, 16" in text and "stride=(2, 2)" in text and "connections=60/96" in text


# -- torch parity ----------------------------------------------------------------------------

TORCH_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 0, 1),
    ((1, 2, 9, 8), (3, 2, 3, 3), (2, 3), (1, 2), (2, 1)),
    ((2, 1, 6, 7), (2, 1, 4, 2), 1, "same", 1),
    ((1, 2, 5, 6), (2, 2, 3, 2), 1, "full", 2),
]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("x_shape, w_shape, s, p, d", TORCH_CASES)
def test_torch_parity(x_shape, w_shape, s, p, d, algorithm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    pad4 = resolve_padding(p, w_shape[2:], s, d)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    # torch pads symmetrically; pad explicitly (left, right, top, bottom) for "same"/"full"
    xt_padded = torch.nn.functional.pad(xt, (pad4[2], pad4[3], pad4[0], pad4[1]))
    yt = torch.nn.functional.conv2d(xt_padded, wt, bt, stride=s, dilation=d)
    delta = rng.normal(size=tuple(yt.shape))
    yt.backward(torch.tensor(delta))

    y = conv2d(x, w, b, s, p, d, algorithm=algorithm)
    dC_dx, dC_dW, dC_db = conv2d_backward(delta, x, w, True, s, p, d, algorithm=algorithm)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dC_dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dC_dW, wt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dC_db, bt.grad.numpy(), rtol=0, atol=1e-10)


# -- clear errors ----------------------------------------------------------------------------

def test_channel_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="3 channels.*expect 2"):
        conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\).*\(1, 3, 5, 5\)"):
        Conv2d(2, 4, 3)(np.zeros((1, 3, 5, 5)))


def test_kernel_larger_than_padded_input_is_a_value_error():
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(np.zeros((1, 1, 4, 6)), np.zeros((1, 1, 5, 3)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), dilation=3)
    with pytest.raises(ValueError, match="larger than the padded input"):
        Conv2d(1, 1, 5)(np.zeros((1, 1, 4, 4), np.float32))


def test_same_padding_with_stride_2_is_a_value_error():
    with pytest.raises(ValueError, match='"same" needs stride 1'):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match='"same" needs stride 1'):
        Conv2d(1, 1, 3, stride=2, padding="same")


def test_unknown_algorithm_is_a_value_error():
    with pytest.raises(ValueError, match="algorithm must be one of"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), algorithm="winograd")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        Conv2d(1, 1, 3, algorithm="winograd")


def test_non_float_input_is_a_type_error():
    with pytest.raises(TypeError, match="floating-point.*int"):
        conv2d(np.zeros((1, 1, 5, 5), dtype=int), np.zeros((1, 1, 3, 3)))
    with pytest.raises(TypeError, match="floating-point"):
        Conv2d(1, 1, 3)(np.zeros((1, 1, 5, 5), dtype=np.int64))


@pytest.mark.parametrize("bad, error, pattern", [
    (dict(padding="half"), ValueError, "padding must be"),
    (dict(padding=-1), ValueError, ">= 0"),
    (dict(stride=0), ValueError, "stride must be >= 1"),
    (dict(dilation=(1, 2, 3)), TypeError, "dilation must be an int or a pair"),
    (dict(connections=np.ones((2, 1), bool)), ValueError, r"\(in_channels, out_channels\) = \(1, 1\)"),
    (dict(connections=np.full((1, 1), 0.5)), TypeError, "bool"),
])
def test_bad_arguments_name_what_was_expected(bad, error, pattern):
    with pytest.raises(error, match=pattern):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), **bad)


def test_wrong_shapes_of_delta_and_bias_are_value_errors():
    x, w = np.zeros((2, 1, 5, 5)), np.zeros((3, 1, 3, 3))
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 3\).*\(2, 3, 4, 4\)"):
        conv2d_backward_input(np.zeros((2, 3, 4, 4)), w, x.shape)
    with pytest.raises(ValueError, match="bias of shape"):
        conv2d(x, w, np.zeros(2))
    with pytest.raises(ValueError, match="4-D input"):
        conv2d(np.zeros((5, 5)), w)


def test_functional_exports():
    assert F.conv2d is conv2d and F.conv_output_size is conv_output_size
    assert F.conv2d_backward_input is conv2d_backward_input
    assert F.conv2d_backward_weight is conv2d_backward_weight
