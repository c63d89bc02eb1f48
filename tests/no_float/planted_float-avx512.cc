// Planted AVX-512 float instructions that an older pattern missed (a compare with a predicate, the
// 14-bit reciprocal approximations): the no-float check must name each of them. One function per
// instruction, so that every compiler emits them in this order.
#include "kernels/avx512-intrinsics.h"

extern "C" __mmask16 intvit_planted_float_compare(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
extern "C" __m512 intvit_planted_float_rsqrt(__m512 a) { return _mm512_rsqrt14_ps(a); }
extern "C" __m512 intvit_planted_float_rcp(__m512 a) { return _mm512_rcp14_ps(a); }
