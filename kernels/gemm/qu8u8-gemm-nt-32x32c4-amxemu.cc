// u8 × u8 product with two zero-points (Eq. 9: q@kᵀ, attn@v) on AMX tiles, 32 × 32 per register
// tile, tdpbuud on B packed into VNNI-4 tiles per call, over
// the portable tile emulation (any x86-64; the best native output stage).
#include "kernels/gemm/amx-attention.h"

namespace intvit::gemm {

void qu8u8_gemm_nt_32x32c4__amxemu(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                 const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  amx::matmul_u8u8_nt<amx::EmuTileOps>(m, n, k, a, lda, za, b, ldb, zb, c, ldc);
}

}  // namespace intvit::gemm
