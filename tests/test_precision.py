"""[train] mixed_precision, jit_compile, steps_per_execution."""

import json
import logging
import zipfile

import keras
import numpy as np
import pytest

from dl_suite.config import load_config
from dl_suite.models import TINY_KWARGS, build_model
from dl_suite.precision import Precision, dtype_policy, resolve_precision
from dl_suite.workflows.train import train
from tests.workflows.conftest import TINY


def test_mixed_float16_without_gpu_falls_back_to_float32_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        fallback = resolve_precision("mixed_float16", gpu=False)
    assert fallback.policy == "float32" and "no GPU" in fallback.describe()
    assert "training in float32 instead" in caplog.text
    assert resolve_precision("mixed_float16", gpu=True) == Precision("mixed_float16", "mixed_float16")
    assert resolve_precision("mixed_bfloat16", gpu=False).policy == "mixed_bfloat16"
    with pytest.raises(ValueError, match="expected one of float32"):
        resolve_precision("float8")


@pytest.mark.parametrize("flags, policy", [
    ({"avx2", "avx512f", "avx512_bf16"}, "mixed_bfloat16"),  # machine B: AVX512-BF16
    ({"avx2", "amx_bf16", "amx_tile"}, "mixed_bfloat16"),
    ({"avx2", "fma", "avx512f"}, "float32"),  # machine A-like: bfloat16 would be emulated
    (set(), "float32"),  # flags unknown (not Linux): the safe choice
])
def test_bfloat16_if_native_follows_the_cpu_flags(flags, policy, caplog):
    with caplog.at_level(logging.INFO):
        chosen = resolve_precision("mixed_bfloat16_if_native", gpu=False, cpu_flags=frozenset(flags))
    assert chosen.policy == policy and chosen.requested == "mixed_bfloat16_if_native"
    assert f"training in {policy}" in caplog.text
    assert ("avx512_bf16" in chosen.describe()) == ("avx512_bf16" in flags)


def test_bfloat16_if_native_on_a_gpu_asks_its_compute_capability(monkeypatch):
    from dl_suite import precision

    for capable, policy in ((True, "mixed_bfloat16"), (False, "float32")):
        monkeypatch.setattr(precision, "gpu_has_bfloat16", lambda capable=capable: capable)
        # a CPU with AVX512-BF16 does not matter when training runs on the GPU
        chosen = resolve_precision("mixed_bfloat16_if_native", gpu=True, cpu_flags={"avx512_bf16"})
        assert chosen.policy == policy and "compute capability" in chosen.note


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    from dl_suite.io.provenance_files import cpu_flags

    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu AVX2 avx512_bf16\n\n"
                   "processor\t: 1\nflags\t\t: fpu avx2 avx512_bf16\n")
    assert cpu_flags(x86) == {"fpu", "avx2", "avx512_bf16"}
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n")
    assert cpu_flags(arm) == {"fp", "asimd", "bf16"}
    assert cpu_flags(tmp_path / "missing") is None


# unet and models whose output layers are not built by `blocks.output_head` (float32 itself);
# fcn builds in ~40 s under mixed_float16 on 2 CPU cores: slow-marked (run with -m slow).
@pytest.mark.parametrize("name", ["unet", pytest.param("fcn", marks=pytest.mark.slow), "xception_unet"])
def test_outputs_are_float32_and_float16_gets_loss_scaling(name):
    kw = dict(TINY_KWARGS[name])
    kw.pop("num_classes", None)
    shape = kw.pop("input_shape", (32, 32, 3))
    with dtype_policy(Precision("mixed_float16")):
        model = build_model(name, shape, 1, **kw)
        model.compile(optimizer="adam", loss="binary_crossentropy")
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert all(keras.backend.standardize_dtype(out.dtype) == "float32" for out in model.outputs)
    assert any(layer.dtype_policy.compute_dtype == "float16" for layer in model.layers)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_bfloat16_computes_in_bfloat16_with_float32_outputs():
    with dtype_policy(Precision("mixed_bfloat16")):
        model = build_model("unet", (32, 32, 1), 1, base_filters=4, num_layers=2)
    x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
    out = model(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.isfinite(keras.ops.convert_to_numpy(out)).all()
    conv = model.get_layer("enc0_conv1_conv")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"


@pytest.fixture
def project(tmp_path):
    from dl_suite.workflows.demo import make_demo_data
    from tests.workflows.conftest import CONFIG

    make_demo_data(tmp_path / "data", num_train=6, num_test=2, size=48)
    (tmp_path / "project.config").write_text(CONFIG)
    return tmp_path


def test_train_records_the_precision_and_compile_options(project, monkeypatch):
    monkeypatch.setattr("dl_suite.precision.has_gpu", lambda: False)
    cfg = load_config(project / "project.config", TINY + [
        "train.mixed_precision=mixed_float16", "train.jit_compile=False",
        "train.steps_per_execution=2", "train.epoch_change_infer=False",
        "train.dataset_splitter=False"])  # no validation: one step function to trace
    run_dir = train(cfg)  # no GPU: the documented fallback to float32
    precision = json.loads((run_dir / "run.json").read_text())["precision"]
    assert precision.startswith("float32 (mixed_float16 requested")
    with zipfile.ZipFile(run_dir / "model.keras") as saved:
        config = json.loads(saved.read("config.json"))
    assert config["compile_config"]["steps_per_execution"] == 2
    assert config["compile_config"]["jit_compile"] is False


def test_auto_jit_left_off_is_said_in_the_log_and_true_turns_xla_on(project, caplog):
    from dl_suite.workflows.train import build_compiled_model

    for value, expect_on in (("auto", None), ("True", True)):
        cfg = load_config(project / "project.config", TINY + [f"train.jit_compile={value}"])
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="dl_suite.workflows.train"):
            model = build_compiled_model(cfg, 1)
        if expect_on:
            assert model.jit_compile is True
        said = "XLA is off for this training" in caplog.text
        assert said == (not model.jit_compile), (value, model.jit_compile, caplog.text)


@pytest.mark.parametrize("xla_seconds, expect", [(0.5, True), (0.97, False)])
def test_fastest_jit_compile_times_a_copy_and_keeps_the_faster(monkeypatch, xla_seconds, expect):
    """Both modes really run (a copy of the model, compiled each way); a fake clock says how
    long each step took: XLA is kept only when at least 5 % faster than 1.0 s without it."""
    from dl_suite.precision import fastest_jit_compile

    model = build_model("unet", (32, 32, 1), 1, base_filters=4, num_layers=2)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    clock, ran = [0.0], []
    original = keras.Model.train_on_batch

    def timed(self, *args, **kwargs):
        assert self is not model  # the model itself is not trained
        ran.append(bool(self.jit_compile))
        out = original(self, *args, **kwargs)
        clock[0] += xla_seconds if self.jit_compile else 1.0
        return out

    monkeypatch.setattr(keras.Model, "train_on_batch", timed)
    rng = np.random.default_rng(0)
    batch = (rng.random((2, 32, 32, 1), dtype=np.float32),
             (rng.random((2, 32, 32, 1)) > 0.5).astype(np.float32))
    jit, seconds = fastest_jit_compile(model, batch, steps=2, timer=lambda: clock[0])
    assert jit is expect and seconds == {False: 1.0, True: pytest.approx(xla_seconds)}
    assert ran == [False] * 3 + [True] * 3  # one warm-up (compile) + 2 timed steps each
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_resumed_fastest_run_keeps_its_first_choice_without_timing(monkeypatch):
    from dl_suite import precision

    def never(*args, **kwargs):
        raise AssertionError("a resumed run must not time the step again")

    monkeypatch.setattr(precision, "fastest_jit_compile", never)
    model = build_model("unet", (32, 32, 1), 1, base_filters=4, num_layers=2)
    model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=False)
    train_section = {"jit_compile": "fastest"}
    assert precision.choose_jit_compile(train_section, model, None, earlier=True) == {}
    assert model.jit_compile is True
    assert precision.choose_jit_compile({"jit_compile": "auto"}, model, None) == {}
