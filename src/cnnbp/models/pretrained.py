"""Trained LeNet-5 weights shipped inside the package.

``scripts/ship_weights.py`` makes them from a ``cnnbp train`` run (the README
gives the commands); each variant is one safetensors file named
``lenet5-<variant>.safetensors`` whose metadata holds the model configuration,
the training settings and history, and the test accuracy it reached.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from .lenet import lenet5

WEIGHTS_PACKAGE = "cnnbp.models.weights"


def weights_path(variant: str):
    return resources.files(WEIGHTS_PACKAGE) / f"lenet5-{variant}.safetensors"


def assign_weights(model, tensors: dict[str, np.ndarray], source: str = "weights") -> None:
    """Copy ``tensors`` (name -> array) into ``model``'s parameters, checking names and shapes."""
    params = model.parameters()
    missing = sorted(set(params) - set(tensors))
    unexpected = sorted(set(tensors) - set(params))
    if missing or unexpected:
        raise ValueError(
            f"{source} do not fit this model: missing {missing or 'none'}, unexpected {unexpected or 'none'}"
        )
    for name, p in params.items():
        t = tensors[name]
        if t.shape != p.shape:
            raise ValueError(f"{source}: parameter {name!r} has shape {t.shape}, the model expects {p.shape}")
        p.data[...] = t


def pretrained(variant: str = "classic", dtype=np.float32):
    """LeNet-5 with the shipped trained weights; ``model.metadata`` says how they were made."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = weights_path(variant)
    if variant not in ("classic", "modern") or not path.is_file():
        raise FileNotFoundError(f"no shipped weights for LeNet-5 variant {variant!r} (looked for {path})")
    with resources.as_file(path) as real_path:
        tensors = load_file(str(real_path))
        with safe_open(str(real_path), framework="numpy") as f:
            metadata = f.metadata() or {}
    config = json.loads(metadata.get("config", json.dumps({"variant": variant})))
    config.pop("model", None)
    model = lenet5(rng=0, dtype=dtype, **config)
    assign_weights(model, tensors, f"shipped weights {path.name}")
    model.metadata = {k: json.loads(v) for k, v in metadata.items()}
    return model
