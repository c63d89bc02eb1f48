// Helpers of the AVX-512 byte-plane splits (amx-split-planes-avx512*.cc): the transpose-and-add tree
// that reduces 16 rows' lane sums together, and the row loop of split_planes_rows around it.
// Include only from files compiled with AVX-512 F/BW (after <immintrin.h>); internal linkage, as
// the files have different ISA flags.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace intvit::gemm::amx {
namespace {

// Per 128-bit lane: [x0 + x2, y0 + y2, x1 + x3, y1 + y3] (dwords of the lane).
inline __m512i sum_dword_pairs(__m512i x, __m512i y) {
  return _mm512_add_epi32(_mm512_unpacklo_epi32(x, y), _mm512_unpackhi_epi32(x, y));
}
// Per 128-bit lane: [Σ x, Σ y, Σ z, Σ w] of that lane, given x_y = sum_dword_pairs(x, y) and z_w.
inline __m512i sum_quads(__m512i x_y, __m512i z_w) {
  return _mm512_add_epi32(_mm512_unpacklo_epi64(x_y, z_w), _mm512_unpackhi_epi64(x_y, z_w));
}
// 128-bit lanes [x0 + x1, x2 + x3, y0 + y1, y2 + y3].
inline __m512i sum_lane_pairs(__m512i x, __m512i y) {
  return _mm512_add_epi32(_mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}
// Dword j of the result is Σ s[j] modulo 2^32 (15 two-vector steps for 16 rows).
inline __m512i sum_rows16(const __m512i (&s)[16]) {
  const __m512i q0 = sum_quads(sum_dword_pairs(s[0], s[1]), sum_dword_pairs(s[2], s[3]));
  const __m512i q1 = sum_quads(sum_dword_pairs(s[4], s[5]), sum_dword_pairs(s[6], s[7]));
  const __m512i q2 = sum_quads(sum_dword_pairs(s[8], s[9]), sum_dword_pairs(s[10], s[11]));
  const __m512i q3 = sum_quads(sum_dword_pairs(s[12], s[13]), sum_dword_pairs(s[14], s[15]));
  return sum_lane_pairs(sum_lane_pairs(q0, q1), sum_lane_pairs(q2, q3));
}

// split_planes_rows (amx-split-planes.h) over a form's split_row(x, n, hi, lo) -> int32 lanes:
// rows in batches of 16, each batch's lane sums reduced together by sum_rows16, plus `bias`
// (what the form's lanes leave out of Σ x; zero if nothing), into sums[row] modulo 2^32.
template <typename SplitRow>
inline __attribute__((always_inline)) void split_rows_by16(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi,
                                                           uint8_t* lo, size_t ld_plane, uint32_t* sums, __m512i bias,
                                                           SplitRow split_row) {
  for (size_t r0 = 0; r0 < rows; r0 += 16) {
    const size_t nr = std::min<size_t>(16, rows - r0);
    __m512i s[16];
    for (size_t r = 0; r < 16; ++r) {
      const size_t row = r0 + r;
      s[r] = r < nr ? split_row(x + row * ldx, n, hi + row * ld_plane, lo + row * ld_plane) : _mm512_setzero_si512();
    }
    _mm512_mask_storeu_epi32(sums + r0, static_cast<__mmask16>((1u << nr) - 1), _mm512_add_epi32(sum_rows16(s), bias));
  }
}

}  // namespace
}  // namespace intvit::gemm::amx
