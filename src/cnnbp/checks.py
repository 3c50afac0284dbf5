"""The catalogue of layers and losses that ``cnnbp gradcheck`` (and the tests) check.

Each entry is ``(name, make, input_shape)``: ``make(rng)`` builds a float64
layer, ``input_shape`` includes a batch of 2. Losses carry a target maker too.
"""

from __future__ import annotations

import numpy as np

from . import layers as L
from . import losses
from .gradcheck import GradcheckResult, gradcheck

F64 = np.float64

LAYER_CASES = [
    ("Dense", lambda rng: L.Dense(6, 4, rng=rng, dtype=F64), (2, 6)),
    ("Sigmoid", lambda rng: L.Sigmoid(), (2, 5)),
    ("Tanh", lambda rng: L.Tanh(), (2, 5)),
    ("ScaledTanh", lambda rng: L.ScaledTanh(), (2, 5)),
    ("ReLU", lambda rng: L.ReLU(), (2, 5)),
    ("LeakyReLU", lambda rng: L.LeakyReLU(0.1), (2, 5)),
    ("Maxout", lambda rng: L.Maxout(3), (2, 6)),
    ("Maxout (NCHW)", lambda rng: L.Maxout(2), (2, 4, 3, 2)),
    ("Softmax", lambda rng: L.Softmax(), (2, 5)),
    ("Flatten", lambda rng: L.Flatten(), (2, 2, 3, 3)),
    ("MaxPool2d", lambda rng: L.MaxPool2d(2), (2, 3, 6, 5)),
    ("MaxPool2d (overlapping, padded)", lambda rng: L.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    ("AvgPool2d", lambda rng: L.AvgPool2d(2), (2, 3, 6, 5)),
    ("AvgPool2d (overlapping, padded)", lambda rng: L.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    ("LPPool2d (square)", lambda rng: L.LPPool2d(2, 2), (2, 3, 6, 5)),
    ("LPPool2d (square, overlapping)", lambda rng: L.LPPool2d(2, 3, stride=2), (2, 2, 7, 6)),
    ("Subsampling", lambda rng: L.Subsampling(3, 2, F64, rng=rng), (2, 3, 6, 4)),
    ("EuclideanRBF", lambda rng: L.EuclideanRBF(rng.normal(size=(3, 5)), trainable=True), (2, 5)),
    ("Conv2d", lambda rng: L.Conv2d(3, 2, (3, 2), stride=(2, 1), padding=1, rng=rng, dtype=F64),
     (2, 3, 6, 5)),
    ("Conv2d (connection table)",
     lambda rng: L.Conv2d(3, 2, 3, padding="same", connections=np.array([[1, 0], [1, 1], [0, 1]], bool),
                          rng=rng, dtype=F64), (2, 3, 5, 4)),
]


def _labels(rng, shape):
    return rng.integers(0, shape[1], size=shape[0])


LOSS_CASES = [
    ("Quadratic", losses.Quadratic, lambda rng, s: rng.normal(size=s), (2, 4), None),
    ("CrossEntropy", losses.CrossEntropy, lambda rng, s: rng.uniform(size=s), (2, 4),
     lambda rng, s: rng.uniform(0.05, 0.95, size=s)),
    ("SoftmaxCrossEntropy", losses.SoftmaxCrossEntropy, _labels, (2, 4), None),
    ("SoftmaxCrossEntropy (one-hot)", losses.SoftmaxCrossEntropy,
     lambda rng, s: np.eye(s[1])[rng.integers(0, s[1], size=s[0])], (2, 4), None),
]


def check_layer(make, input_shape, seed: int = 0) -> GradcheckResult:
    """Gradcheck one catalogue layer on a seeded standard-normal input."""
    rng = np.random.default_rng(seed)
    layer = make(rng)
    x = rng.normal(size=input_shape)
    return gradcheck(layer, x, rng=seed)


def check_loss(cls, make_target, input_shape, make_input=None, seed: int = 0) -> GradcheckResult:
    rng = np.random.default_rng(seed)
    x = make_input(rng, input_shape) if make_input else rng.normal(size=input_shape)
    return gradcheck(cls(), x, target=make_target(rng, input_shape))


def run_all(seed: int = 0):
    """Yield ``(name, GradcheckResult)`` for every catalogued layer and loss."""
    for name, make, shape in LAYER_CASES:
        yield name, check_layer(make, shape, seed)
    for name, cls, make_target, shape, make_input in LOSS_CASES:
        yield name, check_loss(cls, make_target, shape, make_input, seed)
