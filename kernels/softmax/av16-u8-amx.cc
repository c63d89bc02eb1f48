// av16_u8 (attn@v16 fused with the requantization, Eq. 23c) on the real tile instructions: v read
// token-major into the VNNI-4 tiles, the accumulators requantized block by block by the amx
// linears' AVX-512 block stage (kernels/gemm/amx-attention.h).
#include "kernels/gemm/amx-tile-intrinsics.h"  // first: it carries the immintrin.h pragma
#include "kernels/gemm/amx-attention.h"
#include "kernels/softmax/av16-amx.h"

namespace intvit {

void av16_u8__amx(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                  int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  check_av16_u8_args(m, n, k, probs, ld_p, v, ld_v, rq, out, ld_out);
  if (m == 0 || n == 0) return;
  const RequantParams params{&rq.multiplier, &rq.shift, false, rq.zero_point, 0, 255};
  gemm::amx::av16_u8<gemm::amx::AmxTileOps>(m, n, k, probs, ld_p, v, ld_v, v_zero_point, params, out, ld_out,
                                            GemmIsa::kAmx);
}

}  // namespace intvit
