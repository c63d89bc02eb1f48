// Dispatching LayerNorm entry point (kernels/nonlinear.h: AVX-512 unless INTVIT_ISA
// names ref or an AVX2-class backend).
#include "kernels/nonlinear.h"

namespace intvit {

void layernorm_rows(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                    size_t ld_out) {
  if (nonlinear_use_avx512()) {
    layernorm_rows__avx512(p, rows, in, ld_in, out, ld_out);
  } else {
    layernorm_rows_ref(p, rows, in, ld_in, out, ld_out);
  }
}

}  // namespace intvit
