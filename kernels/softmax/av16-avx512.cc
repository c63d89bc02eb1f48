// AVX-512 attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b), bit-identical to av16_ref:
// the outer-product kernel of av16-outer-avx512.h with vpmaddwd + vpaddd (AVX512-BW). CPUs with
// AVX512-VNNI run the vpdpwssd build instead (av16-avx512vnni.cc, one instruction per pair sum
// instead of two); the session's KernelSet picks (kernels/backend/backend.cc).
#include "kernels/softmax/av16-outer-avx512.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

void av16__avx512(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t,
                  size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  av16_outer::av16_outer<false>(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
}

}  // namespace intvit
