"""Training and inference throughput of the full dl-suite path against a plain Keras loop.

    python3 benchmarks/train_throughput.py                     # 256 px, base 16, depth 4, batch 8
    python3 benchmarks/train_throughput.py --quick             # a one-minute smoke run
    python3 benchmarks/train_throughput.py --jit false --batch-norm off --workers 2
    python3 benchmarks/train_throughput.py --precision mixed_bfloat16

Side by side in one process, same U-Net architecture (`build_model("unet", ...)`):
- full: the `dl-suite train` path: the config, images read from disk, `SegmentationDataset`
  (PyDataset) with the default augmentor, the configured loss and metrics, every callback
  of a run (checkpoints, history, previews, resumable state, ...) writing into a run folder;
- plain: `model.compile("adam", "binary_crossentropy")` (Keras defaults) and `model.fit` on
  in-memory float32 arrays.
The two alternate one epoch at a time (`--rounds`, the first one is warm-up and not counted);
each epoch is timed from its start to its last training batch (the previews and checkpoints
written at the end of an epoch are not in the figure; validation is off). The best epoch of
each counts. Inference: `keras_predictor` (what tiled inference calls per batch of tiles)
against `model.predict` on the same arrays.

Efficiency: FLOPs per image from the layers (`dl_suite.models.flops`; training = 3x forward)
times images/s, as a fraction of the SGEMM peak measured here (best of numpy and the backend's
float32 matmul, measured before and between the rounds). On a shared machine the absolute figures move with the load; the ratios are
measured side by side and move much less.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

CONFIG = """\
[model]
model = "unet"
image_channels = 1
num_classes = 1
loss = "bce_dice"
metrics = ["dice_coef", "iou"]

[train]
model_dir = "./models"
image_datapath = "./data/train/images"
mask_datapath = "./data/train/masks"
dataset_splitter = False
"""


def sgemm_peak(n=2048, repeats=5):
    """Best float32 matmul rate (FLOP/s) of numpy and of the Keras backend: (best, by name)."""
    import keras

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    best = {}
    for name, fn in (("numpy", lambda: a @ a),
                     ("keras", lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a, a)))):
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        best[name] = 2 * n**3 / min(times)
    return max(best.values()), best


def epoch_timer():
    """A Keras callback recording (batches, seconds from epoch start to its last batch)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = self._last = time.perf_counter()
            self._batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self._last, self._batches = time.perf_counter(), self._batches + 1

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append((self._batches, self._last - self._start))

    return EpochTimer()


def full_path(folder, args):
    """(model, fit(epoch) callable, timer, sample images) of the dl-suite training path."""
    from dl_suite.callbacks import build_callbacks
    from dl_suite.config import load_config
    from dl_suite.workflows import runs
    from dl_suite.workflows.train import (
        build_compiled_model,
        for_outputs,
        load_training_data,
        make_datasets,
    )

    overrides = [
        f"model.image_height={args.size}", f"model.image_width={args.size}",
        f"model.base_filters={args.base}", f"model.num_layers={args.depth}",
        f"model.batch_norm={args.batch_norm == 'on'}", f"train.batch_size={args.batch}",
        f"train.steps_per_epoch={args.steps}", f"train.epochs={args.rounds}",
        f"train.jit_compile={_jit(args.jit)}", f"train.mixed_precision={args.precision}",
        f"generator.workers={args.workers}", "train.patience=0",
        "train.learning_rate_reducer=False",
    ]
    cfg = load_config(folder / "project.config", overrides)
    train_samples, _ = load_training_data(cfg)
    train_ds, _ = make_datasets(cfg, train_samples, None)
    from dl_suite.precision import dtype_policy, resolve_precision

    with dtype_policy(resolve_precision(args.precision)):
        model = build_compiled_model(cfg, 1)
    run_dir = runs.create_run(folder / "models")
    callbacks = build_callbacks(run_dir, cfg, preview_images=train_samples[1][:2],
                                preview_masks=train_samples[2][:2], has_validation=False)
    timer = epoch_timer()
    data = for_outputs(train_ds, model)

    def fit(epoch):
        model.fit(data, epochs=epoch + 1, initial_epoch=epoch, callbacks=[*callbacks, timer],
                  verbose=0, shuffle=False)

    return model, fit, timer, np.stack(train_samples[1][: args.batch * 2]).astype(np.float32), cfg


def plain_path(images, masks, args, cfg):
    """(model, fit(epoch) callable, timer): the same U-Net, Keras defaults, in-memory arrays."""
    from dl_suite.precision import Precision, dtype_policy, resolve_precision

    policy = "float32" if args.precision == "mixed_float16" else resolve_precision(args.precision).policy
    with dtype_policy(Precision(policy)):
        model = same_architecture(cfg, args)
    model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=_jit(args.jit))
    timer = epoch_timer()
    count = args.steps * args.batch
    x, y = images[:count], masks[:count]

    def fit(epoch):
        model.fit(x, y, batch_size=args.batch, epochs=epoch + 1, initial_epoch=epoch,
                  callbacks=[timer], verbose=0)

    return model, fit, timer


def same_architecture(cfg, args):
    """The configured U-Net built directly (the full path's builder arguments)."""
    from dl_suite.models import build_model

    section = dict(cfg["model"])
    name, num_classes = section.pop("name"), section.pop("num_classes")
    return build_model(name, (args.size, args.size, 1), num_classes, **section)


def _jit(text):
    return {"auto": "auto", "true": True, "false": False}[text]


def _best_rate(timer, batch):
    counted = timer.epochs[1:] or timer.epochs
    return max(n * batch / s for n, s in counted)


def inference_rates(full_model, plain_model, images, batch, repeats=3):
    """(dl-suite predictor images/s, model.predict images/s), interleaved, best of `repeats`."""
    from dl_suite.inference.predictors import keras_predictor

    predict = keras_predictor(full_model, batch_size=batch)
    rates = {"full": [], "plain": []}
    predict(images[:batch])
    plain_model.predict(images, batch_size=batch, verbose=0)
    for _ in range(repeats):
        start = time.perf_counter()
        predict(images)
        rates["full"].append(len(images) / (time.perf_counter() - start))
        start = time.perf_counter()
        plain_model.predict(images, batch_size=batch, verbose=0)
        rates["plain"].append(len(images) / (time.perf_counter() - start))
    return max(rates["full"]), max(rates["plain"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--base", type=int, default=16, help="base filters")
    parser.add_argument("--depth", type=int, default=4, help="poolings")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6, help="batches per timed epoch")
    parser.add_argument("--rounds", type=int, default=3, help="epochs of each path (1st = warm-up)")
    parser.add_argument("--jit", choices=["auto", "true", "false"], default="auto",
                        help="XLA for both paths (Keras' default: auto)")
    parser.add_argument("--batch-norm", choices=["on", "off"], default="on")
    parser.add_argument("--workers", type=int, default=1, help="PyDataset workers of the full path")
    parser.add_argument("--precision", default="float32",
                        choices=["float32", "mixed_float16", "mixed_bfloat16",
                                 "mixed_bfloat16_if_native"])
    parser.add_argument("--no-inference", action="store_true")
    parser.add_argument("--quick", action="store_true", help="128 px, 3 steps, 2 rounds")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.steps, args.rounds = 128, 3, 2

    import keras

    from dl_suite.models.flops import count_gflops
    from dl_suite.workflows.demo import make_demo_data

    peak, peaks = sgemm_peak()
    with tempfile.TemporaryDirectory(prefix="dl-suite-bench-") as tmp:
        folder = Path(tmp)
        make_demo_data(folder / "data", num_train=args.steps * args.batch, num_test=1,
                       size=args.size)
        (folder / "project.config").write_text(CONFIG)
        full_model, full_fit, full_timer, images, cfg = full_path(folder, args)
        masks = (np.random.default_rng(0).random(images.shape) > 0.5).astype(np.float32)
        count = args.steps * args.batch
        images = np.resize(images, (count, *images.shape[1:]))  # the plain loop's arrays
        masks = np.resize(masks, images.shape)
        plain_model, plain_fit, plain_timer = plain_path(images, masks, args, cfg)
        for epoch in range(args.rounds):
            full_fit(epoch)
            plain_fit(epoch)
            # the peak between rounds too: on a shared machine the best of several counts
            again, again_by_name = sgemm_peak(repeats=2)
            if again > peak:
                peak, peaks = again, again_by_name
        full_rate = _best_rate(full_timer, args.batch)
        plain_rate = _best_rate(plain_timer, args.batch)
        gflops = count_gflops(same_architecture(cfg, args))
        result = {
            "backend": keras.backend.backend(), "size": args.size, "base": args.base,
            "depth": args.depth, "batch": args.batch, "jit": args.jit,
            "batch_norm": args.batch_norm, "workers": args.workers, "precision": args.precision,
            "sgemm_peak_gflops": round(peak / 1e9, 1),
            "sgemm_gflops": {k: round(v / 1e9, 1) for k, v in peaks.items()},
            "forward_gflops_per_image": round(gflops, 3),
            "train_full_img_s": round(full_rate, 3), "train_plain_img_s": round(plain_rate, 3),
            "train_ratio_full_over_plain": round(full_rate / plain_rate, 3),
            "train_full_peak_fraction": round(full_rate * 3 * gflops * 1e9 / peak, 3),
            "train_plain_peak_fraction": round(plain_rate * 3 * gflops * 1e9 / peak, 3),
        }
        if not args.no_inference:
            inf_full, inf_plain = inference_rates(full_model, plain_model, images, args.batch)
            result.update({
                "infer_full_img_s": round(inf_full, 3), "infer_plain_img_s": round(inf_plain, 3),
                "infer_ratio_full_over_plain": round(inf_full / inf_plain, 3),
                "infer_full_peak_fraction": round(inf_full * gflops * 1e9 / peak, 3),
            })
    for key, value in result.items():
        print(f"{key:32s} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
