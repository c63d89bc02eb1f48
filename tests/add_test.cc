// Residual add (QUANTIZATION.md §7): SIMD == reference bit for bit, reference vs exact rationals.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/nonlinear.h"
#include "nonlinear_tester.h"
#include "weights/quantized_multiplier.h"

using namespace intvit;
using intvit::test::nonlinear_seed;
using intvit::test::uniform_int;

namespace {

// Named bound (QUANTIZATION.md §7), against the exact sum with the stored Q31 ratios (within
// 2^-31 relative of s_a/s_out, s_b/s_out): each Eq. 7 result is off by at most 0.5 (SRDHM) ·
// 2^-shift + 0.5 (RDBP) <= 0.75 unit, so the sum by 1.5.
constexpr long double kMaxErrUnits = 1.5L;

}  // namespace

TEST_CASE("residual add: reference vs exact, saturation", "[add]") {
  const uint64_t seed = nonlinear_seed(0xadd);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  // Eq. 7 shifts left before the multiply, so a ratio in [2^k, 2^(k+1)) needs |x| < 2^(30-k);
  // the residual stream (|x| <= 2^23) is far inside. Ratios < 1 take the whole int32 range.
  const double ratios[][2] = {{1.0, 1.0}, {0.37, 1.9}, {3.0, 0.001}, {1e-5, 250.0}, {0.5, 0.999}};
  for (const auto& r : ratios) {
    const ResidualAddParams p = make_residual_add_params(r[0] * 0.01, r[1] * 0.01, 0.01);
    const long double ma = dequantize_multiplier({p.a_multiplier, p.a_shift});
    const long double mb = dequantize_multiplier({p.b_multiplier, p.b_shift});
    auto in_range = [&](double ratio) -> int64_t {
      return ratio < 1 ? INT32_MAX : (int64_t{1} << 30) / static_cast<int64_t>(std::exp2(std::floor(std::log2(ratio)))) - 1;
    };
    std::vector<int32_t> a(4096), b(4096), out(4096);
    for (size_t i = 0; i < a.size(); ++i) {
      const int64_t ra = i % 97 == 0 ? in_range(r[0]) : (1 << 22), rb = i % 89 == 0 ? in_range(r[1]) : (1 << 22);
      a[i] = static_cast<int32_t>(uniform_int(rng, -ra, ra));
      b[i] = static_cast<int32_t>(uniform_int(rng, -rb, rb));
    }
    residual_add_ref(p, a.size(), a.data(), b.data(), out.data());
    for (size_t i = 0; i < a.size(); ++i) {
      const long double exact = a[i] * ma + b[i] * mb;  // with the stored Q31 ratios
      const long double clamped = std::fmin(std::fmax(exact, -2147483648.0L), 2147483647.0L);
      INFO("ratios " << r[0] << ", " << r[1] << " a " << a[i] << " b " << b[i] << " got " << out[i]);
      REQUIRE(std::fabs(out[i] - clamped) <= kMaxErrUnits);
    }
  }
  // Saturation both ways.
  const ResidualAddParams p = make_residual_add_params(0.9, 0.9, 1.0);
  const int32_t a[2] = {std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()};
  const int32_t b[2] = {std::numeric_limits<int32_t>::max() - 5, std::numeric_limits<int32_t>::min() + 5};
  int32_t out[2];
  residual_add_ref(p, 2, a, b, out);
  CHECK(out[0] == std::numeric_limits<int32_t>::max());
  CHECK(out[1] == std::numeric_limits<int32_t>::min());
  CHECK_THROWS(make_residual_add_params(0, 1, 1));
}

TEST_CASE("residual add: SIMD variants equal the reference bit for bit", "[add]") {
  const auto variants = test::residual_add_variants();
  const uint64_t seed = nonlinear_seed(0xadd2);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    const double sa = std::ldexp(1.0 + (rng() % 1000) / 1000.0, static_cast<int>(rng() % 50) - 25);
    const double sb = std::ldexp(1.0 + (rng() % 1000) / 1000.0, static_cast<int>(rng() % 50) - 25);
    const ResidualAddParams p = make_residual_add_params(sa, sb, 1.0);
    const size_t n = rng() % 300;
    std::vector<int32_t> a(n + 1), b(n + 1), ref(n + 1, 99), simd(n + 1, 99);
    for (size_t i = 0; i < n; ++i) {
      a[i] = trial % 3 == 0 ? static_cast<int32_t>(rng()) : static_cast<int32_t>(uniform_int(rng, -1000, 1000));
      b[i] = trial % 5 == 0 ? static_cast<int32_t>(rng() % 2 ? INT32_MIN : INT32_MAX) : static_cast<int32_t>(rng());
    }
    residual_add_ref(p, n, a.data(), b.data(), ref.data());
    INFO("trial " << trial << " n " << n << " s_a " << sa << " s_b " << sb);
    for (const auto& variant : variants) {
      INFO(variant.name);
      std::fill(simd.begin(), simd.end(), 99);
      variant.fn(p, n, a.data(), b.data(), simd.data());
      REQUIRE(ref == simd);  // the element past n stays untouched
      std::vector<int32_t> in_place = a;  // out aliasing a
      variant.fn(p, n, in_place.data(), b.data(), in_place.data());
      REQUIRE(in_place[n] == a[n]);
      in_place[n] = 99;
      REQUIRE(ref == in_place);
    }
    std::fill(simd.begin(), simd.end(), 99);
    residual_add(p, n, a.data(), b.data(), simd.data());
    REQUIRE(ref == simd);
  }
}
