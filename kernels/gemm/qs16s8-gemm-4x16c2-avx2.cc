// s16 × s8 linear layer (Eq. 10), AVX2: vpmaddwd on int16 k-pairs of A and of the widened weights.
// Tile: 4 rows × 16 channels; A interleaved once per call into a panel (ukernel-avx2.h
// linear_panels), so the inner step is broadcast + vpmaddwd + vpaddd.
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step; it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include "kernels/gemm/ukernel-avx2.h"

namespace intvit::gemm {

void qs16s8_gemm_4x16c2__avx2(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
         size_t n_end) {
  avx2::linear_panels<int16_t>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace intvit::gemm
