// Dispatching GELU entry point (kernels/nonlinear.h: AVX-512 unless INTVIT_ISA
// names ref or an AVX2-class backend).
#include "kernels/nonlinear.h"

namespace intvit {

void gelu(const GeluParams& p, size_t n, const void* in, void* out) {
  if (nonlinear_use_avx512()) {
    gelu__avx512(p, n, in, out);
  } else {
    gelu_ref(p, n, in, out);
  }
}

}  // namespace intvit
