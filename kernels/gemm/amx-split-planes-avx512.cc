// split_planes__avx512 (amx-split-planes.h). Per 64 values a, b (32 each): vpshufb gathers each
// 128-bit lane's low bytes into its low qword and its high bytes into its high qword, then one
// two-source qword permutation per plane picks the planes' qwords of a and b in order (4 shuffles
// per 64 values). The sum: (x ^ 0x8000) as int16 is x − 32768, vpmaddwd by 1 adds pairs of those
// exactly into int32 lanes (modulo 2^32 as they accumulate), and 32768 per value processed
// (masked-off zeros included) restores Σ x.
#include "kernels/avx512-intrinsics.h"

#include "kernels/fixedpoint-avx512.h"
#include "kernels/gemm/amx-split-planes-avx512.h"
#include "kernels/gemm/amx-split-planes.h"

namespace intvit::gemm::amx {
namespace {

struct Planes {
  __m512i hi, lo, pair_sums;
};

inline Planes split64(__m512i a, __m512i b) {
  const __m512i flip = _mm512_set1_epi16(static_cast<int16_t>(0x8000)), ones = _mm512_set1_epi16(1);
  const __m512i lane_order = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
  const __m512i lo_qwords = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), hi_qwords = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
  const __m512i sa = _mm512_shuffle_epi8(a, lane_order), sb = _mm512_shuffle_epi8(b, lane_order);
  Planes p;
  p.lo = _mm512_permutex2var_epi64(sa, lo_qwords, sb);
  p.hi = _mm512_permutex2var_epi64(sa, hi_qwords, sb);
  p.pair_sums = _mm512_add_epi32(_mm512_madd_epi16(_mm512_xor_si512(a, flip), ones), _mm512_madd_epi16(_mm512_xor_si512(b, flip), ones));
  return p;
}

// The planes of x[0, n) into hi, lo; returns the int32 lanes whose sum modulo 2^32, plus
// 32768 · round_up(n, 64), is Σ x as uint16 values.
inline __m512i split_row(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
  __m512i sum = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const Planes p = split64(_mm512_loadu_si512(x + i), _mm512_loadu_si512(x + i + 32));
    _mm512_storeu_si512(hi + i, p.hi);
    _mm512_storeu_si512(lo + i, p.lo);
    sum = _mm512_add_epi32(sum, p.pair_sums);
  }
  if (i < n) {
    const size_t r = n - i;  // 1..63
    const __mmask32 ma = r >= 32 ? ~__mmask32{0} : (__mmask32{1} << r) - 1;
    const __mmask32 mb = r > 32 ? (__mmask32{1} << (r - 32)) - 1 : 0;
    const Planes p = split64(_mm512_maskz_loadu_epi16(ma, x + i), _mm512_maskz_loadu_epi16(mb, x + i + 32));
    const __mmask64 m = (__mmask64{1} << r) - 1;
    _mm512_mask_storeu_epi8(hi + i, m, p.hi);
    _mm512_mask_storeu_epi8(lo + i, m, p.lo);
    sum = _mm512_add_epi32(sum, p.pair_sums);
  }
  return sum;
}

inline uint32_t steps_bias(size_t n) { return 32768u * static_cast<uint32_t>((n + 63) / 64 * 64); }

}  // namespace

uint32_t split_planes__avx512(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
  // Lanes summed modulo 2^32 (_mm512_reduce_add_epi32 adds in C int: undefined when it wraps).
  return fp_avx512::reduce_add_wrap_epi32(split_row(x, n, hi, lo)) + steps_bias(n);
}

void split_planes_rows__avx512(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi, uint8_t* lo, size_t ld_plane,
                               uint32_t* sums) {
  split_rows_by16(x, ldx, rows, n, hi, lo, ld_plane, sums, _mm512_set1_epi32(static_cast<int32_t>(steps_bias(n))),
                  [](const int16_t* row, size_t len, uint8_t* h, uint8_t* l) { return split_row(row, len, h, l); });
}

}  // namespace intvit::gemm::amx
