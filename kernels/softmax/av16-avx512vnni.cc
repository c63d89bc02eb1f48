// AVX512-VNNI attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b), bit-identical to
// av16_ref: the outer-product kernel of av16-outer-avx512.h with vpdpwssd (s16 pairs into int32;
// exact for p <= 32767, see the header). Called by av16__avx512 when the CPU has AVX512-VNNI.
#include "kernels/softmax/av16-outer-avx512.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

void av16__avx512vnni(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t,
                      size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  av16_outer::av16_outer<true>(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
}

}  // namespace intvit
