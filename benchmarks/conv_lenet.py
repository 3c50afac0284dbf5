"""Time each convolution algorithm on LeNet-5's C1 and C3 layers.

Prints the median (over ``--repeats`` runs) of the forward pass, dC/dx (P3) and
dC/dW (P4) of the direct loops, im2col and FFT at batch 64, float32:

- C1: 1 -> 6 maps, 5x5 kernels on 32x32;
- C3: 6 -> 16 maps, 5x5 kernels on 14x14, fully connected and with LeCun's table.

Usage: ``python benchmarks/conv_lenet.py [--batch 64] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cnnbp.functional.conv import (
    KernelTransformCache,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weight,
)

# LeCun et al. 1998, Table I: the S2 maps feeding each C3 map.
C3_INPUTS = [(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
             (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
             (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5)]


def c3_table() -> np.ndarray:
    table = np.zeros((6, 16), dtype=bool)
    for m, inputs in enumerate(C3_INPUTS):
        table[list(inputs), m] = True
    return table


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--algorithms", default="direct,im2col,fft")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    layers = [
        ("C1 1->6, 5x5 on 32x32", (args.batch, 1, 32, 32), (6, 1, 5, 5), None),
        ("C3 6->16, 5x5 on 14x14 (full)", (args.batch, 6, 14, 14), (16, 6, 5, 5), None),
        ("C3 6->16, 5x5 on 14x14 (table)", (args.batch, 6, 14, 14), (16, 6, 5, 5), c3_table()),
    ]
    print(f"batch {args.batch}, float32, median of {args.repeats} runs, milliseconds")
    print(f"{'layer':<32} {'algorithm':<8} {'forward':>9} {'dC/dx':>9} {'dC/dW':>9} {'total':>9}")
    for name, x_shape, w_shape, table in layers:
        x = rng.normal(size=x_shape).astype(np.float32)
        w = rng.normal(size=w_shape).astype(np.float32)
        b = rng.normal(size=w_shape[0]).astype(np.float32)
        delta = rng.normal(size=conv2d(x, w).shape).astype(np.float32)
        for algorithm in args.algorithms.split(","):
            # One cache per layer and algorithm, as a Conv2d layer keeps: the FFT kernel
            # transform is computed once and reused by the passes timed below.
            cache = KernelTransformCache()
            opts = dict(algorithm=algorithm, connections=table)
            t_fwd = median_time(lambda: conv2d(x, w, b, fft_cache=cache, **opts), args.repeats)
            t_dx = median_time(
                lambda: conv2d_backward_input(delta, w, x.shape, fft_cache=cache, **opts), args.repeats)
            t_dw = median_time(lambda: conv2d_backward_weight(delta, x, w.shape, **opts), args.repeats)
            total = t_fwd + t_dx + t_dw
            print(f"{name:<32} {algorithm:<8} {1e3 * t_fwd:9.2f} {1e3 * t_dx:9.2f} "
                  f"{1e3 * t_dw:9.2f} {1e3 * total:9.2f}")


if __name__ == "__main__":
    main()
