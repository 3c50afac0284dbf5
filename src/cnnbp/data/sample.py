"""Choosing the class-balanced subset that ships as the ``mnist-sample`` dataset.

``scripts/make_mnist_sample.py`` calls :func:`balanced_subset` on the full
MNIST labels and writes the chosen digits into ``mnist_sample/``; the tests
call it again to check that the shipped files are exactly that subset.
"""

from __future__ import annotations

import numpy as np

#: What the shipped sample holds: examples per class, and the seed of the draw.
SAMPLE_PER_CLASS = {"train": 400, "test": 100}
SAMPLE_SEED = {"train": 0, "test": 1}


def balanced_subset(labels, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``per_class`` indices of every class, without replacement.

    Args:
        labels: integer labels, shape ``(N,)``.
        per_class: how many examples of each class to keep.
        rng: the generator of the draw (the draw is reproducible from its seed).

    Returns:
        Indices into ``labels``, shape ``(K * per_class,)`` for ``K`` classes
        (those present, ``0 .. labels.max()``), sorted ascending so the subset
        keeps the original order.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (N,), got shape {labels.shape}")
    counts = np.bincount(labels)
    if per_class < 0 or (counts < per_class).any():
        raise ValueError(
            f"per_class={per_class} needs that many examples of every class; "
            f"found per-class counts {counts.tolist()}"
        )
    picks = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
             for c in range(len(counts))]
    return np.sort(np.concatenate(picks))
