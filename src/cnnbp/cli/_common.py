"""Helpers shared by the commands: loading data and models with one-line errors."""

from __future__ import annotations

from pathlib import Path

from .errors import CLIError

DATASETS = ("mnist", "fashion-mnist", "mnist-sample")


def add_data_options(p, default_dataset: str = "mnist") -> None:
    p.add_argument("--dataset", choices=DATASETS, default=default_dataset,
                   help=f"dataset (default {default_dataset}; mnist-sample ships with cnnbp)")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="folder holding mnist/ and fashion-mnist/ (default: $CNNBP_DATA_DIR, "
                        "else the user's cache folder)")


def load_split(dataset: str, split: str, data_dir):
    from ..data import DataError, load_dataset

    try:
        return load_dataset(dataset, split, data_dir=data_dir)
    except DataError as exc:
        raise CLIError(str(exc)) from None


def load_model(checkpoint, variant: str | None):
    """A model from a checkpoint (file or run directory), else the shipped weights of ``variant``.

    Returns ``(model, checkpoint_or_None)``.
    """
    from ..models import pretrained
    from ..training import CheckpointError, load_checkpoint
    from ..training.recipes import model_from_config

    if checkpoint is None:
        try:
            return pretrained(variant or "classic"), None
        except FileNotFoundError as exc:
            raise CLIError(f"{exc}; train one with 'cnnbp train' and pass its run directory") from None
    path = Path(checkpoint)
    if not path.exists():
        raise CLIError(f"checkpoint {path} does not exist")
    try:
        ckpt = load_checkpoint(path)
        config = ckpt.config
        if config.get("model") != "lenet5":
            raise CLIError(f"{path}: not a LeNet-5 checkpoint (config {config})")
        if variant is not None and config.get("variant") != variant:
            raise CLIError(f"{path} holds the {config.get('variant')} variant, not {variant}")
        model = model_from_config(config)
        ckpt.restore(model)
    except (CheckpointError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    return model, ckpt


def looks_like_checkpoint(arg: str) -> bool:
    path = Path(arg)
    return path.is_dir() or path.suffix in (".json", ".safetensors")
