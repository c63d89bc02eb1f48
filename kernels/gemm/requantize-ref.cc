// Reference output stage: Eq. 11 written out, one value at a time (the oracle for the SIMD ones).
#include <algorithm>
#include <limits>

#include "kernels/fixedpoint.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm {

// (Eq. 11) q = clamp(z_out + MBQM(acc, M0[n], shift[n]), q_min, q_max); MBQM is Eq. 7.
int32_t requantize_value_ref(const OutputPlan& out, size_t n, int32_t acc) {
  const size_t c = out.per_channel ? n : 0;
  const int64_t scaled = fp::multiply_by_quantized_multiplier(acc, out.multiplier[c], out.shift[c]);
  return fp::clamp_to<int32_t>(int64_t{out.zero_point} + scaled, out.qmin, out.qmax);
}

void store_value_ref(const OutputPlan& out, size_t row, size_t n, int32_t acc) {
  const int32_t value = out.raw ? acc : requantize_value_ref(out, n, acc);
  const size_t at = row * out.ld + n;
  switch (out.type) {
    case GemmOut::kU8:  // (Eq. 11c) the code through the byte table, if any; value is in [0, 255]
      static_cast<uint8_t*>(out.data)[at] = out.table ? out.table[value] : static_cast<uint8_t>(value);
      break;
    case GemmOut::kS16: static_cast<int16_t*>(out.data)[at] = static_cast<int16_t>(value); break;
    case GemmOut::kS32: {
      int32_t* p = static_cast<int32_t*>(out.data) + at;
      *p = out.accumulate ? fp::clamp_to<int32_t>(int64_t{*p} + value, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max())
                          : value;
      break;
    }
  }
}

void output_stage_ref(const OutputPlan& out, size_t row0, size_t rows, size_t n_begin, size_t n_end,
                      const int32_t* acc, size_t ld_acc, const int32_t* col_bias) {
  for (size_t i = 0; i < rows; ++i) {
    for (size_t n = n_begin; n < n_end; ++n) {
      const uint32_t bias = col_bias ? static_cast<uint32_t>(col_bias[n]) : 0u;  // modulo 2^32
      store_value_ref(out, row0 + i, n, static_cast<int32_t>(static_cast<uint32_t>(acc[i * ld_acc + (n - n_begin)]) + bias));
    }
  }
}

void apply_byte_table_ref(const OutputPlan& out, size_t rows, size_t n_begin, size_t n_end) {
  for (size_t i = 0; i < rows; ++i) {
    uint8_t* row = static_cast<uint8_t*>(out.data) + i * out.ld;
    for (size_t n = n_begin; n < n_end; ++n) row[n] = out.table[row[n]];
  }
}

}  // namespace intvit::gemm
