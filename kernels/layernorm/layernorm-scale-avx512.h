// Eq. 36-37 of a group of up to 8 rows for the AVX-512 LayerNorm: the scalar 128-bit D² and its
// normalisation per row (row_scale_input in layernorm-row.h), then root_and_recip's Newton steps in
// 64-bit lanes, one row per lane. The scalar chain of Eq. 37 (six dependent 64×64->128-bit
// multiplies per row) cost ~11 % of a ViT-Ti call; here 8 rows share each vector step. Same bits
// as row_scale (QUANTIZATION.md §6.6): every step is the scalar one's uint64 arithmetic.
// Included only by layernorm-avx512.cc (AVX-512 F/BW/VL/DQ flags).
#pragma once

#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {
namespace {

using namespace layernorm_detail;

// kRsqrtStart pre-shifted into Q61 (root_and_recip's starting y), as qwords for a gather.
constexpr std::array<uint64_t, 384> make_rsqrt_start_q61() {
  std::array<uint64_t, 384> t{};
  for (size_t i = 0; i < t.size(); ++i) t[i] = uint64_t{detail::kRsqrtStart[i]} << 46;
  return t;
}
alignas(64) inline constexpr std::array<uint64_t, 384> kRsqrtStartQ61 = make_rsqrt_start_q61();

// mul_shift in 64-bit lanes for K in [32, 63]: (a·b) >> K where it fits 64 bits, from the four
// 32×32-bit partial products. Only bits >= 32 of a·b matter: floor(a·b / 2^32) = hi·2^32 + mid mod
// 2^32, with mid the carry-collecting middle column.
template <int K>
inline __m512i mul_shift8(__m512i a, __m512i b) {
  static_assert(K >= 32 && K <= 63);
  const __m512i low32 = _mm512_set1_epi64(0xFFFFFFFF);
  const __m512i a_hi = _mm512_srli_epi64(a, 32), b_hi = _mm512_srli_epi64(b, 32);
  const __m512i p00 = _mm512_mul_epu32(a, b), p01 = _mm512_mul_epu32(a, b_hi);
  const __m512i p10 = _mm512_mul_epu32(a_hi, b), p11 = _mm512_mul_epu32(a_hi, b_hi);
  const __m512i mid = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(p00, 32), _mm512_and_si512(p01, low32)),
                                       _mm512_and_si512(p10, low32));  // < 3·2^32
  const __m512i hi = _mm512_add_epi64(_mm512_add_epi64(p11, _mm512_srli_epi64(mid, 32)),
                                      _mm512_add_epi64(_mm512_srli_epi64(p01, 32), _mm512_srli_epi64(p10, 32)));
  const __m512i low_part = _mm512_srli_epi64(_mm512_and_si512(mid, low32), K - 32);
  if constexpr (K == 32) return _mm512_or_si512(_mm512_slli_epi64(hi, 32), low_part);
  return _mm512_or_si512(_mm512_slli_epi64(hi, 64 - K), low_part);
}

// root_and_recip(n).recip of 8 lanes (each n in [2^60, 2^62)), step for step as layernorm-row.h.
inline __m512i root_recip8(__m512i n) {
  const __m512i index = _mm512_sub_epi64(_mm512_srli_epi64(n, 53), _mm512_set1_epi64(128));
  __m512i y = _mm512_i64gather_epi64(index, static_cast<const void*>(kRsqrtStartQ61.data()), 8);
  const __m512i three = _mm512_set1_epi64(int64_t{3} << 61);
  for (int i = 0; i < 2; ++i) {  // y <- y·(3 - v·y²)/2
    const __m512i y2 = mul_shift8<61>(y, y);
    const __m512i vy2 = mul_shift8<62>(n, y2);
    y = mul_shift8<62>(y, _mm512_sub_epi64(three, vy2));
  }
  // r: rounded N·y/2^92, less 1 where r² > N (r < 2^31, so r² is one vpmuludq).
  __m512i r = _mm512_srli_epi64(_mm512_add_epi64(mul_shift8<60>(n, y), _mm512_set1_epi64(int64_t{1} << 31)), 32);
  r = _mm512_mask_sub_epi64(r, _mm512_cmpgt_epu64_mask(_mm512_mul_epu32(r, r), n), r, _mm512_set1_epi64(1));
  // q = floor(2^29·y) (< 2^31) plus [rem >= r] + [rem >= 2r], rem = 2^60 + r/2 - q·r as int64.
  const __m512i num = _mm512_add_epi64(_mm512_set1_epi64(int64_t{1} << 60), _mm512_srli_epi64(r, 1));
  __m512i q = _mm512_srli_epi64(y, 32);
  const __m512i rem = _mm512_sub_epi64(num, _mm512_mul_epu32(q, r));
  const __m512i one = _mm512_set1_epi64(1);
  q = _mm512_mask_add_epi64(q, _mm512_cmpge_epi64_mask(rem, r), q, one);
  return _mm512_mask_add_epi64(q, _mm512_cmpge_epi64_mask(rem, _mm512_add_epi64(r, r)), q, one);
}

}  // namespace
}  // namespace intvit
