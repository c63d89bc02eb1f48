// Scalar reference GELU: the executable form of QUANTIZATION.md §5.
#include <cstdint>
#include <cstdlib>

#include "kernels/error.h"
#include "kernels/fixedpoint.h"
#include "kernels/gelu/gelu.h"

namespace intvit {
namespace {

using namespace gelu_detail;

int32_t gelu_code(const GeluParams& p, int32_t q) {
  if (p.mode == GeluMode::kLut) return p.table[p.bits == 8 ? q : q + 32768];
  const int32_t x = q - p.in_zero_point;                                                   // Eq. 24
  const int32_t v = fp::multiply_by_quantized_multiplier(x, p.pre_multiplier, p.pre_shift);
  int32_t product = 0;
  if (p.mode == GeluMode::kIgelu) {
    const int32_t w = fp::clamp_to<int32_t>(v, -p.erf_clip, p.erf_clip);                  // Eq. 25
    const int32_t a = std::abs(w) - p.erf_clip;
    const int32_t erf = (w > 0 ? 1 : (w < 0 ? -1 : 0)) * ((1 << kErfBits) - a * a);        // Eq. 26
    product = x * ((1 << kErfNarrow) + fp::rounding_divide_by_pot(erf, kErfBits - kErfNarrow));  // Eq. 27
  } else {
    const int32_t w = fp::clamp_to<int32_t>(v, -(1 << 19), 1 << 19);                       // Eq. 29
    const int32_t u = -std::abs(w);
    const int32_t t = u + (u >> 1) - (u >> 4);
    const int32_t k = (-t) >> kShiftBits, r = t + (k << kShiftBits);
    const int32_t e = ((r >> 1) + (1 << kShiftBits)) >> k;                                   // Eq. 30
    const int32_t sigmoid_neg = (e << kSigmoidBits) / ((1 << kShiftBits) + e);              // Eq. 31
    product = x * (w > 0 ? (1 << kSigmoidBits) - sigmoid_neg : sigmoid_neg);
  }
  const int64_t y = int64_t{p.out_zero_point} +
                    fp::multiply_by_quantized_multiplier(product, p.out_multiplier, p.out_shift);  // Eq. 28/32
  return fp::clamp_to<int32_t>(y, p.out_min, p.out_max);
}

}  // namespace

void gelu_ref(const GeluParams& p, size_t n, const void* in, void* out) {
  if (p.bits == 8) {
    const auto* x = static_cast<const uint8_t*>(in);
    auto* y = static_cast<uint8_t*>(out);
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(gelu_code(p, x[i]));
  } else {
    const auto* x = static_cast<const int16_t*>(in);
    auto* y = static_cast<int16_t*>(out);
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<int16_t>(gelu_code(p, x[i]));
  }
}

void gelu_byte_table(const GeluParams& p, uint8_t* table) {
  if (p.bits != 8) throw Error(ErrorCode::kInvalidArgument, "gelu_byte_table: only 8-bit GELU is a byte table");
  uint8_t codes[256];
  for (int q = 0; q < 256; ++q) codes[q] = static_cast<uint8_t>(q);
  gelu_ref(p, 256, codes, table);
}

}  // namespace intvit
