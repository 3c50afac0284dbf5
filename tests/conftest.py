import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def torch_or_skip():
    """Import torch (a reference for numbers only), or skip the test cleanly."""
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
