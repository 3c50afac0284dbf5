"""The Trainer: determinism, history, divergence, evaluation, bit-equal resume."""

import json

import numpy as np
import pytest

from cnnbp import layers, losses, optim
from cnnbp.training import (CheckpointError, Compose, ElasticDistortion, RandomShift, Trainer,
                            TrainingDiverged, make_preprocess)

CLASSES = 4


def bar_images(n, seed, size=8):
    """Synthetic digits: uint8 (n, size, size) noise with a bright stroke whose
    direction is the class (horizontal, vertical, diagonal, anti-diagonal)."""
    g = np.random.default_rng(seed)
    labels = g.integers(0, CLASSES, n)
    images = g.integers(0, 60, (n, size, size)).astype(np.uint8)
    pos = g.integers(2, size - 2, n)
    for img, c, p in zip(images, labels, pos):
        if c == 0:
            img[p, 1:-1] = 255
        elif c == 1:
            img[1:-1, p] = 255
        elif c == 2:
            np.fill_diagonal(img, 255)
        else:
            np.fill_diagonal(np.fliplr(img), 255)
    return images, labels.astype(np.uint8)


def make_trainer(opt="sgd", seed=0, rng=1, augment=None, schedule=True, **kwargs):
    model = layers.Sequential(layers.Flatten(), layers.Dense(64, 24, rng=seed), layers.ReLU(),
                              layers.Dense(24, CLASSES, rng=seed + 1))
    params = list(model.parameters().values())
    if opt == "sgd":
        optimizer = optim.SGD(params, lr=0.05, momentum=0.9)
        sched = optim.StepLR(optimizer, step_size=1, gamma=0.7) if schedule else None
    else:
        optimizer = optim.Adam(params, lr=0.01)
        sched = optim.CosineLR(optimizer, t_max=3) if schedule else None
    kwargs.setdefault("batch_size", 32)
    return Trainer(model, losses.SoftmaxCrossEntropy(), optimizer, sched, rng=rng, augment=augment,
                   **kwargs)


def weights(trainer):
    return {k: p.data.copy() for k, p in trainer.model.parameters().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), f"parameter {k} differs"


TRAIN = bar_images(500, seed=0)
VAL = bar_images(200, seed=1)


# -- learning and determinism -----------------------------------------------------------------
def test_small_net_learns_the_synthetic_task_deterministically():
    a, b = make_trainer(), make_trainer()
    a.fit(*TRAIN, epochs=4, val=VAL, progress=False)
    b.fit(*TRAIN, epochs=4, val=VAL, progress=False)
    assert a.history[-1]["val_accuracy"] >= 0.95
    assert_same_weights(weights(a), weights(b))
    assert [r["val_loss"] for r in a.history] == [r["val_loss"] for r in b.history]


def test_another_seed_shuffles_differently():
    a, b = make_trainer(rng=1), make_trainer(rng=2)
    a.fit(*TRAIN, epochs=1, progress=False)
    b.fit(*TRAIN, epochs=1, progress=False)
    assert not np.array_equal(a.model[1].weight.data, b.model[1].weight.data)


def test_history_holds_one_record_per_epoch():
    t = make_trainer()
    history = t.fit(*TRAIN, epochs=3, val=VAL, progress=False)
    assert history is t.history and t.epoch == 3
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert [r["lr"] for r in history] == pytest.approx([0.05, 0.035, 0.0245])
    for r in history:
        assert set(r) == {"epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                          "seconds", "images_per_second", "eval_seconds"}
        assert 0 <= r["train_accuracy"] <= 1 and 0 <= r["val_accuracy"] <= 1
        assert r["seconds"] > 0 and r["images_per_second"] == pytest.approx(500 / r["seconds"])
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    json.dumps(history)  # JSON-ready


def test_without_val_the_val_fields_are_none():
    t = make_trainer()
    t.fit(*TRAIN, epochs=1, progress=False)
    assert t.history[0]["val_loss"] is None and t.history[0]["val_accuracy"] is None


def test_last_partial_batch_is_kept():
    t = make_trainer(opt="adam", batch_size=32)
    t.fit(TRAIN[0][:70], TRAIN[1][:70], epochs=2, progress=False)
    assert all(s["step"] == 2 * 3 for s in t.optimizer.state)   # ceil(70 / 32) = 3 steps per epoch


def test_fit_continues_to_the_total_epoch_count():
    t = make_trainer()
    t.fit(*TRAIN, epochs=1, progress=False)
    t.fit(*TRAIN, epochs=3, progress=False)
    assert [r["epoch"] for r in t.history] == [1, 2, 3]
    t.fit(*TRAIN, epochs=2, progress=False)   # already past: nothing to do
    assert t.epoch == 3


def test_progress_false_writes_nothing(capsys):
    make_trainer().fit(*TRAIN, epochs=1, val=VAL, progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_goes_to_stderr_only(capsys):
    make_trainer().fit(*TRAIN, epochs=1, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "epoch 1/1" in err and "img/s" in err and "loss=" in err and "acc=" in err


def test_quadratic_loss_with_one_hot_targets_and_sigmoid_outputs():
    model = layers.Sequential(layers.Flatten(), layers.Dense(64, 24, rng=0), layers.Tanh(),
                              layers.Dense(24, CLASSES, rng=1), layers.Sigmoid())
    opt = optim.SGD(list(model.parameters().values()), lr=1.0, momentum=0.9)
    t = Trainer(model, losses.Quadratic(), opt, batch_size=16, rng=0, outputs="probabilities",
                target_transform=lambda y: np.eye(CLASSES)[y])
    t.fit(*TRAIN, epochs=4, val=VAL, progress=False)
    assert t.history[-1]["val_accuracy"] >= 0.9


# -- divergence -----------------------------------------------------------------------------------
def test_nan_loss_stops_with_epoch_and_batch_and_keeps_the_last_checkpoint(tmp_path):
    images = TRAIN[0].astype(np.float32) / 255
    t = make_trainer(preprocess=lambda x: x)
    t.fit(images, TRAIN[1], epochs=2, checkpoint_dir=tmp_path, progress=False)
    saved = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    before = weights(t)
    images[123, 3, 3] = np.nan                      # poison one example
    with pytest.raises(TrainingDiverged) as info:
        t.fit(images, TRAIN[1], epochs=4, progress=False)
    err = info.value
    assert err.epoch == 3 and 1 <= err.batch <= 16 and np.isnan(err.value)
    message = str(err)
    assert "epoch 3" in message and f"batch {err.batch} of 16" in message and "nan" in message
    assert "epoch-002.json" in message and "untouched" in message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == saved
    assert t.epoch == 2 and len(t.history) == 2
    # The failing batch's step was not taken; earlier steps of epoch 3 were.
    assert all(np.all(np.isfinite(w)) for w in weights(t).values())
    assert not all(np.array_equal(before[k], v) for k, v in weights(t).items()) or err.batch == 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_exploding_learning_rate_is_reported_as_divergence(tmp_path):
    t = make_trainer(schedule=False)
    t.optimizer.lr = 1e30
    with pytest.raises(TrainingDiverged, match=r"training diverged at epoch 1.*no checkpoint"):
        t.fit(*TRAIN, epochs=3, checkpoint_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


# -- evaluation and prediction ------------------------------------------------------------------------
def identity_model():
    """A parameter-free model whose outputs are its inputs: the 'images' are the scores."""
    return layers.Sequential(layers.Flatten())


def test_evaluate_reports_accuracy_per_class_and_confusion_rows_by_true_class():
    scores = np.eye(3, dtype=np.float32)[[0, 1, 2, 2, 1, 0]]   # predictions 0 1 2 2 1 0
    labels = np.array([0, 1, 2, 1, 1, 2])
    t = Trainer(identity_model(), losses.SoftmaxCrossEntropy(), optim.SGD([layers.Dense(1, 1).weight], lr=0),
                preprocess=lambda x: x)
    result = t.evaluate(scores, labels, batch_size=4)
    assert result["confusion_matrix"] == [[1, 0, 0], [0, 2, 1], [1, 0, 1]]
    assert result["accuracy"] == pytest.approx(4 / 6) and result["error"] == pytest.approx(2 / 6)
    assert result["per_class_accuracy"] == pytest.approx([1.0, 2 / 3, 0.5])
    assert result["n"] == 6 and result["loss"] > 0
    json.dumps(result)


def test_evaluate_uses_eval_mode_and_restores_the_mode():
    t = make_trainer()
    seen = []
    layer = t.model[0]
    original = layer.forward

    def spy(x):
        seen.append(layer.training)
        return original(x)

    layer.forward = spy
    t.model.train()
    t.evaluate(*VAL, batch_size=64)
    assert seen == [False] * 4 and t.model.training


def test_predict_proba_rows_sum_to_one_and_agree_with_predict():
    t = make_trainer()
    t.fit(*TRAIN, epochs=2, progress=False)
    proba = t.predict_proba(VAL[0])
    assert proba.shape == (200, CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), t.predict(VAL[0]))


def test_distance_outputs_predict_the_nearest_class():
    distances = np.array([[3.0, 0.5, 2.0], [0.1, 4.0, 4.0]], dtype=np.float32)
    t = Trainer(identity_model(), losses.Quadratic(), optim.SGD([layers.Dense(1, 1).weight], lr=0),
                preprocess=lambda x: x, outputs="distances")
    np.testing.assert_array_equal(t.predict(distances), [1, 0])
    assert t.predict_proba(distances)[0].argmax() == 1


def test_make_preprocess_scales_pads_and_adds_the_channel_axis():
    x = np.zeros((2, 28, 28), dtype=np.uint8)
    x[:, 10, 10] = 255
    out = make_preprocess(pad=2, low=-0.1, high=1.175)(x)
    assert out.shape == (2, 1, 32, 32) and out.dtype == np.float32
    assert out[0, 0, 12, 12] == pytest.approx(1.175) and out[0, 0, 0, 0] == pytest.approx(-0.1)
    assert np.count_nonzero(out > 0) == 2


def test_bad_data_raises_clear_errors():
    t = make_trainer()
    with pytest.raises(ValueError, match=r"shape \(500,\), one per image"):
        t.fit(TRAIN[0], TRAIN[1][:-1], epochs=1, progress=False)
    with pytest.raises(TypeError, match="labels must be integers"):
        t.fit(TRAIN[0], TRAIN[1].astype(float), epochs=1, progress=False)


# -- checkpoints and resume ---------------------------------------------------------------------------
def test_each_epoch_writes_a_checkpoint_with_config_and_history(tmp_path):
    t = make_trainer(config={"model": "mlp", "hidden": 24})
    t.fit(*TRAIN, epochs=2, val=VAL, checkpoint_dir=tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-001.json", "epoch-001.safetensors", "epoch-002.json", "epoch-002.safetensors"]
    meta = json.loads((tmp_path / "epoch-002.json").read_text())
    assert meta["config"] == {"model": "mlp", "hidden": 24}
    assert meta["history"] == t.history
    assert meta["trainer"]["batch_size"] == 32 and meta["trainer"]["num_train"] == 500


AUGMENT = Compose(RandomShift(1), ElasticDistortion(alpha=3.0, sigma=2.0))


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_resumed_run_ends_with_bit_identical_weights(tmp_path, opt):
    straight = make_trainer(opt, augment=AUGMENT)
    straight.fit(*TRAIN, epochs=3, val=VAL, progress=False)

    first = make_trainer(opt, augment=AUGMENT)
    first.fit(*TRAIN, epochs=1, val=VAL, checkpoint_dir=tmp_path, progress=False)
    # A new process would start from fresh objects: other initial weights, another seed.
    resumed = make_trainer(opt, seed=50, rng=999, augment=AUGMENT)
    resumed.fit(*TRAIN, epochs=3, val=VAL, resume=tmp_path, progress=False)

    assert_same_weights(weights(straight), weights(resumed))
    for s, r in zip(straight.optimizer.state, resumed.optimizer.state):
        for key in s:
            assert np.array_equal(s[key], r[key])
    assert resumed.optimizer.lr == straight.optimizer.lr
    timing = {"seconds", "images_per_second", "eval_seconds"}
    strip = [{k: v for k, v in r.items() if k not in timing} for r in straight.history]
    assert [{k: v for k, v in r.items() if k not in timing} for r in resumed.history] == strip
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["epoch-001.json", "epoch-002.json",
                                                                "epoch-003.json"]


def test_trainer_resume_restores_epoch_history_and_rng(tmp_path):
    t = make_trainer()
    t.fit(*TRAIN, epochs=2, checkpoint_dir=tmp_path, progress=False)
    u = make_trainer(rng=5)
    ckpt = u.resume(tmp_path)
    assert ckpt.epoch == u.epoch == 2 and u.history == t.history
    assert u.rng.bit_generator.state == t.rng.bit_generator.state
    assert_same_weights(weights(t), weights(u))


def test_resume_with_another_configuration_is_refused(tmp_path):
    make_trainer(config={"model": "mlp"}).fit(*TRAIN, epochs=1, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="configuration"):
        make_trainer(config={"model": "other"}).resume(tmp_path)


def test_resume_into_a_mismatched_model_names_the_parameter(tmp_path):
    make_trainer().fit(*TRAIN, epochs=1, checkpoint_dir=tmp_path, progress=False)
    model = layers.Sequential(layers.Flatten(), layers.Dense(64, 16), layers.ReLU(), layers.Dense(16, CLASSES))
    opt = optim.SGD(list(model.parameters().values()), lr=0.05, momentum=0.9)
    t = Trainer(model, losses.SoftmaxCrossEntropy(), opt, optim.StepLR(opt, 1, 0.7))
    with pytest.raises(CheckpointError, match=r"'1\.weight' has shape \(24, 64\)"):
        t.fit(*TRAIN, epochs=2, resume=tmp_path, progress=False)
    assert t.epoch == 0


def test_fresh_run_refuses_a_directory_with_later_checkpoints(tmp_path):
    make_trainer().fit(*TRAIN, epochs=1, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="resume="):
        make_trainer().fit(*TRAIN, epochs=1, checkpoint_dir=tmp_path, progress=False)


def test_keep_checkpoints_prunes_old_epochs(tmp_path):
    make_trainer(keep_checkpoints=1).fit(*TRAIN, epochs=3, checkpoint_dir=tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-003.json", "epoch-003.safetensors"]
