// row_sums_u8__avx512 (amx-row-sums.h): vpsadbw of 64 bytes against zero gives 8 qword sums of 8
// bytes each; they accumulate per row (no carry out of 64 bits) and the row's total is taken
// modulo 2^32 at the end, as the reference's uint32 sum wraps.
// GCC 12's AVX-512 headers trip -Wuninitialized on their _mm512_undefined_*() self-initialisation
// (GCC bug 105593, fixed in 12.3); the pragma must precede #include <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/gemm/amx-row-sums.h"

namespace intvit::gemm::amx {

void row_sums_u8__avx512(const uint8_t* a, size_t lda, size_t rows, size_t k, uint32_t* sums) {
  const __m512i zero = _mm512_setzero_si512();
  const size_t whole = k / 64 * 64, rest = k - whole;
  const __mmask64 tail = rest == 0 ? 0 : (__mmask64{1} << rest) - 1;
  for (size_t i = 0; i < rows; ++i) {
    const uint8_t* row = a + i * lda;
    __m512i acc = zero;
    for (size_t q = 0; q < whole; q += 64) acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_loadu_si512(row + q), zero));
    if (rest != 0) acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(tail, row + whole), zero));
    sums[i] = static_cast<uint32_t>(_mm512_reduce_add_epi64(acc));
  }
}

}  // namespace intvit::gemm::amx
