"""The command line: --version, --help, the saturation demo, gradcheck."""

import json
import subprocess
import sys

import pytest

import cnnbp
from cnnbp.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert cnnbp.__version__ in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_console_script_module_runs():
    out = subprocess.run([sys.executable, "-m", "cnnbp", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "gradcheck" in out.stdout


def test_saturation_demo_shows_the_vanishing_quadratic_residual(capsys):
    assert main(["demo", "saturation"]) == 0
    out = capsys.readouterr().out
    assert "-2.061e-09" in out and "-1.000e+00" in out


def test_gradcheck_command_reports_every_catalogued_layer(capsys):
    assert main(["gradcheck", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"Dense", "Sigmoid", "SoftmaxCrossEntropy"} <= set(report)
    assert all(err < 1e-6 for r in report.values() for err in r.values())


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
