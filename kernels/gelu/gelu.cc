// Dispatching GELU entry point: the variant nonlinear_isa() picks (kernels/nonlinear.h: the best
// the CPU has; INTVIT_ISA=ref forces the reference).
#include "kernels/nonlinear.h"

namespace intvit {

void gelu(const GeluParams& p, size_t n, const void* in, void* out) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: {
      static const bool vbmi = __builtin_cpu_supports("avx512vbmi");
      return vbmi ? gelu__avx512vbmi(p, n, in, out) : gelu__avx512(p, n, in, out);
    }
    case NonlinearIsa::kAvx2: return gelu__avx2(p, n, in, out);
    case NonlinearIsa::kRef: break;
  }
  gelu_ref(p, n, in, out);
}

}  // namespace intvit
