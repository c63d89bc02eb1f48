// s16 × s8 linear layer (Eq. 10 through the byte split of Eq. 12) on AMX tiles: 16 rows × 32
// channels, high bytes by tdpbssd and low bytes by tdpbusd on the same VNNI-4 weights, over
// the portable tile emulation (any x86-64; the best native output stage).
#include "kernels/gemm/amx-drivers.h"

namespace intvit::gemm {

void qs16s8_gemm_16x32c4__amxemu(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out,
                               size_t n_begin, size_t n_end) {
  amx::linear_s16<amx::EmuTileOps>(w, m, a, lda, out, n_begin, n_end, output_stage_for(GemmIsa::kAmxEmu), amx_block_stage_for(GemmIsa::kAmxEmu, out, true));
}

}  // namespace intvit::gemm
