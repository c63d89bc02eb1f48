// libFuzzer target: image decoding (models/image.h) and eval preprocessing to 32×32
// (models/preprocess.h). The preprocessing variant (filter, geometry rounding, crop_pct, including
// crop_pct > 1, the zero-padding path) is picked from the input length, so every input still
// decodes exactly as the file it is.
// INTVIT_FUZZ_SKIP_KNOWN=1 skips inputs that trigger findings already reported and not yet fixed
// (listed in known_finding()), so a campaign can look past them; delete each entry with its fix.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "fuzz_common.h"
#include "models/image.h"
#include "models/preprocess.h"

namespace {

constexpr int kSide = 32;

intvit::PreprocessConfig config_for(size_t size) {
  static constexpr double kCropPcts[] = {0.875, 0.9, 1.0, 1.25};
  intvit::PreprocessConfig config;
  config.input_size = kSide;
  config.filter = (size & 1) ? intvit::ResizeFilter::kBilinear : intvit::ResizeFilter::kBicubic;
  config.rounding = (size & 2) ? intvit::GeometryRounding::kNearestSizeFloorOffset : intvit::GeometryRounding::kTorchvision;
  config.crop_pct = kCropPcts[(size >> 2) & 3];
  return config;
}

// stb_image 2.27 writes past its Huffman tables when a DHT table's 16 code counts sum to more
// than 256 (tests/corpus/image/jpeg_dht_count_overflow.jpg). Conservative: any FF C4 anywhere.
bool jpeg_dht_counts_overflow(const uint8_t* d, size_t n) {
  if (n < 3 || d[0] != 0xFF || d[1] != 0xD8) return false;
  for (size_t i = 2; i + 4 <= n; ++i) {
    if (d[i] != 0xFF || d[i + 1] != 0xC4) continue;
    const size_t end = i + 2 + ((size_t{d[i + 2]} << 8) | d[i + 3]);
    for (size_t t = i + 4; t < end;) {
      size_t count = 0;
      for (size_t k = 1; k <= 16; ++k) count += t + k < n ? d[t + k] : 0;
      if (count > 256) return true;
      t += 17 + count;
    }
  }
  return false;
}

// decode_image_memory multiplies the declared PNG width and height (each < 2^32) in int64, which
// overflows (UB) above 2^63 (tests/corpus/image/png_declared_4294967295x4294967295.png).
bool png_declared_area_overflows(const uint8_t* d, size_t n) {
  if (n < 24 || d[0] != 0x89 || d[1] != 'P') return false;
  auto be32 = [&](size_t at) { return (uint64_t{d[at]} << 24) | (uint64_t{d[at + 1]} << 16) | (uint64_t{d[at + 2]} << 8) | d[at + 3]; };
  return static_cast<unsigned __int128>(be32(16)) * be32(20) > static_cast<unsigned __int128>(INT64_MAX);
}

// stb_image 2.27 decodes a scan whose Huffman table no DHT defined from uninitialized memory and
// reads out of bounds (tests/corpus/image/jpeg_undefined_huffman_table.jpg). Walks the markers,
// remembering defined tables, and checks each scan's selectors as stb_image would use them.
bool jpeg_scan_uses_undefined_table(const uint8_t* d, size_t n) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return false;
  bool defined[2][4] = {}, progressive = false;
  size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) return false;
    const uint8_t m = d[i + 1];
    if (m == 0xFF) { ++i; continue; }
    const size_t len = (size_t{d[i + 2]} << 8) | d[i + 3], body = i + 4, end = i + 2 + len;
    if (m == 0xC2) progressive = true;
    if (m == 0xC4) {
      for (size_t t = body; t < end && t < n;) {
        size_t count = 0;
        for (size_t k = 1; k <= 16 && t + k < n; ++k) count += d[t + k];
        if ((d[t] >> 4) <= 1 && (d[t] & 15) <= 3) defined[d[t] >> 4][d[t] & 15] = true;
        t += 17 + count;
      }
    }
    if (m == 0xDA && body < n) {
      const size_t ns = d[body];
      const size_t tail = body + 1 + 2 * ns;  // Ss, Se, Ah/Al
      if (tail + 2 >= n) return false;
      const bool dc_scan = progressive && d[tail] == 0, first_pass = (d[tail + 2] >> 4) == 0;
      for (size_t c = 0; c < ns; ++c) {
        const uint8_t sel = d[body + 2 + 2 * c];
        const bool needs_dc = !progressive || (dc_scan && first_pass), needs_ac = !progressive || !dc_scan;
        if ((needs_dc && !defined[0][(sel >> 4) & 3]) || (needs_ac && !defined[1][sel & 3])) return true;
      }
      // Skip the entropy-coded data to the next marker (FF 00 and RSTn belong to the data).
      for (i = end; i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0 && (d[i + 1] < 0xD0 || d[i + 1] > 0xD7)); ++i) {
      }
      continue;
    }
    i = end;
  }
  return false;
}

// stb_image 2.27 grows its IDAT buffer to a chunk's declared length before reading it, so a tiny
// PNG can ask for 2 GiB (tests/corpus/image/png_idat_length_2GiB.png). Any chunk running past
// the end of the input counts.
bool png_chunk_past_end(const uint8_t* d, size_t n) {
  if (n < 8 || d[0] != 0x89 || d[1] != 'P') return false;
  for (size_t i = 8; i + 8 <= n;) {
    const uint64_t len = (uint64_t{d[i]} << 24) | (uint64_t{d[i + 1]} << 16) | (uint64_t{d[i + 2]} << 8) | d[i + 3];
    if (len > n - i - 8) return len > 4096;  // small overruns are plain truncation, not the finding
    i += 12 + len;
  }
  return false;
}

bool known_finding(const uint8_t* data, size_t size) {
  static const bool skip = std::getenv("INTVIT_FUZZ_SKIP_KNOWN") != nullptr;
  return skip && (jpeg_dht_counts_overflow(data, size) || png_declared_area_overflows(data, size) ||
                  jpeg_scan_uses_undefined_table(data, size) || png_chunk_past_end(data, size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (known_finding(data, size)) return 0;
  intvit::fuzz::expect_clean([&] {
    const intvit::Image image = intvit::decode_image_memory(std::span<const uint8_t>(data, size), "fuzz input");
    INTVIT_FUZZ_ASSERT(image.width > 0 && image.height > 0);
    INTVIT_FUZZ_ASSERT(static_cast<int64_t>(image.width) * image.height <= intvit::kMaxImagePixels);
    INTVIT_FUZZ_ASSERT(image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3);
    const intvit::Image out = intvit::preprocess(image, config_for(size));
    INTVIT_FUZZ_ASSERT(out.width == kSide && out.height == kSide && out.rgb.size() == size_t{kSide} * kSide * 3);
  });
  return 0;
}
