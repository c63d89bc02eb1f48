// The amx backend (kernels/gemm/*-amx*.cc): the tile emulation against the instruction
// definitions, then the tile kernels against the independent reference of gemm_tester.h on the
// shapes that stress their tiling (tiles of 16/32 rows, 16/32 columns, K-steps of 64), every
// zero-point combination and the extremes of the s16 byte split (QUANTIZATION.md Eq. 12).
// amx-emu runs everywhere; amx (the real instructions) runs the same cases where the CPU and OS
// allow it — where not, the hidden [.amx-real] case (CTest gemm_amx_real_tiles) reports "not run".
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "coverage.h"
#include "kernels/backend/cpu.h"
#include "kernels/error.h"
#include "kernels/gemm/amx-pack-vnni4.h"
#include "kernels/gemm/amx-row-sums.h"
#include "kernels/gemm/amx-split-planes.h"
#include "gemm_tester.h"
#include "kernels/gemm/amx-tile.h"
#include "kernels/gemm/gemm-kernels.h"
#include "kernels/backend/backend.h"
#include "kernels/softmax/av16-amx.h"

namespace {

using intvit::GemmInput;
using intvit::GemmIsa;
using intvit::GemmOut;
using intvit::test::Fill;
using intvit::test::GemmTester;
namespace amx = intvit::gemm::amx;

// The amx backends this host runs: the emulation always, the real tiles where usable.
std::vector<GemmIsa> amx_backends() {
  std::vector<GemmIsa> v{GemmIsa::kAmxEmu};
  if (intvit::gemm_isa_supported(GemmIsa::kAmx)) v.push_back(GemmIsa::kAmx);
  return v;
}

// C[m][n] += Σ A[m][4q+i]·B[q][4n+i] straight from the SDM pseudocode, in int64 then wrapped.
template <typename TA, typename TB>
void naive_dot(int rows, int colsb_c, int colsb_a, const uint8_t (&a)[16][64], const uint8_t (&b)[16][64],
               int32_t (&c)[16][16]) {
  for (int m = 0; m < rows; ++m) {
    for (int n = 0; n < colsb_c / 4; ++n) {
      int64_t acc = c[m][n];
      for (int q = 0; q < colsb_a / 4; ++q) {
        for (int i = 0; i < 4; ++i) acc += int64_t{static_cast<TA>(a[m][4 * q + i])} * static_cast<TB>(b[q][4 * n + i]);
      }
      c[m][n] = static_cast<int32_t>(static_cast<uint32_t>(acc));
    }
  }
}

TEST_CASE("amx tile emulation: the four tdpb*d sign variants, partial tiles, zero-fill, faults", "[gemm][amx]") {
  std::mt19937_64 rng(7);
  for (amx::Sign sign : {amx::Sign::kSS, amx::Sign::kSU, amx::Sign::kUS, amx::Sign::kUU}) {
    for (auto [rows, colsb_c, colsb_a] : {std::tuple{16, 64, 64}, {1, 4, 4}, {7, 20, 36}, {16, 64, 8}, {3, 64, 64}}) {
      INFO("sign " << static_cast<int>(sign) << " rows " << rows << " colsb C " << colsb_c << " colsb A " << colsb_a);
      amx::TileConfig cfg;
      cfg.rows[0] = static_cast<uint8_t>(rows), cfg.colsb[0] = static_cast<uint16_t>(colsb_c);      // C
      cfg.rows[1] = static_cast<uint8_t>(rows), cfg.colsb[1] = static_cast<uint16_t>(colsb_a);      // A
      cfg.rows[2] = static_cast<uint8_t>(colsb_a / 4), cfg.colsb[2] = static_cast<uint16_t>(colsb_c);  // B
      amx::emu_configure(cfg);
      uint8_t a[16][64], b[16][64];
      int32_t c[16][16], want[16][16] = {};
      for (auto& row : a) for (auto& v : row) v = rng() & 1 ? static_cast<uint8_t>(rng()) : (rng() & 1 ? 0x80 : 0xFF);
      for (auto& row : b) for (auto& v : row) v = rng() & 1 ? static_cast<uint8_t>(rng()) : (rng() & 1 ? 0x80 : 0x7F);
      for (int m = 0; m < 16; ++m)
        for (int n = 0; n < 16; ++n) c[m][n] = m < rows && n < colsb_c / 4 ? static_cast<int32_t>(rng()) : 0;
      for (int m = 0; m < 16; ++m)
        for (int n = 0; n < 16; ++n) want[m][n] = c[m][n];
      amx::emu_load(0, c, 64);
      amx::emu_load(1, a, 64);
      amx::emu_load(2, b, 64);
      amx::emu_dot(sign, 0, 1, 2);
      switch (sign) {
        case amx::Sign::kSS: naive_dot<int8_t, int8_t>(rows, colsb_c, colsb_a, a, b, want); break;
        case amx::Sign::kSU: naive_dot<int8_t, uint8_t>(rows, colsb_c, colsb_a, a, b, want); break;
        case amx::Sign::kUS: naive_dot<uint8_t, int8_t>(rows, colsb_c, colsb_a, a, b, want); break;
        case amx::Sign::kUU: naive_dot<uint8_t, uint8_t>(rows, colsb_c, colsb_a, a, b, want); break;
      }
      int32_t got[16][16];
      for (auto& row : got) for (auto& v : row) v = 0x5A5A5A5A;
      amx::emu_store(0, got, 64);
      for (int m = 0; m < 16; ++m) {
        for (int n = 0; n < 16; ++n) {
          INFO("m " << m << " n " << n);
          if (m < rows && n < colsb_c / 4) {
            REQUIRE(got[m][n] == want[m][n]);
          } else {
            REQUIRE(got[m][n] == 0x5A5A5A5A);  // store writes rows × colsb only
          }
        }
      }
    }
  }
  // The accumulator wraps modulo 2^32 (no saturation): 16 quads of 255·255·4 onto INT32_MAX.
  amx::emu_configure(amx::full_tiles_config());
  uint8_t ones[16][64];
  std::memset(ones, 0xFF, sizeof ones);
  int32_t c[16][16];
  for (auto& row : c) for (auto& v : row) v = INT32_MAX;
  amx::emu_load(0, c, 64);
  amx::emu_load(1, ones, 64);
  amx::emu_load(2, ones, 64);
  amx::emu_dot(amx::Sign::kUU, 0, 1, 2);
  amx::emu_store(0, c, 64);
  CHECK(c[5][9] == static_cast<int32_t>(static_cast<uint32_t>(INT32_MAX) + 64u * 255u * 255u));
  // A stride-0 load puts the same row in every row (the bias row the linears start their C tiles from).
  int32_t bias_row[16];
  for (int n = 0; n < 16; ++n) bias_row[n] = static_cast<int32_t>(rng());
  amx::emu_load(0, bias_row, 0);
  amx::emu_store(0, c, 64);
  for (int m = 0; m < 16; ++m) {
    for (int n = 0; n < 16; ++n) REQUIRE(c[m][n] == bias_row[n]);
  }
  // Faults (#UD on hardware): mismatched shapes, unconfigured tiles, tile numbers beyond palette 1.
  amx::TileConfig bad = amx::full_tiles_config();
  bad.rows[2] = 8;  // B rows must equal colsb(A) / 4
  amx::emu_configure(bad);
  CHECK_THROWS_AS(amx::emu_dot(amx::Sign::kUS, 0, 1, 2), intvit::Error);
  CHECK_THROWS_AS(amx::emu_zero(8), intvit::Error);
  amx::emu_release();
  CHECK_FALSE(amx::emu_configured());
  CHECK_THROWS_AS(amx::emu_zero(0), intvit::Error);
}

TEST_CASE("gemm amx: M, N, K around the tile sizes (u8s8, raw and requantized)", "[gemm][amx]") {
  uint64_t seed = 1500;
  for (GemmIsa isa : amx_backends()) {
    INFO("backend " << intvit::gemm_isa_name(isa));
    for (size_t m : {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65}) {
      for (size_t n : {1, 15, 16, 17, 31, 32, 33, 48, 65}) {
        const int32_t za = static_cast<int32_t>(seed * 37 % 256);
        GemmTester().m(m).n(n).k(m % 3 == 0 ? 64 : 65).za(za).seed(seed++).Test(isa);
      }
    }
    for (size_t k : {1, 2, 3, 4, 5, 17, 63, 64, 65, 127, 128, 129, 197, 768}) {
      GemmTester().m(33).n(40).k(k).za(131).out(GemmOut::kU8).requant(true).per_channel(true).seed(seed++).Test(isa);
      GemmTester().m(5).n(17).k(k).za(0).out(GemmOut::kS16).requant(true).per_channel(false).seed(seed++).Test(isa);
    }
    // ViT-Ti / DeiT-S / ViT-B depths at M = 197 (tiles of 32 rows + a 5-row edge), strided A and C.
    GemmTester().m(197).n(72).k(192).lda(197).ldc(75).za(117).out(GemmOut::kU8).requant(true).per_channel(true)
        .seed(seed++).Test(isa);
    GemmTester().m(70).n(33).k(3072).lda(3079).za(3).out(GemmOut::kS32).requant(true).accumulate(true)
        .shifts(-2, 2).seed(seed++).Test(isa);
    GemmTester().m(37).n(100).k(768).za(255).n_range(17, 83).out(GemmOut::kU8).requant(true).seed(seed++).Test(isa);
  }
}

TEST_CASE("gemm amx: zero-points and extreme operands (u8s8 and u8u8)", "[gemm][amx]") {
  uint64_t seed = 1600;
  std::mt19937_64 rng(seed);
  for (GemmIsa isa : amx_backends()) {
    INFO("backend " << intvit::gemm_isa_name(isa));
    for (int32_t za : {0, 128, 255, static_cast<int32_t>(rng() % 256)}) {
      for (Fill fill : {Fill::kRandom, Fill::kMaxPositive, Fill::kMaxNegative, Fill::kMinTimesMin, Fill::kExtremeMix}) {
        GemmTester().m(35).n(33).k(130).za(za).fill(fill).seed(seed++).Test(isa);
        for (int32_t zb : {0, 128, 255, static_cast<int32_t>(rng() % 256)}) {
          GemmTester().m(34).n(35).k(197).lda(199).ldb(201).ldc(37).za(za).zb(zb).fill(fill).seed(seed++).TestU8U8(isa);
        }
      }
    }
    // Per-head attention shapes, and K past the 2048-deep panel (per-step B packing).
    GemmTester().m(197).n(197).k(64).lda(192).ldb(576).ldc(197).za(120).zb(131).seed(seed++).TestU8U8(isa);
    GemmTester().m(197).n(64).k(197).ldb(211).ldc(192).za(0).zb(128).seed(seed++).TestU8U8(isa);
    GemmTester().m(17).n(33).k(2113).za(255).zb(255).fill(Fill::kExtremeMix).seed(seed++).TestU8U8(isa);
    GemmTester().m(3).n(5).k(0).za(9).zb(4).seed(seed++).TestU8U8(isa);
  }
}

// The packing of the attention's B operands (amx-pack-vnni4.h: rows of kᵀ / vᵀ, and v token-major)
// against its definition, byte by byte: the references everywhere (the emulated kernels use them),
// the AVX-512 variants (the real amx kernels use them) where the CPU has AVX-512, on full and
// partial tiles, columns and K.
TEST_CASE("gemm amx: VNNI-4 packing of the nt operand, reference and AVX-512", "[gemm][amx]") {
  using PackFn = void (*)(const uint8_t*, size_t, size_t, size_t, size_t, uint8_t*);
  std::vector<std::pair<const char*, PackFn>> variants{{"pack_vnni4_ref", amx::pack_vnni4_ref}};
  std::vector<std::pair<const char*, PackFn>> kn_variants{{"pack_vnni4_kn_ref", amx::pack_vnni4_kn_ref}};
  if (intvit::cpu_features().avx512) {
    variants.emplace_back("amx_pack_vnni4__avx512", amx::pack_vnni4__avx512);
    kn_variants.emplace_back("amx_pack_vnni4_kn__avx512", amx::pack_vnni4_kn__avx512);
    intvit::test::record_variant_ran("amx_pack_vnni4__avx512");
    intvit::test::record_variant_ran("amx_pack_vnni4_kn__avx512");
  } else {
    intvit::test::record_variant_unsupported("amx_pack_vnni4__avx512", "CPU lacks AVX-512");
    intvit::test::record_variant_unsupported("amx_pack_vnni4_kn__avx512", "CPU lacks AVX-512");
    WARN("amx_pack_vnni4__avx512, amx_pack_vnni4_kn__avx512 not run: CPU lacks AVX-512");
  }
  std::mt19937_64 rng(1640);
  for (size_t nc : {0, 1, 5, 15, 16}) {
    for (size_t kn : {0, 1, 3, 4, 5, 63, 64, 65, 130, 192}) {
      for (size_t extra_steps : {0, 1}) {
        const size_t ns = (kn + 63) / 64 + extra_steps, ldb = kn + 7;
        // Rows [0, nc) of kn bytes, the last one ending the buffer (reads past it: ASan); the 7
        // bytes between rows are random and must not reach the tiles.
        std::vector<uint8_t> rows(nc == 0 ? 1 : (nc - 1) * ldb + kn + (kn == 0));
        for (auto& v : rows) v = static_cast<uint8_t>(rng());
        std::vector<uint8_t> want(ns * 1024, 0);
        for (size_t n = 0; n < nc; ++n) {
          for (size_t k = 0; k < kn; ++k) want[64 * (k / 4) + 4 * n + k % 4] = rows[n * ldb + k];
        }
        for (const auto& [name, fn] : variants) {
          INFO(name << " nc " << nc << " kn " << kn << " ns " << ns);
          std::vector<uint8_t> got(ns * 1024, 0xA5);
          fn(rows.data(), ldb, nc, kn, ns, got.data());
          REQUIRE(got == want);
        }
        // The K-major source (v token-major, av16_u8): element (k, n) at row k, column n.
        const size_t ld_kn = nc + 3;
        std::vector<uint8_t> kmajor(kn == 0 ? 1 : (kn - 1) * ld_kn + nc + (nc == 0));
        for (auto& v : kmajor) v = static_cast<uint8_t>(rng());
        std::vector<uint8_t> want_kn(ns * 1024, 0);
        for (size_t k = 0; k < kn; ++k) {
          for (size_t n = 0; n < nc; ++n) want_kn[64 * (k / 4) + 4 * n + k % 4] = kmajor[k * ld_kn + n];
        }
        for (const auto& [name, fn] : kn_variants) {
          INFO(name << " nc " << nc << " kn " << kn << " ns " << ns);
          std::vector<uint8_t> got(ns * 1024, 0xA5);
          fn(kmajor.data(), ld_kn, nc, kn, ns, got.data());
          REQUIRE(got == want_kn);
        }
      }
    }
  }
}

// The byte planes of 16-bit operands (amx-split-planes.h, Eq. 12) and their uint16 row sum
// against the definition: every length around the 64-value steps, the int16 extremes (the sum's
// x ^ 0x8000 trick at 0, 32767, 32768, 65535), sums that wrap modulo 2^32, no byte written past n.
TEST_CASE("gemm amx: s16 byte planes and row sums, reference and AVX-512", "[gemm][amx]") {
  using SplitFn = uint32_t (*)(const int16_t*, size_t, uint8_t*, uint8_t*);
  std::vector<std::pair<const char*, SplitFn>> variants{{"split_planes_ref", amx::split_planes_ref}};
  if (intvit::cpu_features().avx512) {
    variants.emplace_back("amx_split_planes__avx512", amx::split_planes__avx512);
    intvit::test::record_variant_ran("amx_split_planes__avx512");
  } else {
    intvit::test::record_variant_unsupported("amx_split_planes__avx512", "CPU lacks AVX-512");
    WARN("amx_split_planes__avx512 not run: CPU lacks AVX-512");
  }
  std::mt19937_64 rng(1645);
  for (size_t n : {0, 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 197, 70000}) {  // 70000 × 65535 wraps 2^32
    for (int kind = 0; kind < 3; ++kind) {
      std::vector<int16_t> x(n + (n == 0));
      const int16_t extremes[] = {0, 32767, -32768, -1};
      for (size_t i = 0; i < n; ++i) {
        x[i] = kind == 0 ? static_cast<int16_t>(rng()) : kind == 1 ? int16_t{-1} : extremes[rng() % 4];
      }
      uint32_t want_sum = 0;
      std::vector<uint8_t> want_hi(n + 64, 0x5A), want_lo(n + 64, 0x5A);
      for (size_t i = 0; i < n; ++i) {
        const uint16_t u = static_cast<uint16_t>(x[i]);
        want_hi[i] = static_cast<uint8_t>(u >> 8);
        want_lo[i] = static_cast<uint8_t>(u & 255);
        want_sum += u;
      }
      for (const auto& [name, fn] : variants) {
        INFO(name << " n " << n << " kind " << kind);
        std::vector<uint8_t> hi(n + 64, 0x5A), lo(n + 64, 0x5A);
        REQUIRE(fn(x.data(), n, hi.data(), lo.data()) == want_sum);
        REQUIRE(hi == want_hi);
        REQUIRE(lo == want_lo);
      }
    }
  }
}

// The planes of whole row tiles (split_planes_rows, attn@v16's split): rows 0..48 around the
// batches of 16 whose sums are reduced together, lengths around the 16/32/64-value steps, rows whose
// sums wrap modulo 2^32 next to small ones, high bytes 0 and 255 with low bytes 255 and 0 (each
// plane's extremes, which the VBMI form sums separately), every plane row against the definition
// and no byte written between or past the rows.
TEST_CASE("gemm amx: s16 byte planes of many rows and their sums, reference and AVX-512", "[gemm][amx]") {
  using RowsFn = void (*)(const int16_t*, size_t, size_t, size_t, uint8_t*, uint8_t*, size_t, uint32_t*);
  std::vector<std::pair<const char*, RowsFn>> variants{{"split_planes_rows_ref", amx::split_planes_rows_ref}};
  if (intvit::cpu_features().avx512) {
    variants.emplace_back("amx_split_planes_rows__avx512", amx::split_planes_rows__avx512);
    intvit::test::record_variant_ran("amx_split_planes_rows__avx512");
  } else {
    intvit::test::record_variant_unsupported("amx_split_planes_rows__avx512", "CPU lacks AVX-512");
    WARN("amx_split_planes_rows__avx512 not run: CPU lacks AVX-512");
  }
  const auto& cpu = intvit::cpu_features();
  if (cpu.avx512 && cpu.avx512vnni && cpu.avx512vbmi) {
    variants.emplace_back("amx_split_planes_rows__avx512vnnivbmi", amx::split_planes_rows__avx512vnnivbmi);
    intvit::test::record_variant_ran("amx_split_planes_rows__avx512vnnivbmi");
  } else {
    intvit::test::record_variant_unsupported("amx_split_planes_rows__avx512vnnivbmi", "CPU lacks AVX-512 VNNI or VBMI");
    WARN("amx_split_planes_rows__avx512vnnivbmi not run: CPU lacks AVX-512 VNNI or VBMI");
  }
  std::mt19937_64 rng(1651);
  for (size_t rows : {0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 40, 48}) {
    for (size_t n : {0, 1, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 197, 70000}) {  // 70000 × 65535 wraps 2^32
      if (n == 70000 && rows > 17) continue;
      const size_t ldx = n + rows % 3, ld_plane = n + 5;
      std::vector<int16_t> x(rows * ldx + 1);
      const int16_t planes_extremes[] = {int16_t{0x00FF}, static_cast<int16_t>(0xFF00), int16_t{-1}, int16_t{0}};
      for (size_t r = 0; r < rows; ++r) {
        const int kind = static_cast<int>((r + n) % 5);
        for (size_t i = 0; i < n; ++i) {
          x[r * ldx + i] = kind == 0   ? static_cast<int16_t>(rng())
                           : kind == 1 ? int16_t{-1}
                           : kind == 2 ? int16_t{32767}
                           : kind == 3 ? planes_extremes[rng() % 4]
                                       : static_cast<int16_t>(rng() % 32768);  // softmax16's range
        }
      }
      std::vector<uint32_t> want_sums(rows, 0);
      std::vector<uint8_t> want_hi(rows * ld_plane, 0x5A), want_lo = want_hi;
      for (size_t r = 0; r < rows; ++r) {
        for (size_t i = 0; i < n; ++i) {
          const uint16_t u = static_cast<uint16_t>(x[r * ldx + i]);
          want_hi[r * ld_plane + i] = static_cast<uint8_t>(u >> 8);
          want_lo[r * ld_plane + i] = static_cast<uint8_t>(u & 255);
          want_sums[r] += u;
        }
      }
      for (const auto& [name, fn] : variants) {
        INFO(name << " rows " << rows << " n " << n);
        std::vector<uint8_t> hi(rows * ld_plane, 0x5A), lo = hi;
        std::vector<uint32_t> sums(rows + 1, 0xDEADBEEF);
        fn(x.data(), ldx, rows, n, hi.data(), lo.data(), ld_plane, sums.data());
        REQUIRE(sums[rows] == 0xDEADBEEF);
        sums.pop_back();
        REQUIRE(sums == want_sums);
        REQUIRE(hi == want_hi);
        REQUIRE(lo == want_lo);
      }
    }
  }
}

// Row sums of uint8 rows (amx-row-sums.h, Eq. 9's zero-point terms) against the definition: K
// around the 64-byte steps, all-255 rows, sums wrapping modulo 2^32, strided rows ending the buffer,
// row counts around the batches of 8.
TEST_CASE("gemm amx: u8 row sums, reference and AVX-512", "[gemm][amx]") {
  using SumsFn = void (*)(const uint8_t*, size_t, size_t, size_t, uint32_t*);
  std::vector<std::pair<const char*, SumsFn>> variants{{"row_sums_u8_ref", amx::row_sums_u8_ref}};
  if (intvit::cpu_features().avx512) {
    variants.emplace_back("amx_row_sums_u8__avx512", amx::row_sums_u8__avx512);
    intvit::test::record_variant_ran("amx_row_sums_u8__avx512");
  } else {
    intvit::test::record_variant_unsupported("amx_row_sums_u8__avx512", "CPU lacks AVX-512");
    WARN("amx_row_sums_u8__avx512 not run: CPU lacks AVX-512");
  }
  std::mt19937_64 rng(1647);
  // Rows 8 and more also go 8 at a time (their reductions batched), the rest one by one.
  for (auto [rows, k] : {std::pair<size_t, size_t>{1, 0}, {3, 1}, {5, 63}, {32, 64}, {7, 65}, {2, 197}, {1, 17000000}, {8, 0},
                         {8, 1}, {9, 128}, {15, 63}, {16, 197}, {197, 64}, {23, 65}, {8, 17000000}}) {
    for (bool all_max : {false, true}) {
      if (k > 1000000 && !all_max) continue;  // the long row is there for the wrap: all 255, once
      const size_t lda = k + rows % 3;  // 17000000 × 255 wraps 2^32
      std::vector<uint8_t> a((rows - 1) * lda + k + (k == 0));
      for (auto& v : a) v = all_max ? 255 : static_cast<uint8_t>(rng());
      std::vector<uint32_t> want(rows);
      for (size_t i = 0; i < rows; ++i) {
        for (size_t q = 0; q < k; ++q) want[i] += a[i * lda + q];
      }
      for (const auto& [name, fn] : variants) {
        INFO(name << " rows " << rows << " k " << k << " all 255 " << all_max);
        std::vector<uint32_t> got(rows, 0xDEADBEEF);
        fn(a.data(), lda, rows, k, got.data());
        REQUIRE(got == want);
      }
    }
  }
}

// The attention driver (amx-attention.h) packs B once per group of up to 256 columns (fewer when
// K is deep: 32 past K = 1024), corrects rows in 16-column blocks whose last one overlaps, and
// packs K in quads: N around the blocks and groups, K around the quads, steps and group limits.
TEST_CASE("gemm amx: u8u8 column groups, overlapping epilogue blocks, K around the quads", "[gemm][amx]") {
  uint64_t seed = 1650;
  const std::pair<int32_t, int32_t> zero_points[] = {{0, 0}, {255, 255}, {0, 255}, {255, 0}, {77, 190}};
  for (GemmIsa isa : amx_backends()) {
    INFO("backend " << intvit::gemm_isa_name(isa));
    size_t z = 0;
    for (size_t n : {1, 2, 15, 16, 17, 31, 47, 255, 256, 257, 300}) {
      for (size_t k : {1, 3, 4, 5, 62, 65}) {
        const auto [za, zb] = zero_points[z++ % 5];
        const size_t m = 1 + (n + k) % 37;
        GemmTester().m(m).n(n).k(k).ldb(k + n % 3).ldc(n + 1).za(za).zb(zb).fill(n % 2 ? Fill::kExtremeMix : Fill::kRandom)
            .seed(seed++).TestU8U8(isa);
      }
    }
    for (size_t k : {1024, 1025, 2048, 2049}) {  // group of 64 columns, then of 32 (whole panel), then per-step packing
      GemmTester().m(19).n(70).k(k).za(255).zb(3).fill(Fill::kExtremeMix).seed(seed++).TestU8U8(isa);
    }
  }
}

// The q@kᵀ driver's row tiles (32 rows, the last one partial: 1..31 rows, one or two 16-row tiles)
// against its column pairs (32 columns, the last one partial, and groups of 256), with C one
// column wider than n (a sentinel after every row: a 16-column tile stored whole past n, or a row
// of a partial row tile written or corrected wrongly, shows) and the zero-points at 0, 255 and in
// between: every edge of the tiles and of the per-row corrections (Eq. 9), m = 1 included.
TEST_CASE("gemm amx: u8u8 every row-tile and column-tile edge, m = 1, zero-points 0 / 255 / between", "[gemm][amx]") {
  uint64_t seed = 1680;
  const std::pair<int32_t, int32_t> zero_points[] = {{0, 0}, {255, 255}, {121, 133}, {0, 255}, {255, 1}, {7, 0}};
  for (GemmIsa isa : amx_backends()) {
    INFO("backend " << intvit::gemm_isa_name(isa));
    size_t z = 0;
    for (size_t m : {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 197}) {
      for (size_t n : {1, 15, 16, 17, 31, 32, 33, 197, 257}) {
        const auto [za, zb] = zero_points[z++ % 6];
        const size_t k = z % 3 == 0 ? 64 : z % 3 == 1 ? 65 : 130;
        GemmTester().m(m).n(n).k(k).ldc(n + 1).za(za).zb(zb).fill(z % 4 == 0 ? Fill::kExtremeMix : Fill::kRandom)
            .seed(seed++).TestU8U8(isa);
      }
    }
  }
}

TEST_CASE("gemm amx: s16 byte split (Eq. 12) at the int16 extremes, deep K, every output", "[gemm][amx]") {
  uint64_t seed = 1700;
  for (GemmIsa isa : amx_backends()) {
    INFO("backend " << intvit::gemm_isa_name(isa));
    for (Fill fill : {Fill::kRandom, Fill::kMaxPositive, Fill::kMaxNegative, Fill::kMinTimesMin, Fill::kExtremeMix}) {
      for (size_t k : {1, 63, 65, 768, 3072}) {  // 3072 at the extremes wraps int32 (Eq. 10 modulo 2^32)
        GemmTester().input(GemmInput::kS16).m(17).n(33).k(k).fill(fill).seed(seed++).Test(isa);
      }
    }
    GemmTester().input(GemmInput::kS16).m(18).n(20).k(2113).lda(2120).fill(Fill::kExtremeMix).seed(seed++).Test(isa);  // per-step split
    for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
      for (bool per_channel : {false, true}) {
        GemmTester().input(GemmInput::kS16).m(33).n(47).k(197).lda(203).ldc(49).out(out).requant(true)
            .per_channel(per_channel).seed(seed++).Test(isa);
      }
    }
    GemmTester().input(GemmInput::kS16).m(16).n(45).k(96).out(GemmOut::kS32).requant(true).accumulate(true)
        .shifts(-2, 2).seed(seed++).Test(isa);
    GemmTester().input(GemmInput::kS16).m(16).n(90).k(96).n_range(13, 71).seed(seed++).Test(isa);
  }
}

// The per-block output stages of the amx linears (amx-block-stage-avx512.cc where the host has
// AVX-512): the byte-clamp row store of u8 plans (every right shift >= 1, [0, 255], zero-points
// inside and outside [0, 255]), the int32 residual with saturation deferred to the block (priors
// near the int32 extremes), the s16 planes combined in registers; full 32-column pairs and the
// masked partial pair at N = 197 / 45, per-tensor and per-channel, each against the reference.
TEST_CASE("gemm amx: the block output stages on full and partial column pairs", "[gemm][amx]") {
  uint64_t seed = 1800;
  for (GemmIsa isa : amx_backends()) {
    INFO("backend " << intvit::gemm_isa_name(isa));
    for (bool per_channel : {false, true}) {
      for (int32_t zp : {0, 117, 255, -300, 700}) {
        GemmTester().m(197).n(197).k(192).za(117).out(GemmOut::kU8).requant(true).per_channel(per_channel).shifts(1, 11)
            .zero_point(zp).clamp(0, 255).fill(Fill::kExtremeMix).seed(seed++).Test(isa);
      }
      GemmTester().m(35).n(96).k(192).za(3).out(GemmOut::kU8).requant(true).per_channel(per_channel).shifts(1, 9).zero_point(128)
          .clamp(7, 250).seed(seed++).Test(isa);  // narrow but not byte_clamp
      for (size_t m : {2, 30, 34, 63}) {  // byte-clamp rows in pairs: even and odd last blocks
        GemmTester().m(m).n(64).k(64).za(200).out(GemmOut::kU8).requant(true).per_channel(per_channel).shifts(1, 11)
            .zero_point(m % 2 ? 255 : 0).clamp(0, 255).fill(Fill::kExtremeMix).seed(seed++).Test(isa);
      }
      GemmTester().m(197).n(197).k(768).za(255).out(GemmOut::kS32).requant(true).accumulate(true).near_extreme_prior(true)
          .per_channel(per_channel).shifts(-2, 3).seed(seed++).Test(isa);
      GemmTester().m(40).n(64).k(192).za(9).out(GemmOut::kS32).requant(true).accumulate(true).per_channel(per_channel).seed(seed++).Test(isa);
      GemmTester().m(33).n(64).k(100).za(1).out(GemmOut::kS32).accumulate(true).near_extreme_prior(true).seed(seed++).Test(isa);  // raw
      GemmTester().m(33).n(64).k(100).za(1).out(GemmOut::kS16).requant(true).per_channel(per_channel).seed(seed++).Test(isa);
      for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
        GemmTester().input(GemmInput::kS16).m(19).n(45).k(130).out(out).requant(true).per_channel(per_channel).shifts(1, 12)
            .fill(Fill::kExtremeMix).seed(seed++).Test(isa);
      }
      GemmTester().input(GemmInput::kS16).m(16).n(64).k(96).out(GemmOut::kS32).requant(true).accumulate(true).near_extreme_prior(true)
          .per_channel(per_channel).shifts(-2, 3).seed(seed++).Test(isa);
    }
  }
}

// The block stages called directly (amx_block_stage_for, where the host has AVX-512): with a bias
// (value = tile + bias), and with none — the drivers' way, the bias already in the C tiles (for s16
// splits in the low-byte plane) — against output_stage_ref on the combined values: every row count
// of a block (the byte-clamp stage packs rows in pairs), full and partial column pairs, u8
// byte-clamp at zero-points 0 / 255 / outside, u8 narrow, int32 residual near the extremes.
TEST_CASE("gemm amx: block output stages with a bias and with the bias in the tiles, rows 1..32", "[gemm][amx]") {
  if (!intvit::cpu_features().avx512) {
    intvit::test::record_variant_unsupported("amx_block_stage__avx512", "CPU lacks AVX-512");
    WARN("amx_block_stage__avx512 not run: CPU lacks AVX-512");
    return;
  }
  intvit::test::record_variant_ran("amx_block_stage__avx512");
  namespace gemm = intvit::gemm;
  constexpr size_t kN = 64, kRows = 40, kLd = 70, kN0 = 32;  // block at rows 5.., columns 32..63 of a 40 × 64 output
  std::mt19937_64 rng(1850);
  const auto any_int32 = [&] {
    const uint32_t pick = rng() % 8;
    if (pick == 0) return std::numeric_limits<int32_t>::max() - static_cast<int32_t>(rng() % 3);
    if (pick == 1) return std::numeric_limits<int32_t>::min() + static_cast<int32_t>(rng() % 3);
    return static_cast<int32_t>(static_cast<uint32_t>(rng()));
  };
  struct Case {
    GemmOut type;
    bool accumulate;
    int32_t zp, qmin, qmax, shift_lo, shift_hi;
  };
  const Case cases[] = {
      {GemmOut::kU8, false, 0, 0, 255, 1, 20},      {GemmOut::kU8, false, 255, 0, 255, 1, 20},
      {GemmOut::kU8, false, -300, 0, 255, 1, 12},   {GemmOut::kU8, false, 128, 7, 250, 1, 20},
      {GemmOut::kS32, true, 0, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), -2, 3},
  };
  for (const Case& cs : cases) {
    for (bool per_channel : {false, true}) {
      for (bool split : {false, true}) {
        std::vector<int32_t> mult(kN), shift(kN);
        for (size_t n = 0; n < kN; ++n) {
          mult[n] = static_cast<int32_t>((1u << 30) + rng() % (1u << 30));
          shift[n] = cs.shift_lo + static_cast<int32_t>(rng() % static_cast<uint32_t>(cs.shift_hi - cs.shift_lo + 1));
        }
        const intvit::RequantParams q{mult.data(), shift.data(), per_channel, cs.zp, cs.qmin, cs.qmax};
        const size_t elem = cs.type == GemmOut::kU8 ? 1 : 4;
        std::vector<uint8_t> prior(kRows * kLd * elem);
        for (size_t i = 0; i < prior.size(); i += 4) {
          const int32_t v = any_int32();
          std::memcpy(&prior[i], &v, std::min<size_t>(4, prior.size() - i));
        }
        std::vector<uint8_t> want = prior, got_bias = prior, got_tiles = prior;
        const auto plan_for = [&](std::vector<uint8_t>& out) {
          return gemm::make_output_plan(intvit::GemmOutput{out.data(), kLd, cs.type, &q, cs.accumulate}, 0, kN);
        };
        const gemm::OutputPlan p_want = plan_for(want), p_bias = plan_for(got_bias), p_tiles = plan_for(got_tiles);
        const gemm::AmxBlockStageFn block = gemm::amx_block_stage_for(GemmIsa::kAmxEmu, p_bias, split);
        REQUIRE(block != nullptr);
        alignas(64) int32_t hi[32][32], lo[32][32], hi_t[32][32], lo_t[32][32], value[32][32];
        alignas(64) int32_t bias[kN];
        for (int32_t& b : bias) b = any_int32();
        for (size_t i = 0; i < 32; ++i) {
          for (size_t j = 0; j < 32; ++j) {
            // split: plane products are far below 2^31 in practice, but any bits must work (Eq. 12 modulo 2^32)
            hi[i][j] = any_int32(), lo[i][j] = any_int32();
            const uint32_t tile = split ? static_cast<uint32_t>(hi[i][j]) * 256u + static_cast<uint32_t>(lo[i][j]) : static_cast<uint32_t>(hi[i][j]);
            value[i][j] = static_cast<int32_t>(tile);
            hi_t[i][j] = split ? hi[i][j] : static_cast<int32_t>(tile + static_cast<uint32_t>(bias[kN0 + j]));
            lo_t[i][j] = static_cast<int32_t>(static_cast<uint32_t>(lo[i][j]) + static_cast<uint32_t>(bias[kN0 + j]));
          }
        }
        for (size_t rows : {1, 2, 3, 4, 5, 16, 17, 30, 31, 32}) {
          for (auto [g_begin, g_end] : {std::pair<size_t, size_t>{32, 64}, {37, 64}, {32, 59}}) {
            INFO("type " << static_cast<int>(cs.type) << " zp " << cs.zp << " per_channel " << per_channel << " split " << split
                         << " rows " << rows << " columns " << g_begin << ".." << g_end);
            want = got_bias = got_tiles = prior;
            gemm::output_stage_ref(p_want, 5, rows, g_begin, g_end, &value[0][g_begin - kN0], 32, bias);
            block(p_bias, 5, rows, kN0, g_begin, g_end, &hi[0][0], split ? &lo[0][0] : nullptr, bias);
            block(p_tiles, 5, rows, kN0, g_begin, g_end, &hi_t[0][0], split ? &lo_t[0][0] : nullptr, nullptr);
            CHECK(got_bias == want);
            CHECK(got_tiles == want);
          }
        }
        // int32 residual: a prior of zeros but for one element at the int32 extreme its value
        // pushes past — the block's only overflowing lane, in either vector of the row.
        for (size_t rows : {1, 17, 32}) {
          for (size_t i : {size_t{0}, rows - 1}) {
            for (size_t j : {0, 5, 15, 16, 21, 31}) {
              if (!cs.accumulate) continue;
              INFO("one overflow: per_channel " << per_channel << " split " << split << " rows " << rows << " at " << i << ", " << j);
              const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(value[i][j]) + static_cast<uint32_t>(bias[kN0 + j]));
              const int32_t r = gemm::requantize_value_ref(p_want, kN0 + j, v);
              if (r == 0) continue;
              std::fill(want.begin(), want.end(), uint8_t{0});
              const int32_t extreme = r > 0 ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int32_t>::min();
              std::memcpy(&want[((5 + i) * kLd + kN0 + j) * elem], &extreme, 4);
              got_bias = got_tiles = want;
              gemm::output_stage_ref(p_want, 5, rows, 32, 64, &value[0][0], 32, bias);
              block(p_bias, 5, rows, kN0, 32, 64, &hi[0][0], split ? &lo[0][0] : nullptr, bias);
              block(p_tiles, 5, rows, kN0, 32, 64, &hi_t[0][0], split ? &lo_t[0][0] : nullptr, nullptr);
              CHECK(got_bias == want);
              CHECK(got_tiles == want);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("gemm amx: each thread configures its own tiles", "[gemm][amx]") {
  // Two threads run the emulated kernels at once; each has its own (thread_local) tile file.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      try {
        if (amx::emu_configured()) ++failures;  // a new thread starts unconfigured
        for (int i = 0; i < 3; ++i) {
          GemmTester().m(40).n(40).k(100).za(7 + t).seed(static_cast<uint64_t>(1800 + 10 * t + i)).Test(GemmIsa::kAmxEmu);
        }
        if (!amx::emu_configured()) ++failures;
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
}

TEST_CASE("gemm amx: backend choice follows the AMX gates, amx sessions get the best nonlinear ISA", "[gemm][amx]") {
  const bool usable = intvit::amx_usable();
  CHECK(usable == (std::string(intvit::amx_unavailable_reason()).empty()));
  CHECK(intvit::gemm_isa_supported(GemmIsa::kAmxEmu));  // the emulation runs everywhere
  if (!usable) {
    CHECK_FALSE(intvit::gemm_isa_supported(GemmIsa::kAmx));
    CHECK(intvit::best_native_gemm_isa() != GemmIsa::kAmx);  // falls back (avx512vnni where present)
    CHECK_THROWS_AS(intvit::PackedWeights::pack(GemmIsa::kAmx, GemmInput::kU8, std::vector<int8_t>(4).data(), 2, 2, nullptr, 0),
                    intvit::Error);
  } else if (intvit::gemm_isa_supported(GemmIsa::kAmx)) {
    CHECK(intvit::best_native_gemm_isa() == GemmIsa::kAmx);
  }
  CHECK(intvit::parse_gemm_isa("amx-emu") == GemmIsa::kAmxEmu);
  // amx-emu sessions run the nonlinear kernels of the best native backend, and attn@v16 on tiles.
  CHECK(intvit::nonlinear_isa_of(GemmIsa::kAmxEmu) == intvit::nonlinear_isa_of(intvit::best_native_gemm_isa()));
  CHECK(intvit::nonlinear_isa_of(GemmIsa::kAmx) == intvit::NonlinearIsa::kAvx512);
  CHECK(intvit::kernel_set(GemmIsa::kAmxEmu).av16 == &intvit::av16__amxemu);
  // Weights for the tile kernels: 16-channel blocks of VNNI-4 rows, K padded to a whole tile depth.
  const intvit::PackedWeights w = intvit::PackedWeights::pack(GemmIsa::kAmxEmu, GemmInput::kS16,
                                                              std::vector<int8_t>(17 * 65, 1).data(), 17, 65, nullptr, 0);
  CHECK(w.layout().nr == 16);
  CHECK(w.layout().kr == 4);
  CHECK(w.layout().k_padded == 128);
  CHECK(w.layout().block_stride == 16 * 128);
}

// Hidden from catch_discover_tests; run by the CTest gemm_amx_real_tiles (tests/amx.test.cmake),
// which reports "Skipped" when it prints the not-run line.
TEST_CASE("gemm amx: the real tile instructions equal the reference", "[.amx-real]") {
  if (!intvit::gemm_isa_supported(GemmIsa::kAmx)) {
    std::printf("amx: not run on this CPU (%s)\n", intvit::gemm_isa_missing_feature(GemmIsa::kAmx));
    WARN("amx: not run on this CPU (" << intvit::gemm_isa_missing_feature(GemmIsa::kAmx) << ")");
    return;
  }
  uint64_t seed = 1900;
  for (size_t m : {1, 16, 17, 32, 33, 197}) {
    for (size_t k : {1, 64, 65, 768}) {
      GemmTester().m(m).n(49).k(k).za(128).out(GemmOut::kU8).requant(true).per_channel(true).seed(seed++).Test(GemmIsa::kAmx);
      GemmTester().input(GemmInput::kS16).m(m).n(49).k(k).fill(Fill::kExtremeMix).seed(seed++).Test(GemmIsa::kAmx);
      GemmTester().m(m).n(49).k(k).za(3).zb(250).seed(seed++).TestU8U8(GemmIsa::kAmx);
    }
  }
  std::printf("amx: real tile kernels ran and equal the reference\n");
}

}  // namespace
