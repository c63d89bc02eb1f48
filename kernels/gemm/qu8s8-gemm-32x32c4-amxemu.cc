// u8 × s8 linear layer (Eq. 8) on AMX tiles, 32 rows × 32 channels per register tile, tdpbusd on
// VNNI-4 weights: the shared micro-kernel (amx-drivers.h) over the portable tile emulation (any x86-64; the best native output stage).
#include "kernels/gemm/amx-drivers.h"

namespace intvit::gemm {

void qu8s8_gemm_32x32c4__amxemu(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out,
                              size_t n_begin, size_t n_end) {
  amx::linear_u8<amx::EmuTileOps>(w, m, a, lda, out, n_begin, n_end, output_stage_for(GemmIsa::kAmxEmu), amx_block_stage_for(GemmIsa::kAmxEmu, out, false));
}

}  // namespace intvit::gemm
