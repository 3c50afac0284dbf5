"""``cnnbp explain``: an illustrated forward/backward report of one digit, as one HTML file."""

from __future__ import annotations

import os

from ._common import add_data_options, load_split
from .errors import CLIError


def register(sub):
    p = sub.add_parser(
        "explain",
        help="write an illustrated HTML report of one digit's forward and backward pass",
        description="Walk one real digit through LeNet-5 and back and write one self-contained "
                    "HTML file (every figure embedded, opens offline): feature maps, kernels and "
                    "the C3 connection table, output probabilities, the residual at every layer "
                    "with the formula that produced it, weight gradients, pooling routing, the "
                    "provenance of one gradient value computed three ways, the worked convolution "
                    "example, the filter gallery and, when the checkpoint holds a training history, "
                    "loss/accuracy curves and the confusion matrix.",
    )
    p.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT",
                   help="a checkpoint (epoch-NNN.json or .safetensors, or a run directory for its "
                        "latest); default: the shipped trained weights")
    p.add_argument("--variant", choices=["classic", "modern"], default=None,
                   help="LeNet-5 variant without a checkpoint (default classic); a checkpoint "
                        "carries its own")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--digit", type=int, default=0, metavar="INDEX",
                       help="index of the digit in the test split of --dataset (default 0)")
    which.add_argument("--image", metavar="FILE",
                       help="a PNG/JPEG of a handwritten digit instead (centred and scaled like MNIST)")
    add_data_options(p, default_dataset="mnist-sample")
    p.add_argument("-o", "--output", metavar="REPORT.html", required=True, help="the HTML file to write")
    p.add_argument("--png-dir", metavar="DIR", default=None,
                   help="also write every figure there as a PNG (for slides)")
    p.set_defaults(func=run)


# -- the model -------------------------------------------------------------------------------------
def _from_checkpoint(path: str, variant: str | None):
    """(model, history, description, notes) from a checkpoint; CLIError on any problem."""
    from ._common import load_model

    model, ckpt = load_model(path, variant)
    return model, ckpt.history, f"checkpoint {ckpt.path} (epoch {ckpt.epoch})", []


def _shipped(variant: str):
    """(model, history, description, notes): the shipped weights, or fresh ones with a note."""
    from .. import models

    pretrained = getattr(models, "pretrained", None)
    if pretrained is not None:
        try:
            model = pretrained(variant)
        except FileNotFoundError:
            pass
        else:
            meta = getattr(model, "metadata", None) or {}
            history = meta.get("history") if isinstance(meta.get("history"), list) else None
            desc = f"the shipped trained weights of LeNet-5 ({variant})"
            result = meta.get("result")
            if isinstance(result, dict) and isinstance(result.get("accuracy"), (int, float)):
                desc += f", {result['accuracy']:.2%} accuracy on the {result.get('dataset', '')} test set"
                if isinstance(result.get("n"), int):
                    desc += f" ({result['n']:,} digits)"
            return model, history, desc, []
    model = models.lenet5(variant, rng=0)
    note = (f"no shipped trained weights were found for LeNet-5 ({variant}), so this report uses "
            "freshly initialised weights (seed 0): every mechanism is shown faithfully, but the "
            "feature maps and the prediction are those of an untrained network.")
    return model, None, "freshly initialised, untrained (seed 0)", [note]


# -- the digit -------------------------------------------------------------------------------------
def _digit(args):
    """(image uint8 (28, 28), label or None, description)."""
    if args.image is not None:
        from ..data.digits import ImageError, load_digit

        try:
            return load_digit(args.image), None, f"image file {args.image}"
        except (ImageError, OSError) as exc:
            raise CLIError(f"cannot read image: {exc}") from None
    images, labels = _test_split(args)
    n = len(images)
    if not 0 <= args.digit < n:
        raise CLIError(f"--digit {args.digit} is out of range: the {args.dataset} test split has "
                       f"{n} digits (0..{n - 1})")
    return images[args.digit], int(labels[args.digit]), f"{args.dataset} test digit #{args.digit}"


def _test_split(args):
    return load_split(args.dataset, "test", args.data_dir)


def run(args) -> int:
    from ..viz import build_report, write_report

    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        raise CLIError(f"cannot write {args.output}: folder {folder} does not exist")
    if args.checkpoint is not None:
        model, history, weights, notes = _from_checkpoint(args.checkpoint, args.variant)
    else:
        model, history, weights, notes = _shipped(args.variant or "classic")
    image, label, source = _digit(args)

    confusion = confusion_source = None
    if history:
        # The run's confusion matrix on the test split the digit comes from.
        from ..training import evaluate

        images, labels = _test_split(args)
        confusion = evaluate(model, images, labels, preprocess=model.preprocess)["confusion_matrix"]
        confusion_source = f"the {args.dataset} test split ({len(labels):,} digits)"

    try:
        page = build_report(model, image, label, history=history, confusion=confusion,
                            confusion_source=confusion_source, digit_source=source, weights_source=weights, notes=notes,
                            png_dir=args.png_dir)
    except OSError as exc:
        raise CLIError(f"cannot write the figures to {args.png_dir}: {exc}") from None
    try:
        write_report(args.output, page)
    except OSError as exc:
        raise CLIError(f"cannot write {args.output}: {exc}") from None
    figures = page.count('<img src="data:image/png;base64,')
    print(f"wrote {args.output} ({figures} figures; {source}"
          f"{'' if label is None else f', label {label}'}; weights: {weights})")
    if args.png_dir:
        print(f"wrote {figures} PNG files to {args.png_dir}")
    for note in notes:
        print(f"note: {note}")
    return 0
