"""Activations: values, routing, and numerical safety for large inputs."""

import warnings

import numpy as np
import pytest

from cnnbp import functional as F
from cnnbp import layers as L

ACTIVATIONS = [L.Sigmoid, L.Tanh, L.ScaledTanh, L.ReLU, lambda: L.LeakyReLU(0.1),
               lambda: L.Maxout(2), L.Softmax]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", ACTIVATIONS)
def test_finite_without_warnings_for_large_inputs(make, dtype):
    x = np.array([[-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4, 3e3]], dtype=dtype)
    layer = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_sigmoid_keeps_relative_precision_far_in_the_negative_tail():
    np.testing.assert_allclose(F.sigmoid(np.array([-40.0])), np.exp(-40.0), rtol=1e-12)


def test_scaled_tanh_maps_plus_minus_one_to_themselves_approximately():
    y = F.scaled_tanh(np.array([1.0, -1.0]))
    np.testing.assert_allclose(y, [1.0, -1.0], atol=2e-4)
    np.testing.assert_allclose(F.scaled_tanh(np.array([2.0])), 1.7159 * np.tanh(4 / 3))


def test_relu_is_elementwise_maximum_not_a_reduction():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(F.relu(x), [[0.0, 2.0], [3.0, 0.0]])


def test_maxout_picks_the_group_maximum_and_routes_the_residual_there():
    layer = L.Maxout(3)
    x = np.array([[1.0, 5.0, 2.0, -1.0, -3.0, -2.0]])
    np.testing.assert_array_equal(layer.forward(x), [[5.0, -1.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[10.0, 20.0]])),
                                  [[0, 10.0, 0, 20.0, 0, 0]])


def test_maxout_on_channels():
    x = np.arange(2 * 4 * 2 * 2, dtype=np.float64).reshape(2, 4, 2, 2)
    y = L.Maxout(2).forward(x)
    assert y.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(y, x[:, 1::2])


def test_maxout_rejects_indivisible_feature_count():
    with pytest.raises(ValueError, match="multiple of 4"):
        L.Maxout(4).forward(np.ones((1, 6)))


def test_softmax_rows_sum_to_one():
    y = L.Softmax().forward(np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
