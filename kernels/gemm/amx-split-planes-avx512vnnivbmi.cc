// split_planes_rows__avx512vnnivbmi (amx-split-planes.h): per 64 values a, b (32 each), one
// two-source byte permutation per plane (vpermt2b: the even bytes of a:b are the low plane, the odd
// ones the high plane, already in K order), i.e. 2 shuffles per 64 values instead of the AVX-512
// form's 4. The sum from the planes by vpdpbusd against bytes of 1 (Σ lo and Σ hi in int32 lanes,
// wrapping modulo 2^32), Σ x = 256·Σ hi + Σ lo modulo 2^32 (Eq. 12 with both bytes unsigned): no
// bias to undo, and the masked tail's zero bytes add nothing.
#include "kernels/avx512-intrinsics.h"

#include <cstdint>

#include "kernels/gemm/amx-split-planes-avx512.h"
#include "kernels/gemm/amx-split-planes.h"

namespace intvit::gemm::amx {
namespace {

// The next rows' 128 bytes 512 bytes ahead into L1: a head's probabilities (77 KB at 197 tokens)
// stream from L2, and the hardware prefetch leaves the split at ~40 GB/s (a 197 × 197 head:
// 2.03 -> 1.75 us in isolation). The address is computed in integers: it may lie past the rows
// (prefetches never fault), and pointer arithmetic past an array would be undefined.
inline void prefetch_ahead(const int16_t* x) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(x) + 512;
  _mm_prefetch(reinterpret_cast<const char*>(at), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(at + 64), _MM_HINT_T0);
}

// The planes of x[0, n) into hi, lo; returns int32 lanes whose sum modulo 2^32 is Σ x as uint16.
inline __m512i split_row(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
  const __m512i even = _mm512_set_epi64(0x7e7c7a7876747270, 0x6e6c6a6866646260, 0x5e5c5a5856545250, 0x4e4c4a4846444240,
                                        0x3e3c3a3836343230, 0x2e2c2a2826242220, 0x1e1c1a1816141210, 0x0e0c0a0806040200);
  const __m512i odd = _mm512_add_epi8(even, _mm512_set1_epi8(1)), ones = _mm512_set1_epi8(1);
  __m512i sum_hi = _mm512_setzero_si512(), sum_lo = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    prefetch_ahead(x + i);
    const __m512i a = _mm512_loadu_si512(x + i), b = _mm512_loadu_si512(x + i + 32);
    const __m512i h = _mm512_permutex2var_epi8(a, odd, b), l = _mm512_permutex2var_epi8(a, even, b);
    _mm512_storeu_si512(hi + i, h);
    _mm512_storeu_si512(lo + i, l);
    sum_hi = _mm512_dpbusd_epi32(sum_hi, h, ones);
    sum_lo = _mm512_dpbusd_epi32(sum_lo, l, ones);
  }
  if (i < n) {
    const size_t r = n - i;  // 1..63
    const __mmask32 ma = r >= 32 ? ~__mmask32{0} : (__mmask32{1} << r) - 1;
    const __mmask32 mb = r > 32 ? (__mmask32{1} << (r - 32)) - 1 : 0;
    const __m512i a = _mm512_maskz_loadu_epi16(ma, x + i), b = _mm512_maskz_loadu_epi16(mb, x + i + 32);
    const __m512i h = _mm512_permutex2var_epi8(a, odd, b), l = _mm512_permutex2var_epi8(a, even, b);
    const __mmask64 m = (__mmask64{1} << r) - 1;
    _mm512_mask_storeu_epi8(hi + i, m, h);
    _mm512_mask_storeu_epi8(lo + i, m, l);
    sum_hi = _mm512_dpbusd_epi32(sum_hi, h, ones);
    sum_lo = _mm512_dpbusd_epi32(sum_lo, l, ones);
  }
  return _mm512_add_epi32(_mm512_slli_epi32(sum_hi, 8), sum_lo);  // lane-wise 256·Σ hi + Σ lo, modulo 2^32
}

}  // namespace

void split_planes_rows__avx512vnnivbmi(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi, uint8_t* lo,
                                       size_t ld_plane, uint32_t* sums) {
  split_rows_by16(x, ldx, rows, n, hi, lo, ld_plane, sums, _mm512_setzero_si512(),  // the planes' sums leave nothing out
                  [](const int16_t* row, size_t len, uint8_t* h, uint8_t* l) { return split_row(row, len, h, l); });
}

}  // namespace intvit::gemm::amx
