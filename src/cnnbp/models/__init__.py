"""Ready-made networks. ``build(config)`` rebuilds one from its ``.config`` dict."""

from __future__ import annotations

from .lenet import C3_INPUTS, RBF_DIGIT_CODES, c3_connection_table, lenet5, preprocess
from .pretrained import assign_weights, pretrained

MODELS = {"lenet5": lenet5}


def build(config: dict, rng=None, **kwargs):
    """Rebuild a model from ``model.config`` (e.g. ``{"model": "lenet5", "variant": "classic"}``)."""
    config = dict(config)
    name = config.pop("model", None)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](rng=rng, **config, **kwargs)


__all__ = ["lenet5", "pretrained", "assign_weights", "build", "preprocess", "c3_connection_table", "C3_INPUTS", "RBF_DIGIT_CODES"]
