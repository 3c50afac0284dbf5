"""LeNet's trainable subsampling (S2, S4): y = weight * sum(window) + bias, with P2 and P4."""

import itertools

import numpy as np
import pytest

import cnnbp
from cnnbp import functional as F
from cnnbp import layers as L

F64 = np.float64
SHAPES = [(1, 1, 7, 6), (3, 3, 6, 7)]
GRID = list(itertools.product([2, 3], [None, 1, 2, 3], [0, 1], SHAPES))
GRID_IDS = [f"k{k}-s{s}-p{p}-{'x'.join(map(str, sh))}" for k, s, p, sh in GRID]


@pytest.mark.parametrize("k,s,p,shape", GRID, ids=GRID_IDS)
def test_subsampling_gradcheck(k, s, p, shape):
    layer = L.Subsampling(shape[1], k, F64, stride=s, padding=p, rng=0)
    layer.bias.data[:] = np.linspace(-0.5, 0.5, shape[1])
    x = np.random.default_rng(1).normal(size=shape)
    r = cnnbp.gradcheck(layer, x)
    assert set(r) == {"input", "weight", "bias"}
    assert r.worst < 1e-6, r.report()


def test_forward_is_weight_times_window_sum_plus_bias():
    layer = L.Subsampling(2, 2, F64)
    layer.weight.data[:] = [0.5, -2.0]
    layer.bias.data[:] = [1.0, 3.0]
    x = np.arange(32, dtype=F64).reshape(1, 2, 4, 4)
    y = layer.forward(x)
    # first window of map 0: 0 + 1 + 4 + 5 = 10; of map 1: 16 + 17 + 20 + 21 = 74
    assert y[0, 0, 0, 0] == 0.5 * 10 + 1.0
    assert y[0, 1, 0, 0] == -2.0 * 74 + 3.0
    np.testing.assert_allclose(
        y, F.subsampling(x, layer.weight.data, layer.bias.data, 2))


def test_backward_implements_p2_and_p4():
    rng = np.random.default_rng(2)
    layer = L.Subsampling(3, 2, F64, rng=rng)
    x = rng.normal(size=(2, 3, 6, 4))
    layer.forward(x)
    delta = rng.normal(size=(2, 3, 3, 2))
    dx = layer.backward(delta)
    beta = layer.weight.data
    down = x.reshape(2, 3, 3, 2, 2, 2).sum(axis=(3, 5))                 # window sums
    up = np.kron(delta, np.ones((1, 1, 2, 2)))                           # P2's up()
    np.testing.assert_allclose(dx, beta[:, None, None] * up)             # P2
    np.testing.assert_allclose(layer.weight.grad, (delta * down).sum(axis=(0, 2, 3)))  # P4
    np.testing.assert_allclose(layer.bias.grad, delta.sum(axis=(0, 2, 3)))              # P4


def test_parameter_gradients_accumulate():
    rng = np.random.default_rng(3)
    layer = L.Subsampling(2, 2, F64, rng=rng)
    x = rng.normal(size=(1, 2, 4, 4))
    delta = rng.normal(size=(1, 2, 2, 2))
    layer.forward(x)
    layer.backward(delta)
    once = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.backward(delta)
    np.testing.assert_allclose(layer.weight.grad, 2 * once[0])
    np.testing.assert_allclose(layer.bias.grad, 2 * once[1])


@pytest.mark.parametrize("name,c,hw,out,params,connections", [
    ("S2", 6, 28, 14, 12, 5_880),
    ("S4", 16, 10, 5, 32, 2_000),
])
def test_lenet_counts(name, c, hw, out, params, connections):
    layer = L.Subsampling(c, 2)
    y = layer.forward(np.zeros((1, c, hw, hw), dtype=np.float32))
    assert y.shape == (1, c, out, out)
    assert {k: p.shape for k, p in layer.parameters().items()} == {"weight": (c,), "bias": (c,)}
    assert layer.num_parameters() == params
    assert layer.num_connections((c, hw, hw), y.shape[1:]) == connections


def test_initialisers():
    lecun = L.Subsampling(1000, 2, F64, rng=0)
    assert np.all(np.abs(lecun.weight.data) <= 2.4 / 4)                  # LeCun 1998: 2.4 / fan-in
    np.testing.assert_array_equal(lecun.bias.data, 0)
    np.testing.assert_array_equal(L.Subsampling(3, 2, init="average").weight.data, 0.25)
    np.testing.assert_array_equal(L.Subsampling(3, 2, init=1.0).weight.data, 1.0)
    np.testing.assert_array_equal(L.Subsampling(4, 2, rng=5).weight.data,
                                  L.Subsampling(4, 2, rng=5).weight.data)


def test_dtype_is_honoured():
    layer = L.Subsampling(2, 2)
    assert layer.weight.data.dtype == np.float32
    y = layer.forward(np.ones((1, 2, 4, 4), dtype=np.float64))
    assert y.dtype == np.float64
    assert layer.backward(np.ones_like(y)).dtype == np.float64
    assert layer.weight.grad.dtype == np.float32


def test_wrong_channel_count_is_rejected():
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\), got \(1, 3, 8, 8\)"):
        L.Subsampling(6).forward(np.zeros((1, 3, 8, 8)))


@pytest.mark.parametrize("kwargs,match", [
    ({"channels": 0}, "positive number of channels"),
    ({"channels": 2, "kernel_size": 0}, "kernel_size"),
    ({"channels": 2, "padding": 2}, "half the kernel"),
])
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        L.Subsampling(**kwargs)
