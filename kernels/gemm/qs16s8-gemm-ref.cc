// Reference s16 × s8 linear layer: Eq. 10 (symmetric 16-bit activations, int32 modulo 2^32).
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm {

void qs16s8_gemm_ref(const PackedWeights& w, size_t m, const void* a_ptr, size_t lda, const OutputPlan& out,
                     size_t n_begin, size_t n_end) {
  const int16_t* a = static_cast<const int16_t*>(a_ptr);
  const PackedLayout& l = w.layout();
  for (size_t i = 0; i < m; ++i) {
    for (size_t n = n_begin; n < n_end; ++n) {
      // (Eq. 10) acc = Σ_k A[m,k]·W[n,k] + bias[n], wrapping: the same bits in any summation order.
      uint32_t acc = static_cast<uint32_t>(l.bias[n]);
      for (size_t k = 0; k < w.k(); ++k) {
        acc += static_cast<uint32_t>(a[i * lda + k] * l.plain[n * w.k() + k]);
      }
      store_value_ref(out, i, n, static_cast<int32_t>(acc));
    }
  }
}

}  // namespace intvit::gemm
