"""``cnnbp summary lenet5``: every layer's output shape, parameters and connections."""

from __future__ import annotations

import json

from .errors import CLIError


def register(sub):
    p = sub.add_parser(
        "summary",
        help="print a model's layers, parameters and connections",
        description="Print every layer's output shape, parameter count and connection count "
                    "(multiply-adds per example, bias included), with the totals.",
    )
    p.add_argument("model", choices=["lenet5"], help="the model")
    p.add_argument("--variant", choices=["classic", "modern"], default="classic")
    p.add_argument("--output", choices=["softmax", "rbf"], default=None,
                   help="output layer (classic only offers rbf)")
    p.add_argument("--json", action="store_true", help="print JSON: one object per layer and the totals")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..models import lenet5

    try:
        model = lenet5(args.variant, rng=0, output=args.output)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        rows = model.summary_rows(model.input_shape)
        print(json.dumps({
            "model": args.model,
            "variant": args.variant,
            "input_shape": list(model.input_shape),
            "layers": rows,
            "total_parameters": sum(r["parameters"] for r in rows),
            "total_connections": sum(r["connections"] for r in rows),
        }, indent=2))
    else:
        print(f"LeNet-5 ({args.variant})")
        print(model.summary())
    return 0
