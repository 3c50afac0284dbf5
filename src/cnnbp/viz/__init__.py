"""Drawing what cnnbp computes: figures of feature maps, kernels, residuals and gradients,
and a self-contained HTML report that walks one digit through LeNet-5 forward and back.

- :mod:`~cnnbp.viz.trace`: one digit through a network, every intermediate kept;
- :mod:`~cnnbp.viz.provenance`: one gradient value as the sum it is, computed three ways;
- :mod:`~cnnbp.viz.figures`: figure functions (arrays in, matplotlib ``Figure`` out);
- :mod:`~cnnbp.viz.report`: :func:`build_report` and :func:`write_report`.

Figures are drawn with matplotlib's Agg renderer without pyplot, so nothing here
opens a window or touches global plotting state.

Example (the command line equivalent is ``cnnbp explain -o report.html``)::

    from cnnbp import models, data, viz
    images, labels = data.load_dataset("mnist-sample", "test")
    page = viz.build_report(models.lenet5("classic", rng=0), images[0], int(labels[0]))
    viz.write_report("report.html", page)
"""

from .provenance import (PixelProvenance, WeightProvenance, conv_provenance, pixel_gradient,
                         weight_gradient)
from .report import SECTION_IDS, build_report, worked_example, write_report
from .trace import Stage, Trace, trace_digit

__all__ = [
    "build_report", "write_report", "SECTION_IDS", "worked_example",
    "trace_digit", "Trace", "Stage",
    "pixel_gradient", "weight_gradient", "conv_provenance", "PixelProvenance", "WeightProvenance",
]
