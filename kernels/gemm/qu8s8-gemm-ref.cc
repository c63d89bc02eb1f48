// Reference u8 × s8 linear layer: Eq. 8 in its first, unexpanded form (the oracle and fallback).
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm {

void qu8s8_gemm_ref(const PackedWeights& w, size_t m, const void* a_ptr, size_t lda, const OutputPlan& out,
                    size_t n_begin, size_t n_end) {
  const uint8_t* a = static_cast<const uint8_t*>(a_ptr);
  const PackedLayout& l = w.layout();
  const int32_t za = l.a_zero_point;
  for (size_t i = 0; i < m; ++i) {
    for (size_t n = n_begin; n < n_end; ++n) {
      // (Eq. 8) acc = Σ_k (A[m,k] − z_a)·W[n,k] + bias[n], int32 modulo 2^32 (exact for K <= 66000).
      uint32_t acc = static_cast<uint32_t>(l.bias[n]);
      for (size_t k = 0; k < w.k(); ++k) {
        acc += static_cast<uint32_t>((a[i * lda + k] - za) * l.plain[n * w.k() + k]);
      }
      store_value_ref(out, i, n, static_cast<int32_t>(acc));
    }
  }
}

}  // namespace intvit::gemm
