"""Every shared legacy config loads unchanged, builds its model small and trains one step."""

import keras
import numpy as np
import pytest

from dl_suite.config import load_config
from tests.conftest import SHARED

LEGACY = sorted((SHARED / "legacy_configs").glob("*/*")) if SHARED.is_dir() else []
LEGACY = [p for p in LEGACY if p.suffix in (".config", ".json")]
# 67M-parameter backbone whatever the width: its config must load; building it is test_zoo's job
# (with -m slow).
BIG = {"efficientnetb7_unet"}


@pytest.fixture(scope="module")
def tiny_batch():
    """One synthetic batch maker shared by all files: a bright disc on noise, 2 images."""
    def make(shape, num_classes):
        rng = np.random.default_rng(0)
        x = rng.random((2, *shape), dtype=np.float32) * 0.2
        yy, xx = np.mgrid[: shape[-3], : shape[-2]]
        disc = ((yy - shape[-3] / 2) ** 2 + (xx - shape[-2] / 2) ** 2) < (shape[-2] / 4) ** 2
        x[..., disc, :] += 0.7
        y = np.broadcast_to(disc, (2, *shape[:-1])).astype(np.float32)[..., None]
        return x, (y if num_classes == 1 else np.minimum(y, num_classes - 1))
    return make


def _tiny_config(cfg):
    from dl_suite.models import TINY_KWARGS, input_multiple

    name = cfg["model"]["name"]
    tiny = {k: v for k, v in TINY_KWARGS[name].items() if k != "input_shape"}
    side = max(32, input_multiple(name, **{**cfg["model"], **tiny}))
    cfg = cfg.replace("model", image_height=side, image_width=side, **tiny)
    # weights of the user's full-size model (notebook paths such as /content/...) cannot fit
    cfg = cfg.replace("train", pretrained_weights=None)
    return cfg.replace("generator", patch_size=[side, side])


@pytest.mark.parametrize("path", LEGACY, ids=[p.name for p in LEGACY])
def test_legacy_config_trains_one_step(path, tiny_batch):
    from dl_suite.workflows.train import build_compiled_model

    cfg = load_config(path)  # unchanged: no --set, no edited copy
    if cfg["model"]["name"] in BIG:
        pytest.skip(f"{cfg['model']['name']}: loads; too big to train here (test_zoo -m slow)")
    cfg = _tiny_config(cfg)
    channels = cfg["model"]["image_channels"]
    model = build_compiled_model(cfg, channels)
    model.run_eagerly = True  # one step: tracing a graph would cost more than the step
    shape = model.input_shape[1:]
    x, y = tiny_batch(shape, cfg["model"]["num_classes"])
    outputs = model.outputs
    if len(outputs) > 1:
        y = {name: y for name in model.output_names}
    elif len(shape) == 4 and len(outputs[0].shape) == 4:  # video model predicting one frame
        y = y[:, 0]
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights[:2]]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"])
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights[:2]]
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    keras.backend.clear_session()
