// Scalar reference LayerNorm: the executable form of QUANTIZATION.md §6.
#include <algorithm>
#include <cstdint>

#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {

using namespace layernorm_detail;

void layernorm_rows_ref(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                        size_t ld_out) {
  const size_t n = p.channels;
  const auto count = static_cast<int64_t>(n);
  for (size_t row = 0; row < rows; ++row) {
    auto x_of = [&](size_t c) -> int32_t {  // Eq. 33
      if (!p.uint8_input) return static_cast<const int32_t*>(in)[row * ld_in + c];
      return (static_cast<const uint8_t*>(in)[row * ld_in + c] - p.in_zero_point) * (1 << p.alpha[c]);
    };
    uint32_t max_abs = 0;  // Eq. 34
    for (size_t c = 0; c < n; ++c) {
      const int32_t x = x_of(c);
      max_abs = std::max(max_abs, x < 0 ? 0u - static_cast<uint32_t>(x) : static_cast<uint32_t>(x));
    }
    const int s = pre_shift_for(p, max_abs);
    auto xs = [&](size_t c) -> int32_t { return s >= 0 ? x_of(c) * (1 << s) : fp::rounding_divide_by_pot(x_of(c), -s); };
    int64_t sum = 0, sum_sq = 0;  // Eq. 35: |x'| <= 2^23, so Σx'² <= 2^58
    for (size_t c = 0; c < n; ++c) sum += xs(c), sum_sq += int64_t{xs(c)} * xs(c);
    const RowScale rs = row_scale(p, s, sum, sum_sq);  // Eq. 36-37
    for (size_t c = 0; c < n; ++c) {
      const int64_t centred = count * xs(c) - sum;  // Eq. 38: C·(x' - x̄), exact
      const int64_t scaled = rs.j >= 0 ? fp::rounding_divide_by_pot64(centred, rs.j) : centred * (int64_t{1} << -rs.j);
      const int64_t t = fp::rounding_divide_by_pot64(scaled * rs.recip, kTBits);
      const int64_t y = p.out_zero_point +
                        fp::rounding_divide_by_pot64(t * p.gamma_multiplier[c] + p.beta_bias[c], p.out_shift[c]);
      const int32_t q = fp::clamp_to<int32_t>(y, p.out_min, p.out_max);  // Eq. 39
      if (p.out_bits == 8) {
        static_cast<uint8_t*>(out)[row * ld_out + c] = static_cast<uint8_t>(q);
      } else {
        static_cast<int16_t*>(out)[row * ld_out + c] = static_cast<int16_t>(q);
      }
    }
  }
}

}  // namespace intvit
