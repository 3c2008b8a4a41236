"""Batch inference over many files: resumable, never overwrites unasked, survives bad files."""

import json
import logging
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dl_suite.errors import UserError
from dl_suite.inference import outputs as out_files
from dl_suite.inference.oom import BatchSizeController
from dl_suite.inference.overlay import make_overlay
from dl_suite.inference.postprocess import PostprocessOptions, postprocess
from dl_suite.inference.tiling import (
    DEFAULT_HALO,
    DEFAULT_OVERLAP,
    DEFAULT_TILE_SIZE,
    default_halo,
    predict_tiled,
)
from dl_suite.data.preprocess import model_frames
from dl_suite.io import open_image_data, write_text
from dl_suite.io.large_tiff import create_output_tiff

logger = logging.getLogger(__name__)

REPORT_NAME = "inference_report.json"


@dataclass(frozen=True)
class InferenceOptions:
    """Everything `infer_paths` needs besides the predictor (mapped once from the config).

    Args:
        num_channels: input channels the model expects (last axis).
        num_outputs: output channels K of the model.
        tile_size, halo, overlap, batch_size, window, tta, input_multiple: see `predict_tiled`.
        outputs: which files to write, from `outputs.OUTPUT_KINDS`.
        postprocess: `PostprocessOptions` (threshold, cleanup, instances).
        run_threshold: the threshold optimised in the run (for threshold_method 'run').
        overlay_style, overlay_colour: see `overlay.OVERLAY_STYLES`.
        legacy_black, legacy_white: colours of the 'colorize' overlay style.
        normalize: callable frame (H, W, C) -> float32 frame, the run's normalisation; None
            feeds raw values as float32.
        axes: override of the stored images' axes (`[dataset] axes`); None reads them from
            the file or the rules of `dl_suite.io.axes`.
        pixel_size, unit: calibration to write when the input has none (None = uncalibrated).
        progress: show progress bars.
    """

    num_channels: int = 1
    num_outputs: int = 1
    tile_size: object = DEFAULT_TILE_SIZE
    halo: object = DEFAULT_HALO
    overlap: object = DEFAULT_OVERLAP
    batch_size: int = 4
    window: str = "linear"
    tta: str = "none"
    input_multiple: int = 1
    outputs: tuple = out_files.OUTPUT_KINDS
    postprocess: PostprocessOptions = field(default_factory=PostprocessOptions)
    run_threshold: float = None
    overlay_style: str = "contours"
    overlay_colour: str = "green"
    legacy_black: str = "black"
    legacy_white: str = "green"
    normalize: object = None
    axes: str = None
    pixel_size: float = None
    unit: str = "um"
    progress: bool = True


@dataclass
class InferenceReport:
    """What happened to each input: written, skipped (already done) or failed (with why)."""

    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (path, message)
    seconds: float = 0.0
    batch_size: int = None

    @property
    def ok(self):
        return not self.failed

    def to_dict(self):
        return {
            "written": [str(p) for p in self.written],
            "skipped": [str(p) for p in self.skipped],
            "failed": [{"path": str(p), "error": msg} for p, msg in self.failed],
            "seconds": round(self.seconds, 3),
            "batch_size": self.batch_size,
        }

    def summary(self):
        return (f"{len(self.written)} image(s) segmented, {len(self.skipped)} skipped (already "
                f"done), {len(self.failed)} failed")


def _frame_letter(calibration, num_frames):
    axes = calibration.axes or ""
    return "Z" if (num_frames > 1 and "Z" in axes and "T" not in axes) else "T"


def infer_paths(paths, output_dir, predictor, options=InferenceOptions(), overwrite=False):
    """Segments every image of `paths` into `output_dir` and returns an `InferenceReport`.

    A file whose outputs all exist is skipped unless `overwrite` (resumable runs); each output
    is written atomically, so an interrupted file is simply redone next time. A failing file is
    logged and recorded and the others continue. The report is also written to
    `output_dir/inference_report.json`.

    Args:
        paths: image files (TIFF stacks are predicted frame by frame).
        output_dir: folder for the outputs (created).
        predictor: callable float32 (N, h, w, C) -> (N, h, w, K) (see `predictors.py`).
        options: `InferenceOptions`.
        overwrite: redo and replace files whose outputs exist.

    Returns:
        InferenceReport.
    """
    output_dir = Path(output_dir)
    report = InferenceReport()
    control = BatchSizeController(options.batch_size)
    start = time.perf_counter()
    for path in paths:
        path = Path(path)
        try:
            if not overwrite and _is_done(path, output_dir, options):
                logger.info("Skipping '%s': its outputs exist (use --overwrite to redo).", path.name)
                report.skipped.append(path)
                continue
            infer_file(path, output_dir, predictor, options, batch_control=control)
            report.written.append(path)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, (UserError, ValueError)):
                logger.error("Failed on '%s': %s", path, message)
            else:
                logger.error("Failed on '%s': %s\n%s", path, message, traceback.format_exc())
            report.failed.append((path, message))
    report.seconds = time.perf_counter() - start
    report.batch_size = control.batch_size
    control.report()
    write_text(output_dir / REPORT_NAME, json.dumps(report.to_dict(), indent=1))
    logger.info("Inference: %s.", report.summary())
    return report


def _is_done(path, output_dir, options):
    for stack in (False, True):
        expected = out_files.output_paths(output_dir, path.stem, options.outputs, stack=stack)
        if all(p.exists() for p in expected.values()):
            return True
    return False


def infer_file(path, output_dir, predictor, options=InferenceOptions(), *, batch_control=None):
    """Segments one image file (2D or stack) and writes its outputs; returns kind -> path.

    The probability map is written tile by tile into a memory-mapped TIFF, so the image can be
    far larger than memory allows for whole-image arrays.

    Raises:
        DataError/ValueError: unreadable file or a shape the model does not accept.
    """
    image = open_image_data(path, axes=options.axes)  # (T, Y, X, C), memory-mapped if possible
    calibration = image.calibration
    if calibration.pixel_size is None and options.pixel_size is not None:
        calibration = replace(calibration, pixel_size=options.pixel_size, unit=options.unit)
    frames = model_frames(image.array, options.num_channels, path)
    num_frames, height, width = frames.shape[:3]
    layout = out_files.FrameLayout(num_frames, _frame_letter(calibration, num_frames))
    paths = out_files.output_paths(output_dir, path.stem, options.outputs, stack=layout.is_stack)
    k = options.num_outputs
    shape, axes = (num_frames, height, width, k), "TYXC"
    if k == 1:
        shape, axes = shape[:3], "TYX"
    if not layout.is_stack:
        shape, axes = shape[1:], axes[1:]
    prob_path = paths.get("probability", Path(output_dir) / f".{path.stem}_prob_scratch.tif")
    control = batch_control or BatchSizeController(options.batch_size)
    written = {}
    with create_output_tiff(prob_path, shape, np.float32, axes.replace("T", layout.letter),
                            **out_files._calibration_kwargs(calibration)) as prob_file:
        prob = prob_file.array
        prob4 = prob[None] if not layout.is_stack else prob
        prob4 = prob4[..., None] if k == 1 else prob4
        masks = np.zeros((num_frames, height, width), bool)
        labels = None
        overlays = None
        for t in range(num_frames):
            frame = frames[t]
            if options.normalize is not None:
                frame = options.normalize(np.asarray(frame))
            predict_tiled(frame, predictor, tile_size=options.tile_size, halo=options.halo,
                          overlap=options.overlap, window=options.window, tta=options.tta,
                          input_multiple=options.input_multiple, out=prob4[t],
                          progress=options.progress, batch_control=control)
            _, _, mask, lab = postprocess(prob4[t], options.postprocess,
                                          run_threshold=options.run_threshold)
            masks[t] = mask
            if lab is not None and "labels" in paths:
                labels = labels if labels is not None else np.zeros(masks.shape, lab.dtype)
                labels[t] = lab
            if "overlay" in paths:
                rgb = make_overlay(frames[t], mask=mask, labels=lab, style=options.overlay_style,
                                   colour=options.overlay_colour, black=options.legacy_black,
                                   white=options.legacy_white)
                overlays = overlays if overlays is not None else np.zeros(masks.shape + (3,), np.uint8)
                overlays[t] = rgb
        if "probability" not in paths:
            prob_file.discard()
            prob_file.committed = True
        else:
            del prob, prob4
            written["probability"] = prob_file.commit()
    if "mask" in paths:
        written["mask"] = out_files.write_mask(paths["mask"], masks, layout, calibration)
    if "labels" in paths:
        if labels is None:
            labels = np.zeros(masks.shape, np.uint16)
            logger.warning("instance_method is 'none': '%s' holds no instances.", paths["labels"].name)
        written["labels"] = out_files.write_labels(paths["labels"], labels, layout, calibration)
    if "overlay" in paths:
        written["overlay"] = out_files.write_overlay(paths["overlay"], overlays, layout, calibration)
    logger.info("Segmented '%s' (%d frame(s), %dx%d).", path.name, num_frames, height, width)
    return written


def options_from_config(tiledinfer, segmentation, infer=None, *, num_channels=1, num_outputs=1,
                        input_multiple=1, receptive_field=None, run_threshold=None,
                        normalize=None, axes=None):
    """Maps the [tiledinfer], [segmentation] and [infer] config sections to `InferenceOptions`.

    Args:
        tiledinfer, segmentation, infer: the resolved config sections (dicts).
        num_channels, num_outputs: the model's input and output channels.
        input_multiple: the model's spatial size multiple (2**num_pooling).
        receptive_field: the model's receptive field in pixels if known (for the default halo).
        run_threshold: the run's optimised threshold (None if the run has none).
        normalize: the run's normalisation, callable frame -> float32 frame.
        axes: `[dataset] axes` override for reading the images (None: file metadata/rules).
    """
    tiled = dict(tiledinfer or {})
    seg = dict(segmentation or {})
    infer = dict(infer or {})
    tile_size = tiled.get("tile_size") or tiled.get("split_size") or DEFAULT_TILE_SIZE
    halo = tiled.get("halo")
    if halo is None:
        halo = default_halo(receptive_field, input_multiple=input_multiple,
                            max_halo=tiled.get("max_halo", 32))
    overlap = tiled.get("overlapping")
    overlap = DEFAULT_OVERLAP if overlap is None else overlap
    style = "colorize" if seg.get("colorize") else seg.get("overlay_style", "contours")
    return InferenceOptions(
        num_channels=num_channels,
        num_outputs=num_outputs,
        tile_size=tile_size,
        halo=halo,
        overlap=overlap,
        batch_size=tiled.get("batch_size", 4),
        window=tiled.get("window", "linear"),
        tta=tiled.get("tta", "none"),
        input_multiple=input_multiple,
        outputs=tuple(seg.get("outputs") or out_files.OUTPUT_KINDS),
        postprocess=PostprocessOptions.from_config(seg, threshold=infer.get("threshold")),
        run_threshold=run_threshold,
        overlay_style=style,
        overlay_colour=seg.get("overlay_colour", "green"),
        legacy_black=seg.get("black", "black"),
        legacy_white=seg.get("white", "green"),
        normalize=normalize,
        axes=axes,
        pixel_size=seg.get("pixel_size"),
        unit=seg.get("unit") or "um",
        progress=tiled.get("progress", True),
    )
