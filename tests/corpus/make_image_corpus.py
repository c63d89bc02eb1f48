#!/usr/bin/env python3
"""Writes tests/corpus/image/: small bad (and a few tiny good) images plus manifest.txt.

Standard library only. Run from anywhere: python3 tests/corpus/make_image_corpus.py
Each file breaks one thing; the outcome in manifest.txt is what models/image.h promises for it
(ok = decodes and preprocesses; corrupt_file / invalid_argument = that intvit::Error code;
any = either a clean load or a clean error, where decoders legitimately differ). Derived files
start from tests/data/images/decode/*.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "image")
DECODE = os.path.join(HERE, "..", "data", "images", "decode")

manifest = []
os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):  # the folder holds only what this script writes
    os.remove(os.path.join(OUT, old))


def src(name):
    with open(os.path.join(DECODE, name), "rb") as f:
        return f.read()


def add(name, data, outcome, why):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    manifest.append(f"{name:<40} {outcome:<16} # {why}")


# ---- PNG ----

def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(width, height, rows, bit_depth=8, color_type=2, plte=None, ihdr_override=None):
    """rows: raw scanlines without the filter byte (filter 0 is prepended)."""
    ihdr = ihdr_override or struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if plte is not None:
        out += chunk(b"PLTE", plte)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


SIG = b"\x89PNG\r\n\x1a\n"
png_rgb8 = src("png_rgb8.png")
ihdr_only = png_rgb8[:8 + 25]  # signature + IHDR chunk (length, type, 13 bytes, CRC)


def png_with_ihdr(width, height, depth=8, color=2):
    return SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)) + png_rgb8[33:]


add("png_1x1_rgb.png", png(1, 1, [b"\x10\x20\x30"]), "ok", "1x1 RGB")
add("png_1x1_palette.png", png(1, 1, [b"\x00"], color_type=3, plte=b"\xff\x00\x00"), "ok", "1x1 palette")
add("png_rgb16.png", src("png_rgb16.png"), "ok", "16-bit RGB")
add("png_palette8.png", src("png_palette8.png"), "ok", "8-bit palette")
add("png_gray_alpha8.png", src("png_gray_alpha8.png"), "ok", "gray + alpha")
add("png_wide_4000x1.png", png(4000, 1, [bytes(range(256)) * 46 + bytes(224)]), "ok", "4000x1: extreme aspect")
add("png_tall_1x4000.png", png(1, 4000, [b"\x80\x40\x20"] * 4000), "ok", "1x4000: extreme aspect")
add("png_empty.png", b"", "corrupt_file", "0 bytes")
add("png_signature_only.png", SIG, "corrupt_file", "signature, no IHDR")
add("png_ihdr_only.png", ihdr_only, "corrupt_file", "IHDR, no IDAT")
add("png_truncated_half.png", png_rgb8[:len(png_rgb8) // 2], "corrupt_file", "cut in the middle")
add("png_truncated_no_iend.png", png_rgb8[:-12], "any", "IEND missing, pixel data complete (PIL accepts)")
add("png_zero_width.png", png_with_ihdr(0, 4), "corrupt_file", "IHDR width 0")
add("png_declared_100000x100000.png", png_with_ihdr(100000, 100000), "invalid_argument", "10^10 pixels declared")
add("png_declared_2pow31.png", png_with_ihdr(0x80000000, 1), "error", "width 2^31 (PNG limit is 2^31-1)")
# width * height of two u32 fields overflows int64 in decode_image_memory (UB; in practice it wraps
# negative and slips past the kMaxImagePixels check). Found by fuzz_image.
add("png_declared_4294967295x4294967295.png", png_with_ihdr(0xFFFFFFFF, 0xFFFFFFFF), "invalid_argument",
    "2^64 pixels declared: the area overflows int64")
add("png_declared_8193x8193.png", png_with_ihdr(8193, 8193), "invalid_argument", "just over kMaxImagePixels")
add("png_bad_bit_depth.png", png_with_ihdr(4, 4, depth=7), "corrupt_file", "bit depth 7")
add("png_bad_color_type.png", png_with_ihdr(4, 4, color=5), "corrupt_file", "color type 5")
add("png_palette_no_plte.png", png(2, 1, [b"\x00\x01"], color_type=3), "corrupt_file", "palette image without PLTE")
add("png_palette_index_high.png", png(2, 1, [b"\x00\x07"], color_type=3, plte=b"\xff\x00\x00\x00\xff\x00"), "any",
    "index 7 of a 2-entry palette")
# An IDAT chunk claiming 2^31 - 16 bytes that are not there: stb_image 2.27 reallocs its IDAT
# buffer to the claimed size (2 GiB) before it reads, so a 60-byte file costs a 2 GiB allocation
# (libFuzzer reports it as out-of-memory). Found by fuzz_image; models/image_container.cc now
# refuses any chunk running past the end of the file before stb_image sees it.
one = png(1, 1, [b"\x10\x20\x30"])
idat_at = one.index(b"IDAT") - 4
add("png_idat_length_2GiB.png", one[:idat_at] + struct.pack(">I", 0x7FFFFFF0) + one[idat_at + 4:], "corrupt_file",
    "IDAT length 2^31-16 in a tiny file (stb_image would allocate 2 GiB first)")
text_at = one.index(b"IDAT") - 4
add("png_text_length_past_end.png", one[:text_at] + struct.pack(">I", 1000) + b"tEXt" + b"a\x00b", "corrupt_file",
    "tEXt chunk declares 1000 bytes, 3 present")
add("png_junk_after_iend.png", one + struct.pack(">I", 0x7FFFFFF0) + b"IDAT" + b"junk", "ok",
    "a huge chunk header after IEND (never read)")
add("png_idat_not_zlib.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + chunk(b"IDAT", b"not zlib at all")
    + chunk(b"IEND", b""), "corrupt_file", "IDAT is not zlib")
add("png_idat_short.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\x00" * 10))
    + chunk(b"IEND", b""), "corrupt_file", "IDAT inflates to fewer bytes than 8 rows")
add("png_bad_filter.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\x09\x01\x02\x03")) + chunk(b"IEND", b""), "corrupt_file", "filter type 9")
bad_crc = bytearray(png(1, 1, [b"\x01\x02\x03"]))
bad_crc[29] ^= 0xFF  # last byte of the IHDR CRC
add("png_bad_ihdr_crc.png", bytes(bad_crc), "any", "IHDR CRC wrong (stb_image does not check CRCs)")


def adam7_gray(width, height, pixel):
    """Raw IDAT bytes (filter 0 per row) of an Adam7-interlaced 8-bit gray image."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if len(xs) == 0:
            continue
        for y in ys:
            raw += b"\x00" + bytes(pixel(x, y) for x in xs)
    return raw


add("png_interlaced_3x3.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 3, 8, 0, 0, 0, 1))
    + chunk(b"IDAT", zlib.compress(adam7_gray(3, 3, lambda x, y: 20 * x + 70 * y))) + chunk(b"IEND", b""),
    "ok", "Adam7-interlaced 3x3 gray")

# ---- JPEG ----

def jpeg_1x1_gray():
    """Hand-built baseline JPEG: one 8x8 block, DC difference 0 and end-of-block (pixel 128)."""
    soi, eoi = b"\xff\xd8", b"\xff\xd9"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    # Huffman tables with one 1-bit code each: DC symbol 0 (category 0), AC symbol 0x00 (EOB).
    counts = b"\x01" + b"\x00" * 15
    dht = b"\xff\xc4" + struct.pack(">H", 2 + 2 * 18) + b"\x00" + counts + b"\x00" + b"\x10" + counts + b"\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    scan = b"\x3f"  # bits 0 (DC cat 0), 0 (EOB), padded with ones
    return soi + dqt + sof + dht + sos + scan + eoi


jpeg = src("jpeg_rgb_200_100_50.jpg")
sof_at = jpeg.index(b"\xff\xc0")


def jpeg_with_size(width, height):
    j = bytearray(jpeg)
    j[sof_at + 5:sof_at + 9] = struct.pack(">HH", height, width)
    return bytes(j)


add("jpeg_1x1_gray.jpg", jpeg_1x1_gray(), "ok", "1x1 baseline gray (hand-built)")
add("jpeg_progressive.jpg", src("jpeg_progressive_30_160_220.jpg"), "ok", "progressive")
add("jpeg_soi_only.jpg", b"\xff\xd8\xff", "corrupt_file", "SOI and nothing else")
add("jpeg_truncated_after_sof.jpg", jpeg[:sof_at + 19], "corrupt_file", "ends after SOF")
add("jpeg_truncated_half.jpg", jpeg[:len(jpeg) // 2], "corrupt_file", "cut in the middle")
add("jpeg_truncated_in_scan.jpg", jpeg[:-20], "corrupt_file", "scan data cut short, no EOI")
add("jpeg_progressive_truncated.jpg", src("jpeg_progressive_30_160_220.jpg")[:300], "corrupt_file",
    "progressive, cut after the first scans")
add("jpeg_zero_width.jpg", jpeg_with_size(0, 8), "corrupt_file", "SOF width 0")
add("jpeg_declared_65535x65535.jpg", jpeg_with_size(65535, 65535), "invalid_argument", "4.3e9 pixels declared")
add("jpeg_no_sof.jpg", b"\xff\xd8" + jpeg[jpeg.index(b"\xff\xda"):], "corrupt_file", "scan without SOF")
add("jpeg_sof_short_segment.jpg", jpeg[:sof_at] + b"\xff\xc0\x00\x02" + jpeg[sof_at + 19:], "corrupt_file",
    "SOF segment length 2")
# stb_image 2.27 (Debian's libstb 0.0~git20220908) does not check that a DHT table's 16 code counts
# sum to <= 256 and writes past stbi__huffman::size[257] / values[256] (intra-object: UBSan sees it,
# ASan does not; upstream added the check in 2.28). Found by fuzz_image; refused by
# models/image_container.cc before stb_image sees it, as are the undefined tables below.
dht = b"\xff\xc4" + struct.pack(">H", 2 + 17 + 16 * 255) + b"\x13" + b"\xff" * 16 + b"\x41" * (16 * 255)
add("jpeg_dht_count_overflow.jpg", b"\xff\xd8" + jpeg[2:sof_at] + jpeg[sof_at:sof_at + 19] + dht + b"\xff\xd9",
    "corrupt_file", "DHT code counts sum to 4080 (> 256): stb_image 2.27 would overflow its tables")
# A scan that uses a Huffman table no DHT defined: stb_image 2.27 decodes with the uninitialized
# table memory and reads out of bounds (UBSan: stbi__jpeg_huff_decode, values[] / maxcode[18];
# reproducible under ASAN_OPTIONS=max_malloc_fill_size=100000000:malloc_fill_byte=255).
# Found by fuzz_image.
add("jpeg_undefined_huffman_table.jpg",
    b"\xff\xd8" + b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    + b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x00\x00" + b"\x55" * 16 + b"\xff\xd9",
    "corrupt_file", "progressive scan with no DHT at all: stb_image 2.27 would read uninitialized tables")
# Variations on jpeg_1x1_gray (DQT, SOF0, one DHT segment defining DC 0 and AC 0, SOS, 1 byte, EOI).
gray = jpeg_1x1_gray()
gray_dht_at, gray_sos_at = gray.index(b"\xff\xc4"), gray.index(b"\xff\xda")
gray_dht, gray_sos = gray[gray_dht_at:gray_sos_at], gray[gray_sos_at:]
add("jpeg_ac_table_undefined.jpg", gray[:gray_sos_at] + gray_sos.replace(b"\x01\x00", b"\x01\x01", 1),
    "corrupt_file", "baseline scan selects AC table 1, only AC 0 defined")
add("jpeg_dht_after_its_scan.jpg", gray[:gray_dht_at] + gray_sos[:-2] + gray_dht + b"\xff\xd9", "corrupt_file",
    "the only DHT comes after the scan that uses it")
# A DHT inside an APP segment's payload is not a DHT: stb_image skips the segment by its length.
app_with_dht = b"\xff\xe5" + struct.pack(">H", 2 + len(gray_dht)) + gray_dht
add("jpeg_dht_inside_app_segment.jpg", gray[:gray_dht_at] + app_with_dht + gray_sos, "corrupt_file",
    "the tables' bytes sit inside an APP5 segment")
add("jpeg_fill_bytes.jpg", gray[:gray_dht_at] + b"\xff\xff" + gray_dht + b"\xff\xff" + gray_sos, "ok",
    "FF fill bytes before DHT and SOS")
add("jpeg_arithmetic_sof9.jpg", jpeg[:sof_at] + b"\xff\xc9" + jpeg[sof_at + 2:], "any",
    "Huffman data under an arithmetic-coding SOF9: libjpeg-turbo, like PIL, decodes it (to noise)")

# ---- BMP ----

def bmp24(width, height, pixel_rows, bpp=24):
    row_bytes = (width * 3 + 3) & ~3
    data = b"".join(r + b"\x00" * (row_bytes - len(r)) for r in pixel_rows)
    header = struct.pack("<2sIHHI", b"BM", 54 + len(data), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, 0, len(data), 2835, 2835, 0, 0)
    return header + info + data


bmp = src("bmp_rgb24.bmp")
add("bmp_1x1.bmp", bmp24(1, 1, [b"\x10\x20\x30"]), "ok", "1x1 24-bit")
add("bmp_palette8.bmp", src("bmp_palette8.bmp"), "ok", "8-bit palette")
add("bmp_header_only.bmp", bmp[:54], "corrupt_file", "headers, no pixels")
add("bmp_truncated_half.bmp", bmp[:len(bmp) // 2], "corrupt_file", "pixel data cut in half")
add("bmp_zero_height.bmp", bmp24(1, 0, []), "corrupt_file", "height 0")
add("bmp_negative_width.bmp", bmp24(-4, 1, [b"\x00" * 12]), "error", "width -4")
add("bmp_declared_huge.bmp", bmp[:18] + struct.pack("<ii", 0x7FFFFFFF, 1) + bmp[26:], "invalid_argument",
    "width 2^31-1 declared")
add("bmp_declared_min_height.bmp", bmp[:18] + struct.pack("<ii", 1, -0x80000000) + bmp[26:], "error",
    "height -2^31 (|height| overflows int32)")
add("bmp_bpp_7.bmp", bmp[:28] + struct.pack("<H", 7) + bmp[30:], "corrupt_file", "7 bits per pixel")
add("bmp_offset_past_end.bmp", bmp[:10] + struct.pack("<I", 1 << 20) + bmp[14:], "corrupt_file",
    "pixel data offset beyond the file")

# ---- GIF ----

gif_1x1 = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")
gif = src("gif_two_frames.gif")
add("gif_1x1.gif", gif_1x1, "ok", "1x1 (the classic 43-byte GIF)")
add("gif_header_only.gif", gif[:13], "corrupt_file", "screen descriptor, no image")
add("gif_truncated_half.gif", gif[:len(gif) // 2], "corrupt_file", "cut in the middle")
add("gif_declared_65535x65535.gif", gif[:6] + struct.pack("<HH", 65535, 65535) + gif[10:], "invalid_argument",
    "4.3e9 pixels declared")
add("gif_zero_size.gif", gif_1x1[:6] + struct.pack("<HH", 0, 0) + gif_1x1[10:], "corrupt_file", "screen 0x0")
add("gif_frame_outside_screen.gif", gif_1x1[:0x1c] + struct.pack("<HH", 5, 5) + gif_1x1[0x20:], "any",
    "frame at (5,5) of a 1x1 screen")

# ---- PGM / PPM ----

add("ppm_1x1.ppm", b"P6\n1 1\n255\n\x10\x20\x30", "ok", "1x1 RGB")
add("pgm_1x1_16bit.pgm", b"P5 1 1 65535\n\xff\x00", "ok", "1x1 16-bit gray")
add("ppm_maxval_0.ppm", b"P6\n1 1\n0\n\x00\x00\x00", "corrupt_file", "maxval 0")
add("ppm_maxval_65536.ppm", b"P6\n1 1\n65536\n" + b"\x00" * 6, "corrupt_file", "maxval 65536")
add("ppm_truncated.ppm", b"P6\n4 4\n255\n" + b"\x80" * 20, "corrupt_file", "20 of 48 sample bytes")
add("ppm_header_truncated.ppm", b"P6\n4 ", "corrupt_file", "no height/maxval")
add("ppm_declared_100000x100000.ppm", b"P6\n100000 100000\n255\n\x00\x00\x00", "invalid_argument", "10^10 pixels declared")
add("ppm_declared_overflow.ppm", b"P6\n99999999999999999999 1\n255\n\x00\x00\x00", "error", "width overflows any integer")
add("ppm_negative_width.ppm", b"P6\n-1 1\n255\n\x00\x00\x00", "corrupt_file", "width -1")
add("ppm_comment_only.ppm", b"P6\n# just a comment\n", "corrupt_file", "header is a comment")
add("pgm_ascii_p2.pgm", b"P2\n1 1\n255\n128\n", "corrupt_file", "ASCII PGM (not supported)")

# ---- not images ----

add("empty.jpg", b"", "corrupt_file", "0 bytes")
add("text.txt", b"this is a text file, not an image\n", "corrupt_file", "plain text")
add("one_byte.bin", b"\xff", "corrupt_file", "one byte")
add("tga_1x1.tga", struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 1, 1, 24, 0) + b"\x10\x20\x30", "corrupt_file",
    "TGA (stb_image reads it, intvit does not accept it)")
add("hdr.hdr", b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n\x80\x80\x80\x80", "corrupt_file", "Radiance HDR")
add("psd.psd", b"8BPS\x00\x01" + b"\x00" * 20, "corrupt_file", "PSD")

with open(os.path.join(OUT, "manifest.txt"), "w") as f:
    f.write("# tests/corpus/image: written by tests/corpus/make_image_corpus.py; outcome per models/image.h\n")
    f.write("# outcome: ok | corrupt_file | unsupported | invalid_argument | error (any intvit::Error) | any (ok or Error)\n")
    f.write("\n".join(manifest) + "\n")
