// av16 (attn@v, 16-bit probabilities × uint8 vᵀ, §4.10) on the portable tile emulation: each probability split into
// two unsigned bytes, tdpbuud on both (kernels/gemm/amx-attention.h).
#include "kernels/gemm/amx-attention.h"
#include "kernels/softmax/av16-amx.h"

namespace intvit {

void av16__amxemu(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
              int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  gemm::amx::av16<gemm::amx::EmuTileOps>(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
}

}  // namespace intvit
