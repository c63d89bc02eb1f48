// AVX2 residual add, bit-identical to add-ref.cc (QUANTIZATION.md Eq. 40).
#include <immintrin.h>

#include <cstdint>

#include "kernels/add/add.h"
#include "kernels/add/fixedpoint-avx2.h"

namespace intvit {

void residual_add__avx2(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out) {
  using namespace fp_avx2;
  auto add8 = [&](__m256i av, __m256i bv) {
    const __m256i x = mbqm(av, p.a_multiplier, p.a_shift);
    const __m256i y = mbqm(bv, p.b_multiplier, p.b_shift);
    // Saturating add: the wrapped sum overflowed iff its sign differs from both operands'.
    const __m256i sum = _mm256_add_epi32(x, y);
    const __m256i overflow = _mm256_and_si256(_mm256_xor_si256(x, sum), _mm256_xor_si256(y, sum));
    const __m256i rail = _mm256_xor_si256(_mm256_srai_epi32(x, 31), _mm256_set1_epi32(INT32_MAX));
    return _mm256_blendv_epi8(sum, rail, _mm256_srai_epi32(overflow, 31));
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i r = add8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), r);
  }
  if (i < n) {  // vpmaskmovd: lanes past n are neither read nor written
    const __m256i m = tail_mask8(n - i);
    _mm256_maskstore_epi32(out + i, m, add8(_mm256_maskload_epi32(a + i, m), _mm256_maskload_epi32(b + i, m)));
  }
}

}  // namespace intvit
