"""Callbacks: run-folder outputs, resume state, soft stop, NaN guard, seeds, fine-tuning."""

import csv

import numpy as np
import pytest
import keras

from dl_suite import callbacks as C
from dl_suite.losses import get_loss
from dl_suite.metrics import get_metrics
from dl_suite.optimizers import build_optimizer


def _model(num_classes=1, name_prefix="enc1"):
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name=f"{name_prefix}_conv")(inputs)
    outputs = keras.layers.Conv2D(num_classes, 1, activation="sigmoid", name="head")(x)
    return keras.Model(inputs, outputs)


def _compiled(cfg=None, lr=1e-2):
    model = _model()
    model.compile(build_optimizer("adam", lr, cfg=cfg, steps_per_epoch=2),
                  loss=get_loss("bce_dice"), metrics=get_metrics(["dice_coef"]))
    return model


def _data(n=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 16, 16, 1)).astype("float32")
    return x, (x > 0.5).astype("float32")


def _cfg(**train):
    base = {"patience": 5, "reducer_patience": 1, "reducer_factor": 0.5, "save_freq": 2,
            "num_infer_images": 2, "epoch_change_infer": True, "save_best_only": True,
            "learning_rate_reducer": True}
    base.update(train)
    return {"model": {"learning_rate": 1e-2}, "train": base}


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_full_run_writes_run_folder(tmp_path):
    x, y = _data()
    cfg = _cfg()
    model = _compiled()
    callbacks = C.build_callbacks(tmp_path, cfg, preview_images=x[:3], preview_masks=y[:3])
    model.fit(x, y, validation_data=(x, y), batch_size=2, epochs=2, callbacks=callbacks, verbose=0)
    for name in ("model.keras", "model_last.keras", "history.csv", "curves.png",
                 "epoch_change_infer/epoch_001.png", "epoch_change_infer/epoch_002.png",
                 "checkpoints/epoch_002.keras", "resume/state.json",
                 "resume/model_epoch_002.keras"):
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / "resume/model_epoch_001.keras").exists()
    rows = _rows(tmp_path / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"loss", "val_loss", "dice_coef", "val_dice_coef", "learning_rate"} <= set(rows[0])
    grid = keras.utils.load_img(tmp_path / "epoch_change_infer/epoch_002.png")
    assert grid.size[1] >= 2 * 16  # two preview rows (num_infer_images=2)


def test_resume_restores_epoch_optimizer_and_callback_state(tmp_path):
    x, y = _data()
    cfg = _cfg(save_freq=None)
    model = _compiled()
    callbacks = C.build_callbacks(tmp_path, cfg)
    model.fit(x, y, validation_data=(x, y), batch_size=2, epochs=2, callbacks=callbacks, verbose=0)
    reducer = next(c for c in callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau))

    state = C.load_resume_state(tmp_path)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    resumed = state["model"]
    assert int(resumed.optimizer.iterations.numpy()) == 4
    np.testing.assert_allclose(resumed.get_weights()[0], model.get_weights()[0])
    assert state["callbacks"]["reduce_lr"]["wait"] == reducer.wait

    callbacks = C.build_callbacks(tmp_path, cfg, resume_state=state)
    seen = {}
    probe = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.update(
            wait=next(c for c in callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau)).wait
        )
    )
    resumed.fit(x, y, validation_data=(x, y), batch_size=2, epochs=3, initial_epoch=2,
                callbacks=callbacks + [probe], verbose=0)
    assert seen["wait"] == reducer.wait
    assert [r["epoch"] for r in _rows(tmp_path / "history.csv")] == ["1", "2", "3"]
    assert C.load_resume_state(tmp_path)["epoch"] == 3


def test_weight_averaging_validates_and_checkpoints_the_average_and_resumes_the_raw_weights(
        tmp_path):
    x, y = _data()
    cfg = _cfg(save_freq=None, ema_momentum=0.5)
    model = _compiled(cfg, lr=0.05)
    assert model.optimizer.use_ema and model.optimizer.ema_momentum == 0.5
    callbacks = C.build_callbacks(tmp_path, cfg)
    kinds = [type(c).__name__ for c in callbacks]
    assert kinds.index("AveragedWeightsIn") < kinds.index("AtomicCheckpoint")
    assert kinds.index("AveragedWeightsOut") == kinds.index("ResumableState") - 1
    history = model.fit(x, y, validation_data=(x, y), batch_size=2, epochs=2,
                        callbacks=callbacks, verbose=0)

    last = keras.saving.load_model(tmp_path / "model_last.keras", compile=False)
    average = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    for saved, averaged, final in zip(last.trainable_weights, average, model.trainable_weights):
        np.testing.assert_allclose(saved.numpy(), averaged, rtol=1e-6)  # checkpoint = average
        np.testing.assert_allclose(final.numpy(), averaged, rtol=1e-6)  # fit ends on it too
    # Validation scored the averaged weights (no batch norm, same images: same loss).
    loss = get_loss("bce_dice")(keras.ops.convert_to_tensor(y), last.predict(x, verbose=0))
    assert float(loss) == pytest.approx(history.history["val_loss"][-1], rel=1e-4)

    state = C.load_resume_state(tmp_path)
    raw = state["model"].trainable_weights[0].numpy()
    assert np.abs(raw - last.trainable_weights[0].numpy()).max() > 1e-4  # not the average
    restored = state["model"].optimizer._model_variables_moving_average[0].numpy()
    np.testing.assert_allclose(restored, last.trainable_weights[0].numpy(), rtol=1e-6)


def test_no_state_before_first_epoch(tmp_path):
    assert C.load_resume_state(tmp_path) is None


def test_soft_stop_file_ends_after_epoch(tmp_path):
    x, y = _data()
    (tmp_path / "STOP").write_text("old")  # left over: ignored
    import os
    os.utime(tmp_path / "STOP", (0, 0))
    touch = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: (tmp_path / "STOP").write_text("x") if epoch == 1 else None
    )
    model = _compiled()
    callbacks = [touch] + C.build_callbacks(tmp_path, _cfg(save_freq=None), has_validation=False)
    history = model.fit(x, y, batch_size=2, epochs=5, callbacks=callbacks, verbose=0)
    assert len(history.epoch) == 2


def test_time_budget_stops_before_the_epoch_that_would_overrun(tmp_path):
    import time

    stop = C.SoftStop(tmp_path / "STOP", max_seconds=10.0)
    stop.set_model(_model())
    stop.model.stop_training = False  # what `fit` sets before the first epoch
    stop.on_train_begin()
    for epoch, elapsed in enumerate((4.0, 6.0, 8.0)):  # mean epoch 4, 3, 2.7 s
        stop._started = time.time() - elapsed
        stop.on_epoch_end(epoch)
        assert stop.model.stop_training == (epoch == 2), (epoch, elapsed)
    assert stop.stopped_epoch == 2
    cfg = _cfg(save_freq=None, max_train_minutes=0.5)
    built = [c for c in C.build_callbacks(tmp_path, cfg, has_validation=False)
             if isinstance(c, C.SoftStop)]
    assert built[0].max_seconds == 30.0


def test_time_budget_counts_the_earlier_sessions_of_a_resumed_run(tmp_path):
    import time

    stop = C.SoftStop(tmp_path / "STOP", max_seconds=10.0, seconds_before=6.0)
    stop.set_model(_model())
    stop.model.stop_training = False
    stop.on_train_begin()
    stop._started = time.time() - 1.5       # 6 + 1.5 + 1.5 s <= 10: one more epoch fits
    stop.on_epoch_end(0)
    assert not stop.model.stop_training
    stop._started = time.time() - 3.0       # 6 + 3 + 1.5 s > 10 (without the 6 s: 4.5)
    stop.on_epoch_end(1)
    assert stop.model.stop_training and stop.stopped_epoch == 1
    cfg = _cfg(save_freq=None, max_train_minutes=0.5)
    built = C.build_callbacks(tmp_path, cfg, has_validation=False,
                              resume_state={"train_seconds": 12.5})
    assert [c.seconds_before for c in built if isinstance(c, C.SoftStop)] == [12.5]
    saver = next(c for c in built if isinstance(c, C.ResumableState))
    saver.on_train_begin()
    saver._started -= 3.0                   # this session has trained 3 s
    assert saver.train_seconds() == pytest.approx(15.5, abs=0.5)


def test_nan_guard_restores_last_good_weights(tmp_path):
    x, y = _data(6)
    y[4:] = np.nan  # third batch is poison
    model = _compiled()
    initial = [w.copy() for w in model.get_weights()]
    guard = C.NaNGuard()
    model.fit(x, y, batch_size=2, epochs=3, shuffle=False, callbacks=[guard], verbose=0)
    assert guard.stopped
    for got, want in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(got, want)


def test_same_seed_same_weights():
    x, y = _data()

    def run():
        C.set_global_seed(7)
        model = _compiled()
        model.fit(x, y, batch_size=2, epochs=1, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_warmup_callback_sets_rates():
    model = _compiled()
    warm = C.WarmUpCallback(0.1, 3)
    warm.set_model(model)
    rates = []
    for epoch in range(5):
        warm.on_epoch_begin(epoch)
        rates.append(float(model.optimizer.learning_rate.numpy()))
    np.testing.assert_allclose(rates, [0.025, 0.05, 0.075, 0.1, 0.1], rtol=1e-6)


def test_preview_grid_handles_sizes_and_tiled_predict():
    model = _model()
    images = [np.zeros((16, 16, 1), "float32"), np.ones((40, 24, 1), "float32")]
    preds = [C.predict_padded(model, im) for im in images]
    assert preds[1].shape == (16, 16, 1)  # fixed-input model: crop to its input size
    tiled = C.tiled_predict_fn((16, 16), input_multiple=1)
    full = tiled(model, images[1])
    assert full.shape == (40, 24, 1)
    grid = C.make_preview_grid(images, [preds[0], full], masks=images)
    assert grid.dtype == np.uint8 and grid.shape[-1] == 3 and grid.shape[0] >= 56


def test_pretrained_weights_new_head_and_frozen_encoder(tmp_path):
    source = _model()
    source.save(tmp_path / "prev.keras")
    target = _model(num_classes=3)
    report = C.load_pretrained_weights(target, tmp_path / "prev.keras", freeze_encoder=True)
    assert report["loaded"] == ["enc1_conv"] and report["skipped"] == ["head"]
    assert report["frozen"] == 1 and not target.get_layer("enc1_conv").trainable
    np.testing.assert_array_equal(target.get_layer("enc1_conv").get_weights()[0],
                                  source.get_layer("enc1_conv").get_weights()[0])
    with pytest.raises(ValueError, match="does not exist"):
        C.load_pretrained_weights(target, tmp_path / "missing.keras")


def test_freezing_is_one_rule_with_and_without_pretrained_weights(tmp_path):
    """freeze_encoder freezes the same layers whether or not pretrained weights are loaded."""
    from dl_suite.models import ENCODER_PREFIXES, build_model

    kw = dict(num_layers=2, base_filters=2)
    source = build_model("unet", (32, 32, 1), 1, **kw)
    source.save(tmp_path / "prev.keras")
    built = build_model("unet", (32, 32, 1), 1, freeze_encoder=True, **kw)
    tuned = build_model("unet", (32, 32, 1), 1, **kw)
    report = C.load_pretrained_weights(tuned, tmp_path / "prev.keras", freeze_encoder=True)
    frozen = lambda m: sorted(layer.name for layer in m.layers if not layer.trainable)
    assert frozen(built) == frozen(tuned) and report["frozen"] == len(frozen(built)) > 0
    assert all(name.startswith(ENCODER_PREFIXES) for name in frozen(built))
    assert "stem" in ENCODER_PREFIXES and not hasattr(C, "ENCODER_PREFIXES")


def test_atomic_checkpoint_never_leaves_a_partial_file(tmp_path, monkeypatch):
    """A save that dies half-way leaves the previous model.keras intact and no temp file."""
    model = _model()
    path = tmp_path / "model.keras"
    cb = C.AtomicCheckpoint(path, monitor="loss", mode="min", save_best_only=True)
    cb.set_model(model)
    cb.on_epoch_end(0, {"loss": 1.0})
    good = path.read_bytes()
    cb.on_epoch_end(1, {"loss": 2.0})  # not better: not saved
    assert path.read_bytes() == good and cb.best == 1.0

    def dying_save(self, filepath, *a, **k):
        with open(filepath, "wb") as f:
            f.write(b"PK half a zip")
        raise KeyboardInterrupt("killed during save")

    monkeypatch.setattr(type(model), "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        cb.on_epoch_end(2, {"loss": 0.5})
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    monkeypatch.undo()
    weights = C.AtomicCheckpoint(tmp_path / "model.weights.h5")
    weights.set_model(model)
    weights.on_epoch_end(0, {})
    fresh = _model()
    fresh.load_weights(tmp_path / "model.weights.h5")
    np.testing.assert_array_equal(fresh.get_weights()[0], model.get_weights()[0])


def test_monitor_mode():
    assert C.monitor_mode("val_dice_coef") == "max"
    assert C.monitor_mode("val_loss") == "min"
    assert C.monitor_mode("val_loss", "max") == "max"


def test_previews_use_the_models_input_multiple(tmp_path):
    """The preview padding comes from the models registry (the one rule), not a constant."""
    from dl_suite.models import input_multiple

    images = [np.zeros((20, 20, 1), np.float32)]
    for layers in (2, 4):
        model_cfg = {"name": "unet", "num_layers": layers, "learning_rate": 1e-2}
        cfg = {"model": model_cfg, "train": {"epoch_change_infer": True,
                                             "epoch_change_tiledinfer": True}}
        callbacks = C.build_callbacks(tmp_path, cfg, preview_images=images)
        previews = [cb for cb in callbacks if isinstance(cb, C.EpochChangeInference)]
        expected = input_multiple("unet", num_layers=layers)
        assert previews[0].predict_fn.keywords["multiple"] == expected == 2 ** (layers - 1)
        model = keras.Sequential([keras.Input((None, None, 1)),
                                  keras.layers.MaxPooling2D(expected),
                                  keras.layers.UpSampling2D(expected)])
        assert previews[0].predict_fn(model, images[0]).shape == (20, 20, 1)


def test_run_folder_names_have_one_home():
    """The callbacks write the files `workflows.runs` looks for: the names are defined once."""
    from dl_suite.callbacks import common
    from dl_suite.workflows import runs

    for name in ("BEST_MODEL", "LAST_MODEL", "HISTORY_FILE", "CURVES_FILE", "RESUME_DIR",
                 "STATE_FILE", "CHECKPOINT_DIR"):
        assert getattr(common, name) is getattr(runs, name)
    assert runs.checkpoint_names(True) == ("model.weights.h5", "model_last.weights.h5")
    cfg = {"model": {"learning_rate": 1e-2}, "train": {"save_weights_only": True}}
    paths = [cb.path.name for cb in C.build_callbacks("unused", cfg)
             if isinstance(cb, C.AtomicCheckpoint)]
    assert paths == list(runs.checkpoint_names(True))
