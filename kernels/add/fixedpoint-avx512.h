// Lane-wise AVX-512 forms of kernels/fixedpoint.h (QUANTIZATION.md Eq. 5-7), bit-identical to
// the scalar functions. Include only from *-avx512.cc files (they get the ISA flags). Shared by the
// nonlinear kernels (softmax, GELU, LayerNorm, add); a candidate to move next to fixedpoint.h.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace intvit::fp_avx512 {

// Eq. 5 on 16 int32 lanes with one multiplier b in [0, 2^31): round_half_away(a·b / 2^31).
// (The saturating case a = b = INT32_MIN cannot occur for b >= 0.) For p = a·b the rounded
// quotient is (p + 2^30 - [p < 0]) >> 31: half up for p >= 0, half down (away) for p < 0.
static inline __m512i srdhm(__m512i a, int32_t b) {
  const __m512i bv = _mm512_set1_epi64(b);
  const __m512i half = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_mul_epi32(a, bv);
  const __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), bv);
  const __m512i even_r = _mm512_add_epi64(_mm512_add_epi64(even, half), _mm512_srai_epi64(even, 63));
  const __m512i odd_r = _mm512_add_epi64(_mm512_add_epi64(odd, half), _mm512_srai_epi64(odd, 63));
  // Bits 31..62 of each sum: shifted down into the even dwords, up into the odd ones.
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even_r, 31), _mm512_slli_epi64(odd_r, 1));
}

// Eq. 6 on int32 lanes, one exponent e in [0, 31].
static inline __m512i rdbp(__m512i x, int e) {
  const __m512i mask = _mm512_set1_epi32(static_cast<int32_t>((int64_t{1} << e) - 1));
  const __m512i remainder = _mm512_and_si512(x, mask);
  // threshold = (mask >> 1) + (x < 0): subtracting x >> 31 (= -1 for negatives) adds the 1.
  const __m512i threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(x, 31));
  const __m512i shifted = _mm512_srav_epi32(x, _mm512_set1_epi32(e));
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  return _mm512_mask_add_epi32(shifted, up, shifted, _mm512_set1_epi32(1));
}

// 64-bit Eq. 6 with a per-lane exponent in [0, 62] (fp::rounding_divide_by_pot64).
static inline __m512i rdbp64(__m512i x, __m512i e) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i mask = _mm512_sub_epi64(_mm512_sllv_epi64(one, e), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __m512i threshold = _mm512_sub_epi64(_mm512_srli_epi64(mask, 1), _mm512_srai_epi64(x, 63));
  const __m512i shifted = _mm512_srav_epi64(x, e);
  const __mmask8 up = _mm512_cmpgt_epi64_mask(remainder, threshold);
  return _mm512_mask_add_epi64(shifted, up, shifted, one);
}

// Saturating x·2^e, e in [0, 31] (fp::saturating_left_shift).
static inline __m512i saturating_left_shift(__m512i x, int e) {
  if (e == 0) return x;
  const __m512i hi = _mm512_set1_epi32(INT32_MAX >> e), lo = _mm512_set1_epi32(INT32_MIN >> e);
  __m512i r = _mm512_sllv_epi32(x, _mm512_set1_epi32(e));
  r = _mm512_mask_mov_epi32(r, _mm512_cmpgt_epi32_mask(x, hi), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_mov_epi32(r, _mm512_cmplt_epi32_mask(x, lo), _mm512_set1_epi32(INT32_MIN));
}

// Eq. 7 (fp::multiply_by_quantized_multiplier), multiplier in [0, 2^31), shift in [-31, 31].
static inline __m512i mbqm(__m512i x, int32_t multiplier, int shift) {
  const int left = shift < 0 ? -shift : 0;
  const int right = shift > 0 ? shift : 0;
  return rdbp(srdhm(saturating_left_shift(x, left), multiplier), right);
}

// Sum of the 16 int32 lanes mod 2^32 (vector adds only: _mm512_reduce_add_epi32 adds in C int,
// which is undefined behaviour when the sum wraps).
static inline uint32_t reduce_add_wrap_epi32(__m512i v) {
  const __m256i a = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i b = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(b));
}

// Tail mask for the last n < 16 lanes (n == 16 or more: all lanes).
static inline __mmask16 tail_mask16(size_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}
static inline __mmask8 tail_mask8(size_t n) {
  return n >= 8 ? static_cast<__mmask8>(0xFF) : static_cast<__mmask8>((1u << n) - 1);
}

}  // namespace intvit::fp_avx512
