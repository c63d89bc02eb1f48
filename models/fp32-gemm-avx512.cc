// fp32-gemm-kernels.h on AVX-512F: 8 rows × one 32-column panel per step, 16 zmm chains.
#include <immintrin.h>

#include "models/fp32-gemm-kernels.h"

namespace intvit {
namespace {

// Rows [0, kRows) of A times one panel into C; `mask_lo`/`mask_hi` keep the panel's columns < n.
template <int kRows>
void rows_times_panel(size_t k, const float* a, size_t lda, const float* panel, float* c, size_t ldc,
                      __mmask16 mask_lo, __mmask16 mask_hi) {
  __m512 lo[kRows], hi[kRows];
  for (int r = 0; r < kRows; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m512 b_lo = _mm512_load_ps(panel + p * kFp32Panel), b_hi = _mm512_load_ps(panel + p * kFp32Panel + 16);
    for (int r = 0; r < kRows; ++r) {
      const __m512 av = _mm512_set1_ps(a[static_cast<size_t>(r) * lda + p]);
      lo[r] = _mm512_fmadd_ps(av, b_lo, lo[r]);
      hi[r] = _mm512_fmadd_ps(av, b_hi, hi[r]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    _mm512_mask_storeu_ps(c + static_cast<size_t>(r) * ldc, mask_lo, lo[r]);
    _mm512_mask_storeu_ps(c + static_cast<size_t>(r) * ldc + 16, mask_hi, hi[r]);
  }
}

using RowsFn = void (*)(size_t, const float*, size_t, const float*, float*, size_t, __mmask16, __mmask16);
constexpr int kMaxRows = 8;
constexpr RowsFn kRowsFns[kMaxRows + 1] = {nullptr,
                                           rows_times_panel<1>,
                                           rows_times_panel<2>,
                                           rows_times_panel<3>,
                                           rows_times_panel<4>,
                                           rows_times_panel<5>,
                                           rows_times_panel<6>,
                                           rows_times_panel<7>,
                                           rows_times_panel<8>};

__mmask16 first_lanes(size_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

}  // namespace

void fp32_gemm__avx512(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels, float* c,
                       size_t ldc) {
  for (size_t j0 = 0; j0 < n; j0 += kFp32Panel) {
    const size_t cols = n - j0 < kFp32Panel ? n - j0 : kFp32Panel;
    const __mmask16 mask_lo = first_lanes(cols), mask_hi = first_lanes(cols > 16 ? cols - 16 : 0);
    const float* panel = b_panels + (j0 / kFp32Panel) * k * kFp32Panel;
    for (size_t i0 = 0; i0 < m; i0 += kMaxRows) {
      const size_t rows = m - i0 < kMaxRows ? m - i0 : kMaxRows;
      kRowsFns[rows](k, a + i0 * lda, lda, panel, c + i0 * ldc + j0, ldc, mask_lo, mask_hi);
    }
  }
}

}  // namespace intvit
