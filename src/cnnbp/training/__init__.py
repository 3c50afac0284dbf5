"""Training: the loop, evaluation, data augmentation and checkpoints.

    >>> from cnnbp import layers, losses, optim
    >>> from cnnbp.training import Trainer, RandomShift
    >>> model = layers.Sequential(layers.Flatten(), layers.Dense(784, 10, rng=0))
    >>> opt = optim.SGD(list(model.parameters().values()), lr=0.1, momentum=0.9)
    >>> trainer = Trainer(model, losses.SoftmaxCrossEntropy(), opt, batch_size=64, rng=0,
    ...                   augment=RandomShift(2))
    >>> history = trainer.fit(images, labels, epochs=5, val=(test_images, test_labels),
    ...                       checkpoint_dir="runs/dense")      # doctest: +SKIP
"""

from .augment import (Compose, ElasticDistortion, RandomShift, bilinear_sample, elastic_distort,
                      gaussian_smooth, random_shift, shift_images)
from .checkpoint import (Checkpoint, CheckpointError, atomic_write_bytes, latest_checkpoint,
                         list_checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint)
from .evaluate import confusion_matrix, evaluate, predict_outputs, predict_proba
from .preprocess import default_preprocess, make_preprocess
from .trainer import Trainer, TrainingDiverged

__all__ = [
    "Trainer", "TrainingDiverged",
    "evaluate", "predict_outputs", "predict_proba", "confusion_matrix",
    "default_preprocess", "make_preprocess",
    "shift_images", "random_shift", "elastic_distort", "gaussian_smooth", "bilinear_sample",
    "RandomShift", "ElasticDistortion", "Compose",
    "Checkpoint", "CheckpointError", "save_checkpoint", "load_checkpoint", "list_checkpoints",
    "latest_checkpoint", "prune_checkpoints", "atomic_write_bytes",
]
