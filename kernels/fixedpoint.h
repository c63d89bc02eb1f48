// intvit's fixed-point primitives (gemmlowp semantics), the only place rounding is defined.
//
// Rounding rule, used everywhere in intvit: round half AWAY FROM ZERO (gemmlowp's
// SaturatingRoundingDoublingHighMul and RoundingDivideByPOT). Equation numbers refer to
// kernels/QUANTIZATION.md. Every function is pure integer arithmetic; SIMD kernels implement the
// same functions lane-wise and are tested bit-exact against these.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace intvit::fp {
// Internal linkage: included by files compiled with different ISA flags (see fixedpoint-avx2.h).
namespace {

// (Eq. 5) High 32 bits of 2·a·b, rounded half away from zero. Saturates only for
// a == b == INT32_MIN (the one case where 2ab does not fit), returning INT32_MAX.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  // Division truncates toward zero, so a nudge of ±2^30 gives round half away from zero.
  // (gemmlowp nudges negatives by 1 − 2^30, i.e. ties toward +inf; intvit keeps ONE rule.)
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : -(int64_t{1} << 30);
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// (Eq. 6) x / 2^exponent rounded half away from zero; exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// 64-bit variant of Eq. 6 for int64 intermediates (LayerNorm, softmax normalisation);
// exponent in [0, 62].
inline int64_t rounding_divide_by_pot64(int64_t x, int exponent) {
  if (exponent == 0) return x;
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = x & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// Left shift with saturation to int32 (used for negative `shift`, i.e. multipliers > 1).
inline int32_t saturating_left_shift(int32_t x, int exponent) {
  const int64_t wide = static_cast<int64_t>(x) * (int64_t{1} << exponent);
  if (wide > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  if (wide < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(wide);
}

// (Eq. 7) x · M0 · 2^-31 · 2^-shift: the requantization scale. M0 (`multiplier`) is Q31 in
// [2^30, 2^31) (or 0 for a zero scale); `shift` in [-31, 31] is a RIGHT shift, negative meaning
// a left shift applied before the multiply (real multipliers >= 1). Same operation order as
// TFLite's MultiplyByQuantizedMultiplier so results are reproducible by other engines.
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift < 0 ? -shift : 0;
  const int right = shift > 0 ? shift : 0;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(saturating_left_shift(x, left), multiplier), right);
}

template <typename T>
inline T clamp_to(int64_t v, int64_t lo, int64_t hi) {
  return static_cast<T>(v < lo ? lo : (v > hi ? hi : v));
}

namespace detail {
// kSqrtStart[k - 64] = ceil(sqrt(k + 1) · 2^8) for k in [64, 256): an upper bound on the square
// root of any value whose top bits (taken at an even shift) read k, at most 2^-7 above it.
constexpr std::array<uint16_t, 192> make_sqrt_start() {
  std::array<uint16_t, 192> t{};
  uint32_t r = 0;  // floor(sqrt((k + 1)·2^16)), nondecreasing in k
  for (uint32_t k = 64; k < 256; ++k) {
    const uint32_t v = (k + 1) << 16;
    while ((r + 1) * (r + 1) <= v) ++r;
    t[k - 64] = static_cast<uint16_t>(r * r == v ? r : r + 1);
  }
  return t;
}
inline constexpr std::array<uint16_t, 192> kSqrtStart = make_sqrt_start();
}  // namespace detail

// Integer square root: floor(sqrt(v)) for v >= 0, by Newton iterations on integers
// (bit-exact, no float), used by the integer LayerNorm (QUANTIZATION.md Eq. 37, once per row).
// Newton from above never goes below floor(sqrt(v)) (x + v/x >= 2·sqrt(v)); a start from an
// 8-bit table within 2^-7 of the root gets there in three steps (2^-15, 2^-31, exact or one above)
// and the last multiply-check steps down the rest, so a row pays three divisions instead of six.
inline uint64_t isqrt64(uint64_t v) {
  if (v < 2) return v;
  const int bits = 64 - __builtin_clzll(v);
  if (bits < 16) {  // small values: start at 2^ceil(bits/2) and stop when Newton stops decreasing
    uint64_t x = uint64_t{1} << ((bits + 1) / 2);
    while (true) {
      const uint64_t y = (x + v / x) >> 1;
      if (y >= x) return x;
      x = y;
    }
  }
  const int sh = (bits - 7) & ~1;  // even: v >> sh has 7 or 8 bits, in [64, 256)
  const auto k = static_cast<uint32_t>(v >> sh);
  // sqrt(v) < sqrt(k + 1)·2^(sh/2) <= kSqrtStart·2^(sh/2 - 8), rounded up: an upper bound.
  uint64_t x = ((uint64_t{detail::kSqrtStart[k - 64]} << (sh / 2)) + 255) >> 8;
  for (int i = 0; i < 3; ++i) x = (x + v / x) >> 1;
  while (static_cast<unsigned __int128>(x) * x > v) --x;
  return x;
}

}  // namespace
}  // namespace intvit::fp
