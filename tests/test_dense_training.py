"""A small dense network learns a seeded synthetic problem, deterministically."""

import numpy as np

from cnnbp import layers as L
from cnnbp import losses, optim


def _spiral(rng, n_per_class=100, classes=3):
    x, y = [], []
    for k in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(scale=0.2, size=n_per_class)
        x.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(n_per_class, k))
    return np.concatenate(x).astype(np.float64), np.concatenate(y)


def _train(seed=0, epochs=150):
    rng = np.random.default_rng(seed)
    x, y = _spiral(rng)
    net = L.Sequential(L.Dense(2, 64, rng=rng, dtype=np.float64), L.Tanh(),
                       L.Dense(64, 3, rng=rng, dtype=np.float64))
    loss = losses.SoftmaxCrossEntropy()
    opt = optim.SGD(list(net.parameters().values()), lr=0.5, momentum=0.9)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            loss.forward(net.forward(x[idx]), y[idx])
            net.backward(loss.backward())
            opt.step()
    accuracy = float(np.mean(net.forward(x).argmax(axis=1) == y))
    return net, accuracy


def test_dense_network_learns_a_spiral_deterministically():
    net_a, acc_a = _train()
    net_b, acc_b = _train()
    assert acc_a >= 0.95
    assert acc_a == acc_b
    for p, q in zip(net_a.parameters().values(), net_b.parameters().values()):
        np.testing.assert_array_equal(p.data, q.data)
