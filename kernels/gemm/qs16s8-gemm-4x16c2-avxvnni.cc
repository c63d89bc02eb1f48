// s16 × s8 linear layer (Eq. 10), AVX-VNNI (VEX, 256-bit): vpdpwssd (wrapping) on int16 k-pairs.
// Tile: 4 rows × 16 channels (ukernel-avx2.h).
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step; it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include "kernels/gemm/ukernel-avx2.h"

namespace intvit::gemm {

void qs16s8_gemm_4x16c2__avxvnni(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
         size_t n_end) {
  avx2::linear_tiles<avx2::Kind::kS16Dpwssd>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace intvit::gemm
