#!/usr/bin/python3
"""Writes the PIL resize and preprocess goldens in tests/data/images/resize/ (Debian /usr/bin/python3).

Inputs are small synthetic RGB images; outputs are PIL's Image.resize() with BILINEAR and BICUBIC
(down, up, one axis only, mixed, extreme), and timm's eval preprocessing (torchvision Resize(int) +
CenterCrop, reimplemented below from torchvision's rules, since torchvision is not installed), and
the same with the rounding of the shared reference pixels (round() for the resized size, floor for
the crop offset).
Everything is PNG (lossless) and listed in manifest.txt, which tests/preprocess_test.cc reads:

    resize <input> <output> <out_width> <out_height> <bilinear|bicubic>
    preprocess <input> <output> <input_size> <crop_pct> <bilinear|bicubic> <torchvision|nearest>

    python3 tests/golden/make_resize_golden.py             # from the repository root
"""
import math
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "images", "resize")
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def inputs():
    rng = np.random.default_rng(20240611)
    noise = rng.integers(0, 256, (29, 37, 3), dtype=np.uint8)  # every frequency, hard on rounding
    y, x = np.mgrid[0:41, 0:29]
    # Hard 0/255 edges make bicubic overshoot, exercising the clip to [0, 255].
    edges = np.stack([((x // 3 + y // 5) % 2) * 255, (x > 14) * 255, ((x + y) % 7 == 0) * 255],
                     axis=-1).astype(np.uint8)
    y, x = np.mgrid[0:60, 0:97]
    photo = np.stack([x * 2 + y, 255 - y * 4, (x * y) % 256], axis=-1).clip(0, 255).astype(np.uint8)
    photo = (photo.astype(int) + rng.integers(-8, 9, photo.shape)).clip(0, 255).astype(np.uint8)
    portrait = np.ascontiguousarray(photo[::-1, :45])  # 45 wide, 60 tall
    return {"noise": noise, "edges": edges, "photo": photo, "portrait": portrait}


def torchvision_resize_size(width, height, size, rounding=int):
    """torchvision _compute_resized_output_size for Resize(int): shorter side -> size."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, rounding(size * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


def torchvision_center_crop(im, size, offset=lambda excess: int(round(excess / 2.0))):
    """torchvision CenterCrop(size) on a PIL image: zero padding if too small, round() offsets."""
    width, height = im.size
    if size > width or size > height:
        left, top = (size - width) // 2 if size > width else 0, (size - height) // 2 if size > height else 0
        padded = Image.new("RGB", (max(width, size), max(height, size)), (0, 0, 0))
        padded.paste(im, (left, top))
        im, (width, height) = padded, padded.size
        if (width, height) == (size, size):
            return im
    top, left = offset(height - size), offset(width - size)
    return im.crop((left, top, left + size, top + size))


ROUNDINGS = {
    "torchvision": (int, lambda excess: int(round(excess / 2.0))),
    "nearest": (round, lambda excess: excess // 2),  # how the shared reference pixels were made
}


def timm_eval(im, input_size, crop_pct, resample, rounding="torchvision"):
    scale_size = math.floor(input_size / crop_pct)
    if im.size == (input_size, input_size):
        return im  # intvit's policy: an image already at the input size is used as is
    size_rounding, offset = ROUNDINGS[rounding]
    resized = im.resize(torchvision_resize_size(*im.size, scale_size, size_rounding), resample)
    return torchvision_center_crop(resized, input_size, offset)


def main():
    os.makedirs(OUT, exist_ok=True)
    images = {}
    for name, pixels in inputs().items():
        images[name] = Image.fromarray(pixels, "RGB")
        images[name].save(os.path.join(OUT, f"{name}.png"))
    resize_cases = {
        "noise": [(11, 9), (3, 2), (1, 1), (53, 40), (20, 29), (37, 50), (90, 10), (36, 28)],
        "edges": [(10, 13), (58, 82), (29, 100), (7, 41)],
    }
    lines = [f"# written by tests/golden/make_resize_golden.py with PIL {Image.__version__}"]
    for name, sizes in resize_cases.items():
        for (w, h) in sizes:
            for fname, resample in FILTERS.items():
                out = f"{name}_{w}x{h}_{fname}.png"
                images[name].resize((w, h), resample).save(os.path.join(OUT, out))
                lines.append(f"resize {name}.png {out} {w} {h} {fname}")
    # (input, input_size, crop_pct): odd crop offsets (round half to even), portrait, upscaling,
    # crop_pct > 1 (zero padding), an input already at the input size.
    # (input, input_size, crop_pct, roundings): odd crop offsets (round half to even vs floor),
    # sizes where int() and round() differ, portrait, upscaling, crop_pct > 1 (zero padding), an
    # input already at the input size.
    both = ("torchvision", "nearest")
    preprocess_cases = [("photo", 32, 0.9, both), ("photo", 48, 0.875, ("torchvision",)),
                        ("portrait", 24, 0.9, both), ("noise", 40, 0.875, ("torchvision",)),
                        ("photo", 70, 1.25, both), ("edges", 29, 0.95, ("torchvision",)),
                        ("noise", 29, 0.9, ("torchvision",))]
    for name, size, crop_pct, roundings in preprocess_cases:
        for rounding in roundings:
            for fname, resample in FILTERS.items():
                out = f"pre_{name}_{size}_{crop_pct}_{fname}_{rounding}.png"
                result = timm_eval(images[name], size, crop_pct, resample, rounding)
                assert result.size == (size, size)
                result.save(os.path.join(OUT, out))
                lines.append(f"preprocess {name}.png {out} {size} {crop_pct} {fname} {rounding}")
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
