"""``cnnbp train``: train LeNet-5 on MNIST (the main job)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ._common import add_data_options, load_split
from .errors import CLIError


def register(sub):
    p = sub.add_parser(
        "train",
        help="train LeNet-5 on MNIST",
        description="Train LeNet-5 (classic: LeCun 1998; modern: ReLU and max pooling). A "
                    "checkpoint is written after every epoch into --out; --resume continues an "
                    "interrupted run to the same weights, bit for bit. Options left out take "
                    "the variant's recipe (see 'cnnbp train --show-recipe').",
    )
    p.add_argument("--variant", choices=["classic", "modern"], default="classic")
    p.add_argument("--output", choices=["softmax", "rbf"], default=None,
                   help="output layer (classic only offers rbf)")
    add_data_options(p)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="initial learning rate")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=None)
    p.add_argument("--schedule", choices=["cosine", "constant", "step", "lenet"], default=None)
    p.add_argument("--augment", choices=["none", "shift", "elastic", "shift+elastic"], default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="train on the first N training images only (quick trials)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="run directory for checkpoints (default runs/lenet5-VARIANT-DATASET)")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue the interrupted run in DIR with its own settings, to the "
                        "epochs it was started with")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="threads for BLAS and the compiled kernels (default: all cores; "
                        "1 is often fastest on a busy machine)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--show-recipe", action="store_true", help="print the settings and exit")
    p.set_defaults(func=run)


def _settings(args):
    from ..training.recipes import settings_for

    try:
        return settings_for(
            args.variant, output=args.output, epochs=args.epochs, batch_size=args.batch_size,
            lr=args.lr, optimizer=args.optimizer, schedule=args.schedule, augment=args.augment,
            seed=args.seed, dataset=args.dataset, limit=args.limit,
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _resume_settings(args):
    from ..training import CheckpointError, load_checkpoint

    try:
        ckpt = load_checkpoint(args.resume)
    except CheckpointError as exc:
        raise CLIError(str(exc)) from None
    settings = dict(ckpt.config.get("training") or {})
    if not settings:
        raise CLIError(f"{args.resume}: the checkpoint holds no training settings to resume with")
    return settings


def run(args) -> int:
    from ..training import TrainingDiverged
    from ..training.recipes import make_trainer

    settings = _resume_settings(args) if args.resume else _settings(args)
    if args.show_recipe:
        print(json.dumps(settings, indent=2))
        return 0
    if args.threads is not None:
        from ..functional import _fast

        try:
            limiter = _fast.set_threads(args.threads)  # noqa: F841 - holds the limit for the run
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    dataset = settings.get("dataset", "mnist")
    out = Path(args.resume or args.out or f"runs/lenet5-{settings['variant']}-{dataset}")
    train_x, train_y = load_split(dataset, "train", args.data_dir)
    if settings.get("limit"):
        train_x, train_y = train_x[:settings["limit"]], train_y[:settings["limit"]]
    test_x, test_y = load_split(dataset, "test", args.data_dir)
    trainer = make_trainer(settings)
    print(f"LeNet-5 {settings['variant']} on {dataset}: {len(train_x):,} training and "
          f"{len(test_x):,} test images; checkpoints in {out}", file=sys.stderr)
    try:
        history = trainer.fit(train_x, train_y, epochs=int(settings["epochs"]), val=(test_x, test_y),
                              checkpoint_dir=out, resume=out if args.resume else None,
                              progress=not args.no_progress)
    except TrainingDiverged as exc:
        raise CLIError(str(exc)) from None
    if not history:
        raise CLIError("nothing to train: the run already has all its epochs")
    for h in history:
        print(f"epoch {h['epoch']:>3}  lr {h['lr']:.2e}  train loss {h['train_loss']:.4f}  "
              f"train acc {h['train_accuracy']:.4f}  test acc {h['val_accuracy']:.4f}  "
              f"{h['seconds']:.1f}s ({h['images_per_second']:.0f} img/s)")
    total = sum(h["seconds"] + h.get("eval_seconds", 0.0) for h in history)
    last = history[-1]
    print(f"test accuracy {last['val_accuracy']:.4f} (error {100 * (1 - last['val_accuracy']):.2f}%) "
          f"after {last['epoch']} epochs, {total:.0f} s; run directory {out}")
    return 0
