// row_sums_u8__avx512 (amx-row-sums.h): vpsadbw of 64 bytes against zero gives 8 qword sums of 8
// bytes each; they accumulate per row (no carry out of 64 bits) and the row's total is taken
// modulo 2^32 at the end, as the reference's uint32 sum wraps. Rows go 8 at a time, their
// qword vectors reduced together.
#include "kernels/avx512-intrinsics.h"

#include "kernels/gemm/amx-row-sums.h"

namespace intvit::gemm::amx {

namespace {

// Per 128-bit lane l: [Σ x's qwords of lane l, Σ y's qwords of lane l].
inline __m512i sum_pairs(__m512i x, __m512i y) {
  return _mm512_add_epi64(_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y));
}
// Lanes [x0 + x1, x2 + x3, y0 + y1, y2 + y3] (128-bit lanes).
inline __m512i sum_lane_pairs(__m512i x, __m512i y) {
  return _mm512_add_epi64(_mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

}  // namespace

void row_sums_u8__avx512(const uint8_t* a, size_t lda, size_t rows, size_t k, uint32_t* sums) {
  const __m512i zero = _mm512_setzero_si512();
  const size_t whole = k / 64 * 64, rest = k - whole;
  const __mmask64 tail = rest == 0 ? 0 : (__mmask64{1} << rest) - 1;
  const auto row_qwords = [&](const uint8_t* row) {
    __m512i acc = zero;
    for (size_t q = 0; q < whole; q += 64) acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_loadu_si512(row + q), zero));
    if (rest != 0) acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(tail, row + whole), zero));
    return acc;
  };
  size_t i = 0;
  // 8 rows at a time: their qword vectors reduced together (a tree of 7 two-vector steps, each
  // result lane a pair of rows) instead of one horizontal reduction per row — the q@kᵀ head's
  // 2 × 197 rows of K = 64 spent more in the reductions than in vpsadbw.
  for (; i + 8 <= rows; i += 8) {
    const uint8_t* r = a + i * lda;
    const __m512i p01 = sum_pairs(row_qwords(r), row_qwords(r + lda)), p23 = sum_pairs(row_qwords(r + 2 * lda), row_qwords(r + 3 * lda));
    const __m512i p45 = sum_pairs(row_qwords(r + 4 * lda), row_qwords(r + 5 * lda)), p67 = sum_pairs(row_qwords(r + 6 * lda), row_qwords(r + 7 * lda));
    const __m512i total = sum_lane_pairs(sum_lane_pairs(p01, p23), sum_lane_pairs(p45, p67));  // qword j: row i + j
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + i), _mm512_cvtepi64_epi32(total));  // modulo 2^32
  }
  for (; i < rows; ++i) sums[i] = static_cast<uint32_t>(_mm512_reduce_add_epi64(row_qwords(a + i * lda)));
}

}  // namespace intvit::gemm::amx
