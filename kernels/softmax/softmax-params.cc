// Offline construction of SoftmaxParams (float allowed here only): QUANTIZATION.md §4.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/softmax/softmax.h"
#include "kernels/quantized_multiplier.h"

namespace intvit {

using namespace softmax_detail;

SoftmaxMode parse_softmax_mode(std::string_view name) {
  if (name == "iexp") return SoftmaxMode::kIexp;
  if (name == "shiftmax") return SoftmaxMode::kShiftmax;
  if (name == "log2") return SoftmaxMode::kLog2;
  if (name == "lut") return SoftmaxMode::kLut;
  throw Error(ErrorCode::kInvalidArgument,
              "unknown softmax mode '" + std::string(name) + "' (expected iexp, shiftmax, log2 or lut)");
}

const char* softmax_mode_name(SoftmaxMode mode) {
  switch (mode) {
    case SoftmaxMode::kIexp: return "iexp";
    case SoftmaxMode::kShiftmax: return "shiftmax";
    case SoftmaxMode::kLog2: return "log2";
    case SoftmaxMode::kLut: return "lut";
  }
  return "?";
}

SoftmaxParams make_softmax_params(SoftmaxMode mode, double input_scale, int out_bits) {
  if (!(input_scale > 0) || !std::isfinite(input_scale)) {
    throw Error(ErrorCode::kInvalidArgument, "softmax: input scale must be finite and > 0");
  }
  const bool log2 = mode == SoftmaxMode::kLog2;
  if (log2 ? (out_bits < 1 || out_bits > 8) : (out_bits != 8 && out_bits != 16)) {
    throw Error(ErrorCode::kInvalidArgument,
                "softmax: out_bits must be 8 or 16 (1..8 for log2), got " + std::to_string(out_bits));
  }
  SoftmaxParams p;
  p.mode = mode;
  p.out_bits = out_bits;
  p.max_code = log2 ? (1 << out_bits) - 1 : (out_bits == 16 ? kProb16Max : 255);
  const double ln2 = std::log(2.0);
  double internal_scale = 0;  // real value of one unit after the Eq. 14/18/20 rescale
  switch (mode) {
    case SoftmaxMode::kIexp:
    case SoftmaxMode::kLog2: {
      // I-BERT: exp(r) ≈ a·(r² + b·r + c) on r in (-ln2, 0], a = 0.35815147.
      const double a = 0.35815147, b = 0.96963238 / a, c = 1.0 / a;
      internal_scale = ln2 / (1 << kIexpFracBits);
      p.poly_b = static_cast<int32_t>(std::lround(b / internal_scale));
      p.poly_c = static_cast<int32_t>(std::lround(c / (internal_scale * internal_scale)));
      break;
    }
    case SoftmaxMode::kShiftmax:
      internal_scale = 1.0 / (1 << kShiftFracBits);
      break;
    case SoftmaxMode::kLut: {
      // 255 steps span exp down to 2^-16; coarser inputs are indexed directly (multiplier 1), so
      // the table is exact for them. The last entry is the clamp bucket (anything further): 0.
      internal_scale = std::max(input_scale, 16 * ln2 / 255);
      for (int i = 0; i < 255; ++i) {
        p.exp_table[i] = static_cast<int32_t>(std::lround(std::ldexp(std::exp(-i * internal_scale), kLutExpBits)));
      }
      p.exp_table[255] = 0;
      break;
    }
  }
  const QuantizedMultiplier m = quantize_multiplier(input_scale / internal_scale);
  p.in_multiplier = m.multiplier;
  p.in_shift = m.shift;
  return p;
}

namespace softmax_detail {

void check_softmax16_params(const SoftmaxParams& p) {
  if (p.mode != SoftmaxMode::kIexp && p.mode != SoftmaxMode::kShiftmax && p.mode != SoftmaxMode::kLut) {
    throw Error(ErrorCode::kInvalidArgument, std::string("softmax_rows16: mode ") + softmax_mode_name(p.mode) +
                                                 " has no 16-bit output (iexp, shiftmax or lut only)");
  }
}

}  // namespace softmax_detail

}  // namespace intvit
