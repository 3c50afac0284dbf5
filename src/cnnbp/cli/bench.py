"""``cnnbp bench``: LeNet-5 training and inference throughput, next to PyTorch when installed.

Runs ``benchmarks/lenet_throughput.py`` of the source checkout (the benchmark
lives beside the tests, not in the installed package) and prints its table.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import CLIError

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "lenet_throughput.py"


def _load_benchmark():
    if not SCRIPT.is_file():
        raise CLIError(
            f"cnnbp bench runs {SCRIPT.name} from a source checkout of cnnbp; "
            f"it was not found at {SCRIPT}"
        )
    spec = importlib.util.spec_from_file_location("cnnbp_lenet_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def register(sub):
    p = sub.add_parser(
        "bench",
        help="time LeNet-5 training and inference (and PyTorch's, when installed)",
        description="Images per second of LeNet-5 training steps and inference at several "
                    "batch sizes, cnnbp next to PyTorch with the same weights and threads, "
                    "with peak memory. Runs benchmarks/lenet_throughput.py.",
    )
    p.set_defaults(func=run, _bench_parser=p)
    # The options are the benchmark's own; they are added when the command runs, so that
    # building the CLI does not import the benchmark.
    p.add_argument("bench_args", nargs="*", metavar="OPTION",
                   help="options of benchmarks/lenet_throughput.py, after '--' "
                        "(e.g. cnnbp bench -- --batches 1,128 --threads 1)")


def run(args) -> int:
    return int(_load_benchmark().main(list(args.bench_args)) or 0)
