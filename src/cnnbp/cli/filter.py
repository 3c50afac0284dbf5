"""``cnnbp filter IMAGE --kernel NAME -o OUT.png``: apply a named kernel to an image file."""

from __future__ import annotations

import os

from .errors import CLIError

# Pillow modes kept as one grey plane; other 8-bit modes (P, RGBA, CMYK, ...) become RGB.
_GREY_MODES = {"1", "L", "LA"}
# 16-bit and float images: their value range is not 0..255, so they are refused.
_UNSUPPORTED_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def register(sub):
    p = sub.add_parser(
        "filter",
        help="apply an image-filtering kernel (sharpen, edges, emboss, blur, ...) to an image",
        description="Filter a grayscale or colour image with one of the named kernels of the "
                    "reference (section 2), using cnnbp's own convolution with 'same' zero "
                    "padding; each colour channel is filtered separately. Use --list to see the "
                    "kernels.",
    )
    p.add_argument("image", nargs="?", help="input image file (any format Pillow reads)")
    p.add_argument("--kernel", "-k", default="identity", metavar="NAME",
                   help="kernel name (default: identity; see --list)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file; the format follows the extension (e.g. OUT.png)")
    p.add_argument("--size", type=int, default=None,
                   help="window size of box_blur / gaussian_blur")
    p.add_argument("--sigma", type=float, default=None,
                   help="standard deviation of gaussian_blur")
    p.add_argument("--list", action="store_true", help="list the kernel names and exit")
    p.set_defaults(func=run)


def _list() -> int:
    from ..filters import KERNELS, get_kernel

    for name, desc in KERNELS.items():
        kh, kw = get_kernel(name).shape
        print(f"{name:<16} {kh}x{kw}  {desc}")
    return 0


def _kernel(args):
    from ..filters import get_kernel

    params = {}
    if args.size is not None:
        params["size"] = args.size
    if args.sigma is not None:
        params["sigma"] = args.sigma
    try:
        return get_kernel(args.kernel, **params)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _read(path: str):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in _UNSUPPORTED_MODES:
                raise CLIError(
                    f"cannot filter {path}: {img.mode!r} images (16-bit or float) are not "
                    "supported; convert to 8-bit first"
                )
            mode = "L" if img.mode in _GREY_MODES else "RGB"
            return np.asarray(img.convert(mode))
    except UnidentifiedImageError:
        raise CLIError(f"cannot read image {path}: not an image format Pillow recognises") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CLIError(f"cannot read image {path}: {reason}") from None


def _write_image(array, path: str) -> None:
    """Encode ``array`` in the format of ``path``'s extension and write it atomically."""
    import io

    from PIL import Image

    from .._files import atomic_write_bytes

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"cannot write {path}: folder {folder} does not exist")
    ext = os.path.splitext(path)[1]
    fmt = Image.registered_extensions().get(ext.lower())
    if fmt is None:
        raise CLIError(f"cannot write {path}: unknown image extension {ext!r} (use e.g. .png)")
    buffer = io.BytesIO()
    try:
        Image.fromarray(array).save(buffer, format=fmt)
        atomic_write_bytes(path, buffer.getvalue())
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot write {path}: {exc}") from None


def run(args) -> int:
    from ..filters import OFFSETS, apply

    if args.list:
        return _list()
    if not args.image:
        raise CLIError("an IMAGE is required (or use --list)")
    if not args.output:
        raise CLIError("an output file is required: -o OUT.png")
    kernel = _kernel(args)
    image = _read(args.image)
    result = apply(image, kernel, offset=OFFSETS.get(args.kernel, 0.0))
    _write_image(result, args.output)
    kh, kw = kernel.shape
    print(f"wrote {args.output} ({image.shape[1]}x{image.shape[0]}, kernel {args.kernel} {kh}x{kw})")
    return 0
