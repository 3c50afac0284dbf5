"""Optimisers and learning-rate schedules."""

from .adam import Adam
from .optimizer import Optimizer
from .schedules import LENET5_LRS, ConstantLR, CosineLR, EpochListLR, Schedule, StepLR
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "Schedule", "ConstantLR", "StepLR", "CosineLR",
           "EpochListLR", "LENET5_LRS"]
