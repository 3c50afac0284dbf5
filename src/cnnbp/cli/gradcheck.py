"""``cnnbp gradcheck``: the worst gradcheck error of every layer and loss."""

from __future__ import annotations

import json


def register(sub):
    p = sub.add_parser(
        "gradcheck",
        help="check every layer's backward against central differences (float64)",
        description="Gradient-check every layer and loss of the library against central "
                    "differences in float64 and print the worst relative error of each tensor.",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the inputs and residuals")
    p.add_argument("--tol", type=float, default=1e-6, help="pass threshold (default 1e-6)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..checks import run_all

    results = list(run_all(args.seed))
    failed = [name for name, r in results if not r.passed(args.tol)]
    if args.json:
        print(json.dumps({name: dict(r) for name, r in results}, indent=2))
    else:
        print(f"{'layer / loss':<32} {'tensor':<8} {'worst rel. error':>16}  where")
        for name, r in results:
            for tensor, err in r.items():
                flag = "" if err < args.tol else "  FAIL"
                print(f"{name:<32} {tensor:<8} {err:>16.2e}  {r.where[tensor]}{flag}")
        print(f"\n{len(results) - len(failed)} of {len(results)} passed (tolerance {args.tol:g})")
    return 1 if failed else 0
