// Offline construction of GeluParams (float allowed here only): QUANTIZATION.md §5.
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/gelu/gelu.h"
#include "kernels/quantized_multiplier.h"

namespace intvit {

using namespace gelu_detail;

GeluMode parse_gelu_mode(std::string_view name) {
  if (name == "igelu") return GeluMode::kIgelu;
  if (name == "shiftgelu") return GeluMode::kShiftgelu;
  if (name == "lut") return GeluMode::kLut;
  throw Error(ErrorCode::kInvalidArgument,
              "unknown GELU mode '" + std::string(name) + "' (expected igelu, shiftgelu or lut)");
}

const char* gelu_mode_name(GeluMode mode) {
  switch (mode) {
    case GeluMode::kIgelu: return "igelu";
    case GeluMode::kShiftgelu: return "shiftgelu";
    case GeluMode::kLut: return "lut";
  }
  return "?";
}

GeluParams make_gelu_params(GeluMode mode, double in_scale, int32_t in_zero_point, double out_scale,
                            int32_t out_zero_point, int bits) {
  if (bits != 8 && bits != 16) {
    throw Error(ErrorCode::kInvalidArgument, "gelu: bits must be 8 or 16, got " + std::to_string(bits));
  }
  if (!(in_scale > 0) || !(out_scale > 0) || !std::isfinite(in_scale) || !std::isfinite(out_scale)) {
    throw Error(ErrorCode::kInvalidArgument, "gelu: scales must be finite and > 0");
  }
  GeluParams p;
  p.mode = mode;
  p.bits = bits;
  p.out_min = bits == 8 ? 0 : -32768;
  p.out_max = bits == 8 ? 255 : 32767;
  for (int32_t zp : {in_zero_point, out_zero_point}) {
    if (zp < p.out_min || zp > p.out_max) {
      throw Error(ErrorCode::kInvalidArgument, "gelu: zero-point " + std::to_string(zp) + " outside the " +
                                                   std::to_string(bits) + "-bit range");
    }
  }
  p.in_zero_point = in_zero_point;
  p.out_zero_point = out_zero_point;
  double out_real = 0;  // real value of one unit of the Eq. 28/32 product, before / s_out
  switch (mode) {
    case GeluMode::kIgelu: {
      // I-BERT i-erf: erf(y) ≈ sign(y)·[a·(min(|y|, -b) + b)² + 1], a = -0.2888, b = -1.769, on
      // y = x/√2. s_e makes |a|·s_e² = 2^-28 so the polynomial lands in Q28 (Eq. 26).
      const double s_e = 1.0 / std::sqrt(0.2888 * std::ldexp(1.0, kErfBits));
      const QuantizedMultiplier pre = quantize_multiplier(in_scale / (std::sqrt(2.0) * s_e));
      p.pre_multiplier = pre.multiplier;
      p.pre_shift = pre.shift;
      p.erf_clip = static_cast<int32_t>(std::lround(1.769 / s_e));
      out_real = in_scale * std::ldexp(1.0, -(kErfNarrow + 1));  // x·(1 + erf)/2, (1 + erf) in Q14
      break;
    }
    case GeluMode::kShiftgelu: {
      // I-ViT ShiftGELU: GELU(x) ≈ x·σ(1.702·x); the argument in Q15 (Eq. 29).
      const QuantizedMultiplier pre = quantize_multiplier(1.702 * in_scale * std::ldexp(1.0, kShiftBits));
      p.pre_multiplier = pre.multiplier;
      p.pre_shift = pre.shift;
      out_real = in_scale * std::ldexp(1.0, -kSigmoidBits);
      break;
    }
    case GeluMode::kLut: {
      const int32_t lo = bits == 8 ? 0 : -32768, count = bits == 8 ? 256 : 65536;
      p.table.assign(static_cast<size_t>(count) + (bits == 8 ? 0 : 1), 0);
      for (int32_t i = 0; i < count; ++i) {
        const double x = in_scale * (lo + i - in_zero_point);
        const double y = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        const double code = std::round(y / out_scale) + out_zero_point;  // round half away, as Eq. 6
        p.table[static_cast<size_t>(i)] =
            static_cast<int16_t>(std::fmin(std::fmax(code, p.out_min), p.out_max));
      }
      return p;
    }
  }
  const QuantizedMultiplier post = quantize_multiplier(out_real / out_scale);
  p.out_multiplier = post.multiplier;
  p.out_shift = post.shift;
  return p;
}

}  // namespace intvit
