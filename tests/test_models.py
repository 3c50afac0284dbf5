"""LeNet-5: the paper's architecture, numbers and connection table."""

import json

import numpy as np
import pytest

import cnnbp
from cnnbp import models
from cnnbp.cli import main

# REFERENCE.md section 4: (parameters, connections) per layer.
CLASSIC = {"C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600),
           "S4": (32, 2_000), "C5": (48_120, 48_120), "F6": (10_164, 10_164)}

# REFERENCE.md: read by rows, S2 map -> the C3 maps it feeds.
C3_ROWS = {0: [0, 4, 5, 6, 9, 10, 11, 12, 14, 15], 1: [0, 1, 5, 6, 7, 10, 11, 12, 13, 15],
           2: [0, 1, 2, 6, 7, 8, 11, 13, 14, 15], 3: [1, 2, 3, 6, 7, 8, 9, 12, 14, 15],
           4: [2, 3, 4, 7, 8, 9, 10, 12, 13, 15], 5: [3, 4, 5, 8, 9, 10, 11, 13, 14, 15]}


def test_c3_connection_table_is_lecun_table_one():
    table = models.c3_connection_table()
    assert table.shape == (6, 16)
    for s2_map, c3_maps in C3_ROWS.items():
        assert list(np.flatnonzero(table[s2_map])) == c3_maps
    assert list(table.sum(axis=0)) == [3] * 6 + [4] * 9 + [6]


def test_classic_summary_reproduces_the_reference_table():
    model = models.lenet5("classic", rng=0)
    rows = {r["name"]: r for r in model.summary_rows(model.input_shape)}
    for name, (params, connections) in CLASSIC.items():
        assert (rows[name]["parameters"], rows[name]["connections"]) == (params, connections), name
    assert rows["C1"]["output_shape"] == [6, 28, 28] and rows["S4"]["output_shape"] == [16, 5, 5]


def test_classic_with_rbf_output_has_the_papers_totals():
    model = models.lenet5("classic", rng=0, output="rbf")
    rows = model.summary_rows(model.input_shape)
    assert sum(r["connections"] for r in rows) == 340_908
    assert rows[-1]["connections"] == 840


def test_summary_json_command(capsys):
    assert main(["summary", "lenet5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in report["layers"]}
    assert by_name["C3"]["parameters"] == 1516 and by_name["C3"]["connections"] == 151_600
    assert report["total_parameters"] == sum(r["parameters"] for r in report["layers"])


def test_summary_text_command(capsys):
    assert main(["summary", "lenet5", "--variant", "modern"]) == 0
    out = capsys.readouterr().out
    assert "MaxPool2d" not in out or "S2" in out
    assert "total" in out


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_forward_gives_ten_logits_per_digit(variant):
    model = models.lenet5(variant, rng=0)
    digits = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    x = model.preprocess(digits)
    assert x.shape == (3, 1, 32, 32) and x.dtype == np.float32
    y = model.forward(x)
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert model.backward(np.ones_like(y)).shape == x.shape


def test_preprocess_uses_the_papers_input_scaling():
    x = models.preprocess(np.array([[[0] * 28] * 27 + [[255] * 28]], dtype=np.uint8))
    assert x[0, 0, 0, 0] == pytest.approx(-0.1) and x[0, 0, 29, 5] == pytest.approx(1.175)


def test_whole_network_input_gradient_matches_central_differences():
    model = models.lenet5("classic", rng=0, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(1, 1, 32, 32))
    # eps 1e-5: through 14 layers, rounding noise at 1e-6 rivals the tiniest entries.
    result = cnnbp.gradcheck(model, x, check_params=False, eps=1e-5)
    assert result["input"] < 1e-6, result.report()


def test_build_rebuilds_from_config():
    model = models.lenet5("modern", rng=0)
    again = models.build(model.config, rng=0)
    for p, q in zip(model.parameters().values(), again.parameters().values()):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("kwargs,match", [
    ({"variant": "tiny"}, "variant"), ({"variant": "modern", "output": "rbf"}, "rbf"),
])
def test_bad_model_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.lenet5(**kwargs)
