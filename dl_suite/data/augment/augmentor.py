"""ImageMaskAugmentor: one random draw per sample, applied identically to image, mask, weights.

Geometric transforms are composed into one coordinate map (see `geometric.py`) and every target
is resampled once: the image with linear (or cubic) interpolation, masks and label images with
nearest neighbour, weight maps with linear interpolation. Photometric transforms then change
the image only.
"""

import logging

import numpy as np

from dl_suite.data.augment import photometric  # noqa: F401  (registers photometric ops)
from dl_suite.data.augment.base import AUGMENTATIONS, check_probability
from dl_suite.data.augment.geometric import BORDER_MODES, INTERPOLATIONS, CoordinateMap

logger = logging.getLogger(__name__)


class ImageMaskAugmentor:
    """Applies a list of transforms to image/mask/weight-map triples.

    Args:
        transforms: Transform instances (see `AUGMENTATIONS.names()`), in application order.
        seed: seed of the augmentor's own `np.random.Generator` (used when no `rng` is given).
        border_mode: "reflect", "constant", "replicate" or "wrap" for pixels read from outside.
        interpolation: "linear" or "cubic" for the image (masks always use nearest).
    """

    def __init__(self, transforms=(), *, seed=0, border_mode="reflect", interpolation="linear"):
        self.transforms = list(transforms)
        if border_mode not in BORDER_MODES:
            raise ValueError(
                f"Received `border_mode={border_mode!r}`, expected one of {sorted(BORDER_MODES)}."
            )
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Received `interpolation={interpolation!r}`, expected one of "
                f"{sorted(INTERPOLATIONS)}."
            )
        self.seed = seed
        self.border_mode = border_mode
        self.interpolation = interpolation
        self.rng = np.random.default_rng(seed)

    def draw(self, rng, output_shape, center):
        """Draws one sample's parameters: (CoordinateMap, [(photometric transform, params)])."""
        matrix = np.eye(3)
        fields, lenses, photometric_ops = [], [], []
        for t in self.transforms:
            params = t.maybe_draw(rng, output_shape)
            if params is None:
                continue
            if t.kind == "affine":
                matrix = matrix @ params
            elif t.kind == "field":
                fields.append(params)
            elif t.kind == "lens":
                lenses.append(params)
            else:
                photometric_ops.append((t, params))
        return CoordinateMap(output_shape, center, matrix, fields, lenses), photometric_ops

    def augment(self, image, mask=None, weights=None, *, rng=None, output_shape=None,
                center=None):
        """Augments one sample.

        Args:
            image: (H, W) or (H, W, C) array (float32 after normalisation).
            mask: optional (H, W) integer mask or label image (resampled with nearest).
            weights: optional (H, W) float weight map (resampled linearly).
            rng: `np.random.Generator`; defaults to the augmentor's own.
            output_shape: (h, w) of the output patch; defaults to the input size.
            center: (x, y) source coordinates of the patch centre; defaults to the image centre.
                Transforms act around it, so a rotated patch reads real neighbouring pixels.

        Returns:
            (image, mask, weights), the last two None when not given.
        """
        rng = self.rng if rng is None else rng
        h, w = image.shape[:2]
        output_shape = (h, w) if output_shape is None else tuple(output_shape)
        if center is None:
            center = ((w - 1) / 2.0, (h - 1) / 2.0)
        cmap, photometric_ops = self.draw(rng, output_shape, center)
        out_image = cmap.apply(image, self.interpolation, self.border_mode)
        out_mask = cmap.apply(mask, "nearest", self.border_mode)
        out_weights = cmap.apply(weights, "linear", self.border_mode)
        if photometric_ops:
            out_image = out_image.astype(np.float32, copy=False)
            for t, params in photometric_ops:
                out_image = t.apply(out_image, params, rng)
        return out_image, out_mask, out_weights

    __call__ = augment

    def get_config(self):
        return {
            "transforms": [{"name": t.name, **t.get_config()} for t in self.transforms],
            "seed": self.seed,
            "border_mode": self.border_mode,
            "interpolation": self.interpolation,
        }

    def __repr__(self):
        names = ", ".join(t.name for t in self.transforms)
        return f"ImageMaskAugmentor([{names}], seed={self.seed})"


def default_augmentor(seed=0):
    """Random flips and 90-degree rotations (exact, no interpolation)."""
    get = AUGMENTATIONS.get
    return ImageMaskAugmentor(
        [get("vflip")(p=0.5), get("hflip")(p=0.5), get("rotation")(angles=(90, 180, 270), p=0.75)],
        seed=seed,
    )


# (op name, enabling key in [augmentor], {constructor arg: (section, key)})
_GEOMETRIC = (
    ("vflip", "vflip", {}),
    ("hflip", "hflip", {}),
    ("rotation", "rotation", {"angles": ("augmentor", "angles")}),
    ("random_rotation", "random_rotation", {"rotation_range": ("augmentor", "rotation_range")}),
    ("shrink", "shrinks", {"shrinks": ("augmentor", "shrinks")}),
    ("zoom", "zoom", {"zoom_range": ("augmentor", "zoom_range")}),
    ("shear", "shears", {"shears": ("augmentor", "shears")}),
    ("shift", "shift", {"shift_range": ("augmentor", "shift_range")}),
    ("crop", "crop", {"crop_scale": ("augmentor", "crop_scale")}),
    ("deformation", "deformation", {
        "alpha": ("deformation", "alpha"), "sigmoids": ("deformation", "sigmoids")}),
    ("distortion", "distortion", {
        "gaussian_filter_rsigma": ("distortion", "gaussian_filter_rsigma"),
        "gaussian_filter_sigma": ("distortion", "gaussian_filter_sigma"),
        "distortions": ("distortion", "distortions")}),
    ("barrdistortion", "barrdistortion", {
        "radius": ("barrdistortion", "radius"), "amount": ("barrdistortion", "amount"),
        "centers": ("barrdistortion", "centers")}),
    ("pincdistortion", "pincdistortion", {
        "radius": ("pincdistortion", "radius"), "amount": ("pincdistortion", "amount"),
        "centers": ("pincdistortion", "centers")}),
)
_PHOTOMETRIC = (
    ("brightening", "brightening", {
        "alpha": ("brightening", "alpha"), "beta": ("brightening", "beta")}),
    ("gamma", "gamma", {"gamma_range": ("augmentor", "gamma_range")}),
    ("blur", "blur", {"blur_sigma": ("augmentor", "blur_sigma")}),
    ("sharpening", "sharpening", {"k": ("sharpening", "k")}),
    ("poisson", "poisson", {"poisson_peak": ("augmentor", "poisson_peak")}),
    ("noise", "noise", {"noise_std": ("augmentor", "noise_std")}),
)
DEFAULT_PROBABILITIES = {"rotation": 0.75}
OP_NAMES = tuple(name for name, _, _ in _GEOMETRIC + _PHOTOMETRIC)


def _enabled(value):
    if isinstance(value, (list, tuple)):
        return len(value) > 0
    return bool(value)


def from_config(cfg, *, seed=None):
    """Builds an ImageMaskAugmentor from the canonical config (mapping section -> dict).

    Missing sections/keys fall back to the constructor defaults, so partial mappings work in
    tests and notebooks. Probabilities are `[augmentor] <op>_prob`.

    Returns:
        An ImageMaskAugmentor, or None when `[generator] augmentation` is false.

    Raises:
        ValueError: an option has an invalid value (the message names the key).
    """
    generator = dict(cfg.get("generator", {}) or {})
    if not generator.get("augmentation", True):
        return None
    section = dict(cfg.get("augmentor", {}) or {})
    transforms = []
    for name, enable_key, args in _GEOMETRIC + _PHOTOMETRIC:
        if not _enabled(section.get(enable_key, False)):
            continue
        kwargs = {}
        for arg, (sec, key) in args.items():
            values = cfg.get(sec, {}) or {}
            if key in values and values[key] is not None:
                kwargs[arg] = values[key]
        prob = section.get(f"{name}_prob", DEFAULT_PROBABILITIES.get(name, 0.5))
        kwargs["p"] = check_probability(name, prob)
        try:
            transforms.append(AUGMENTATIONS.get(name)(**kwargs))
        except ValueError as exc:
            raise ValueError(f"Invalid augmentation option for '{name}': {exc}") from exc
    seed = generator.get("seed", 0) if seed is None else seed
    augmentor = ImageMaskAugmentor(
        transforms,
        seed=seed,
        border_mode=section.get("border_mode", "reflect"),
        interpolation=section.get("interpolation", "linear"),
    )
    logger.debug("Built %r", augmentor)
    return augmentor


build_augmentor = from_config
