"""cnnbp train / evaluate / predict on the packaged MNIST sample: the main job, end to end."""

import json

import numpy as np
import pytest
from PIL import Image

from cnnbp.cli import main
from cnnbp.data import load_dataset
from cnnbp.training import load_checkpoint


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One epoch of classic LeNet-5 on the 4,000 sample digits."""
    out = tmp_path_factory.mktemp("runs") / "classic"
    code = main(["train", "--variant", "classic", "--dataset", "mnist-sample", "--epochs", "1",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_one_epoch_on_the_sample_reaches_eighty_five_percent(trained_run, capsys):
    assert main(["evaluate", str(trained_run), "--dataset", "mnist-sample", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] >= 0.85
    assert len(result["confusion_matrix"]) == 10 and result["n"] == 1000
    assert sum(map(sum, result["confusion_matrix"])) == 1000


def test_checkpoint_records_the_settings_and_history(trained_run):
    ckpt = load_checkpoint(trained_run)
    assert ckpt.epoch == 1
    assert ckpt.config["variant"] == "classic"
    assert ckpt.config["training"]["dataset"] == "mnist-sample"
    assert ckpt.history[0]["val_accuracy"] >= 0.85


def test_evaluate_text_report(trained_run, capsys):
    assert main(["evaluate", str(trained_run), "--dataset", "mnist-sample"]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "per-class accuracy" in out


def test_predict_reads_a_png_digit(trained_run, tmp_path, capsys):
    images, labels = load_dataset("mnist-sample", "test")
    # Dark ink on white paper, three times MNIST's size: predict must invert and rescale.
    big = np.kron(255 - images[0], np.ones((3, 3), np.uint8))
    path = tmp_path / "digit.png"
    Image.fromarray(big).save(path)
    assert main(["predict", str(trained_run), str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["class"] == labels[0]
    assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-4)


def test_bit_equal_resume_through_the_cli(tmp_path):
    common = ["--variant", "modern", "--dataset", "mnist-sample", "--limit", "512",
              "--batch-size", "64", "--no-progress"]
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert main(["train", *common, "--epochs", "2", "--out", str(straight)]) == 0
    assert main(["train", *common, "--epochs", "2", "--out", str(interrupted)]) == 0
    for f in interrupted.glob("epoch-002.*"):  # as if the run had crashed during epoch 2
        f.unlink()
    assert load_checkpoint(interrupted).epoch == 1
    assert main(["train", "--resume", str(interrupted), "--no-progress"]) == 0
    a, b = load_checkpoint(straight), load_checkpoint(interrupted)
    assert a.epoch == b.epoch == 2
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name], b.weights[name])


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("cnnbp ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("argv,match", [
    (["train", "--lr", "-1"], "lr must be"),
    (["train", "--dataset", "mnist", "--data-dir", "{tmp}/empty"], "CNNBP_DATA_DIR"),
    (["train", "--resume", "{tmp}/nowhere"], "does not exist"),
    (["evaluate", "{tmp}/nowhere"], "does not exist"),
    (["predict", "{tmp}/missing.png"], "no such file"),
    (["summary", "lenet5", "--variant", "modern", "--output", "rbf"], "rbf"),
])
def test_bad_arguments_give_one_line_errors(argv, match, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNBP_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr("cnnbp.data.datasets.DATASETS", _offline_datasets(), raising=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) != 0
    assert match in _one_line_error(capsys)


def _offline_datasets():
    """The dataset registry with every mirror pointing at a closed local port (no network)."""
    from dataclasses import replace

    from cnnbp.data import datasets

    return {name: replace(spec, mirrors=("http://127.0.0.1:9/",)) if spec.mirrors else spec
            for name, spec in datasets.DATASETS.items()}
