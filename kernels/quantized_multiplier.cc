#include "kernels/quantized_multiplier.h"

#include <cmath>
#include <string>

#include "kernels/error.h"

namespace intvit {

QuantizedMultiplier quantize_multiplier(double real) {
  if (!std::isfinite(real) || real < 0) {
    throw Error(ErrorCode::kInvalidArgument, "quantize_multiplier: scale must be finite and >= 0, got " +
                                                 std::to_string(real));
  }
  if (real == 0) return {};
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);  // real = mantissa * 2^exponent, mantissa in [0.5, 1)
  int64_t q = std::llround(mantissa * static_cast<double>(int64_t{1} << 31));
  if (q == (int64_t{1} << 31)) {  // mantissa rounded up to 1.0
    q /= 2;
    ++exponent;
  }
  int shift = -exponent;  // x * q * 2^-31 * 2^-shift == x * real
  if (shift > 31) {
    // Fold the excess right shift into the multiplier (loses low bits, keeps the contract).
    const int excess = shift - 31;
    if (excess > 31) return {};
    q >>= excess;
    shift = 31;
    if (q == 0) return {};
  }
  if (shift < -31) {
    throw Error(ErrorCode::kInvalidArgument, "quantize_multiplier: scale too large: " + std::to_string(real));
  }
  return {static_cast<int32_t>(q), shift};
}

double dequantize_multiplier(QuantizedMultiplier q) {
  return std::ldexp(static_cast<double>(q.multiplier), -31 - q.shift);
}

}  // namespace intvit
