"""``cnnbp explain`` and :mod:`cnnbp.viz`: the illustrated forward/backward report.

The report is built once (module fixture) by the CLI from a checkpoint with a
training history, so every section, the training one included, is present.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from cnnbp import functional as F
from cnnbp import viz
from cnnbp.cli import main
from cnnbp.data import load_dataset
from cnnbp.models import lenet5
from cnnbp.training import save_checkpoint
from cnnbp.viz.provenance import choose_pixel, pixel_gradient, weight_gradient
from cnnbp.viz.report import SECTION_IDS, WORKED_OUTPUT, worked_example

HISTORY = [
    {"epoch": 1, "lr": 0.01, "train_loss": 1.9, "train_accuracy": 0.41, "val_loss": 1.2, "val_accuracy": 0.66},
    {"epoch": 2, "lr": 0.01, "train_loss": 0.8, "train_accuracy": 0.78, "val_loss": 0.6, "val_accuracy": 0.83},
]
DIGIT = 7
STAGES = ("C1", "S2", "C3", "S4", "C5", "F6")
IMG = re.compile(r"<img\b[^>]*>", re.I)
SRC = re.compile(r'\bsrc="([^"]*)"')


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample", "test")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(page, png folder, stdout-free return code) of ``cnnbp explain CKPT --digit 7 --png-dir``."""
    root = tmp_path_factory.mktemp("explain")
    model = lenet5("classic", rng=0)
    ckpt = save_checkpoint(root / "run", 2, model, history=HISTORY, config=model.config)
    out, pngs = root / "report.html", root / "png"
    rc = main(["explain", str(ckpt), "--digit", str(DIGIT), "-o", str(out), "--png-dir", str(pngs)])
    return rc, out.read_text(encoding="utf-8"), pngs


@pytest.fixture(scope="module")
def trace(sample):
    images, labels = sample
    return viz.trace_digit(lenet5("classic", rng=0), images[DIGIT], int(labels[DIGIT]))


def _images(page):
    return [SRC.search(tag).group(1) for tag in IMG.findall(page)]


# -- the page --------------------------------------------------------------------------------
def test_cli_succeeds(built):
    assert built[0] == 0


@pytest.mark.parametrize("section", SECTION_IDS)
def test_report_has_every_section_with_a_heading(built, section):
    page = built[1]
    m = re.search(rf'<section id="{section}">\s*<h2>([^<]+)</h2>\s*<p class="lead">([^<]{{40,}})', page)
    assert m, f"section {section!r} missing, or without its heading and explanatory paragraph"


@pytest.mark.parametrize("figure", [
    "input", *(f"forward-{s.lower()}" for s in STAGES), "output-probabilities",
    "kernels-c1", "kernels-c3", "connection-table",
    "residual-output", *(f"residual-{s.lower()}" for s in STAGES), "residual-input",
    "gradient-c1", "gradient-c3", "gradient-c5", "gradient-f6", "gradient-output", "gradient-subsampling",
    "routing-s2", "routing-s4", "provenance-pixel", "provenance-weight",
    "worked-example", "filter-gallery", "training-curves", "confusion-matrix",
])
def test_report_has_every_figure(built, figure):
    m = re.search(rf'<figure id="fig-{figure}">\s*(<img[^>]*>)\s*<figcaption>(.+?)</figcaption>',
                  built[1], re.S)
    assert m, f"figure {figure!r} missing or without a caption"
    assert 'src="data:image/png;base64,' in m.group(1)


def test_backward_captions_name_their_formula(built):
    page = built[1]
    for formula in ("F4", "F3", "F5", "P1", "P2", "P3", "P4", "F1"):
        assert f"<b>{formula}" in page, f"no figure captioned with {formula}"


def test_every_image_is_an_embedded_png(built):
    srcs = _images(built[1])
    assert len(srcs) >= 38
    assert all(s.startswith("data:image/png;base64,") for s in srcs)


@pytest.mark.parametrize("which", [0, -1])
def test_embedded_pngs_decode(built, which):
    src = _images(built[1])[which]
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as img:
        assert img.format == "PNG"
        assert img.width > 100 and img.height > 50


def test_report_makes_no_external_requests(built):
    page = built[1]
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"https?://", page)
    for forbidden in ("<script", "<link", "<iframe", "@import", "url("):
        assert forbidden not in page.lower()
    internal = re.findall(r'href="([^"]*)"', page)
    assert internal and all(h.startswith("#") for h in internal)


def test_png_dir_holds_every_figure(built):
    _, page, pngs = built
    files = sorted(pngs.glob("*.png"))
    srcs = _images(page)
    assert len(files) == len(srcs)
    assert files[0].read_bytes() == base64.b64decode(srcs[0].split(",", 1)[1])
    assert all(f.stat().st_size > 0 for f in files)


def test_report_shows_the_checkpoint_history_and_digit(built):
    page = built[1]
    assert "epoch 2" in page and f"test digit #{DIGIT}" in page


# -- the computations behind the figures ------------------------------------------------------
def test_trace_runs_in_float64(trace):
    assert trace.x.dtype == np.float64
    assert all(st.delta.dtype == np.float64 for st in trace.stages)


def test_output_residual_is_F4(trace):
    y = np.eye(10)[trace.target]
    np.testing.assert_allclose(trace.stage("output").delta, trace.probabilities - y, atol=1e-12)


def test_F6_residual_is_F5(trace):
    out, f6 = trace.stage("output"), trace.stage("F6")
    W = out.layer.weight.data.astype(np.float64)
    np.testing.assert_allclose(f6.delta, (W.T @ out.delta) * f6.f_prime, atol=1e-12)


def test_trace_leaves_model_gradients_alone(sample):
    images, labels = sample
    model = lenet5("classic", rng=0)
    for p in model.parameters().values():
        p.grad[...] = 0.5
    viz.trace_digit(model, images[0], int(labels[0]))
    assert all((p.grad == 0.5).all() for p in model.parameters().values())


def test_provenance_three_ways_agree_on_lenet(trace):
    pixel, weight = viz.conv_provenance(trace, "C1")
    for prov, terms in ((pixel, 6 * 5 * 5), (weight, 28 * 28)):
        values = np.array(list(prov.values.values()))
        assert len(values) == 4  # three computations and the layer's own backward
        np.testing.assert_allclose(values, values[0], rtol=1e-9, atol=1e-6)
        assert len(prov.terms) == terms
        assert np.isclose(prov.terms[:, -1].sum(), prov.direct, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("position", [(0, 0, 0), (1, 4, 3), (1, 8, 7), (0, 2, 7)])
def test_pixel_gradient_three_ways_agree(rng, position):
    # Non-square input and kernels; corners have fewer terms than the interior.
    x = rng.normal(size=(2, 9, 8))
    w = rng.normal(size=(3, 2, 3, 4))
    delta = rng.normal(size=(3, 7, 5))
    expected = F.conv2d_backward_input(delta[None], w, (1, 2, 9, 8))[0][position]
    prov = pixel_gradient(x, w, delta, position, library=expected)
    values = np.array(list(prov.values.values()))
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("position", [(0, 0, 0, 0), (2, 1, 2, 3)])
def test_weight_gradient_three_ways_agree(rng, position):
    x = rng.normal(size=(2, 9, 8))
    w = rng.normal(size=(3, 2, 3, 4))
    delta = rng.normal(size=(3, 7, 5))
    expected = F.conv2d_backward_weight(delta[None], x[None], w.shape)[position]
    prov = weight_gradient(x, w, delta, position, library=expected)
    np.testing.assert_allclose(np.array(list(prov.values.values())), expected, rtol=1e-9, atol=1e-6)
    assert len(prov.terms) == 7 * 5


def test_chosen_pixel_receives_every_tap():
    g = np.zeros((1, 12, 10))
    g[0, 0, 0] = 9.0      # largest, but on the border
    g[0, 6, 5] = 1.0
    assert choose_pixel(g, (5, 5)) == (0, 6, 5)


def test_worked_example_is_the_reference():
    for algorithm, y in worked_example().items():
        np.testing.assert_allclose(y, WORKED_OUTPUT, atol=1e-9, err_msg=algorithm)


# -- the command line ---------------------------------------------------------------------------
@pytest.fixture
def bad_files(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    return tmp_path


@pytest.mark.parametrize("args, message", [
    (["--digit", "5000"], "out of range"),
    (["--digit", "-1"], "out of range"),
    (["--image", "{tmp}/missing.png"], "cannot read image"),
    (["--image", "{tmp}/notes.png"], "cannot read image"),
    (["{tmp}/missing-checkpoint.json"], "does not exist"),
    (["{tmp}/"], "no complete checkpoint"),
])
def test_bad_options_give_one_line_errors(bad_files, capsys, args, message):
    args = [a.format(tmp=bad_files) for a in args]
    rc = main(["explain", *args, "-o", str(bad_files / "r.html")])
    captured = capsys.readouterr()
    assert rc != 0
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnbp explain: error:") and message in lines[0]
    assert not (bad_files / "r.html").exists()


def test_output_folder_must_exist(tmp_path, capsys):
    rc = main(["explain", "-o", str(tmp_path / "no" / "r.html")])
    assert rc != 0 and "does not exist" in capsys.readouterr().err


def test_without_shipped_weights_the_report_says_so(monkeypatch):
    from cnnbp import models
    from cnnbp.cli import explain

    def missing(variant):
        raise FileNotFoundError(f"no shipped weights for {variant}")

    monkeypatch.setattr(models, "pretrained", missing, raising=False)
    model, history, weights, notes = explain._shipped("modern")
    assert model.config["variant"] == "modern" and history is None
    assert "untrained" in weights and len(notes) == 1 and "freshly initialised" in notes[0]


def test_shipped_weights_bring_their_history(monkeypatch):
    from cnnbp import models
    from cnnbp.cli import explain

    def shipped(variant):
        model = lenet5(variant, rng=0)
        model.metadata = {"history": HISTORY, "result": {"dataset": "mnist", "n": 10000, "accuracy": 0.99}}
        return model

    monkeypatch.setattr(models, "pretrained", shipped, raising=False)
    model, history, weights, notes = explain._shipped("classic")
    assert history == HISTORY and notes == []
    assert "shipped" in weights and "99.00%" in weights and "10,000" in weights


def test_max_pooling_routes_only_to_the_sampled_positions(sample):
    from cnnbp.viz.report import _routing_mask

    images, labels = sample
    trace = viz.trace_digit(lenet5("modern", rng=0), images[DIGIT], int(labels[DIGIT]))
    s4 = trace.stage("S4")
    mask = _routing_mask(s4)
    assert mask.shape == s4.x.shape and mask.sum() == s4.delta.size   # one position per window
    assert np.all(s4.delta_in[~mask] == 0)
    # each window's one routed value is its output's residual
    np.testing.assert_allclose(F.window_sum(s4.delta_in[None], 2)[0], s4.delta, atol=1e-15)
