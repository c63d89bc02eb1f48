// split_planes__avx512 (amx-split-planes.h). Per 64 values a, b (32 each): the high bytes
// (x >> 8) and the low bytes (x & 255) packed by vpackuswb (no saturation: both ≤ 255), which
// interleaves a and b per 128-bit lane, so a qword permutation puts a's 32 bytes before b's. The
// sum: (x ^ 0x8000) as int16 is x − 32768, vpmaddwd by 1 adds pairs of those exactly into int32
// lanes (modulo 2^32 as they accumulate), and 32768 per value processed (masked-off zeros
// included) restores Σ x.
// GCC 12's AVX-512 headers trip -Wuninitialized on their _mm512_undefined_*() self-initialisation
// (GCC bug 105593, fixed in 12.3); the pragma must precede #include <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/gemm/amx-split-planes.h"

namespace intvit::gemm::amx {
namespace {

struct Planes {
  __m512i hi, lo, pair_sums;
};

inline Planes split64(__m512i a, __m512i b) {
  const __m512i low_byte = _mm512_set1_epi16(0x00FF), flip = _mm512_set1_epi16(static_cast<int16_t>(0x8000));
  const __m512i ones = _mm512_set1_epi16(1), order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
  Planes p;
  p.hi = _mm512_permutexvar_epi64(order, _mm512_packus_epi16(_mm512_srli_epi16(a, 8), _mm512_srli_epi16(b, 8)));
  p.lo = _mm512_permutexvar_epi64(order, _mm512_packus_epi16(_mm512_and_si512(a, low_byte), _mm512_and_si512(b, low_byte)));
  p.pair_sums = _mm512_add_epi32(_mm512_madd_epi16(_mm512_xor_si512(a, flip), ones), _mm512_madd_epi16(_mm512_xor_si512(b, flip), ones));
  return p;
}

}  // namespace

uint32_t split_planes__avx512(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
  __m512i sum = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const Planes p = split64(_mm512_loadu_si512(x + i), _mm512_loadu_si512(x + i + 32));
    _mm512_storeu_si512(hi + i, p.hi);
    _mm512_storeu_si512(lo + i, p.lo);
    sum = _mm512_add_epi32(sum, p.pair_sums);
  }
  size_t processed = i;
  if (i < n) {
    const size_t r = n - i;  // 1..63
    const __mmask32 ma = r >= 32 ? ~__mmask32{0} : (__mmask32{1} << r) - 1;
    const __mmask32 mb = r > 32 ? (__mmask32{1} << (r - 32)) - 1 : 0;
    const Planes p = split64(_mm512_maskz_loadu_epi16(ma, x + i), _mm512_maskz_loadu_epi16(mb, x + i + 32));
    const __mmask64 m = (__mmask64{1} << r) - 1;
    _mm512_mask_storeu_epi8(hi + i, m, p.hi);
    _mm512_mask_storeu_epi8(lo + i, m, p.lo);
    sum = _mm512_add_epi32(sum, p.pair_sums);
    processed += 64;
  }
  return static_cast<uint32_t>(_mm512_reduce_add_epi32(sum)) + 32768u * static_cast<uint32_t>(processed);
}

}  // namespace intvit::gemm::amx
