// Integer softmax (QUANTIZATION.md §4): SIMD == reference bit for bit, reference vs float64.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend/backend.h"
#include "kernels/error.h"
#include "kernels/softmax/av16-amx.h"
#include "nonlinear_tester.h"

using namespace intvit;
using intvit::test::nonlinear_seed;
using intvit::test::uniform_int;

namespace {

// Named bounds (QUANTIZATION.md §4.7). Max |p̂ - 256·p| in output steps (1/256), the half step
// of the uint8 output included.
// kIexp: I-BERT's polynomial is within 0.331 % of exp on (-ln2, 0]; p(1-p) <= 1/4 turns that
// into <= 0.212 steps, plus < 0.02 from the Q31 reciprocal and the 2^18 narrowing. Measured 0.65.
constexpr double kMaxErrStepsIexp = 0.75;
// kShiftmax: linear 2^r (up to 6.1 % high) and 1.4375 for log2(e) (0.36 % of the exponent).
// Measured 4.35 over 8 seeds.
constexpr double kMaxErrStepsShiftmax = 5.0;
// kLut: (x - max) requantized by Eq. 7 to steps of s_8 = 16·ln2/255 = 0.0435 is off by up to
// 0.75 step (0.5 from RDBP, 0.25 from SRDHM's own rounding at shift 1), so a logit moves by
// <= 0.0326 and p by <= p(1-p)·0.0326 <= 2.09 steps; plus the half output step. Measured 2.16.
constexpr double kMaxErrStepsLut = 2.6;
// Row mass against the ideal uint8 quantizer p̃ = min(255, round(256·p)): |Σp̂ - Σp̃| per row,
// divided by sqrt(Σ n_g²) over groups of equal logits (sqrt(len) when all differ: independent
// rounding errors). A truncating normaliser loses about len/512, i.e. 0.027·sqrt(len) at
// len = 197, and fails at once. Measured 0.0028 / 0.0042 / 0.0019.
constexpr double kMassSlackIexp = 0.005;
constexpr double kMassSlackShiftmax = 0.01;
constexpr double kMassSlackLut = 0.005;

const SoftmaxMode kProbModes[] = {SoftmaxMode::kIexp, SoftmaxMode::kShiftmax, SoftmaxMode::kLut};

double max_err_bound(SoftmaxMode m) {
  return m == SoftmaxMode::kIexp ? kMaxErrStepsIexp : (m == SoftmaxMode::kShiftmax ? kMaxErrStepsShiftmax : kMaxErrStepsLut);
}
double mass_slack(SoftmaxMode m) {  // per sqrt(Σ n_g²), see above
  return m == SoftmaxMode::kIexp ? kMassSlackIexp : (m == SoftmaxMode::kShiftmax ? kMassSlackShiftmax : kMassSlackLut);
}

bool report_enabled() { return std::getenv("INTVIT_TEST_REPORT") != nullptr; }

int32_t to_acc(double real, double scale) {
  const double q = std::round(real / scale);
  return static_cast<int32_t>(std::clamp(q, -2147483648.0, 2147483647.0));
}

// Row generators in real (logit) units; the accumulators are round(real / s_in).
enum class RowKind { kGaussian1, kGaussian3, kGaussian8, kConstant, kDominant, kVeryNegative, kTwoLevels };
const RowKind kRowKinds[] = {RowKind::kGaussian1, RowKind::kGaussian3, RowKind::kGaussian8, RowKind::kConstant,
                             RowKind::kDominant, RowKind::kVeryNegative, RowKind::kTwoLevels};
const char* row_kind_name(RowKind k) {
  switch (k) {
    case RowKind::kGaussian1: return "gaussian(1)";
    case RowKind::kGaussian3: return "gaussian(3)";
    case RowKind::kGaussian8: return "gaussian(8)";
    case RowKind::kConstant: return "constant";
    case RowKind::kDominant: return "one dominant logit";
    case RowKind::kVeryNegative: return "very negative spread";
    case RowKind::kTwoLevels: return "two levels";
  }
  return "?";
}

std::vector<double> make_row(RowKind kind, size_t len, std::mt19937_64& rng) {
  std::vector<double> r(len);
  std::normal_distribution<double> n01(0, 1);
  std::uniform_real_distribution<double> u01(0, 1);
  for (size_t j = 0; j < len; ++j) {
    switch (kind) {
      case RowKind::kGaussian1: r[j] = n01(rng); break;
      case RowKind::kGaussian3: r[j] = 3 * n01(rng); break;
      case RowKind::kGaussian8: r[j] = 8 * n01(rng); break;
      case RowKind::kConstant: r[j] = 1.25; break;
      case RowKind::kDominant: r[j] = n01(rng); break;
      case RowKind::kVeryNegative: r[j] = -1000 * u01(rng) - 50; break;
      case RowKind::kTwoLevels: r[j] = (j % 3 == 0) ? 2.0 : -2.0; break;
    }
  }
  if (kind == RowKind::kDominant) r[rng() % len] = 25;
  if (kind == RowKind::kVeryNegative) r[rng() % len] = -50;  // the max, far above the rest
  return r;
}

// float64 softmax of the dequantized accumulators.
std::vector<double> softmax64(const std::vector<int32_t>& acc, double scale) {
  const int32_t max = *std::max_element(acc.begin(), acc.end());
  std::vector<double> p(acc.size());
  double sum = 0;
  for (size_t j = 0; j < acc.size(); ++j) sum += p[j] = std::exp((static_cast<double>(acc[j]) - max) * scale);
  for (double& v : p) v /= sum;
  return p;
}

using SoftmaxFn = decltype(softmax_rows_ref);

void run_both(SoftmaxFn* simd_fn, const SoftmaxParams& p, size_t rows, size_t len, const std::vector<int32_t>& in,
              size_t ld_in, size_t ld_out, std::vector<uint8_t>& ref, std::vector<uint8_t>& simd) {
  ref.assign(rows * ld_out, 0xA5);
  simd.assign(rows * ld_out, 0xA5);
  softmax_rows_ref(p, rows, len, in.data(), ld_in, ref.data(), ld_out);
  simd_fn(p, rows, len, in.data(), ld_in, simd.data(), ld_out);
}

}  // namespace

TEST_CASE("softmax: mode names parse and round-trip", "[softmax]") {
  for (const char* name : {"iexp", "shiftmax", "log2", "lut"}) CHECK(std::string(softmax_mode_name(parse_softmax_mode(name))) == name);
  CHECK_THROWS(parse_softmax_mode("exp"));
  CHECK_THROWS(make_softmax_params(SoftmaxMode::kIexp, 0.0, 8));
  CHECK_THROWS(make_softmax_params(SoftmaxMode::kIexp, 0.1, 4));
  CHECK_THROWS(make_softmax_params(SoftmaxMode::kLog2, 0.1, 9));
}

TEST_CASE("softmax: SIMD variants equal the reference bit for bit", "[softmax]") {
  const uint64_t seed = nonlinear_seed(0x50f7);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  const double scales[] = {1e-4, 3.7e-3, 0.05, 1.0, 40.0};
  // Lane-count edges of 8 (AVX2) and 16 (AVX-512) lanes, ViT lengths, the 4096 limit and beyond it
  // (where the SIMD kernels hand rows to the reference).
  const size_t lens[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 197, 200, 1000, 4096, 4103};
  std::vector<uint8_t> ref, simd;
  for (const auto& variant : test::softmax_variants()) {
    std::mt19937_64 rng(seed);
    for (SoftmaxMode mode : {SoftmaxMode::kIexp, SoftmaxMode::kShiftmax, SoftmaxMode::kLut, SoftmaxMode::kLog2}) {
      for (int bits : {1, 4, 8}) {
        if (bits != 8 && mode != SoftmaxMode::kLog2) continue;
        for (double scale : scales) {
          const SoftmaxParams p = make_softmax_params(mode, scale, bits);
          for (size_t len : lens) {
            for (int kind = 0; kind < 6; ++kind) {
              const size_t rows = 3, ld_in = len + 5, ld_out = len + 3;
              std::vector<int32_t> in(rows * ld_in);
              for (auto& v : in) {
                switch (kind) {
                  case 0: v = static_cast<int32_t>(rng()); break;                          // full int32 range
                  case 1: v = static_cast<int32_t>(uniform_int(rng, -3000, 3000)); break;  // narrow
                  case 2: v = 77; break;                                                   // constant
                  case 3: v = (rng() % 2) ? INT32_MIN : INT32_MAX; break;                  // extremes
                  case 4: v = static_cast<int32_t>(uniform_int(rng, -200000, 0)); break;   // wide spread
                  case 5: v = static_cast<int32_t>(uniform_int(rng, -40, 40)); break;      // many ties
                }
              }
              run_both(variant.fn, p, rows, len, in, ld_in, ld_out, ref, simd);
              INFO(variant.name << ": mode " << softmax_mode_name(mode) << " bits " << bits << " scale " << scale
                                << " len " << len << " input kind " << kind);
              REQUIRE(ref == simd);  // includes the untouched padding between rows
            }
          }
        }
      }
    }
  }
}

TEST_CASE("softmax: every backend's kernel set holds its nonlinear variant, and dispatch matches the reference", "[softmax]") {
  const CpuFeatures& cpu = cpu_features();
  const NonlinearIsa best = cpu.avx512 ? NonlinearIsa::kAvx512 : (cpu.avx2 ? NonlinearIsa::kAvx2 : NonlinearIsa::kRef);
  CHECK(nonlinear_isa_of(GemmIsa::kRef) == NonlinearIsa::kRef);
  CHECK(nonlinear_isa_of(GemmIsa::kAvx2) == NonlinearIsa::kAvx2);
  CHECK(nonlinear_isa_of(GemmIsa::kAvxVnni) == NonlinearIsa::kAvx2);
  CHECK(nonlinear_isa_of(GemmIsa::kAvx512Vnni) == NonlinearIsa::kAvx512);
  CHECK(nonlinear_isa_of(GemmIsa::kOneDnn) == best);
  CHECK(nonlinear_isa_of(GemmIsa::kAmx) == NonlinearIsa::kAvx512);
  CHECK(nonlinear_isa_of(GemmIsa::kAmxEmu) == best);
  CHECK(test::best_kernels().nonlinear == best);
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) {
      CHECK_THROWS_AS(kernel_set(isa), Error);
      continue;
    }
    const KernelSet k = kernel_set(isa);
    INFO("backend " << gemm_isa_name(isa));
    CHECK(k.gemm == isa);
    CHECK(nonlinear_isa_supported(k.nonlinear));
    const bool ref = k.nonlinear == NonlinearIsa::kRef, avx2 = k.nonlinear == NonlinearIsa::kAvx2;
    // softmax (8 and 16 bits), av16 and GELU take the build with one more extension where the CPU
    // has it (VBMI, VNNI); the tile backends run av16 on (emulated) tiles.
    const bool vbmi = cpu.avx512vbmi;
    CHECK(k.softmax_rows == (ref ? softmax_rows_ref : avx2 ? softmax_rows__avx2 : vbmi ? softmax_rows__avx512vbmi : softmax_rows__avx512));
    CHECK(k.softmax_rows16 ==
          (ref ? softmax_rows16_ref : avx2 ? softmax_rows16__avx2 : vbmi ? softmax_rows16__avx512vbmi : softmax_rows16__avx512));
    CHECK(k.av_log2 == (ref ? av_log2_ref : avx2 ? av_log2__avx2 : av_log2__avx512));
    // avx2 runs av16__avx2 even on an AVX-VNNI CPU (a forced backend is that ISA everywhere).
    const GemmIsa native = isa == GemmIsa::kOneDnn || isa == GemmIsa::kAmxEmu ? best_native_gemm_isa() : isa;
    const auto av16_avx2 = native == GemmIsa::kAvxVnni ? av16__avxvnni : av16__avx2;
    const auto av16_simd = avx2 ? av16_avx2 : (cpu.avx512vnni ? av16__avx512vnni : av16__avx512);
    const auto av16_want = isa == GemmIsa::kAmx ? av16__amx : isa == GemmIsa::kAmxEmu ? av16__amxemu : ref ? av16_ref : av16_simd;
    CHECK(k.av16 == av16_want);
    CHECK(k.gelu == (ref ? gelu_ref : avx2 ? gelu__avx2 : cpu.avx512vbmi ? gelu__avx512vbmi : gelu__avx512));
    CHECK(k.layernorm_rows == (ref ? layernorm_rows_ref : avx2 ? layernorm_rows__avx2 : layernorm_rows__avx512));
  }
  const SoftmaxParams p = make_softmax_params(SoftmaxMode::kIexp, 0.01, 8);
  std::vector<int32_t> in(197);
  for (size_t j = 0; j < in.size(); ++j) in[j] = static_cast<int32_t>((j * 7919) % 1000) - 500;
  std::vector<uint8_t> a(197), b(197);
  softmax_rows_ref(p, 1, 197, in.data(), 197, a.data(), 197);
  test::best_kernels().softmax_rows(p, 1, 197, in.data(), 197, b.data(), 197);
  CHECK(a == b);
}

TEST_CASE("softmax: probabilities vs float64 (max error, row mass)", "[softmax]") {
  const uint64_t seed = nonlinear_seed(0xa77e);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  const double scales[] = {1e-4, 1e-3, 1e-2, 0.1, 1.0};
  const size_t lens[] = {1, 2, 197, 4096};
  for (SoftmaxMode mode : kProbModes) {
    double worst_err = 0, worst_mass = 0, worst_abs_mass_realistic = 0;
    for (double scale : scales) {
      const SoftmaxParams p = make_softmax_params(mode, scale, 8);
      for (size_t len : lens) {
        for (RowKind kind : kRowKinds) {
          std::vector<int32_t> acc(len);
          const std::vector<double> real = make_row(kind, len, rng);
          for (size_t j = 0; j < len; ++j) acc[j] = to_acc(real[j], scale);
          std::vector<uint8_t> out(len);
          softmax_rows_ref(p, 1, len, acc.data(), len, out.data(), len);
          const std::vector<double> exact = softmax64(acc, scale);
          double err = 0, sum_out = 0, sum_ideal = 0;
          for (size_t j = 0; j < len; ++j) {
            const double target = std::min(256 * exact[j], 255.0);
            err = std::max(err, std::abs(out[j] - target));
            sum_out += out[j] / 256.0;
            sum_ideal += std::min(std::round(256 * exact[j]), 255.0) / 256.0;
          }
          // Equal logits round alike, so errors are independent per group of equal logits: scale
          // by sqrt(Σ group²) (= sqrt(len) when all differ).
          std::vector<int32_t> sorted = acc;
          std::sort(sorted.begin(), sorted.end());
          double group_sq = 0;
          for (size_t a = 0, b = 0; a < len; a = b) {
            while (b < len && sorted[b] == sorted[a]) ++b;
            group_sq += static_cast<double>(b - a) * static_cast<double>(b - a);
          }
          const double mass = std::abs(sum_out - sum_ideal) / std::sqrt(group_sq);
          INFO("mode " << softmax_mode_name(mode) << " scale " << scale << " len " << len << " rows "
                       << row_kind_name(kind) << ": max err " << err << " steps, row sum " << sum_out
                       << " (ideal uint8 " << sum_ideal << ")");
          CHECK(err <= max_err_bound(mode));
          CHECK(mass <= mass_slack(mode));
          worst_err = std::max(worst_err, err);
          worst_mass = std::max(worst_mass, mass);
          if (len == 197 && kind == RowKind::kGaussian3) worst_abs_mass_realistic = std::max(worst_abs_mass_realistic, std::abs(sum_out - 1));
        }
      }
    }
    if (report_enabled()) {
      std::printf("softmax %-8s max err %.3f steps, mass drift %.4f·sqrt(len), |row sum - 1| (L=197, σ=3) %.4f\n",
                  softmax_mode_name(mode), worst_err, worst_mass, worst_abs_mass_realistic);
    }
  }
}

TEST_CASE("softmax: edge rows (length 1, certain token, all tied)", "[softmax]") {
  for (SoftmaxMode mode : kProbModes) {
    for (double scale : {1e-4, 1.0}) {
      INFO("mode " << softmax_mode_name(mode) << " scale " << scale);
      const SoftmaxParams p = make_softmax_params(mode, scale, 8);
      int32_t one = 12345;
      uint8_t out = 0;
      softmax_rows_ref(p, 1, 1, &one, 1, &out, 1);
      CHECK(out == 255);  // p = 1 clamps to 255/256
      const int32_t pair[2] = {INT32_MAX, INT32_MIN};  // e^-huge: a certain token
      uint8_t po[2];
      softmax_rows_ref(p, 1, 2, pair, 2, po, 2);
      CHECK(po[0] == 255);
      CHECK(po[1] == 0);
      uint8_t untouched = 77;
      test::best_kernels().softmax_rows(p, 1, 0, &one, 1, &untouched, 1);  // empty rows: nothing written
      CHECK(untouched == 77);
      for (const auto& variant : test::softmax_variants()) {  // every entry point's guard, not only the best's
        INFO(variant.name);
        variant.fn(p, 3, 0, &one, 0, &untouched, 0);
        CHECK(untouched == 77);
      }
      const int32_t tie[4] = {-9, -9, -9, -9};
      uint8_t to[4];
      softmax_rows_ref(p, 1, 4, tie, 4, to, 4);
      for (uint8_t v : to) CHECK(v == 64);
    }
  }
}

TEST_CASE("softmax: log2 codes vs float64 (code error, row mass)", "[softmax]") {
  const uint64_t seed = nonlinear_seed(0x1095);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  int worst_code_err = 0;
  double worst_mass_lo = 1, worst_mass_hi = 0;
  for (int bits : {4, 8}) {
    for (double scale : {1e-4, 1e-2, 1.0}) {
      const SoftmaxParams p = make_softmax_params(SoftmaxMode::kLog2, scale, bits);
      for (size_t len : {size_t{1}, size_t{2}, size_t{197}, size_t{4096}}) {
        for (RowKind kind : kRowKinds) {
          std::vector<int32_t> acc(len);
          const std::vector<double> real = make_row(kind, len, rng);
          for (size_t j = 0; j < len; ++j) acc[j] = to_acc(real[j], scale);
          std::vector<uint8_t> codes(len);
          softmax_rows_ref(p, 1, len, acc.data(), len, codes.data(), len);
          const std::vector<double> exact = softmax64(acc, scale);
          double mass = 0, dropped = 0;
          for (size_t j = 0; j < len; ++j) {
            // FQ-ViT log_round(1/p): floor(log2 x) + 1 when x >= 1.5·2^floor, capped at the max code.
            const double x = 1 / exact[j];
            const double fl = std::floor(std::log2(x));
            const double ideal = std::min<double>(fl + ((x - std::exp2(fl)) >= std::exp2(fl - 1) ? 1 : 0), p.max_code);
            const int err = std::abs(codes[j] - static_cast<int>(ideal));
            INFO("mode log2 bits " << bits << " scale " << scale << " len " << len << " rows " << row_kind_name(kind)
                                   << " p " << exact[j] << " code " << int(codes[j]) << " ideal " << ideal);
            if (codes[j] == p.max_code && ideal < p.max_code - 1) {
              REQUIRE(exact[j] < 3e-6);  // e underflowed to 0 (exp(d) < 0.5 / 190,429): weight 0
            } else {
              REQUIRE(err <= 1);  // off by one only next to a rounding boundary (i-exp error)
            }
            if (codes[j] < p.max_code) worst_code_err = std::max(worst_code_err, err);
            if (codes[j] < p.max_code) mass += std::exp2(-codes[j]);
            else dropped += exact[j];
          }
          // Each kept weight 2^-c lies in (0.75·p, 1.5·p] up to the i-exp error.
          INFO("bits " << bits << " scale " << scale << " len " << len << " rows " << row_kind_name(kind)
                       << " mass " << mass << " dropped " << dropped);
          CHECK(mass <= 1.5 * 1.002);
          CHECK(mass >= 0.75 * (1 - dropped) * 0.998);
          worst_mass_lo = std::min(worst_mass_lo, mass);
          worst_mass_hi = std::max(worst_mass_hi, mass);
        }
      }
    }
  }
  if (report_enabled()) {
    std::printf("softmax log2     max code error %d, row mass in [%.3f, %.3f]\n", worst_code_err, worst_mass_lo, worst_mass_hi);
  }
}

TEST_CASE("softmax: av_log2 equals the exact shift-add sum, SIMD variants equal the reference", "[softmax]") {
  const auto variants = test::av_log2_variants();
  const uint64_t seed = nonlinear_seed(0xa5a5);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  for (int bits : {1, 4, 8}) {
    const SoftmaxParams p = make_softmax_params(SoftmaxMode::kLog2, 0.01, bits);
    for (size_t k : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{15}, size_t{16}, size_t{24}, size_t{33},
                     size_t{197}, size_t{1100}, size_t{2071}}) {
      const size_t m = 5, n = 7, ld_codes = k + 3, ld_v = k + 1, ld_acc = n + 2;
      // Codes from real softmax rows (so the sum fits), plus one row of arbitrary codes (wraps).
      std::vector<int32_t> logits(m * k);
      for (auto& v : logits) v = static_cast<int32_t>(uniform_int(rng, -800, 800));
      std::vector<uint8_t> codes(m * ld_codes, 0);
      softmax_rows_ref(p, m - 1, k, logits.data(), k, codes.data(), ld_codes);
      for (size_t kk = 0; kk < k; ++kk) codes[(m - 1) * ld_codes + kk] = static_cast<uint8_t>(rng() % (p.max_code + 1));
      std::vector<uint8_t> v(n * ld_v);
      for (auto& x : v) x = static_cast<uint8_t>(rng());
      const int32_t zv = static_cast<int32_t>(rng() % 256);
      std::vector<int32_t> ref(m * ld_acc, -7), simd(m * ld_acc, -7);
      av_log2_ref(p, m, n, k, codes.data(), ld_codes, v.data(), ld_v, zv, ref.data(), ld_acc);
      INFO("bits " << bits << " k " << k);
      for (size_t i = 0; i + 1 < m; ++i) {
        for (size_t j = 0; j < n; ++j) {
          int64_t exact = 0;  // Σ 2^(22 - c)·(v - zv), weight 0 for the max code and c > 22
          for (size_t kk = 0; kk < k; ++kk) {
            const int c = codes[i * ld_codes + kk];
            if (c < p.max_code && c <= kAvLog2Shift) exact += (int64_t{v[j * ld_v + kk]} - zv) * (int64_t{1} << (kAvLog2Shift - c));
          }
          REQUIRE(exact == ref[i * ld_acc + j]);
        }
      }
      for (const auto& variant : variants) {
        INFO(variant.name);
        std::fill(simd.begin(), simd.end(), -7);
        variant.fn(p, m, n, k, codes.data(), ld_codes, v.data(), ld_v, zv, simd.data(), ld_acc);
        REQUIRE(ref == simd);  // includes the untouched padding between rows
      }
    }
  }
}

TEST_CASE("softmax: av_log2_renormalize divides each row by its quantized weight sum", "[softmax]") {
  const uint64_t seed = nonlinear_seed(0x5eed);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  for (int bits : {1, 4, 8}) {
    const SoftmaxParams p = make_softmax_params(SoftmaxMode::kLog2, 0.01, bits);
    const int32_t limit = std::min(p.max_code, kAvLog2Shift + 1);
    for (size_t k : {size_t{1}, size_t{9}, size_t{197}, size_t{2071}}) {
      const size_t m = 4, n = 7, ld_codes = k + 3, ld_v = k + 1, ld_acc = n + 2;
      std::vector<int32_t> logits(m * k);
      for (auto& x : logits) x = static_cast<int32_t>(uniform_int(rng, -800, 800));
      std::vector<uint8_t> codes(m * ld_codes, 0);
      softmax_rows_ref(p, m - 1, k, logits.data(), k, codes.data(), ld_codes);
      for (size_t kk = 0; kk < k; ++kk) codes[(m - 1) * ld_codes + kk] = static_cast<uint8_t>(p.max_code);  // W = 0
      std::vector<uint8_t> v(n * ld_v);
      for (auto& x : v) x = static_cast<uint8_t>(rng());
      // Row n-1 of v is constant: its attn@v is 100 × the row's weight sum, so after
      // renormalization it must be 100 · 2^22 (weights summing to exactly 1).
      for (size_t kk = 0; kk < k; ++kk) v[(n - 1) * ld_v + kk] = 140;
      const int32_t zv = 40;
      std::vector<int32_t> acc(m * ld_acc, -7);
      av_log2_ref(p, m, n, k, codes.data(), ld_codes, v.data(), ld_v, zv, acc.data(), ld_acc);
      const std::vector<int32_t> before = acc;
      av_log2_renormalize(p, m, n, k, codes.data(), ld_codes, acc.data(), ld_acc);
      INFO("bits " << bits << " k " << k);
      for (size_t i = 0; i + 1 < m; ++i) {
        int64_t w = 0;
        for (size_t kk = 0; kk < k; ++kk) {
          const int c = codes[i * ld_codes + kk];
          if (c < limit) w += int64_t{1} << (kAvLog2Shift - c);
        }
        if (w == 0) {  // 1-bit codes keep only weights >= 0.75: a flat row has none
          for (size_t j = 0; j < ld_acc; ++j) REQUIRE(acc[i * ld_acc + j] == before[i * ld_acc + j]);
          continue;
        }
        for (size_t j = 0; j < n; ++j) {
          const double exact = static_cast<double>(before[i * ld_acc + j]) * std::ldexp(1.0, kAvLog2Shift) / static_cast<double>(w);
          REQUIRE(std::abs(acc[i * ld_acc + j] - exact) <= 1.0);  // R's rounding (≤ 2^-31 relative) + final rounding
        }
        REQUIRE(std::abs(acc[i * ld_acc + n - 1] - 100 * (int64_t{1} << kAvLog2Shift)) <= 1);
        REQUIRE(acc[i * ld_acc + n] == -7);  // padding untouched
      }
      for (size_t j = 0; j < ld_acc; ++j) REQUIRE(acc[(m - 1) * ld_acc + j] == before[(m - 1) * ld_acc + j]);
    }
  }
}
