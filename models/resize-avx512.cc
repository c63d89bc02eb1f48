// AVX-512 (F/BW/VL/DQ) passes of the resampler, bit-identical to resize-ref.cc
// (resize-kernels.h); the form of resize-avx2.cc at twice the width. Q22 weights are split into
// 16-bit halves for vpmaddwd (resize-q22-split.h: exact).
// Horizontal: four output pixels per zmm, one per 128-bit lane; per tap pair q, the (R, G, B, 0)
// dwords of the two taps' words of each lane's pixel (its window + 6q), times the lane's weight
// pairs (resize-horizontal-plan.h), summed over the pairs. The words come from one 32-byte load
// and a vpermw where the four windows lie within 32 bytes (NearIndex), else from four 16-byte
// loads and one vpshufb. No cross-lane reduction: the four pixels come out as 16 bytes, vpshufb
// drops the 4th of each.
// Vertical: 32 bytes of rows t and t+1 widened and interleaved into word pairs (vpunpckl/hwd),
// times the broadcast weight pair; vpackssdw of the two halves restores the byte order, vpmovuswb
// (after a max with 0) clips to [0, 255].
#include "kernels/avx512-intrinsics.h"

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

constexpr int kLanes = 4;           // horizontal: output pixels per zmm
constexpr int kBlockPairs = 2048;   // horizontal: tap pairs per weight table (256 KiB)
constexpr size_t kNearBytes = 32;   // horizontal: a group whose pairs lie in this many bytes loads once
constexpr __mmask32 kRgbWords = 0x3F3F3F3F;  // words of the (R, G, B) dwords of each lane

// A group whose four lanes' tap pairs lie within kNearBytes source bytes (downscales up to ~2.7x):
// per pair, one load at lane 0's pair, widened to words, and one vpermw taking lane k's
// (R, G, B) word pairs from its offset (the 4th dword zeroed by kRgbWords).
struct alignas(64) NearIndex {
  int16_t word[32];
  bool fits = false;
};

NearIndex near_index(const size_t (&offset)[kLanes]) {
  NearIndex n{};
  // Windows need not ascend (the contract allows any first[]): each lane at or after lane 0.
  n.fits = true;
  for (int k = 1; k < kLanes; ++k) n.fits = n.fits && offset[k] >= offset[0] && offset[k] - offset[0] + 6 <= kNearBytes;
  for (int k = 0; k < kLanes && n.fits; ++k) {
    const int d = static_cast<int>(offset[k] - offset[0]);
    for (int c = 0; c < 3; ++c) {
      n.word[8 * k + 2 * c] = static_cast<int16_t>(d + c);
      n.word[8 * k + 2 * c + 1] = static_cast<int16_t>(d + c + 3);
    }
  }
  return n;
}

// Mask of the first min(n, 32) bytes (n >= 0).
inline __mmask32 first_bytes(ptrdiff_t n) {
  return n >= 32 ? ~__mmask32{0} : static_cast<__mmask32>(_bzhi_u32(~0u, static_cast<unsigned>(n)));
}

}  // namespace

void resample_horizontal_rgb8__avx512(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps,
                                      uint8_t* dst) {
  const int out_width = static_cast<int>(taps.first.size());
  const size_t dst_row_bytes = static_cast<size_t>(out_width) * 3;
  const HorizontalRows source(src, src_width, rows, taps, kNearBytes);
  // Per lane: the two taps' R, G, B bytes as word pairs, the 4th dword zero.
  const __m512i gather = _mm512_broadcast_i32x4(_mm_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1));
  const __m128i drop_fourth = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const __m512i half = _mm512_set1_epi32(kHalf), zero = _mm512_setzero_si512();
  HorizontalPlan<kLanes> plan;
  std::vector<NearIndex> near;  // per group
  for (int j0 = 0, j1 = 0; j0 < out_width; j0 = j1) {
    j1 = plan.build(taps, j0, kBlockPairs);
    near.resize(plan.groups.size());
    for (size_t gi = 0; gi < plan.groups.size(); ++gi) near[gi] = near_index(plan.groups[gi].offset);
    for (int r = 0; r < rows; ++r) {
      const uint8_t* src_row = source.row(r);
      uint8_t* out = dst + r * dst_row_bytes + static_cast<size_t>(j0) * 3;
      for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
        const auto& g = plan.groups[gi];
        const auto* w = &plan.pairs[static_cast<size_t>(g.first_pair)];
        __m512i low = zero, high = zero;
        if (near[gi].fits) {  // one 32-byte load per pair, widened, one vpermw
          const __m512i index = _mm512_load_si512(near[gi].word);
          const uint8_t* p = src_row + g.offset[0];
          for (int q = 0; q < g.pairs; ++q, p += 6, ++w) {
            const __m512i words = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
            const __m512i x = _mm512_maskz_permutexvar_epi16(kRgbWords, index, words);
            low = _mm512_add_epi32(low, _mm512_madd_epi16(x, _mm512_load_si512(w->low)));
            high = _mm512_add_epi32(high, _mm512_madd_epi16(x, _mm512_load_si512(w->high)));
          }
        } else {  // four 16-byte loads per pair, one vpshufb
          const uint8_t *p0 = src_row + g.offset[0], *p1 = src_row + g.offset[1];
          const uint8_t *p2 = src_row + g.offset[2], *p3 = src_row + g.offset[3];
          for (int q = 0; q < g.pairs; ++q, p0 += 6, p1 += 6, p2 += 6, p3 += 6, ++w) {
            __m512i x = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0)));
            x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
            x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2)), 2);
            x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p3)), 3);
            x = _mm512_shuffle_epi8(x, gather);
            low = _mm512_add_epi32(low, _mm512_madd_epi16(x, _mm512_load_si512(w->low)));
            high = _mm512_add_epi32(high, _mm512_madd_epi16(x, _mm512_load_si512(w->high)));
          }
        }
        // Wrapping adds: exact (resize-q22-split.h). Then >> 22, clip, 16 bytes (R, G, B, 0) x 4.
        const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(low, _mm512_slli_epi32(high, 16)), half);
        const __m512i v = _mm512_max_epi32(_mm512_srai_epi32(sum, kResizePrecisionBits), zero);
        const __m128i rgb = _mm_shuffle_epi8(_mm512_cvtusepi32_epi8(v), drop_fourth);
        _mm_mask_storeu_epi8(out, static_cast<__mmask16>((1u << (3 * g.pixels)) - 1), rgb);
        out += 3 * kLanes;
      }
    }
  }
}

void resample_vertical_u8__avx512(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                                  uint8_t* dst) {
  std::vector<RowPair> pair(static_cast<size_t>(taps.max_taps + 1) / 2);
  const __m512i half = _mm512_set1_epi32(kHalf), zero = _mm512_setzero_si512();
  for (size_t j = 0; j < taps.first.size(); ++j) {
    const int pairs = row_pairs(src, row_bytes, src_first_row, taps, j, pair.data());
    uint8_t* dst_row = dst + j * row_bytes;
    for (size_t i = 0; i < row_bytes; i += 32) {
      const __mmask32 m = first_bytes(static_cast<ptrdiff_t>(row_bytes - i));
      __m512i lo_low = zero, lo_high = zero, hi_low = zero, hi_high = zero;
      for (int q = 0; q < pairs; ++q) {
        const __m512i a = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, pair[q].row0 + i));
        const __m512i b = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, pair[q].row1 + i));
        const __m512i ab_lo = _mm512_unpacklo_epi16(a, b), ab_hi = _mm512_unpackhi_epi16(a, b);
        const __m512i wl = _mm512_set1_epi32(pair[q].low), wh = _mm512_set1_epi32(pair[q].high);
        lo_low = _mm512_add_epi32(lo_low, _mm512_madd_epi16(ab_lo, wl));
        lo_high = _mm512_add_epi32(lo_high, _mm512_madd_epi16(ab_lo, wh));
        hi_low = _mm512_add_epi32(hi_low, _mm512_madd_epi16(ab_hi, wl));
        hi_high = _mm512_add_epi32(hi_high, _mm512_madd_epi16(ab_hi, wh));
      }
      const __m512i lo = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(lo_low, _mm512_slli_epi32(lo_high, 16)), half),
                                           kResizePrecisionBits);
      const __m512i hi = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(hi_low, _mm512_slli_epi32(hi_high, 16)), half),
                                           kResizePrecisionBits);
      const __m512i words = _mm512_max_epi16(_mm512_packs_epi32(lo, hi), zero);  // in byte order, >= 0
      _mm512_mask_cvtusepi16_storeu_epi8(dst_row + i, m, words);
    }
  }
}

}  // namespace intvit
