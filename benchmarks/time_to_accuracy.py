"""Wall time for LeNet-5 (modern) to reach 99.0% test accuracy on full MNIST.

A plain loop, nothing hidden: ``lenet5("modern")`` (ReLU, max pooling), float32,
softmax cross-entropy, Adam with a cosine learning rate that falls from
``--lr`` (5e-3) to 0 over a budget of ``--epochs`` (4) epochs, step by step,
mini-batches of 128 reshuffled every epoch. The test set (10,000 digits) is
evaluated every half epoch; the clock runs from the first training step (the
data are loaded and preprocessed before it starts, and that time is reported
apart) and stops at the first evaluation at or above the target. Evaluation
time counts.

Data: ``--data-dir``, else ``$CNNBP_DATA_DIR``, else ``../shared/data`` next to
the repository; read with :func:`cnnbp.data.load_mnist`.

Usage::

    python benchmarks/time_to_accuracy.py [--target 0.99] [--epochs 4] [--lr 5e-3] [--seed 0]
        [--threads N]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from cnnbp import losses, optim
from cnnbp.data import load_mnist
from cnnbp.functional import _fast
from cnnbp.models import lenet5

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def accuracy(model, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    """Fraction of ``x`` classified as ``y`` (forward passes in evaluation mode)."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += int(np.sum(model.forward(x[i:i + batch]).argmax(axis=1) == y[i:i + batch]))
    model.train()
    return correct / len(x)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CNNBP_DATA_DIR", str(DEFAULT_DATA)))
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--epochs", type=int, default=4, help="budget of the cosine schedule")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-3, help="initial Adam learning rate")
    parser.add_argument("--evals-per-epoch", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and numba threads (default: the libraries' own)")
    args = parser.parse_args(argv)
    if args.threads:
        from lenet_throughput import set_threads  # threadpoolctl and numba

        set_threads(args.threads)

    t0 = time.perf_counter()
    model = lenet5("modern", rng=args.seed)
    train_x, train_y = load_mnist("train", data_dir=args.data_dir)
    test_x, test_y = load_mnist("test", data_dir=args.data_dir)
    train_x, test_x = model.preprocess(train_x), model.preprocess(test_x)
    train_y, test_y = train_y.astype(np.int64), test_y.astype(np.int64)
    load_time = time.perf_counter() - t0
    print(f"data: {len(train_x):,} train / {len(test_x):,} test digits from {args.data_dir} "
          f"({load_time:.1f} s to load and preprocess, not counted); compute: {_fast.describe()}")

    loss = losses.SoftmaxCrossEntropy()
    opt = optim.Adam(list(model.parameters().values()), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    n = len(train_x)
    steps = -(-n // args.batch)
    eval_at = {round(steps * k / args.evals_per_epoch) for k in range(1, args.evals_per_epoch + 1)}

    total = args.epochs * steps
    start = time.perf_counter()
    eval_time = 0.0
    for epoch in range(args.epochs):
        order = rng.permutation(n)
        for step in range(steps):
            t = epoch * steps + step
            opt.lr = args.lr * 0.5 * (1 + math.cos(math.pi * t / total))  # cosine to 0
            idx = order[step * args.batch:(step + 1) * args.batch]
            opt.zero_grad()
            loss.forward(model.forward(train_x[idx]), train_y[idx])
            model.backward(loss.backward())
            opt.step()
            if step + 1 in eval_at:
                e0 = time.perf_counter()
                acc = accuracy(model, test_x, test_y)
                eval_time += time.perf_counter() - e0
                elapsed = time.perf_counter() - start
                print(f"epoch {epoch + (step + 1) / steps:4.2f}: test accuracy {acc:.4f}  "
                      f"({elapsed:6.1f} s, of which evaluation {eval_time:.1f} s)", flush=True)
                if acc >= args.target:
                    print(f"reached {args.target:.1%} in {elapsed:.1f} s "
                          f"({epoch + (step + 1) / steps:.2f} epochs)")
                    return 0
    print(f"did not reach {args.target:.1%} in {args.epochs} epochs "
          f"({time.perf_counter() - start:.1f} s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
