// The specification of fp32-gemm-kernels.h: one FMA chain per output, in k order.
#include <cmath>

#include "models/fp32-gemm-kernels.h"

namespace intvit {

void fp32_gemm_ref(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels, float* c,
                   size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const float* b = b_panels + (j / kFp32Panel) * k * kFp32Panel + j % kFp32Panel;
      float acc = 0.0f;
      for (size_t p = 0; p < k; ++p) acc = std::fma(a[i * lda + p], b[p * kFp32Panel], acc);
      c[i * ldc + j] = acc;
    }
  }
}

}  // namespace intvit
