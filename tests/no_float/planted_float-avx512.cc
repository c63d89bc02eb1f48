// Planted AVX-512 float instructions that an older pattern missed (a compare with a predicate, the
// 14-bit reciprocal approximations): the no-float check must name each of them.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

extern "C" __m512 intvit_planted_float_approximations(__m512 a, __m512 b) {
  const __mmask16 less = _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
  return _mm512_mask_mov_ps(_mm512_rsqrt14_ps(a), less, _mm512_rcp14_ps(b));
}
