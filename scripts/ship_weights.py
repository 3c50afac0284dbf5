"""Turn a finished `cnnbp train` run into the weights shipped inside the package.

    cnnbp train --variant classic --data-dir ../shared/data --out runs/classic
    python scripts/ship_weights.py runs/classic --data-dir ../shared/data

Takes the run's last checkpoint, evaluates it on the full MNIST test set, and
writes src/cnnbp/models/weights/lenet5-<variant>.safetensors (atomically) with
the model configuration, the training settings and history, and the measured
test accuracy in its metadata. `cnnbp evaluate` and `cnnbp predict` use it when
no checkpoint is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from safetensors.numpy import save

from cnnbp.data import load_mnist
from cnnbp.losses import SoftmaxCrossEntropy
from cnnbp.training import atomic_write_bytes, evaluate, load_checkpoint
from cnnbp.training.recipes import model_from_config

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "cnnbp" / "models" / "weights"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run directory (or checkpoint) of cnnbp train")
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/")
    args = parser.parse_args(argv)

    ckpt = load_checkpoint(args.run)
    config = ckpt.config
    model = model_from_config(config)
    ckpt.restore(model)
    images, labels = load_mnist("test", data_dir=args.data_dir, download=False)
    result = evaluate(model, images, labels, loss=SoftmaxCrossEntropy(), preprocess=model.preprocess)
    history = ckpt.history
    summary = {
        "dataset": "mnist", "split": "test", "n": result["n"], "accuracy": result["accuracy"],
        "error_percent": round(100 * result["error"], 4), "epochs": ckpt.epoch,
        "train_seconds": round(sum(h["seconds"] + h.get("eval_seconds", 0.0) for h in history), 1),
    }
    model_config = {k: v for k, v in config.items() if k != "training"}
    metadata = {
        "config": json.dumps(model_config),
        "training": json.dumps(config.get("training", {})),
        "history": json.dumps(history),
        "result": json.dumps(summary),
    }
    tensors = {name: p.data for name, p in model.parameters().items()}
    out = WEIGHTS / f"lenet5-{config['variant']}.safetensors"
    atomic_write_bytes(out, save(tensors, metadata=metadata))
    print(f"{out}: test accuracy {summary['accuracy']:.4f} (error {summary['error_percent']:.2f}%), "
          f"{summary['epochs']} epochs, {summary['train_seconds']:.0f} s of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
