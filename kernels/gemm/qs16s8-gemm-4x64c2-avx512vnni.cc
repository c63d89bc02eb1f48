// s16 × s8 linear layer (Eq. 10), AVX-512 VNNI: 4 rows × 64 channels per tile, vpdpwssd on k-pairs
// of weights widened to int16 at pack time. vpdpwssd wraps (the saturating form is vpdpwssds): each
// pair sum is exact (|2 · 32768 · 128| < 2^31) and the int32 accumulation is modulo 2^32 (Eq. 10).
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step of some tile shapes (e.g. 4 × 48); it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include "kernels/gemm/ukernel-avx512vnni.h"

namespace intvit::gemm {

void qs16s8_gemm_4x64c2__avx512vnni(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out,
                                    size_t n_begin, size_t n_end) {
  avx512vnni::linear_tiles_cpu_form</*kS16=*/true, avx512vnni::PlainStages>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace intvit::gemm
