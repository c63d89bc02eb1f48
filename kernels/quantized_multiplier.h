// Offline (float allowed): turn a real rescale factor into the Q31 multiplier + shift of
// kernels/QUANTIZATION.md Eq. 7. Never called on the inference path.
#pragma once

#include <cstdint>

namespace intvit {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31 in [2^30, 2^31), or 0 when real == 0
  int32_t shift = 0;       // right shift in [-31, 31]; negative = left shift
};

// real must be finite and >= 0. Values too small to represent (< 2^-62) become {0, 0};
// values >= 2^31 throw intvit::Error.
QuantizedMultiplier quantize_multiplier(double real);

// The real value a QuantizedMultiplier stands for (for tests and reports).
double dequantize_multiplier(QuantizedMultiplier q);

}  // namespace intvit
