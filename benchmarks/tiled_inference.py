"""Benchmark: tiled inference versus plain `model.predict`, and peak RSS on a huge image.

Usage:
    python3 benchmarks/tiled_inference.py                 # speed at 4096^2 + RSS at 16384^2
    python3 benchmarks/tiled_inference.py --size 2048 --skip-rss

Speed: one U-Net (`build_model("unet", (None, None, 1), 1, base_filters=8, num_layers=4)`,
a plain-Keras U-Net of the same shape if the model zoo is unavailable) predicts the same
random image (a) plainly: cut into non-overlapping `tile`-sized tiles, `model.predict` in
batches, and (b) through `predict_tiled` with the default halo/overlap/window derived from the
config defaults and the model's receptive field. The paths run interleaved `--repeats` times after a warm-up
on every tile shape; the best time of each counts. Goal: tiled <= 1.2x plain.

Peak RSS (tiler only): a child process maps a float32 `--rss-size`^2 TIFF, predicts it tile by
tile into a memory-mapped output TIFF and reports its peak resident set size (VmHWM).

Peak RSS (whole command): a run folder with a tiny U-Net (`--command-filters` filters, saved
at a fixed 64x64 input like a trained model) is written, then the real `dl-suite infer`
segments a 16-bit `--rss-size`^2 TIFF into all four outputs (probability, mask, labels,
overlay) in a subprocess; its peak RSS is read with `resource.getrusage(RUSAGE_CHILDREN)`
(ru_maxrss of the waited-for child) and printed beside the tiler-only figure. Target: < 4 GB.
Measured (2 shared CPU cores, 4-filter 3-level U-Net, tile 1024, Otsu + blur + min_size +
opening, all four outputs): peak RSS 2206 MiB for the whole command at 16384^2 (21 min);
tiler only (float32 1 GiB input, 8-filter 4-level U-Net): 2337 MiB (15 min).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dl_suite.config import schema  # noqa: E402
from dl_suite.inference.batch import options_from_config  # noqa: E402
from dl_suite.inference.predictors import keras_predictor  # noqa: E402
from dl_suite.inference.tiling import iter_tiles, predict_tiled, unet_receptive_field  # noqa: E402

NUM_LAYERS = 4
BASE_FILTERS = 8


def build_unet():
    """The benchmark model and its input multiple (2**poolings)."""
    import keras

    keras.utils.set_random_seed(0)
    try:
        from dl_suite.models import build_model, input_multiple

        model = build_model("unet", (None, None, 1), 1, base_filters=BASE_FILTERS,
                            num_layers=NUM_LAYERS)
        return model, input_multiple("unet", num_layers=NUM_LAYERS), "dl_suite.models unet"
    except Exception as exc:  # noqa: BLE001 - the zoo may be mid-edit; a plain U-Net will do
        layers = keras.layers
        inputs = keras.Input((None, None, 1))
        x, skips = inputs, []
        for level in range(NUM_LAYERS - 1):
            for i in range(2):
                x = layers.Conv2D(BASE_FILTERS * 2**level, 3, padding="same", activation="relu")(x)
            skips.append(x)
            x = layers.MaxPooling2D()(x)
        for i in range(2):
            x = layers.Conv2D(BASE_FILTERS * 2 ** (NUM_LAYERS - 1), 3, padding="same",
                              activation="relu")(x)
        for level in reversed(range(NUM_LAYERS - 1)):
            x = layers.Concatenate()([layers.UpSampling2D()(x), skips[level]])
            for i in range(2):
                x = layers.Conv2D(BASE_FILTERS * 2**level, 3, padding="same", activation="relu")(x)
        outputs = layers.Conv2D(1, 1, activation="sigmoid")(x)
        return keras.Model(inputs, outputs), 2 ** (NUM_LAYERS - 1), f"plain keras U-Net ({exc})"


def default_options(multiple, tile):
    defaults = schema.defaults()
    tiled = dict(defaults["tiledinfer"], tile_size=tile, progress=False)
    return options_from_config(tiled, defaults["segmentation"], defaults.get("infer"),
                               input_multiple=multiple,
                               receptive_field=unet_receptive_field(NUM_LAYERS - 1))


def tiled_kwargs(options):
    return dict(tile_size=options.tile_size, halo=options.halo, overlap=options.overlap,
                batch_size=options.batch_size, window=options.window, tta=options.tta,
                input_multiple=options.input_multiple, progress=False)


def speed(args):
    model, multiple, source = build_unet()
    options = default_options(multiple, args.tile)
    size, tile, batch = args.size, args.tile, options.batch_size
    if size % tile:
        raise SystemExit(f"--size must be a multiple of --tile for the plain path ({size}, {tile}).")
    image = np.random.default_rng(0).random((size, size), dtype=np.float32)
    tiles = image.reshape(size // tile, tile, size // tile, tile).swapaxes(1, 2).reshape(-1, tile, tile, 1)
    predictor = keras_predictor(model)
    infos = list(iter_tiles(image.shape, options.tile_size, options.halo, options.overlap, multiple))
    tile_shape = (infos[0].src[0].stop - infos[0].src[0].start, infos[0].src[1].stop - infos[0].src[1].start)

    # warm-up: trace every shape each path will see
    model.predict(tiles[:batch], batch_size=batch, verbose=0)
    predictor(tiles[:batch])
    predictor(np.zeros((batch,) + tile_shape + (1,), np.float32))
    predictor(np.zeros((len(infos) % batch or batch,) + tile_shape + (1,), np.float32))

    def plain():
        return model.predict(tiles, batch_size=batch, verbose=0)

    def plain_on_batch():
        return np.concatenate([predictor(tiles[i : i + batch]) for i in range(0, len(tiles), batch)])

    def tiled():
        return predict_tiled(image, predictor, **tiled_kwargs(options))

    # interleave the paths so that load from other processes hits them alike; best of repeats
    paths = (("plain_predict", plain), ("plain_predict_on_batch", plain_on_batch), ("tiled", tiled))
    times = {name: float("inf") for name, _ in paths}
    for _ in range(args.repeats):
        for name, fn in paths:
            start = time.perf_counter()
            fn()
            times[name] = min(times[name], time.perf_counter() - start)
    mp = size * size / 1e6
    computed = sum((i.src[0].stop - i.src[0].start) * (i.src[1].stop - i.src[1].start) for i in infos)
    return {
        "model": source,
        "input_multiple": multiple,
        "image": [size, size],
        "tile_size": options.tile_size,
        "halo": list(options.halo),
        "overlap": options.overlap,
        "window": options.window,
        "batch_size": batch,
        "tiles": len(infos),
        "tile_shape": list(tile_shape),
        "computed_pixels_ratio": round(computed / (size * size), 3),
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "mp_per_s": {k: round(mp / v, 3) for k, v in times.items()},
        "ratio_tiled_vs_plain_predict": round(times["tiled"] / times["plain_predict"], 3),
        "ratio_tiled_vs_plain_predict_on_batch": round(
            times["tiled"] / times["plain_predict_on_batch"], 3),
    }


def write_input(path, size):
    """A float32 size^2 TIFF written through a memmap in row blocks (never fully in RAM)."""
    from dl_suite.io.large_tiff import create_output_tiff

    rng = np.random.default_rng(0)
    with create_output_tiff(path, (size, size), np.float32, "YX") as out:
        for y in range(0, size, 1024):
            out.array[y : y + 1024] = rng.random((min(1024, size - y), size), dtype=np.float32)


def _status_mib(*keys):
    """Fields of /proc/self/status in MiB (VmHWM = peak RSS of this process image; unlike
    ru_maxrss it is not inherited from the parent across fork/exec)."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in keys:
                values[name] = round(int(rest.split()[0]) / 1024)
    return values


def rss_child(size, workdir, tile, batch_size=None):
    """Runs in a fresh process: tiled inference of a mapped TIFF into a mapped TIFF."""
    from dl_suite.io.large_tiff import create_output_tiff, open_image_lazy

    model, multiple, _ = build_unet()
    options = default_options(multiple, tile)
    if batch_size:
        options = replace(options, batch_size=batch_size)
    predictor = keras_predictor(model)
    predictor(np.zeros((1, 64, 64, 1), np.float32))
    before = _status_mib("VmHWM")["VmHWM"]
    image = open_image_lazy(Path(workdir) / "input.tif")
    assert isinstance(image, np.memmap), "the input must be memory-mapped"
    start = time.perf_counter()
    with create_output_tiff(Path(workdir) / "prob.tif", image.shape, np.float32, "YX") as out:
        predict_tiled(image, predictor, out=out.array, **tiled_kwargs(options))
    seconds = time.perf_counter() - start
    status = _status_mib("VmHWM", "RssAnon", "RssFile")
    print(json.dumps({"image": [size, size], "batch_size": options.batch_size, "seconds": round(seconds, 1),
                      "mp_per_s": round(size * size / 1e6 / seconds, 3),
                      "peak_rss_mib": status["VmHWM"], "peak_rss_before_inference_mib": before,
                      "rss_anon_end_mib": status.get("RssAnon"),
                      "rss_file_end_mib": status.get("RssFile"),
                      "input_gib": round(image.nbytes / 2**30, 2)}))


def write_uint16_input(path, size):
    """A 16-bit size^2 TIFF (smooth blobs + noise) written in row blocks (never fully in RAM)."""
    import tifffile

    rng = np.random.default_rng(0)
    out = tifffile.memmap(path, shape=(size, size), dtype=np.uint16)
    y = np.arange(1024)[:, None]
    x = np.arange(size)[None, :]
    for y0 in range(0, size, 1024):
        rows = min(1024, size - y0)
        blobs = (np.sin((y[:rows] + y0) / 23.0) * np.sin(x / 29.0) > 0.6) * 3000
        out[y0 : y0 + rows] = (blobs + rng.integers(500, 800, (rows, size))).astype(np.uint16)
    out.flush()
    del out


def write_run(run_dir, filters):
    """A run folder (config.json + model.keras) with a tiny U-Net saved at a fixed input size."""
    from dl_suite.io import save_keras_model
    from dl_suite.models import build_model

    import keras

    keras.utils.set_random_seed(0)
    run_dir.mkdir(parents=True)
    model_section = {"name": "unet", "base_filters": filters, "num_layers": 3,
                     "image_channels": 1, "num_classes": 1}
    config = {"model": model_section, "image": {"normalization": "percentile"}}
    (run_dir / "config.json").write_text(json.dumps(config))
    model = build_model("unet", (64, 64, 1), 1, **model_section)
    save_keras_model(model, run_dir / "model.keras")
    return config


def command_rss(size, workdir, filters, tile):
    """Peak RSS (MiB) and time of the real `dl-suite infer` on a 16-bit size^2 TIFF."""
    import resource

    workdir = Path(workdir)
    write_uint16_input(workdir / "input16.tif", size)
    write_run(workdir / "run-bench", filters)
    config = {"tiledinfer": {"tile_size": tile, "progress": False},
              "segmentation": {"threshold_method": "otsu", "blursize": 9, "min_size": 100,
                               "opening_radius": 1}}
    (workdir / "infer.json").write_text(json.dumps(config))
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "dl_suite", "infer", str(workdir / "infer.json"),
         "--run", str(workdir / "run-bench"), "--input", str(workdir / "input16.tif"),
         "--output", str(workdir / "out")],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    seconds = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"dl-suite infer failed:\n{child.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB
    outputs = sorted(p.name for p in (workdir / "out").iterdir())
    return {"image": [size, size], "dtype": "uint16", "model_filters": filters,
            "tile_size": tile, "seconds": round(seconds, 1),
            "peak_rss_mib": round(peak), "outputs": outputs,
            "log_tail": child.stderr.strip().splitlines()[-4:]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="speed test image side (px)")
    parser.add_argument("--tile", type=int, default=1024, help="tile size (default: the config default)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rss-size", type=int, default=16384)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--rss-batch-size", type=int, help="tiles per batch in the RSS run (default: config)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-command", action="store_true",
                        help="skip the whole-command `dl-suite infer` RSS measurement")
    parser.add_argument("--command-filters", type=int, default=4,
                        help="base filters of the tiny U-Net of the whole-command run")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_size, args.rss_child, args.tile, args.rss_batch_size)
        return
    results = {}
    if not args.skip_speed:
        results["speed"] = speed(args)
        print(json.dumps(results["speed"], indent=1), flush=True)
    if not args.skip_rss:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as workdir:
            write_input(Path(workdir) / "input.tif", args.rss_size)
            child = subprocess.run(
                [sys.executable, __file__, "--rss-child", workdir, "--rss-size", str(args.rss_size),
                 "--tile", str(args.tile)]
                + (["--rss-batch-size", str(args.rss_batch_size)] if args.rss_batch_size else []),
                capture_output=True, text=True, check=False)
            if child.returncode:
                raise SystemExit(f"RSS child failed:\n{child.stderr[-3000:]}")
            results["rss"] = json.loads(child.stdout.strip().splitlines()[-1])
            print(json.dumps(results["rss"], indent=1), flush=True)
    if not args.skip_command:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as workdir:
            results["command"] = command_rss(args.rss_size, workdir, args.command_filters, args.tile)
        print(json.dumps(results["command"], indent=1), flush=True)
        tiler = results.get("rss", {}).get("peak_rss_mib")
        print(f"peak RSS at {args.rss_size}^2: whole `dl-suite infer` "
              f"{results['command']['peak_rss_mib']} MiB, tiler only "
              f"{tiler if tiler is not None else 'not measured'} MiB", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
