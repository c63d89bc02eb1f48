// fp32-gemm-kernels.h on AVX2 + FMA: 6 rows × half a panel (16 columns) per step, 12 ymm chains.
#include <immintrin.h>

#include "models/fp32-gemm-kernels.h"

namespace intvit {
namespace {

constexpr size_t kHalf = kFp32Panel / 2;

// Rows [0, kRows) of A times columns [0, 16) of a panel (row stride kFp32Panel) into C; only the
// first `cols` columns are stored.
template <int kRows>
void rows_times_half_panel(size_t k, const float* a, size_t lda, const float* panel, float* c, size_t ldc,
                           size_t cols) {
  __m256 lo[kRows], hi[kRows];
  for (int r = 0; r < kRows; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m256 b_lo = _mm256_load_ps(panel + p * kFp32Panel), b_hi = _mm256_load_ps(panel + p * kFp32Panel + 8);
    for (int r = 0; r < kRows; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + static_cast<size_t>(r) * lda + p);
      lo[r] = _mm256_fmadd_ps(av, b_lo, lo[r]);
      hi[r] = _mm256_fmadd_ps(av, b_hi, hi[r]);
    }
  }
  if (cols == kHalf) {
    for (int r = 0; r < kRows; ++r) {
      _mm256_storeu_ps(c + static_cast<size_t>(r) * ldc, lo[r]);
      _mm256_storeu_ps(c + static_cast<size_t>(r) * ldc + 8, hi[r]);
    }
    return;
  }
  alignas(32) float row[kHalf];
  for (int r = 0; r < kRows; ++r) {
    _mm256_store_ps(row, lo[r]);
    _mm256_store_ps(row + 8, hi[r]);
    for (size_t j = 0; j < cols; ++j) c[static_cast<size_t>(r) * ldc + j] = row[j];
  }
}

using RowsFn = void (*)(size_t, const float*, size_t, const float*, float*, size_t, size_t);
constexpr int kMaxRows = 6;
constexpr RowsFn kRowsFns[kMaxRows + 1] = {nullptr,
                                           rows_times_half_panel<1>,
                                           rows_times_half_panel<2>,
                                           rows_times_half_panel<3>,
                                           rows_times_half_panel<4>,
                                           rows_times_half_panel<5>,
                                           rows_times_half_panel<6>};

}  // namespace

void fp32_gemm__avx2(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels, float* c,
                     size_t ldc) {
  for (size_t j0 = 0; j0 < n; j0 += kHalf) {
    const size_t cols = n - j0 < kHalf ? n - j0 : kHalf;
    const float* half = b_panels + (j0 / kFp32Panel) * k * kFp32Panel + j0 % kFp32Panel;
    for (size_t i0 = 0; i0 < m; i0 += kMaxRows) {
      const size_t rows = m - i0 < kMaxRows ? m - i0 : kMaxRows;
      kRowsFns[rows](k, a + i0 * lda, lda, half, c + i0 * ldc + j0, ldc, cols);
    }
  }
}

}  // namespace intvit
