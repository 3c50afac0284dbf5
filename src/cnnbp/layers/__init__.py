"""Layers: each owns its parameters and calls :mod:`cnnbp.functional`."""

from .activations import LeakyReLU, Maxout, ReLU, ScaledTanh, Sigmoid, Softmax, Tanh
from .base import Layer, Sequential
from .dense import Dense
from .flatten import Flatten
from .rbf import EuclideanRBF
from .pooling import AvgPool2d, LPPool2d, MaxPool2d
from .subsampling import Subsampling

__all__ = [
    "Layer", "Sequential", "Dense", "Sigmoid", "Tanh", "ScaledTanh", "ReLU", "LeakyReLU",
    "Maxout", "Softmax", "Flatten",
]
__all__ += ["MaxPool2d", "AvgPool2d", "LPPool2d", "Subsampling"]
__all__ += ["EuclideanRBF"]
from .conv import Conv2d
__all__ += ["Conv2d"]
