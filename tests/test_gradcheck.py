"""cnnbp.gradcheck: every layer and loss passes, and a wrong backward fails."""

import numpy as np
import pytest

import cnnbp
from cnnbp import layers as L
from cnnbp.checks import LAYER_CASES, LOSS_CASES, check_layer, check_loss

TOL = 1e-6


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name,make,shape", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layer_gradients_match_central_differences(name, make, shape, batch):
    result = check_layer(make, (batch, *shape[1:]))
    assert "input" in result
    assert result.worst < TOL, result.report()


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name,cls,make_target,shape,make_input", LOSS_CASES,
                         ids=[c[0] for c in LOSS_CASES])
def test_loss_gradients_match_central_differences(name, cls, make_target, shape, make_input, batch):
    result = check_loss(cls, make_target, (batch, *shape[1:]), make_input)
    assert result.worst < TOL, result.report()


def test_result_names_every_parameter_and_where_the_worst_error_is():
    layer = L.Dense(3, 2, dtype=np.float64, rng=0)
    result = cnnbp.gradcheck(layer, np.random.default_rng(0).normal(size=(2, 3)))
    assert set(result) == {"input", "weight", "bias"}
    assert result.where["weight"][0] in (0, 1) and len(result.where["weight"]) == 2
    assert all(isinstance(v, float) for v in result.values())


class _WrongDense(L.Dense):
    """A Dense whose backward forgets the transpose of F1 (scales dW by 2)."""

    def _backward(self, delta):
        dx = super()._backward(delta)
        self.weight.grad *= 2
        return dx


class _WrongSigmoid(L.Sigmoid):
    """Uses f'(z) = a instead of a (1 - a)."""

    def _backward(self, delta):
        return delta * self._y


def test_gradcheck_fails_on_a_wrong_weight_gradient():
    layer = _WrongDense(4, 3, dtype=np.float64, rng=0)
    result = cnnbp.gradcheck(layer, np.random.default_rng(0).normal(size=(2, 4)))
    assert result["input"] < TOL
    assert result["weight"] > 0.1
    assert not result.passed(TOL)


def test_gradcheck_fails_on_a_wrong_input_gradient():
    result = cnnbp.gradcheck(_WrongSigmoid(), np.random.default_rng(0).normal(size=(2, 4)))
    assert result["input"] > 0.1


def test_gradcheck_of_a_pure_function_pair():
    f = cnnbp.functional
    x = np.random.default_rng(0).normal(size=(2, 5))
    state = {}

    def fwd(v):
        state["y"] = f.tanh(v)
        return state["y"]

    result = cnnbp.gradcheck(fwd, x, backward=lambda d: f.tanh_backward(d, state["y"]))
    assert result["input"] < TOL


def test_gradcheck_refuses_float32_parameters():
    with pytest.raises(TypeError, match="float64"):
        cnnbp.gradcheck(L.Dense(3, 2, rng=0), np.ones((1, 3)))
