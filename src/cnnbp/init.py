"""Weight initialisers. Each draws from an ``np.random.Generator`` passed in.

Signature: ``init(shape, fan_in, fan_out, rng, dtype) -> array``. For a dense
weight (out, in), fan_in = in and fan_out = out; for a convolution weight
(out, in, kh, kw), fan_in = in*kh*kw and fan_out = out*kh*kw (as in PyTorch).
With a connection table, fan_in counts only the connected inputs.

- LeCun (1998, "Efficient BackProp"): variance 1/fan_in, suited to tanh;
- Glorot/Xavier (2010): variance 2/(fan_in + fan_out), uniform or normal;
- He (2015): variance 2/fan_in, suited to ReLU.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Initializer = Callable[..., np.ndarray]


def _draw_uniform(shape, limit, rng, dtype):
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def _draw_normal(shape, std, rng, dtype):
    return (rng.standard_normal(size=shape) * std).astype(dtype)


def lecun_uniform(shape, fan_in, fan_out, rng, dtype=np.float32):
    return _draw_uniform(shape, np.sqrt(3.0 / fan_in), rng, dtype)


def lecun_normal(shape, fan_in, fan_out, rng, dtype=np.float32):
    return _draw_normal(shape, np.sqrt(1.0 / fan_in), rng, dtype)


def glorot_uniform(shape, fan_in, fan_out, rng, dtype=np.float32):
    return _draw_uniform(shape, np.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def glorot_normal(shape, fan_in, fan_out, rng, dtype=np.float32):
    return _draw_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def he_uniform(shape, fan_in, fan_out, rng, dtype=np.float32):
    return _draw_uniform(shape, np.sqrt(6.0 / fan_in), rng, dtype)


def he_normal(shape, fan_in, fan_out, rng, dtype=np.float32):
    return _draw_normal(shape, np.sqrt(2.0 / fan_in), rng, dtype)


def lecun1998(shape, fan_in, fan_out, rng, dtype=np.float32):
    """LeCun et al. 1998, appendix: uniform in (-2.4/fan_in, 2.4/fan_in)."""
    return _draw_uniform(shape, 2.4 / fan_in, rng, dtype)


def zeros(shape, fan_in, fan_out, rng, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "lecun": lecun_normal,
    "lecun1998": lecun1998,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "glorot": glorot_uniform,
    "xavier": glorot_uniform,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "he": he_normal,
    "kaiming": he_normal,
    "zeros": zeros,
}


def get(init: str | Initializer) -> Initializer:
    """Look an initialiser up by name, or return a callable unchanged."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except KeyError:
        raise ValueError(
            f"unknown initialiser {init!r}; expected one of {sorted(INITIALIZERS)} or a callable"
        ) from None


def as_rng(rng) -> np.random.Generator:
    """``None`` -> a fresh unseeded Generator; an int -> a seeded one; a Generator unchanged."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")
