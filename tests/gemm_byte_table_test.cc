// GemmOutput::byte_table (QUANTIZATION.md §3.6, Eq. 11c): a 256-byte table applied to the u8 codes
// of Eq. 11 — in registers by the reference, qu8s8_gemm_4x64c4__avx512vnnivbmi and the amx block
// stage (VBMI), by a separate pass elsewhere — held to the tester's reference on every backend, tolerance 0.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/backend/cpu.h"
#include "kernels/error.h"
#include "kernels/gelu/gelu.h"
#include "gemm_tester.h"
#include "kernels/gemm/gemm.h"
#include "coverage.h"

using namespace intvit;
using intvit::test::Fill;
using intvit::test::GemmTester;

TEST_CASE("gemm byte table: which backends apply it in the output stage", "[gemm][byte_table]") {
  std::vector<int8_t> w(64 * 8, 1);
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) continue;
    INFO("backend " << gemm_isa_name(isa));
    const auto u8 = PackedWeights::pack(isa, GemmInput::kU8, w.data(), 64, 8, nullptr, 3);
    const auto s16 = PackedWeights::pack(isa, GemmInput::kS16, w.data(), 64, 8, nullptr, 0);
    // The amx kernels' block stage is AVX-512 where the host has it (amx-emu: its best native ISA).
    const bool amx_avx512 = (isa == GemmIsa::kAmx || isa == GemmIsa::kAmxEmu) && gemm_isa_supported(GemmIsa::kAvx512Vnni);
    const bool vbmi = (isa == GemmIsa::kAvx512Vnni || amx_avx512) && cpu_features().avx512vbmi;
    CHECK(linear_fuses_byte_table(u8) == (isa == GemmIsa::kRef || vbmi));
    CHECK(linear_fuses_byte_table(s16) == (isa == GemmIsa::kRef));
  }
  if (!cpu_features().avx512vbmi) WARN("SKIPPED the in-register byte table (avx512vnnivbmi): CPU lacks AVX512-VBMI");
}

// The coverage summary's name for qu8s8_gemm_4x64c4__avx512vnnivbmi (the in-register table).
bool byte_table_kernel_runs() { return gemm_isa_supported(GemmIsa::kAvx512Vnni) && cpu_features().avx512vbmi; }

// Every code 0..255 through the table in every path of the AVX-512 kernel: full 4 × 64 tiles, the
// partial last column group and the last m % 4 rows. K = 2 with weights (2^(1+s), 0) and bias
// 2^(1+s)·c[n] make Eq. 11 (M0 = 2^30, shift s) give exactly q = a[i][0] + c[n] (+ zp, clamped):
// pass 1 varies the code by row (c = 0), pass 2 by column (a = 0). Shifts 1, 0, −1 take the
// row-store (narrow), vector and left-shift stages; per-tensor and per-channel, zp 0 and 9.
TEST_CASE("gemm byte table: all 256 codes through the table, every tile path and stage", "[gemm][byte_table]") {
  const size_t m = 259, n = 264, k = 2;  // 64 full row tiles + 3 edge rows; 4 column groups + 8 columns
  std::vector<uint8_t> table(256);
  std::mt19937 rng(5);
  for (auto& t : table) t = static_cast<uint8_t>(rng());
  for (int shift : {1, 0, -1}) {
    for (bool per_channel : {false, true}) {
      for (int32_t zp : {0, 9}) {
        for (int pass = 0; pass < 2; ++pass) {
          const int32_t scale = 1 << (1 + shift);
          std::vector<int8_t> w(n * k, 0);
          std::vector<int32_t> bias(n), mult(n, 1 << 30), shifts(n, shift);
          std::vector<uint8_t> a(m * k, 0);
          for (size_t j = 0; j < n; ++j) {
            w[j * k] = static_cast<int8_t>(scale);
            bias[j] = pass == 1 ? scale * static_cast<int32_t>(j % 256) : 0;
          }
          for (size_t i = 0; i < m; ++i) a[i * k] = pass == 0 ? static_cast<uint8_t>(i % 256) : 0;
          std::vector<uint8_t> want(m * n);
          for (size_t i = 0; i < m; ++i) {
            for (size_t j = 0; j < n; ++j) {
              const int32_t code = (pass == 0 ? static_cast<int32_t>(i % 256) : static_cast<int32_t>(j % 256)) + zp;
              want[i * n + j] = table[static_cast<size_t>(std::min(code, 255))];
            }
          }
          const RequantParams q{mult.data(), shifts.data(), per_channel, zp, 0, 255};
          test::for_each_gemm_backend([&](GemmIsa isa) {
            INFO("backend " << gemm_isa_name(isa) << " shift " << shift << (per_channel ? " per-channel" : " per-tensor") << " zp " << zp
                            << " pass " << pass);
            const auto packed = PackedWeights::pack(isa, GemmInput::kU8, w.data(), n, k, bias.data(), 0);
            std::vector<uint8_t> got(m * n, 0xA5);
            linear(packed, m, a.data(), k, GemmOutput{got.data(), n, GemmOut::kU8, &q, false, table.data()});
            CHECK(got == want);
          });
        }
      }
    }
  }
  if (byte_table_kernel_runs()) {
    test::record_variant_ran("gemm:avx512vnnivbmi-byte-table");
  } else {
    test::record_variant_unsupported("gemm:avx512vnnivbmi-byte-table", "CPU lacks AVX-512 VNNI or VBMI");
  }
}

TEST_CASE("gemm byte table: shapes, strides, ranges and parameters vs the reference", "[gemm][byte_table]") {
  uint64_t seed = 1600;
  // fc1 of ViT-Ti (M = 197), then the small shapes of the test models and every tile edge.
  GemmTester().m(197).n(768).k(192).za(118).out(GemmOut::kU8).requant(true).per_channel(true).zero_point(121).byte_table(true)
      .seed(seed++).TestAll();
  for (size_t m : {1, 2, 3, 4, 5, 8, 17}) {
    for (size_t n : {1, 15, 16, 17, 63, 64, 65, 128, 129}) {
      GemmTester().m(m).n(n).k(37).za(200).out(GemmOut::kU8).requant(true).per_channel(n % 2 == 0).byte_table(true).seed(seed++).TestAll();
    }
  }
  GemmTester().m(13).n(150).k(70).lda(83).ldc(157).za(33).out(GemmOut::kU8).requant(true).per_channel(true).n_range(17, 130)
      .byte_table(true).seed(seed++).TestAll();
  for (int32_t zp : {-32512, -300, 0, 255, 32768}) {
    for (auto [lo, hi] : {std::pair<int, int>{1, 12}, {-3, 0}}) {
      GemmTester().m(9).n(128).k(40).za(200).extreme_bias(true).fill(Fill::kExtremeMix).out(GemmOut::kU8).requant(true)
          .per_channel(true).shifts(lo, hi).zero_point(zp).byte_table(true).seed(seed++).TestAll();
    }
  }
  GemmTester().m(12).n(100).k(64).out(GemmOut::kU8).requant(true).clamp(20, 200).zero_point(50).byte_table(true).seed(seed++).TestAll();
  GemmTester().m(11).n(70).k(48).input(GemmInput::kS16).out(GemmOut::kU8).requant(true).per_channel(true).byte_table(true)
      .seed(seed++).TestAll();
  GemmTester().m(7).n(90).lda(97).ldc(101).out(GemmOut::kU8).requant(true).per_channel(true).byte_table(true).seed(seed++)
      .TestRequantizeAll();
}

TEST_CASE("gemm byte table: the 8-bit GELU table is gelu_ref of every code", "[gemm][byte_table][gelu]") {
  for (GeluMode mode : {GeluMode::kLut, GeluMode::kIgelu, GeluMode::kShiftgelu}) {
    const GeluParams p = make_gelu_params(mode, 0.043, 141, 0.021, 17, 8);
    uint8_t table[256];
    gelu_byte_table(p, table);
    for (int q = 0; q < 256; ++q) {
      const uint8_t in = static_cast<uint8_t>(q);
      uint8_t out = 0;
      gelu_ref(p, 1, &in, &out);
      INFO(gelu_mode_name(mode) << " code " << q);
      REQUIRE(table[q] == out);
    }
  }
  uint8_t table[256];
  CHECK_THROWS_AS(gelu_byte_table(make_gelu_params(GeluMode::kLut, 0.01, 0, 0.01, 0, 16), table), Error);
}

TEST_CASE("gemm byte table: argument validation", "[gemm][byte_table]") {
  std::vector<int8_t> w(8 * 4, 1);
  std::vector<uint8_t> a(2 * 4, 1), table(256, 0);
  std::vector<int32_t> c(2 * 8, 0);
  int32_t mult = 1 << 30, shift = 1;
  const RequantParams q{&mult, &shift, false, 0, 0, 255};
  const RequantParams q16{&mult, &shift, false, 0, -32768, 32767};
  const auto pw = PackedWeights::pack(GemmIsa::kRef, GemmInput::kU8, w.data(), 8, 4, nullptr, 0);
  // Raw int32, s16 and s32 outputs have no byte codes to look up.
  CHECK_THROWS_AS(linear(pw, 2, a.data(), 4, GemmOutput{c.data(), 8, GemmOut::kS32, nullptr, false, table.data()}), Error);
  CHECK_THROWS_AS(linear(pw, 2, a.data(), 4, GemmOutput{c.data(), 8, GemmOut::kS16, &q16, false, table.data()}), Error);
  CHECK_THROWS_AS(linear(pw, 2, a.data(), 4, GemmOutput{c.data(), 8, GemmOut::kS32, &q16, false, table.data()}), Error);
  CHECK_NOTHROW(linear(pw, 2, a.data(), 4, GemmOutput{c.data(), 8, GemmOut::kU8, &q, false, table.data()}));
}
