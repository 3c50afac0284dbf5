"""Batched evaluation and prediction of a classifier, in evaluation mode.

The model's output (N, K) is read according to ``outputs``:

- ``"logits"`` (default): class = argmax; probabilities = softmax(output);
- ``"probabilities"``: the model ends in Softmax/Sigmoid; class = argmax;
  probabilities = the output itself;
- ``"distances"``: penalties such as LeNet-5's RBF units (LeCun 1998, eq. 7),
  smaller is better; class = argmin; probabilities = softmax(-output).
"""

from __future__ import annotations

import numpy as np

from ..functional.activations import log_softmax
from .preprocess import default_preprocess

__all__ = ["OUTPUT_KINDS", "predict_outputs", "predict_proba", "outputs_to_labels",
           "outputs_to_proba", "confusion_matrix", "evaluate"]

OUTPUT_KINDS = ("logits", "probabilities", "distances")


def check_output_kind(outputs: str) -> str:
    if outputs not in OUTPUT_KINDS:
        raise ValueError(f"outputs must be one of {OUTPUT_KINDS}, got {outputs!r}")
    return outputs


def outputs_to_labels(out: np.ndarray, outputs: str = "logits") -> np.ndarray:
    """The predicted class of each row of ``out`` (N, K) -> (N,) int64."""
    check_output_kind(outputs)
    return np.argmin(out, axis=1) if outputs == "distances" else np.argmax(out, axis=1)


def outputs_to_proba(out: np.ndarray, outputs: str = "logits") -> np.ndarray:
    """Class probabilities (N, K) from the model's output (see the module docstring)."""
    check_output_kind(outputs)
    if outputs == "probabilities":
        return np.array(out, copy=True)
    return np.exp(log_softmax(-out if outputs == "distances" else out, axis=1))


def _batches(n: int, batch_size: int):
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    for start in range(0, n, int(batch_size)):
        yield slice(start, min(start + int(batch_size), n))


def predict_outputs(model, images: np.ndarray, batch_size: int = 256,
                    preprocess=default_preprocess) -> np.ndarray:
    """Run ``model`` on ``images`` in evaluation mode, in batches; return the outputs (N, K).

    The model's previous mode (training or evaluation) is restored afterwards.
    """
    images = np.asarray(images)
    if images.ndim < 1 or len(images) == 0:
        raise ValueError(f"expected a non-empty batch of images, got shape {images.shape}")
    was_training = model.training
    model.eval()
    try:
        return np.concatenate([model.forward(preprocess(images[s])) for s in _batches(len(images), batch_size)])
    finally:
        model.train(was_training)


def predict_proba(model, images: np.ndarray, batch_size: int = 256, preprocess=default_preprocess,
                  outputs: str = "logits") -> np.ndarray:
    """Class probabilities (N, K) for ``images``; see :func:`outputs_to_proba`."""
    return outputs_to_proba(predict_outputs(model, images, batch_size, preprocess), outputs)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts; row = true class, column = predicted class."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(true, dtype=np.intp), np.asarray(predicted, dtype=np.intp)), 1)
    return m


def evaluate(model, images: np.ndarray, labels: np.ndarray, loss=None, batch_size: int = 256,
             preprocess=default_preprocess, target_transform=None, outputs: str = "logits") -> dict:
    """Loss, accuracy, per-class accuracy and confusion matrix of ``model`` on a labelled set.

    Runs in evaluation mode, in batches (the mode is restored afterwards).

    Args:
        model: any layer whose output is (N, K), K the number of classes.
        images: (N, ...) raw images, passed through ``preprocess`` batch by batch.
        labels: (N,) integer classes in [0, K).
        loss: a :mod:`cnnbp.losses` object, or None to skip the loss.
        target_transform: labels -> the loss's target (e.g. one-hot rows); None: the labels.
        outputs: how to read the output: "logits", "probabilities" or "distances".

    Returns:
        a JSON-ready dict: ``n``, ``loss`` (mean over examples; None without a loss),
        ``accuracy``, ``error``, ``per_class_accuracy`` (K floats, None for a class with
        no examples), ``confusion_matrix`` (K lists of K ints; row = true class).
    """
    check_output_kind(outputs)
    images = np.asarray(images)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"expected {len(images)} labels (one per image), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    was_training = model.training
    model.eval()
    total_loss = 0.0
    predicted = []
    num_classes = None
    try:
        for s in _batches(len(images), batch_size):
            out = model.forward(preprocess(images[s]))
            if out.ndim != 2:
                raise ValueError(f"evaluate expects model outputs of shape (N, K), got {out.shape}")
            num_classes = out.shape[1]
            if loss is not None:
                y = labels[s] if target_transform is None else target_transform(labels[s])
                total_loss += loss.forward(out, y) * (s.stop - s.start)
            predicted.append(outputs_to_labels(out, outputs))
    finally:
        model.train(was_training)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}] for a model with {num_classes} outputs, "
            f"got values from {labels.min()} to {labels.max()}"
        )
    predicted = np.concatenate(predicted)
    matrix = confusion_matrix(labels, predicted, num_classes)
    per_class = matrix.sum(axis=1)
    correct = np.diag(matrix)
    accuracy = float(correct.sum() / len(labels))
    return {
        "n": int(len(labels)),
        "loss": float(total_loss / len(labels)) if loss is not None else None,
        "accuracy": accuracy,
        "error": 1.0 - accuracy,
        "per_class_accuracy": [float(c / t) if t else None for c, t in zip(correct, per_class)],
        "confusion_matrix": matrix.tolist(),
    }
