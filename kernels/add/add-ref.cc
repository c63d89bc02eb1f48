// Scalar reference residual add: the executable form of QUANTIZATION.md Eq. 40.
#include <cstdint>
#include <limits>

#include "kernels/add/add.h"
#include "kernels/fixedpoint.h"

namespace intvit {

void residual_add_ref(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out) {
  for (size_t i = 0; i < n; ++i) {
    const int64_t sum = int64_t{fp::multiply_by_quantized_multiplier(a[i], p.a_multiplier, p.a_shift)} +
                        fp::multiply_by_quantized_multiplier(b[i], p.b_multiplier, p.b_shift);
    out[i] = fp::clamp_to<int32_t>(sum, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  }
}

}  // namespace intvit
