"""The layer contract: forward/backward/parameters/zero_grad, modes, errors."""

import numpy as np
import pytest

from cnnbp import Parameter
from cnnbp import layers as L


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="before forward"):
        L.Dense(3, 2).backward(np.ones((1, 2), np.float32))


def test_backward_with_a_wrong_shape_names_both_shapes():
    layer = L.Dense(3, 2)
    layer.forward(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        layer.backward(np.ones((4, 3), np.float32))


def test_forward_rejects_integer_input():
    with pytest.raises(TypeError, match="floating"):
        L.ReLU().forward(np.ones((2, 2), dtype=np.int64))


def test_dense_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        L.Dense(3, 2).forward(np.ones((2, 4), np.float32))


def test_parameter_gradients_accumulate_until_zero_grad():
    layer = L.Dense(3, 2, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(2, 3))
    delta = np.ones((2, 2))
    layer.forward(x)
    layer.backward(delta)
    once = layer.weight.grad.copy()
    layer.forward(x)
    layer.backward(delta)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_dense_gradients_are_f1_and_f2():
    layer = L.Dense(3, 2, rng=0, dtype=np.float64)
    x = np.array([[1.0, 2.0, 3.0]])
    delta = np.array([[0.5, -1.0]])
    layer.forward(x)
    dx = layer.backward(delta)
    np.testing.assert_allclose(layer.weight.grad, np.outer(delta[0], x[0]))  # F1
    np.testing.assert_allclose(layer.bias.grad, delta[0])  # F2
    np.testing.assert_allclose(dx, delta @ layer.weight.data)  # F5 (before f')


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_honour_the_input_dtype(dtype):
    net = L.Sequential(L.Dense(4, 3, rng=0), L.Tanh(), L.Dense(3, 2, rng=1, dtype=np.float64))
    y = net.forward(np.ones((2, 4), dtype=dtype))
    assert y.dtype == dtype
    assert net.backward(np.ones_like(y)).dtype == dtype


def test_sequential_names_parameters_by_index():
    net = L.Sequential(L.Dense(4, 3, rng=0), L.ReLU(), L.Dense(3, 2, bias=False, rng=0))
    assert list(net.parameters()) == ["0.weight", "0.bias", "2.weight"]
    assert all(isinstance(p, Parameter) for p in net.parameters().values())
    assert net.num_parameters() == 4 * 3 + 3 + 3 * 2


def test_sequential_reraises_with_the_layer_index_and_class():
    net = L.Sequential(L.Dense(4, 3, rng=0), L.ReLU(), L.Dense(5, 2, rng=0))
    with pytest.raises(ValueError, match=r"layer 2 \(Dense\)"):
        net.forward(np.ones((1, 4), np.float32))


def test_sequential_backward_runs_in_reverse_and_matches_manual_chain():
    rng = np.random.default_rng(0)
    d1, act, d2 = L.Dense(4, 3, rng=0, dtype=np.float64), L.Sigmoid(), L.Dense(3, 2, rng=1, dtype=np.float64)
    net = L.Sequential(d1, act, d2)
    x = rng.normal(size=(2, 4))
    delta = rng.normal(size=(2, 2))
    net.forward(x)
    dx = net.backward(delta)
    # F5 by hand: delta^(l) = W^T delta^(l+1) * f'(z)
    z1 = x @ d1.weight.data.T + d1.bias.data
    a1 = 1 / (1 + np.exp(-z1))
    delta1 = (delta @ d2.weight.data) * a1 * (1 - a1)
    np.testing.assert_allclose(dx, delta1 @ d1.weight.data, rtol=1e-12)


def test_train_and_eval_modes_propagate():
    net = L.Sequential(L.Dense(2, 2, rng=0), L.ReLU())
    net.eval()
    assert not net.training and not net[0].training
    net.train()
    assert net.training and net[1].training


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="item 1"):
        L.Sequential(L.ReLU(), "relu")
