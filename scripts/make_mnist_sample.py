"""Make the ``mnist-sample`` dataset shipped in ``src/cnnbp/data/mnist_sample/``.

Draws a class-balanced, seeded subset of real MNIST (400 training digits per
class from the training set, 100 test digits per class from the test set, by
default) with :func:`cnnbp.data.sample.balanced_subset`, and writes it as
gzip IDX files with the official names, plus a README.txt saying what it holds.
The output is deterministic: the same full data and options give the same bytes.

    python scripts/make_mnist_sample.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from cnnbp.data import load_mnist, write_idx
from cnnbp.data.datasets import OFFICIAL_FILES, SAMPLE_DIR
from cnnbp.data.idx import atomic_write_bytes, idx_bytes
from cnnbp.data.sample import SAMPLE_PER_CLASS, SAMPLE_SEED, balanced_subset

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                        help="data directory holding mnist/ (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR,
                        help="output folder (default: the package's mnist_sample/)")
    parser.add_argument("--train-per-class", type=int, default=SAMPLE_PER_CLASS["train"])
    parser.add_argument("--test-per-class", type=int, default=SAMPLE_PER_CLASS["test"])
    args = parser.parse_args(argv)
    per_class = {"train": args.train_per_class, "test": args.test_per_class}

    lines = [
        "mnist-sample: a class-balanced subset of MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0).",
        "Made by scripts/make_mnist_sample.py with cnnbp.data.sample.balanced_subset;",
        "the indices below refer to the full MNIST split, kept in their original order.",
        "",
    ]
    for split in ("train", "test"):
        images, labels = load_mnist(split, args.data_dir, download=False)
        rng = np.random.default_rng(SAMPLE_SEED[split])
        index = balanced_subset(labels, per_class[split], rng)
        images_name, labels_name = OFFICIAL_FILES[split]
        write_idx(args.out / images_name, images[index])
        write_idx(args.out / labels_name, labels[index])
        digest = hashlib.sha256(idx_bytes(index.astype(np.int32))).hexdigest()
        lines.append(
            f"{split}: {len(index)} digits, {per_class[split]} per class, drawn without "
            f"replacement by numpy.random.default_rng({SAMPLE_SEED[split]}) from the "
            f"{len(labels)} of the full split; SHA-256 of the indices as int32 IDX: {digest}"
        )
        print(f"{split}: {len(index)} digits -> {args.out}", file=sys.stderr)
    atomic_write_bytes(args.out / "README.txt", ("\n".join(lines) + "\n").encode())
    total = sum(p.stat().st_size for p in args.out.glob("*.gz"))
    print(f"total {total / 1024:.0f} KiB in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
