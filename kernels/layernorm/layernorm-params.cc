// Offline construction of LayerNormParams (float allowed here only): QUANTIZATION.md §6.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {

using namespace layernorm_detail;

namespace {

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::kInvalidArgument, "layernorm: " + what); }

}  // namespace

LayerNormParams make_layernorm_params(const float* gamma, const float* beta, size_t channels, double eps,
                                      double in_scale, const uint8_t* alpha, int32_t in_zero_point,
                                      double out_scale, int32_t out_zero_point, int out_bits) {
  if (channels < 1 || channels > static_cast<size_t>(kMaxChannels)) invalid("channels must be in [1, 4096]");
  if (!(in_scale > 0) || !(out_scale > 0) || !std::isfinite(in_scale) || !std::isfinite(out_scale)) {
    invalid("scales must be finite and > 0");
  }
  if (!(eps >= 0) || !std::isfinite(eps)) invalid("eps must be finite and >= 0");
  if (out_bits != 8 && out_bits != 16) invalid("out_bits must be 8 or 16");
  LayerNormParams p;
  p.channels = channels;
  p.uint8_input = alpha != nullptr;
  if (p.uint8_input) {
    if (in_zero_point < 0 || in_zero_point > 255) invalid("uint8 input zero-point outside [0, 255]");
    p.alpha.assign(alpha, alpha + channels);
    for (uint8_t a : p.alpha) {
      if (a > 3) invalid("PTF factor alpha must be in {0..3}, got " + std::to_string(a));
    }
  } else if (in_zero_point != 0) {
    invalid("the int32 residual input is symmetric (zero-point 0)");
  }
  p.in_zero_point = in_zero_point;
  p.out_bits = out_bits;
  p.out_min = out_bits == 8 ? 0 : -32768;
  p.out_max = out_bits == 8 ? 255 : 32767;
  if ((out_bits == 8 && (out_zero_point < 0 || out_zero_point > 255)) || (out_bits == 16 && out_zero_point != 0)) {
    invalid("output zero-point " + std::to_string(out_zero_point) + " invalid for " + std::to_string(out_bits) + " bits");
  }
  p.out_zero_point = out_zero_point;

  // Eq. 36: ε in integer units² as mantissa·2^exponent, mantissa in [2^30, 2^31).
  const double eps_units = eps / (in_scale * in_scale);
  if (!std::isfinite(eps_units)) invalid("eps / in_scale^2 overflows");
  if (eps_units > 0) {
    int e = 0;
    const double f = std::frexp(eps_units, &e);
    int64_t m = std::llround(std::ldexp(f, 31));
    if (m == (int64_t{1} << 31)) m >>= 1, ++e;
    p.eps_mantissa = static_cast<int32_t>(m);
    p.eps_exponent = e - 31;
  }
  // Eq. 34: the largest pre-shift (<= 22) with C·ε' <= 2^60, so V' stays below 2^61.
  p.max_pre_shift = kNormBits - 1;
  while (p.max_pre_shift > -31 &&
         (scaled_eps(p, p.max_pre_shift) > (int64_t{1} << 60) / static_cast<int64_t>(channels))) {
    --p.max_pre_shift;
  }
  if (scaled_eps(p, p.max_pre_shift) > (int64_t{1} << 60) / static_cast<int64_t>(channels)) {
    invalid("eps / in_scale^2 too large");
  }

  // Eq. 39: y = (t·G_c + H_c)·2^-h_c with G_c·2^-h_c = γ_c·√C/s_out·2^-30 and H_c = β_c/s_out·2^h_c.
  p.gamma_multiplier.resize(channels);
  p.out_shift.resize(channels);
  p.beta_bias.resize(channels);
  const double root_c = std::sqrt(static_cast<double>(channels));
  for (size_t c = 0; c < channels; ++c) {
    const double g = static_cast<double>(gamma[c]) * root_c / out_scale;  // output steps per unit of t
    const double b = static_cast<double>(beta[c]) / out_scale;
    if (!std::isfinite(g) || !std::isfinite(b)) invalid("non-finite gamma/beta at channel " + std::to_string(c));
    int h = kMaxOutShift;
    if (g != 0) {
      int e = 0;
      std::frexp(g, &e);            // |g| in [2^(e-1), 2^e): |G| = |g|·2^(h-30) < 2^31 needs h <= 61 - e
      h = std::min(h, 61 - e);
      if (std::llround(std::ldexp(std::fabs(g), h - kTBits)) >= (int64_t{1} << 31)) --h;  // rounding up
    }
    if (h < 0) invalid("gamma/out_scale too large at channel " + std::to_string(c));
    p.gamma_multiplier[c] = static_cast<int32_t>(std::llround(std::ldexp(g, h - kTBits)));
    p.out_shift[c] = static_cast<uint8_t>(h);
    // |t·G| < 2^61; clamping H to ±2^62 keeps the sum in int64 and only touches channels whose
    // output is on a rail anyway (QUANTIZATION.md §6).
    const double bias = std::ldexp(b, h);
    const double limit = std::ldexp(1.0, 62);
    p.beta_bias[c] = bias >= limit ? (int64_t{1} << 62) : (bias <= -limit ? -(int64_t{1} << 62) : std::llround(bias));
  }
  return p;
}

}  // namespace intvit
