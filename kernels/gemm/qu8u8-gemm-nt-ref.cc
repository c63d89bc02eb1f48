// Reference u8 × u8 product with two zero-points: Eq. 9 in its first, unexpanded form.
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm {

void qu8u8_gemm_nt_ref(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                       const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      // (Eq. 9) acc = Σ_k (A[m,k] − z_a)(B[n,k] − z_b); |acc| < 2^31 for K <= 33000.
      int32_t acc = 0;
      for (size_t p = 0; p < k; ++p) acc += (a[i * lda + p] - za) * (b[j * ldb + p] - zb);
      c[i * ldc + j] = acc;
    }
  }
}

}  // namespace intvit::gemm
