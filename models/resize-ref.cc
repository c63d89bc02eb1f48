// The scalar passes of the resampler: the specification and oracle of the SIMD variants
// (resize-kernels.h). Rounding (+2^21, arithmetic shift, clip) is Pillow's round-half-up; for the
// sums that survive clipping (>= 0) it coincides with intvit's round-half-away-from-zero rule.
#include <algorithm>
#include <vector>

#include "models/resize-kernels.h"

namespace intvit {
namespace {

constexpr int32_t kHalf = 1 << (kResizePrecisionBits - 1);

inline uint8_t clip_q22(int32_t sum) {
  return static_cast<uint8_t>(std::clamp(sum >> kResizePrecisionBits, 0, 255));
}

}  // namespace

void resample_horizontal_rgb8_ref(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps, uint8_t* dst) {
  const int out_width = static_cast<int>(taps.first.size());
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src_row = src + static_cast<size_t>(r) * src_width * 3;
    uint8_t* dst_row = dst + static_cast<size_t>(r) * out_width * 3;
    for (int j = 0; j < out_width; ++j) {
      const int32_t* k = &taps.weights[static_cast<size_t>(j) * taps.max_taps];
      const uint8_t* p = src_row + static_cast<size_t>(taps.first[j]) * 3;
      int32_t r0 = kHalf, g0 = kHalf, b0 = kHalf;
      for (int t = 0; t < taps.count[j]; ++t, p += 3) {
        r0 += p[0] * k[t];
        g0 += p[1] * k[t];
        b0 += p[2] * k[t];
      }
      dst_row[j * 3 + 0] = clip_q22(r0);
      dst_row[j * 3 + 1] = clip_q22(g0);
      dst_row[j * 3 + 2] = clip_q22(b0);
    }
  }
}

// Accumulates whole rows (integer sums, so the order of taps does not change the result).
void resample_vertical_u8_ref(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                              uint8_t* dst) {
  std::vector<int32_t> acc(row_bytes);
  for (size_t j = 0; j < taps.first.size(); ++j) {
    const int32_t* k = &taps.weights[j * taps.max_taps];
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int t = 0; t < taps.count[j]; ++t) {
      const uint8_t* src_row = src + (static_cast<size_t>(taps.first[j]) + t - src_first_row) * row_bytes;
      const int32_t weight = k[t];
      for (size_t i = 0; i < row_bytes; ++i) acc[i] += src_row[i] * weight;
    }
    uint8_t* dst_row = dst + j * row_bytes;
    for (size_t i = 0; i < row_bytes; ++i) dst_row[i] = clip_q22(acc[i]);
  }
}

}  // namespace intvit
