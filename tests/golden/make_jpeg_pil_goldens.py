#!/usr/bin/python3
"""Writes JPEG fixtures and PIL's decoded pixels of each, in tests/data/images/jpeg_pil/ (run with Debian's
/usr/bin/python3: its Pillow decodes with the system libjpeg-turbo, ISLOW DCT and fancy upsampling).

Each <name>.jpg has a <name>.pil.png beside it: PIL's Image.open(jpg).convert("RGB"), stored losslessly.
tests/image_test.cc requires intvit's JPEG decode to equal it byte for byte. The picture is a busy
37x29 pattern (odd sizes: partial MCUs; sharp edges and gradients: the IDCT and chroma upsampling
both show) in every chroma subsampling, baseline and progressive, gray, and Adobe CMYK.

    python3 tests/golden/make_jpeg_pil_goldens.py            # from the repository root
"""
import os

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "images", "jpeg_pil")
W, H = 37, 29


def pattern():
    im = Image.new("RGB", (W, H))
    im.putdata([((x * 7 + y * 3) & 255, (x * x + 5 * y) & 255, 255 - ((x * y) & 255) if (x // 4 + y // 4) % 2 else 40)
                for y in range(H) for x in range(W)])
    return im


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = pattern()
    cases = {
        "rgb_420": (rgb, dict(quality=90, subsampling=2)),
        "rgb_422": (rgb, dict(quality=90, subsampling=1)),
        "rgb_444": (rgb, dict(quality=90, subsampling=0)),
        "rgb_420_progressive": (rgb, dict(quality=85, subsampling=2, progressive=True)),
        "gray": (rgb.convert("L"), dict(quality=90)),
        "cmyk": (rgb.convert("CMYK"), dict(quality=90)),
    }
    for name, (im, options) in cases.items():
        path = os.path.join(OUT, name + ".jpg")
        im.save(path, **options)
        decoded = Image.open(path)
        decoded.load()
        assert decoded.mode == im.mode, (name, decoded.mode)
        decoded.convert("RGB").save(os.path.join(OUT, name + ".pil.png"))
    print(f"wrote {len(cases)} JPEGs and PIL's pixels to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
