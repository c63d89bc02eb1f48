// AVX2 attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b), bit-identical to av16_ref: the
// outer-product kernel of av16-outer-avx2.h with vpmaddwd + vpaddd, and the AVX2 entry point, which
// runs the vpdpwssd build (av16-avxvnni.cc) when the CPU has AVX-VNNI (one instruction per pair sum
// instead of two).
#include "kernels/softmax/av16-outer-avx2.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

void av16_madd__avx2(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                     int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  av16_outer_avx2::av16_outer<false>(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
}

void av16__avx2(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  static const bool vnni = __builtin_cpu_supports("avxvnni");
  if (vnni) return av16__avxvnni(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
  av16_madd__avx2(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
}

}  // namespace intvit
