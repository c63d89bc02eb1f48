// AVX512-VNNI av16_u8 (QUANTIZATION.md Eq. 23c), bit-identical to av16_u8_ref: rows of up to 256
// probabilities by the byte split with a sparse high plane (av16-split-avx512vnni.h, Eq. 23f), longer
// rows by the pair form of av16-outer-avx512.h (vpdpwssd); Eq. 11 in the tile's epilogue either way.
#include "kernels/softmax/av16-outer-avx512.h"
#include "kernels/softmax/av16-split-avx512vnni.h"

namespace intvit {

void av16_u8__avx512vnni(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                         int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  check_av16_u8_args(m, n, k, probs, ld_p, v, ld_v, rq, out, ld_out);
  if (m == 0 || n == 0) return;
  av16_outer::with_u8_store(n, rq, out, ld_out, [&](const auto& u8_out) {
    if (k <= av16_split::kSplitMaxK) {
      av16_split::av16_u8_split(m, n, k, probs, ld_p, v, ld_v, v_zero_point, out, ld_out, u8_out);
    } else {
      av16_outer::av16_u8_outer<true>(m, n, k, probs, ld_p, v, ld_v, v_zero_point, out, ld_out, u8_out);
    }
  });
}

}  // namespace intvit
