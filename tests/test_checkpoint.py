"""Checkpoints: safetensors weights + JSON metadata, atomic, verified, no pickle."""

import hashlib
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from cnnbp import layers, optim
from cnnbp.training.checkpoint import (CheckpointError, atomic_write_bytes, latest_checkpoint,
                                      list_checkpoints, load_checkpoint, prune_checkpoints,
                                      save_checkpoint)


def mlp(hidden=8, seed=0, inputs=6, classes=3):
    return layers.Sequential(layers.Dense(inputs, hidden, rng=seed), layers.ReLU(),
                             layers.Dense(hidden, classes, rng=seed + 1))


def take_steps(model, opt, steps=3, seed=0):
    """A few optimiser steps on random gradients, so the optimiser has state."""
    g = np.random.default_rng(seed)
    for _ in range(steps):
        for p in model.parameters().values():
            p.grad[...] = g.normal(size=p.shape)
        opt.step()


def sgd_run(tmp_path, epoch=2, config=None):
    model = mlp()
    opt = optim.SGD(list(model.parameters().values()), lr=0.1, momentum=0.9)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    take_steps(model, opt)
    sched.step()
    sched.step()
    rng = np.random.default_rng(7)
    rng.random(3)
    path = save_checkpoint(tmp_path, epoch, model, opt, sched, rng,
                           history=[{"epoch": 1, "train_loss": 0.5}], config=config or {"model": "mlp"})
    return model, opt, sched, rng, path


# -- layout and contents ---------------------------------------------------------------------
def test_checkpoint_is_a_safetensors_and_a_json_file_named_by_epoch(tmp_path):
    model, opt, _, _, path = sgd_run(tmp_path, epoch=3)
    assert path == tmp_path / "epoch-003.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-003.json", "epoch-003.safetensors"]
    meta = json.loads(path.read_text())
    weights = (tmp_path / "epoch-003.safetensors").read_bytes()
    assert meta["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    assert meta["epoch"] == 3 and meta["config"] == {"model": "mlp"}
    assert meta["optimizer"]["type"] == "SGD" and meta["optimizer"]["hyper"]["momentum"] == 0.9
    assert meta["schedule"] == {"type": "StepLR", "epoch": 2, "base_lr": 0.1}
    assert meta["rng"]["bit_generator"] == "PCG64"
    tensors = load_file(tmp_path / "epoch-003.safetensors")
    assert set(tensors) == set(model.parameters()) | {f"optim.{i}.momentum_buffer" for i in range(4)}


def test_no_temporary_files_are_left_behind(tmp_path):
    sgd_run(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_atomic_write_replaces_the_whole_file(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old content")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


# -- round trips ------------------------------------------------------------------------------
def test_round_trip_restores_weights_sgd_momentum_and_schedule(tmp_path):
    model, opt, sched, _, path = sgd_run(tmp_path)
    model2 = mlp(seed=10)
    opt2 = optim.SGD(list(model2.parameters().values()), lr=0.1, momentum=0.9)
    sched2 = optim.StepLR(opt2, step_size=1, gamma=0.5)
    load_checkpoint(path).restore(model2, opt2, sched2)
    for name, p in model.parameters().items():
        assert np.array_equal(model2.parameters()[name].data, p.data), name
    for s, s2 in zip(opt.state, opt2.state):
        assert np.array_equal(s["momentum_buffer"], s2["momentum_buffer"])
    assert sched2.epoch == 2 and opt2.lr == opt.lr == 0.025


def test_round_trip_restores_adam_moments_and_step_counts(tmp_path):
    model = mlp()
    opt = optim.Adam(list(model.parameters().values()), lr=0.01, betas=(0.8, 0.99))
    take_steps(model, opt, steps=5)
    path = save_checkpoint(tmp_path, 1, model, opt)
    model2 = mlp(seed=3)
    opt2 = optim.Adam(list(model2.parameters().values()))
    load_checkpoint(tmp_path).restore(model2, opt2)
    assert opt2.betas == (0.8, 0.99) and opt2.lr == 0.01
    for s, s2 in zip(opt.state, opt2.state):
        assert s2["step"] == s["step"] == 5 and isinstance(s2["step"], int)
        assert np.array_equal(s["exp_avg"], s2["exp_avg"])
        assert np.array_equal(s["exp_avg_sq"], s2["exp_avg_sq"])
    # Both continue identically.
    take_steps(model, opt, steps=2, seed=9)
    take_steps(model2, opt2, steps=2, seed=9)
    for name, p in model.parameters().items():
        assert np.array_equal(model2.parameters()[name].data, p.data)
    assert json.loads(path.read_text())["optimizer"]["state"][0]["step"] == 5


def test_rng_state_round_trip_continues_the_same_stream(tmp_path):
    from cnnbp.training.checkpoint import set_rng_state

    _, _, _, rng, path = sgd_run(tmp_path)
    restored = set_rng_state(np.random.default_rng(0), load_checkpoint(path).meta["rng"])
    np.testing.assert_array_equal(restored.permutation(50), rng.permutation(50))


def test_history_and_config_come_back(tmp_path):
    *_, path = sgd_run(tmp_path, config={"model": "lenet5", "variant": "classic"})
    ckpt = load_checkpoint(path)
    assert ckpt.epoch == 2
    assert ckpt.config == {"model": "lenet5", "variant": "classic"}
    assert ckpt.history == [{"epoch": 1, "train_loss": 0.5}]


# -- finding checkpoints ------------------------------------------------------------------------
def test_a_directory_resolves_to_its_highest_complete_epoch(tmp_path):
    model = mlp()
    for epoch in (1, 2, 10):
        save_checkpoint(tmp_path, epoch, model)
    # Weights of epoch 11 without their JSON: an interrupted save, not a checkpoint.
    (tmp_path / "epoch-011.safetensors").write_bytes(b"partial")
    assert [e for e, _ in list_checkpoints(tmp_path)] == [1, 2, 10]
    assert latest_checkpoint(tmp_path).name == "epoch-010.json"
    assert load_checkpoint(tmp_path).epoch == 10
    assert load_checkpoint(tmp_path / "epoch-002.safetensors").epoch == 2


def test_prune_keeps_the_most_recent(tmp_path):
    model = mlp()
    for epoch in range(1, 5):
        save_checkpoint(tmp_path, epoch, model)
    prune_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-003.json", "epoch-003.safetensors", "epoch-004.json", "epoch-004.safetensors"]


def test_empty_directory_or_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "epoch-001.json")


# -- corruption -----------------------------------------------------------------------------------
def test_flipped_byte_in_weights_fails_the_checksum(tmp_path):
    *_, path = sgd_run(tmp_path)
    weights = tmp_path / "epoch-002.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum") as info:
        load_checkpoint(path)
    assert "epoch-002.safetensors" in str(info.value)


def test_truncated_weights_fail_the_checksum(tmp_path):
    *_, path = sgd_run(tmp_path)
    weights = tmp_path / "epoch-002.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path)


def test_missing_weights_file_is_named(tmp_path):
    *_, path = sgd_run(tmp_path)
    (tmp_path / "epoch-002.safetensors").unlink()
    with pytest.raises(CheckpointError, match="weights file .*missing"):
        load_checkpoint(path)


def test_truncated_json_is_a_checkpoint_error(tmp_path):
    *_, path = sgd_run(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path)


def test_json_that_is_not_a_cnnbp_checkpoint_is_refused(tmp_path):
    path = tmp_path / "epoch-001.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(CheckpointError, match="not a cnnbp checkpoint"):
        load_checkpoint(path)


def test_weights_file_outside_the_directory_is_refused(tmp_path):
    *_, path = sgd_run(tmp_path)
    meta = json.loads(path.read_text())
    meta["weights_file"] = "../elsewhere.safetensors"
    path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="file name in the same directory"):
        load_checkpoint(path)


def test_loader_never_unpickles(tmp_path, monkeypatch):
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    *_, path = sgd_run(tmp_path)
    load_checkpoint(path)


# -- mismatched models ---------------------------------------------------------------------------
def test_mismatched_shape_names_the_parameter_and_changes_nothing(tmp_path):
    *_, path = sgd_run(tmp_path)
    other = mlp(hidden=5, seed=4)
    before = {k: p.data.copy() for k, p in other.parameters().items()}
    with pytest.raises(CheckpointError, match=r"'0\.weight' has shape \(8, 6\) in the checkpoint, "
                                              r"the model expects \(5, 6\)"):
        load_checkpoint(path).restore(other)
    for k, p in other.parameters().items():
        assert np.array_equal(p.data, before[k])


def test_missing_and_unexpected_parameters_are_named(tmp_path):
    *_, path = sgd_run(tmp_path)
    deeper = layers.Sequential(layers.Dense(6, 8), layers.ReLU(), layers.Dense(8, 3), layers.Dense(3, 3))
    with pytest.raises(CheckpointError, match=r"lacks the model's parameter\(s\) '3\.weight'"):
        load_checkpoint(path).restore(deeper)
    no_bias = layers.Sequential(layers.Dense(6, 8), layers.ReLU(), layers.Dense(8, 3, bias=False))
    with pytest.raises(CheckpointError, match=r"holds parameter\(s\) '2\.bias' that the model does not have"):
        load_checkpoint(path).restore(no_bias)


def test_mismatched_dtype_is_refused(tmp_path):
    *_, path = sgd_run(tmp_path)
    model64 = layers.Sequential(layers.Dense(6, 8, dtype=np.float64), layers.ReLU(),
                                layers.Dense(8, 3, dtype=np.float64))
    with pytest.raises(CheckpointError, match="float32 in the checkpoint"):
        load_checkpoint(path).restore(model64)


def test_other_optimiser_or_schedule_is_refused(tmp_path):
    *_, path = sgd_run(tmp_path)
    model = mlp()
    adam = optim.Adam(list(model.parameters().values()))
    with pytest.raises(CheckpointError, match="optimiser SGD, this run uses Adam"):
        load_checkpoint(path).restore(model, adam)
    sgd = optim.SGD(list(model.parameters().values()), lr=0.1, momentum=0.9)
    with pytest.raises(CheckpointError, match="schedule StepLR, this run uses CosineLR"):
        load_checkpoint(path).restore(model, sgd, optim.CosineLR(sgd, t_max=5))
