// split_planes_ref (amx-split-planes.h): one plain loop (the compiler vectorizes it).
#include "kernels/gemm/amx-split-planes.h"

namespace intvit::gemm::amx {

uint32_t split_planes_ref(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t u = static_cast<uint16_t>(x[i]);
    hi[i] = static_cast<uint8_t>(u >> 8);
    lo[i] = static_cast<uint8_t>(u);
    sum += u;
  }
  return sum;
}

void split_planes_rows_ref(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi, uint8_t* lo, size_t ld_plane,
                           uint32_t* sums) {
  for (size_t r = 0; r < rows; ++r) sums[r] = split_planes_ref(x + r * ldx, n, hi + r * ld_plane, lo + r * ld_plane);
}

}  // namespace intvit::gemm::amx
