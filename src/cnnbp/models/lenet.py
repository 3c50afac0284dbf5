"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998), faithful and modern.

Classic, as in REFERENCE.md section 4 and the paper:

====  ==========================================================  ======  ===========
name  layer                                                       params  connections
====  ==========================================================  ======  ===========
C1    6 maps, 5x5 convolution, 32x32 -> 28x28, then squashing        156      122,304
S2    2x2 trainable subsampling ``beta * sum + b``, then squashing    12        5,880
C3    16 maps, 5x5, partial connections (Table I), then squashing  1,516      151,600
S4    2x2 trainable subsampling, then squashing                      32        2,000
C5    120 maps, 5x5 over all 16 maps (5x5 -> 1x1), then squashing  48,120      48,120
F6    84 units, fully connected, then squashing                  10,164       10,164
out   10 units: softmax (default) or Euclidean RBF (fixed codes)     850          850
====  ==========================================================  ======  ===========

The squashing function is the paper's scaled tanh ``1.7159 tanh(2x/3)``; inputs
are scaled so the background is -0.1 and the ink 1.175 (mean about 0, variance
about 1), and 28x28 MNIST digits are padded by 2 to 32x32.

The output layer. The paper's RBF units compute ``y_i = sum_j (x_j - w_ij)^2``
against fixed prototype codes (stylised 7x12 bitmaps of the digits, entries +-1),
trained with a MAP criterion. cnnbp offers that as ``output="rbf"``: the layer
:class:`~cnnbp.layers.EuclideanRBF` returns ``-y_i`` as logits, so
``SoftmaxCrossEntropy`` on them is exactly the paper's criterion
``y_correct + log(sum_i exp(-y_i))`` without its constant ``exp(-j)`` term. The
prototypes are cnnbp's own 7x12 digit bitmaps (``RBF_DIGIT_CODES``); the paper's
exact bitmaps are not published as numbers. The default is ``output="softmax"``
(a Dense 84 -> 10 layer): it trains reliably with ordinary SGD and is what the
shipped weights use; the RBF head is there for faithfulness and study.

Modern: ReLU, 2x2 max pooling, C3 fully connected, He initialisation, a Dense
84 -> 10 softmax output; trained with softmax cross-entropy.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..layers import (
    Conv2d,
    Dense,
    EuclideanRBF,
    Flatten,
    MaxPool2d,
    ReLU,
    ScaledTanh,
    Sequential,
    Subsampling,
)

# LeCun et al. 1998, Table I: column j lists the S2 maps feeding C3 map j.
C3_INPUTS = [
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5),
]


def c3_connection_table() -> np.ndarray:
    """LeCun 1998 Table I as a bool array (6 S2 maps, 16 C3 maps): ``table[i, j]``
    is True when S2 map i feeds C3 map j."""
    table = np.zeros((6, 16), dtype=bool)
    for j, inputs in enumerate(C3_INPUTS):
        table[list(inputs), j] = True
    return table


# 7 wide x 12 high digit bitmaps ("#" = +1, "." = -1): cnnbp's own codes for the RBF output.
_RBF_BITMAPS = {
    0: [".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."],
    1: [".......", "...#...", "..##...", ".#.#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", ".#####.", "......."],
    2: [".......", "..###..", ".#...#.", "#.....#", "......#", ".....#.",
        "....#..", "...#...", "..#....", ".#.....", "#######", "......."],
    3: [".......", ".#####.", "#.....#", "......#", "......#", "..####.",
        "......#", "......#", "......#", "#.....#", ".#####.", "......."],
    4: [".......", ".....#.", "....##.", "...#.#.", "..#..#.", ".#...#.",
        "#....#.", "#######", ".....#.", ".....#.", ".....#.", "......."],
    5: [".......", "#######", "#......", "#......", "#......", "######.",
        "......#", "......#", "......#", "#.....#", ".#####.", "......."],
    6: [".......", "..####.", ".#.....", "#......", "#......", "######.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."],
    7: [".......", "#######", "......#", ".....#.", ".....#.", "....#..",
        "....#..", "...#...", "...#...", "..#....", "..#....", "......."],
    8: [".......", ".#####.", "#.....#", "#.....#", "#.....#", ".#####.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."],
    9: [".......", ".#####.", "#.....#", "#.....#", "#.....#", ".######",
        "......#", "......#", "......#", ".....#.", ".####..", "......."],
}

RBF_DIGIT_CODES = np.array(
    [[1.0 if c == "#" else -1.0 for row in _RBF_BITMAPS[d] for c in row] for d in range(10)]
)
"""(10, 84) prototype codes of the RBF output: digit d's 7x12 bitmap, row by row, in +-1."""

INPUT_SHAPE = (1, 32, 32)
BACKGROUND, INK = -0.1, 1.175


def preprocess(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 digits (N, 28, 28) or (N, 32, 32) -> LeNet-5 input (N, 1, 32, 32).

    Pixels are mapped linearly so white (0) becomes -0.1 and full ink (255) 1.175,
    the paper's scaling; 28x28 digits are padded by 2 pixels of background.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or images.shape[1:] not in ((28, 28), (32, 32)):
        raise ValueError(f"LeNet-5 expects digits of shape (N, 28, 28) or (N, 32, 32), got {images.shape}")
    x = images.astype(dtype) * dtype(INK - BACKGROUND) / dtype(255) + dtype(BACKGROUND)
    if x.shape[1] == 28:
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)), constant_values=dtype(BACKGROUND))
    return x[:, None]


def _named(layer, name):
    layer.name = name
    return layer


def lenet5(variant: str = "classic", rng=None, output: str | None = None,
           dtype=np.float32, algorithm: str = "auto") -> Sequential:
    """Build LeNet-5.

    Args:
        variant: "classic" (LeCun 1998: scaled tanh, trainable subsampling, C3
            connection table) or "modern" (ReLU, max pooling, full C3, He init).
        rng: ``np.random.Generator`` or seed for the initial weights.
        output: "softmax" (default; a Dense 84 -> 10 layer giving logits) or, for
            classic only, "rbf" (Euclidean RBF units with fixed digit codes).
        dtype: parameter dtype.
        algorithm: the convolution algorithm of every Conv2d.

    Returns:
        a :class:`Sequential` with ``.summary()``, ``.config`` (enough to rebuild
        it), ``.input_shape`` (1, 32, 32) and ``.preprocess`` (uint8 digits -> input).
        Train it with :class:`cnnbp.losses.SoftmaxCrossEntropy` on its output.
    """
    if variant not in ("classic", "modern"):
        raise ValueError(f"unknown LeNet-5 variant {variant!r}; expected 'classic' or 'modern'")
    output = output or "softmax"
    if output not in ("softmax", "rbf") or (output == "rbf" and variant != "classic"):
        raise ValueError(
            f"output must be 'softmax' (either variant) or 'rbf' (classic only), got {output!r}"
        )
    rng = initializers.as_rng(rng)
    conv = dict(rng=rng, dtype=dtype, algorithm=algorithm)
    if variant == "classic":
        # Variance 1/fan_in (LeCun et al., "Efficient BackProp", 1998), the scale the
        # scaled tanh is designed for. The paper's +-2.4/fan_in ("lecun1998") is far
        # smaller and, without its second-order learning rates, stalls plain SGD.
        conv["init"] = "lecun_uniform"
        layers = [
            _named(Conv2d(1, 6, 5, **conv), "C1"), ScaledTanh(),
            _named(Subsampling(6, 2, dtype=dtype), "S2"), ScaledTanh(),
            _named(Conv2d(6, 16, 5, connections=c3_connection_table(), **conv), "C3"), ScaledTanh(),
            _named(Subsampling(16, 2, dtype=dtype), "S4"), ScaledTanh(),
            _named(Conv2d(16, 120, 5, **conv), "C5"), ScaledTanh(),
            Flatten(),
            _named(Dense(120, 84, init="lecun_uniform", rng=rng, dtype=dtype), "F6"), ScaledTanh(),
        ]
        if output == "rbf":
            layers.append(_named(EuclideanRBF(RBF_DIGIT_CODES.astype(dtype)), "output"))
        else:
            layers.append(_named(Dense(84, 10, init="lecun_uniform", rng=rng, dtype=dtype), "output"))
    else:
        conv["init"] = "he_uniform"
        layers = [
            _named(Conv2d(1, 6, 5, **conv), "C1"), ReLU(),
            _named(MaxPool2d(2), "S2"),
            _named(Conv2d(6, 16, 5, **conv), "C3"), ReLU(),
            _named(MaxPool2d(2), "S4"),
            _named(Conv2d(16, 120, 5, **conv), "C5"), ReLU(),
            Flatten(),
            _named(Dense(120, 84, init="he_uniform", rng=rng, dtype=dtype), "F6"), ReLU(),
            _named(Dense(84, 10, init="glorot_uniform", rng=rng, dtype=dtype), "output"),
        ]
    model = Sequential(*layers)
    model.config = {"model": "lenet5", "variant": variant, "output": output}
    model.input_shape = INPUT_SHAPE
    model.preprocess = preprocess
    return model
