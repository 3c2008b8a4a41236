"""Seconds per frame of streamed ConvLSTM video inference (`dl_suite.inference.video_batch`).

A synthetic video (a bright disk moving over noise, uint8 ImageJ hyperstack) is segmented by an
untrained `unet_lstm` (the speed does not depend on the weights) with the whole pipeline of
`dl-suite infer`: window by window, tiled, outputs written frame by frame into memory-mapped
hyperstacks. Peak RSS is printed too, to compare videos of different lengths.

    python3 benchmarks/video_inference.py [--frames 30] [--size 256] [--filters 16]
        [--layers 4] [--time-windows 5] [--tile 128] [--threads 0]
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout


def make_video(path, frames, size, seed=0):
    """Writes the video frame by frame (so making it does not add to the peak memory)."""
    rng = np.random.default_rng(seed)
    y, x = np.ogrid[:size, :size]

    def frame(t):
        image = rng.integers(0, 60, (size, size), dtype=np.uint8)
        cy, cx = size // 3 + t % (size // 3), size // 2
        image[(y - cy) ** 2 + (x - cx) ** 2 <= (size // 10) ** 2] += 150
        return image

    tifffile.imwrite(path, (frame(t) for t in range(frames)), shape=(frames, size, size),
                     dtype=np.uint8, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 1.0})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--time-windows", type=int, default=5)
    parser.add_argument("--tile", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0 = all)")
    args = parser.parse_args(argv)
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from dl_suite.inference.batch import InferenceOptions
    from dl_suite.inference.postprocess import PostprocessOptions
    from dl_suite.inference.predictors import keras_predictor
    from dl_suite.inference.video import video_spec
    from dl_suite.inference.video_batch import infer_video_file
    from dl_suite.models import build_model

    t = args.time_windows
    model = build_model("unet_lstm", (t, args.tile, args.tile, 1), 1, time_windows=t,
                        base_filters=args.filters, num_layers=args.layers)
    multiple = 2 ** (args.layers - 1)
    options = InferenceOptions(tile_size=args.tile, halo=multiple, overlap=multiple,
                               input_multiple=multiple, progress=False,
                               normalize=lambda f: f.astype(np.float32) / 255.0,
                               postprocess=PostprocessOptions(threshold_method="fixed"))
    predict = keras_predictor(model)
    predict(np.zeros((1, t, args.tile, args.tile, 1), np.float32))  # warm-up (graph tracing)
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "video.tif"
        make_video(video, args.frames, args.size)
        start = time.perf_counter()
        written, per_frame = infer_video_file(video, Path(tmp) / "out", predict, options,
                                              video_spec(model, "mirror"))
        total = time.perf_counter() - start
        with tifffile.TiffFile(written["mask"]) as tif:
            shape = tif.series[0].shape
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"unet_lstm filters={args.filters} layers={args.layers} T={t}, {model.count_params()} "
          f"params; {args.frames} frames of {args.size}x{args.size}, tiles {args.tile}: "
          f"{per_frame:.4f} s/frame predicted, {total / args.frames:.4f} s/frame with "
          f"post-processing and writing; mask {shape}; peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
