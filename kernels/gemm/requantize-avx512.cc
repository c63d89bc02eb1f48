// AVX-512 output stage (Eq. 11) over an int32 buffer, 16 columns per zmm (primitives and their
// derivation: requant-avx512.h). Used by requantize(), the oneDNN backend and the kernels' edge tiles.
#include "kernels/gemm/requant-avx512.h"

namespace intvit::gemm {
namespace {

template <typename S>
void stage(const OutputPlan& p, size_t row0, size_t rows, size_t n_begin, size_t n_end, const int32_t* acc,
           size_t ld_acc, const int32_t* col_bias) {
  const S s(p);
  for (size_t n = n_begin; n < n_end; n += 16) {
    const size_t count = n_end - n < 16 ? n_end - n : 16;
    const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
    const avx512::ColumnConsts c = s.columns(n, mask);
    if (col_bias) {
      const __m512i bias = _mm512_maskz_loadu_epi32(mask, col_bias + n);
      for (size_t i = 0; i < rows; ++i) {
        s.store(_mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, acc + i * ld_acc + (n - n_begin)), bias), c, s.at(row0 + i, n), mask);
      }
    } else {
      for (size_t i = 0; i < rows; ++i) s.store(_mm512_maskz_loadu_epi32(mask, acc + i * ld_acc + (n - n_begin)), c, s.at(row0 + i, n), mask);
    }
  }
}

}  // namespace

void output_stage__avx512(const OutputPlan& p, size_t row0, size_t rows, size_t n_begin, size_t n_end,
                          const int32_t* acc, size_t ld_acc, const int32_t* col_bias) {
  const OutputStageFn fn = avx512::with_stage(p, []<typename S>() -> OutputStageFn { return stage<S>; });
  fn(p, row0, rows, n_begin, n_end, acc, ld_acc, col_bias);
}

}  // namespace intvit::gemm
