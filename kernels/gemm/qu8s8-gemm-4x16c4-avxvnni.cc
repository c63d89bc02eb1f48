// u8 × s8 linear layer (Eq. 8), AVX-VNNI (VEX, 256-bit): vpdpbusd on k-groups of 4.
// Tile: 4 rows × 16 channels (ukernel-avx2.h).
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step; it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include "kernels/gemm/ukernel-avx2.h"

namespace intvit::gemm {

void qu8s8_gemm_4x16c4__avxvnni(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
         size_t n_end) {
  avx2::linear_tiles<avx2::Kind::kU8Dpbusd>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace intvit::gemm
