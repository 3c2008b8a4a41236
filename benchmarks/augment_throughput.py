"""Throughput (image/mask pairs per second, one core) of the dl-suite augmentor vs albumentations.

Pipeline on both sides: vertical + horizontal flips (p=0.5), rotation by a random angle in
[-30, 30] (p=1), elastic deformation (sigma 8, p=1), brightness/contrast (p=1) and additive
Gaussian noise (p=1), on a 512x512 float32 image and its uint8 mask.

    python3 benchmarks/augment_throughput.py [--size 512] [--num 200] [--threads 1]

albumentations is optional (`python3 -m pip install albumentations`, the `bench` extra).
"""

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout


def sample_pair(size, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    mask = np.zeros((size, size), np.uint8)
    for r, c in rng.integers(20, size - 20, size=(60, 2)):
        mask[(yy - r) ** 2 + (xx - c) ** 2 <= 144] = 1
    image = (mask * 0.6 + rng.random((size, size), dtype=np.float32) * 0.3).astype(np.float32)
    return image[..., None], mask


def dl_suite_pipeline(seed=0):
    from dl_suite.data.augment import from_config

    cfg = {
        "generator": {"seed": seed},
        "augmentor": {
            "vflip": True, "hflip": True, "rotation": False, "random_rotation": True,
            "rotation_range": 30, "random_rotation_prob": 1.0, "deformation": True,
            "deformation_prob": 1.0, "brightening": True, "brightening_prob": 1.0,
            "noise": True, "noise_prob": 1.0, "noise_std": 0.05,
        },
        "deformation": {"alpha": 300.0, "sigmoids": [8.0]},
        "brightening": {"alpha": 1.2, "beta": 10},
    }
    augmentor = from_config(cfg)
    return lambda image, mask: augmentor(image, mask)


def albumentations_pipeline(seed=0, approximate=False):
    import albumentations as A

    pipeline = A.Compose([
        A.VerticalFlip(p=0.5),
        A.HorizontalFlip(p=0.5),
        A.Rotate(limit=30, p=1.0, border_mode=cv2.BORDER_REFLECT_101),
        A.ElasticTransform(alpha=300.0, sigma=8.0, approximate=approximate, p=1.0),
        A.RandomBrightnessContrast(p=1.0),
        A.GaussNoise(std_range=(0.0, 0.05), p=1.0),
    ], seed=seed)
    return lambda image, mask: pipeline(image=image, mask=mask)


def throughput(fn, image, mask, num):
    for _ in range(5):
        fn(image, mask)
    start = time.perf_counter()
    for _ in range(num):
        fn(image, mask)
    return num / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--num", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = per core)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    image, mask = sample_pair(args.size)
    results = {"dl-suite": throughput(dl_suite_pipeline(), image, mask, args.num)}
    try:
        results["albumentations"] = throughput(albumentations_pipeline(), image, mask, args.num)
        # albumentations' faster, approximate elastic mode, for a fair second comparison
        results["albu approximate"] = throughput(
            albumentations_pipeline(approximate=True), image, mask, args.num
        )
    except ImportError:
        print("albumentations is not installed: python3 -m pip install albumentations")
    print(f"{args.size}x{args.size}, {args.num} pairs, OpenCV threads={args.threads}")
    for name, value in results.items():
        print(f"  {name:15s} {value:8.1f} pairs/s")
    for name in ("albumentations", "albu approximate"):
        if name in results:
            print(f"  ratio vs {name:16s} {results['dl-suite'] / results[name]:6.2f}x")
    return results


if __name__ == "__main__":
    main()
