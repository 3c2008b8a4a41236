"""Batch inference over many files: resumable, never overwrites unasked, survives bad files."""

import json
import logging
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dl_suite.data.preprocess import model_frames
from dl_suite.errors import UserError
from dl_suite.inference import outputs as out_files
from dl_suite.inference.chunked import CHUNK
from dl_suite.inference.oom import BatchSizeController
from dl_suite.inference.postprocess import PostprocessOptions
from dl_suite.inference.results import (
    postprocess_in_memory,
    postprocess_streamed,
    use_streaming,
)
from dl_suite.inference.tiling import (
    DEFAULT_HALO,
    DEFAULT_OVERLAP,
    DEFAULT_TILE_SIZE,
    default_halo,
    predict_tiled,
)
from dl_suite.io import open_image_data, write_text
from dl_suite.io.imagej import calibration_kwargs
from dl_suite.io.large_tiff import create_output_tiff

logger = logging.getLogger(__name__)

REPORT_NAME = "inference_report.json"
STREAM_PIXELS = 4096 * 4096  # frames with more pixels are post-processed chunk by chunk
OVERLAY_MAX_SIDE = 4096  # overlays of larger frames are downsampled to this many pixels


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
        whole_image: predict each frame in one pass (`tiledinfer.enabled = false`).
        tile_normalizer: `normalize.TileNormalizer` applied per tile (statistics from a frame
            sample); None uses `normalize` on the whole frame.
        stream_pixels: frames with more pixels are post-processed chunk by chunk on disk.
        chunk: chunk side (pixels) of the chunked post-processing.
        overlay_max_side: overlays of larger frames are downsampled to this side.
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
    whole_image: bool = False
    tile_normalizer: object = None
    stream_pixels: int = STREAM_PIXELS
    chunk: int = CHUNK
    overlay_max_side: int = OVERLAY_MAX_SIDE


@dataclass
class InferenceReport:
    """What happened to each input: written, skipped (already done) or failed (with why)."""

    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (path, message)
    partial: list = field(default_factory=list)  # (path, [missing output names]): not redone
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
            "partial": [{"path": str(p), "missing": names} for p, names in self.partial],
            "seconds": round(self.seconds, 3),
            "batch_size": self.batch_size,
        }

    def summary(self):
        text = (f"{len(self.written)} image(s) segmented, {len(self.skipped)} skipped (already "
                f"done), {len(self.failed)} failed")
        if self.partial:
            text += (f", {len(self.partial)} not redone because their outputs exist in part "
                     "(use --overwrite to redo them)")
        return text


def _frame_letter(calibration, num_frames):
    axes = calibration.axes or ""
    return "Z" if (num_frames > 1 and "Z" in axes and "T" not in axes) else "T"


def output_stems(paths):
    """Output name stem per input: its file stem, plus its extension when stems collide.

    `a.tif` alone writes `a_mask.tif`; `a.tif` and `a.png` in one batch write `a_tif_mask.tif`
    and `a_png_mask.tif`, so no input overwrites another's outputs (inputs in different folders
    with the same name also get their parent folder's name: `dir_a_tif_mask.tif`).

    Returns:
        dict Path -> stem (str).
    """
    paths = [Path(p) for p in paths]
    by_stem = {}
    for p in paths:
        by_stem.setdefault(p.stem, []).append(p)
    stems = {}
    for stem, group in by_stem.items():
        if len(group) == 1:
            stems[group[0]] = stem
            continue
        named = {}
        for p in group:
            named.setdefault(f"{stem}_{p.suffix.lstrip('.').lower()}", []).append(p)
        for name, same in named.items():
            for p in same:
                stems[p] = name if len(same) == 1 else f"{p.parent.name}_{name}"
    return stems


def infer_paths(paths, output_dir, predictor, options=InferenceOptions(), overwrite=False,
                shard=None):
    """Segments every image of `paths` into `output_dir` and returns an `InferenceReport`.

    A file whose outputs all exist is skipped unless `overwrite` (resumable runs). A file
    whose outputs exist only in part (an interrupted earlier run, or other outputs chosen) is
    not redone without `overwrite` either: it is reported, with the files missing. Each output
    is written atomically. A failing file is logged and recorded and the others continue. The
    report is also written to `output_dir/inference_report.json`. Output names: see
    `output_stems`.

    Args:
        paths: image files (TIFF stacks are predicted frame by frame).
        output_dir: folder for the outputs (created).
        predictor: callable float32 (N, h, w, C) -> (N, h, w, K) (see `predictors.py`).
        options: `InferenceOptions`.
        overwrite: redo and replace files whose outputs exist, completely or in part.
        shard: a `shards.Shard`: segment only its share of `paths` (names still from all).

    Returns:
        InferenceReport.
    """
    return run_inputs(
        paths, output_dir, options,
        lambda path, stem, control: infer_file(path, output_dir, predictor, options,
                                               batch_control=control, stem=stem),
        overwrite=overwrite, shard=shard,
    )


def run_inputs(paths, output_dir, options, segment, *, overwrite=False, report_extra=None,
               shard=None, groups=None):
    """The batch loop of image and video inference: output names, skip / partial / overwrite
    rules, per-file failures, the JSON report.

    Args:
        paths, output_dir, options, overwrite: as `infer_paths`.
        segment: callable (path, stem, batch_control) that writes one input's outputs.
        report_extra: optional callable () -> dict merged into the JSON report.
        shard: optional `shards.Shard`: only its share of `paths` is segmented (output names
            still come from all of `paths`) and the report gets the shard's own file name.
        groups: optional lists of paths that a shard keeps together (see `Shard.select`).

    Returns:
        InferenceReport.
    """
    output_dir = Path(output_dir)
    report = InferenceReport()
    control = BatchSizeController(options.batch_size)
    start = time.perf_counter()
    stems = output_stems(paths)  # from every input, so all shards agree on the names
    if shard is not None:
        paths = shard.select(paths, groups)
        logger.info("Shard %s: %d of %d input(s).", shard, len(paths), len(stems))
    for path in paths:
        path = Path(path)
        stem = stems[path]
        try:
            if not overwrite:
                present, missing = _existing_outputs(path, stem, output_dir, options)
                if present and not missing:
                    logger.info("Skipping '%s': its outputs exist (use --overwrite to redo).",
                                path.name)
                    report.skipped.append(path)
                    continue
                if present:
                    logger.warning(
                        "Skipping '%s': only some of its outputs exist (%s; missing %s), e.g. "
                        "from an interrupted run. Rerun with --overwrite to redo it.", path.name,
                        ", ".join(p.name for p in present), ", ".join(p.name for p in missing))
                    report.partial.append((path, [p.name for p in missing]))
                    continue
            segment(path, stem, control)
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
    data = report.to_dict()
    data.update(report_extra() if report_extra else {})
    if shard is not None:
        data["shard"] = str(shard)
    name = REPORT_NAME if shard is None else shard.report_name(REPORT_NAME)
    write_text(output_dir / name, json.dumps(data, indent=1))
    logger.info("Inference: %s.", report.summary())
    return report


def _existing_outputs(path, stem, output_dir, options):
    """(present, missing) output paths of one input (2D or stack naming, whichever has more)."""
    candidates = []
    for stack in (False, True):
        expected = out_files.output_paths(output_dir, stem, options.outputs, stack=stack)
        present = [p for p in expected.values() if p.exists()]
        candidates.append((present, [p for p in expected.values() if not p.exists()]))
    for present, missing in candidates:
        if present and not missing:
            return present, missing
    return max(candidates, key=lambda c: len(c[0]))


def _tiling_kwargs(options, height, width):
    """Tile size, halo and overlap for one frame: one padded pass when tiling is disabled."""
    if options.whole_image:
        m = options.input_multiple
        return {"tile_size": (-(-height // m) * m, -(-width // m) * m), "halo": 0, "overlap": 0}
    return {"tile_size": options.tile_size, "halo": options.halo, "overlap": options.overlap}


def _normalized(frame, options):
    """The frame the tiler reads: normalised tile by tile when the run's method allows it."""
    if options.tile_normalizer is not None:
        return options.tile_normalizer.view(frame)
    if options.normalize is not None:
        return options.normalize(np.asarray(frame))
    return frame


def infer_file(path, output_dir, predictor, options=InferenceOptions(), *, batch_control=None,
               stem=None):
    """Segments one image file (2D or stack) and writes its outputs; returns kind -> path.

    The probability map is written tile by tile into a memory-mapped TIFF. Frames larger than
    `options.stream_pixels` are normalised per tile, post-processed chunk by chunk into
    memory-mapped mask and label TIFFs (`results.postprocess_streamed`, same result as the
    whole-frame path) and overlaid at most `options.overlay_max_side` pixels wide, so memory
    stays bounded whatever the image size.

    Args:
        stem: output name stem (default: the input's stem; see `output_stems`).

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
    stem = stem or path.stem
    paths = out_files.output_paths(output_dir, stem, options.outputs, stack=layout.is_stack)
    k = options.num_outputs
    shape, axes = (num_frames, height, width, k), "TYXC"
    if k == 1:
        shape, axes = shape[:3], "TYX"
    if not layout.is_stack:
        shape, axes = shape[1:], axes[1:]
    axes = axes.replace("T", layout.letter)
    prob_path = paths.get("probability", Path(output_dir) / f".{stem}_prob_scratch.tif")
    control = batch_control or BatchSizeController(options.batch_size)
    streamed = use_streaming(options, height, width)
    written = {}
    with create_output_tiff(prob_path, shape, np.float32, axes,
                            **calibration_kwargs(calibration)) as prob_file:
        prob4 = prob_file.array[None] if not layout.is_stack else prob_file.array
        prob4 = prob4[..., None] if k == 1 else prob4
        for t in range(num_frames):
            predict_tiled(_normalized(frames[t], options), predictor, window=options.window,
                          tta=options.tta, input_multiple=options.input_multiple, out=prob4[t],
                          progress=options.progress, batch_control=control,
                          **_tiling_kwargs(options, height, width))
        post = postprocess_streamed if streamed else postprocess_in_memory
        written.update(post(frames, prob4, paths, layout, calibration, options))
        if "probability" not in paths:
            prob_file.discard()
            prob_file.committed = True
        else:
            del prob4
            written["probability"] = prob_file.commit()
    logger.info("Segmented '%s' (%d frame(s), %dx%d%s).", path.name, num_frames, height, width,
                ", streamed" if streamed else "")
    return {kind: written[kind] for kind in paths if kind in written}


def options_from_config(tiledinfer, segmentation, infer=None, *, num_channels=1, num_outputs=1,
                        input_multiple=1, receptive_field=None, run_threshold=None,
                        normalize=None, tile_normalizer=None, axes=None):
    """Maps the [tiledinfer], [segmentation] and [infer] config sections to `InferenceOptions`.

    Args:
        tiledinfer, segmentation, infer: the resolved config sections (dicts).
        num_channels, num_outputs: the model's input and output channels.
        input_multiple: the model's spatial size multiple (2**num_pooling).
        receptive_field: the model's receptive field in pixels if known (for the default halo).
        run_threshold: the run's optimised threshold (None if the run has none).
        normalize: the run's normalisation, callable frame -> float32 frame.
        tile_normalizer: the run's `normalize.TileNormalizer` (None: `normalize` whole frames).
        axes: `[dataset] axes` override for reading the images (None: file metadata/rules).

    `tiledinfer.enabled = false` predicts every frame in one pass (padded to the input
    multiple); `max_halo = null` leaves the receptive-field halo uncapped.
    """
    tiled = dict(tiledinfer or {})
    seg = dict(segmentation or {})
    infer = dict(infer or {})
    tile_size = tiled.get("tile_size") or DEFAULT_TILE_SIZE
    halo = tiled.get("halo")
    if halo is None:
        halo = default_halo(receptive_field, input_multiple=input_multiple,
                            max_halo=tiled.get("max_halo", 32))
    overlap = tiled.get("overlapping")
    overlap = DEFAULT_OVERLAP if overlap is None else overlap
    style = seg.get("overlay_style", "contours")
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
        whole_image=not tiled.get("enabled", True),
        tile_normalizer=tile_normalizer,
    )
