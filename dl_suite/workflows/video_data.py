"""Training data of the time-window (ConvLSTM) models: videos and their masks from a config.

A split's folder may hold, checked in this order:
1. a Cell Tracking Challenge data set (`01/t000.tif` ..., masks in `01_GT/SEG` or `01_ST/SEG`;
   frames without a mask are context only);
2. image/mask folders of videos: one multi-page TIFF or ImageJ hyperstack per video with a label
   video of the same name beside it;
3. image/mask folders of 2-D frames (the JSON dialect's `inputs/raw_NNN.tif` +
   `labels/instance_ids_NNN.tif`) with a CSV mapping frames back to videos
   (`videos2im_relation.csv` in the split folder or its `stack2im/`, else `infer.videos_csv`).
Frames are normalised one by one as 2-D images are (`preprocess_image`), masks as 2-D masks.
"""

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dl_suite.data.preprocess import prepare_mask, preprocess_image
from dl_suite.errors import DataError
from dl_suite.io import read_image_data, read_mask_data
from dl_suite.io.ctc import is_ctc_dataset, read_ctc_sequence, sequences
from dl_suite.io.pairs import find_pairs, natural_key, resolve_split_dirs
from dl_suite.io.videos import read_videos_csv
from dl_suite.workflows.data import _SPLIT_KEYS, _WHAT

logger = logging.getLogger(__name__)

CSV_NAME = "videos2im_relation.csv"


@dataclass
class Videos:
    """Preprocessed videos of a split: names, (T, H, W, C) float32 frames, per-frame masks
    ((H, W) integer arrays, None = no annotation)."""

    names: list = field(default_factory=list)
    videos: list = field(default_factory=list)
    masks: list = field(default_factory=list)

    def add(self, name, frames, masks):
        self.names.append(name)
        self.videos.append(np.stack(frames))
        self.masks.append(list(masks))

    @property
    def channels(self):
        return self.videos[0].shape[-1]

    def num_annotated(self):
        return sum(m is not None for ms in self.masks for m in ms)

    def subset(self, indices):
        return Videos([self.names[i] for i in indices], [self.videos[i] for i in indices],
                      [self.masks[i] for i in indices])


def is_video_model(name):
    """True for models that take (T, H, W, C) windows (their builder has `time_windows`)."""
    from dl_suite.models import MODELS

    try:
        builder = MODELS.get(MODELS.canonical(name))
    except Exception:  # an unknown name is reported by the model builder
        return False
    return "time_windows" in inspect.signature(builder).parameters


def _frame(frame, cfg, where):
    frame = frame[..., 0] if frame.shape[-1] == 1 else frame
    return preprocess_image(frame, cfg, where)


def _mask(mask, cfg, where):
    mask = np.asarray(mask)
    return prepare_mask(mask[..., 0] if mask.ndim == 3 else mask, cfg, where)


def _from_ctc(root, cfg):
    out = Videos()
    for seq in sequences(root):
        data = read_ctc_sequence(root, seq)
        frames = data["frames"]
        frames = frames[..., None] if frames.ndim == 3 else frames
        where = Path(root) / seq
        masks = [None if t not in data["seg"] else _mask(data["seg"][t], cfg, f"{where} SEG {t}")
                 for t in range(len(frames))]
        out.add(f"{Path(root).name}/{seq}", [_frame(f, cfg, f"{where} t{t}")
                                             for t, f in enumerate(frames)], masks)
        logger.info("Video %s: %d frames, %d with masks (%s).", out.names[-1], len(frames),
                    sum(m is not None for m in masks), data["seg_source"] or "no SEG folder")
    return out


def _from_video_files(pairs, cfg):
    out = Videos()
    threshold, axes = cfg["dataset"]["mask_threshold"], cfg["dataset"].get("axes")
    for image_path, mask_path in pairs:
        frames = read_image_data(image_path, axes=axes).array
        labels = read_mask_data(mask_path, threshold=threshold, axes=axes)[..., None]
        if len(labels) != len(frames) or labels.shape[1:3] != frames.shape[1:3]:
            raise DataError(f"Video '{image_path}' is {frames.shape[:3]} (T, Y, X) but its labels "
                            f"'{mask_path}' are {labels.shape[:3]}; give one mask per frame.")
        out.add(image_path.stem, [_frame(f, cfg, image_path) for f in frames],
                [_mask(m, cfg, mask_path) for m in labels])
    return out


def _find_csv(cfg, root, image_dir, names):
    candidates = [root / CSV_NAME, root / "stack2im" / CSV_NAME] if root else []
    candidates += [image_dir.parent / CSV_NAME, image_dir / CSV_NAME]
    if cfg["infer"].get("videos_csv"):
        candidates.append(Path(cfg["infer"]["videos_csv"]))
    for path in candidates:
        if path.is_file():
            rows = read_videos_csv(path)
            if names & {frame for _, frame in rows}:
                return path, rows
    return None, None


def frame_video_names(cfg, names, paths, root=None):
    """Names of single-frame samples as `<video>#<t>` (t = the frame's place in its video in the
    videos CSV, found as in training); names with '#' or without a CSV are returned unchanged
    (with a warning), i.e. each file is then a one-frame video."""
    names = [str(n) for n in names]
    if not names or any("#" in n for n in names):
        return names
    files = [Path(p) for p in paths]
    path, rows = _find_csv(cfg, Path(root) if root else None, files[0].parent,
                           {f.name for f in files})
    if rows is None:
        logger.warning("No %s maps the frames of '%s' to videos: each image is scored as a "
                       "one-frame video.", CSV_NAME, files[0].parent)
        return names
    where, counts = {}, {}
    for video, frame in rows:
        where[frame] = (video, counts.setdefault(video, 0))
        counts[video] += 1
    unmapped = sorted({f.name for f in files} - set(where), key=natural_key)
    if unmapped:
        raise DataError(f"'{path}' does not list the frames {unmapped[:5]} of '{files[0].parent}'; "
                        "expected every frame to belong to a video. Fix: add them to the CSV.")
    return [f"{where[f.name][0]}#{where[f.name][1]}" for f in files]


def frame_video_groups(cfg, paths):
    """{video: [frame files in CSV order]} for inference inputs that are single-frame 2-D
    images a videos CSV maps (beside or above their folder, or `infer.videos_csv`); None when
    the inputs are video files or no CSV maps them. Frames the CSV does not list are one-frame
    videos of their own (with a warning)."""
    paths = [Path(p) for p in paths]
    if not paths or read_image_data(paths[0], axes=cfg["dataset"].get("axes")).num_frames > 1:
        return None
    folder = paths[0].parent
    by_name = {p.name: p for p in paths}
    path, rows = _find_csv(cfg, folder.parent, folder, set(by_name))
    if rows is None:
        return None
    groups = {}
    for video, frame in rows:
        if frame in by_name:
            groups.setdefault(video, []).append(by_name.pop(frame))
    if by_name:
        logger.warning("'%s' does not list %d frame(s) of '%s' (e.g. %s): each is segmented as a "
                       "one-frame video.", path, len(by_name), folder, min(by_name))
        for frame in by_name.values():
            groups.setdefault(f"{frame.stem} (unlisted)", []).append(frame)
    logger.info("Grouped %d frames into %d videos (%s).", len(paths), len(groups), path)
    return groups


def _from_frames(pairs, cfg, root):
    """2-D frames grouped into videos by the CSV (one video, with a warning, without it)."""
    threshold = cfg["dataset"]["mask_threshold"]
    by_name = {image.name: (image, mask) for image, mask in pairs}
    path, rows = _find_csv(cfg, root, pairs[0][0].parent, set(by_name))
    if rows is None:
        logger.warning("No %s maps the frames of '%s' to videos: they are read as ONE video in "
                       "name order, so windows may span two videos.", CSV_NAME, pairs[0][0].parent)
        rows = [("video", name) for name in sorted(by_name, key=natural_key)]
    unmapped = sorted(set(by_name) - {frame for _, frame in rows}, key=natural_key)
    if unmapped:
        raise DataError(f"'{path}' does not list the frames {unmapped[:5]} of "
                        f"'{pairs[0][0].parent}'; every frame must belong to a video.")
    groups = {}
    for video, frame in rows:
        if frame in by_name:
            groups.setdefault(video, []).append(by_name[frame])
    out = Videos()
    for video, members in groups.items():
        axes = cfg["dataset"].get("axes")
        out.add(video, [preprocess_image(read_image_data(i, axes=axes).array[0], cfg, i)
                        for i, _ in members],
                [prepare_mask(read_mask_data(m, threshold=threshold, axes=axes)[0], cfg, m)
                 for _, m in members])
    logger.info("Grouped %d frames into %d videos (%s).", len(pairs), len(groups), path or "name order")
    return out


def load_video_split(cfg, split):
    """The `Videos` of a split ("train", "val", "eval"), or None when the config names none."""
    section, image_key, mask_key, data_key = _SPLIT_KEYS[split]
    values = cfg[section]
    root = Path(values[data_key]) if values[data_key] else None
    if root is not None and is_ctc_dataset(root):
        return _from_ctc(root, cfg)
    dirs = resolve_split_dirs(values[image_key], values[mask_key], values[data_key], _WHAT[split])
    if dirs is None:
        return None
    pairs = find_pairs(*dirs)
    if read_image_data(pairs[0][0], axes=cfg["dataset"].get("axes")).num_frames > 1:
        return _from_video_files(pairs, cfg)
    return _from_frames(pairs, cfg, root)


def load_video_training_data(cfg):
    """(train, val) `Videos`; val from its own folder, or whole videos split off by seed."""
    train = load_video_split(cfg, "train")
    if train is None:
        raise DataError("No training videos configured: set train.datapath (a CTC folder, or a "
                        "folder with images/ + masks/) or train.image_datapath + mask_datapath.")
    val = load_video_split(cfg, "val")
    if val is not None or not cfg["train"]["dataset_splitter"] or len(train.names) < 2:
        return train, val
    count = len(train.names)
    num_val = min(count - 1, max(1, int(round(count * cfg["train"]["validation_split"]))))
    order = np.random.default_rng(cfg["train"]["seed"]).permutation(count)
    return train.subset(sorted(order[num_val:])), train.subset(sorted(order[:num_val]))


def make_video_datasets(cfg, train, val, *, patch_size, weight_map=None):
    """Window datasets (training: augmented, shuffled; validation: plain) for a video model."""
    from dl_suite.data.dataset import dataset_kwargs_from_config
    from dl_suite.data.windows import VideoSegmentationDataset

    def dataset(videos, training):
        kwargs = dataset_kwargs_from_config(cfg, training=training)
        kwargs.update(patch_size=patch_size, weight_map=weight_map)
        return VideoSegmentationDataset(
            videos.videos, videos.masks, time_windows=cfg["model"]["time_windows"],
            padding=cfg["generator"]["time_padding"],
            all_frames=cfg["model"]["output_all_frames"], **kwargs)

    return dataset(train, True), (dataset(val, False) if val is not None else None)
