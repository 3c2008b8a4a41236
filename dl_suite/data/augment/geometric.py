"""Geometric transforms composed into ONE coordinate map per sample, then resampled once.

Coordinates are output-pixel coordinates centred on the output patch, (u, v) = (x - (W-1)/2,
y - (H-1)/2), x = column, y = row. Each transform gives its *backward* mapping (output ->
source), so composing is a matrix product (affine transforms) plus displacement fields and
analytic lens mappings evaluated on the output grid:

    q = p + sum(displacement fields)(p)        elastic deformation, smooth distortion
    q = lens_k(...lens_1(q))                   barrel / pincushion
    source = M @ q + centre_in_source          flips, rotations, zoom, shear, shift, crop

When only affine transforms are drawn the map is a single `cv2.warpAffine`.
"""

import math

import cv2
import numpy as np

from dl_suite.data.augment.base import Transform, as_choices, as_range, register

BORDER_MODES = {
    "reflect": cv2.BORDER_REFLECT_101,
    "constant": cv2.BORDER_CONSTANT,
    "replicate": cv2.BORDER_REPLICATE,
    "wrap": cv2.BORDER_WRAP,
}
INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
}


class GeometricTransform(Transform):
    """Base of transforms that move pixels (applied identically to every target)."""

    kind = "affine"


def _matrix(a, b, c, d, tx=0.0, ty=0.0):
    return np.array([[a, b, tx], [c, d, ty], [0.0, 0.0, 1.0]])


@register("vflip")
class VerticalFlip(GeometricTransform):
    """Flips upside down (rows reversed), like `np.flipud`."""

    def draw(self, rng, shape):
        return _matrix(1.0, 0.0, 0.0, -1.0)


@register("hflip")
class HorizontalFlip(GeometricTransform):
    """Flips left-right (columns reversed), like `np.fliplr`."""

    def draw(self, rng, shape):
        return _matrix(-1.0, 0.0, 0.0, 1.0)


def rotation_matrix(degrees):
    """Backward matrix of a counter-clockwise rotation (90 degrees equals `np.rot90`)."""
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    # Snap so that multiples of 90 degrees are exact permutations (no interpolation blur).
    cos, sin = (round(v) if abs(v - round(v)) < 1e-12 else v for v in (cos, sin))
    return _matrix(cos, -sin, sin, cos)


@register("rotation")
class Rotation(GeometricTransform):
    """Rotates counter-clockwise by an angle (degrees) chosen from `angles`."""

    def __init__(self, angles=(90, 180, 270), p=0.75):
        super().__init__(p)
        self.angles = [float(a) for a in as_choices("angles", angles)]

    def draw(self, rng, shape):
        return rotation_matrix(self.angles[rng.integers(len(self.angles))])


@register("random_rotation")
class RandomRotation(GeometricTransform):
    """Rotates by a uniform random angle in `rotation_range` (r -> [-r, r] degrees)."""

    def __init__(self, rotation_range=15.0, p=0.5):
        super().__init__(p)
        self.rotation_range = as_range("rotation_range", rotation_range)

    def draw(self, rng, shape):
        return rotation_matrix(rng.uniform(*self.rotation_range))


@register("shrink")
class Shrink(GeometricTransform):
    """Scales the content by a factor chosen from `shrinks` (0.8 = 80 % of its size)."""

    def __init__(self, shrinks=(0.8,), p=0.5):
        super().__init__(p)
        self.shrinks = [float(s) for s in as_choices("shrinks", shrinks, positive=True)]

    def draw(self, rng, shape):
        s = 1.0 / self.shrinks[rng.integers(len(self.shrinks))]
        return _matrix(s, 0.0, 0.0, s)


@register("zoom")
class Zoom(GeometricTransform):
    """Scales the content by a uniform random factor in `zoom_range` ([0.9, 1.1])."""

    def __init__(self, zoom_range=(0.9, 1.1), p=0.5):
        super().__init__(p)
        self.zoom_range = as_range("zoom_range", zoom_range)
        if self.zoom_range[0] <= 0:
            raise ValueError(f"Received `zoom_range={zoom_range!r}`; factors must be > 0.")

    def draw(self, rng, shape):
        s = 1.0 / rng.uniform(*self.zoom_range)
        return _matrix(s, 0.0, 0.0, s)


@register("shear")
class Shear(GeometricTransform):
    """Shears horizontally by a factor chosen from `shears` (x' = x + k * y)."""

    def __init__(self, shears=(0.1,), p=0.5):
        super().__init__(p)
        self.shears = [float(s) for s in as_choices("shears", shears)]

    def draw(self, rng, shape):
        k = self.shears[rng.integers(len(self.shears))]
        return _matrix(1.0, -k, 0.0, 1.0)


@register("shift")
class Shift(GeometricTransform):
    """Translates by a uniform random fraction of the size in [-shift_range, shift_range]."""

    def __init__(self, shift_range=0.1, p=0.5):
        super().__init__(p)
        self.shift_range = float(shift_range)
        if not 0.0 <= self.shift_range < 1.0:
            raise ValueError(f"Received `shift_range={shift_range!r}`, expected 0 <= value < 1.")

    def draw(self, rng, shape):
        h, w = shape
        tx, ty = rng.uniform(-self.shift_range, self.shift_range, size=2) * (w, h)
        return _matrix(1.0, 0.0, 0.0, 1.0, -tx, -ty)


@register("crop")
class RandomCrop(GeometricTransform):
    """Crops a random window (side fraction in [crop_scale, 1]) and resizes it to full size."""

    def __init__(self, crop_scale=0.8, p=0.5):
        super().__init__(p)
        self.crop_scale = float(crop_scale)
        if not 0.0 < self.crop_scale <= 1.0:
            raise ValueError(f"Received `crop_scale={crop_scale!r}`, expected 0 < value <= 1.")

    def draw(self, rng, shape):
        h, w = shape
        s = rng.uniform(self.crop_scale, 1.0)
        tx, ty = rng.uniform(-0.5, 0.5, size=2) * (1.0 - s) * (w, h)
        return _matrix(s, 0.0, 0.0, s, tx, ty)


def smooth_noise(rng, shape, sigma):
    """Uniform(-1, 1) noise smoothed by a Gaussian of `sigma` pixels (fast for large sigma).

    Large sigmas are computed on a grid coarser by `f = sigma // 4` and upsampled: a field that
    smooth has no detail at the fine scale, and the amplitude is rescaled to match.
    """
    h, w = shape
    f = max(1, int(sigma // 4))
    small = rng.uniform(-1.0, 1.0, size=(h // f + 2, w // f + 2)).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f, borderType=cv2.BORDER_REFLECT_101)
    if f > 1:
        small = cv2.resize(small, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)[:h, :w] / f
    return small[:h, :w]


@register("deformation", aliases=("elastic",))
class ElasticDeformation(GeometricTransform):
    """Simard-style elastic deformation: displacement = alpha * Gaussian(sigma)-smoothed noise.

    Args:
        alpha: displacement scale (pixels; the legacy default 1300 with sigma 8 is strong).
        sigmoids: Gaussian sigma(s) in pixels; one is chosen per sample.
    """

    kind = "field"

    def __init__(self, alpha=1300.0, sigmoids=(8.0,), p=0.5):
        super().__init__(p)
        self.alpha = float(alpha)
        self.sigmoids = [float(s) for s in as_choices("sigmoids", sigmoids, positive=True)]

    def draw(self, rng, shape):
        sigma = self.sigmoids[rng.integers(len(self.sigmoids))]
        dx = smooth_noise(rng, shape, sigma) * self.alpha
        dy = smooth_noise(rng, shape, sigma) * self.alpha
        return dx, dy


@register("distortion")
class SmoothDistortion(GeometricTransform):
    """Smooth random distortion: Gaussian-filtered noise fields scaled to a fraction of the size.

    Args:
        gaussian_filter_rsigma: smoothness of the field (pixels).
        gaussian_filter_sigma: extra smoothing of the field (pixels, 0 = none).
        distortions: maximum displacement as a fraction of the image side; one is chosen
            per sample.
    """

    kind = "field"

    def __init__(self, gaussian_filter_rsigma=40.0, gaussian_filter_sigma=0.5,
                 distortions=(0.02,), p=0.5):
        super().__init__(p)
        self.gaussian_filter_rsigma = float(gaussian_filter_rsigma)
        self.gaussian_filter_sigma = float(gaussian_filter_sigma)
        self.distortions = [float(d) for d in as_choices("distortions", distortions)]
        if self.gaussian_filter_rsigma <= 0:
            raise ValueError("Received `gaussian_filter_rsigma<=0`; give a positive sigma.")

    def draw(self, rng, shape):
        amount = self.distortions[rng.integers(len(self.distortions))] * min(shape)
        fields = []
        for _ in range(2):
            field = smooth_noise(rng, shape, self.gaussian_filter_rsigma)
            if self.gaussian_filter_sigma > 0:
                field = cv2.GaussianBlur(field, (0, 0), self.gaussian_filter_sigma)
            fields.append(field * (amount / max(float(np.abs(field).max()), 1e-12)))
        return tuple(fields)


class LensDistortion(GeometricTransform):
    """Local radial distortion around a centre chosen from `centers`.

    Inside the radius R = radius * max(H, W) a point at relative distance d = r / R is read
    from distance r * (1 - amount * (1 - d)^2): amount > 0 magnifies (barrel), amount < 0
    pinches (pincushion); the mapping is the identity at and beyond R.
    """

    kind = "lens"

    def __init__(self, radius=0.3, amount=0.3, centers=((0.5, 0.5),), p=0.5):
        super().__init__(p)
        self.radius = float(radius)
        self.amount = float(amount)
        centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
        if centers.size == 0:
            raise ValueError(f"[{self.name}] `centers` is empty; give e.g. [(0.5, 0.5)].")
        self.centers = [tuple(c) for c in centers.tolist()]
        if self.radius <= 0 or not -1.0 < self.amount < 1.0:
            raise ValueError(
                f"[{self.name}] received radius={radius!r}, amount={amount!r}; expected "
                "radius > 0 and -1 < amount < 1 (fractions of the image size)."
            )

    def draw(self, rng, shape):
        h, w = shape
        cx, cy = self.centers[rng.integers(len(self.centers))]
        centre = (cx * w - (w - 1) / 2.0, cy * h - (h - 1) / 2.0)
        return centre, self.radius * max(h, w), self.amount


@register("barrdistortion", aliases=("barrel",))
class BarrelDistortion(LensDistortion):
    pass


@register("pincdistortion", aliases=("pincushion",))
class PincushionDistortion(LensDistortion):
    def __init__(self, radius=0.3, amount=-0.3, centers=((0.5, 0.5),), p=0.5):
        super().__init__(radius, amount, centers, p)


def apply_lens(qx, qy, params):
    """Applies one drawn lens mapping to coordinate arrays (in place when possible)."""
    (cx, cy), radius, amount = params
    cx, cy, radius, amount = float(cx), float(cy), float(radius), float(amount)
    ux, uy = qx - cx, qy - cy
    d = np.sqrt(ux * ux + uy * uy) * (1.0 / radius)
    factor = 1.0 - amount * np.square(np.maximum(1.0 - d, 0.0))
    return cx + ux * factor, cy + uy * factor


_GRIDS = {}


def _centred_grid(shape):
    grid = _GRIDS.get(shape)
    if grid is None:
        h, w = shape
        xs = np.arange(w, dtype=np.float32) - np.float32((w - 1) / 2.0)
        ys = np.arange(h, dtype=np.float32) - np.float32((h - 1) / 2.0)
        grid = tuple(np.meshgrid(xs, ys))
        if len(_GRIDS) > 16:
            _GRIDS.clear()
        _GRIDS[shape] = grid
    return grid


class CoordinateMap:
    """The composed backward mapping of one sample, shared by all of its targets.

    Args:
        out_shape: (h, w) of the output.
        centre: (x, y) of the output centre in source pixel coordinates.
        matrix: 3x3 backward affine matrix in centred coordinates.
        fields: list of (dx, dy) displacement arrays of shape `out_shape`.
        lenses: list of drawn lens parameters.
    """

    def __init__(self, out_shape, centre, matrix=None, fields=(), lenses=()):
        self.out_shape = tuple(int(s) for s in out_shape)
        matrix = np.eye(3) if matrix is None else np.asarray(matrix, dtype=np.float64)
        h, w = self.out_shape
        oc = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        self.affine = np.concatenate(
            [matrix[:2, :2], (np.asarray(centre) + matrix[:2, 2] - matrix[:2, :2] @ oc)[:, None]],
            axis=1,
        )
        self.maps = None
        if fields or lenses:
            qx, qy = _centred_grid(self.out_shape)
            if fields:
                qx = qx + sum(f[0] for f in fields)
                qy = qy + sum(f[1] for f in fields)
            for lens in lenses:
                qx, qy = apply_lens(qx, qy, lens)
            # Python floats keep the arithmetic in float32 (numpy scalars would promote).
            (a, b, tx), (c, d, ty) = matrix[:2].tolist()
            tx, ty = tx + float(centre[0]), ty + float(centre[1])
            if (a, b, c, d) == (1.0, 0.0, 0.0, 1.0):
                mapx, mapy = qx + np.float32(tx), qy + np.float32(ty)
            else:
                mapx = a * qx + b * qy + tx
                mapy = c * qx + d * qy + ty
            mapx, mapy = mapx.astype(np.float32, copy=False), mapy.astype(np.float32, copy=False)
            self.maps = (mapx, mapy)

    @property
    def is_integer(self):
        """True when every output pixel reads exactly one source pixel (no interpolation)."""
        return self.maps is None and np.allclose(self.affine, np.round(self.affine), atol=1e-9)

    def apply(self, array, interpolation="linear", border_mode="reflect"):
        """Resamples `array` ((H, W) or (H, W, C)) through the map; dtype is kept."""
        if array is None:
            return None
        interp = INTERPOLATIONS[interpolation] if isinstance(interpolation, str) else interpolation
        if self.is_integer:
            interp = cv2.INTER_NEAREST
        border = BORDER_MODES[border_mode]
        squeeze = array.ndim == 3 and array.shape[-1] == 1
        src = array[..., 0] if squeeze else array
        if src.ndim == 3 and src.shape[-1] > 4:
            out = np.stack(
                [self.apply(src[..., i], interpolation, border_mode) for i in range(src.shape[-1])],
                axis=-1,
            )
            return out
        if src.dtype not in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
            src = src.astype(np.float32 if interp != cv2.INTER_NEAREST else np.int32)
            if src.dtype == np.int32:
                # remap has no int32 nearest path: labels up to 2**24 are exact in float32.
                src = src.astype(np.float32)
        h, w = self.out_shape
        if self.maps is None:
            out = cv2.warpAffine(
                src, self.affine, (w, h), flags=interp | cv2.WARP_INVERSE_MAP,
                borderMode=border,
            )
        else:
            out = cv2.remap(src, self.maps[0], self.maps[1], interp, borderMode=border)
        out = out.astype(array.dtype, copy=False)
        return out[..., None] if squeeze else out
