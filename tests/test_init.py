"""Initialisers: variances, seeding through a passed Generator, errors."""

import numpy as np
import pytest

from cnnbp import init
from cnnbp import layers as L


@pytest.mark.parametrize("name,var", [
    ("lecun_normal", lambda i, o: 1 / i), ("lecun_uniform", lambda i, o: 1 / i),
    ("glorot_uniform", lambda i, o: 2 / (i + o)), ("glorot_normal", lambda i, o: 2 / (i + o)),
    ("he_uniform", lambda i, o: 2 / i), ("he_normal", lambda i, o: 2 / i),
])
def test_initialiser_variance(name, var):
    w = init.get(name)((400, 300), 300, 400, np.random.default_rng(0), np.float64)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w.var(), var(300, 400), rtol=0.05)


def test_layers_are_reproducible_from_a_seeded_generator():
    a = L.Dense(5, 4, rng=np.random.default_rng(7))
    b = L.Dense(5, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.data.dtype == np.float32


def test_unknown_initialiser_lists_the_valid_names():
    with pytest.raises(ValueError, match="he_normal"):
        init.get("bogus")


def test_global_numpy_state_is_untouched():
    np.random.seed(3)
    before = np.random.get_state()[1].copy()
    L.Dense(3, 3)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
