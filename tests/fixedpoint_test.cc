#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "kernels/fixedpoint.h"
#include "kernels/quantized_multiplier.h"

using namespace intvit;

namespace {
// Round half away from zero on exact rationals, via long double (64-bit mantissa suffices here).
int64_t round_half_away(long double v) { return static_cast<int64_t>(v < 0 ? -std::floor(-v + 0.5L) : std::floor(v + 0.5L)); }
}  // namespace

TEST_CASE("SRDHM rounds half away from zero and saturates only at INT32_MIN^2", "[fixedpoint]") {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  CHECK(fp::saturating_rounding_doubling_high_mul(kMin, kMin) == std::numeric_limits<int32_t>::max());
  CHECK(fp::saturating_rounding_doubling_high_mul(1 << 30, 1) == 1);     // 0.5 -> 1
  CHECK(fp::saturating_rounding_doubling_high_mul(-(1 << 30), 1) == -1); // -0.5 -> -1
  std::mt19937 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const int32_t a = static_cast<int32_t>(rng()), b = static_cast<int32_t>(rng());
    if (a == kMin && b == kMin) continue;
    const long double exact = static_cast<long double>(a) * b / 2147483648.0L;
    REQUIRE(fp::saturating_rounding_doubling_high_mul(a, b) == round_half_away(exact));
  }
}

TEST_CASE("RDBP rounds half away from zero", "[fixedpoint]") {
  CHECK(fp::rounding_divide_by_pot(5, 1) == 3);
  CHECK(fp::rounding_divide_by_pot(-5, 1) == -3);
  CHECK(fp::rounding_divide_by_pot(-4, 1) == -2);
  CHECK(fp::rounding_divide_by_pot(7, 0) == 7);
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = static_cast<int32_t>(rng());
    const int e = static_cast<int>(rng() % 32);
    REQUIRE(fp::rounding_divide_by_pot(x, e) == round_half_away(static_cast<long double>(x) / std::ldexp(1.0L, e)));
    REQUIRE(fp::rounding_divide_by_pot64(x, e) == round_half_away(static_cast<long double>(x) / std::ldexp(1.0L, e)));
  }
}

TEST_CASE("quantize_multiplier reproduces the real scale within Q31 precision", "[fixedpoint]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exp_dist(-40, 20);
  for (int i = 0; i < 10000; ++i) {
    const double real = std::exp2(exp_dist(rng));
    const QuantizedMultiplier q = quantize_multiplier(real);
    REQUIRE(q.shift >= -31);
    REQUIRE(q.shift <= 31);
    if (q.shift < 31) {
      REQUIRE(q.multiplier >= (1 << 30));
      REQUIRE(std::abs(dequantize_multiplier(q) / real - 1) < 1e-9);
    }
  }
  CHECK(quantize_multiplier(0).multiplier == 0);
  CHECK_THROWS(quantize_multiplier(-1));
  CHECK_THROWS(quantize_multiplier(std::nan("")));
  CHECK_THROWS(quantize_multiplier(1e12));
}

TEST_CASE("multiply_by_quantized_multiplier matches the real product within one unit", "[fixedpoint]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> exp_dist(-20, 8);
  for (int i = 0; i < 100000; ++i) {
    const double real = std::exp2(exp_dist(rng));
    const QuantizedMultiplier q = quantize_multiplier(real);
    const int32_t x = static_cast<int32_t>(rng() % 2000001) - 1000000;
    const double exact = x * real;
    if (std::abs(exact) > 2e9) continue;
    REQUIRE(std::abs(fp::multiply_by_quantized_multiplier(x, q.multiplier, q.shift) - exact) <= 1.0);
  }
}

TEST_CASE("isqrt64 is floor(sqrt)", "[fixedpoint]") {
  std::mt19937_64 rng(5);
  for (uint64_t v : {0ull, 1ull, 2ull, 3ull, 4ull, 15ull, 16ull, 17ull, (1ull << 62), ~0ull}) {
    const uint64_t r = fp::isqrt64(v);
    REQUIRE(static_cast<unsigned __int128>(r) * r <= v);
    REQUIRE(static_cast<unsigned __int128>(r + 1) * (r + 1) > v);
  }
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const uint64_t r = fp::isqrt64(v);
    REQUIRE(static_cast<unsigned __int128>(r) * r <= v);
    REQUIRE(static_cast<unsigned __int128>(r + 1) * (r + 1) > v);
  }
  // Around perfect squares (where a start or a Newton step one off would show), every table entry
  // and magnitude: r² - 1, r², r² + 1 for random r of 8..32 bits, and the LayerNorm range
  // [2^60, 2^62) (Eq. 37) at its ends.
  for (int i = 0; i < 100000; ++i) {
    const uint64_t r = (rng() >> (32 + rng() % 25)) | (uint64_t{1} << 7);
    const uint64_t sq = r * r;
    CHECK(fp::isqrt64(sq) == r);
    CHECK(fp::isqrt64(sq - 1) == r - 1);
    CHECK(fp::isqrt64(sq + 1) == r);
  }
  CHECK(fp::isqrt64(uint64_t{1} << 60) == uint64_t{1} << 30);
  CHECK(fp::isqrt64((uint64_t{1} << 62) - 1) == (uint64_t{1} << 31) - 1);
  CHECK(fp::isqrt64(~0ull) == 0xFFFFFFFFull);
  CHECK(fp::isqrt64(0xFFFFFFFE00000001ull) == 0xFFFFFFFFull);  // (2^32 - 1)²
  CHECK(fp::isqrt64(0xFFFFFFFE00000000ull) == 0xFFFFFFFEull);
}
