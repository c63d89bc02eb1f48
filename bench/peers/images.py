"""The shared image set, preprocessed as the model's config says, cached as uint8 NHWC.

shared/data/imagenet-sample/labels.csv order; the first 100 are the calibration set (the images intvit
calibrates on), all 500 the evaluation set. Preprocessing is timm's eval transform done with PIL:
bicubic resize of the shorter side to floor(224 / crop_pct) = 248, then a centered 224 crop.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from PIL import Image

INPUT_SIZE = 224
CROP_PCT = 0.9  # shared/models/vit_tiny_patch16_224/config.json
CALIBRATION_IMAGES = 100

# Two ways to round the resized longer side and the crop offset, as models/preprocess.h names them:
#   torchvision: int(s * long / short), offset round((size - crop) / 2) -- timm's eval transform;
#   nearest:     round(s * long / short), offset (size - crop) // 2 -- how reference.safetensors was made.
ROUNDINGS = ("torchvision", "nearest")

# Normalisation of every model here (config.json: mean = std = 0.5).
MEAN = 0.5
STD = 0.5


def sample_dir(shared: Path) -> Path:
    return shared / "data" / "imagenet-sample"


def read_labels(shared: Path) -> list[tuple[str, int]]:
    """(file, class_index) in labels.csv order."""
    with open(sample_dir(shared) / "labels.csv", newline="") as f:
        return [(row["file"], int(row["class_index"])) for row in csv.DictReader(f)]


def preprocess(path: Path, rounding: str = "torchvision") -> np.ndarray:
    """One photo -> uint8 RGB [224, 224, 3]."""
    scale = math.floor(INPUT_SIZE / CROP_PCT)
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        short, long = (w, h) if w <= h else (h, w)
        if short != scale:
            new_long = int(scale * long / short) if rounding == "torchvision" else round(scale * long / short)
            size = (scale, new_long) if w <= h else (new_long, scale)
            im = im.resize(size, Image.BICUBIC)
        w, h = im.size
        if rounding == "torchvision":
            left, top = int(round((w - INPUT_SIZE) / 2.0)), int(round((h - INPUT_SIZE) / 2.0))
        else:
            left, top = (w - INPUT_SIZE) // 2, (h - INPUT_SIZE) // 2
        im = im.crop((left, top, left + INPUT_SIZE, top + INPUT_SIZE))
        return np.asarray(im, dtype=np.uint8).copy()


def load_image_set(shared: Path, cache_dir: Path, count: int, rounding: str) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images of labels.csv as (pixels uint8 [N, 224, 224, 3], class_index int64 [N]),
    read from cache_dir when an earlier run already preprocessed at least that many."""
    labels = read_labels(shared)
    count = min(count, len(labels))
    cache_dir.mkdir(parents=True, exist_ok=True)
    pixels_path = cache_dir / f"imagenet-sample-{rounding}.npy"
    if pixels_path.exists():
        cached = np.load(pixels_path, mmap_mode="r")
        if len(cached) >= count:
            return np.array(cached[:count]), np.array([c for _, c in labels[:count]], dtype=np.int64)
    pixels = np.stack([preprocess(sample_dir(shared) / f, rounding) for f, _ in labels[:count]])
    tmp = pixels_path.with_suffix(".tmp.npy")
    np.save(tmp, pixels)
    tmp.replace(pixels_path)
    return pixels, np.array([c for _, c in labels[:count]], dtype=np.int64)


def normalise_pixels(pixels_nhwc_u8: np.ndarray) -> np.ndarray:
    """uint8 RGB [N, H, W, 3] -> float32 NCHW (x/255 - mean) / std, the model input."""
    x = pixels_nhwc_u8.astype(np.float32) * np.float32(1.0 / 255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
