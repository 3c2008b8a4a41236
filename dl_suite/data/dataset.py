"""SegmentationDataset: a `keras.utils.PyDataset` of (image patch, target[, weights]) batches.

Batches are reproducible: batch `index` of epoch `e` draws from `np.random.default_rng((seed,
e, index))`, so the result does not depend on which worker (thread or process) builds it.
"""

import logging
import math

import keras
import numpy as np

from dl_suite.data.augment import build_augmentor, default_augmentor
from dl_suite.data.ignore import apply_ignore_to_target, split_ignored
from dl_suite.data.sampling import PatchSampler
from dl_suite.data.targets import make_target, resolve_target_type, target_num_classes
from dl_suite.data.weights import WEIGHT_MAPS, weight_map as compute_weight_map
from dl_suite.errors import DataError

logger = logging.getLogger(__name__)

DEFAULT = "default"


def _as_image(image, i):
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise DataError(
            f"Training image #{i} has shape {image.shape}; expected (H, W) or (H, W, C). "
            "For stacks, pass each frame as its own image."
        )
    return image.astype(np.float32, copy=False)


def _as_mask(mask, i):
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise DataError(f"Mask #{i} has shape {mask.shape}; expected (H, W) integer labels.")
    return mask


def _pad_to(array, shape):
    ph, pw = max(shape[0] - array.shape[0], 0), max(shape[1] - array.shape[1], 0)
    if not ph and not pw:
        return array
    pad = [(ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad, mode="reflect" if min(array.shape[:2]) > 1 else "edge")


class SegmentationDataset(keras.utils.PyDataset):
    """Patches of images and masks, augmented in lock-step.

    Args:
        images: list of float32 (H, W, C) (or (H, W)) normalised images.
        masks: list of integer (H, W) masks: binary 0/1, class labels or instance labels;
            pixels marked by `dl_suite.data.ignore.mark_ignored` are left out of the loss.
        batch_size: images per batch (each gives `patch_batch` patches).
        patch_size: (h, w) random crops; None = whole images (then all must have one size).
            Images smaller than the patch are reflect-padded.
        augmentor: an `ImageMaskAugmentor`; "default" = random flips and 90-degree rotations;
            None = no augmentation (use for validation).
        shuffle: reshuffle the image order every epoch. With shuffle=False (validation) the
            batches are identical every epoch.
        seed: seed of all randomness of this dataset.
        steps_per_epoch: batches per epoch; None = ceil(len(images) / batch_size).
        target_type: "binary", "multiclass" (sparse), "onehot", "contours", "distance", or the
            legacy "segmentation" / any string containing "contours" or "distance".
        num_classes: classes of the multiclass targets, or background + distance levels
            (ignored for binary and contours).
        weight_map: None, "unet" or "border": y gets a second channel holding the weights.
        weight_params: keyword arguments of the weight map (e.g. w0=10, sigma=5).
        sampling_pdf: foreground bias of the patch positions (0 = uniform).
        patch_batch: patches cut from each image of a batch.
        workers, use_multiprocessing, max_queue_size: see `keras.utils.PyDataset`.

    Yields:
        (x, y): x float32 (B, h, w, C); y float32 (B, h, w, 1) holding the target (0/1 or class
        index), with a 2nd channel of weights when `weight_map` is set; for "onehot" targets
        y is also (B, h, w, 1) holding class indices: the losses and metrics expand every
        target to one-hot themselves, so channel 2 is always the weight map.
        B = batch_size * patch_batch. Targets and weights are computed from the augmented
        mask of each patch. Ignored pixels hold `IGNORE_TARGET` (-1) in the target channel.
    """

    def __init__(self, images, masks, *, batch_size, patch_size=None, augmentor=DEFAULT,
                 shuffle=True, seed=0, steps_per_epoch=None, target_type="binary",
                 num_classes=1, weight_map=None, weight_params=None, sampling_pdf=0.0,
                 patch_batch=1, workers=1, use_multiprocessing=False, max_queue_size=10):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing,
                         max_queue_size=max_queue_size)
        if len(images) != len(masks):
            raise DataError(
                f"Received {len(images)} images but {len(masks)} masks; every image needs "
                "exactly one mask. Check the image and mask folders in your config."
            )
        if len(images) == 0:
            raise DataError("Received no training images; check the image folder in your config.")
        if int(batch_size) < 1 or int(patch_batch) < 1:
            raise ValueError(
                f"Received batch_size={batch_size!r}, patch_batch={patch_batch!r}; both must be "
                ">= 1."
            )
        self.batch_size = int(batch_size)
        self.patch_batch = int(patch_batch)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.target_kind = resolve_target_type(target_type, num_classes)
        self.num_classes = target_num_classes(target_type, num_classes)
        if weight_map in (None, "none", False, ""):
            weight_map = None
        else:
            weight_map = WEIGHT_MAPS.canonical(weight_map)
        self.weight_map = weight_map
        self.augmentor = default_augmentor(self.seed) if augmentor == DEFAULT else augmentor

        images = [_as_image(im, i) for i, im in enumerate(images)]
        masks = [_as_mask(m, i) for i, m in enumerate(masks)]
        for i, (im, m) in enumerate(zip(images, masks)):
            if im.shape[:2] != m.shape:
                raise DataError(
                    f"Image #{i} is {im.shape[:2]} but its mask is {m.shape}; image and mask "
                    "must have the same height and width."
                )
        if len({im.shape[-1] for im in images}) > 1:
            raise DataError(
                "Images have different channel counts "
                f"{sorted({im.shape[-1] for im in images})}; convert them to one."
            )
        if patch_size is None:
            shapes = {im.shape[:2] for im in images}
            if len(shapes) > 1:
                raise DataError(
                    f"Images have different sizes {sorted(shapes)} and no patch size is set. "
                    "To fix, set [generator] patch_size (e.g. [256, 256])."
                )
            patch_size = shapes.pop()
        self.patch_size = tuple(int(s) for s in patch_size)
        self.weight_params = dict(weight_params or {})
        # Targets and weights are derived per patch AFTER geometric augmentation, from the
        # augmented mask (nearest neighbour), so contours stay closed and one pixel wide.
        self.images, self.masks, foregrounds = [], [], []
        for im, m in zip(images, masks):
            labels, _ = split_ignored(m)
            target = make_target(labels, self.target_kind, self.num_classes)  # validates values
            self.images.append(_pad_to(im, self.patch_size))
            self.masks.append(_pad_to(m, self.patch_size))
            foregrounds.append(_pad_to(target, self.patch_size))
        self.sampler = PatchSampler(foregrounds, self.patch_size, sampling_pdf)
        self.steps_per_epoch = steps_per_epoch
        self.epoch = 0
        self._orders = {}

    def __len__(self):
        if self.steps_per_epoch:
            return int(self.steps_per_epoch)
        return math.ceil(len(self.images) / self.batch_size)

    @property
    def num_batches(self):
        return len(self)

    def _order(self, epoch, cycle):
        key = (epoch, cycle)
        order = self._orders.get(key)
        if order is None:
            n = len(self.images)
            order = (np.random.default_rng((self.seed, epoch, cycle, 1)).permutation(n)
                     if self.shuffle else np.arange(n))
            if len(self._orders) > 64:
                self._orders.clear()
            self._orders[key] = order
        return order

    def image_indices(self, index, epoch=None):
        """Indices of the images of batch `index` in `epoch` (default: the current one)."""
        epoch = (self.epoch if epoch is None else epoch) if self.shuffle else 0
        n = len(self.images)
        positions = range(index * self.batch_size, (index + 1) * self.batch_size)
        return [int(self._order(epoch, p // n)[p % n]) for p in positions]

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range [0, {len(self)}).")
        epoch = self.epoch if self.shuffle else 0
        rng = np.random.default_rng((self.seed, epoch, int(index)))
        h, w = self.patch_size
        xs, ys, ws = [], [], []
        for i in self.image_indices(index):
            for _ in range(self.patch_batch):
                top, left = self.sampler.sample(rng, i)
                centre = (left + (w - 1) / 2.0, top + (h - 1) / 2.0)
                source, source_mask = self._source_image(i), self._source_mask(i)
                if self.augmentor is None:
                    window = (slice(top, top + h), slice(left, left + w))
                    x, mask = source[window], source_mask[window]
                else:
                    x, mask, _ = self.augmentor.augment(
                        source, source_mask, None, rng=rng,
                        output_shape=self.patch_size, center=centre,
                    )
                y, wt = self.derive_targets(mask)
                xs.append(self._finish_x(x if x.ndim == 3 else x[..., None]))
                ys.append(y)
                ws.append(wt)
        x = np.stack(xs).astype(np.float32, copy=False)
        y = np.stack(ys).astype(np.float32)[..., None]
        if self.weight_map:
            y = np.concatenate([y, np.stack(ws).astype(np.float32)[..., None]], axis=-1)
        return x, self._finish_y(y)

    def derive_targets(self, mask):
        """(target, weights or None) of one (augmented) mask patch (h, w), or of a window's
        masks (h, w, T) for every-frame targets (then one target per frame, no weights)."""
        mask, ignore = split_ignored(mask)
        if mask.ndim == 3:
            target = np.stack([make_target(mask[..., k], self.target_kind, self.num_classes)
                               for k in range(mask.shape[-1])], axis=-1)
            return apply_ignore_to_target(target, ignore), None
        target = apply_ignore_to_target(
            make_target(mask, self.target_kind, self.num_classes), ignore)
        if not self.weight_map:
            return target, None
        return target, compute_weight_map(self.weight_map, mask, **self.weight_params)

    def _source_image(self, i):
        """The (H, W, C) array patches of sample `i` are cut from (subclasses add frames)."""
        return self.images[i]

    def _finish_x(self, x):
        """Shapes one augmented (h, w, C) input patch (subclasses split frames)."""
        return x

    def _source_mask(self, i):
        """The (H, W) mask patches of sample `i` are cut from (subclasses stack frames);
        targets and weights are derived from the augmented patch."""
        return self.masks[i]

    def _finish_y(self, y):
        """Shapes a batch of targets (subclasses move a frame axis)."""
        return y

    def on_epoch_end(self):
        self.epoch += 1


def dataset_kwargs_from_config(cfg, *, training=True):
    """Maps the canonical config (section -> dict) to `SegmentationDataset` keyword arguments.

    Reads `[train] batch_size steps_per_epoch validation_steps`, `[model] num_classes` and
    `[generator] ...`; the augmentor comes from `build_augmentor(cfg)` when training (None for
    validation, which is also not shuffled).
    """
    gen = dict(cfg.get("generator", {}) or {})
    train = dict(cfg.get("train", {}) or {})
    model = dict(cfg.get("model", {}) or {})
    weight_map = gen.get("weight_map")
    return dict(
        batch_size=train.get("batch_size", 4),
        patch_size=gen.get("patch_size"),
        augmentor=build_augmentor(cfg) if training else None,
        shuffle=training,
        seed=gen.get("seed", 0),
        steps_per_epoch=train.get("steps_per_epoch" if training else "validation_steps"),
        target_type=gen.get("target_type", "segmentation"),
        num_classes=model.get("num_classes", 1),
        weight_map=None if weight_map in (None, "none") else weight_map,
        weight_params={"w0": gen.get("w0", 10.0), "sigma": gen.get("weight_sigma", 5.0)},
        sampling_pdf=gen.get("sampling_pdf", 0.0),
        patch_batch=gen.get("patch_batch", 1),
        workers=gen.get("workers", 1),
        use_multiprocessing=gen.get("use_multiprocessing", False),
        max_queue_size=gen.get("max_queue_size", 10),
    )


def dataset_from_config(cfg, images, masks, *, training=True):
    """A `SegmentationDataset` of in-memory images/masks configured by the canonical config."""
    return SegmentationDataset(images, masks, **dataset_kwargs_from_config(cfg, training=training))
