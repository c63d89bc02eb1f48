// Lane-wise AVX2 forms of kernels/fixedpoint.h (QUANTIZATION.md Eq. 5-7), bit-identical to the
// scalar functions; the AVX2 twin of fixedpoint-avx512.h and the AVX2 fixed-point core that every
// AVX2-class kernel (nonlinear and GEMM, avx2 and avxvnni) includes. Include only from files
// compiled with at least -mavx2 -mfma -mbmi2. Internal linkage (static): those files are compiled
// with different flags, so no helper may be shared between them by the linker.
//
// AVX2 has no 64-bit arithmetic right shift, no 64-bit min/max and no masked loads of bytes; the
// helpers below supply exact substitutes (rounding on magnitudes, compare + blend, tail buffers).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace intvit::fp_avx2 {

// SRDHM and RDBP both round half away from zero, so both commute with negation: the lane forms
// below work on |x| (as uint32, so |INT32_MIN| = 2^31 is exact), where rounding half away is
// rounding half up, and put the sign back with vpsignd.

// Eq. 5 on 8 int32 lanes with one multiplier b in [0, 2^31): round_half_away(a·b / 2^31)
// = sign(a)·((|a|·b + 2^30) >> 31). (The saturating case a = b = INT32_MIN cannot occur for b >= 0.)
static inline __m256i srdhm(__m256i a, int32_t b) {
  const __m256i bv = _mm256_set1_epi64x(b), half = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i mag = _mm256_abs_epi32(a);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(mag, bv), half), 31);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(mag, 32), bv), half);
  // Bits 31..62 of each sum: shifted down into the even dwords, up into the odd ones.
  return _mm256_sign_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 1), 0xAA), a);
}

// Eq. 6 on int32 lanes, one exponent e in [0, 31]: sign(x)·((|x| + 2^(e-1)) >> e); |x| + 2^(e-1)
// < 2^32 cannot wrap in uint32.
static inline __m256i rdbp(__m256i x, int e) {
  const __m256i half = _mm256_set1_epi32(e > 0 ? static_cast<int32_t>(uint32_t{1} << (e - 1)) : 0);
  const __m256i mag = _mm256_srl_epi32(_mm256_add_epi32(_mm256_abs_epi32(x), half), _mm_cvtsi32_si128(e));
  return _mm256_sign_epi32(mag, x);
}

// 64-bit Eq. 6 (fp::rounding_divide_by_pot64) with a per-lane exponent e in [0, 62], for
// |x| + 2^(e-1) < 2^63: sign(x)·((|x| + ⌊2^e / 2⌋) >> e) (AVX2 has no 64-bit arithmetic shift).
static inline __m256i rdbp64(__m256i x, __m256i e) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);  // -1 for x < 0
  const __m256i half = _mm256_srli_epi64(_mm256_sllv_epi64(_mm256_set1_epi64x(1), e), 1);
  const __m256i mag = _mm256_sub_epi64(_mm256_xor_si256(x, sign), sign);
  const __m256i rounded = _mm256_srlv_epi64(_mm256_add_epi64(mag, half), e);
  return _mm256_sub_epi64(_mm256_xor_si256(rounded, sign), sign);
}

// Saturating x·2^e, e in [0, 31] (fp::saturating_left_shift).
static inline __m256i saturating_left_shift(__m256i x, int e) {
  if (e == 0) return x;
  const __m256i hi = _mm256_set1_epi32(INT32_MAX >> e), lo = _mm256_set1_epi32(INT32_MIN >> e);
  __m256i r = _mm256_sll_epi32(x, _mm_cvtsi32_si128(e));
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MAX), _mm256_cmpgt_epi32(x, hi));
  return _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MIN), _mm256_cmpgt_epi32(lo, x));
}

// ---- Eq. 7 (fp::multiply_by_quantized_multiplier) lane-wise, per-lane multiplier and shift: the one
// AVX2 form, used by the GEMM output stage (per column) and the nonlinear kernels (broadcast). On
// magnitudes, SRDHM and RDBP fused (QUANTIZATION.md Eq. 11a-11b, as fixedpoint-avx512.h): with x'
// the saturated left shift, r = right and h = 2^(r-1) (0 for r = 0),
//   P2 = |x'|·(2M0) + 2·(2^30 + h·2^31) < 2^64,   RDBP(SRDHM(x', M0), r) = sign(x')·(⌊P2 / 2^32⌋ >> r)
// so each lane is one vpmuludq, one add, its high dword and one 32-bit shift; the sign goes back
// by vpsignd (x' = 0 gives 0 either way).
struct ColumnConsts {
  __m256i mult2_even, mult2_odd, round2_even, round2_odd, right;
  __m256i left, left_hi, left_lo;
};

static inline ColumnConsts column_consts(__m256i mult, __m256i shift) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFFll);
  const __m256i right = _mm256_max_epi32(shift, zero);
  const __m256i half = _mm256_srli_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), 1);  // h
  const __m256i mult2 = _mm256_slli_epi32(mult, 1);  // 2M0 < 2^32 as an unsigned dword
  ColumnConsts c;
  c.mult2_even = mult2;  // vpmuludq reads the low (even) dword of each qword
  c.mult2_odd = _mm256_srli_epi64(mult2, 32);
  c.round2_even = _mm256_add_epi64(_mm256_slli_epi64(_mm256_and_si256(half, low32), 32), _mm256_set1_epi64x(1ll << 31));
  c.round2_odd = _mm256_add_epi64(_mm256_andnot_si256(low32, half), _mm256_set1_epi64x(1ll << 31));
  c.right = right;
  c.left = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  c.left_hi = _mm256_srav_epi32(_mm256_set1_epi32(std::numeric_limits<int32_t>::max()), c.left);
  c.left_lo = _mm256_srav_epi32(_mm256_set1_epi32(std::numeric_limits<int32_t>::min()), c.left);
  return c;
}

// (Eq. 7) lane-wise multiply_by_quantized_multiplier.
template <bool kLeftShift>
static inline __m256i mbqm(__m256i x, const ColumnConsts& c) {
  if constexpr (kLeftShift) {
    const __m256i hi = _mm256_cmpgt_epi32(x, c.left_hi), lo = _mm256_cmpgt_epi32(c.left_lo, x);
    x = _mm256_sllv_epi32(x, c.left);
    x = _mm256_blendv_epi8(x, _mm256_set1_epi32(std::numeric_limits<int32_t>::max()), hi);
    x = _mm256_blendv_epi8(x, _mm256_set1_epi32(std::numeric_limits<int32_t>::min()), lo);
  }
  const __m256i ax = _mm256_abs_epi32(x);  // |INT32_MIN| = 2^31 as an unsigned dword
  const __m256i even = _mm256_add_epi64(_mm256_mul_epu32(ax, c.mult2_even), c.round2_even);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(ax, 32), c.mult2_odd), c.round2_odd);
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);  // ⌊P2 / 2^32⌋ per lane
  return _mm256_sign_epi32(_mm256_srlv_epi32(high, c.right), x);
}

static inline __m256i saturating_add(__m256i a, __m256i b) {
  const __m256i sum = _mm256_add_epi32(a, b);
  const __m256i overflow = _mm256_and_si256(_mm256_xor_si256(a, sum), _mm256_xor_si256(b, sum));
  const __m256i saturated = _mm256_xor_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(std::numeric_limits<int32_t>::max()));
  return _mm256_castps_si256(
      _mm256_blendv_ps(_mm256_castsi256_ps(sum), _mm256_castsi256_ps(saturated), _mm256_castsi256_ps(overflow)));
}

// Eq. 7 with one multiplier in [0, 2^31) and shift in [-31, 31] for all lanes.
static inline __m256i mbqm(__m256i x, int32_t multiplier, int shift) {
  const ColumnConsts c = column_consts(_mm256_set1_epi32(multiplier), _mm256_set1_epi32(shift > 0 ? shift : 0));
  return mbqm<false>(saturating_left_shift(x, shift < 0 ? -shift : 0), c);
}

// Sum of the 8 int32 lanes mod 2^32 (vector adds only, no signed-overflow UB).
static inline uint32_t reduce_add_wrap_epi32(__m256i v) {
  __m128i b = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(b));
}

static inline int64_t reduce_add_epi64(__m256i v) {
  const __m128i b = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_cvtsi128_si64(b) + _mm_extract_epi64(b, 1);
}

static inline int32_t reduce_max_epi32(__m256i v) {
  __m128i b = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  b = _mm_max_epi32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_max_epi32(b, _mm_shuffle_epi32(b, 0xB1));
  return _mm_cvtsi128_si32(b);
}

static inline uint32_t reduce_max_epu32(__m256i v) {
  __m128i b = _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  b = _mm_max_epu32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_max_epu32(b, _mm_shuffle_epi32(b, 0xB1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(b));
}

// -1 in the first min(n, 8) int32 lanes, 0 above: the mask for _mm256_maskload/maskstore_epi32.
static inline __m256i tail_mask8(size_t n) {
  const int32_t k = n >= 8 ? 8 : static_cast<int32_t>(n);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// min/max on int64 lanes (compare + blend).
static inline __m256i max_epi64(__m256i a, __m256i b) { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a)); }
static inline __m256i min_epi64(__m256i a, __m256i b) { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b)); }

// 8 bytes from p zero-extended to int32 lanes; only the first n (< 8) bytes are read by the _tail form.
static inline __m256i load8_u8_epi32(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
static inline __m256i load8_u8_epi32_tail(const uint8_t* p, size_t n) {
  uint64_t bytes = 0;
  std::memcpy(&bytes, p, n);
  return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(bytes)));
}

// The low byte / low 16 bits of each of 8 int32 lanes, packed into the low 8 / 16 bytes (truncation,
// like the AVX-512 vpmovdb / vpmovdw stores and the reference's casts).
static inline __m128i narrow_epi32_u8(__m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}
static inline __m128i narrow_epi32_s16(__m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);
  return _mm_unpacklo_epi64(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}
static inline void store8_u8(uint8_t* p, __m256i v) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), narrow_epi32_u8(v));
}
static inline void store8_u8_tail(uint8_t* p, __m256i v, size_t n) {
  const uint64_t bytes = static_cast<uint64_t>(_mm_cvtsi128_si64(narrow_epi32_u8(v)));
  std::memcpy(p, &bytes, n);
}
static inline void store8_s16(int16_t* p, __m256i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), narrow_epi32_s16(v));
}
static inline void store8_s16_tail(int16_t* p, __m256i v, size_t n) {
  alignas(16) int16_t buf[8];
  _mm_store_si128(reinterpret_cast<__m128i*>(buf), narrow_epi32_s16(v));
  std::memcpy(p, buf, n * sizeof(int16_t));
}

}  // namespace intvit::fp_avx2
