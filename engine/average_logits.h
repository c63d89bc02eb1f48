// The integer DeiT-distilled logits (kernels/QUANTIZATION.md Eq. 41): the class head and the
// distillation head both write int32 logits at the one logit scale s_L (each head's own Q31
// multipliers fold s_in·s_w[n]/s_L, Eq. 7), so their mean is
//   y[n] = RDP(a[n] + b[n], 1)   (int64 sum, round half away from zero, Eq. 6),
// which always fits int32. Integer only; runs on the executor's 1-row tail.
#pragma once

#include <cstddef>
#include <cstdint>

namespace intvit {

void average_logits(const int32_t* a, const int32_t* b, size_t n, int32_t* out);

}  // namespace intvit
