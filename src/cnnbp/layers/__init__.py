"""Layers: each owns its parameters and calls :mod:`cnnbp.functional`."""

from .activations import LeakyReLU, Maxout, ReLU, ScaledTanh, Sigmoid, Softmax, Tanh
from .base import Layer, Sequential
from .dense import Dense
from .flatten import Flatten

__all__ = [
    "Layer", "Sequential", "Dense", "Sigmoid", "Tanh", "ScaledTanh", "ReLU", "LeakyReLU",
    "Maxout", "Softmax", "Flatten",
]
