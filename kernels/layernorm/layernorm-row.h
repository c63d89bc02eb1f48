// Per-row scalar steps of the integer LayerNorm (QUANTIZATION.md Eq. 34, 36, 37), shared by the
// reference and the SIMD kernels so both derive the same shift and reciprocal by construction.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"

namespace intvit::layernorm_detail {
// Internal linkage: included by files compiled with different ISA flags (see fixedpoint-avx2.h).
namespace {

// Eq. 34: the pre-shift s that brings max |x| below 2^23 (capped by s_max for eps), from
// bitlen(max |x|) or from max |x|.
inline int pre_shift_for_bits(const LayerNormParams& p, int bits) { return std::min(kNormBits - bits, p.max_pre_shift); }
inline int pre_shift_for(const LayerNormParams& p, uint32_t max_abs) {
  return pre_shift_for_bits(p, max_abs == 0 ? 0 : 32 - __builtin_clz(max_abs));
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

// ---- Eq. 37 without a division (QUANTIZATION.md §6.6): r = floor(sqrt(N)) and R = round(2^60 / r)
// for N in [2^60, 2^62), from y ~ 1/sqrt(N/2^62) in Q61: a 9-bit table, two multiply-only Newton
// steps (error < 2^-34, always from below), then one exact correction of r and of R.
namespace detail {
// kRsqrtStart[i - 128] = round(2^15 / sqrt((i + 1/2) / 512)) = round(sqrt(2^40 / (2i + 1))), i in [128, 512).
constexpr uint64_t isqrt_const(uint64_t v) {  // floor(sqrt(v)) by bisection (compile time only)
  uint64_t lo = 0, hi = uint64_t{1} << 32;
  while (hi - lo > 1) {
    const uint64_t mid = (lo + hi) / 2;
    (mid * mid <= v ? lo : hi) = mid;
  }
  return lo;
}
constexpr std::array<uint16_t, 384> make_rsqrt_start() {
  std::array<uint16_t, 384> t{};
  for (uint64_t i = 128; i < 512; ++i) {
    const uint64_t v4 = (uint64_t{1} << 42) / (2 * i + 1);  // 4·2^40/(2i+1): rounding sqrt(v) = floor(sqrt(4v)+1)/2
    t[i - 128] = static_cast<uint16_t>((isqrt_const(v4) + 1) / 2);
  }
  return t;
}
inline constexpr std::array<uint16_t, 384> kRsqrtStart = make_rsqrt_start();
}  // namespace detail

// floor(sqrt(N)) and round(2^60 / floor(sqrt(N))) for N in [2^60, 2^62) (Eq. 37; proof in §6.6).
struct RootRecip {
  uint64_t root, recip;
};
// (a·b) >> k for k in [1, 63] where the result fits 64 bits: one 64×64-bit multiply and a shrd.
inline uint64_t mul_shift(uint64_t a, uint64_t b, int k) {
  // The 128-bit shift compiles to one shrd for a constant k (the OR of two 64-bit shifts did not).
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> k);
}

inline RootRecip root_and_recip(uint64_t n) {
  // y = Y / 2^61 ~ 1/sqrt(v), v = N / 2^62 in [1/4, 1): y in (1, 2].
  uint64_t y = uint64_t{detail::kRsqrtStart[(n >> 53) - 128]} << 46;
  for (int i = 0; i < 2; ++i) {  // y <- y·(3 - v·y²)/2
    const uint64_t y2 = mul_shift(y, y, 61);    // Q61 of y² (< 2^63)
    const uint64_t vy2 = mul_shift(n, y2, 62);  // Q61 of v·y² (~1)
    y = mul_shift(y, (uint64_t{3} << 61) - vy2, 62);
  }
  // sqrt(N) = N·y/2^31 from below within 0.11: rounded, it is r or r + 1.
  uint64_t r = (mul_shift(n, y, 60) + (uint64_t{1} << 31)) >> 32;  // (N·y + 2^91) >> 92; N·y >> 60 < 2^63
  r -= r * r > n;
  // 2^60/sqrt(N) = 2^29·y: q = floor(2^29·y) is R, R - 1 or R - 2 (the remainder decides).
  const uint64_t num = (uint64_t{1} << 60) + r / 2;
  uint64_t q = y >> 32;
  const auto rem = static_cast<int64_t>(num - q * r);
  const auto rr = static_cast<int64_t>(r);
  q += (rem >= rr) + (rem >= 2 * rr);
  return {r, q};
}
inline int64_t recip_of_root(uint64_t n) { return static_cast<int64_t>(root_and_recip(n).recip); }

struct RowScale {
  int j;           // D ≈ isqrt·2^j
  int64_t recip;   // R
};

// Eq. 36-37 up to the root: j and the normalised D², N = D²/4^j in [2^60, 2^62) (the AVX-512
// kernel takes Eq. 37 of N for 8 rows at once: layernorm-scale-avx512.h).
struct ScaleInput {
  int j;
  uint64_t n;
};
inline ScaleInput row_scale_input(const LayerNormParams& p, int s, int64_t sum, int64_t sum_sq) {
  using u128 = unsigned __int128;
  const uint64_t count = p.channels;
  const auto eps = static_cast<uint64_t>(scaled_eps(p, s));  // C·ε' <= 2^60 by the choice of s_max
  const u128 w = u128(count) * static_cast<uint64_t>(sum_sq) - static_cast<u128>(static_cast<__int128>(sum) * sum);  // C²·var < 2^70
  const u128 v = w + u128(count * count) * eps;  // C²·(var + ε') <= 2^70 + 2^72
  const auto v_hi = static_cast<uint64_t>(v >> 64), v_lo = static_cast<uint64_t>(v);
  u128 d2 = u128(count) * v_lo + (u128(count * v_hi) << 64);  // < 2^85
  d2 += d2 == 0;  // max(D², 1)
  // Branch-free (the sign of j and whether D² >= 2^64 vary from row to row): bitlen b, j, N.
  const auto hi = static_cast<uint64_t>(d2 >> 64), lo = static_cast<uint64_t>(d2);
  const int b = hi ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll(lo);
  const int j = (b - 61) >> 1;  // floor: D² / 4^j has 61 or 62 bits
  const int right = j > 0 ? 2 * j : 0;  // <= 24
  const uint64_t shifted_down = (lo >> right) | ((hi << 1) << (63 - right));
  const uint64_t shifted_up = lo << (j < 0 ? -2 * j : 0);  // j < 0: D² < 2^61, hi = 0
  return {j, j >= 0 ? shifted_down : shifted_up};
}

inline RowScale row_scale(const LayerNormParams& p, int s, int64_t sum, int64_t sum_sq) {
  const ScaleInput in = row_scale_input(p, s, sum, sum_sq);
  return {in.j, recip_of_root(in.n)};
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
