// Dispatching LayerNorm entry point: the variant nonlinear_isa() picks (kernels/nonlinear.h: the
// best the CPU has; INTVIT_ISA=ref forces the reference).
#include "kernels/nonlinear.h"

namespace intvit {

void layernorm_rows(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                    size_t ld_out) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: return layernorm_rows__avx512(p, rows, in, ld_in, out, ld_out);
    case NonlinearIsa::kAvx2: return layernorm_rows__avx2(p, rows, in, ld_in, out, ld_out);
    case NonlinearIsa::kRef: break;
  }
  layernorm_rows_ref(p, rows, in, ld_in, out, ld_out);
}

}  // namespace intvit
