// AVX2 passes of the resampler, bit-identical to resize-ref.cc (resize-kernels.h). Both multiply
// u8 pixels by Q22 weights split into 16-bit halves with vpmaddwd (resize-q22-split.h: exact).
//
// Horizontal (per output pixel, a window of taps over interleaved RGB): two output pixels per ymm,
// one per 128-bit lane. Per tap pair q each lane gets the 16 source bytes at its window + 6q (one
// broadcast load where both windows lie within 16 bytes, NearControl, else two loads), and one
// vpshufb makes the dwords
//   (R_2q, R_2q+1) (G_2q, G_2q+1) (B_2q, B_2q+1) (0, 0)      (words)
// times the lane's (low, high) weight pairs, precomputed per block of output pixels and reused by
// every row (resize-horizontal-plan.h); pairs past a pixel's count have weight 0. Each lane ends
// holding its pixel's (R, G, B) sums: no cross-lane reduction.
// Vertical (per output row, a weighted sum of rows): rows t and t+1 widened to words and
// interleaved (vpunpckl/hwd) into (row t, row t+1) pairs, times the broadcast weight pair;
// vpackssdw of the two halves restores the byte order.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "models/resize-kernels.h"
#include "models/resize-horizontal-plan.h"
#include "models/resize-q22-split.h"
#include "models/resize-vertical-pairs.h"

namespace intvit {
namespace {

using namespace resize_detail;

constexpr int kLanes = 2;           // horizontal: output pixels per ymm
constexpr int kBlockPairs = 4096;   // horizontal: tap pairs per weight table (256 KiB)
constexpr size_t kLoadBytes = 16;   // horizontal: bytes a lane loads per tap pair

// A group whose two lanes' tap pairs lie within 16 source bytes (downscales up to ~3x): per pair,
// one 16-byte load at lane 0's pair broadcast to both lanes, and one vpshufb taking lane 1's
// bytes from its offset.
struct alignas(32) NearControl {
  int8_t byte[32];
  bool fits = false;
};

NearControl near_control(const size_t (&offset)[kLanes]) {
  constexpr int8_t kPattern[16] = {0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1};
  NearControl n{};
  // Windows need not ascend (the contract allows any first[]): lane 1 must start at or after lane 0.
  n.fits = offset[1] >= offset[0] && offset[1] - offset[0] + 6 <= kLoadBytes;
  const size_t d = offset[1] - offset[0];
  for (int i = 0; i < 16 && n.fits; ++i) {
    n.byte[i] = kPattern[i];
    n.byte[16 + i] = kPattern[i] < 0 ? kPattern[i] : static_cast<int8_t>(kPattern[i] + d);
  }
  return n;
}

}  // namespace

void resample_horizontal_rgb8__avx2(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps,
                                    uint8_t* dst) {
  const int out_width = static_cast<int>(taps.first.size());
  const size_t dst_row_bytes = static_cast<size_t>(out_width) * 3;
  const HorizontalRows source(src, src_width, rows, taps, kLoadBytes);
  // Per lane: the two taps' R, G, B bytes as word pairs, the 4th dword zero.
  const __m256i gather = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1));
  const __m256i half = _mm256_set1_epi32(kHalf);
  HorizontalPlan<kLanes> plan;
  std::vector<NearControl> near;  // per group
  for (int j0 = 0, j1 = 0; j0 < out_width; j0 = j1) {
    j1 = plan.build(taps, j0, kBlockPairs);
    near.resize(plan.groups.size());
    for (size_t gi = 0; gi < plan.groups.size(); ++gi) near[gi] = near_control(plan.groups[gi].offset);
    for (int r = 0; r < rows; ++r) {
      const uint8_t* src_row = source.row(r);
      uint8_t* out = dst + r * dst_row_bytes;
      int j = j0;
      for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
        const auto& g = plan.groups[gi];
        const auto* w = &plan.pairs[static_cast<size_t>(g.first_pair)];
        const uint8_t *p0 = src_row + g.offset[0], *p1 = src_row + g.offset[1];
        __m256i low = _mm256_setzero_si256(), high = _mm256_setzero_si256();
        if (near[gi].fits) {  // one 16-byte load per pair, broadcast, one vpshufb
          const __m256i control = _mm256_load_si256(reinterpret_cast<const __m256i*>(near[gi].byte));
          for (int q = 0; q < g.pairs; ++q, p0 += 6, ++w) {
            const __m256i x = _mm256_shuffle_epi8(
                _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))), control);
            low = _mm256_add_epi32(low, _mm256_madd_epi16(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(w->low))));
            high = _mm256_add_epi32(high, _mm256_madd_epi16(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(w->high))));
          }
        } else {  // two 16-byte loads per pair, one vpshufb
          for (int q = 0; q < g.pairs; ++q, p0 += 6, p1 += 6, ++w) {
            const __m256i x = _mm256_shuffle_epi8(
                _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))),
                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1),
                gather);
            low = _mm256_add_epi32(low, _mm256_madd_epi16(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(w->low))));
            high = _mm256_add_epi32(high, _mm256_madd_epi16(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(w->high))));
          }
        }
        // Wrapping adds: exact (resize-q22-split.h). Then >> 22 and clip; byte 0-3 of each lane = (R, G, B, 0).
        const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(low, _mm256_slli_epi32(high, 16)), half);
        const __m256i v = _mm256_srai_epi32(sum, kResizePrecisionBits);
        const __m256i words = _mm256_packs_epi32(v, v);
        const __m256i bytes = _mm256_packus_epi16(words, words);
        // 4-byte stores: the 4th byte belongs to the next pixel of the row, written later.
        for (int k = 0; k < g.pixels; ++k, ++j) {
          const uint32_t rgb = static_cast<uint32_t>(
              _mm_cvtsi128_si32(k == 0 ? _mm256_castsi256_si128(bytes) : _mm256_extracti128_si256(bytes, 1)));
          std::memcpy(out + static_cast<size_t>(j) * 3, &rgb, j + 1 < out_width ? 4 : 3);
        }
      }
    }
  }
}

void resample_vertical_u8__avx2(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                                uint8_t* dst) {
  if (row_bytes < 16) {  // narrower than one vector
    resample_vertical_u8_ref(src, row_bytes, src_first_row, taps, dst);
    return;
  }
  std::vector<RowPair> pair(static_cast<size_t>(taps.max_taps + 1) / 2);
  for (size_t j = 0; j < taps.first.size(); ++j) {
    const int pairs = row_pairs(src, row_bytes, src_first_row, taps, j, pair.data());
    uint8_t* dst_row = dst + j * row_bytes;
    for (size_t i = 0;; i += 16) {
      i = std::min(i, row_bytes - 16);  // the last vector overlaps the previous one
      __m256i lo_low = _mm256_setzero_si256(), lo_high = lo_low, hi_low = lo_low, hi_high = lo_low;
      for (int q = 0; q < pairs; ++q) {
        const __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pair[q].row0 + i)));
        const __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pair[q].row1 + i)));
        const __m256i ab_lo = _mm256_unpacklo_epi16(a, b), ab_hi = _mm256_unpackhi_epi16(a, b);
        const __m256i wl = _mm256_set1_epi32(pair[q].low), wh = _mm256_set1_epi32(pair[q].high);
        lo_low = _mm256_add_epi32(lo_low, _mm256_madd_epi16(ab_lo, wl));
        lo_high = _mm256_add_epi32(lo_high, _mm256_madd_epi16(ab_lo, wh));
        hi_low = _mm256_add_epi32(hi_low, _mm256_madd_epi16(ab_hi, wl));
        hi_high = _mm256_add_epi32(hi_high, _mm256_madd_epi16(ab_hi, wh));
      }
      const __m256i half = _mm256_set1_epi32(kHalf);
      const __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(lo_low, _mm256_slli_epi32(lo_high, 16)), half),
                                           kResizePrecisionBits);
      const __m256i hi = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(hi_low, _mm256_slli_epi32(hi_high, 16)), half),
                                           kResizePrecisionBits);
      const __m256i words = _mm256_packs_epi32(lo, hi);  // per lane: bytes 0-3 (lo), 4-7 (hi): in order
      const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst_row + i), bytes);
      if (i + 16 == row_bytes) break;
    }
  }
}

}  // namespace intvit
