// 16-bit softmax and attn@v (QUANTIZATION.md §4.10, Eq. 21b / 23b): SIMD == reference bit for bit,
// row mass, reference vs float64, av16 vs an exact int64 sum.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "kernels/backend/nonlinear.h"
#include "nonlinear_tester.h"

using namespace intvit;
using intvit::test::nonlinear_seed;
using intvit::test::uniform_int;

namespace {

// Named bounds against float64 softmax of the dequantized row, as |p16/32768 - p| (absolute).
// kIexp: I-BERT's polynomial is within 0.331 % of exp on (-ln2, 0]; through p(1-p) <= 1/4 that is
// <= 8.3e-4 (the 0.212 steps of 2^-8 in §4.9), plus 2^-16 of output rounding. Measured 6.8e-4.
constexpr double kMaxAbsErrIexp16 = 1e-3;
// kLut with s_in >= 16·ln2/255 (the table is indexed by the logit itself, multiplier 1, so no
// index error): table entries are rounded to integers (2^-17 of e(0), up to 25 % relative for the
// smallest), which moves Σ by up to len/2 units on long rows, and entries past index 255 weigh 0.
// Measured 1.0e-4 (8 seeds), 4.0e-4 (σ = 3, len 4096, worst of 20 seeds). (Finer s_in quantizes
// the index to s_8 = 0.0435, bounded in §4.9 by 2.09 steps of 2^-8, not here.)
constexpr double kMaxAbsErrLut16 = 1e-3;
// p16/128 and the 8-bit p of the same row share e and Σ: both round 256·e/Σ, the 8-bit one with
// F = round(2^31/Σ) (<= e/2^24 <= 0.016 off) and the 16-bit one to 1/128: <= 0.5 + 0.016 + 0.004.
constexpr double kMaxDiffVs8Bit = 0.53;

const SoftmaxMode kModes16[] = {SoftmaxMode::kIexp, SoftmaxMode::kShiftmax, SoftmaxMode::kLut};

bool report_enabled() { return std::getenv("INTVIT_TEST_REPORT") != nullptr; }

// Input rows (in accumulator units) that stress every stage: kind in [0, kInputKinds).
constexpr int kInputKinds = 9;
const char* input_kind_name(int kind) {
  constexpr const char* names[kInputKinds] = {"full int32 range", "narrow", "all equal",  "int32 min/max",
                                              "wide spread",      "ties",   "one huge", "moderate",
                                              "min/max + narrow"};
  return names[kind];
}
void fill_row(int kind, int32_t* x, size_t len, std::mt19937_64& rng) {
  for (size_t j = 0; j < len; ++j) {
    switch (kind) {
      case 0: x[j] = static_cast<int32_t>(rng()); break;
      case 1: x[j] = static_cast<int32_t>(uniform_int(rng, -3000, 3000)); break;
      case 2: x[j] = -123456; break;
      case 3: x[j] = (rng() % 2) ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max(); break;
      case 4: x[j] = static_cast<int32_t>(uniform_int(rng, -200000, 0)); break;
      case 5: x[j] = static_cast<int32_t>(uniform_int(rng, -40, 40)); break;
      case 6: x[j] = static_cast<int32_t>(uniform_int(rng, -1000, 1000)); break;
      case 7: x[j] = static_cast<int32_t>(uniform_int(rng, -300, 300)); break;
      case 8: x[j] = static_cast<int32_t>(uniform_int(rng, -10, 10)); break;
    }
  }
  if (kind == 6) x[rng() % len] = std::numeric_limits<int32_t>::max();
  if (kind == 8) {
    x[rng() % len] = std::numeric_limits<int32_t>::min();
    x[rng() % len] = std::numeric_limits<int32_t>::max();
  }
}

std::vector<double> softmax64(const int32_t* acc, size_t len, double scale) {
  const int32_t max = *std::max_element(acc, acc + len);
  std::vector<double> p(len);
  double sum = 0;
  for (size_t j = 0; j < len; ++j) sum += p[j] = std::exp((static_cast<double>(acc[j]) - max) * scale);
  for (double& v : p) v /= sum;
  return p;
}

// Every SIMD entry point of softmax_rows16 (with16; not for log2) and softmax_rows on `rows` rows of
// `in` gives the reference's output, the padding between output rows (pre-filled) included.
// Returns the 16-bit reference (empty without with16).
std::vector<uint16_t> require_variants_equal_ref(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                                                 size_t ld_out, bool with16 = true) {
  std::vector<uint16_t> ref16, simd16;
  if (with16) {
    ref16.assign(rows * ld_out, 0xA5A5), simd16.assign(rows * ld_out, 0xA5A5);
    softmax_rows16_ref(p, rows, len, in, ld_in, ref16.data(), ld_out);
    for (const auto& variant : test::softmax16_variants()) {
      INFO(variant.name);
      variant.fn(p, rows, len, in, ld_in, simd16.data(), ld_out);
      REQUIRE(ref16 == simd16);
    }
  }
  std::vector<uint8_t> ref8(rows * ld_out, 0xA5), simd8(rows * ld_out, 0xA5);
  softmax_rows_ref(p, rows, len, in, ld_in, ref8.data(), ld_out);
  for (const auto& variant : test::softmax_variants()) {
    INFO(variant.name);
    variant.fn(p, rows, len, in, ld_in, simd8.data(), ld_out);
    REQUIRE(ref8 == simd8);
  }
  return ref16;
}

}  // namespace

TEST_CASE("softmax16: params accept 16 bits, log2 is rejected", "[softmax][softmax16]") {
  for (SoftmaxMode mode : kModes16) {
    INFO("mode " << softmax_mode_name(mode));
    const SoftmaxParams p8 = make_softmax_params(mode, 0.01, 8);
    const SoftmaxParams p16 = make_softmax_params(mode, 0.01, 16);
    CHECK(p16.out_bits == 16);
    CHECK(p16.max_code == 32767);
    CHECK(p8.max_code == 255);  // the 8-bit params are unchanged
    // Only out_bits and max_code differ: the exp stage is shared.
    CHECK(p16.mode == p8.mode);
    CHECK(p16.in_multiplier == p8.in_multiplier);
    CHECK(p16.in_shift == p8.in_shift);
    CHECK(p16.poly_b == p8.poly_b);
    CHECK(p16.poly_c == p8.poly_c);
    CHECK(std::equal(std::begin(p16.exp_table), std::end(p16.exp_table), std::begin(p8.exp_table)));
  }
  CHECK_THROWS(make_softmax_params(SoftmaxMode::kLog2, 0.1, 16));
  CHECK_THROWS(make_softmax_params(SoftmaxMode::kIexp, 0.1, 12));
  CHECK_THROWS(make_softmax_params(SoftmaxMode::kLut, 0.1, 15));
  const SoftmaxParams log2 = make_softmax_params(SoftmaxMode::kLog2, 0.1, 8);
  int32_t x[3] = {1, 2, 3};
  uint16_t y[3] = {7, 7, 7};
  CHECK_THROWS(softmax_rows16_ref(log2, 1, 3, x, 3, y, 3));
  CHECK_THROWS(test::best_kernels().softmax_rows16(log2, 1, 3, x, 3, y, 3));
  for (const auto& variant : test::softmax16_variants()) {
    INFO(variant.name);
    CHECK_THROWS(variant.fn(log2, 1, 3, x, 3, y, 3));
  }
  CHECK((y[0] == 7 && y[1] == 7 && y[2] == 7));
}

TEST_CASE("softmax16: SIMD variants equal the reference bit for bit", "[softmax][softmax16]") {
  const uint64_t seed = nonlinear_seed(0x5016);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  const double scales[] = {1e-4, 3.7e-3, 0.05, 1.0, 40.0};
  // Lane-count edges of 8 / 16 (AVX2: 16 per store) and 16 (AVX-512), ViT lengths, the 4096 limit
  // and beyond it (handed to the reference).
  const size_t lens[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 197, 200, 1000, 4096, 4103};
  for (const auto& variant : test::softmax16_variants()) {
    std::mt19937_64 rng(seed);
    for (SoftmaxMode mode : kModes16) {
      for (double scale : scales) {
        const SoftmaxParams p = make_softmax_params(mode, scale, 16);
        for (size_t len : lens) {
          for (int kind = 0; kind < kInputKinds; ++kind) {
            const size_t rows = 3, ld_in = len + 5, ld_out = len + 3;  // strides > len
            std::vector<int32_t> in(rows * ld_in, 0);
            for (size_t r = 0; r < rows; ++r) fill_row(kind, in.data() + r * ld_in, len, rng);
            std::vector<uint16_t> ref(rows * ld_out, 0xA5A5), simd(rows * ld_out, 0xA5A5);
            softmax_rows16_ref(p, rows, len, in.data(), ld_in, ref.data(), ld_out);
            variant.fn(p, rows, len, in.data(), ld_in, simd.data(), ld_out);
            INFO(variant.name << ": mode " << softmax_mode_name(mode) << " scale " << scale << " len " << len
                              << " input " << input_kind_name(kind));
            REQUIRE(ref == simd);  // includes the untouched padding between rows
          }
        }
      }
    }
  }
}

TEST_CASE("softmax16: row mass, bounds and agreement with the 8-bit path", "[softmax][softmax16]") {
  const uint64_t seed = nonlinear_seed(0x3a55);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  const size_t lens[] = {1, 2, 7, 15, 16, 17, 64, 197, 1000, 4096};
  int64_t worst_mass = 0;
  double worst_vs8 = 0;
  for (SoftmaxMode mode : kModes16) {
    for (double scale : {1e-4, 3.7e-3, 0.05, 1.0}) {
      const SoftmaxParams p16 = make_softmax_params(mode, scale, 16);
      const SoftmaxParams p8 = make_softmax_params(mode, scale, 8);
      for (size_t len : lens) {
        for (int kind = 0; kind < kInputKinds; ++kind) {
          std::vector<int32_t> x(len);
          fill_row(kind, x.data(), len, rng);
          std::vector<uint16_t> y16(len);
          std::vector<uint8_t> y8(len);
          softmax_rows16_ref(p16, 1, len, x.data(), len, y16.data(), len);
          softmax_rows_ref(p8, 1, len, x.data(), len, y8.data(), len);
          int64_t sum = 0;
          double vs8 = 0;
          for (size_t j = 0; j < len; ++j) {
            sum += y16[j];
            vs8 = std::max(vs8, std::abs(std::min(y16[j] / 128.0, 255.0) - y8[j]));  // both clamp near 1
          }
          const int64_t mass_err = std::abs(sum - 32768);
          INFO("mode " << softmax_mode_name(mode) << " scale " << scale << " len " << len << " input "
                       << input_kind_name(kind) << ": Σp16 " << sum << ", max |p16/128 - p8| " << vs8);
          CHECK(*std::max_element(y16.begin(), y16.end()) <= 32767);
          CHECK(mass_err <= static_cast<int64_t>(len / 2 + 1));  // each p16 rounds to nearest
          CHECK(sum <= 32768 + static_cast<int64_t>(len / 2));   // the av16 bound
          CHECK(vs8 <= kMaxDiffVs8Bit);
          worst_mass = std::max(worst_mass, mass_err);
          worst_vs8 = std::max(worst_vs8, vs8);
        }
      }
    }
  }
  if (report_enabled()) std::printf("softmax16 worst |Σp16 - 32768| %lld, max |p16/128 - p8| %.4f\n",
                                    static_cast<long long>(worst_mass), worst_vs8);
}

TEST_CASE("softmax16: probabilities vs float64", "[softmax][softmax16]") {
  const uint64_t seed = nonlinear_seed(0xf1f1);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  struct Case {
    SoftmaxMode mode;
    double scale, bound;
  };
  const Case cases[] = {{SoftmaxMode::kIexp, 1e-4, kMaxAbsErrIexp16}, {SoftmaxMode::kIexp, 1e-3, kMaxAbsErrIexp16},
                        {SoftmaxMode::kIexp, 1e-2, kMaxAbsErrIexp16}, {SoftmaxMode::kIexp, 0.1, kMaxAbsErrIexp16},
                        {SoftmaxMode::kIexp, 1.0, kMaxAbsErrIexp16},  {SoftmaxMode::kLut, 0.05, kMaxAbsErrLut16},
                        {SoftmaxMode::kLut, 0.1, kMaxAbsErrLut16}, {SoftmaxMode::kLut, 1.0, kMaxAbsErrLut16}};
  double worst[2] = {0, 0};
  for (const Case& c : cases) {
    const SoftmaxParams p = make_softmax_params(c.mode, c.scale, 16);
    for (size_t len : {size_t{1}, size_t{2}, size_t{17}, size_t{197}, size_t{1000}, size_t{4096}}) {
      for (double sigma : {0.5, 1.0, 3.0, 8.0}) {  // moderate logits (real units)
        std::vector<int32_t> x(len);
        for (auto& v : x) v = static_cast<int32_t>(std::lround(sigma * n01(rng) / c.scale));
        std::vector<uint16_t> y(len);
        softmax_rows16_ref(p, 1, len, x.data(), len, y.data(), len);
        const std::vector<double> exact = softmax64(x.data(), len, c.scale);
        double err = 0;
        for (size_t j = 0; j < len; ++j) err = std::max(err, std::abs(y[j] / 32768.0 - std::min(exact[j], 32767.0 / 32768)));
        INFO("mode " << softmax_mode_name(c.mode) << " scale " << c.scale << " len " << len << " sigma " << sigma
                     << ": max |p16/32768 - p| " << err);
        CHECK(err <= c.bound);
        double& w = worst[c.mode == SoftmaxMode::kLut];
        w = std::max(w, err);
      }
    }
  }
  if (report_enabled()) std::printf("softmax16 max abs error: iexp %.2e, lut (s_in >= 0.05) %.2e\n", worst[0], worst[1]);
}

TEST_CASE("softmax16: edge rows (length 1, certain token, ties, empty)", "[softmax][softmax16]") {
  for (SoftmaxMode mode : kModes16) {
    for (double scale : {1e-4, 1.0}) {
      INFO("mode " << softmax_mode_name(mode) << " scale " << scale);
      const SoftmaxParams p = make_softmax_params(mode, scale, 16);
      int32_t one = 12345;
      uint16_t out = 0;
      test::best_kernels().softmax_rows16(p, 1, 1, &one, 1, &out, 1);
      CHECK(out == 32767);  // p = 1 clamps to 32767/32768
      const int32_t pair[2] = {std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()};
      uint16_t po[2];
      test::best_kernels().softmax_rows16(p, 1, 2, pair, 2, po, 2);
      CHECK(po[0] == 32767);
      CHECK(po[1] == 0);
      uint16_t untouched = 77;
      test::best_kernels().softmax_rows16(p, 1, 0, &one, 1, &untouched, 1);  // empty rows: nothing written
      CHECK(untouched == 77);
      for (const auto& variant : test::softmax16_variants()) {  // every entry point's guard, not only the best's
        INFO(variant.name);
        variant.fn(p, 3, 0, &one, 0, &untouched, 0);
        CHECK(untouched == 77);
      }
      // All tied: round(32768 / len) each (F16's 17+ bits leave no visible error).
      for (size_t len : {size_t{4}, size_t{197}, size_t{4096}}) {
        const std::vector<int32_t> tie(len, -9);
        std::vector<uint16_t> to(len);
        test::best_kernels().softmax_rows16(p, 1, len, tie.data(), len, to.data(), len);
        const uint16_t expect = static_cast<uint16_t>(std::lround(32768.0 / static_cast<double>(len)));
        INFO("len " << len);
        CHECK(std::count(to.begin(), to.end(), expect) == static_cast<std::ptrdiff_t>(len));
      }
    }
  }
}

TEST_CASE("softmax: lut parameters at the edges of the register-table kernel, 8 and 16 bits", "[softmax][softmax16]") {
  // softmax_rows*__avx512vbmi (QUANTIZATION.md §4.11) folds Eq. 7 and Eq. 20 into one rounding for
  // any shift in [-31, 31] and multiplier in [0, 2^31) (as does the AVX2 lut index), and takes tables with entries in [0, 2^18);
  // anything else runs the gather kernel. Hand-made parameters hit every case (the row max keeps
  // e(0) = 2^17, as Eq. 21b needs), on lengths around its 64-logit step.
  const uint64_t seed = nonlinear_seed(0x1ab7);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  const int shifts[] = {-31, -7, -1, 0, 1, 7, 13, 30, 31};
  const int32_t multipliers[] = {0, 1, 1 << 30, 1518500250, INT32_MAX};
  const size_t lens[] = {1, 5, 63, 64, 65, 128, 197, 255};
  for (int table_kind = 0; table_kind < 3; ++table_kind) {
    SoftmaxParams p = make_softmax_params(SoftmaxMode::kLut, 2.75e-4, 16);
    for (int i = 1; i < 256; ++i) {
      if (table_kind == 1) p.exp_table[i] = static_cast<int32_t>(uniform_int(rng, 0, 1 << 17));        // any order
      if (table_kind == 2) p.exp_table[i] = static_cast<int32_t>(uniform_int(rng, 0, (1 << 18) - 1));  // up to the limit
    }
    if (table_kind == 2) p.exp_table[200] = 1 << 18;  // outside the register planes: the gather kernel
    for (int shift : shifts) {
      for (int32_t multiplier : multipliers) {
        p.in_shift = shift;
        p.in_multiplier = multiplier;
        for (size_t len : lens) {
          const size_t rows = 3, ld = len + 3;
          std::vector<int32_t> in(rows * ld, 0);
          for (size_t r = 0; r < rows; ++r) fill_row(static_cast<int>((r + len) % kInputKinds), in.data() + r * ld, len, rng);
          INFO("table " << table_kind << " shift " << shift << " multiplier " << multiplier << " len " << len);
          require_variants_equal_ref(p, rows, len, in.data(), ld, ld);
        }
      }
    }
  }
}

TEST_CASE("softmax: edge rows of the register-table lut kernel (Eq. 20c), 8 and 16 bits", "[softmax][softmax16]") {
  // softmax_rows*__avx512vbmi indexes right-shift parameters by Eq. 20c (a product of the logit, no
  // Eq. 13 saturation; the odd logits loaded one element later) when index(2^31) >= 255, else by
  // Eq. 20b, runs rows in fours, takes a row's last <= 48 logits by vpgatherdd, bits 16-23 of the
  // table by a 16-entry vpshufb where entries 16-255 are below 2^16, and Eq. 21b as Eq. 21c. Rows
  // that stress each: one logit, all tied, every index 255 (one logit far above the rest, int32
  // extremes beyond Eq. 13's saturation), a dominant logit, ViT-like spreads; lengths 1..130 (1-3
  // rows, 64-logit steps and their tails), 197, 255..257 and 4096, the last row ending where the
  // input allocation does (ASan sees any read past it); ViT-Ti's parameters, make_softmax_params',
  // and the multipliers on both sides of Eq. 20c's condition; tables with every entry range.
  const uint64_t seed = nonlinear_seed(0x20c);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  // The smallest multiplier with index(2^31) = ((2^31·M + K) >> (31 + r)) >= 255 (Eq. 20c's condition).
  auto product_threshold = [](int r) {
    const uint64_t k = (uint64_t{1} << (30 + r)) + (uint64_t{1} << 30);
    int64_t m = 0;
    while ((((static_cast<uint64_t>(m) << 31) + k) >> (31 + r)) < 255) ++m;
    return static_cast<int32_t>(m);
  };
  std::vector<SoftmaxParams> params;
  params.push_back(make_softmax_params(SoftmaxMode::kLut, 2.75e-4, 16));
  params.push_back(make_softmax_params(SoftmaxMode::kLut, 0.3, 16));  // coarse: multiplier ~1, no right shift
  for (auto [multiplier, shift] : {std::pair{1130724812, 6}, std::pair{1963453906, 7}}) {  // ViT-Ti blocks 0 and 1
    params.push_back(params[0]);
    params.back().in_multiplier = multiplier;
    params.back().in_shift = shift;
  }
  for (int r : {1, 7}) {
    for (int32_t delta : {-1, 0}) {  // Eq. 20b just below the threshold, Eq. 20c at it
      params.push_back(params[0]);
      params.back().in_multiplier = product_threshold(r) + delta;
      params.back().in_shift = r;
    }
  }
  const size_t base_params = params.size();
  for (size_t i = 0; i < 3; ++i) {  // ViT-Ti's parameters over other tables (entry 0 stays 2^17: Σ > 0)
    params.push_back(params[2]);
    for (int e = 1; e < 256; ++e) {
      params.back().exp_table[e] = i == 0 ? 0 : i == 1 ? (1 << 18) - 1 : static_cast<int32_t>(uniform_int(rng, 0, (1 << 18) - 1));
    }
  }
  // Both sides of the vpshufb condition (entries 16-255 below 2^16): entry 16 at 2^16, and entries
  // 1-15 at the 2^18 limit over 16-255 at 2^16 - 1.
  params.push_back(params[2]);
  params.back().exp_table[16] = 1 << 16;
  params.push_back(params[2]);
  for (int e = 1; e < 256; ++e) params.back().exp_table[e] = e < 16 ? (1 << 18) - 1 : (1 << 16) - 1;
  constexpr int kRowKinds = 7;
  auto fill = [&](int kind, int32_t* x, size_t len) {
    const int32_t top = static_cast<int32_t>(uniform_int(rng, -100000, 100000));
    for (size_t j = 0; j < len; ++j) {
      switch (kind) {
        case 0: x[j] = top; break;                                                             // all tied
        case 1: x[j] = j == 0 ? top : top - (1 << 30); break;                                  // every other index 255
        case 2: x[j] = (j % 2) ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max(); break;
        case 3: x[j] = static_cast<int32_t>(uniform_int(rng, -3000, 3000)); break;             // ViT-like spread
        case 4: x[j] = static_cast<int32_t>(uniform_int(rng, -40000, 40000)); break;           // indices across the table
        case 5: x[j] = static_cast<int32_t>(rng()); break;                                     // full int32 range
        case 6: x[j] = static_cast<int32_t>(uniform_int(rng, -20000, 0)); break;               // dominant logit below
      }
    }
    if (kind == 6) x[rng() % len] = 2000000;
    if (kind == 1 && len > 1) std::swap(x[0], x[rng() % len]);
  };
  std::vector<size_t> lens;
  for (size_t len = 1; len <= 130; ++len) lens.push_back(len);
  for (size_t len : {size_t{197}, size_t{255}, size_t{256}, size_t{257}, size_t{4096}}) lens.push_back(len);
  for (size_t pi = 0; pi < params.size(); ++pi) {
    const SoftmaxParams& p = params[pi];
    for (size_t len : lens) {
      for (int kind = 0; kind < kRowKinds; ++kind) {
        if (len == 4096 && pi >= base_params) continue;  // long rows once per parameter set
        const size_t rows = 1 + (len + static_cast<size_t>(kind)) % 3, ld = len + 3;  // 1, 2 or 3 rows
        std::vector<int32_t> in(rows * ld - 3, 0);  // the last row ends the allocation
        for (size_t r = 0; r < rows; ++r) fill(kind, in.data() + r * ld, len);
        INFO("params " << pi << " (multiplier " << p.in_multiplier << ", shift " << p.in_shift << ") len " << len
                       << " rows " << rows << " kind " << kind);
        const std::vector<uint16_t> ref16 = require_variants_equal_ref(p, rows, len, in.data(), ld, ld);
        if (kind == 0) CHECK(ref16[0] == std::lround(std::min(32767.0, 32768.0 / static_cast<double>(len))));
      }
    }
  }
}

TEST_CASE("softmax: many rows of the register-table lut kernel (row groups), 8 and 16 bits", "[softmax][softmax16]") {
  // softmax_rows*__avx512vbmi runs rows in groups of four, pass by pass (every max of a group,
  // every Σ, then every normalisation), takes the next group's maxes between a group's passes, and
  // prefetches the next group's rows while it computes e. Row counts on both sides of whole groups
  // (1..9, and ViT-Ti's 197) with every row different (a max, Σ or e row taken from a neighbour
  // changes the bits), row strides above len, the last row ending the allocation (ASan sees any
  // read past it); lengths with and without a tail, at ViT-Ti's parameters and make_softmax_params'.
  const uint64_t seed = nonlinear_seed(0x9e0);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  std::vector<SoftmaxParams> params{make_softmax_params(SoftmaxMode::kLut, 2.75e-4, 16),
                                    make_softmax_params(SoftmaxMode::kLut, 0.3, 16)};
  params.push_back(params[0]);
  params.back().in_multiplier = 1130724812;  // ViT-Ti block 0 (Eq. 20c)
  params.back().in_shift = 6;
  for (const SoftmaxParams& p : params) {
    for (size_t len : {size_t{1}, size_t{5}, size_t{64}, size_t{65}, size_t{197}, size_t{255}}) {
      for (size_t rows : {size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{7}, size_t{8}, size_t{9}, size_t{197}}) {
        const size_t ld_in = len + 7, ld_out = len + 2;
        std::vector<int32_t> in(rows * ld_in - 7);  // the last row ends the allocation
        for (size_t r = 0; r < rows; ++r) {
          // Rows of different maxes and spreads: one row's max or Σ applied to another moves its bits.
          const int32_t top = static_cast<int32_t>(uniform_int(rng, -1000000, 1000000));
          const int32_t spread = static_cast<int32_t>(uniform_int(rng, 1, 60000));
          for (size_t j = 0; j < len; ++j) in[r * ld_in + j] = top - static_cast<int32_t>(uniform_int(rng, 0, spread));
        }
        INFO("multiplier " << p.in_multiplier << " shift " << p.in_shift << " len " << len << " rows " << rows);
        require_variants_equal_ref(p, rows, len, in.data(), ld_in, ld_out);
      }
    }
  }
}

TEST_CASE("softmax: the next rows' maxes inside Eq. 20 (every row's max placed), 8 and 16 bits",
          "[softmax][softmax16]") {
  // Maxes (Eq. 13) taken ahead, inside another row's Eq. 20 pass (QUANTIZATION.md §4.11):
  // softmax_rows*__avx2 and softmax_rows*__avx512 take row r + 1's beside row r's 8- / 16-logit
  // steps (then the avx2 one its last 1..7 logits); on rows of 256 logits or more
  // softmax_rows*__avx512vbmi takes row r + 4's beside row r's 64-logit steps, then its last 1..63
  // logits. Every row has one max of its own, placed at the first logit, an 8-, 16- or 64-logit
  // boundary, the last logit of the last full 8-logit step, the last full 64-logit step, the first
  // and the last logit of a tail, or anywhere (a max taken from a neighbouring row, or missing the
  // logits of a step or of the tail, changes the bits); some rows saturate Eq. 13 (int32 extremes,
  // every index 255 but the max's). Every mode (log2: 8 bits only). Short lengths around 8/16/64
  // multiples, lengths on both sides of the vbmi switch and of 16/64 multiples, ViT-B/384's 577,
  // 1025 and the 4096 limit; a single row, 2..9 rows (partial and whole groups) and 197; row strides
  // above len, the last row ending the allocation (ASan sees a read past it).
  const uint64_t seed = nonlinear_seed(0x10a6);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  std::vector<SoftmaxParams> params{make_softmax_params(SoftmaxMode::kLut, 2.75e-4, 16),  // Eq. 20b, right shift
                                    make_softmax_params(SoftmaxMode::kLut, 0.3, 16)};     // no right shift
  params.push_back(params[0]);
  params.back().in_multiplier = 1130724812;  // ViT-Ti block 0 (Eq. 20c)
  params.back().in_shift = 6;
  params.push_back(params[0]);
  params.back().in_shift = -2;  // Eq. 20b with a left shift
  for (SoftmaxMode mode : {SoftmaxMode::kIexp, SoftmaxMode::kShiftmax}) params.push_back(make_softmax_params(mode, 2.75e-4, 16));
  params.push_back(make_softmax_params(SoftmaxMode::kLog2, 2.75e-4, 4));  // 8 bits only (Eq. 22)
  std::vector<size_t> lens{1,  2,  3,  5,  7,  8,  9,  15, 16, 17, 23, 24, 25, 31, 32,
                           33, 39, 40, 41, 47, 48, 49, 63, 64, 65, 71, 127, 129, 197};  // around 8/16/64 multiples
  for (size_t len = 248; len <= 264; ++len) lens.push_back(len);
  for (size_t len : {size_t{319}, size_t{320}, size_t{321}, size_t{383}, size_t{384}, size_t{385}, size_t{447}, size_t{577},
                     size_t{1025}, size_t{4096}}) {
    lens.push_back(len);
  }
  constexpr int kRowKinds = 4;
  auto fill = [&](int kind, size_t r, int32_t* x, size_t len) {
    const size_t tail = len / 64 * 64;  // the first logit after the 64-logit steps (len itself if none)
    const size_t last_step = len >= 64 ? len - 64 + r % 64 : r % len;  // within the last 64 logits
    const size_t tail8 = len / 8 * 8;  // the first logit after the 8-logit steps (len itself if none)
    const size_t places[] = {0, 7, 8, 15, 16, 63, 64, last_step, tail, tail8 - 1, tail8,
                             len - 1, static_cast<size_t>(rng() % len)};
    // (r + len): every place on every row index across the lengths; past a short row: its last logit.
    const size_t at = std::min(places[(r + len) % std::size(places)], len - 1);
    const int32_t top = static_cast<int32_t>(uniform_int(rng, -1000000, 1000000));
    const int32_t spread = static_cast<int32_t>(uniform_int(rng, 1, 60000));
    for (size_t j = 0; j < len; ++j) {
      switch (kind) {
        case 0: x[j] = top - static_cast<int32_t>(uniform_int(rng, 1, spread)); break;      // ViT-like spread
        case 1: x[j] = std::numeric_limits<int32_t>::min() + static_cast<int32_t>(rng() % 3); break;  // Eq. 13 saturates
        case 2: x[j] = top - (1 << 30) - static_cast<int32_t>(rng() % 7); break;               // every index 255
        case 3: x[j] = static_cast<int32_t>(uniform_int(rng, std::numeric_limits<int32_t>::min(), (1 << 30) - 1)); break;
      }
    }
    x[at] = kind == 1 ? std::numeric_limits<int32_t>::max() - static_cast<int32_t>(r % 5)
          : kind == 3 ? static_cast<int32_t>(uniform_int(rng, 1 << 30, std::numeric_limits<int32_t>::max()))
                      : top;
  };
  for (const SoftmaxParams& p : params) {
    for (size_t len : lens) {
      for (size_t rows : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{5}, size_t{6}, size_t{7}, size_t{8}, size_t{9}, size_t{197}}) {
        if (rows == 197 && len > 577) continue;  // long rows in 1..9 rows
        const size_t ld_in = len + 7, ld_out = len + 2;
        std::vector<int32_t> in(rows * ld_in - 7);  // the last row ends the allocation
        for (size_t r = 0; r < rows; ++r) fill(static_cast<int>((r * 3 + len) % kRowKinds), r, in.data() + r * ld_in, len);
        INFO(softmax_mode_name(p.mode) << " multiplier " << p.in_multiplier << " shift " << p.in_shift << " len " << len
                                       << " rows " << rows);
        require_variants_equal_ref(p, rows, len, in.data(), ld_in, ld_out, p.mode != SoftmaxMode::kLog2);
      }
    }
  }
}

TEST_CASE("softmax16: dispatch matches the reference", "[softmax][softmax16]") {
  INFO("best kernels: " << nonlinear_isa_name(test::best_kernels().nonlinear));
  std::vector<int32_t> in(2 * 197);
  for (size_t j = 0; j < in.size(); ++j) in[j] = static_cast<int32_t>((j * 7919) % 1000) - 500;
  for (SoftmaxMode mode : kModes16) {
    const SoftmaxParams p = make_softmax_params(mode, 0.01, 16);
    std::vector<uint16_t> a(2 * 197), b(2 * 197);
    softmax_rows16_ref(p, 2, 197, in.data(), 197, a.data(), 197);
    test::best_kernels().softmax_rows16(p, 2, 197, in.data(), 197, b.data(), 197);
    CHECK(a == b);
  }
  std::vector<uint8_t> v(64 * 197);
  for (size_t j = 0; j < v.size(); ++j) v[j] = static_cast<uint8_t>(j * 31);
  std::vector<uint16_t> probs(2 * 197);
  softmax_rows16_ref(make_softmax_params(SoftmaxMode::kIexp, 0.01, 16), 2, 197, in.data(), 197, probs.data(), 197);
  std::vector<int32_t> a(2 * 64), b(2 * 64);
  av16_ref(2, 64, 197, probs.data(), 197, v.data(), 197, 131, a.data(), 64);
  test::best_kernels().av16(2, 64, 197, probs.data(), 197, v.data(), 197, 131, b.data(), 64);
  CHECK(a == b);
}

TEST_CASE("softmax16: av16 equals the exact int64 sum, SIMD variants equal the reference", "[softmax][softmax16][av16]") {
  const auto variants = test::av16_variants();
  const uint64_t seed = nonlinear_seed(0xa716);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  const SoftmaxParams sp = make_softmax_params(SoftmaxMode::kIexp, 0.02, 16);
  // k: tails of 8 / 16 / 32 lanes, the ViT-Ti 197, long rows; (m, n): row tails of the 2-row tile,
  // column tails of the 4-column tile, head_dim 64.
  // The outer-product AVX-512 kernel adds: k % 2 (half pair), k around its 256-k packed blocks;
  // m around its 6-row tile; n around 16-column vectors and its 64-column block.
  const size_t ks[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 197, 255, 256, 257, 513, 1000, 4096};
  const size_t shapes[][2] = {{1, 1},  {1, 4},  {2, 3},   {3, 5},   {5, 7},  {4, 64}, {3, 65},
                              {2, 2},  {6, 16}, {7, 17},  {11, 48}, {12, 63}, {13, 129}, {1, 200}};
  int64_t max_abs_softmax_acc = 0;
  for (size_t k : ks) {
    for (const auto& shape : shapes) {
      const size_t m = shape[0], n = shape[1];
      for (int prob_kind = 0; prob_kind < 3; ++prob_kind) {
        const size_t ld_p = k + 3, ld_v = k + 1, ld_acc = n + 2;  // strides > row lengths
        std::vector<uint16_t> probs(m * ld_p + 1, 0xBEEF);  // padding > 32767: must never be read
        switch (prob_kind) {
          case 0: {  // softmax rows: the sum stays below 2^24 (exact)
            std::vector<int32_t> logits(std::max<size_t>(k, 1) * m);
            for (auto& x : logits) x = static_cast<int32_t>(uniform_int(rng, -600, 600));
            softmax_rows16_ref(sp, m, k, logits.data(), k, probs.data(), ld_p);
            break;
          }
          case 1:  // arbitrary probabilities in [0, 32767] (long rows wrap mod 2^32)
            for (size_t i = 0; i < m; ++i) {
              for (size_t kk = 0; kk < k; ++kk) probs[i * ld_p + kk] = static_cast<uint16_t>(rng() % 32768);
            }
            break;
          case 2:  // extremes: every p = 32767 (the largest vpmaddwd pair sums)
            for (size_t i = 0; i < m; ++i) std::fill_n(probs.begin() + static_cast<std::ptrdiff_t>(i * ld_p), k, 32767);
            break;
        }
        std::vector<uint8_t> v(n * ld_v + 1);
        const int v_kind = static_cast<int>(rng() % 4);
        for (auto& x : v) x = v_kind == 0 ? 255 : (v_kind == 1 ? 0 : static_cast<uint8_t>(rng()));
        const int32_t zero_points[] = {0, 255, static_cast<int32_t>(rng() % 256), static_cast<int32_t>(uniform_int(rng, -100000, 100000))};
        for (int32_t zv : zero_points) {
          std::vector<int32_t> ref(m * ld_acc, -7), simd(m * ld_acc, -7);
          av16_ref(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, ref.data(), ld_acc);
          INFO("m " << m << " n " << n << " k " << k << " probs kind " << prob_kind << " v kind " << v_kind << " z " << zv);
          for (size_t i = 0; i < m; ++i) {
            for (size_t j = 0; j < n; ++j) {
              int64_t exact = 0;
              for (size_t kk = 0; kk < k; ++kk) exact += int64_t{probs[i * ld_p + kk]} * (int64_t{v[j * ld_v + kk]} - zv);
              REQUIRE(static_cast<int32_t>(static_cast<uint32_t>(exact)) == ref[i * ld_acc + j]);  // mod 2^32
              if (prob_kind == 0 && zv >= 0 && zv <= 255) {
                REQUIRE(std::abs(exact) < (int64_t{1} << 24));  // the documented bound: exact in int32
                max_abs_softmax_acc = std::max(max_abs_softmax_acc, std::abs(exact));
              }
            }
            for (size_t j = n; j < ld_acc; ++j) REQUIRE(ref[i * ld_acc + j] == -7);  // padding untouched
          }
          for (const auto& variant : variants) {
            INFO(variant.name);
            std::fill(simd.begin(), simd.end(), -7);
            variant.fn(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, simd.data(), ld_acc);
            REQUIRE(ref == simd);  // includes the untouched padding between rows
          }
        }
      }
    }
  }
  if (report_enabled()) std::printf("av16 max |acc| over softmax rows %lld (< 2^24)\n", static_cast<long long>(max_abs_softmax_acc));
}

TEST_CASE("softmax16: av16 on the attention shapes of ViT-Ti and DeiT-S, SIMD equal the reference", "[softmax][softmax16][av16]") {
  const auto variants = test::av16_variants();
  const uint64_t seed = nonlinear_seed(0xa717);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  const SoftmaxParams sp = make_softmax_params(SoftmaxMode::kLut, 0.05, 16);
  // The executor's call: one head (head_dim 64) of all 197 query rows, or a thread's row block, of
  // probabilities [T][T], v transposed [D][T] (D = 192 for ViT-Ti, 384 for DeiT-S), acc [T][D].
  const size_t t = 197;
  for (size_t d : {size_t{192}, size_t{384}}) {
    for (size_t rows : {t, size_t{99}, size_t{98}}) {
      std::vector<int32_t> logits(rows * t);
      for (auto& x : logits) x = static_cast<int32_t>(uniform_int(rng, -400, 400));
      std::vector<uint16_t> probs(rows * t);
      softmax_rows16_ref(sp, rows, t, logits.data(), t, probs.data(), t);
      std::vector<uint8_t> v_t(d * t);
      for (auto& x : v_t) x = static_cast<uint8_t>(rng());
      for (int32_t zv : {0, 255, static_cast<int32_t>(rng() % 256), -40000}) {
        const size_t off = 64;  // the second head
        std::vector<int32_t> ref(rows * d, -7);
        av16_ref(rows, 64, t, probs.data(), t, v_t.data() + off * t, t, zv, ref.data() + off, d);
        for (const auto& variant : variants) {
          INFO(variant.name << " d " << d << " rows " << rows << " z " << zv);
          std::vector<int32_t> simd(rows * d, -7);
          variant.fn(rows, 64, t, probs.data(), t, v_t.data() + off * t, t, zv, simd.data() + off, d);
          REQUIRE(ref == simd);
        }
      }
    }
  }
}
