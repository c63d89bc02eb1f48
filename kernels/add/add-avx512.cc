// AVX-512 residual add, bit-identical to add-ref.cc (QUANTIZATION.md Eq. 40).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#include "kernels/add/add.h"
#include "kernels/add/fixedpoint-avx512.h"

namespace intvit {

void residual_add__avx512(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out) {
  using namespace fp_avx512;
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask16(n - i);
    const __m512i x = mbqm(_mm512_maskz_loadu_epi32(m, a + i), p.a_multiplier, p.a_shift);
    const __m512i y = mbqm(_mm512_maskz_loadu_epi32(m, b + i), p.b_multiplier, p.b_shift);
    // Saturating add: the wrapped sum overflowed iff its sign differs from both operands'.
    const __m512i sum = _mm512_add_epi32(x, y);
    const __m512i overflow = _mm512_and_si512(_mm512_xor_si512(x, sum), _mm512_xor_si512(y, sum));
    const __m512i rail = _mm512_xor_si512(_mm512_srai_epi32(x, 31), _mm512_set1_epi32(INT32_MAX));
    const __mmask16 ov = _mm512_cmplt_epi32_mask(overflow, _mm512_setzero_si512());
    _mm512_mask_storeu_epi32(out + i, m, _mm512_mask_mov_epi32(sum, ov, rail));
  }
}

}  // namespace intvit
