// Lane-wise AVX-512 forms of kernels/fixedpoint.h (QUANTIZATION.md Eq. 5-7), bit-identical to
// the scalar functions: the AVX-512 fixed-point core that every AVX-512 kernel (nonlinear and GEMM)
// includes. Include only from files compiled with AVX-512 F/BW/VL/DQ flags (*-avx512*.cc).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>

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

// ---- Eq. 7 (fp::multiply_by_quantized_multiplier) lane-wise, per-lane multiplier and shift: the one
// AVX-512 form, used by the GEMM output stage (per column) and the nonlinear kernels (broadcast).
//
// MBQM (Eq. 7) is evaluated on magnitudes, which is exact because both of its roundings are
// symmetric (half away from zero) and the multiplier is >= 0 (validated):
//   MBQM(x) = sign(x') · floor((|x'|·M + 2^30 + h·2^31) / 2^(31 + right)),  x' = sat(x << left),
// with h = 2^(right−1) (0 if right = 0). This is SRDHM (Eq. 5: floor((|x'|M + 2^30) / 2^31)) followed
// by RDBP (Eq. 6: floor((q + h) / 2^right)) merged by the identity floor(floor(y/a)/b) = floor(y/(ab)).
// It is computed doubled, P2 = |x'|·2M + 2·(2^30 + h·2^31) (QUANTIZATION.md, "Eq. 7 on magnitudes"):
// |x'| <= 2^31, 2M < 2^32 (an unsigned dword for vpmuludq) and P2 < 2^64, so floor(P2 / 2^32) — the
// high dword of each 64-bit product, even and odd lanes gathered by one vpermt2d — is
// floor(P / 2^31), and a 32-bit logical shift by `right` finishes the division.

struct ColumnConsts {  // Eq. 7 constants for 16 output columns
  __m512i mult2_even, mult2_odd;   // 2M of the even / odd dwords, in the low dword of 64-bit lanes
  __m512i round2_even, round2_odd; // 2·(2^30 + h·2^31) of the even / odd dwords, as 64-bit lanes
  __m512i right;                   // the right shift per dword
  __m512i left, left_hi, left_lo;  // saturating left shift: x > left_hi or x < left_lo saturates
};

// vpermt2d indices: dword 2i <- high dword of qword i of the first source, 2i + 1 <- of the second.
static inline __m512i high_dword_gather() {
  return _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
}

static inline __attribute__((always_inline)) ColumnConsts column_consts(__m512i mult, __m512i shift) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i low32 = _mm512_set1_epi64(0xFFFFFFFFll);
  const __m512i right = _mm512_max_epi32(shift, zero);
  const __m512i half = _mm512_srli_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), 1);  // h
  const __m512i mult2 = _mm512_add_epi32(mult, mult);  // 2M < 2^32 as an unsigned dword
  ColumnConsts c;
  c.mult2_even = _mm512_and_si512(mult2, low32);
  c.mult2_odd = _mm512_srli_epi64(mult2, 32);
  c.round2_even = _mm512_add_epi64(_mm512_slli_epi64(_mm512_and_si512(half, low32), 32), _mm512_set1_epi64(1ll << 31));
  c.round2_odd = _mm512_add_epi64(_mm512_andnot_si512(low32, half), _mm512_set1_epi64(1ll << 31));
  c.right = right;
  c.left = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  c.left_hi = _mm512_srav_epi32(_mm512_set1_epi32(std::numeric_limits<int32_t>::max()), c.left);
  c.left_lo = _mm512_srav_epi32(_mm512_set1_epi32(std::numeric_limits<int32_t>::min()), c.left);
  return c;
}

// floor(|x'|·M + 2^30 + h·2^31) / 2^(31 + right)) of Eq. 7 on magnitudes ax = |x'| (unsigned dwords).
static inline __attribute__((always_inline)) __m512i mbqm_magnitude(__m512i ax, const ColumnConsts& c) {
  const __m512i even = _mm512_add_epi64(_mm512_mul_epu32(ax, c.mult2_even), c.round2_even);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(ax, 32), c.mult2_odd), c.round2_odd);
  return _mm512_srlv_epi32(_mm512_permutex2var_epi32(even, high_dword_gather(), odd), c.right);
}

// |x| as an unsigned dword (|INT32_MIN| = 2^31): max(x, −x) rather than vpabsd — on AMD Zen 5
// vpabsd and vpmovd2m take issue slots from vpdpbusd, max/sub/shift/xor do not (measured).
static inline __attribute__((always_inline)) __m512i magnitude(__m512i x) {
  return _mm512_max_epi32(x, _mm512_sub_epi32(_mm512_setzero_si512(), x));
}

// x' = sat32(x · 2^left) of Eq. 7 (kLeftShift; else x). kSaturate = false: the caller knows that no
// x·2^left leaves int32 (OutputPlan::left_shift_exact), so the saturating shift is a plain one.
template <bool kLeftShift, bool kSaturate = true>
static inline __attribute__((always_inline)) __m512i left_shifted(__m512i x, const ColumnConsts& c) {
  if constexpr (kLeftShift && !kSaturate) {
    x = _mm512_sllv_epi32(x, c.left);
  } else if constexpr (kLeftShift) {
    const __mmask16 hi = _mm512_cmpgt_epi32_mask(x, c.left_hi), lo = _mm512_cmplt_epi32_mask(x, c.left_lo);
    x = _mm512_sllv_epi32(x, c.left);
    x = _mm512_mask_mov_epi32(x, hi, _mm512_set1_epi32(std::numeric_limits<int32_t>::max()));
    x = _mm512_mask_mov_epi32(x, lo, _mm512_set1_epi32(std::numeric_limits<int32_t>::min()));
  }
  return x;
}

// (Eq. 7) lane-wise multiply_by_quantized_multiplier (kSaturate: as left_shifted).
template <bool kLeftShift, bool kSaturate = true>
static inline __attribute__((always_inline)) __m512i mbqm(__m512i x, const ColumnConsts& c) {
  x = left_shifted<kLeftShift, kSaturate>(x, c);
  // The sign by srai/xor/sub, not vpmovd2m (see magnitude()).
  const __m512i sign = _mm512_srai_epi32(x, 31);
  return _mm512_sub_epi32(_mm512_xor_si512(mbqm_magnitude(magnitude(x), c), sign), sign);
}

static inline __attribute__((always_inline)) __m512i saturating_add(__m512i a, __m512i b) {
  const __m512i sum = _mm512_add_epi32(a, b);
  // Overflow iff a and b share a sign that the sum does not: ((a ^ sum) & (b ^ sum)) < 0; those
  // lanes become INT32_MAX ^ (a >> 31) (INT32_MIN for negative a) by one merge-masked xor.
  const __mmask16 overflow = _mm512_movepi32_mask(_mm512_ternarylogic_epi32(a, b, sum, 0x42));
  return _mm512_mask_xor_epi32(sum, overflow, _mm512_srai_epi32(a, 31), _mm512_set1_epi32(std::numeric_limits<int32_t>::max()));
}

// Eq. 7 with one multiplier in [0, 2^31) and shift in [-31, 31] for all lanes.
static inline __attribute__((always_inline)) __m512i mbqm(__m512i x, int32_t multiplier, int shift) {
  const ColumnConsts c = column_consts(_mm512_set1_epi32(multiplier), _mm512_set1_epi32(shift > 0 ? shift : 0));
  return mbqm<false>(saturating_left_shift(x, shift < 0 ? -shift : 0), c);
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
