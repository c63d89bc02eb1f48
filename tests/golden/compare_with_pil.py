#!/usr/bin/python3
"""Measures intvit's preprocess() against PIL on the shared ImageNet sample (Debian /usr/bin/python3).

For every JPEG in ../shared/data/imagenet-sample/ it writes, to a scratch directory, PIL's decoded
RGB pixels (PNG, lossless) and PIL's 224/crop_pct 0.9/bicubic preprocessing under both geometry
roundings (torchvision, and the shared reference pixels' "nearest"); then it runs the hidden Catch2
case "[pil-compare]", which preprocesses (a) PIL's decoded pixels, isolating the resampler, and
(b) the JPEG decoded by intvit (libjpeg-turbo, as PIL), end to end, and prints identical-byte fractions and max |diff|.

    /usr/bin/python3 tests/golden/compare_with_pil.py --tests build/<name>/tests/intvit_tests
"""
import argparse
import os
import subprocess
import sys
import tempfile

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_resize_golden import timm_eval  # noqa: E402  (the same PIL/torchvision rules as the goldens)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", required=True, help="path to the intvit_tests binary")
    parser.add_argument("--images", default=os.environ.get("INTVIT_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
                        + "/data/imagenet-sample")
    parser.add_argument("--work", help="scratch directory (default: a temporary one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        lines = []
        for name in sorted(os.listdir(args.images)):
            if not name.lower().endswith((".jpeg", ".jpg")):
                continue
            path = os.path.join(args.images, name)
            im = Image.open(path).convert("RGB")  # as timm's loader does
            stem = os.path.join(work, os.path.splitext(name)[0])
            im.save(stem + ".decoded.png", compress_level=1)
            for rounding in ("torchvision", "nearest"):
                timm_eval(im, 224, 0.9, Image.BICUBIC, rounding).save(f"{stem}.{rounding}.png", compress_level=1)
            lines.append(f"{path} {stem}.decoded.png {stem}.torchvision.png {stem}.nearest.png")
        with open(os.path.join(work, "list.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"PIL {Image.__version__}: {len(lines)} JPEGs from {os.path.normpath(args.images)}", flush=True)
        env = dict(os.environ, INTVIT_PIL_COMPARE_DIR=work)
        return subprocess.run([args.tests, "[pil-compare]"], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
