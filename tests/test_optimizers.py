"""Optimisers and learning-rate schedules from config values."""

import numpy as np
import pytest
import keras

from dl_suite import optimizers as O
from dl_suite.registry import UnknownNameError


@pytest.mark.parametrize("name,cls", [("adam", keras.optimizers.Adam),
                                      ("adamw", keras.optimizers.AdamW),
                                      ("sgd", keras.optimizers.SGD),
                                      ("rmsprop", keras.optimizers.RMSprop)])
def test_build_each_optimizer(name, cls):
    optimizer = O.build_optimizer(name, 1e-3, clipnorm=1.0)
    assert isinstance(optimizer, cls) and optimizer.clipnorm == 1.0


def test_sgd_momentum_and_clipvalue_from_config():
    cfg = {"train": {"momentum": 0.8, "nesterov": True, "lr_schedule": "plateau"}}
    optimizer = O.build_optimizer("sgd", 0.1, clipvalue=0.3, cfg=cfg)
    assert optimizer.momentum == 0.8 and optimizer.nesterov and optimizer.clipvalue == 0.3
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.1)


def test_errors():
    with pytest.raises(ValueError, match="only one"):
        O.build_optimizer("adam", 1e-3, clipvalue=1.0, clipnorm=1.0)
    with pytest.raises(ValueError, match="positive"):
        O.build_optimizer("adam", 0.0)
    with pytest.raises(UnknownNameError, match="Did you mean 'adam'"):
        O.build_optimizer("adma", 1e-3)


def _rates(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])


def test_cosine_with_warmup():
    lr = O.build_schedule("cosine", 0.1, steps_per_epoch=10, epochs=12, warmup_epochs=2,
                          min_lr=0.001)
    rates = _rates(lr, [0, 9, 19, 20, 70, 119, 500])
    np.testing.assert_allclose(rates[:3], [0.1 / 20, 0.1 / 2, 0.1], rtol=1e-5)
    assert rates[3] == pytest.approx(0.1) and 0.001 < rates[4] < 0.1
    assert rates[-1] == pytest.approx(0.001, rel=1e-3)


def test_step_schedule_and_plateau():
    lr = O.build_schedule("step", 0.1, steps_per_epoch=5, epochs=30, step_epochs=2,
                          step_factor=0.5)
    np.testing.assert_allclose(_rates(lr, [0, 9, 10, 20]), [0.1, 0.1, 0.05, 0.025], rtol=1e-6)
    assert O.build_schedule("plateau", 0.1, steps_per_epoch=5, epochs=3) == 0.1
    assert O.schedule_name_from_config({"learning_rate_reducer": False}) == "constant"


def test_schedule_from_config_survives_save(tmp_path):
    cfg = {"train": {"lr_schedule": "cosine", "warmup_epochs": 1, "epochs": 3,
                     "steps_per_epoch": 2}}
    optimizer = O.build_optimizer("adamw", 1e-3, cfg=cfg)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer, "mse")
    model.fit(np.ones((4, 4)), np.ones((4, 1)), batch_size=2, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras").optimizer
    assert isinstance(restored._learning_rate, O.WarmUpSchedule)
    assert int(restored.iterations.numpy()) == 2
    assert float(keras.ops.convert_to_numpy(restored.learning_rate)) == pytest.approx(
        float(keras.ops.convert_to_numpy(optimizer.learning_rate)))


def test_budget_cosine_follows_the_time_budget_or_the_epochs_whichever_ends_first(tmp_path):
    from dl_suite.callbacks import BudgetCosine, build_callbacks

    train = {"lr_schedule": "cosine", "max_train_minutes": 10, "epochs": 100,
             "steps_per_epoch": 10, "lr_min": 0.001}
    assert O.uses_budget_cosine(train)
    # the optimiser gets a float rate (a CosineDecay over 100 epochs would hardly move)
    optimizer = O.build_optimizer("adam", 0.1, cfg={"train": train})
    assert isinstance(optimizer._learning_rate, keras.Variable)
    cb = BudgetCosine(0.1, 600.0, total_steps=1000, lr_min=0.001, warmup_steps=10)
    assert cb.rate(4, 0.0) == pytest.approx(0.1 * 5 / 10)              # warm-up, as WarmUpSchedule
    assert cb.rate(10, 0.0) == pytest.approx(0.1)                      # decay starts
    assert cb.rate(50, 300.0) == pytest.approx(0.001 + 0.099 * 0.5)   # half the budget
    assert cb.rate(505, 0.0) == pytest.approx(0.001 + 0.099 * 0.5)    # half the steps
    assert cb.rate(50, 900.0) == pytest.approx(0.001)                  # past the budget
    # fit sets the rate before each batch from the optimiser's step and the clock
    ticks = iter(np.arange(0.0, 1e4, 150.0))                           # 150 s per call
    cb = BudgetCosine(0.1, 600.0, total_steps=1000, clock=lambda: float(next(ticks)))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), batch_size=2, epochs=1, verbose=0,
              callbacks=[cb])
    # begin at 0 s, batch 1 at 150 s (p = 0.25), batch 2 at 300 s (p = 0.5)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05, abs=1e-6)
    # a resumed run continues its clock: 300 s of 600 spent before, 150 s into this session
    ticks = iter(np.arange(0.0, 1e4, 150.0))
    cb = BudgetCosine(0.1, 600.0, total_steps=1000, clock=lambda: float(next(ticks)),
                      seconds_before=300.0)
    cb.set_model(model)
    cb.on_train_begin()                                                # clock 0 s
    cb.on_train_batch_begin(0)                                         # 150 + 300 s: p = 0.75
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 * 0.5 * (1 + np.cos(
        0.75 * np.pi)), abs=1e-6)
    built = build_callbacks(tmp_path, {"train": train, "model": {"learning_rate": 0.1}},
                            learning_rate=0.2,  # e.g. scaled for 2 replicas
                            resume_state={"train_seconds": 42.0})
    budget = [c for c in built if isinstance(c, BudgetCosine)]
    assert len(budget) == 1 and budget[0].learning_rate == 0.2
    assert budget[0].seconds_before == 42.0
    assert not any(isinstance(c, keras.callbacks.ReduceLROnPlateau) for c in built)
    del train["max_train_minutes"]
    assert not O.uses_budget_cosine(train)        # no budget: the epoch-based CosineDecay
    optimizer = O.build_optimizer("adam", 0.1, cfg={"train": train})
    assert isinstance(optimizer._learning_rate, keras.optimizers.schedules.CosineDecay)


def test_cooldown_decays_the_rate_then_in_use_over_the_last_share_of_the_budget(tmp_path):
    from dl_suite.callbacks import Cooldown, ResumableState, build_callbacks

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    model.optimizer.build(model.trainable_variables)
    reducer = keras.callbacks.ReduceLROnPlateau()
    now = [0.0]
    cb = Cooldown(0.25, 1000.0, total_steps=10**6, pause=[reducer], clock=lambda: now[0])
    cb.set_model(model)
    lr = lambda: float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))  # noqa: E731
    cb.on_train_begin()
    now[0] = 500.0                              # p = 0.5 of the budget: the rate is left alone
    cb.on_train_batch_begin(0)
    assert lr() == pytest.approx(0.1) and cb.start_rate is None
    model.optimizer.learning_rate = 0.04        # e.g. the plateau reducer lowered it
    now[0] = 600.0                              # 2 epochs of 300 s: 3 fit, the run ends at 900 s
    cb.on_epoch_end(1)
    assert cb.expected_end(600.0, 2) == pytest.approx(900.0)
    now[0] = 675.0                              # p = 0.75: the decay starts from 0.04
    cb.on_train_batch_begin(0)
    assert cb.start_rate == pytest.approx(0.04) and lr() == pytest.approx(0.04)
    assert reducer.in_cooldown()                # held: it no longer changes the rate
    now[0] = 787.5                              # p = 0.875: halfway down the half cosine
    cb.on_train_batch_begin(1)
    assert lr() == pytest.approx(0.02, abs=1e-7)
    now[0] = 800.0                              # faster epochs: 4 of 200 s, 5 fit, end 1000 s
    cb.on_epoch_end(3)
    assert cb.expected_end(800.0, 4) == pytest.approx(1000.0)
    cb.on_train_batch_begin(2)                  # 800 / 1000 < 0.875: p stays, the rate too
    assert lr() == pytest.approx(0.02, abs=1e-7)
    now[0] = 1000.0                             # the expected end: lr_min
    cb.on_train_batch_begin(3)
    assert lr() == pytest.approx(0.0, abs=1e-7)
    # without a budget the steps of the configured epochs measure the progress
    model.optimizer.learning_rate = 0.1
    steps = Cooldown(0.5, None, total_steps=100, lr_min=0.01, clock=lambda: 0.0)
    steps.set_model(model)
    steps.on_train_begin()
    model.optimizer.iterations.assign(75)       # p = 0.75: q = 0.5
    steps.on_train_batch_begin(0)
    assert lr() == pytest.approx(0.01 + 0.09 * 0.5, abs=1e-7)
    # from the config: plateau gets it (holding its reducer), the start rate resumes
    train = {"lr_schedule": "plateau", "cooldown_fraction": 0.25, "max_train_minutes": 10,
             "epochs": 5, "steps_per_epoch": 4}
    built = build_callbacks(tmp_path, {"train": train, "model": {}},
                            resume_state={"callbacks": {"cooldown": {"start_rate": 0.03,
                                                                     "reached": 0.9}},
                                          "train_seconds": 420.0})
    (cooldown,) = [c for c in built if isinstance(c, Cooldown)]
    (plateau,) = [c for c in built if isinstance(c, keras.callbacks.ReduceLROnPlateau)]
    assert cooldown.pause == [plateau] and cooldown.max_seconds == 600.0
    assert cooldown.total_steps == 20 and cooldown.seconds_before == 420.0
    (state,) = [c for c in built if isinstance(c, ResumableState)]
    state.on_train_begin()
    assert cooldown.start_rate == 0.03 and cooldown.reached == 0.9
    train.update(lr_schedule="cosine")          # refused by the config; never doubled up here
    assert not any(isinstance(c, Cooldown) for c in build_callbacks(tmp_path, {"train": train}))
