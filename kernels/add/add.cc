// Dispatching residual add entry point (kernels/nonlinear.h: AVX-512 unless INTVIT_ISA
// names ref or an AVX2-class backend).
#include "kernels/nonlinear.h"

namespace intvit {

void residual_add(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out) {
  if (nonlinear_use_avx512()) {
    residual_add__avx512(p, n, a, b, out);
  } else {
    residual_add_ref(p, n, a, b, out);
  }
}

}  // namespace intvit
