"""``cnnbp evaluate``: accuracy, per-class accuracy and the confusion matrix on a test set."""

from __future__ import annotations

import json

from ._common import add_data_options, load_model, load_split


def register(sub):
    p = sub.add_parser(
        "evaluate",
        help="test accuracy, per-class accuracy and the confusion matrix",
        description="Evaluate a checkpoint (a run directory takes its last checkpoint) or, "
                    "without one, the weights shipped for --variant, on a test split.",
    )
    p.add_argument("checkpoint", nargs="?", default=None, metavar="CHECKPOINT_OR_RUN_DIR")
    p.add_argument("--variant", choices=["classic", "modern"], default=None,
                   help="which shipped weights to use without a checkpoint (default classic)")
    add_data_options(p)
    p.add_argument("--split", choices=["test", "train"], default="test")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..losses import SoftmaxCrossEntropy
    from ..training import evaluate

    model, ckpt = load_model(args.checkpoint, args.variant)
    images, labels = load_split(args.dataset, args.split, args.data_dir)
    result = evaluate(model, images, labels, loss=SoftmaxCrossEntropy(), preprocess=model.preprocess)
    source = str(ckpt.path) if ckpt is not None else f"shipped {model.config['variant']} weights"
    if args.json:
        print(json.dumps({"source": source, "dataset": args.dataset, "split": args.split,
                          "variant": model.config["variant"], **result}))
        return 0
    print(f"{source} on {args.dataset} {args.split} ({result['n']:,} images)")
    print(f"accuracy {result['accuracy']:.4f}  error {100 * result['error']:.2f}%  loss {result['loss']:.4f}\n")
    print("per-class accuracy: " + "  ".join(
        f"{k}:{'-' if a is None else f'{a:.3f}'}" for k, a in enumerate(result["per_class_accuracy"])))
    print("\nconfusion matrix (rows: true class, columns: predicted)")
    cm = result["confusion_matrix"]
    width = max(4, len(str(max(max(r) for r in cm))) + 1)
    print("     " + "".join(f"{k:>{width}}" for k in range(len(cm))))
    for k, row in enumerate(cm):
        print(f"{k:>4} " + "".join(f"{v:>{width}}" for v in row))
    return 0
