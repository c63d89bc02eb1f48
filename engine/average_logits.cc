#include "engine/average_logits.h"

#include "kernels/fixedpoint.h"

namespace intvit {

void average_logits(const int32_t* a, const int32_t* b, size_t n, int32_t* out) {
  for (size_t i = 0; i < n; ++i) {
    // |a + b| <= 2^32, so the halved sum is in [-2^31, 2^31 - 1]: no clamp needed.
    out[i] = static_cast<int32_t>(fp::rounding_divide_by_pot64(int64_t{a[i]} + b[i], 1));  // Eq. 41
  }
}

}  // namespace intvit
