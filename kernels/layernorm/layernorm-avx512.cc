// AVX-512 LayerNorm, bit-identical to layernorm-ref.cc (QUANTIZATION.md §6). Statistics in
// 16 int32 lanes with int64 accumulators (the 128-bit D² is per row, scalar); the output stage
// runs 8 channels in int64 lanes.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {
namespace {

using namespace layernorm_detail;
using namespace fp_avx512;

// Eq. 33 for 16 channels from c; tail lanes (beyond the mask) are 0.
__m512i load_x(const LayerNormParams& p, const void* row, size_t c, __mmask16 m) {
  if (!p.uint8_input) return _mm512_maskz_loadu_epi32(m, static_cast<const int32_t*>(row) + c);
  const __m512i q = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(row) + c));
  const __m512i a = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p.alpha.data() + c));
  return _mm512_maskz_sllv_epi32(m, _mm512_sub_epi32(q, _mm512_set1_epi32(p.in_zero_point)), a);
}

// Eq. 34: x' = x·2^s or RDBP(x, -s).
__m512i pre_shift(__m512i x, int s) {
  return s >= 0 ? _mm512_sllv_epi32(x, _mm512_set1_epi32(s)) : rdbp(x, -s);
}

__m512i add_low_high_epi64(__m512i acc, __m512i v32) {  // acc += sign-extended 16 int32 lanes
  acc = _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v32)));
  return _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v32, 1)));
}

void layernorm_row(const LayerNormParams& p, const void* in, void* out) {
  const size_t n = p.channels;
  const auto count = static_cast<int64_t>(n);
  __m512i vmax = _mm512_setzero_si512();  // Eq. 34: max |x| (unsigned: |INT32_MIN| = 2^31)
  for (size_t c = 0; c < n; c += 16) {
    vmax = _mm512_max_epu32(vmax, _mm512_abs_epi32(load_x(p, in, c, tail_mask16(n - c))));
  }
  const uint32_t max_abs = _mm512_reduce_max_epu32(vmax);
  const int s = pre_shift_for(p, max_abs);

  __m512i vsum = _mm512_setzero_si512(), vsq = _mm512_setzero_si512();  // Eq. 35 (tail lanes are 0)
  for (size_t c = 0; c < n; c += 16) {
    const __m512i xs = pre_shift(load_x(p, in, c, tail_mask16(n - c)), s);  // |x'| <= 2^23
    vsum = add_low_high_epi64(vsum, xs);
    vsq = _mm512_add_epi64(vsq, _mm512_mul_epi32(xs, xs));
    const __m512i xs_odd = _mm512_srli_epi64(xs, 32);
    vsq = _mm512_add_epi64(vsq, _mm512_mul_epi32(xs_odd, xs_odd));
  }
  const int64_t sum = _mm512_reduce_add_epi64(vsum), sum_sq = _mm512_reduce_add_epi64(vsq);
  const RowScale rs = row_scale(p, s, sum, sum_sq);  // Eq. 36-37
  const int j = rs.j;

  const __m512i vrecip = _mm512_set1_epi64(rs.recip), vsum64 = _mm512_set1_epi64(sum);
  const __m512i vcount = _mm512_set1_epi64(count), vj = _mm512_set1_epi64(j >= 0 ? j : -j);
  const __m512i t_shift = _mm512_set1_epi64(kTBits);
  const __m512i zp = _mm512_set1_epi64(p.out_zero_point);
  const __m512i lo = _mm512_set1_epi64(p.out_min), hi = _mm512_set1_epi64(p.out_max);
  for (size_t c = 0; c < n; c += 16) {
    const __m512i xs = pre_shift(load_x(p, in, c, tail_mask16(n - c)), s);
    for (size_t half = 0; half < 2 && c + 8 * half < n; ++half) {
      const size_t ch = c + 8 * half;
      const __mmask8 m = tail_mask8(n - ch);
      const __m512i x64 = _mm512_cvtepi32_epi64(half == 0 ? _mm512_castsi512_si256(xs) : _mm512_extracti64x4_epi64(xs, 1));
      // Eq. 38: C·x' - S (|.| <= 2^36), scaled by 2^-j to below 2^31, times R (<= 2^30).
      const __m512i centred = _mm512_sub_epi64(_mm512_mul_epi32(x64, vcount), vsum64);
      const __m512i scaled = j >= 0 ? rdbp64(centred, vj) : _mm512_sllv_epi64(centred, vj);
      const __m512i t = rdbp64(_mm512_mullo_epi64(scaled, vrecip), t_shift);
      // Eq. 39
      const __m512i g = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, p.gamma_multiplier.data() + ch));
      const __m512i bias = _mm512_maskz_loadu_epi64(m, p.beta_bias.data() + ch);
      const __m512i h = _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(m, p.out_shift.data() + ch));
      __m512i y = _mm512_add_epi64(rdbp64(_mm512_add_epi64(_mm512_mul_epi32(t, g), bias), h), zp);
      y = _mm512_min_epi64(_mm512_max_epi64(y, lo), hi);
      if (p.out_bits == 8) {
        _mm512_mask_cvtepi64_storeu_epi8(static_cast<uint8_t*>(out) + ch, m, y);
      } else {
        _mm512_mask_cvtepi64_storeu_epi16(static_cast<int16_t*>(out) + ch, m, y);
      }
    }
  }
}

}  // namespace

void layernorm_rows__avx512(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                            size_t ld_out) {
  const size_t in_bytes = p.uint8_input ? 1 : 4, out_bytes = p.out_bits == 8 ? 1 : 2;
  for (size_t row = 0; row < rows; ++row) {
    layernorm_row(p, static_cast<const char*>(in) + row * ld_in * in_bytes,
                  static_cast<char*>(out) + row * ld_out * out_bytes);
  }
}

}  // namespace intvit
