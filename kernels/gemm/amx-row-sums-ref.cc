// row_sums_u8_ref (amx-row-sums.h): one plain loop per row (the compiler vectorizes it).
#include "kernels/gemm/amx-row-sums.h"

namespace intvit::gemm::amx {

void row_sums_u8_ref(const uint8_t* a, size_t lda, size_t rows, size_t k, uint32_t* sums) {
  for (size_t i = 0; i < rows; ++i) {
    uint32_t sum = 0;
    for (size_t q = 0; q < k; ++q) sum += a[i * lda + q];
    sums[i] = sum;
  }
}

}  // namespace intvit::gemm::amx
