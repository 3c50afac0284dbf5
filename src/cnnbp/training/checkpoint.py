"""Checkpoints: weights in safetensors, everything else in JSON; no pickle anywhere.

A checkpoint of epoch e in a run directory is a pair of files::

    epoch-003.safetensors   model parameters under their names ("0.weight", ...) and
                            the optimiser's per-parameter arrays under
                            "optim.<index>.<key>" (e.g. "optim.3.momentum_buffer")
    epoch-003.json          format, epoch, model configuration, optimiser (type,
                            hyperparameters, per-parameter state with references to
                            the arrays above), schedule state, RNG state, history,
                            trainer settings, the weights file's name and SHA-256

Every file is written atomically (a temporary file in the same directory, fsync,
``os.replace``), the weights first and the JSON last: a checkpoint exists once its
JSON exists, and a crash at any point leaves every earlier checkpoint as it was.
:func:`load_checkpoint` parses only JSON and safetensors (neither can run code),
verifies the checksum, and raises :class:`CheckpointError` naming what is wrong;
:meth:`Checkpoint.restore` checks every parameter name, shape and dtype against
the model before it changes anything.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from .._files import atomic_write_bytes
from .._version import __version__

__all__ = [
    "CheckpointError", "Checkpoint", "save_checkpoint", "load_checkpoint", "list_checkpoints",
    "latest_checkpoint", "prune_checkpoints", "atomic_write_bytes", "rng_state", "set_rng_state",
]

FORMAT = "cnnbp-checkpoint"
FORMAT_VERSION = 1
OPTIM_PREFIX = "optim."
_NAME = re.compile(r"^epoch-(\d+)\.json$")
# Bit generators whose state can be restored (looked up in this table, never by name).
_BIT_GENERATORS = {cls.__name__: cls for cls in (
    np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64)}


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupted, truncated, or does not fit the model."""


# -- RNG state --------------------------------------------------------------------------------
def rng_state(rng: np.random.Generator) -> dict:
    """The generator's ``bit_generator.state`` as JSON-ready data (arrays become lists)."""
    return _jsonable(rng.bit_generator.state, "RNG state")


def set_rng_state(rng: np.random.Generator | None, state: dict) -> np.random.Generator:
    """Restore ``state`` (from :func:`rng_state`) into ``rng``, or into a new generator when
    ``rng`` is None or uses another bit generator; return the generator."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise CheckpointError(
            f"RNG state names bit generator {name!r}; expected one of {sorted(_BIT_GENERATORS)}"
        )
    if rng is None or type(rng.bit_generator).__name__ != name:
        rng = np.random.Generator(_BIT_GENERATORS[name]())
    try:
        rng.bit_generator.state = _with_arrays(state)
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"invalid {name} RNG state: {exc}") from exc
    return rng


def _with_arrays(state):
    """MT19937 keeps its key as a uint32 array; give it back its array."""
    if isinstance(state, dict):
        return {k: (np.asarray(v, dtype=np.uint32) if k == "key" else _with_arrays(v))
                for k, v in state.items()}
    return state


def _jsonable(value, what: str):
    """Convert NumPy scalars/arrays and tuples to plain JSON data; reject anything else."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v, what) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, what) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # strict JSON has no NaN or infinity
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{what} holds a {type(value).__name__}, which cannot be stored in JSON")


# -- directory layout -------------------------------------------------------------------------
def _stem(epoch: int) -> str:
    return f"epoch-{epoch:03d}"


def list_checkpoints(directory: str | os.PathLike) -> list[tuple[int, Path]]:
    """Complete checkpoints (those whose JSON exists) in ``directory``: (epoch, json path), by epoch."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _NAME.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The JSON file of the highest complete epoch in ``directory``, or None."""
    found = list_checkpoints(directory)
    return found[-1][1] if found else None


def prune_checkpoints(directory: str | os.PathLike, keep: int) -> None:
    """Delete all but the ``keep`` most recent checkpoints (each JSON before its weights,
    so a checkpoint is never left looking complete without its weights)."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    for epoch, path in list_checkpoints(directory)[:-keep]:
        path.unlink()
        path.with_suffix(".safetensors").unlink(missing_ok=True)


# -- saving ------------------------------------------------------------------------------------
def save_checkpoint(directory: str | os.PathLike, epoch: int, model, optimizer=None, schedule=None,
                    rng: np.random.Generator | None = None, history=(), config: dict | None = None,
                    trainer: dict | None = None) -> Path:
    """Write the checkpoint of ``epoch`` into ``directory`` (created if needed).

    Args:
        directory: the run directory.
        epoch: the number of completed epochs (>= 0); names the files ``epoch-<epoch>``.
        model: any layer; its ``parameters()`` are saved under their names.
        optimizer: an :class:`~cnnbp.optim.Optimizer` (its ``state_dict()``) or None.
        schedule: a :class:`~cnnbp.optim.Schedule` (its ``state_dict()``) or None.
        rng: the generator whose state to save (shuffling, augmentation) or None.
        history: list of per-epoch dicts (JSON-ready).
        config: the model configuration, e.g. ``{"model": "lenet5", "variant": "classic"}``.
        trainer: other settings worth recording (batch size, augmentation, ...).

    Returns:
        the path of the JSON file (the checkpoint's name).
    """
    if int(epoch) != epoch or epoch < 0:
        raise ValueError(f"epoch must be a non-negative integer, got {epoch}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = _stem(int(epoch))

    tensors: dict[str, np.ndarray] = {}
    for name, p in model.parameters().items():
        if name.startswith(OPTIM_PREFIX):
            raise ValueError(f"parameter name {name!r} clashes with the optimiser prefix {OPTIM_PREFIX!r}")
        tensors[name] = np.ascontiguousarray(p.data)

    optim_meta = None
    if optimizer is not None:
        sd = optimizer.state_dict()
        per_param = []
        for i, s in enumerate(sd["state"]):
            entry = {}
            for key, value in s.items():
                if isinstance(value, np.ndarray):
                    tname = f"{OPTIM_PREFIX}{i}.{key}"
                    tensors[tname] = np.ascontiguousarray(value)
                    entry[key] = {"tensor": tname}
                else:
                    entry[key] = _jsonable(value, f"optimiser state {i}.{key}")
            per_param.append(entry)
        optim_meta = {"type": sd["type"], "hyper": _jsonable(sd["hyper"], "optimiser hyperparameters"),
                      "state": per_param}

    weights = st_save(tensors, metadata={"format": FORMAT, "epoch": str(int(epoch))})
    weights_name = f"{stem}.safetensors"
    atomic_write_bytes(directory / weights_name, weights)

    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "cnnbp_version": __version__,
        "epoch": int(epoch),
        "config": _jsonable(config or {}, "config"),
        "parameters": {name: {"shape": list(a.shape), "dtype": str(a.dtype)}
                       for name, a in tensors.items() if not name.startswith(OPTIM_PREFIX)},
        "optimizer": optim_meta,
        "schedule": _jsonable(schedule.state_dict(), "schedule state") if schedule is not None else None,
        "rng": rng_state(rng) if rng is not None else None,
        "history": _jsonable(list(history), "history"),
        "trainer": _jsonable(trainer or {}, "trainer settings"),
        "weights_file": weights_name,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    text = json.dumps(meta, indent=1, allow_nan=False) + "\n"
    json_path = directory / f"{stem}.json"
    atomic_write_bytes(json_path, text.encode("utf-8"))
    return json_path


# -- loading -------------------------------------------------------------------------------------
@dataclass
class Checkpoint:
    """A loaded, verified checkpoint.

    Attributes:
        path: the JSON file.
        meta: the parsed JSON document.
        weights: model parameters, name -> array (the ``optim.*`` arrays excluded).
        optimizer_arrays: the optimiser's arrays, ``"optim.<i>.<key>"`` -> array.
    """

    path: Path
    meta: dict
    weights: dict[str, np.ndarray]
    optimizer_arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def epoch(self) -> int:
        return self.meta["epoch"]

    @property
    def config(self) -> dict:
        return self.meta.get("config") or {}

    @property
    def history(self) -> list[dict]:
        return list(self.meta.get("history") or [])

    def optimizer_state(self) -> dict | None:
        """The optimiser's ``state_dict()`` as saved, arrays filled back in (None if not saved)."""
        om = self.meta.get("optimizer")
        if om is None:
            return None
        state = []
        for i, entry in enumerate(om["state"]):
            s = {}
            for key, value in entry.items():
                if isinstance(value, dict) and "tensor" in value:
                    try:
                        s[key] = self.optimizer_arrays[value["tensor"]]
                    except KeyError:
                        raise CheckpointError(
                            f"{self.path}: optimiser state {i}.{key} refers to tensor "
                            f"{value['tensor']!r}, which the weights file does not hold"
                        ) from None
                else:
                    s[key] = value
            state.append(s)
        return {"type": om["type"], "hyper": dict(om["hyper"]), "state": state}

    # -- applying it --------------------------------------------------------------------------
    def check_model(self, model) -> None:
        """Raise CheckpointError unless the model's parameters have exactly the saved
        names, shapes and dtypes."""
        params = model.parameters()
        missing = [n for n in params if n not in self.weights]
        unexpected = [n for n in self.weights if n not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"it lacks the model's parameter(s) {', '.join(map(repr, missing))}")
            if unexpected:
                parts.append(f"it holds parameter(s) {', '.join(map(repr, unexpected))} "
                             "that the model does not have")
            raise CheckpointError(
                f"{self.path} does not fit the model: {'; '.join(parts)} "
                f"(checkpoint config: {self.config})"
            )
        for name, p in params.items():
            a = self.weights[name]
            if a.shape != p.shape:
                raise CheckpointError(
                    f"{self.path} does not fit the model: parameter {name!r} has shape {a.shape} "
                    f"in the checkpoint, the model expects {p.shape} (checkpoint config: {self.config})"
                )
            if a.dtype != p.dtype:
                raise CheckpointError(
                    f"{self.path} does not fit the model: parameter {name!r} is {a.dtype} "
                    f"in the checkpoint, the model's is {p.dtype}"
                )

    def restore(self, model, optimizer=None, schedule=None) -> None:
        """Copy the weights into ``model`` (in place) and, when given, the optimiser's
        and schedule's state. Everything is checked first: on error nothing changes."""
        self.check_model(model)
        opt_state = None
        if optimizer is not None:
            opt_state = self.optimizer_state()
            if opt_state is None:
                raise CheckpointError(f"{self.path} holds no optimiser state")
            if opt_state["type"] != type(optimizer).__name__:
                raise CheckpointError(
                    f"{self.path} was saved with optimiser {opt_state['type']}, "
                    f"this run uses {type(optimizer).__name__}"
                )
            if len(opt_state["state"]) != len(optimizer.params):
                raise CheckpointError(
                    f"{self.path} holds optimiser state for {len(opt_state['state'])} parameters, "
                    f"the optimiser has {len(optimizer.params)}"
                )
            for i, (p, s) in enumerate(zip(optimizer.params, opt_state["state"])):
                for key, value in s.items():
                    if isinstance(value, np.ndarray) and value.shape != p.shape:
                        raise CheckpointError(
                            f"{self.path}: optimiser state {i}.{key} has shape {value.shape}, "
                            f"parameter {i} of the optimiser has {p.shape}"
                        )
        sched_state = self.meta.get("schedule")
        if schedule is not None:
            if sched_state is None:
                raise CheckpointError(f"{self.path} was saved without a schedule, this run has "
                                      f"{type(schedule).__name__}")
            if sched_state.get("type") != type(schedule).__name__:
                raise CheckpointError(
                    f"{self.path} was saved with schedule {sched_state.get('type')}, "
                    f"this run uses {type(schedule).__name__}"
                )
        for name, p in model.parameters().items():
            np.copyto(p.data, self.weights[name])
        if optimizer is not None:
            optimizer.load_state_dict(opt_state)
        if schedule is not None:
            schedule.load_state_dict(sched_state)


def _resolve(path_or_dir) -> Path:
    path = Path(path_or_dir)
    if path.is_dir():
        latest = latest_checkpoint(path)
        if latest is None:
            raise CheckpointError(f"no complete checkpoint (epoch-NNN.json) in directory {path}")
        return latest
    if path.suffix == ".safetensors":
        path = path.with_suffix(".json")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return path


_REQUIRED = {"format": str, "format_version": int, "epoch": int, "weights_file": str,
             "weights_sha256": str, "parameters": dict}


def load_checkpoint(path_or_dir: str | os.PathLike) -> Checkpoint:
    """Load and verify a checkpoint.

    Args:
        path_or_dir: a run directory (its highest complete epoch is taken), a
            checkpoint's JSON file, or its ``.safetensors`` file.

    Raises:
        CheckpointError: missing files, invalid or truncated JSON, a wrong format,
            a weights file whose SHA-256 differs from the recorded one, or a weights
            file that is not valid safetensors or lacks a recorded parameter.
    """
    path = _resolve(path_or_dir)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON (truncated or corrupted?): {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{path} is not a cnnbp checkpoint (format {found!r}, expected {FORMAT!r})")
    for key, kind in _REQUIRED.items():
        if not isinstance(meta.get(key), kind):
            raise CheckpointError(
                f"{path}: field {key!r} should be a {kind.__name__}, found {meta.get(key)!r}"
            )
    if meta["format_version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format version {meta['format_version']}; this cnnbp reads up to {FORMAT_VERSION}"
        )
    name = meta["weights_file"]
    if Path(name).name != name or name in ("", ".", ".."):
        raise CheckpointError(f"{path}: weights_file must be a file name in the same directory, got {name!r}")
    weights_path = path.parent / name
    try:
        blob = weights_path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: its weights file {weights_path} is missing") from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta["weights_sha256"]:
        raise CheckpointError(
            f"checksum mismatch: {weights_path} has SHA-256 {digest}, the checkpoint {path.name} "
            f"expects {meta['weights_sha256']}; the weights file is corrupted or was replaced"
        )
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, TypeError, OSError) as exc:
        raise CheckpointError(f"{weights_path} is not a valid safetensors file: {exc}") from exc
    weights = {k: v for k, v in tensors.items() if not k.startswith(OPTIM_PREFIX)}
    optim_arrays = {k: v for k, v in tensors.items() if k.startswith(OPTIM_PREFIX)}
    for pname, spec in meta["parameters"].items():
        if pname not in weights:
            raise CheckpointError(f"{weights_path} lacks parameter {pname!r} listed in {path.name}")
        if list(weights[pname].shape) != spec.get("shape"):
            raise CheckpointError(
                f"{weights_path}: parameter {pname!r} has shape {weights[pname].shape}, "
                f"{path.name} records {spec.get('shape')}"
            )
    return Checkpoint(path=path, meta=meta, weights=weights, optimizer_arrays=optim_arrays)
