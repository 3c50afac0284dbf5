"""Costs of REFERENCE.md section 1, and the saturation argument of F3/F4."""

import numpy as np
import pytest

from cnnbp import layers as L
from cnnbp import losses


def _residual_through_sigmoid(cost, z, y):
    unit = L.Sigmoid()
    a = unit.forward(z)
    cost.forward(a, y)
    return a, unit.backward(cost.backward())


def test_quadratic_value_is_half_mean_squared_norm():
    a = np.array([[1.0, 2.0], [0.0, 0.0]])
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert losses.Quadratic().forward(a, y) == pytest.approx((5 + 2) / (2 * 2))


def test_cross_entropy_value():
    a = np.array([[0.9, 0.2]])
    y = np.array([[1.0, 0.0]])
    assert losses.CrossEntropy().forward(a, y) == pytest.approx(-(np.log(0.9) + np.log(0.8)))


@pytest.mark.parametrize("z", [-10.0, -15.0, -20.0])
def test_saturated_sigmoid_quadratic_residual_vanishes(z):
    """F3: delta = (a - y) f'(z), and f'(z) -> 0 in saturation."""
    x, y = np.array([[z]]), np.array([[1.0]])
    a, delta = _residual_through_sigmoid(losses.Quadratic(), x, y)
    assert abs(delta[0, 0]) < 1e-4
    np.testing.assert_allclose(delta, (a - y) * a * (1 - a), rtol=1e-12)


@pytest.mark.parametrize("z", [-10.0, -15.0, -20.0, 10.0, 20.0])
def test_saturated_sigmoid_cross_entropy_residual_is_a_minus_y(z):
    """F4: delta = a - y, whatever the saturation."""
    x = np.array([[z]])
    y = np.array([[1.0]]) if z < 0 else np.array([[0.0]])
    a, delta = _residual_through_sigmoid(losses.CrossEntropy(), x, y)
    np.testing.assert_allclose(delta, a - y, rtol=1e-9)
    assert abs(delta[0, 0]) > 0.99


def test_softmax_cross_entropy_integer_and_one_hot_targets_agree():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 5))
    labels = np.array([0, 3, 4, 1])
    a, b = losses.SoftmaxCrossEntropy(), losses.SoftmaxCrossEntropy()
    assert a.forward(z, labels) == pytest.approx(b.forward(z, np.eye(5)[labels]))
    np.testing.assert_allclose(a.backward(), b.backward())


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss = losses.SoftmaxCrossEntropy()
    z = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    assert loss.forward(z, np.array([1])) == pytest.approx(2e4)
    delta = loss.backward()
    assert np.all(np.isfinite(delta))
    np.testing.assert_allclose(delta, [[1.0, -1.0, 0.0]])


def test_softmax_cross_entropy_residual_is_softmax_minus_target_over_n():
    z = np.array([[0.0, 0.0], [0.0, np.log(3.0)]])
    loss = losses.SoftmaxCrossEntropy()
    loss.forward(z, np.array([0, 1]))
    np.testing.assert_allclose(loss.backward(), [[-0.25, 0.25], [0.125, -0.125]])


@pytest.mark.parametrize("target,match", [
    (np.array([0, 5]), r"\[0, 2\]"),
    (np.array([0.0, 1.0]), "integer"),
    (np.array([0, 1, 2]), "2 labels"),
    (np.zeros((2, 4)), r"\(2,\) or one-hot"),
])
def test_softmax_cross_entropy_rejects_bad_targets(target, match):
    with pytest.raises((ValueError, TypeError), match=match):
        losses.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), target)


def test_cross_entropy_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match="Sigmoid"):
        losses.CrossEntropy().forward(np.array([[1.5]]), np.array([[1.0]]))


def test_loss_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        losses.Quadratic().backward()
