"""The training loop: shuffled mini-batches, forward, loss, backward, optimiser step.

One epoch of :meth:`Trainer.fit`::

    order = rng.permutation(N)                       # seeded shuffling
    for each mini-batch (the last one may be smaller):
        images = augment(raw[batch], rng)            # optional, on the raw images
        x      = preprocess(images)                  # e.g. /255, channel axis, padding
        model.zero_grad()
        out    = model.forward(x)
        C      = loss.forward(out, labels[batch])    # a NaN/inf C stops training here
        model.backward(loss.backward())              # residuals; grads accumulate
        optimizer.step()                             # W(t+1) = W(t) - eta(t) dC/dW
    schedule.step()                                  # eta for the next epoch
    evaluate on the validation set (evaluation mode, batched)
    write the checkpoint of this epoch

All randomness (shuffling and augmentation) comes from one ``np.random.Generator``
whose state is part of every checkpoint; together with the weights, the
optimiser's state and the schedule's position this makes a resumed run end with
the same weights, bit for bit, as an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import init as _init
from .checkpoint import (Checkpoint, CheckpointError, list_checkpoints, load_checkpoint,
                         prune_checkpoints, save_checkpoint, set_rng_state)
from .evaluate import check_output_kind, evaluate, outputs_to_labels, outputs_to_proba, predict_outputs
from .preprocess import default_preprocess

__all__ = ["Trainer", "TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """The loss (or a parameter) became NaN or infinite; training stopped.

    Attributes: ``epoch`` and ``batch`` (both counted from 1), ``value`` (the loss),
    ``checkpoint`` (the last good checkpoint's JSON path, or None).
    """

    def __init__(self, message: str, epoch: int, batch: int | None, value: float,
                 checkpoint: Path | None = None):
        super().__init__(message)
        self.epoch, self.batch, self.value, self.checkpoint = epoch, batch, value, checkpoint


def _check_labelled(images, labels, what: str) -> tuple[np.ndarray, np.ndarray]:
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"{what} images must be a non-empty batch (N, ...), got shape {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(
            f"{what} labels must have shape ({len(images)},), one per image, got {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{what} labels must be integers, got dtype {labels.dtype}")
    return images, labels.astype(np.int64)


class Trainer:
    """Trains any model (a :class:`~cnnbp.layers.Layer`, typically a Sequential) on (images, labels).

    Args:
        model: the network; its output (N, K) gives K class scores.
        loss: a :mod:`cnnbp.losses` object (batch mean), e.g. ``SoftmaxCrossEntropy()``.
        optimizer: an optimiser over ``model.parameters()``, e.g. ``optim.SGD(...)``.
        schedule: a learning-rate schedule stepped once per epoch, or None.
        batch_size: examples per mini-batch (the last batch of an epoch may be smaller).
        rng: ``np.random.Generator`` or int seed for shuffling and augmentation
            (None: unseeded, so runs differ; resuming still reproduces the run).
        augment: None or ``augment(images, rng) -> images`` applied to the raw
            training images (see :mod:`cnnbp.training.augment`).
        preprocess: raw images -> model input; default /255 and a channel axis.
        target_transform: labels (N,) -> the loss's target (e.g. one-hot rows for
            ``Quadratic``); None passes the integer labels.
        outputs: "logits", "probabilities" or "distances" (argmin, e.g. RBF units):
            how accuracy and probabilities read the model's output.
        eval_batch_size: batch size for evaluation and prediction (default max(256, batch_size)).
        config: JSON-ready model configuration saved in each checkpoint, e.g.
            ``{"model": "lenet5", "variant": "classic"}``; resuming checks it matches.
        keep_checkpoints: keep only this many most recent checkpoints (None: all).

    Attributes:
        epoch: completed epochs; history: one dict per completed epoch; rng: the generator.
    """

    def __init__(self, model, loss, optimizer, schedule=None, *, batch_size: int = 64, rng=None,
                 augment=None, preprocess=default_preprocess, target_transform=None,
                 outputs: str = "logits", eval_batch_size: int | None = None,
                 config: dict | None = None, keep_checkpoints: int | None = None):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if augment is not None and not callable(augment):
            raise TypeError(f"augment must be None or callable as augment(images, rng), got {type(augment).__name__}")
        if not callable(preprocess):
            raise TypeError(f"preprocess must be callable, got {type(preprocess).__name__}")
        if keep_checkpoints is not None and keep_checkpoints < 1:
            raise ValueError(f"keep_checkpoints must be None or >= 1, got {keep_checkpoints}")
        if schedule is not None and schedule.optimizer is not optimizer:
            raise ValueError("the schedule drives a different optimiser than the one given")
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size or max(256, self.batch_size))
        self.rng = _init.as_rng(rng)
        self.augment = augment
        self.preprocess = preprocess
        self.target_transform = target_transform
        self.outputs = check_output_kind(outputs)
        self.config = dict(config or {})
        self.keep_checkpoints = keep_checkpoints
        self.epoch = 0
        self.history: list[dict] = []
        self.checkpoint_dir: Path | None = None

    # -- resuming ----------------------------------------------------------------------------
    def resume(self, path_or_dir: str | os.PathLike) -> Checkpoint:
        """Restore weights, optimiser state, schedule position, RNG state, history and
        epoch from a checkpoint (a run directory: its latest complete epoch).

        Checks everything before changing anything; later checkpoints go to the same
        directory unless ``fit`` is given another ``checkpoint_dir``.

        Raises:
            CheckpointError: corrupted, truncated, or not matching this model,
                optimiser, schedule or configuration.
        """
        ckpt = load_checkpoint(path_or_dir)
        if self.config and ckpt.config and ckpt.config != self.config:
            raise CheckpointError(
                f"{ckpt.path} was saved for model configuration {ckpt.config}, "
                f"this run has {self.config}"
            )
        if ckpt.meta.get("rng") is None:
            raise CheckpointError(f"{ckpt.path} holds no RNG state, so training cannot resume from it")
        restored_rng = set_rng_state(None, ckpt.meta["rng"])      # validate before changing anything
        ckpt.restore(self.model, self.optimizer, self.schedule)
        if type(restored_rng.bit_generator) is type(self.rng.bit_generator):
            self.rng.bit_generator.state = restored_rng.bit_generator.state
        else:
            self.rng = restored_rng
        self.epoch = ckpt.epoch
        self.history = ckpt.history
        self.checkpoint_dir = ckpt.path.parent
        return ckpt

    def save_checkpoint(self, directory: str | os.PathLike, num_train: int | None = None) -> Path:
        """Write the checkpoint of the current epoch into ``directory``; return its JSON path."""
        trainer = {"batch_size": self.batch_size, "outputs": self.outputs,
                   "augment": _describe(self.augment), "preprocess": _describe(self.preprocess),
                   "num_train": num_train}
        path = save_checkpoint(directory, self.epoch, self.model, self.optimizer, self.schedule,
                               self.rng, self.history, self.config, trainer)
        if self.keep_checkpoints is not None:
            prune_checkpoints(directory, self.keep_checkpoints)
        return path

    # -- training ----------------------------------------------------------------------------
    def fit(self, images, labels, epochs: int, val=None, checkpoint_dir: str | os.PathLike | None = None,
            resume: str | os.PathLike | None = None, progress: bool = True) -> list[dict]:
        """Train until ``epochs`` epochs are complete in total; return the history.

        Args:
            images: (N, ...) raw training images, e.g. uint8 (N, 28, 28).
            labels: (N,) integer classes.
            epochs: the total number of epochs of the run: after ``resume`` from
                epoch 1, ``epochs=3`` trains epochs 2 and 3.
            val: (images, labels) evaluated after every epoch, or None.
            checkpoint_dir: write ``epoch-NNN.safetensors/json`` here after every epoch
                (default: the directory of the previous ``fit`` or ``resume``, else no
                checkpoints). A directory holding a later epoch than this run's is refused.
            resume: a run directory or checkpoint to continue from (see :meth:`resume`).
            progress: show a tqdm bar per epoch (loss, accuracy, images/s) on stderr.

        Returns:
            ``self.history``: one dict per epoch with ``epoch``, ``lr`` (used in that
            epoch), ``train_loss``, ``train_accuracy`` (on the augmented batches, in
            training mode, as they were seen), ``val_loss``, ``val_accuracy`` (None
            without ``val``), ``seconds`` (training time), ``images_per_second``,
            ``eval_seconds``.

        Raises:
            TrainingDiverged: the loss or a parameter became NaN or infinite; no
                checkpoint is written for the failing epoch.
        """
        images, labels = _check_labelled(images, labels, "training")
        if val is not None:
            if not (isinstance(val, (tuple, list)) and len(val) == 2):
                raise TypeError("val must be a pair (images, labels) or None")
            val = _check_labelled(val[0], val[1], "validation")
        if int(epochs) != epochs or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs}")
        if resume is not None:
            self.resume(resume)
        if checkpoint_dir is not None:
            self.checkpoint_dir = Path(checkpoint_dir)
        if self.checkpoint_dir is not None:
            self._check_checkpoint_dir(self.checkpoint_dir)
        for epoch in range(self.epoch + 1, int(epochs) + 1):
            self._run_epoch(epoch, int(epochs), images, labels, val, progress)
            if self.checkpoint_dir is not None:
                self.save_checkpoint(self.checkpoint_dir, num_train=len(images))
        return self.history

    def _check_checkpoint_dir(self, directory: Path) -> None:
        found = list_checkpoints(directory)
        if found and found[-1][0] > self.epoch:
            raise ValueError(
                f"{directory} already holds checkpoints up to epoch {found[-1][0]} and this run "
                f"is at epoch {self.epoch}: pass resume={str(directory)!r} to continue that run, "
                "or choose an empty directory"
            )

    def _run_epoch(self, epoch: int, epochs: int, images, labels, val, progress: bool) -> None:
        model, loss, n = self.model, self.loss, len(images)
        num_batches = math.ceil(n / self.batch_size)
        lr = self.optimizer.lr
        model.train()
        order = self.rng.permutation(n)
        loss_sum, correct, seen = 0.0, 0, 0
        with tqdm(total=n, desc=f"epoch {epoch}/{epochs}", unit="img", disable=not progress,
                  dynamic_ncols=True) as bar:
            start = time.perf_counter()
            for b in range(num_batches):
                idx = order[b * self.batch_size:(b + 1) * self.batch_size]
                x, y = images[idx], labels[idx]
                if self.augment is not None:
                    x = self.augment(x, self.rng)
                x = self.preprocess(x)
                model.zero_grad()
                out = model.forward(x)
                value = loss.forward(out, y if self.target_transform is None else self.target_transform(y))
                if not math.isfinite(value):
                    raise self._diverged(f"the loss is {value}", epoch, b + 1, num_batches, value)
                model.backward(loss.backward())
                self.optimizer.step()
                loss_sum += value * len(idx)
                correct += int(np.count_nonzero(outputs_to_labels(out, self.outputs) == y))
                seen += len(idx)
                bar.update(len(idx))
                bar.set_postfix({"loss": f"{loss_sum / seen:.4f}", "acc": f"{correct / seen:.4f}"},
                                refresh=False)
            seconds = time.perf_counter() - start
            for name, p in model.parameters().items():
                if not np.all(np.isfinite(p.data)):
                    raise self._diverged(f"parameter {name!r} holds NaN or infinite values",
                                         epoch, num_batches, num_batches, math.nan)
            if self.schedule is not None:
                self.schedule.step()
            record = {"epoch": epoch, "lr": lr, "train_loss": loss_sum / n, "train_accuracy": correct / n,
                      "val_loss": None, "val_accuracy": None, "seconds": seconds,
                      "images_per_second": n / seconds if seconds > 0 else None, "eval_seconds": 0.0}
            if val is not None:
                t = time.perf_counter()
                result = self.evaluate(*val)
                record["eval_seconds"] = time.perf_counter() - t
                if not math.isfinite(result["loss"]):
                    raise self._diverged(f"the validation loss is {result['loss']}",
                                         epoch, None, num_batches, result["loss"])
                record["val_loss"], record["val_accuracy"] = result["loss"], result["accuracy"]
                bar.set_postfix({"loss": f"{record['train_loss']:.4f}",
                                 "acc": f"{record['train_accuracy']:.4f}",
                                 "val_acc": f"{record['val_accuracy']:.4f}"}, refresh=False)
        self.history.append(record)
        self.epoch = epoch

    def _diverged(self, what: str, epoch: int, batch: int | None, num_batches: int,
                  value: float) -> TrainingDiverged:
        where = f"epoch {epoch}" + (f", batch {batch} of {num_batches}" if batch is not None else "")
        last = None
        if self.checkpoint_dir is not None:
            found = list_checkpoints(self.checkpoint_dir)
            last = found[-1][1] if found else None
        kept = (f"the last good checkpoint, {last}, is untouched" if last is not None
                else "no checkpoint was written for this epoch")
        return TrainingDiverged(
            f"training diverged at {where}: {what}; {kept}. Try a lower learning rate.",
            epoch, batch, value, last,
        )

    # -- evaluation and prediction ---------------------------------------------------------------
    def evaluate(self, images, labels, batch_size: int | None = None) -> dict:
        """Loss, accuracy, per-class accuracy and confusion matrix (rows = true class),
        in evaluation mode; see :func:`cnnbp.training.evaluate`."""
        return evaluate(self.model, images, labels, self.loss, batch_size or self.eval_batch_size,
                        self.preprocess, self.target_transform, self.outputs)

    def predict_proba(self, images, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities (N, K) in evaluation mode."""
        out = predict_outputs(self.model, images, batch_size or self.eval_batch_size, self.preprocess)
        return outputs_to_proba(out, self.outputs)

    def predict(self, images, batch_size: int | None = None) -> np.ndarray:
        """Predicted classes (N,) in evaluation mode."""
        out = predict_outputs(self.model, images, batch_size or self.eval_batch_size, self.preprocess)
        return outputs_to_labels(out, self.outputs)


def _describe(obj):
    """A JSON-ready description of an augmentation or preprocess, for the record."""
    if obj is None:
        return None
    config = getattr(obj, "config", None)
    if callable(config):
        return config()
    if isinstance(config, dict):
        return config
    return getattr(obj, "__name__", None) or repr(obj)
