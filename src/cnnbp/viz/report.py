"""One self-contained HTML page that walks one real digit through LeNet-5, forward and back.

:func:`build_report` runs the digit through the model with the library's own
``forward`` and ``backward`` (:func:`cnnbp.viz.trace.trace_digit`), draws every
intermediate with :mod:`cnnbp.viz.figures`, and returns the page as a string:
every image is a PNG embedded as a ``data:`` URI, the CSS is inline, there is no
script and no external reference, so the file opens offline in any browser.
:func:`write_report` writes it atomically.

The page's sections (their ``id`` in parentheses): the digit and the weights
(``summary``); the forward pass (``forward``); the kernels and the C3 connection
table (``kernels``); the backward pass, residual by residual (``backward``); the
parameter gradients (``gradients``); pooling routing (``routing``); the provenance
of one gradient value (``provenance``); the worked convolution example of
REFERENCE.md (``worked-example``); the filter gallery (``filters``); and, when a
training history or a confusion matrix is given, training (``training``).
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .. import filters
from .. import functional as F
from . import figures as figs
from ._render import data_uri, png_bytes
from .provenance import conv_provenance
from .trace import Stage, Trace, trace_digit

__all__ = ["build_report", "write_report", "SECTION_IDS", "WORKED_IMAGE", "WORKED_KERNEL",
           "WORKED_OUTPUT", "worked_example", "residual_formula"]

#: The worked cross-correlation of REFERENCE.md section 2 (stride 1, no padding).
WORKED_IMAGE = np.array([[3, 3, 2, 1, 0],
                         [0, 0, 1, 3, 1],
                         [3, 1, 2, 2, 3],
                         [2, 0, 0, 2, 2],
                         [2, 0, 0, 0, 1]], dtype=np.float64)
WORKED_KERNEL = np.array([[0, 1, 2],
                          [2, 2, 0],
                          [0, 1, 2]], dtype=np.float64)
WORKED_OUTPUT = np.array([[12, 12, 17],
                          [10, 17, 19],
                          [9, 6, 14]], dtype=np.float64)

#: Section ids, in page order; "training" appears only with a history or confusion matrix.
SECTION_IDS = ("summary", "forward", "kernels", "backward", "gradients", "routing",
               "provenance", "worked-example", "filters", "training")


# -- small HTML helpers --------------------------------------------------------------------------
def _sup(name: str) -> str:
    return f"<sup>({html.escape(name)})</sup>"


def _d(name: str) -> str:
    """delta^(name) in HTML."""
    return f"δ{_sup(name)}"


_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a202c;
       max-width: 980px; margin: 0 auto; padding: 1.5em; line-height: 1.5; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.35em; border-bottom: 2px solid #cbd5e0; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.4em; }
p.lead { color: #4a5568; }
nav ol { columns: 2; font-size: 0.95em; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e8f0; }
figcaption { font-size: 0.88em; color: #4a5568; margin-top: 0.3em; }
.formula { font-family: "DejaVu Serif", Georgia, serif; background: #f7fafc; padding: 0.1em 0.35em;
           border-radius: 3px; }
.note { background: #fffbea; border-left: 4px solid #d69e2e; padding: 0.6em 0.9em; }
.ok { color: #276749; font-weight: bold; }
.bad { color: #c53030; font-weight: bold; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.6em 0; }
th, td { border: 1px solid #cbd5e0; padding: 0.2em 0.6em; text-align: right; }
th { background: #edf2f7; }
td.l, th.l { text-align: left; }
.facts td { text-align: left; }
"""


@dataclass
class _Figure:
    slug: str
    png: bytes
    alt: str


class _Page:
    """Collects the page's HTML and its figures (encoded once, kept for ``png_dir``)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.figures: list[_Figure] = []
        self.toc: list[tuple[str, str]] = []

    def section(self, sid: str, title: str, intro: str) -> None:
        self.toc.append((sid, title))
        self.parts.append(f'<section id="{sid}">\n<h2>{html.escape(title)}</h2>\n<p class="lead">{intro}</p>')

    def end_section(self) -> None:
        self.parts.append("</section>")

    def h3(self, text: str, hid: str | None = None) -> None:
        attr = f' id="{hid}"' if hid else ""
        self.parts.append(f"<h3{attr}>{text}</h3>")

    def p(self, text: str) -> None:
        self.parts.append(f"<p>{text}</p>")

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, fig, slug: str, caption: str, alt: str) -> None:
        """Encode ``fig`` as PNG, embed it, and caption it (``caption`` is HTML)."""
        png = png_bytes(fig)
        fig.clear()
        slug = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")
        self.figures.append(_Figure(slug, png, alt))
        self.parts.append(
            f'<figure id="fig-{slug}">\n<img src="{data_uri(png)}" alt="{html.escape(alt)}">\n'
            f"<figcaption>{caption}</figcaption>\n</figure>"
        )


def _as_drawable(a: np.ndarray) -> np.ndarray:
    """1x1 maps (C5: (120, 1, 1)) are really a vector; draw them as one."""
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[1:] == (1, 1):
        return a.reshape(-1)
    return a


def _strongest(a: np.ndarray) -> int:
    """Index of the map (first axis) with the largest sum of |values|."""
    a = np.asarray(a)
    if a.ndim == 1:
        return 0
    return int(np.argmax(np.abs(a).reshape(a.shape[0], -1).sum(axis=1)))


# -- formulas ---------------------------------------------------------------------------------------
def residual_formula(stage: Stage, above: Stage | None) -> tuple[str, str, str]:
    """The formula that produced ``stage.delta``: its reference name, the equation and a
    short explanation (both HTML). ``above`` is the stage the residual came from (None at
    the output)."""
    n = stage.name
    fp = f" ⊙ f′(z{_sup(n)})" if stage.activation is not None else ""
    no_act = "" if stage.activation is not None else "no activation follows this layer, so f′ = 1"
    if above is None:
        return "F4", f"{_d(n)} = A − Y", ("softmax + cross-entropy, the softmax form of F4: no factor f′(Z), "
                                          "so a confident wrong answer still sends back a large residual")
    a = above.name
    if above.kind == "dense":
        name = "P1 (F5)" if stage.kind in ("subsampling", "maxpool", "avgpool") else "F5"
        return name, f"{_d(n)} = (W{_sup(a)})<sup>T</sup> {_d(a)}{fp}", (
            no_act or "each unit collects the residuals of every unit it feeds, weighted by the "
                      "connecting weights, times its own slope")
    if above.kind == "rbf":
        return "F5 (RBF)", f"{_d(n)} = −2 (x Σ<sub>i</sub>{_d(a)}<sub>i</sub> − {_d(a)} W{_sup(a)}){fp}", \
            "the backward pass of the Euclidean RBF units"
    if above.kind == "conv":
        if above.z.shape[1:] == (1, 1):
            return "P1 (F5)", f"{_d(n)} = (W{_sup(a)})<sup>T</sup> {_d(a)}{fp}", (
                f"{a} produces 1×1 maps, so it is a fully connected layer and this is ordinary F5"
                + (f"; {no_act}" if no_act else ""))
        sum_ = (f"Σ<sub>j</sub> conv({_d(a)}<sub>j</sub>, rot180(w{_sup(a)}<sub>ij</sub>), 'full')")
        eq = (f"{_d(n)}<sub>i</sub> = f′(z{_sup(n)}<sub>i</sub>) ⊙ {sum_}" if stage.activation is not None
              else f"{_d(n)}<sub>i</sub> = {sum_}")
        return "P3", eq, (f"summed over every {a} map j that map i feeds (the connection table)"
                          + (f"; {no_act}" if no_act else ""))
    if above.kind == "subsampling":
        return "P2", f"{_d(n)}<sub>j</sub> = β{_sup(a)}<sub>j</sub> up({_d(a)}<sub>j</sub>){fp}", (
            "up() repeats each residual over its 2×2 window (the Kronecker product with a block of ones)")
    if above.kind == "maxpool":
        return "P2", f"{_d(n)} = route({_d(a)}){fp}", (
            "max pooling sends each residual only to the position sampled in the forward pass; "
            "the other positions of the window get 0")
    if above.kind == "avgpool":
        return "P2", f"{_d(n)} = up({_d(a)}) / (k<sub>h</sub> k<sub>w</sub>){fp}", \
            "each position of a window gets an equal share"
    return "backward", f"{_d(n)} = backward of {html.escape(a)}{fp}", ""


# -- the worked example ------------------------------------------------------------------------------
def worked_example() -> dict[str, np.ndarray]:
    """The REFERENCE.md example computed by :func:`cnnbp.functional.conv2d`, by each algorithm.

    Returns:
        algorithm name -> the (3, 3) output.
    """
    x = WORKED_IMAGE[None, None]
    w = WORKED_KERNEL[None, None]
    return {alg: F.conv2d(x, w, algorithm=alg)[0, 0] for alg in ("direct", "im2col", "fft")}


# -- the sections --------------------------------------------------------------------------------------
_FORWARD_TEXT = {
    "C1": "six 5×5 kernels slid over the 32×32 input: each map lights up where its pattern (an edge, "
          "a stroke end) occurs",
    "S2": "each C1 map subsampled 2×2: a coarser, shift-tolerant version of the same features",
    "C3": "sixteen maps, each combining 3, 4 or 6 S2 maps through the connection table",
    "S4": "C3 subsampled to 5×5",
    "C5": "120 units, each a 5×5 kernel over all 16 S4 maps: the first fully connected view",
    "F6": "84 units; drawn 12 rows × 7 columns, the size of LeNet-5's RBF digit bitmaps",
}


def _section_summary(page: _Page, trace: Trace, digit_source: str, weights_source: str,
                     notes: Sequence[str], variant: str) -> None:
    page.section("summary", "The digit and the network",
                 "This page follows one real handwritten digit through LeNet-5 and back again. Every "
                 "number drawn below was computed by cnnbp's own layers, in the order the reference "
                 "derivation describes: first the forward pass, then the residuals δ = ∂C/∂z flowing "
                 "backward, then the parameter gradients they produce.")
    for note in notes:
        page.raw(f'<p class="note"><strong>Note:</strong> {html.escape(note)}</p>')
    correct = ""
    if trace.target_is_label:
        correct = (' <span class="ok">(correct)</span>' if trace.predicted == trace.target
                   else ' <span class="bad">(wrong)</span>')
    label = str(trace.target) if trace.target_is_label else "unknown"
    rows = [
        ("digit", html.escape(digit_source)),
        ("true label", label),
        ("prediction", f"{trace.predicted} (p = {trace.probabilities[trace.predicted]:.3f}){correct}"),
        ("network", f"LeNet-5, {html.escape(variant)} variant"),
        ("weights", html.escape(weights_source)),
        ("cost", f"softmax + cross-entropy for class {trace.target}"
                 f"{'' if trace.target_is_label else ' (the predicted class: no label is known)'}: "
                 f"C = −ln p = {trace.loss:.4f}"),
    ]
    page.raw('<table class="facts">' + "".join(
        f'<tr><th class="l">{k}</th><td>{v}</td></tr>' for k, v in rows) + "</table>")
    page.end_section()


_ACTIVATION_FORMULAS = {"ScaledTanh": "f(z) = 1.7159 tanh(2z/3)", "ReLU": "f(z) = max(z, 0)",
                        "Tanh": "f(z) = tanh(z)", "Sigmoid": "f(z) = 1 / (1 + e<sup>−z</sup>)"}


def _activation_text(st: Stage) -> str:
    if st.activation is None:
        return ", a = z (no activation)"
    name = type(st.activation).__name__
    return f", a = {_ACTIVATION_FORMULAS.get(name, f'f(z), f = {html.escape(name)}')}"


def _forward_formula(st: Stage) -> str:
    """What the stage's layer computes, in the reference's notation (HTML)."""
    z = f"z{_sup(st.name)}"
    if st.kind == "conv":
        return (f"{z}<sub>j</sub> = Σ<sub>i</sub> conv(a<sub>i</sub><sup>(l−1)</sup>, w<sub>ij</sub>, 'valid') "
                "+ b<sub>j</sub>")
    if st.kind == "subsampling":
        return f"{z}<sub>j</sub> = β<sub>j</sub> down(a<sub>j</sub><sup>(l−1)</sup>) + b<sub>j</sub>"
    if st.kind == "maxpool":
        return f"{z} = the maximum of each window of a<sup>(l−1)</sup>"
    if st.kind == "avgpool":
        return f"{z} = the mean of each window of a<sup>(l−1)</sup>"
    if st.kind == "dense":
        return f"{z} = W a<sup>(l−1)</sup> + b"
    return f"{z} = {html.escape(st.kind)}(a<sup>(l−1)</sup>)"


def _section_forward(page: _Page, trace: Trace) -> None:
    page.section("forward", "Forward pass: the feature maps",
                 "What each layer computes from this digit. The reader learns what the network "
                 "\"sees\" at each depth: local strokes in C1, coarser combinations in C3, and finally "
                 "a vector of features (C5, F6) that the output layer turns into class probabilities.")
    page.figure(figs.image_figure(trace.x[0], "input: 32x32, background -0.1, ink 1.175",
                                  label="pixel value"),
                "input", "The input x: the 28×28 MNIST digit padded to 32×32 and scaled as in LeCun 1998 "
                         "(background −0.1, ink 1.175).", "the input digit")
    for st in trace.stages:
        if st.name == "output" or st.kind == "rbf":
            continue
        if st.kind in ("dense",) and st.a.ndim != 1:
            continue
        act = "f(z)" if st.activation is not None else "z"
        what = _FORWARD_TEXT.get(st.name, f"the output of {st.name}")
        if st.name == "C3" and getattr(st.layer, "connections", None) is None:
            what = "sixteen maps, each combining all six S2 maps (no connection table in this variant)"
        shape = "×".join(str(s) for s in st.a.shape)
        page.figure(
            figs.grid_figure(_as_drawable(st.a), f"{st.name}: a = {act}, shape {shape}",
                             label=f"a = {act}"),
            f"forward-{st.name}",
            f"<b>{html.escape(st.name)}</b> ({shape}): {what}. "
            f"<span class='formula'>{_forward_formula(st)}</span>"
            f"{_activation_text(st)}"
            "; one grey scale for all maps.",
            f"{st.name} feature maps")
    page.figure(figs.probability_figure(trace.probabilities, trace.predicted,
                                        trace.target if trace.target_is_label else None),
                "output-probabilities",
                "The output: softmax of the 10 logits, <span class='formula'>p<sub>k</sub> = "
                "e<sup>z<sub>k</sub></sup> / Σ<sub>j</sub> e<sup>z<sub>j</sub></sup></span>. "
                "Filled bar: the prediction; red outline: the true class.",
                "output probabilities")
    page.end_section()


def _section_kernels(page: _Page, model_stages: Mapping[str, Stage]) -> None:
    page.section("kernels", "Kernels and the C3 connection table",
                 "The learned filters. Convolution in a CNN is cross-correlation (the kernel is not "
                 "flipped), so each kernel as drawn is the pattern its map responds to most. C3 does not "
                 "see every S2 map: LeCun et al. (1998, Table I) connect each C3 map to 3, 4 or 6 of them, "
                 "which breaks the symmetry between maps and saves parameters (1,516 instead of 2,416).")
    if "C1" in model_stages:
        w = model_stages["C1"].layer.weight.data
        page.figure(figs.kernel_grid_figure(w, "C1 kernels (6 x 5x5)", in_name="input", out_name="C1 map"),
                    "kernels-C1", "The six 5×5 kernels of C1, one per output map, on a symmetric "
                                  "colour scale (red positive, blue negative).", "C1 kernels")
    if "C3" in model_stages:
        layer = model_stages["C3"].layer
        table = getattr(layer, "connections", None)
        page.figure(figs.kernel_grid_figure(layer.weight.data, "C3 kernels: row = S2 map, column = C3 map",
                                            table, in_name="S2 map", out_name="C3 map"),
                    "kernels-C3", "The C3 kernels laid out as the connection table: row i, column j holds "
                                  "the 5×5 kernel from S2 map i to C3 map j; grey cells are kernels the "
                                  "table leaves out (their weight has no effect and gets no gradient)."
                    if table is not None else
                    "The C3 kernels: row i, column j holds the 5×5 kernel from S2 map i to C3 map j "
                    "(this variant connects every S2 map to every C3 map).", "C3 kernels")
        if table is not None:
            page.figure(figs.connection_table_figure(table), "connection-table",
                        "LeCun 1998, Table I: an X where S2 map i (row) feeds C3 map j (column). Maps 0–5 "
                        "read 3 neighbouring maps, 6–14 read 4, map 15 reads all 6.", "C3 connection table")
    page.end_section()


def _section_backward(page: _Page, trace: Trace) -> None:
    page.section("backward", "Backward pass: the residual at every layer",
                 "The residual δ = ∂C/∂z says how much the cost would change if a unit's input z moved. "
                 "It starts at the output (F4) and flows back through each layer with the formula "
                 "named in each caption: F5 through the dense layers, P1 into S4, P2 through pooling, P3 "
                 "through convolution. \"A residual goes back where it came from, and residuals arriving "
                 "at the same place are summed.\" Each figure uses one symmetric colour scale (red "
                 "positive, blue negative, white zero) for all its maps; the scales differ between "
                 "layers because the residual shrinks or grows as it travels.")
    stages = trace.stages
    out = stages[-1]
    page.figure(figs.output_residual_figure(out.delta, trace.delta_quadratic, trace.target),
                "residual-output",
                f"<b>F4</b> at the output layer ({html.escape(out.name)}), compared with <b>F3</b>: "
                f"<span class='formula'>{_d(out.name)} = A − Y</span> (left) is what is propagated. Right: the residual the quadratic cost would give, "
                "<span class='formula'>(A − Y) ⊙ f′(Z)</span>, with the softmax Jacobian as f′; where "
                "the output saturates this factor is near 0 and little residual would flow back.",
                "output residual, F4 and F3")
    for pos in range(len(stages) - 2, -1, -1):
        st, above = stages[pos], stages[pos + 1]
        ref, formula, why = residual_formula(st, above)
        drawable = _as_drawable(st.delta)
        page.h3(f"{html.escape(st.name)} ← {html.escape(above.name)}: {html.escape(ref)}",
                f"residual-{st.name}")
        page.figure(figs.grid_figure(drawable, f"residual of {st.name}, shape "
                                     + "x".join(str(s) for s in st.delta.shape), signed=True,
                                     label=f"δ = ∂C/∂z ({st.name})"),
                    f"residual-{st.name}",
                    f"<b>{ref}</b>: <span class='formula'>{formula}</span>"
                    f"{': ' + why if why else ''}.", f"residual of {st.name}")
        if st.activation is not None:
            k = _strongest(st.delta)
            pick = (lambda a: a[k]) if st.delta.ndim == 3 and st.delta.shape[1:] != (1, 1) else _as_drawable
            what = f"map {k}" if st.delta.ndim == 3 and st.delta.shape[1:] != (1, 1) else "all units"
            page.figure(figs.anatomy_figure(pick(st.dC_da), pick(st.f_prime), pick(st.delta),
                                            f"{st.name}, {what}: the activation's factor"),
                        f"anatomy-{st.name}",
                        f"The last step of {ref} for {st.name} ({what}): the residual arriving from "
                        f"{html.escape(above.name)}, ∂C/∂a (left), times the slope of the activation "
                        f"f′(z) (middle) gives <span class='formula'>{_d(st.name)}</span> (right). Where "
                        "the unit is saturated f′ is small and the residual is damped.",
                        f"anatomy of the residual of {st.name}")
    first = stages[0]
    page.h3(f"input ← {html.escape(first.name)}: P3", "residual-input")
    page.figure(figs.image_figure(trace.input_delta[0], "dC/dx of the input", signed=True,
                                  label="∂C/∂x"),
                "residual-input",
                f"<b>P3</b> down to the pixels: <span class='formula'>∂C/∂x = Σ<sub>j</sub> "
                f"conv({_d(first.name)}<sub>j</sub>, rot180(w{_sup(first.name)}<sub>j</sub>), 'full')</span> "
                "(no activation on the input). Red pixels would raise the cost if brightened, blue "
                "ones lower it: a saliency map of this digit for the chosen class.",
                "input gradient")
    page.end_section()


def _section_gradients(page: _Page, trace: Trace) -> None:
    page.section("gradients", "Parameter gradients",
                 "What training would change. Each weight's gradient is a residual times the activation "
                 "that weight multiplied: F1 for dense layers, P4 for convolution (the valid correlation "
                 "of the layer's input with its residual) and for subsampling. Every bias gradient is the "
                 "sum of its residual (F2, P4); the table checks that against the layers' own gradients.")
    checks = []
    sub_grads = {}
    for st in trace.stages:
        g = st.grads
        if "weight" not in g:
            continue
        if st.kind == "conv":
            w = g["weight"]
            if w.shape[2:] != (1, 1) and w.shape[0] <= 16:
                page.figure(figs.kernel_grid_figure(w, f"dC/dW of {st.name}", getattr(st.layer, "connections", None),
                                                    in_name="input map", out_name=f"{st.name} map",
                                                    label="∂C/∂w"),
                            f"gradient-{st.name}",
                            f"<b>P4</b> for {html.escape(st.name)}: <span class='formula'>∂C/∂w<sub>ij</sub> = "
                            f"conv(a<sup>(l−1)</sup><sub>i</sub>, {_d(st.name)}<sub>j</sub>, 'valid')</span>, "
                            "laid out like the kernels"
                            + (" (grey: not connected, gradient exactly zero)."
                               if getattr(st.layer, "connections", None) is not None else "."),
                            f"weight gradient of {st.name}")
            else:
                M = w.shape[0]
                page.figure(figs.matrix_figure(w.reshape(M, -1), f"dC/dW of {st.name} ({M} x "
                                               f"{w.shape[1]}·{w.shape[2]}·{w.shape[3]})",
                                               xlabel="input (map, row, column)", ylabel=f"{st.name} unit",
                                               label="∂C/∂w"),
                            f"gradient-{st.name}",
                            f"<b>P4</b> for {html.escape(st.name)}: each row is one unit's 5×5×16 kernel "
                            f"gradient, <span class='formula'>∂C/∂w<sub>ij</sub> = conv(a<sub>i</sub>, "
                            f"{_d(st.name)}<sub>j</sub>, 'valid')</span>; with 1×1 outputs this is F1, "
                            "a residual times an input.", f"weight gradient of {st.name}")
            if "bias" in g:
                checks.append((st.name, "P4: ∂C/∂b<sub>j</sub> = Σ δ<sub>j</sub>",
                               float(np.max(np.abs(g["bias"] - st.delta.reshape(st.delta.shape[0], -1).sum(1))))))
        elif st.kind == "dense":
            w = g["weight"]
            page.figure(figs.matrix_figure(w, f"dC/dW of {st.name} ({w.shape[0]} x {w.shape[1]})",
                                           xlabel=f"input unit j (of {w.shape[1]})",
                                           ylabel=f"{st.name} unit i", label="∂C/∂w"),
                        f"gradient-{st.name}",
                        f"<b>F1</b> for {html.escape(st.name)}: <span class='formula'>∂C/∂w<sub>ij</sub> = "
                        f"{_d(st.name)}<sub>i</sub> a<sub>j</sub><sup>(l−1)</sup></span>: for one example, the "
                        "outer product of the residual and the incoming activation, so every row is a "
                        "multiple of the same input pattern.", f"weight gradient of {st.name}")
            if "bias" in g:
                checks.append((st.name, "F2: ∂C/∂b<sub>i</sub> = δ<sub>i</sub>",
                               float(np.max(np.abs(g["bias"] - st.delta)))))
        elif st.kind == "subsampling":
            sub_grads[st.name] = (g["weight"], g["bias"])
            down = F.window_sum(st.x[None], st.layer.kernel_size, st.layer.stride, st.layer.padding)[0]
            checks.append((st.name, "P4: ∂C/∂β<sub>j</sub> = Σ δ<sub>j</sub> ⊙ down(a<sub>j</sub>)",
                           float(np.max(np.abs(g["weight"] - (st.delta * down).sum(axis=(1, 2)))))))
            checks.append((st.name, "P4: ∂C/∂b<sub>j</sub> = Σ δ<sub>j</sub>",
                           float(np.max(np.abs(g["bias"] - st.delta.sum(axis=(1, 2)))))))
    if sub_grads:
        page.figure(figs.subsampling_gradient_figure(sub_grads), "gradient-subsampling",
                    "<b>P4</b> for the subsampling layers: <span class='formula'>∂C/∂β<sub>j</sub> = "
                    "Σ δ<sub>j</sub> ⊙ down(a<sub>j</sub><sup>(l−1)</sup>)</span> and "
                    "<span class='formula'>∂C/∂b<sub>j</sub> = Σ δ<sub>j</sub></span>, one coefficient and "
                    "one bias per map.", "subsampling gradients")
    if checks:
        page.p("The formulas recomputed from the residuals drawn above, against the gradients the "
               "layers accumulated in <code>.grad</code> (float32):")
        page.raw("<table><tr><th class='l'>layer</th><th class='l'>formula</th><th>max |difference|</th></tr>"
                 + "".join(f"<tr><td class='l'>{html.escape(n)}</td><td class='l'>{f}</td><td>{e:.2e}</td></tr>"
                           for n, f, e in checks) + "</table>")
    page.end_section()


def _routing_mask(st: Stage) -> np.ndarray | None:
    """For max pooling: True at the positions the forward pass sampled (they get the residual)."""
    if st.kind != "maxpool":
        return None
    layer = st.layer
    _, argmax = F.max_pool2d(st.x[None], layer.kernel_size, layer.stride, layer.padding, return_argmax=True)
    ones = np.ones(argmax.shape, dtype=np.float64)
    return F.max_pool2d_backward(ones, argmax, st.x[None].shape, layer.kernel_size, layer.stride,
                                 layer.padding)[0] != 0


def _zoom(st: Stage, k: int, windows: int = 4):
    """Slices (input rows, input cols, output rows, output cols) of a window-aligned crop of
    ``windows`` x ``windows`` pooling windows around map k's largest residual, for maps too
    large to show their windows legibly (S2's 28x28 input); whole maps otherwise."""
    layer = st.layer
    kh, kw = layer.kernel_size
    out_h, out_w = st.delta.shape[1:]
    whole = (slice(None),) * 4
    if st.x.shape[1] <= 12 or tuple(layer.stride) != (kh, kw) or tuple(layer.padding) != (0, 0) \
            or out_h <= windows or out_w <= windows:
        return whole, ""
    r, c = np.unravel_index(np.argmax(np.abs(st.delta[k])), (out_h, out_w))
    r0 = int(np.clip(r - windows // 2, 0, out_h - windows))
    c0 = int(np.clip(c - windows // 2, 0, out_w - windows))
    rows, cols = slice(r0, r0 + windows), slice(c0, c0 + windows)
    note = (f"zoom on {windows}x{windows} windows: input rows {r0 * kh}-{(r0 + windows) * kh - 1}, "
            f"columns {c0 * kw}-{(c0 + windows) * kw - 1}")
    return (slice(r0 * kh, (r0 + windows) * kh), slice(c0 * kw, (c0 + windows) * kw), rows, cols), note


def _section_routing(page: _Page, trace: Trace) -> None:
    pools = [(pos, st) for pos, st in enumerate(trace.stages)
             if st.kind in ("subsampling", "maxpool", "avgpool") and pos > 0]
    page.section("routing", "Pooling routing (P2)",
                 "Pooling has no kernel to rotate, so its backward pass is pure bookkeeping: which input "
                 "positions receive each output's residual. For LeNet-5's trainable subsampling every "
                 "position of a 2×2 window receives the same share, β·δ (the Kronecker up-sampling of P2); "
                 "for max pooling only the position that won the forward pass receives it.")
    for pos, st in pools:
        below = trace.stages[pos - 1]
        k = _strongest(st.delta)
        mask = _routing_mask(st)
        window = tuple(st.layer.kernel_size)
        (ir, ic, orow, ocol), zoom = _zoom(st, k)
        if st.kind == "subsampling":
            beta = float(st.layer.weight.data[k])
            how = (f"β<sub>{k}</sub> = {beta:.3f}: each position of a window receives β·δ of its window, "
                   "so the routed map is the residual map blown up 2×2 and scaled by β")
            title = f"{st.name} -> {below.name}, map {k}: every window position gets beta*delta"
        elif st.kind == "maxpool":
            how = ("green circles mark the position each window sampled in the forward pass; only they "
                   "receive a residual, every other position gets exactly 0")
            title = f"{st.name} -> {below.name}, map {k}: only the maxima receive the residual"
        else:
            how = "each position of a window receives δ / (k<sub>h</sub> k<sub>w</sub>)"
            title = f"{st.name} -> {below.name}, map {k}: mean pooling spreads the residual"
        if zoom:
            title += f"\n({zoom})"
        page.figure(figs.routing_figure(st.x[k][ir, ic], st.delta[k][orow, ocol], st.delta_in[k][ir, ic],
                                        below.delta[k][ir, ic], window, title,
                                        mask=None if mask is None else mask[k][ir, ic]),
                    f"routing-{st.name}",
                    f"<b>P2</b>, {html.escape(st.name)} map {k} (its largest residual"
                    f"{'; ' + html.escape(zoom) if zoom else ''}): the pooling input with its "
                    f"{window[0]}×{window[1]} windows; {_d(st.name)}; the residual routed back, {how}; "
                    f"then <span class='formula'>{_d(below.name)} = routed ⊙ f′(z{_sup(below.name)})</span>.",
                    f"pooling routing of {st.name}")
    page.end_section()


def _provenance_table(values: Mapping[str, float]) -> str:
    ref = next(iter(values.values()))
    rows = "".join(
        f"<tr><td class='l'>{html.escape(k)}</td><td>{v:+.15e}</td><td>{abs(v - ref):.1e}</td></tr>"
        for k, v in values.items())
    return ("<table><tr><th class='l'>computed by</th><th>value</th><th>|difference from the loops|</th></tr>"
            + rows + "</table>")


def _section_provenance(page: _Page, trace: Trace) -> None:
    page.section("provenance", "Provenance of one gradient value",
                 "Where exactly does a gradient come from? For one input pixel and one C1 weight this "
                 "section lists the residual entries and kernel taps that were multiplied and summed, "
                 "and computes the same value three independent ways — the plain loops, the formula of "
                 "the reference, and the im2col matrix form — which agree to rounding error (float64).")
    if "C1" not in trace.names:
        page.p("This network has no stage named C1.")
        page.end_section()
        return
    pix, wt = conv_provenance(trace, "C1")
    st = trace.stage("C1")
    c, h, v = pix.position
    page.h3(f"Input pixel (row {h}, column {v}): P3", "provenance-pixel")
    page.p(f"The pixel fed every C1 output whose 5×5 window covered it: {len(pix.terms)} outputs "
           f"(25 window positions in each of {st.delta.shape[0]} maps). Its gradient is "
           "<span class='formula'>∂C/∂x<sub>hv</sub> = Σ<sub>m,i,j</sub> δ<sub>m, h−i, v−j</sub> "
           "w<sub>m, i, j</sub></span>: the residual each of those outputs sends back, times the tap that "
           "carried the pixel into it.")
    page.figure(figs.pixel_provenance_figure(st.delta, st.layer.weight.data, pix), "provenance-pixel",
                "Top: each C1 residual map with the window of entries that reached the pixel (green). "
                "Middle: the kernel rotated by 180° — laid over the window, tap (i, j) meets entry "
                "(h−i, v−j), which is why P3 rotates. Bottom: the products; their sums over all maps "
                "give ∂C/∂x.", "provenance of an input-pixel gradient")
    head = pix.terms[:6]
    page.raw("<table><tr><th>map m</th><th>δ row</th><th>δ col</th><th>tap i</th><th>tap j</th>"
             "<th>δ</th><th>w</th><th>δ·w</th></tr>"
             + "".join("<tr>" + "".join(f"<td>{int(t)}</td>" for t in row[:5])
                       + "".join(f"<td>{t:+.4e}</td>" for t in row[5:]) + "</tr>" for row in head)
             + f"<tr><td class='l' colspan='8'>… {len(pix.terms)} terms in all</td></tr></table>")
    page.raw(_provenance_table(pix.values))
    m, _, i, j = wt.position
    page.h3(f"Weight w[{m}, 0, {i}, {j}] of C1: P4", "provenance-weight")
    page.p(f"Weight sharing: this one tap was used at all {len(wt.terms)} positions of C1 map {m}, so its "
           "gradient sums the residual of each position times the pixel the tap saw there, "
           "<span class='formula'>∂C/∂w<sub>m,i,j</sub> = Σ<sub>oh,ow</sub> δ<sub>m,oh,ow</sub> "
           "x<sub>oh+i, ow+j</sub></span> — F1, summed over every place the weight is shared.")
    page.figure(figs.weight_provenance_figure(st.x, st.delta, st.layer.weight.data, wt), "provenance-weight",
                "The input window the tap saw (green frame: the input shifted by the tap's offset), the "
                "tap in its kernel, the residual map, and their element-wise product, whose sum is ∂C/∂w.",
                "provenance of a weight gradient")
    page.raw(_provenance_table(wt.values))
    agree = max(pix.max_discrepancy, wt.max_discrepancy)
    cls = "ok" if agree < 1e-6 else "bad"
    page.p(f"Largest disagreement between the computations: <span class='{cls}'>{agree:.1e}</span>.")
    page.end_section()


def _section_worked(page: _Page) -> None:
    page.section("worked-example", "The worked convolution example",
                 "The reference's own example of a convolutional layer's arithmetic, computed by cnnbp: "
                 "the kernel is laid on each 3×3 window of the image, multiplied element by element and "
                 "summed (cross-correlation, stride 1, no padding).")
    results = worked_example()
    out = results["direct"]
    page.figure(figs.worked_example_figure(WORKED_IMAGE, WORKED_KERNEL, out), "worked-example",
                "REFERENCE.md section 2: the first window (red) gives "
                "<span class='formula'>3·0 + 3·1 + 2·2 + 0·2 + 0·2 + 1·0 + 3·0 + 1·1 + 2·2 = 12</span>, "
                "the top-left output.", "the worked convolution example")
    rows = []
    for alg, y in results.items():
        ok = np.array_equal(np.rint(y), WORKED_OUTPUT) and np.allclose(y, WORKED_OUTPUT, atol=1e-9)
        text = "; ".join(" ".join(f"{int(round(v))}" for v in r) for r in y)
        rows.append(f"<tr><td class='l'>conv2d(algorithm=\"{alg}\")</td><td class='l'>{text}</td>"
                    f"<td class='l'><span class='{'ok' if ok else 'bad'}'>{'yes' if ok else 'NO'}</span></td></tr>")
    page.raw("<table><tr><th class='l'>computed by</th><th class='l'>output, row by row</th>"
             "<th class='l'>equals the reference's [[12, 12, 17], [10, 17, 19], [9, 6, 14]]</th></tr>"
             + "".join(rows) + "</table>")
    page.end_section()


def _section_filters(page: _Page, image: np.ndarray) -> None:
    page.section("filters", "Filter gallery",
                 "Before a network learns its own kernels, hand-made ones show what a single kernel can "
                 "do: sharpen, blur, or detect edges in one direction. Here each named kernel of "
                 "<code>cnnbp.filters</code> is applied to this digit with the same convolution the "
                 "network uses (same padding).")
    filtered = {name: filters.apply(image, name) for name in filters.kernel_names()}
    page.figure(figs.filter_gallery_figure(filtered), "filter-gallery",
                "Each panel: <span class='formula'>conv(digit, kernel, 'same')</span>, clipped to 0–255 "
                "(emboss offset by 128). Edge detectors sum to 0, so flat areas go black.",
                "filter gallery")
    page.end_section()


def _section_training(page: _Page, history, confusion, confusion_source: str | None) -> None:
    page.section("training", "Training",
                 "How these weights were reached: the cost and accuracy per epoch (the loss falls as "
                 "gradient descent, W ← W − η ∂C/∂W, follows the gradients shown above), and which "
                 "digits the network still confuses.")
    if history:
        page.figure(figs.training_curves_figure(history), "training-curves",
                    "Loss (left) and accuracy (right) per epoch, on the training batches and, where "
                    "recorded, the validation set.", "training curves")
    if confusion is not None:
        where = f" on {html.escape(confusion_source)}" if confusion_source else ""
        page.figure(figs.confusion_figure(confusion), "confusion-matrix",
                    f"Confusion matrix of these weights{where}: row = true digit, column = predicted "
                    "digit; the diagonal counts the correct answers, off-diagonal cells the mistakes.",
                    "confusion matrix")
    page.end_section()


# -- the page -------------------------------------------------------------------------------------------
def build_report(model, image, label: int | None = None, history: Sequence[Mapping] | None = None,
                 confusion=None, *, confusion_source: str | None = None, title: str | None = None,
                 digit_source: str = "a digit",
                 weights_source: str = "the model's current weights", notes: Sequence[str] = (),
                 png_dir: str | os.PathLike | None = None) -> str:
    """Build the illustrated forward/backward report of one digit as one HTML string.

    Args:
        model: LeNet-5 from :func:`cnnbp.models.lenet5` (or any Sequential with named
            layers, ``.preprocess`` and logits out); its weights are used, not changed.
        image: the digit, uint8 (28, 28).
        label: its true class; None: the residual is taken for the predicted class.
        history: a training history (list of per-epoch dicts, e.g. ``Checkpoint.history``);
            adds the loss/accuracy curves.
        confusion: a (K, K) confusion matrix (row = true class); adds its figure.
        confusion_source: what the confusion matrix was computed on (for its caption).
        title: the page title.
        digit_source, weights_source: one line each saying where the digit and the
            weights come from (shown in the summary).
        notes: warnings shown prominently at the top (e.g. untrained weights).
        png_dir: also write every figure there as ``NN-<name>.png`` (created if needed).

    Returns:
        the page, self-contained: images as ``data:image/png;base64`` URIs, inline CSS,
        no scripts, no external references.
    """
    trace = trace_digit(model, image, label)
    variant = (getattr(model, "config", None) or {}).get("variant", "?")
    stages = {st.name: st for st in trace.stages}
    page = _Page()
    _section_summary(page, trace, digit_source, weights_source, notes, variant)
    _section_forward(page, trace)
    _section_kernels(page, stages)
    _section_backward(page, trace)
    _section_gradients(page, trace)
    _section_routing(page, trace)
    _section_provenance(page, trace)
    _section_worked(page)
    _section_filters(page, trace.image)
    if history or confusion is not None:
        _section_training(page, history, confusion, confusion_source)

    if png_dir is not None:
        _write_pngs(page.figures, png_dir)

    title = title or f"cnnbp explain: one digit through LeNet-5 ({variant})"
    toc = "".join(f'<li><a href="#{sid}">{html.escape(t)}</a></li>' for sid, t in page.toc)
    body = "\n".join(page.parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        "<p class=\"lead\">Forward and backward propagation in a convolutional network, drawn from real "
        "numbers. Formula names (F1–F5, P1–P4) follow the reference derivation that cnnbp implements.</p>\n"
        f"<nav><ol>{toc}</ol></nav>\n{body}\n"
        f"<footer><p class=\"lead\">{len(page.figures)} figures, generated by cnnbp.</p></footer>\n"
        "</body>\n</html>\n"
    )


def _write_pngs(figures: Sequence[_Figure], png_dir) -> list[Path]:
    from .._files import atomic_write_bytes

    folder = Path(png_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, f in enumerate(figures, 1):
        path = folder / f"{n:02d}-{f.slug}.png"
        atomic_write_bytes(path, f.png)
        paths.append(path)
    return paths


def write_report(path: str | os.PathLike, page: str) -> Path:
    """Write the page to ``path`` atomically (a temporary file in the same folder, then a
    rename), so an interrupted run never leaves a half-written report. Returns the path."""
    from .._files import atomic_write_bytes

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    atomic_write_bytes(path, page.encode("utf-8"))
    return path
