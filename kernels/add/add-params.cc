// Offline construction of ResidualAddParams (float allowed here only): QUANTIZATION.md §7.
#include <cmath>

#include "engine/error.h"
#include "kernels/add/add.h"
#include "weights/quantized_multiplier.h"

namespace intvit {

ResidualAddParams make_residual_add_params(double a_scale, double b_scale, double out_scale) {
  if (!(a_scale > 0) || !(b_scale > 0) || !(out_scale > 0) || !std::isfinite(a_scale) ||
      !std::isfinite(b_scale) || !std::isfinite(out_scale)) {
    throw Error(ErrorCode::kInvalidArgument, "residual add: scales must be finite and > 0");
  }
  const QuantizedMultiplier ma = quantize_multiplier(a_scale / out_scale);
  const QuantizedMultiplier mb = quantize_multiplier(b_scale / out_scale);
  return {ma.multiplier, ma.shift, mb.multiplier, mb.shift};
}

}  // namespace intvit
