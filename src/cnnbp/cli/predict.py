"""``cnnbp predict``: classify digit images (PNG/JPEG, any size)."""

from __future__ import annotations

import json

import numpy as np

from ._common import load_model, looks_like_checkpoint
from .errors import CLIError


def register(sub):
    p = sub.add_parser(
        "predict",
        help="classify digit images",
        description="Classify PNG/JPEG digits of any size. Each image is prepared like MNIST "
                    "(grayscale, inverted if dark on light, scaled into 20x20, centred in 28x28). "
                    "The first argument may be a checkpoint or run directory; without one the "
                    "shipped weights of --variant are used.",
    )
    p.add_argument("inputs", nargs="+", metavar="[CHECKPOINT] IMAGE")
    p.add_argument("--variant", choices=["classic", "modern"], default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..data.digits import ImageError, load_digit
    from ..training import predict_proba

    inputs = list(args.inputs)
    checkpoint = inputs.pop(0) if len(inputs) > 1 and looks_like_checkpoint(inputs[0]) else None
    if not inputs:
        raise CLIError("no image given")
    try:
        digits = np.stack([load_digit(path) for path in inputs])
    except ImageError as exc:
        raise CLIError(str(exc)) from None
    model, _ = load_model(checkpoint, args.variant)
    proba = predict_proba(model, digits, preprocess=model.preprocess)
    for path, p in zip(inputs, proba):
        label = int(np.argmax(p))
        if args.json:
            print(json.dumps({"image": path, "class": label, "probabilities": [round(float(v), 6) for v in p]}))
        else:
            probs = " ".join(f"{k}:{v:.3f}" for k, v in enumerate(p))
            print(f"{path}: {label} (p={p[label]:.3f})  [{probs}]")
    return 0
