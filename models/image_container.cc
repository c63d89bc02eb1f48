// Container-level checks that run before any decoder: completeness for the formats stb_image
// decodes leniently, and the structure stb_image 2.27 trusts without checking (PNG chunk lengths,
// JPEG Huffman tables).
#include "models/image_container.h"

#include <cstdlib>
#include <cstring>

namespace intvit {
namespace {

bool starts_with(std::span<const uint8_t> bytes, const char* magic, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

uint32_t le16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint32_t be16(const uint8_t* p) { return (p[0] << 8) | p[1]; }
uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

// Walks the JPEG marker segments from SOI to the first frame header (SOF0..SOF15 except DHT C4,
// JPG C8 and DAC CC) and reads its height and width.
std::string jpeg_frame_size(std::span<const uint8_t> b, int64_t* width, int64_t* height) {
  size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return "bad JPEG marker";
    const uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return "JPEG has no frame header before its scan";
    const size_t length = be16(&b[pos + 2]);
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (length < 8 || pos + 9 > b.size()) return "truncated JPEG frame header";
      *height = be16(&b[pos + 5]);
      *width = be16(&b[pos + 7]);
      return {};
    }
    if (length < 2) return "bad JPEG segment length";
    pos += 2 + length;
  }
  return "truncated JPEG header";
}

bool pnm_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Uncompressed (BI_RGB / BI_BITFIELDS) BMP: the last row must be present up to its last pixel
// (writers sometimes drop the final row padding, which no decoder reads).
std::string bmp_truncation(std::span<const uint8_t> b) {
  if (b.size() < 18) return "truncated BMP header";
  const uint32_t data_offset = le32(&b[10]);
  const uint32_t header_size = le32(&b[14]);
  int64_t width, height, bits, compression = 0;
  if (header_size == 12) {
    if (b.size() < 26) return "truncated BMP header";
    width = le16(&b[18]);
    height = le16(&b[20]);
    bits = le16(&b[24]);
  } else {
    if (b.size() < 34) return "truncated BMP header";
    width = static_cast<int32_t>(le32(&b[18]));
    height = static_cast<int32_t>(le32(&b[22]));
    bits = le16(&b[28]);
    compression = le32(&b[30]);
  }
  if (compression != 0 && compression != 3) return {};  // stb_image rejects these itself
  width = std::llabs(width);
  height = std::llabs(height);  // negative height = top-down rows
  if (width == 0 || height == 0 || bits == 0 || bits > 32) return {};
  const int64_t stride = (width * bits + 31) / 32 * 4;
  const int64_t needed = data_offset + stride * (height - 1) + (width * bits + 7) / 8;
  if (static_cast<int64_t>(b.size()) < needed) return "truncated BMP pixel data";
  return {};
}

std::string pnm_truncation(std::span<const uint8_t> b) {
  PnmHeader h;
  if (std::string error = parse_pnm_header(b, &h); !error.empty()) return error;
  const uint64_t needed = static_cast<uint64_t>(h.width) * h.height * h.channels *
                          (h.maxval > 255 ? 2 : 1);
  if (b.size() - h.data_offset < needed) return "truncated PGM/PPM pixel data";
  return {};
}

// Walks the GIF blocks up to the end of the first image's LZW data sub-blocks.
std::string gif_truncation(std::span<const uint8_t> b) {
  const char* kTruncated = "truncated GIF data";
  size_t pos = 13;  // signature (6) + logical screen descriptor (7)
  if (b.size() < pos) return kTruncated;
  if (b[10] & 0x80) pos += 3u << ((b[10] & 7) + 1);  // global color table
  // Skips a chain of data sub-blocks (length byte, payload) through its 0-length terminator.
  auto skip_sub_blocks = [&]() {
    while (pos < b.size()) {
      const uint8_t length = b[pos++];
      if (length == 0) return true;
      pos += length;
    }
    return false;
  };
  while (pos < b.size()) {
    const uint8_t introducer = b[pos++];
    if (introducer == 0x21) {  // extension: label, then sub-blocks
      ++pos;
      if (!skip_sub_blocks()) return kTruncated;
    } else if (introducer == 0x2C) {  // image descriptor
      if (pos + 9 > b.size()) return kTruncated;
      const uint8_t flags = b[pos + 8];
      pos += 9;
      if (flags & 0x80) pos += 3u << ((flags & 7) + 1);  // local color table
      ++pos;                                              // LZW minimum code size
      return skip_sub_blocks() ? std::string() : kTruncated;
    } else if (introducer == 0x3B) {
      return "GIF has no image";
    } else {
      return {};  // not a block stb_image accepts; let it report the error
    }
  }
  return kTruncated;
}

// Walks the PNG chunks from IHDR through IEND: each must lie inside the buffer (length, type, data,
// CRC; IEND's CRC is not needed). stb_image 2.27 grows its IDAT buffer to a chunk's declared
// length before reading the chunk, so a 70-byte file declaring 2^31 bytes would cost a 2 GiB
// allocation before failing (tests/corpus/image/png_idat_length_2GiB.png). Chunks after IEND are
// never read and not checked. An empty IDAT before any image data is refused too: stb_image 2.27
// reads it into its still-null buffer (null + 0, undefined behaviour; found by fuzz_image).
std::string png_truncation(std::span<const uint8_t> b) {
  size_t pos = 8;  // signature
  bool idat_data = false;
  while (pos < b.size()) {
    if (b.size() - pos < 8) return "truncated PNG chunk";
    const uint64_t length = be32(&b[pos]);
    const bool iend = std::memcmp(&b[pos + 4], "IEND", 4) == 0;
    if (length + (iend ? 8 : 12) > b.size() - pos) return "truncated PNG chunk";
    if (iend) return {};
    if (std::memcmp(&b[pos + 4], "IDAT", 4) == 0) {
      if (length == 0 && !idat_data) return "empty IDAT chunk before any image data";
      idat_data = true;
    }
    pos += 12 + length;
  }
  return {};  // ends on a chunk boundary without IEND: the decoder decides
}

}  // namespace

ImageFormat sniff_image_format(std::span<const uint8_t> b) {
  if (starts_with(b, "\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (starts_with(b, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::kPng;
  if (starts_with(b, "BM", 2)) return ImageFormat::kBmp;
  if (starts_with(b, "GIF87a", 6) || starts_with(b, "GIF89a", 6)) return ImageFormat::kGif;
  if (starts_with(b, "P5", 2) || starts_with(b, "P6", 2)) return ImageFormat::kPnm;
  return ImageFormat::kUnknown;
}

std::string parse_pnm_header(std::span<const uint8_t> b, PnmHeader* header) {
  size_t pos = 2;
  // Like stb_image: skip whitespace and # comments, read digits, consume the byte after them.
  auto read_field = [&](int* value) {
    for (;;) {
      while (pos < b.size() && pnm_space(b[pos])) ++pos;
      if (pos >= b.size() || b[pos] != '#') break;
      while (pos < b.size() && b[pos] != '\n' && b[pos] != '\r') ++pos;
    }
    int64_t v = 0;
    const size_t digits_begin = pos;
    while (pos < b.size() && b[pos] >= '0' && b[pos] <= '9') {
      v = v * 10 + (b[pos++] - '0');
      if (v > (int64_t{1} << 24)) return false;  // stb_image's STBI_MAX_DIMENSIONS
    }
    if (pos == digits_begin) return false;
    ++pos;  // the single separator byte
    *value = static_cast<int>(v);
    return true;
  };
  PnmHeader h;
  h.channels = b[1] == '5' ? 1 : 3;
  if (!read_field(&h.width) || !read_field(&h.height) || !read_field(&h.maxval)) {
    return "bad PGM/PPM header";
  }
  if (pos > b.size()) return "truncated PGM/PPM header";
  if (h.width == 0 || h.height == 0) return "PGM/PPM has zero size";
  if (h.maxval == 0 || h.maxval > 65535) return "PGM/PPM maxval must be in [1, 65535]";
  h.data_offset = pos;
  *header = h;
  return {};
}

std::string read_declared_size(ImageFormat format, std::span<const uint8_t> b, int64_t* width,
                               int64_t* height) {
  switch (format) {
    case ImageFormat::kPng:
      if (b.size() < 24 || std::memcmp(&b[12], "IHDR", 4) != 0) return "PNG without IHDR";
      *width = be32(&b[16]);
      *height = be32(&b[20]);
      return {};
    case ImageFormat::kGif:
      if (b.size() < 10) return "truncated GIF header";
      *width = le16(&b[6]);
      *height = le16(&b[8]);
      return {};
    case ImageFormat::kBmp: {
      if (b.size() < 28) return "truncated BMP header";
      // "BM" alone is weak evidence: require a known DIB header size and one colour plane.
      const uint32_t header_size = le32(&b[14]);
      if (header_size != 12 && header_size != 40 && header_size != 56 && header_size != 108 &&
          header_size != 124) {
        return "not a BMP file (unknown DIB header size " + std::to_string(header_size) + ")";
      }
      if (le16(&b[header_size == 12 ? 22 : 26]) != 1) return "not a BMP file (planes != 1)";
      if (header_size == 12) {  // OS/2 header: 16-bit sizes
        *width = le16(&b[18]);
        *height = le16(&b[20]);
      } else {
        *width = std::llabs(static_cast<int32_t>(le32(&b[18])));
        *height = std::llabs(static_cast<int32_t>(le32(&b[22])));  // negative = top-down
      }
      return {};
    }
    case ImageFormat::kPnm: {
      PnmHeader h;
      if (std::string error = parse_pnm_header(b, &h); !error.empty()) return error;
      *width = h.width;
      *height = h.height;
      return {};
    }
    case ImageFormat::kJpeg:
      return jpeg_frame_size(b, width, height);
    default:
      return "unknown image type";
  }
}

std::string find_truncation(ImageFormat format, std::span<const uint8_t> bytes) {
  switch (format) {
    case ImageFormat::kBmp: return bmp_truncation(bytes);
    case ImageFormat::kPnm: return pnm_truncation(bytes);
    case ImageFormat::kGif: return gif_truncation(bytes);
    case ImageFormat::kPng: return png_truncation(bytes);
    case ImageFormat::kJpeg: return {};  // libjpeg-turbo (models/jpeg_decode.cc) validates its own structures
    default: return {};
  }
}

}  // namespace intvit
