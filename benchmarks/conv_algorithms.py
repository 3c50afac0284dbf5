"""Forward and backward times of the convolution algorithms, and where the FFT starts to win.

For every kernel size k (3..11) and square image size s (28..128), stride 1,
"valid" padding, float32, the median time (over ``--repeats`` runs) of the
forward pass, dC/dx (P3) and dC/dW (P4) of:

- ``direct``: the reference loops (only on the small sizes: they are slow on purpose);
- ``im2col``: strided-view columns and one GEMM per example;
- ``fft``: real FFTs, the kernel transform cached as a Conv2d layer does;
- ``compiled``: numba's compiled direct loops (when numba is installed).

It prints one row per (k, s) with the fastest algorithm, then, per kernel size,
the crossover: the smallest image size from which the FFT beats im2col (and the
compiled loops), forward + backward together. A second table times LeNet-5's
own layers (C1, C3, C5, batch 128), which is where "auto"'s compiled-vs-im2col
rule (see :func:`cnnbp.functional.conv.choose_algorithm`) comes from.

Usage::

    python benchmarks/conv_algorithms.py [--batch 4] [--channels 4] [--out-channels 8]
        [--kernels 3,5,7,9,11] [--sizes 28,48,64,96,128] [--repeats 5] [--threads 1]

The default run takes about 15 seconds on a 2-core machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cnnbp.functional import _fast
from cnnbp.functional.conv import (
    KernelTransformCache,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weight,
)

DIRECT_MAX = (32, 5)  # direct only up to this image size and kernel size


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up (and numba compilation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def time_algorithm(algorithm, x, w, delta, padding, repeats):
    """(forward, dC/dx, dC/dW) in ms for one algorithm."""
    cache = KernelTransformCache()
    opts = dict(algorithm=algorithm, padding=padding)
    return (
        median_ms(lambda: conv2d(x, w, fft_cache=cache, **opts), repeats),
        median_ms(lambda: conv2d_backward_input(delta, w, x.shape, fft_cache=cache, **opts), repeats),
        median_ms(lambda: conv2d_backward_weight(delta, x, w.shape, **opts), repeats),
    )


def algorithms(direct: bool):
    names = ["direct"] if direct else []
    names += ["im2col", "fft"]
    if _fast.available():
        names.append("compiled")
    return names


def sweep(args, rng):
    """Time every (kernel, size); return {(k, s): {algorithm: (fwd, dx, dw)}}."""
    results = {}
    for k in args.kernels:
        for s in args.sizes:
            if k > s:
                continue
            x = rng.normal(size=(args.batch, args.channels, s, s)).astype(np.float32)
            w = rng.normal(size=(args.out_channels, args.channels, k, k)).astype(np.float32)
            delta = rng.normal(size=conv2d(x, w, algorithm="im2col").shape).astype(np.float32)
            direct = s <= DIRECT_MAX[0] and k <= DIRECT_MAX[1]
            results[k, s] = {a: time_algorithm(a, x, w, delta, 0, args.repeats)
                             for a in algorithms(direct)}
    return results


def lenet_layers(args, rng):
    """LeNet-5's layers at batch 128: {name: {algorithm: (fwd, dx, dw)}}."""
    shapes = [
        ("C1 1->6 5x5, 28x28 pad 2", (128, 1, 28, 28), (6, 1, 5, 5), 2),
        ("C3 6->16 5x5, 14x14", (128, 6, 14, 14), (16, 6, 5, 5), 0),
        ("C5 16->120 5x5, 5x5 (1x1 out)", (128, 16, 5, 5), (120, 16, 5, 5), 0),
    ]
    out = {}
    for name, xs, ws, pad in shapes:
        x = rng.normal(size=xs).astype(np.float32)
        w = rng.normal(size=ws).astype(np.float32)
        delta = rng.normal(size=conv2d(x, w, padding=pad, algorithm="im2col").shape).astype(np.float32)
        out[name] = {a: time_algorithm(a, x, w, delta, pad, args.repeats) for a in algorithms(False)}
    return out


def print_table(title, rows):
    print(title)
    names = sorted({a for r in rows.values() for a in r}, key=["direct", "im2col", "fft", "compiled"].index)
    head = f"{'case':<30}" + "".join(f"{a + ' f/dx/dW = total':>34}" for a in names) + f"{'fastest':>10}"
    print(head)
    print("-" * len(head))
    for case, r in rows.items():
        label = case if isinstance(case, str) else f"k={case[0]:<2} {case[1]}x{case[1]}"
        cells = ""
        for a in names:
            if a in r:
                f, dx, dw = r[a]
                cells += f"{f'{f:.2f}/{dx:.2f}/{dw:.2f} = {f + dx + dw:.2f}':>34}"
            else:
                cells += f"{'-':>34}"
        best = min(r, key=lambda a: sum(r[a]))
        print(f"{label:<30}{cells}{best:>10}")


def crossovers(results, kernels, sizes):
    """Per kernel: the smallest size from which the FFT's total beats each other algorithm's."""
    lines = []
    for k in kernels:
        for rival in ("im2col", "compiled"):
            wins = [s for s in sizes if (k, s) in results and rival in results[k, s]
                    and sum(results[k, s]["fft"]) < sum(results[k, s][rival])]
            # the crossover: from there on the FFT keeps winning
            start = None
            for s in sorted(sizes):
                if (k, s) not in results or rival not in results[k, s]:
                    continue
                if s in wins and start is None:
                    start = s
                elif s not in wins:
                    start = None
            if any(rival in results.get((k, s), {}) for s in sizes):
                where = (f"from {start}x{start}" if start else
                         f"at no size up to {max(sizes)}x{max(sizes)}")
                lines.append(f"k={k:<2}: fft beats {rival:<8} {where}")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--out-channels", type=int, default=8)
    parser.add_argument("--kernels", default="3,5,7,9,11")
    parser.add_argument("--sizes", default="28,48,64,96,128")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and numba threads (default 1: steadier on a shared machine)")
    parser.add_argument("--no-lenet", action="store_true", help="skip the LeNet-5 layer table")
    args = parser.parse_args(argv)
    args.kernels = [int(v) for v in args.kernels.split(",")]
    args.sizes = [int(v) for v in args.sizes.split(",")]
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(args.threads)  # noqa: F841 - kept for the whole run
    except ImportError:
        pass
    if _fast.NUMBA_AVAILABLE:
        import numba

        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))

    rng = np.random.default_rng(0)
    print(f"float32, stride 1, no padding, batch {args.batch}, {args.channels} -> {args.out_channels} "
          f"maps, {args.threads} thread(s), median of {args.repeats}, ms; compute: {_fast.describe()}")
    results = sweep(args, rng)
    print_table("forward / dC/dx / dC/dW = total, ms", results)
    print()
    print("crossover (forward + backward):")
    for line in crossovers(results, args.kernels, args.sizes):
        print("  " + line)
    if not args.no_lenet:
        print()
        print_table("LeNet-5 layers, batch 128, ms", lenet_layers(args, rng))


if __name__ == "__main__":
    main()
