#!/usr/bin/python3
"""Writes the small decode fixtures in tests/data/images/decode/ (run with Debian's /usr/bin/python3).

Every file encodes pixels given by the formulas below, which tests/image_test.cc reproduces in C++,
so the test needs no expected-output files. PNG, BMP and PGM/PPM are written byte by byte here (any
colour type and bit depth, no encoder choices); GIF and JPEG come from PIL. Each lossless file is
cross-checked by decoding it with PIL where PIL's RGB conversion has the same semantics.

    python3 tests/golden/make_image_fixtures.py            # from the repository root
"""
import io
import os
import struct
import sys
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "images", "decode")
W, H = 7, 5  # odd width: exercises BMP row padding and sub-byte PNG rows


# ---- pixel formulas (mirrored in tests/image_test.cc) ----
def rgb8(x, y, c):
    return (x * 29 + y * 71 + c * 97 + 13) & 255


def gray8(x, y):
    return (x * 37 + y * 59 + 5) & 255


def value16(x, y, c):
    return (x * 4099 + y * 7919 + c * 30011 + 12345) & 0xFFFF


def alpha8(x, y):
    return (x * 53 + y * 17) & 255


def palette_color(i):
    return ((i * 47 + 3) & 255, (i * 91 + 7) & 255, (i * 13 + 11) & 255)


def palette_index(x, y, colors):
    return (x * 5 + y * 11) % colors


# ---- writers ----
def png(path, color_type, bit_depth, rows, palette=None):
    """rows: list of lists of samples (already per channel), packed per bit_depth."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = bytearray()
    for row in rows:
        raw.append(0)  # filter: none
        if bit_depth == 16:
            for s in row:
                raw += struct.pack(">H", s)
        elif bit_depth == 8:
            raw += bytes(row)
        else:  # pack sub-byte samples MSB first
            per_byte = 8 // bit_depth
            for i in range(0, len(row), per_byte):
                byte = 0
                for j in range(per_byte):
                    s = row[i + j] if i + j < len(row) else 0
                    byte |= s << (8 - bit_depth * (j + 1))
                raw.append(byte)
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, bit_depth, color_type, 0, 0, 0))
    if palette is not None:
        data += chunk(b"PLTE", bytes(v for color in palette for v in color))
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    write(path, data)


def bmp(path, bits, top_down=False, palette=None, pixel=None):
    """pixel(x, y) -> (r, g, b) for 24/32 bits, or a palette index for 8 bits."""
    row_bytes = (W * bits + 31) // 32 * 4
    table = b"".join(bytes((b, g, r, 0)) for (r, g, b) in (palette or []))
    offset = 14 + 40 + len(table)
    pixels = bytearray()
    rows = range(H) if top_down else range(H - 1, -1, -1)
    for y in rows:
        row = bytearray()
        for x in range(W):
            if bits == 8:
                row.append(pixel(x, y))
            else:
                r, g, b = pixel(x, y)
                row += bytes((b, g, r)) + (b"\x00" if bits == 32 else b"")  # alpha 0 everywhere
        pixels += row + b"\x00" * (row_bytes - len(row))
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, W, -H if top_down else H, 1, bits, 0, len(pixels),
                       2835, 2835, len(palette or []), 0)
    write(path, header + info + table + pixels)


def pnm(path, magic, maxval, samples, comment=False):
    head = magic + b"\n" + (b"# intvit fixture\n" if comment else b"") + b"%d %d\n%d\n" % (W, H, maxval)
    body = b"".join(struct.pack(">H", s) if maxval > 255 else bytes((s,)) for s in samples)
    write(path, head + body)


def write(path, data):
    with open(os.path.join(OUT, path), "wb") as f:
        f.write(data)


def pil_rgb(path):
    return Image.open(os.path.join(OUT, path)).convert("RGB")


def expect_pil(path, pixel):
    im = pil_rgb(path)
    for y in range(H):
        for x in range(W):
            if im.getpixel((x, y)) != pixel(x, y):
                sys.exit(f"{path}: PIL decodes {im.getpixel((x, y))} at ({x},{y}), want {pixel(x, y)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    xy = [(x, y) for y in range(H) for x in range(W)]
    rgb = lambda x, y: tuple(rgb8(x, y, c) for c in range(3))
    gray = lambda x, y: (gray8(x, y),) * 3
    rows = lambda f: [[v for x in range(W) for v in f(x, y)] for y in range(H)]

    png("png_rgb8.png", 2, 8, rows(rgb))
    png("png_gray8.png", 0, 8, rows(lambda x, y: (gray8(x, y),)))
    png("png_gray_alpha8.png", 4, 8, rows(lambda x, y: (gray8(x, y), alpha8(x, y))))
    png("png_rgba8.png", 6, 8, rows(lambda x, y: rgb(x, y) + (alpha8(x, y),)))
    png("png_gray16.png", 0, 16, rows(lambda x, y: (value16(x, y, 0),)))
    png("png_rgb16.png", 2, 16, rows(lambda x, y: tuple(value16(x, y, c) for c in range(3))))
    png("png_rgba16.png", 6, 16, rows(lambda x, y: tuple(value16(x, y, c) for c in range(4))))
    png("png_gray1.png", 0, 1, rows(lambda x, y: ((x + y) & 1,)))
    png("png_palette8.png", 3, 8, rows(lambda x, y: (palette_index(x, y, 200),)),
        palette=[palette_color(i) for i in range(200)])
    png("png_palette4.png", 3, 4, rows(lambda x, y: (palette_index(x, y, 16),)),
        palette=[palette_color(i) for i in range(16)])
    for name, pixel in [("png_rgb8.png", rgb), ("png_gray8.png", gray), ("png_rgba8.png", rgb),
                        ("png_gray_alpha8.png", gray),
                        ("png_palette8.png", lambda x, y: palette_color(palette_index(x, y, 200))),
                        ("png_palette4.png", lambda x, y: palette_color(palette_index(x, y, 16))),
                        ("png_gray1.png", lambda x, y: (255 * ((x + y) & 1),) * 3),
                        ("png_rgb16.png", lambda x, y: tuple(value16(x, y, c) >> 8 for c in range(3)))]:
        expect_pil(name, pixel)

    bmp("bmp_rgb24.bmp", 24, pixel=rgb)
    bmp("bmp_rgb32_topdown.bmp", 32, top_down=True, pixel=rgb)
    bmp("bmp_palette8.bmp", 8, palette=[palette_color(i) for i in range(200)],
        pixel=lambda x, y: palette_index(x, y, 200))
    expect_pil("bmp_rgb24.bmp", rgb)
    expect_pil("bmp_palette8.bmp", lambda x, y: palette_color(palette_index(x, y, 200)))

    pnm("ppm_rgb.ppm", b"P6", 255, [rgb8(x, y, c) for x, y in xy for c in range(3)], comment=True)
    pnm("pgm_gray.pgm", b"P5", 255, [gray8(x, y) for x, y in xy])
    pnm("pgm_maxval1023.pgm", b"P5", 1023, [value16(x, y, 0) % 1024 for x, y in xy])
    pnm("ppm_maxval100.ppm", b"P6", 100, [rgb8(x, y, c) % 101 for x, y in xy for c in range(3)])
    expect_pil("ppm_rgb.ppm", rgb)
    expect_pil("pgm_gray.pgm", gray)

    # GIF: two frames; decoders must return the first. PIL may reorder the palette, not the colours.
    frames = []
    for shift in (0, 3):
        im = Image.new("P", (W, H))
        im.putpalette([v for i in range(256) for v in palette_color(i)])
        im.putdata([(palette_index(x, y, 200) + shift) % 200 for x, y in xy])
        frames.append(im)
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    write("gif_two_frames.gif", buf.getvalue())
    expect_pil("gif_two_frames.gif", lambda x, y: palette_color(palette_index(x, y, 200)))

    # JPEG is lossy and decoders differ: constant colours, checked with a tolerance in C++.
    Image.new("RGB", (16, 16), (200, 100, 50)).save(os.path.join(OUT, "jpeg_rgb_200_100_50.jpg"), quality=95)
    Image.new("RGB", (16, 16), (30, 160, 220)).save(os.path.join(OUT, "jpeg_progressive_30_160_220.jpg"),
                                                     quality=95, progressive=True)
    Image.new("L", (16, 16), 77).save(os.path.join(OUT, "jpeg_gray_77.jpg"), quality=95)

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)} (PIL {Image.__version__})")


if __name__ == "__main__":
    main()
