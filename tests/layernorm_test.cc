// Integer LayerNorm (QUANTIZATION.md §6): SIMD == reference bit for bit, reference vs float64.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "kernels/backend/nonlinear.h"
#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm-row.h"
#include "nonlinear_tester.h"

// The AVX-512 kernel's Eq. 36-37 of a row group (layernorm-scale-avx512.h), compiled here for
// AVX-512 and run only on CPUs that have it: a wrong R rarely changes an output, so the kernel
// comparisons alone would not catch it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,bmi2")
#pragma GCC diagnostic push
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/layernorm/layernorm-scale-avx512.h"
namespace {
void root_recip8_of(const uint64_t* n, int64_t* recip) {
  _mm512_storeu_si512(recip, intvit::root_recip8(_mm512_loadu_si512(n)));
}
}  // namespace
#pragma GCC diagnostic pop
#pragma GCC pop_options
#define INTVIT_TEST_SCALE_AVX512 1
bool has_scale_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"); }
#else
#define INTVIT_TEST_SCALE_AVX512 0
#endif

using namespace intvit;
using intvit::test::nonlinear_seed;
using intvit::test::uniform_int;

namespace {

// Named bounds (QUANTIZATION.md §6.4): output error vs float64 LayerNorm, in output steps. Half a
// step is the output rounding; the exact integer statistics, the 61-62-bit Newton square root and
// the Q30 normalised value add < 2^-10 step (most on int16 outputs with C = 4096).
constexpr double kMaxErrSteps = 0.5 + 1.0 / 1024;
// Inputs beyond the residual contract (|x| >= 2^23, up to 2^31) are pre-shifted right by up to 9
// bits first, which costs up to ~2^15·2^-23 step on int16 outputs.
constexpr double kMaxErrStepsBeyond2p23 = 0.5 + 1.0 / 128;

struct LnCase {
  const char* name;
  size_t channels;
  double eps;
  double in_scale;
  bool ptf;
  int32_t in_zp;
  std::vector<uint8_t> alpha;
  std::vector<int32_t> in32;  // rows × channels (int32 form)
  std::vector<uint8_t> in8;   // rows × channels (PTF form)
  size_t rows;
  std::vector<float> gamma, beta;
  double bound = kMaxErrSteps;
};

double dequant(const LnCase& c, size_t r, size_t ch) {
  if (!c.ptf) return c.in_scale * c.in32[r * c.channels + ch];
  return c.in_scale * std::ldexp(1.0, c.alpha[ch]) * (static_cast<int>(c.in8[r * c.channels + ch]) - c.in_zp);
}

std::vector<double> layernorm64(const LnCase& c, size_t r) {
  const size_t n = c.channels;
  double mean = 0, var = 0;
  for (size_t ch = 0; ch < n; ++ch) mean += dequant(c, r, ch);
  mean /= n;
  for (size_t ch = 0; ch < n; ++ch) var += (dequant(c, r, ch) - mean) * (dequant(c, r, ch) - mean);
  var /= n;
  std::vector<double> y(n);
  for (size_t ch = 0; ch < n; ++ch) y[ch] = c.gamma[ch] * (dequant(c, r, ch) - mean) / std::sqrt(var + c.eps) + c.beta[ch];
  return y;
}

void random_affine(LnCase& c, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> g(0.2, 2.5);
  std::normal_distribution<double> b(0, 0.5);
  c.gamma.resize(c.channels);
  c.beta.resize(c.channels);
  for (size_t ch = 0; ch < c.channels; ++ch) {
    c.gamma[ch] = static_cast<float>(g(rng) * ((rng() % 8 == 0) ? -1 : 1));
    c.beta[ch] = static_cast<float>(b(rng));
  }
}

// int32 residual rows from real values with s_in = max|real| / 2^22 (the engine's residual range).
LnCase int32_case(const char* name, const std::vector<std::vector<double>>& rows, double eps, std::mt19937_64& rng) {
  LnCase c{name, rows[0].size(), eps, 0, false, 0, {}, {}, {}, rows.size(), {}, {}};
  double max_abs = 0;
  for (const auto& r : rows) for (double v : r) max_abs = std::max(max_abs, std::abs(v));
  c.in_scale = (max_abs > 0 ? max_abs : 1.0) / (1 << 22);
  for (const auto& r : rows) for (double v : r) c.in32.push_back(static_cast<int32_t>(std::lround(v / c.in_scale)));
  random_affine(c, rng);
  return c;
}

// Runs the reference on a case with output bits, checks vs float64; returns the worst error.
double check_case(const LnCase& c, int out_bits) {
  // Output quantization chosen from the exact outputs (a calibrated range), clamps tested too.
  double lo = 0, hi = 0;
  std::vector<std::vector<double>> exact;
  for (size_t r = 0; r < c.rows; ++r) {
    exact.push_back(layernorm64(c, r));
    for (double v : exact.back()) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const double out_scale = out_bits == 8 ? (hi - lo) / 255 * 0.9 : std::max(std::abs(lo), std::abs(hi)) / 32767 * 0.9;
  const int32_t out_zp = out_bits == 8 ? static_cast<int32_t>(std::clamp(std::round(-lo / out_scale), 0.0, 255.0)) : 0;
  const LayerNormParams p = make_layernorm_params(c.gamma.data(), c.beta.data(), c.channels, c.eps, c.in_scale,
                                                  c.ptf ? c.alpha.data() : nullptr, c.in_zp, out_scale, out_zp, out_bits);
  std::vector<int32_t> got(c.rows * c.channels);
  if (out_bits == 8) {
    std::vector<uint8_t> o(got.size());
    layernorm_rows_ref(p, c.rows, c.ptf ? static_cast<const void*>(c.in8.data()) : c.in32.data(), c.channels, o.data(), c.channels);
    std::copy(o.begin(), o.end(), got.begin());
  } else {
    std::vector<int16_t> o(got.size());
    layernorm_rows_ref(p, c.rows, c.ptf ? static_cast<const void*>(c.in8.data()) : c.in32.data(), c.channels, o.data(), c.channels);
    std::copy(o.begin(), o.end(), got.begin());
  }
  double worst = 0;
  for (size_t r = 0; r < c.rows; ++r) {
    for (size_t ch = 0; ch < c.channels; ++ch) {
      const double target = std::clamp(exact[r][ch] / out_scale + out_zp, double(p.out_min), double(p.out_max));
      const double err = std::abs(got[r * c.channels + ch] - target);
      INFO("case '" << c.name << "' C " << c.channels << " out_bits " << out_bits << " row " << r << " channel " << ch
                    << " got " << got[r * c.channels + ch] << " want " << target);
      REQUIRE(err <= c.bound);
      worst = std::max(worst, err);
    }
  }
  return worst;
}

std::vector<LnCase> accuracy_cases(std::mt19937_64& rng) {
  std::vector<LnCase> cases;
  std::normal_distribution<double> n01(0, 1);
  auto gaussian_rows = [&](size_t rows, size_t ch, double sigma, double offset) {
    std::vector<std::vector<double>> v(rows, std::vector<double>(ch));
    for (auto& r : v) for (double& x : r) x = offset + sigma * n01(rng);
    return v;
  };
  // The real ViT-Ti residual: one channel near -580 while the others stay within ±5.
  {
    auto rows = gaussian_rows(16, 192, 1.5, 0);
    for (auto& r : rows) {
      for (double& x : r) x = std::clamp(x, -5.0, 5.0);
      r[57] = -580 + n01(rng);
    }
    cases.push_back(int32_case("ViT-Ti outlier channel (-580 vs ±5), dim 192", rows, 1e-6, rng));
  }
  for (size_t ch : {size_t{1}, size_t{2}, size_t{192}, size_t{384}, size_t{768}, size_t{4096}}) {
    for (double sigma : {1e-3, 1.0, 300.0}) cases.push_back(int32_case("gaussian rows", gaussian_rows(4, ch, sigma, sigma * 0.3), 1e-6, rng));
  }
  // eps dominates: variance ~ eps (1e-6 real, s_in tiny) and far below it.
  cases.push_back(int32_case("variance ~ eps", gaussian_rows(4, 192, 1e-3, 0), 1e-6, rng));
  cases.push_back(int32_case("variance << eps", gaussian_rows(4, 192, 1e-5, 0), 1e-4, rng));
  cases.push_back(int32_case("constant rows", std::vector<std::vector<double>>(3, std::vector<double>(192, 2.5)), 1e-6, rng));
  {
    // Values over the whole int32 range (pre-shift to the right).
    LnCase c{"int32 extremes", 192, 1e-6, 1e-3, false, 0, {}, {}, {}, 4, {}, {}};
    for (size_t i = 0; i < c.rows * c.channels; ++i) {
      c.in32.push_back(i % 192 == 5 ? std::numeric_limits<int32_t>::min() : static_cast<int32_t>(rng()));
    }
    random_affine(c, rng);
    c.bound = kMaxErrStepsBeyond2p23;
    cases.push_back(c);
  }
  // FQ-ViT PTF form: uint8 with zero-point, channel factors 2^alpha.
  for (size_t ch : {size_t{192}, size_t{768}}) {
    LnCase c{"PTF uint8", ch, 1e-6, 0.02, true, 131, {}, {}, {}, 8, {}, {}};
    for (size_t i = 0; i < ch; ++i) c.alpha.push_back(static_cast<uint8_t>(i % 11 == 0 ? 3 : rng() % 3));
    for (size_t i = 0; i < c.rows * ch; ++i) c.in8.push_back(static_cast<uint8_t>(std::clamp(131 + 25 * n01(rng), 0.0, 255.0)));
    random_affine(c, rng);
    cases.push_back(c);
  }
  return cases;
}

// Every SIMD variant writes the reference's bytes for `rows` int32 rows of `ch` channels (the
// buffers are poisoned so a byte left unwritten differs too).
template <typename Variants>
void require_variants_equal_ref(const LayerNormParams& p, size_t rows, const std::vector<int32_t>& in, size_t ch,
                                const Variants& variants) {
  std::vector<uint8_t> ref(rows * ch * 2, 0xC3);
  layernorm_rows_ref(p, rows, in.data(), ch, ref.data(), ch);
  for (const auto& variant : variants) {
    std::vector<uint8_t> simd(rows * ch * 2, 0xC3);
    variant.fn(p, rows, in.data(), ch, simd.data(), ch);
    INFO(variant.name);
    REQUIRE(ref == simd);
  }
}

// Random γ, β for `ch` channels; every fifth channel then gets h_c = 0 (no rounding in Eq. 39),
// G_c = gamma_of(rng) and a small H_c, which make_layernorm_params never produces but the kernels
// must follow: that channel's output is t·G_c + H_c itself.
template <typename GammaOf>
LayerNormParams params_with_unrounded_channels(std::mt19937_64& rng, size_t ch, int bits, GammaOf&& gamma_of) {
  std::vector<float> gamma(ch), beta(ch);
  for (size_t i = 0; i < ch; ++i) {
    gamma[i] = static_cast<float>(uniform_int(rng, -1000, 1000) / 400.0);
    beta[i] = static_cast<float>(uniform_int(rng, -1000, 1000) / 300.0);
  }
  LayerNormParams p = make_layernorm_params(gamma.data(), beta.data(), ch, 1e-6, 1.0 / 4096, nullptr, 0, 0.02,
                                            bits == 8 ? 120 : 0, bits);
  for (size_t i = 0; i < ch; i += 5) {
    p.out_shift[i] = 0;
    p.gamma_multiplier[i] = gamma_of(rng);
    p.beta_bias[i] = uniform_int(rng, -40, 40);
  }
  return p;
}

}  // namespace

TEST_CASE("layernorm: bad parameters throw", "[layernorm]") {
  const float g[2] = {1, 1}, b[2] = {0, 0};
  const uint8_t bad_alpha[2] = {0, 4};
  CHECK_THROWS(make_layernorm_params(g, b, 0, 1e-6, 0.1, nullptr, 0, 0.1, 0, 8));
  CHECK_THROWS(make_layernorm_params(g, b, 2, 1e-6, 0.1, nullptr, 3, 0.1, 0, 8));    // int32 input has zp 0
  CHECK_THROWS(make_layernorm_params(g, b, 2, 1e-6, 0.1, bad_alpha, 3, 0.1, 0, 8));  // alpha > 3
  CHECK_THROWS(make_layernorm_params(g, b, 2, 1e-6, 0.1, nullptr, 0, 0.1, 5, 16));   // int16 output has zp 0
  CHECK_THROWS(make_layernorm_params(g, b, 2, 1e-6, 0.1, nullptr, 0, 0.1, 0, 4));
}

TEST_CASE("layernorm: reference vs float64 (outlier channel, dim 192, PTF, eps, extremes)", "[layernorm]") {
  const uint64_t seed = nonlinear_seed(0x1a7e);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  double worst = 0;
  for (const LnCase& c : accuracy_cases(rng)) {
    for (int bits : {8, 16}) {
      const double err = check_case(c, bits);
      if (std::getenv("INTVIT_TEST_REPORT")) std::printf("layernorm %-50s C %4zu %2d-bit: max err %.5f steps\n", c.name, c.channels, bits, err);
      worst = std::max(worst, err);
    }
  }
  if (std::getenv("INTVIT_TEST_REPORT")) std::printf("layernorm max err %.5f steps\n", worst);
}

TEST_CASE("layernorm: SIMD variants equal the reference bit for bit", "[layernorm]") {
  const auto variants = test::layernorm_variants();
  const uint64_t seed = nonlinear_seed(0x1a7f);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  // Lane-count edges of 4 and 8 (AVX2) and 16 (AVX-512) channels, ViT widths, the AVX2 kernel's
  // 1024-channel summation blocks, the 4096 limit.
  for (size_t ch : {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 33, 192, 768, 1030, 4096}) {
    for (bool ptf : {false, true}) {
      for (int bits : {8, 16}) {
        for (int kind = 0; kind < 5; ++kind) {
          std::vector<float> gamma(ch), beta(ch);
          std::vector<uint8_t> alpha(ch);
          for (size_t i = 0; i < ch; ++i) {
            gamma[i] = static_cast<float>(std::ldexp(uniform_int(rng, -1000, 1000) / 500.0, static_cast<int>(rng() % 40) - 20));
            beta[i] = static_cast<float>(std::ldexp(uniform_int(rng, -1000, 1000) / 500.0, static_cast<int>(rng() % 30) - 15));
            alpha[i] = static_cast<uint8_t>(rng() % 4);
          }
          const double in_scale = std::ldexp(1.0, static_cast<int>(rng() % 40) - 30);
          const double eps = (kind == 4) ? 0.0 : std::ldexp(1.0, -static_cast<int>(rng() % 30));
          const int32_t in_zp = ptf ? static_cast<int32_t>(rng() % 256) : 0;
          const int32_t out_zp = bits == 8 ? static_cast<int32_t>(rng() % 256) : 0;
          const double out_scale = std::ldexp(1.0, static_cast<int>(rng() % 20) - 10);
          const LayerNormParams p = make_layernorm_params(gamma.data(), beta.data(), ch, eps, in_scale,
                                                          ptf ? alpha.data() : nullptr, in_zp, out_scale, out_zp, bits);
          const size_t rows = 3, ld_in = ch + 3, ld_out = ch + 5;
          std::vector<int32_t> in32(rows * ld_in);
          std::vector<uint8_t> in8(rows * ld_in);
          for (size_t i = 0; i < in32.size(); ++i) {
            switch (kind) {
              case 0: in32[i] = static_cast<int32_t>(rng()); break;
              case 1: in32[i] = static_cast<int32_t>(uniform_int(rng, -(1 << 22), 1 << 22)); break;
              case 2: in32[i] = static_cast<int32_t>(uniform_int(rng, -3, 3)); break;
              case 3: in32[i] = (rng() % 2) ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max(); break;
              case 4: in32[i] = 0; break;
            }
            in8[i] = kind == 4 ? static_cast<uint8_t>(in_zp) : (kind == 2 ? static_cast<uint8_t>(in_zp + rng() % 2) : static_cast<uint8_t>(rng()));
          }
          const void* in = ptf ? static_cast<const void*>(in8.data()) : in32.data();
          std::vector<uint8_t> ref(rows * ld_out * 2, 0xC3);
          layernorm_rows_ref(p, rows, in, ld_in, ref.data(), ld_out);
          INFO("channels " << ch << " ptf " << ptf << " out_bits " << bits << " input kind " << kind << " in_scale "
                           << in_scale << " eps " << eps);
          for (const auto& variant : variants) {
            std::vector<uint8_t> simd(rows * ld_out * 2, 0xC3);
            variant.fn(p, rows, in, ld_in, simd.data(), ld_out);
            INFO(variant.name);
            REQUIRE(ref == simd);  // includes the untouched padding between rows
          }
          std::vector<uint8_t> dispatched(rows * ld_out * 2, 0xC3);
          test::best_kernels().layernorm_rows(p, rows, in, ld_in, dispatched.data(), ld_out);
          REQUIRE(ref == dispatched);
        }
      }
    }
  }
}

TEST_CASE("layernorm: SIMD equals the reference on mixed rows and on channels without rounding", "[layernorm]") {
  // One call over rows of every kind, in a random order: the AVX-512 kernel plans the next group
  // of 8 rows (statistics, square root) while it writes the current group (row counts around the
  // group size: its prologue, full groups and a partial last group), and picks per row between the one-pass
  // statistics (left pre-shift), the second pass (right pre-shift, |x| >= 2^23) and the left or
  // right shift by j. Some channels get h_c = 0 (no rounding in Eq. 39), which
  // make_layernorm_params never produces but the kernels must follow.
  const auto variants = test::layernorm_variants();
  const uint64_t seed = nonlinear_seed(0x1a80);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  for (size_t ch : {size_t{1}, size_t{17}, size_t{192}, size_t{384}, size_t{1030}}) {
    for (int bits : {8, 16}) {
      const LayerNormParams p = params_with_unrounded_channels(rng, ch, bits, [](std::mt19937_64& r) {
        return static_cast<int32_t>(uniform_int(r, -3, 3));
      });
      const size_t rows = 40;
      std::vector<int32_t> in(rows * ch);
      for (size_t r = 0; r < rows; ++r) {
        const int kind = static_cast<int>(rng() % 5);
        for (size_t c = 0; c < ch; ++c) {
          int32_t& x = in[r * ch + c];
          switch (kind) {
            case 0: x = static_cast<int32_t>(rng()); break;                                      // right pre-shift
            case 1: x = static_cast<int32_t>(uniform_int(rng, -(1 << 20), 1 << 20)); break;     // the residual range
            case 2: x = static_cast<int32_t>(uniform_int(rng, -2, 2)); break;                   // tiny variance: j <= 0
            case 3: x = 777; break;                                                             // constant row
            case 4: x = c == 57 % ch ? -(1 << 22) : static_cast<int32_t>(uniform_int(rng, -900, 900)); break;  // outlier
          }
        }
      }
      INFO("channels " << ch << " out_bits " << bits);
      for (size_t count : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{17}, rows}) {
        INFO("rows " << count);
        require_variants_equal_ref(p, count, std::vector<int32_t>(in.begin(), in.begin() + count * ch), ch, variants);
      }
    }
  }
}

TEST_CASE("layernorm: SIMD equals the reference on rows of every variance (Eq. 37 of a row group in vector lanes)", "[layernorm]") {
  // The AVX-512 kernel takes Eq. 37 (the table start, two Newton steps, the corrections of r and R)
  // for a whole group of 8 rows in 64-bit lanes. Every row here has its own spread (any amplitude
  // up to 2^22, not only powers of 2, some constant or near-constant rows, some beyond 2^23), so the
  // normalised D² of the lanes of one group fall anywhere in [2^60, 2^62) and the table indices
  // differ lane by lane; row counts 1..30 (partial and full groups, a partial last group) and 197.
  const auto variants = test::layernorm_variants();
  const uint64_t seed = nonlinear_seed(0x1a85);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  for (size_t ch : {size_t{1}, size_t{3}, size_t{16}, size_t{17}, size_t{192}, size_t{300}}) {
    for (int bits : {8, 16}) {
      for (double eps : {1e-6, 0.0, 0.5}) {
        std::vector<float> gamma(ch), beta(ch);
        for (size_t i = 0; i < ch; ++i) {
          gamma[i] = static_cast<float>(uniform_int(rng, -1000, 1000) / 400.0);
          beta[i] = static_cast<float>(uniform_int(rng, -1000, 1000) / 300.0);
        }
        const LayerNormParams p = make_layernorm_params(gamma.data(), beta.data(), ch, eps, 1.0 / 1024, nullptr, 0,
                                                        0.03, bits == 8 ? 128 : 0, bits);
        const size_t rows = 197;
        std::vector<int32_t> in(rows * ch);
        for (size_t r = 0; r < rows; ++r) {
          const int kind = static_cast<int>(rng() % 8);
          const int64_t amplitude = uniform_int(rng, 1, int64_t{1} << uniform_int(rng, 0, 22));
          const auto offset = static_cast<int32_t>(uniform_int(rng, -amplitude, amplitude));
          for (size_t c = 0; c < ch; ++c) {
            int32_t& x = in[r * ch + c];
            switch (kind) {
              case 0: x = offset; break;                                                  // constant: D² from ε only
              case 1: x = offset + static_cast<int32_t>(rng() % 2); break;                // near-constant
              case 2: x = static_cast<int32_t>(rng()); break;                             // right pre-shift
              default: x = static_cast<int32_t>(uniform_int(rng, -amplitude, amplitude)); break;
            }
          }
        }
        INFO("channels " << ch << " out_bits " << bits << " eps " << eps);
        for (size_t count = 1; count <= 31; ++count) {
          const size_t n = count == 31 ? rows : count;
          INFO("rows " << n);
          require_variants_equal_ref(p, n, std::vector<int32_t>(in.begin(), in.begin() + n * ch), ch, variants);
        }
      }
    }
  }
}

TEST_CASE("layernorm: SIMD clamps outputs far outside int32 (small h_c, large G and H)", "[layernorm]") {
  // In-contract int32 rows (the §6.5 stage) whose channels have h_c < 32 and |G_c|, |H_c| near their
  // limits, so y lies far outside int32 and its low dword is no clue to the clamped output: the
  // kernels must clamp y as int64 unless every h_c >= 32. The other channels keep their real constants.
  const auto variants = test::layernorm_variants();
  const uint64_t seed = nonlinear_seed(0x1a81);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  for (size_t ch : {size_t{9}, size_t{192}}) {
    for (int bits : {8, 16}) {
      std::vector<float> gamma(ch, 1.0f), beta(ch, 0.0f);
      LayerNormParams p = make_layernorm_params(gamma.data(), beta.data(), ch, 1e-6, 1.0 / 4096, nullptr, 0, 0.02,
                                                bits == 8 ? 120 : 0, bits);
      for (size_t i = 0; i < ch; i += 3) {
        p.out_shift[i] = static_cast<uint8_t>(rng() % 32);
        p.gamma_multiplier[i] = static_cast<int32_t>(uniform_int(rng, -(int64_t{1} << 31) + 1, (int64_t{1} << 31) - 1));
        p.beta_bias[i] = uniform_int(rng, -(int64_t{1} << 62), int64_t{1} << 62);
      }
      const size_t rows = 17;  // two full 8-row groups and a partial one
      std::vector<int32_t> in(rows * ch);
      for (int32_t& x : in) x = static_cast<int32_t>(uniform_int(rng, -(1 << 20), 1 << 20));
      INFO("channels " << ch << " out_bits " << bits);
      for (size_t count : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{16}, rows}) {
        INFO("rows " << count);
        require_variants_equal_ref(p, count, std::vector<int32_t>(in.begin(), in.begin() + count * ch), ch, variants);
      }
    }
  }
}

namespace {

// The division form of Eq. 37 the kernels used before §6.6: fp::isqrt64 and one 64-bit division.
// Checks root_recip8 (8 lanes at a time, lane i of a batch from n[i]) against root_and_recip.
void check_root_recip8(const std::vector<uint64_t>& ns) {
#if INTVIT_TEST_SCALE_AVX512
  if (!has_scale_avx512()) return;
  for (size_t i = 0; i < ns.size(); i += 8) {
    uint64_t n[8];
    for (size_t l = 0; l < 8; ++l) n[l] = ns[std::min(i + l, ns.size() - 1)];
    int64_t got[8];
    root_recip8_of(n, got);
    for (size_t l = 0; l < 8; ++l) {
      const auto want = static_cast<int64_t>(layernorm_detail::root_and_recip(n[l]).recip);
      if (got[l] != want) {
        INFO("N " << n[l] << " lane " << l << ": R " << got[l] << " want " << want);
        REQUIRE(false);
      }
    }
  }
#else
  (void)ns;
#endif
}

std::vector<uint64_t> checked_ns;  // every N that check_root_and_recip saw, for check_root_recip8

void check_root_and_recip(uint64_t n) {
  checked_ns.push_back(n);
  const uint64_t r = fp::isqrt64(n);
  const uint64_t recip = ((uint64_t{1} << 60) + r / 2) / r;
  const auto got = layernorm_detail::root_and_recip(n);
  if (got.root != r || got.recip != recip) {
    INFO("N " << n << ": root " << got.root << " want " << r << ", R " << got.recip << " want " << recip);
    REQUIRE(false);
  }
}

}  // namespace

TEST_CASE("layernorm: division-free root and reciprocal (Eq. 37) equal isqrt64 and the division", "[layernorm]") {
  const uint64_t seed = nonlinear_seed(0x1a82);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  const uint64_t lo = uint64_t{1} << 60, hi = uint64_t{1} << 62;
  check_root_and_recip(lo);
  check_root_and_recip(hi - 1);
  // Every table cell's edges (N >> 53 is the index) and the perfect squares around them.
  for (uint64_t i = 128; i < 512; ++i) {
    for (uint64_t d = 0; d < 3; ++d) check_root_and_recip((i << 53) + d), check_root_and_recip(((i + 1) << 53) - 1 - d);
  }
  // Squares and their neighbours (the corrections of r fire there), and uniform N.
  for (int i = 0; i < 200000; ++i) {
    const uint64_t k = (uint64_t{1} << 30) + rng() % (uint64_t{1} << 30);
    for (uint64_t n : {k * k, k * k - 1, k * k + 1, k * k + k, k * k + 2 * k}) {
      if (n >= lo && n < hi) check_root_and_recip(n);
    }
    check_root_and_recip(lo + rng() % (hi - lo));
  }
  // The same N through the AVX-512 kernel's 8-lane form, in shuffled batches (lanes of one batch
  // far apart in the table).
  std::shuffle(checked_ns.begin(), checked_ns.end(), rng);
  check_root_recip8(checked_ns);
  checked_ns.clear();
}

TEST_CASE("layernorm: row scale (Eq. 36-37) equals the 128-bit division form", "[layernorm]") {
  // D² just below and above 2^61·4^j and 2^62·4^j (where j steps), j < 0 (tiny variance), eps only
  // (W = 0), s = s_max and the largest statistics of a 4096-channel row.
  const uint64_t seed = nonlinear_seed(0x1a83);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  using u128 = unsigned __int128;
  for (size_t ch : {size_t{1}, size_t{3}, size_t{192}, size_t{768}, size_t{4096}}) {
    for (double eps : {0.0, 1e-6, 1e-2}) {
      std::vector<float> g(ch, 1.0f), b(ch, 0.0f);
      const LayerNormParams p = make_layernorm_params(g.data(), b.data(), ch, eps, 1.0 / 1024, nullptr, 0, 0.05, 128, 8);
      for (int i = 0; i < 4000; ++i) {
        const int s = i % 7 == 0 ? p.max_pre_shift : static_cast<int>(uniform_int(rng, -9, p.max_pre_shift));
        // S and Q of a row of |x'| <= 2^23 with C·Q >= S²: Q from a random spread around S²/C.
        const int64_t bound = static_cast<int64_t>(ch) << 23;
        const int64_t sum = i % 5 == 0 ? 0 : uniform_int(rng, -bound, bound);
        const u128 base = (u128(static_cast<__int128>(sum) * sum) + ch - 1) / ch;  // ceil(S²/C)
        const int bits = static_cast<int>(rng() % 60);
        const u128 q = std::min<u128>(base + (u128(rng()) >> (64 - bits)), u128(ch) << 46);
        if (u128(ch) * q < u128(static_cast<__int128>(sum) * sum)) continue;
        const auto sum_sq = static_cast<int64_t>(q);
        const int64_t eps_s = layernorm_detail::scaled_eps(p, s);
        const u128 w = u128(ch) * u128(sum_sq) - u128(static_cast<__int128>(sum) * sum);
        const u128 d2 = std::max<u128>(u128(ch) * (w + u128(ch) * ch * u128(eps_s)), 1);
        int b2 = 0;
        while (b2 < 128 && (d2 >> b2) > 1) ++b2;
        const int j = (b2 + 1 - 61) >> 1;
        const auto n = static_cast<uint64_t>(j >= 0 ? d2 >> (2 * j) : d2 << (-2 * j));
        const uint64_t r = fp::isqrt64(n);
        const layernorm_detail::RowScale got = layernorm_detail::row_scale(p, s, sum, sum_sq);
        INFO("C " << ch << " eps " << eps << " s " << s << " S " << sum << " Q " << sum_sq);
        REQUIRE(got.j == j);
        REQUIRE(got.recip == static_cast<int64_t>(((uint64_t{1} << 60) + r / 2) / r));
#if INTVIT_TEST_SCALE_AVX512
        // The AVX-512 kernel's split form: the scalar j and N, then Eq. 37 in a lane.
        const ScaleInput split = row_scale_input(p, s, sum, sum_sq);
        REQUIRE(split.j == j);
        REQUIRE(split.n == n);
        if (has_scale_avx512()) {
          const uint64_t lanes[8] = {n, n, n, n, n, n, n, n};
          int64_t recip[8];
          root_recip8_of(lanes, recip);
          REQUIRE(recip[i % 8] == got.recip);
        }
#endif
      }
    }
  }
}

TEST_CASE("layernorm: SIMD equals the reference at negative ties of t and of y (half-up stage, §6.6)", "[layernorm]") {
  // Narrow calls (every h_c >= 32, like the real models) take the half-up stage, which must notice
  // rows where Eq. 38 or 39 rounds a negative tie and recompute them. Small-integer rows have large
  // pre-shifts, so ñ = -odd·2^κ (a negative tie of t) is common; channels with G = 2^20, h = 32 and
  // K ≡ 0 (mod 2^32) tie in Eq. 39 at every t ≡ 0 (mod 2^12), e.g. any x equal to the row mean.
  const auto variants = test::layernorm_variants();
  const uint64_t seed = nonlinear_seed(0x1a84);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  int t_ties = 0, y_ties = 0;
  for (size_t ch : {size_t{5}, size_t{16}, size_t{17}, size_t{48}, size_t{192}}) {
    for (int bits : {8, 16}) {
      std::vector<float> gamma(ch), beta(ch);
      for (size_t i = 0; i < ch; ++i) gamma[i] = static_cast<float>(uniform_int(rng, 500, 1500) / 1000.0), beta[i] = 0.1f;
      LayerNormParams p = make_layernorm_params(gamma.data(), beta.data(), ch, 1e-6, 1.0 / 4096, nullptr, 0, 0.02,
                                                bits == 8 ? 120 : 0, bits);
      for (size_t i = 1; i < ch; i += 4) {  // y ties: w = t·2^20 + K with K ≡ 0 (mod 2^32), both signs of H
        p.out_shift[i] = 32;
        p.gamma_multiplier[i] = 1 << 20;
        p.beta_bias[i] = i % 8 == 1 ? -(int64_t{1} << 31) : (int64_t{1} << 31);  // K = H + 2^31 + z·2^32
      }
      const size_t rows = 64;
      std::vector<int32_t> in(rows * ch);
      for (size_t r = 0; r < rows; ++r) {
        const int spread = static_cast<int>(1 + rng() % 6);
        for (size_t c = 0; c < ch; ++c) in[r * ch + c] = static_cast<int32_t>(uniform_int(rng, -spread, spread));
        if (r % 4 == 0) in[r * ch] = 0, in[r * ch + ch / 2] = 0;  // a few symmetric rows: x = mean exactly
        if (r % 4 == 0) for (size_t c = 1; c + 1 < ch; c += 2) in[r * ch + c + 1] = -in[r * ch + c];
      }
      // Count the ties the rows really contain (the test must exercise them).
      for (size_t r = 0; r < rows; ++r) {
        const int32_t* x = in.data() + r * ch;
        uint32_t max_abs = 0;
        int64_t sum = 0, sq = 0;
        for (size_t c = 0; c < ch; ++c) max_abs = std::max<uint32_t>(max_abs, static_cast<uint32_t>(std::abs(x[c])));
        const int s = layernorm_detail::pre_shift_for(p, max_abs);
        if (s < 0) continue;
        for (size_t c = 0; c < ch; ++c) sum += int64_t{x[c]} * (int64_t{1} << s), sq += int64_t{x[c]} * x[c] * (int64_t{1} << (2 * s));
        const layernorm_detail::RowScale rs = layernorm_detail::row_scale(p, s, sum, sq);
        if (s < rs.j) continue;
        for (size_t c = 0; c < ch; ++c) {
          const int64_t nt = (static_cast<int64_t>(ch) * x[c] - (sum >> s)) * (int64_t{1} << (s - rs.j));
          const int64_t prod = nt * rs.recip;
          const int64_t t = fp::rounding_divide_by_pot64(prod, 30);
          if (p.out_shift[c] == 32 && t % (1 << 12) == 0) ++y_ties;
          if (prod >= 0 || (-prod) % (int64_t{1} << 30) != (int64_t{1} << 29) || p.out_shift[c] == 32 || p.out_shift[c] == 0) continue;
          // A negative tie of t: rounded half up it would be t + 1. Give channel c the K that puts an
          // output step between t·G and (t + 1)·G (w = 101·2^h - 1 at t), so that error shows in y.
          ++t_ties;
          LayerNormParams q = p;
          const int h = q.out_shift[c];
          q.gamma_multiplier[c] = std::abs(q.gamma_multiplier[c]) + 1;
          const int64_t k = (int64_t{101} << h) - 1 - t * q.gamma_multiplier[c];
          q.beta_bias[c] = k - (int64_t{1} << (h - 1)) - (int64_t{q.out_zero_point} << h);
          std::vector<uint8_t> want(ch * 2, 0xC3), got(ch * 2, 0xC3);
          layernorm_rows_ref(q, 1, x, ch, want.data(), ch);
          for (const auto& variant : variants) {
            std::fill(got.begin(), got.end(), 0xC3);
            variant.fn(q, 1, x, ch, got.data(), ch);
            INFO(variant.name << ": row " << r << " channel " << c << " t " << t);
            REQUIRE(want == got);
          }
        }
      }
      INFO("channels " << ch << " out_bits " << bits);
      for (size_t count : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{17}, rows}) {
        INFO("rows " << count);
        require_variants_equal_ref(p, count, std::vector<int32_t>(in.begin(), in.begin() + count * ch), ch, variants);
      }
    }
  }
  INFO("negative t ties " << t_ties << ", y tie candidates " << y_ties);
  CHECK(t_ties > 0);
  CHECK(y_ties > 0);
}

TEST_CASE("layernorm: SIMD equals the reference on rows whose pre-shift is below j (right shift in Eq. 38)", "[layernorm]") {
  // Rows with values near 2^23 and a large variance: s = 23 − bitlen(max |x|) is small while the
  // spread makes j = ⌊(bitlen(D²) − 61)/2⌋ larger (DeiT-S's random-weight residual rows: s = 2,
  // j = 3). Eq. 38's ñ is then RDBP64(C·x − Σx, j − s), which the AVX-512 lane stage rounds in
  // 64-bit lanes (§6.5): every j − s from 1 to 5 must occur below. A one-unit error in ñ (its
  // rounding at a negative tie) moves t by R/2^30 < 1 step of Q30, invisible in most outputs, so every
  // fifth channel sits near the row's mean (small ñ and t, ties among them) and has h_c = 0 and a
  // small G_c: its output is t·G_c + H_c itself.
  const auto variants = test::layernorm_variants();
  const uint64_t seed = nonlinear_seed(0x1a81);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  std::vector<int> downs_seen(8, 0);
  long negative_ties = 0;
  for (size_t ch : {size_t{17}, size_t{192}, size_t{384}, size_t{768}, size_t{1000}, size_t{1024}}) {
    for (int bits : {8, 16}) {
      const LayerNormParams p = params_with_unrounded_channels(rng, ch, bits, [](std::mt19937_64& r) {
        return static_cast<int32_t>(uniform_int(r, 1, 3)) * (r() % 2 ? 1 : -1);  // G_c != 0: t shows
      });
      const size_t rows = 48;
      std::vector<int32_t> in(rows * ch);
      for (size_t r = 0; r < rows; ++r) {
        const int top = 17 + static_cast<int>(r % 6);  // |x| up to 2^17 .. 2^22
        const int64_t offset = (r % 4 == 3) ? uniform_int(rng, -(1 << 20), 1 << 20) : 0;  // a common offset on some rows
        int64_t sum = 0, sum_sq = 0;
        int32_t max_abs = 0;
        for (size_t c = 0; c < ch; ++c) {
          const int64_t v = std::clamp<int64_t>(uniform_int(rng, -(int64_t{1} << top), int64_t{1} << top) + offset, -(1 << 22), 1 << 22);
          in[r * ch + c] = static_cast<int32_t>(v);
          if (c % 5 != 0) sum += v;
        }
        // Every fifth channel at the other channels' mean (± 3): C·x − Σx stays within a few C.
        const int64_t mean = sum / static_cast<int64_t>(ch - (ch + 4) / 5);
        for (size_t c = 0; c < ch; c += 5) in[r * ch + c] = static_cast<int32_t>(mean + uniform_int(rng, -3, 3));
        sum = 0;
        for (size_t c = 0; c < ch; ++c) max_abs = std::max(max_abs, std::abs(in[r * ch + c]));
        const int s = layernorm_detail::pre_shift_for(p, static_cast<uint32_t>(max_abs));
        REQUIRE(s >= 0);
        for (size_t c = 0; c < ch; ++c) {
          const int64_t xs = int64_t{in[r * ch + c]} << s;
          sum += xs;
          sum_sq += xs * xs;
        }
        const int j = layernorm_detail::row_scale(p, s, sum, sum_sq).j;
        if (j > s && j - s < static_cast<int>(downs_seen.size())) ++downs_seen[static_cast<size_t>(j - s)];
        if (j > s) {  // negative ties of RDBP64(C·x − Σx, j − s) on the rows' channels
          const int64_t sum_x = sum >> s, half = int64_t{1} << (j - s - 1);
          for (size_t c = 0; c < ch; ++c) {
            const int64_t v = static_cast<int64_t>(ch) * in[r * ch + c] - sum_x;
            if (v < 0 && (v & (2 * half - 1)) == half) ++negative_ties;
          }
        }
      }
      INFO("channels " << ch << " out_bits " << bits);
      for (size_t count : {size_t{1}, size_t{9}, rows}) {
        INFO("rows " << count);
        require_variants_equal_ref(p, count, std::vector<int32_t>(in.begin(), in.begin() + count * ch), ch, variants);
      }
    }
  }
  for (int down = 1; down <= 5; ++down) {
    INFO("rows with j - s = " << down);
    CHECK(downs_seen[static_cast<size_t>(down)] > 0);
  }
  CHECK(negative_ties > 1000);
}
