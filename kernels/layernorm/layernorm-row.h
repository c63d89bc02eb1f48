// Per-row scalar steps of the integer LayerNorm (QUANTIZATION.md Eq. 34, 36, 37), shared by the
// reference and the SIMD kernels so both derive the same shift and reciprocal by construction.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"

namespace intvit::layernorm_detail {
// Internal linkage: included by files compiled with different ISA flags (see fixedpoint-avx2.h).
namespace {

// Eq. 34: the pre-shift s that brings max |x| below 2^23 (capped by s_max for eps).
inline int pre_shift_for(const LayerNormParams& p, uint32_t max_abs) {
  const int bits = max_abs == 0 ? 0 : 32 - __builtin_clz(max_abs);
  return std::min(kNormBits - bits, p.max_pre_shift);
}

// Eq. 36-37 from S = Σx' and Q = Σx'²: D² = C·(C·Q - S² + C²·ε') = C³·(var + ε') in 128 bits,
// normalised by 4^j into [2^60, 2^62); R = round(2^60 / isqrt) in (2^29, 2^30].
// Eq. 36: ε' = ε/s_in²·4^s = eps_mantissa·2^(eps_exponent + 2s), rounded; saturates (offline
// checks only) where it could not fit.
inline int64_t scaled_eps(const LayerNormParams& p, int s) {
  const int e = p.eps_exponent + 2 * s;
  if (e >= 0) return e >= 32 ? INT64_MAX : int64_t{p.eps_mantissa} << e;
  return -e > 62 ? 0 : fp::rounding_divide_by_pot64(p.eps_mantissa, -e);
}

struct RowScale {
  int j;           // D ≈ isqrt·2^j
  int64_t recip;   // R
};

inline RowScale row_scale(const LayerNormParams& p, int s, int64_t sum, int64_t sum_sq) {
  using u128 = unsigned __int128;
  const auto count = static_cast<int64_t>(p.channels);
  const int64_t eps = scaled_eps(p, s);  // C·ε' <= 2^60 by the choice of s_max
  const u128 w = u128(count) * u128(sum_sq) - u128(static_cast<__int128>(sum) * sum);  // C²·var < 2^70
  const u128 d2 = std::max<u128>(u128(count) * (w + u128(count) * u128(count) * u128(eps)), 1);  // < 2^85
  const auto hi = static_cast<uint64_t>(d2 >> 64), lo = static_cast<uint64_t>(d2);
  const int b = hi ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll(lo);
  const int j = (b - 61) >> 1;  // floor: D² / 4^j has 61 or 62 bits
  const uint64_t root = fp::isqrt64(static_cast<uint64_t>(j >= 0 ? d2 >> (2 * j) : d2 << (-2 * j)));
  return {j, static_cast<int64_t>(((uint64_t{1} << 60) + root / 2) / root)};
}

// Channel c's constants of the §6.5 output stage (QUANTIZATION.md Eq. 38-39), shared by the SIMD
// builds: g, the rounding-and-zero-point offset k, the threshold Θ and the shift h. A padding lane
// (c >= channels) gets g = k = h = 0 and Θ = INT64_MIN, so it computes 0 and is never stored.
struct ChannelConsts {
  int64_t g = 0, k = 0, theta = INT64_MIN, h = 0;
};
inline ChannelConsts channel_consts(const LayerNormParams& p, size_t c) {
  ChannelConsts cc;
  if (c >= p.channels) return cc;
  cc.h = p.out_shift[c];
  cc.g = p.gamma_multiplier[c];
  const int64_t zero = int64_t{p.out_zero_point} * (int64_t{1} << cc.h);
  cc.k = p.beta_bias[c] + zero + (cc.h > 0 ? int64_t{1} << (cc.h - 1) : 0);
  if (cc.h > 0) cc.theta = (int64_t{1} << (cc.h - 1)) + zero;
  return cc;
}

}  // namespace
}  // namespace intvit::layernorm_detail
