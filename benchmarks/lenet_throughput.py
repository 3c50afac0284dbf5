"""Training and inference throughput of LeNet-5 in cnnbp, next to PyTorch on the same CPU.

The network is the LeNet-5 shape of issue 5 (28x28 inputs, float32)::

    conv 1->6 5x5 padding 2 -> tanh -> 2x2 average pooling
    conv 6->16 5x5          -> tanh -> 2x2 average pooling
    flatten -> dense 400-120 -> tanh -> dense 120-84 -> tanh -> dense 84-10

trained with softmax cross-entropy and plain SGD (lr 0.01). When PyTorch is
installed the same network is built there with the *same* initial weights and
the two forward passes are checked to agree before anything is timed.

What is timed, per batch size (1, 32, 128, 256 by default):

- a training step: forward, loss, backward, SGD update (and zeroing the gradients);
- inference: the forward pass alone (PyTorch under ``torch.inference_mode``).

The two libraries are timed in alternation (cnnbp, PyTorch, cnnbp, ...), each
round running enough steps to last about ``--round-time`` seconds, and the table
reports the median over ``--repeats`` rounds: other processes on a shared
machine then slow both alike. Each library runs in its own worker process
(``--same-process`` puts both in this one), so that the thread pool one library
leaves spinning does not compete with the other's. PyTorch gets the same number of threads as cnnbp
(``torch.set_num_threads``): by default the larger of the BLAS pool
(threadpoolctl) and numba's pool; ``--threads N`` sets all three to N.

Peak memory: each library is run in a fresh subprocess per batch size; after
one warm-up step the process's peak resident set is reset (Linux
``/proc/self/clear_refs``) and the table shows how far it rises above the
resident set of that moment during three training steps ("step peak RSS", the
memory a step needs beyond the model, the batch and what is kept between steps).
For cnnbp, ``tracemalloc``'s peak of one training step (NumPy registers its
buffers with it) is shown as well.

Usage::

    python benchmarks/lenet_throughput.py [--batches 1,32,128,256] [--repeats 7]
        [--threads N] [--no-torch] [--no-memory] [--json FILE] [--profile BATCH]

``--profile BATCH`` prints, instead of the table, where a cnnbp training step's
time goes: cProfile over 20 steps at that batch size, sorted by own time.

Also reachable as ``cnnbp bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import cnnbp
from cnnbp import layers, losses, optim

BATCHES = (1, 32, 128, 256)
LR = 0.01


# -- the two networks ---------------------------------------------------------------
def build_cnnbp(seed: int = 0):
    """The issue's LeNet-5 shape as a cnnbp Sequential (float32)."""
    rng = np.random.default_rng(seed)
    return layers.Sequential(
        layers.Conv2d(1, 6, 5, padding=2, rng=rng), layers.Tanh(), layers.AvgPool2d(2),
        layers.Conv2d(6, 16, 5, rng=rng), layers.Tanh(), layers.AvgPool2d(2),
        layers.Flatten(),
        layers.Dense(400, 120, rng=rng), layers.Tanh(),
        layers.Dense(120, 84, rng=rng), layers.Tanh(),
        layers.Dense(84, 10, rng=rng),
    )


def build_torch(model):
    """The same network in PyTorch, with the weights of the cnnbp ``model``."""
    import torch
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10),
    )
    with torch.no_grad():
        for mine, theirs in zip(model.layers, net):
            for name, p in mine.parameters().items():
                getattr(theirs, name).copy_(torch.from_numpy(p.data.copy()))
    return net


def batch(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1, 28, 28)).astype(np.float32)
    t = rng.integers(0, 10, size=n)
    return x, t


# -- one step of each library ---------------------------------------------------------
def cnnbp_stepper(model, x, t):
    loss = losses.SoftmaxCrossEntropy()
    opt = optim.SGD(list(model.parameters().values()), lr=LR)

    def train_step():
        opt.zero_grad()
        loss.forward(model.forward(x), t)
        model.backward(loss.backward())
        opt.step()

    def infer():
        model.forward(x)

    return train_step, infer


def torch_stepper(net, x, t):
    import torch

    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    loss = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=LR)

    def train_step():
        opt.zero_grad()
        loss(net(xt), tt).backward()
        opt.step()

    def infer():
        with torch.inference_mode():
            net(xt)

    return train_step, infer


def steps_per_round(fn, round_time: float) -> int:
    """How many calls of ``fn`` last about ``round_time`` seconds (after a warm-up)."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-6)
    return max(1, int(round_time / one))


def time_round(fn, k: int) -> float:
    start = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - start) / k


# -- memory: a fresh process per library and batch -------------------------------------
def _status_kib(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _memory_probe(library: str, n: int) -> None:
    """Child process: print how far the resident set rises above its level before three
    training steps (KiB). One warm-up step runs first (compilation, kept buffers), then the
    kernel's peak counter is reset (``5 > /proc/self/clear_refs``) and read back after."""
    set_threads(int(os.environ.get("CNNBP_BENCH_THREADS", "1")))
    model = build_cnnbp()
    x, t = batch(n)
    if library == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("CNNBP_BENCH_THREADS", "1")))
        step, _ = torch_stepper(build_torch(model), x, t)
    else:
        step, _ = cnnbp_stepper(model, x, t)
    step()
    import gc

    gc.collect()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    for _ in range(3):
        step()
    print(_status_kib("VmHWM") - before)


def step_peak_rss_mib(library: str, n: int, threads: int) -> float | None:
    env = dict(os.environ, CNNBP_BENCH_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, "--memory-probe", library, str(n)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return None
    return int(out.stdout.split()[-1]) / 1024


def tracemalloc_peak_mib(step) -> float:
    step()
    tracemalloc.start()
    tracemalloc.reset_peak()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


# -- the run -----------------------------------------------------------------------------
def cnnbp_threads() -> int:
    """Threads cnnbp computes with: the BLAS pool (and numba's, when the fast path uses it)."""
    counts = []
    try:
        from threadpoolctl import threadpool_info

        counts += [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        pass
    try:
        from cnnbp.functional import _fast

        if _fast.NUMBA_AVAILABLE:
            counts.append(_fast.num_threads())
    except ImportError:
        pass
    return max(counts) if counts else (os.cpu_count() or 1)


def set_threads(n: int) -> None:
    """Use n threads in cnnbp: the BLAS pool (through threadpoolctl) and numba's pool."""
    from cnnbp.functional import _fast

    set_threads.limits = _fast.set_threads(n)  # kept alive for the whole run


class _Worker:
    """One library in its own process, timed on request: ``setup N``, ``calibrate KIND SECONDS``
    (how many steps make a round), ``round KIND K`` (seconds per step), ``tracemalloc``, ``quit``.

    Each library then has its own thread pools: in one process, the pool that just
    finished (OpenMP, numba's, OpenBLAS's) keeps spinning while the other library works.
    """

    def __init__(self, library: str, threads: int):
        env = dict(os.environ, CNNBP_BENCH_THREADS=str(threads))
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", library],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"benchmark worker died on {command!r}")
        return reply.strip()

    def round_fn(self, kind: str):
        return lambda k: float(self.ask(f"round {kind} {k}"))

    def calibrate_fn(self, kind: str, round_time: float):
        return lambda: int(self.ask(f"calibrate {kind} {round_time}"))

    def close(self) -> None:
        try:
            self.ask("quit")
        except (RuntimeError, OSError, ValueError):
            pass
        self.proc.wait(timeout=30)


def _worker_loop(library: str) -> None:
    """The child side of :class:`_Worker`."""
    set_threads(int(os.environ.get("CNNBP_BENCH_THREADS", "1")))
    if library == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("CNNBP_BENCH_THREADS", "1")))
    fns = None
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "quit":
            print("bye", flush=True)
            return
        if cmd[0] == "setup":
            x, t = batch(int(cmd[1]))
            model = build_cnnbp()
            fns = torch_stepper(build_torch(model), x, t) if library == "torch" else \
                cnnbp_stepper(model, x, t)
            reply = "ok"
        elif cmd[0] == "calibrate":
            reply = steps_per_round(fns[cmd[1] == "infer"], float(cmd[2]))
        elif cmd[0] == "round":
            reply = repr(time_round(fns[cmd[1] == "infer"], int(cmd[2])))
        elif cmd[0] == "tracemalloc":
            reply = repr(tracemalloc_peak_mib(fns[0]))
        else:
            reply = f"unknown command {cmd[0]}"
        print(reply, flush=True)


def run(batches=BATCHES, repeats: int = 7, round_time: float = 0.25, use_torch: bool = True,
        memory: bool = True, threads: int | None = None, separate: bool = True) -> dict:
    """Time both libraries; return a dict of results (the table is made by :func:`format_table`).

    ``separate``: each library in its own worker process (default), or both in this one.
    """
    if threads:
        set_threads(threads)
    torch = None
    if use_torch:
        try:
            import torch
        except ImportError:
            torch = None
    threads = cnnbp_threads()
    info = {"threads": threads, "numpy": np.__version__, "cnnbp": cnnbp.__version__,
            "torch": torch.__version__ if torch else None, "rows": [],
            "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
    try:
        from cnnbp.functional import _fast

        info["fast_path"] = _fast.describe()
    except ImportError:
        info["fast_path"] = "none"
    if torch:
        torch.set_num_threads(threads)
        info["torch_threads"] = torch.get_num_threads()

    model = build_cnnbp()
    net = build_torch(model) if torch else None
    if torch:
        x, _ = batch(8)
        with torch.inference_mode():
            theirs = net(torch.from_numpy(x)).numpy()
        mine = model.forward(x)
        info["max_abs_diff"] = float(np.max(np.abs(mine - theirs)))
        if not np.allclose(mine, theirs, rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"cnnbp and PyTorch outputs differ by up to {info['max_abs_diff']:.3g}")

    names = ["cnnbp"] + (["torch"] if torch else [])
    workers = {lib: _Worker(lib, threads) for lib in names} if separate else None
    try:
        for n in batches:
            if separate:
                for w in workers.values():
                    w.ask(f"setup {n}")
                libs = {lib: (w.round_fn("train"), w.round_fn("infer")) for lib, w in workers.items()}
                calibrate = {lib: (w.calibrate_fn("train", round_time), w.calibrate_fn("infer", round_time))
                             for lib, w in workers.items()}
            else:
                x, t = batch(n)
                steppers = {"cnnbp": cnnbp_stepper(build_cnnbp(), x, t)}
                if torch:
                    steppers["torch"] = torch_stepper(build_torch(build_cnnbp()), x, t)
                libs = {lib: tuple((lambda f: lambda k: time_round(f, k))(f) for f in fns)
                        for lib, fns in steppers.items()}
                calibrate = {lib: tuple((lambda f: lambda: steps_per_round(f, round_time))(f) for f in fns)
                             for lib, fns in steppers.items()}
            row = {"batch": n}
            for kind, idx in (("train", 0), ("infer", 1)):
                ks = {lib: calibrate[lib][idx]() for lib in libs}
                times = {lib: [] for lib in libs}
                for _ in range(repeats):
                    for lib in libs:  # alternate the libraries
                        times[lib].append(libs[lib][idx](ks[lib]))
                for lib in libs:
                    row[f"{lib}_{kind}"] = n / statistics.median(times[lib])
            row["cnnbp_tracemalloc_mib"] = (float(workers["cnnbp"].ask("tracemalloc")) if separate
                                            else tracemalloc_peak_mib(steppers["cnnbp"][0]))
            if memory:
                for lib in libs:
                    row[f"{lib}_rss_mib"] = step_peak_rss_mib(lib, n, threads)
            info["rows"].append(row)
    finally:
        for w in (workers or {}).values():
            w.close()
    return info


def format_table(info: dict) -> str:
    has_torch = info.get("torch") is not None
    lines = [
        f"LeNet-5 (issue 5 shape), float32, SGD; cnnbp {info['cnnbp']} (numpy {info['numpy']}, "
        f"fast path: {info['fast_path']}), {info['threads']} thread(s)"
        + (f"; torch {info['torch']}, torch.set_num_threads({info['torch_threads']}); "
           f"outputs agree (max |diff| {info['max_abs_diff']:.1e})" if has_torch else "; torch not installed"),
        f"OPENBLAS_CORETYPE={info['openblas_env']['OPENBLAS_CORETYPE']} "
        f"OPENBLAS_L2_SIZE={info['openblas_env']['OPENBLAS_L2_SIZE']}",
        "images/s, median of alternating rounds; memory: step peak RSS growth (fresh process) "
        "and cnnbp tracemalloc peak, MiB",
    ]
    if has_torch:
        head = (f"{'batch':>5} | {'train cnnbp':>11} {'torch':>9} {'ratio':>6} | "
                f"{'infer cnnbp':>11} {'torch':>9} {'ratio':>6} | {'RSS cnnbp':>9} {'torch':>7} "
                f"{'tracemalloc':>11}")
    else:
        head = f"{'batch':>5} | {'train':>9} | {'infer':>9} | {'RSS':>7} {'tracemalloc':>11}"
    lines += [head, "-" * len(head)]
    fmt = lambda v: "n/a" if v is None else f"{v:.1f}"
    for r in info["rows"]:
        if has_torch:
            lines.append(
                f"{r['batch']:>5} | {r['cnnbp_train']:>11,.0f} {r['torch_train']:>9,.0f} "
                f"{r['cnnbp_train'] / r['torch_train']:>6.2f} | {r['cnnbp_infer']:>11,.0f} "
                f"{r['torch_infer']:>9,.0f} {r['cnnbp_infer'] / r['torch_infer']:>6.2f} | "
                f"{fmt(r.get('cnnbp_rss_mib')):>9} {fmt(r.get('torch_rss_mib')):>7} "
                f"{r['cnnbp_tracemalloc_mib']:>11.1f}")
        else:
            lines.append(f"{r['batch']:>5} | {r['cnnbp_train']:>9,.0f} | {r['cnnbp_infer']:>9,.0f} | "
                         f"{fmt(r.get('cnnbp_rss_mib')):>7} {r['cnnbp_tracemalloc_mib']:>11.1f}")
    return "\n".join(lines)


def profile(n: int, steps: int = 20, top: int = 18) -> str:
    """cProfile of ``steps`` cnnbp training steps at batch n: the functions with the most own time."""
    import cProfile
    import io
    import pstats

    step, _ = cnnbp_stepper(build_cnnbp(), *batch(n))
    for _ in range(3):
        step()
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    wall = time.perf_counter() - start
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return (f"cProfile of {steps} training steps at batch {n} ({wall / steps * 1e3:.1f} ms per "
            f"step under the profiler)\n" + out.getvalue())


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)),
                        help="comma-separated batch sizes (default 1,32,128,256)")
    parser.add_argument("--repeats", type=int, default=7, help="alternating rounds per figure")
    parser.add_argument("--round-time", type=float, default=0.25, help="seconds per round")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for cnnbp (BLAS and numba) and PyTorch (default: cnnbp's)")
    parser.add_argument("--no-torch", action="store_true", help="time cnnbp alone")
    parser.add_argument("--same-process", action="store_true",
                        help="time both libraries in this process (their thread pools then meet)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--profile", type=int, metavar="BATCH",
                        help="print a cProfile of cnnbp training steps at this batch size instead")
    return parser


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--memory-probe"]:
        _memory_probe(argv[1], int(argv[2]))
        return 0
    if argv[:1] == ["--worker"]:
        _worker_loop(argv[1])
        return 0
    args = build_parser().parse_args(argv)
    if args.profile:
        if args.threads:
            set_threads(args.threads)
        print(profile(args.profile))
        return 0
    info = run(tuple(int(b) for b in args.batches.split(",")), args.repeats, args.round_time,
               not args.no_torch, not args.no_memory, args.threads, not args.same_process)
    print(format_table(info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
