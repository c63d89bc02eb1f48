// Dispatching residual add entry point: the variant nonlinear_isa() picks (kernels/nonlinear.h:
// the best the CPU has; INTVIT_ISA=ref forces the reference).
#include "kernels/nonlinear.h"

namespace intvit {

void residual_add(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: return residual_add__avx512(p, n, a, b, out);
    case NonlinearIsa::kAvx2: return residual_add__avx2(p, n, a, b, out);
    case NonlinearIsa::kRef: break;
  }
  residual_add_ref(p, n, a, b, out);
}

}  // namespace intvit
