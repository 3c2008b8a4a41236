"""ConvLSTM (`unet_lstm`) vs a per-frame U-Net of similar size on a synthetic time-lapse.

Both models train for the same wall-clock budget (after their first, compiling step) on the same annotated frames (synthetic
time-lapses, seeds 0 and 1) with the same augmentation (flips + 90-degree rotations, one draw per
window), then segment a time-lapse neither saw (seed 100). Reported: foreground Dice over the
whole test video and mean per-frame Dice (threshold 0.5), parameters, training steps done, and
inference time per frame (batch 8, after a warm-up pass). The ConvLSTM predicts frame t from the
window `window_indices(t, T, N, "mirror")`, the rule its training used.

    python3 benchmarks/video_models.py [--budget 180] [--snr 1.5] [--size 64] [--frames 40]

On a shared CPU the wall-clock budget buys a varying number of steps: read `steps` too;
`--steps N` trains both for N steps instead (equal updates rather than equal time).

Measured 2026-12-02 (2 shared CPU cores, one seed each; 64 px, 40 test frames, windows of 5):
    SNR 1.5, 150 s:  unet_lstm (287k params) 211 steps, Dice 0.868, 69 ms/frame;
                     unet (273k params)      501 steps, Dice 0.947, 52 ms/frame.
    SNR 0.8, 150 s:  unet_lstm 173 steps, Dice 0.471; unet 399 steps, Dice 0.886.
    Equal steps:     unet_lstm 500 steps at SNR 1.5: Dice 0.949; 400 steps at SNR 0.8: 0.893.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout


def videos(seeds, args):
    from dl_suite.data.normalization import normalize
    from dl_suite.data.synthetic_timelapse import synthetic_timelapse

    out = []
    for seed in seeds:
        data = synthetic_timelapse(frames=args.frames, size=args.size, cells=args.cells,
                                   snr=args.snr, seed=seed)
        frames = np.stack([normalize(f, "percentile") for f in data.frames])[..., None]
        out.append((frames.astype(np.float32), (data.labels > 0).astype(np.uint8)))
    return out


def build(name, args):
    import keras

    from dl_suite.losses import get_loss
    from dl_suite.models import build_model

    if name == "unet_lstm":
        model = build_model("unet_lstm", (args.size, args.size, 1), 1, base_filters=8,
                            num_layers=4, time_windows=args.windows)
    else:
        model = build_model("unet", (args.size, args.size, 1), 1, base_filters=12, num_layers=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=get_loss("bce_dice"))
    return model


class TimeBudget:
    """Keras callback: stops training once `seconds` of wall-clock time have passed after the
    first step (which traces and compiles the graph, and is not counted)."""

    def __new__(cls, seconds, max_steps=None):
        import keras

        class _Budget(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start, self.steps = None, 0

            def on_train_batch_end(self, batch, logs=None):
                self.steps += 1
                if self.start is None:
                    self.start = time.perf_counter()
                elif max_steps and self.steps >= max_steps:
                    self.model.stop_training = True
                elif not max_steps and time.perf_counter() - self.start > seconds:
                    self.model.stop_training = True

        return _Budget()


def train(name, train_videos, args):
    from dl_suite.data.dataset import SegmentationDataset
    from dl_suite.data.windows import VideoSegmentationDataset

    common = dict(batch_size=4, patch_size=(args.size, args.size), seed=0, steps_per_epoch=10)
    if name == "unet_lstm":
        ds = VideoSegmentationDataset([v for v, _ in train_videos], [m for _, m in train_videos],
                                      time_windows=args.windows, padding="mirror", **common)
    else:
        ds = SegmentationDataset([f for v, _ in train_videos for f in v],
                                 [f for _, m in train_videos for f in m], **common)
    model = build(name, args)
    budget = TimeBudget(args.budget, args.steps)
    start = time.perf_counter()
    model.fit(ds, epochs=10_000, callbacks=[budget], verbose=0)
    return model, budget.steps, time.perf_counter() - start


def predict(name, model, frames, args):
    from dl_suite.data.windows import window_indices

    if name == "unet_lstm":
        inputs = np.stack([frames[window_indices(t, args.windows, len(frames), "mirror")]
                           for t in range(len(frames))])
    else:
        inputs = frames
    model.predict(inputs, batch_size=8, verbose=0)  # warm-up (graph tracing, every batch shape)
    start = time.perf_counter()
    probs = model.predict(inputs, batch_size=8, verbose=0)
    per_frame = (time.perf_counter() - start) / len(frames)
    return probs[..., 0], per_frame


def dice(pred, true):
    inter, total = np.logical_and(pred, true).sum(), pred.sum() + true.sum()
    return 1.0 if total == 0 else 2.0 * inter / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=180.0, help="training seconds per model")
    parser.add_argument("--snr", type=float, default=1.5)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--cells", type=int, default=6)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None,
                        help="train a fixed number of steps instead of --budget seconds")
    parser.add_argument("--models", default="unet_lstm,unet", help="comma-separated subset")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    import keras

    keras.utils.set_random_seed(0)
    train_videos = videos([0, 1], args)
    (test_frames, test_masks), = videos([100], args)
    results = {}
    for name in args.models.split(","):
        model, steps, seconds = train(name, train_videos, args)
        probs, per_frame = predict(name, model, test_frames, args)
        pred = probs > 0.5
        results[name] = {
            "params": int(model.count_params()), "steps": steps, "train_s": round(seconds, 1),
            "dice_video": round(dice(pred, test_masks > 0), 4),
            "dice_per_frame_mean": round(float(np.mean([dice(p, m > 0) for p, m in
                                                        zip(pred, test_masks)])), 4),
            "infer_ms_per_frame": round(1000 * per_frame, 2),
        }
        print(name, json.dumps(results[name]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
