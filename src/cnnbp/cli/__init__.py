"""The ``cnnbp`` command line. Each command lives in its own module with
``register(subparsers)`` (adds its parser and sets ``func``); the library itself
never prints or exits: only this package talks to the terminal."""

from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__
from .errors import CLIError

# Command modules, in the order ``cnnbp --help`` lists them.
COMMANDS = [
    "train",
    "evaluate",
    "predict",
    "summary",
    "filter",
    "explain",
    "gradcheck",
    "demo",
    "bench",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnbp",
        description="Convolutional-network backpropagation, implemented, verified and illustrated.",
    )
    parser.add_argument("--version", action="version", version=f"cnnbp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"cnnbp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnnbp {args.command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, RuntimeError) as exc:
        print(f"cnnbp {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
