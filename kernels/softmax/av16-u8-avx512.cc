// AVX-512 av16_u8 (QUANTIZATION.md Eq. 23c), bit-identical to av16_u8_ref: the outer-product kernel
// of av16-outer-avx512.h with vpmaddwd + vpaddd (AVX512-BW), v packed from its rows, Eq. 11 in the
// tile's epilogue. CPUs with AVX512-VNNI run the vpdpwssd build (av16-u8-avx512vnni.cc).
#include "kernels/softmax/av16-outer-avx512.h"

namespace intvit {

void av16_u8__avx512(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                     int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  av16_outer::av16_u8<false>(m, n, k, probs, ld_p, v, ld_v, v_zero_point, rq, out, ld_out);
}

}  // namespace intvit
