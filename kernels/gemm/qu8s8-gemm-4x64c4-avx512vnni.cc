// u8 × s8 linear layer (Eq. 8), AVX-512 VNNI: 4 rows × 64 channels per tile, vpdpbusd on k-groups of 4.
// vpdpbusd multiplies unsigned bytes of A by signed bytes of W exactly (no int16 saturation).
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step of some tile shapes (e.g. 4 × 48); it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include "kernels/gemm/ukernel-avx512vnni.h"

namespace intvit::gemm {

void qu8s8_gemm_4x64c4__avx512vnni(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out,
                                   size_t n_begin, size_t n_end) {
  avx512vnni::linear_tiles_cpu_form</*kS16=*/false, avx512vnni::PlainStages>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace intvit::gemm
