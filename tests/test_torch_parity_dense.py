"""Dense, activations, losses and optimisers against PyTorch in float64 (skipped without torch)."""

import numpy as np
import pytest

from cnnbp import Parameter, losses, optim
from cnnbp import layers as L

torch = pytest.importorskip("torch")
TOL = 1e-10


def _t(a, grad=False):
    return torch.tensor(np.array(a), dtype=torch.float64, requires_grad=grad)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), b.detach().numpy(), rtol=TOL, atol=TOL)


def test_dense_forward_and_backward():
    rng = np.random.default_rng(0)
    layer = L.Dense(5, 3, rng=rng, dtype=np.float64)
    x, delta = rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    y = layer.forward(x)
    dx = layer.backward(delta)
    tx, tw, tb = _t(x, True), _t(layer.weight.data, True), _t(layer.bias.data, True)
    ty = torch.nn.functional.linear(tx, tw, tb)
    ty.backward(_t(delta))
    _close(y, ty)
    _close(dx, tx.grad)
    _close(layer.weight.grad, tw.grad)
    _close(layer.bias.grad, tb.grad)


ACTIVATIONS = [
    (L.Sigmoid, torch.sigmoid),
    (L.Tanh, torch.tanh),
    (L.ScaledTanh, lambda t: 1.7159 * torch.tanh(2 * t / 3)),
    (L.ReLU, torch.relu),
    (lambda: L.LeakyReLU(0.2), lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
    (L.Softmax, lambda t: torch.softmax(t, dim=1)),
    (lambda: L.Maxout(2), lambda t: t.reshape(t.shape[0], -1, 2).max(dim=2).values),
]


@pytest.mark.parametrize("make,reference", ACTIVATIONS)
def test_activation_forward_and_backward(make, reference):
    rng = np.random.default_rng(1)
    x = rng.normal(scale=3, size=(3, 6))
    layer = make()
    y = layer.forward(x)
    delta = rng.normal(size=y.shape)
    dx = layer.backward(delta)
    tx = _t(x, True)
    ty = reference(tx)
    ty.backward(_t(delta))
    _close(y, ty)
    _close(dx, tx.grad)


def _loss_cases(rng):
    a = rng.uniform(0.05, 0.95, size=(4, 3))
    z = rng.normal(size=(4, 3))
    y = rng.uniform(size=(4, 3))
    labels = rng.integers(0, 3, size=4)
    f = torch.nn.functional
    return [
        (losses.Quadratic(), z, y, lambda t: 0.5 * ((t - _t(y)) ** 2).sum() / 4),
        (losses.CrossEntropy(), a, y,
         lambda t: f.binary_cross_entropy(t, _t(y), reduction="sum") / 4),
        (losses.SoftmaxCrossEntropy(), z, labels,
         lambda t: f.cross_entropy(t, torch.tensor(labels))),
        (losses.SoftmaxCrossEntropy(), z, np.eye(3)[labels],
         lambda t: f.cross_entropy(t, _t(np.eye(3)[labels]))),
    ]


@pytest.mark.parametrize("case", range(4))
def test_loss_value_and_residual(case):
    loss, out, target, reference = _loss_cases(np.random.default_rng(2))[case]
    value = loss.forward(out, target)
    delta = loss.backward()
    t = _t(out, True)
    tv = reference(t)
    tv.backward()
    assert value == pytest.approx(tv.item(), rel=TOL, abs=TOL)
    _close(delta, t.grad)


def test_binary_cross_entropy_element_mean_convention():
    """torch's BCE means over every element; cnnbp's C means over examples (REFERENCE.md).
    With one output unit per example the two coincide."""
    a = np.array([[0.3], [0.8]])
    y = np.array([[1.0], [0.0]])
    value = losses.CrossEntropy().forward(a, y)
    ref = torch.nn.functional.binary_cross_entropy(_t(a), _t(y)).item()
    assert value == pytest.approx(ref, rel=TOL)


OPTIMISERS = [
    (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (lambda p: optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
]


@pytest.mark.parametrize("make,make_torch", OPTIMISERS)
def test_five_optimiser_steps(make, make_torch):
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(3, 4))
    grads = rng.normal(size=(5, 3, 4))
    p = Parameter(w0.copy())
    tp = torch.nn.Parameter(_t(w0))
    opt, topt = make([p]), make_torch([tp])
    for g in grads:
        p.grad[...] = g
        tp.grad = _t(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=TOL, atol=TOL)
