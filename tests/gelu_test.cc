// Integer GELU (QUANTIZATION.md §5): SIMD == reference bit for bit, reference vs exact erf GELU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend/nonlinear.h"
#include "nonlinear_tester.h"

using namespace intvit;
using intvit::test::nonlinear_seed;

namespace {

// Named bounds (QUANTIZATION.md §5.4). kLut: exact to quantization, so the error against the
// clamped exact GELU is at most half an output step (plus float noise).
constexpr double kLutMaxErrSteps = 0.5 + 1e-9;
// kIgelu / kShiftgelu: the published approximations' own error, in real units, beyond half an
// output step. Their float forms are off the erf GELU by at most 0.01815 (I-BERT i-erf, at
// x = -2.35) and 0.02386 (ShiftGELU: σ(1.702x) by the shift exponential, at x = 2.25); the
// integer rescales add < 3e-4.
constexpr double kIgeluMaxAbsErr = 0.0185;
constexpr double kShiftgeluMaxAbsErr = 0.0242;

double gelu64(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

struct QuantCase {
  double in_scale;
  int32_t in_zp;
  double out_scale;
  int32_t out_zp;
};

// Typical 8-bit fc1 outputs span [-10, 8] or so; GELU outputs [-0.17, 8].
const QuantCase kCases8[] = {
    {0.06, 170, 0.032, 6}, {0.02, 128, 0.01, 20}, {0.1, 60, 0.08, 3}, {0.005, 200, 0.002, 90}, {0.25, 128, 0.2, 1}};
const QuantCase kCases16[] = {{8e-4, 0, 5e-4, 0}, {3e-4, 0, 3e-4, 0}, {2e-3, 0, 1e-3, 0}, {1e-4, 17, 1e-4, -5}};

std::vector<int32_t> all_codes(int bits) {
  std::vector<int32_t> v;
  for (int32_t q = bits == 8 ? 0 : -32768; q <= (bits == 8 ? 255 : 32767); ++q) v.push_back(q);
  return v;
}

// Run one kernel on every input code of the width; returns the output codes.
template <typename Fn>
std::vector<int32_t> run_codes(Fn fn, const GeluParams& p, const std::vector<int32_t>& codes) {
  std::vector<int32_t> out(codes.size());
  if (p.bits == 8) {
    std::vector<uint8_t> in(codes.begin(), codes.end()), o(codes.size());
    fn(p, in.size(), in.data(), o.data());
    std::copy(o.begin(), o.end(), out.begin());
  } else {
    std::vector<int16_t> in(codes.begin(), codes.end()), o(codes.size());
    fn(p, in.size(), in.data(), o.data());
    std::copy(o.begin(), o.end(), out.begin());
  }
  return out;
}

}  // namespace

TEST_CASE("gelu: mode names parse, bad parameters throw", "[gelu]") {
  for (const char* name : {"igelu", "shiftgelu", "lut"}) CHECK(std::string(gelu_mode_name(parse_gelu_mode(name))) == name);
  CHECK_THROWS(parse_gelu_mode("tanh"));
  CHECK_THROWS(make_gelu_params(GeluMode::kLut, 0.1, 0, 0.1, 0, 12));
  CHECK_THROWS(make_gelu_params(GeluMode::kLut, 0.1, 300, 0.1, 0, 8));
  CHECK_THROWS(make_gelu_params(GeluMode::kIgelu, -1, 0, 0.1, 0, 8));
}

TEST_CASE("gelu: SIMD variants equal the reference on every input code", "[gelu]") {
  const auto variants = test::gelu_variants();
  const uint64_t seed = nonlinear_seed(0x9e1u);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  for (const auto& variant : variants) {
    INFO(variant.name);
    std::mt19937_64 rng(seed);
    for (GeluMode mode : {GeluMode::kIgelu, GeluMode::kShiftgelu, GeluMode::kLut}) {
      for (int bits : {8, 16}) {
        std::vector<QuantCase> cases(bits == 8 ? std::begin(kCases8) : std::begin(kCases16),
                                     bits == 8 ? std::end(kCases8) : std::end(kCases16));
        // Extreme scales: multipliers > 1 (saturating left shifts) and tiny ones.
        cases.push_back({bits == 8 ? 3.0 : 0.5, bits == 8 ? 255 : -32768, bits == 8 ? 0.001 : 1e-5, bits == 8 ? 0 : 32767});
        cases.push_back({1e-6, bits == 8 ? 0 : 32767, 1e-6, bits == 8 ? 255 : -32768});
        const std::vector<int32_t> codes = all_codes(bits);
        for (const QuantCase& c : cases) {
          INFO("mode " << gelu_mode_name(mode) << " bits " << bits << " in (" << c.in_scale << ", " << c.in_zp
                       << ") out (" << c.out_scale << ", " << c.out_zp << ")");
          const GeluParams p = make_gelu_params(mode, c.in_scale, c.in_zp, c.out_scale, c.out_zp, bits);
          REQUIRE(run_codes(gelu_ref, p, codes) == run_codes(variant.fn, p, codes));
          REQUIRE(run_codes(test::best_kernels().gelu, p, codes) == run_codes(gelu_ref, p, codes));
          // Random lengths (tails of 8/16/32 lanes; 8-bit formula inputs from 256 (AVX2) and 1024
          // (AVX-512) on take the tabulated path), offsets, and in place.
          for (int trial = 0; trial < 24; ++trial) {
            const size_t n = (trial % 4 == 3) ? 1024 + rng() % 100 : (trial % 4 == 2 ? 200 + rng() % 120 : rng() % 200);
            const size_t off = rng() % 7;
            std::vector<int32_t> sub(n);
            for (auto& q : sub) q = codes[rng() % codes.size()];
            const std::vector<int32_t> want = run_codes(gelu_ref, p, sub);
            INFO("n " << n << " offset " << off);
            if (bits == 8) {
              std::vector<uint8_t> buf(n + off + 40, 0xEE);
              for (size_t i = 0; i < n; ++i) buf[off + i] = static_cast<uint8_t>(sub[i]);
              variant.fn(p, n, buf.data() + off, buf.data() + off);
              for (size_t i = 0; i < n; ++i) REQUIRE(buf[off + i] == want[i]);
              for (size_t i = off + n; i < buf.size(); ++i) REQUIRE(buf[i] == 0xEE);
            } else {
              std::vector<int16_t> buf(n + off + 40, 0x5EE);
              for (size_t i = 0; i < n; ++i) buf[off + i] = static_cast<int16_t>(sub[i]);
              variant.fn(p, n, buf.data() + off, buf.data() + off);
              for (size_t i = 0; i < n; ++i) REQUIRE(buf[off + i] == want[i]);
              for (size_t i = off + n; i < buf.size(); ++i) REQUIRE(buf[i] == 0x5EE);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("gelu: every input code vs the exact erf GELU", "[gelu]") {
  for (GeluMode mode : {GeluMode::kLut, GeluMode::kIgelu, GeluMode::kShiftgelu}) {
    for (int bits : {8, 16}) {
      double worst_steps = 0, worst_abs = 0;
      const auto begin = bits == 8 ? std::begin(kCases8) : std::begin(kCases16);
      const auto end = bits == 8 ? std::end(kCases8) : std::end(kCases16);
      const std::vector<int32_t> codes = all_codes(bits);
      for (auto c = begin; c != end; ++c) {
        const GeluParams p = make_gelu_params(mode, c->in_scale, c->in_zp, c->out_scale, c->out_zp, bits);
        const std::vector<int32_t> out = run_codes(gelu_ref, p, codes);
        for (size_t i = 0; i < codes.size(); ++i) {
          const double x = c->in_scale * (codes[i] - c->in_zp);
          const double lo = c->out_scale * (p.out_min - c->out_zp), hi = c->out_scale * (p.out_max - c->out_zp);
          const double target = std::clamp(gelu64(x), lo, hi);
          const double got = c->out_scale * (out[i] - c->out_zp);
          const double err_steps = std::abs(got - target) / c->out_scale;
          // Error beyond the half output step, in real units (the approximation's own error).
          const double err_abs = std::max(0.0, std::abs(got - target) - 0.5 * c->out_scale);
          INFO("mode " << gelu_mode_name(mode) << " bits " << bits << " in (" << c->in_scale << ", " << c->in_zp
                       << ") out (" << c->out_scale << ", " << c->out_zp << ") code " << codes[i] << " x " << x
                       << " got " << got << " want " << target);
          if (mode == GeluMode::kLut) {
            REQUIRE(err_steps <= kLutMaxErrSteps);
          } else {
            REQUIRE(err_abs <= (mode == GeluMode::kIgelu ? kIgeluMaxAbsErr : kShiftgeluMaxAbsErr));
          }
          worst_steps = std::max(worst_steps, err_steps);
          worst_abs = std::max(worst_abs, err_abs);
        }
      }
      if (std::getenv("INTVIT_TEST_REPORT")) {
        std::printf("gelu %-9s %2d-bit: max err %.4f steps, %.5f beyond half a step (real units)\n",
                    gelu_mode_name(mode), bits, worst_steps, worst_abs);
      }
    }
  }
}
