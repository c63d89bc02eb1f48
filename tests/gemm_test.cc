// The GEMM family (kernels/gemm/gemm.h) against the tester's own int64 reference, on every backend
// this CPU supports, tolerance 0 (tests/gemm_tester.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/error.h"
#include "kernels/fixedpoint.h"
#include "gemm_tester.h"
#include "test_support.h"
#include "kernels/backend/backend.h"
#include "kernels/gemm/gemm.h"

using intvit::GemmInput;
using intvit::GemmIsa;
using intvit::GemmOut;
using intvit::test::Fill;
using intvit::test::GemmTester;

namespace {

constexpr size_t kTileEdgesN[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 80, 127, 128, 129};
constexpr size_t kDepths[] = {1, 3, 64, 197, 768, 1536};

}  // namespace

TEST_CASE("gemm: backend names, CPUID and INTVIT_ISA (resolve_backend)", "[gemm]") {
  for (GemmIsa isa : intvit::kAllGemmIsas) {
    CHECK(intvit::parse_gemm_isa(intvit::gemm_isa_name(isa)) == isa);
    CHECK(intvit::gemm_isa_supported(isa) == (std::string(intvit::gemm_isa_missing_feature(isa)).empty()));
  }
  CHECK(intvit::gemm_isa_supported(GemmIsa::kRef));
  CHECK(intvit::gemm_isa_supported(intvit::best_native_gemm_isa()));
  CHECK(intvit::best_native_gemm_isa() != GemmIsa::kOneDnn);
  CHECK_THROWS_AS(intvit::parse_gemm_isa("sse2"), intvit::Error);
  {
    intvit::test::ScopedEnv env("INTVIT_ISA", "ref");
    CHECK(intvit::resolve_backend("") == GemmIsa::kRef);
  }
  {
    intvit::test::ScopedEnv env("INTVIT_ISA", "bogus");
    try {
      intvit::resolve_backend("");
      FAIL("unknown INTVIT_ISA accepted");
    } catch (const intvit::Error& e) {
      CHECK(e.code() == intvit::ErrorCode::kInvalidArgument);
      CHECK_THAT(e.what(), Catch::Contains("INTVIT_ISA") && Catch::Contains("bogus"));
    }
    // A backend named by the caller wins over the environment.
    CHECK(intvit::resolve_backend("ref") == GemmIsa::kRef);
  }
  {
    try {
      intvit::resolve_backend("bogus");
      FAIL("unknown backend name accepted");
    } catch (const intvit::Error& e) {
      CHECK(e.code() == intvit::ErrorCode::kInvalidArgument);
      CHECK_THAT(e.what(), !Catch::Contains("INTVIT_ISA") && Catch::Contains("bogus"));
    }
  }
  for (GemmIsa isa : intvit::kAllGemmIsas) {
    intvit::test::ScopedEnv env("INTVIT_ISA", intvit::gemm_isa_name(isa));
    if (intvit::gemm_isa_supported(isa)) {
      CHECK(intvit::resolve_backend("") == isa);
    } else {
      try {
        intvit::resolve_backend("");
        FAIL("unsupported INTVIT_ISA accepted");
      } catch (const intvit::Error& e) {
        CHECK(e.code() == intvit::ErrorCode::kUnsupported);
      }
    }
  }
  {
    intvit::test::ScopedEnv env("INTVIT_ISA", "");
    CHECK(intvit::resolve_backend("") == intvit::best_native_gemm_isa());
  }
}

TEST_CASE("gemm u8s8: every row count and column tile edge, raw int32", "[gemm]") {
  uint64_t seed = 100;
  for (size_t m = 1; m <= 9; ++m) {
    for (size_t n : kTileEdgesN) {
      for (size_t k : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17}) {
        GemmTester().m(m).n(n).k(k).za(static_cast<int32_t>(seed % 256)).seed(seed).TestAll();
        ++seed;
      }
    }
  }
}

TEST_CASE("gemm u8s8: depths 1 to 1536 with u8 requantization", "[gemm]") {
  uint64_t seed = 200;
  for (size_t k : kDepths) {
    for (size_t m : {1, 4, 5, 13}) {
      GemmTester().m(m).n(k >= 768 ? 33 : 97).k(k).za(3).out(GemmOut::kU8).requant(true).per_channel(true)
          .zero_point(128).seed(seed++).TestAll();
    }
  }
}

TEST_CASE("gemm u8s8: zero-points 0, 128, 255 and saturating inputs", "[gemm]") {
  uint64_t seed = 300;
  for (int32_t za : {0, 128, 255}) {
    for (Fill fill : {Fill::kRandom, Fill::kMaxPositive, Fill::kMaxNegative, Fill::kMinTimesMin, Fill::kExtremeMix}) {
      for (size_t k : {3, 64, 197, 1536}) {
        GemmTester().m(6).n(35).k(k).za(za).fill(fill).seed(seed++).TestAll();  // raw: exact sums
        GemmTester().m(5).n(17).k(k).za(za).fill(fill).out(GemmOut::kU8).requant(true).per_channel(true)
            .zero_point(7).seed(seed++).TestAll();
      }
    }
  }
  // Bias at the int32 extremes: the sum wraps modulo 2^32 identically everywhere.
  GemmTester().m(3).n(40).k(64).za(200).extreme_bias(true).fill(Fill::kExtremeMix).seed(seed++).TestAll();
}

TEST_CASE("gemm u8s8: strided A and C (prime strides)", "[gemm]") {
  uint64_t seed = 400;
  for (size_t k : {3, 61, 192}) {
    for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
      GemmTester().m(7).n(37).k(k).lda(k + 11).ldc(41).za(17).out(out).requant(true).per_channel(true).seed(seed++).TestAll();
      GemmTester().m(9).n(67).k(k).lda(k + 7).ldc(83).za(255).out(out).requant(true).seed(seed++).TestAll();
    }
    GemmTester().m(5).n(19).k(k).lda(k + 2).ldc(23).za(1).seed(seed++).TestAll();  // raw
  }
}

TEST_CASE("gemm u8s8: requantization parameters and output types", "[gemm]") {
  uint64_t seed = 500;
  for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
    for (bool per_channel : {false, true}) {
      GemmTester t;
      t.m(6).n(70).k(192).za(101).out(out).requant(true).per_channel(per_channel);
      t.seed(seed++).TestAll();                                 // auto shifts around the useful range
      t.shifts(-4, 3).seed(seed++).TestAll();                   // left shifts, saturating some
      t.shifts(-31, -28).seed(seed++).TestAll();                // extreme left shifts
      t.shifts(20, 31).seed(seed++).TestAll();                  // large right shifts
      t.shifts(0, 0).seed(seed++).TestAll();                    // SRDHM alone
      t.shifts(-3, 12).zero_point(-5).seed(seed++).TestAll();  // negative zero-point
    }
  }
  // Clamp bounds narrower than the type, and zero-points far outside the type.
  GemmTester().m(4).n(50).k(64).out(GemmOut::kU8).requant(true).clamp(10, 200).zero_point(100).seed(seed++).TestAll();
  GemmTester().m(4).n(50).k(64).out(GemmOut::kS16).requant(true).clamp(-100, 3000).per_channel(true).seed(seed++).TestAll();
  GemmTester().m(4).n(50).k(64).out(GemmOut::kS32).requant(true).shifts(-8, -2).zero_point(INT32_MAX).seed(seed++).TestAll();
  GemmTester().m(4).n(50).k(64).out(GemmOut::kS32).requant(true).shifts(-8, -2).zero_point(INT32_MIN).seed(seed++).TestAll();
  GemmTester().m(4).n(50).k(64).out(GemmOut::kU8).requant(true).zero_point(-100000).seed(seed++).TestAll();
}

TEST_CASE("gemm u8s8: accumulate into the int32 residual stream (saturating)", "[gemm]") {
  uint64_t seed = 600;
  for (bool requant : {false, true}) {
    for (size_t n : {16, 45, 64}) {
      GemmTester().m(5).n(n).k(96).ldc(n + 3).za(9).out(GemmOut::kS32).requant(requant).per_channel(true).shifts(-6, 4)
          .accumulate(true).seed(seed++).TestAll();
      GemmTester().m(5).n(n).k(768).za(255).fill(Fill::kMaxNegative).out(GemmOut::kS32).requant(requant).accumulate(true)
          .shifts(-10, -8).seed(seed++).TestAll();
    }
  }
}

// QUANTIZATION.md §3.5: full 4 × 64 residual tiles add modulo 2^32 and redo a tile saturating only
// when a lane wrapped. Priors near ±2^31 make lanes of one tile wrap or not by the sign of their
// value; random priors leave most tiles unwrapped. Left shifts (large values) and right shifts.
TEST_CASE("gemm u8s8: residual tiles with some lanes saturating (deferred saturation)", "[gemm]") {
  uint64_t seed = 650;
  for (bool extreme : {true, false}) {
    for (auto [lo, hi] : {std::pair<int, int>{-10, -8}, {-2, 3}}) {
      GemmTester().m(197).n(192).k(192).za(77).out(GemmOut::kS32).requant(true).per_channel(true).shifts(lo, hi)
          .accumulate(true).near_extreme_prior(extreme).seed(seed++).TestAll();
    }
    GemmTester().m(12).n(128).k(64).za(200).fill(Fill::kExtremeMix).out(GemmOut::kS32).requant(false).accumulate(true)
        .near_extreme_prior(extreme).seed(seed++).TestAll();
    GemmTester().m(8).n(64).k(40).za(3).out(GemmOut::kS32).requant(true).shifts(0, 0).clamp(-5000, 7000)
        .accumulate(true).near_extreme_prior(extreme).seed(seed++).TestAll();
  }
}

TEST_CASE("gemm u8s8: column ranges (the n-range overload)", "[gemm]") {
  uint64_t seed = 700;
  const size_t n = 150;
  for (auto [b, e] : {std::pair<size_t, size_t>{0, 150}, {0, 1}, {5, 6}, {3, 77}, {16, 64}, {17, 63}, {16, 144},
                      {64, 150}, {100, 150}, {149, 150}, {40, 40}}) {
    GemmTester().m(6).n(n).k(70).ldc(151).za(33).n_range(b, e).seed(seed++).TestAll();
    GemmTester().m(13).n(n).k(33).za(33).out(GemmOut::kU8).requant(true).per_channel(true).n_range(b, e).seed(seed++).TestAll();
  }
}

TEST_CASE("gemm u8s8: ViT layer shapes (M = 197) in every output mode", "[gemm]") {
  uint64_t seed = 750;
  // qkv → u8, fc1 → s16 (GELU input), proj / fc2 → accumulate into the int32 residual stream.
  GemmTester().m(197).n(576).k(192).za(118).out(GemmOut::kU8).requant(true).per_channel(true).zero_point(121)
      .seed(seed++).TestAll();
  GemmTester().m(197).n(768).k(192).za(3).out(GemmOut::kS16).requant(true).per_channel(true).seed(seed++).TestAll();
  GemmTester().m(197).n(192).k(768).za(250).out(GemmOut::kS32).requant(true).per_channel(true).shifts(-2, 3)
      .accumulate(true).seed(seed++).TestAll();
  GemmTester().m(50).n(192).k(192).za(0).out(GemmOut::kU8).requant(true).shifts(7, 7).seed(seed++).TestAll();
  GemmTester().m(197).n(192).k(192).za(77).seed(seed++).TestAll();  // raw int32
}

TEST_CASE("gemm u8s8: requantization at the int32 limits (narrow-path boundaries)", "[gemm]") {
  // Extreme biases push accumulators to ±2^31, where MBQM with a right shift of 1 reaches ±2^30 and
  // zero-points of ±(2^30 − 1) put zp + MBQM at the int32 edge; shift 0 and |zp| = 2^30 take the other path.
  uint64_t seed = 780;
  for (GemmOut out : {GemmOut::kU8, GemmOut::kS16}) {
    for (int32_t zp : {(1 << 30) - 1, -(1 << 30) + 1, 1 << 30, -(1 << 30), 0}) {
      for (auto [lo, hi] : {std::pair<int, int>{1, 1}, {0, 1}, {1, 3}}) {
        GemmTester().m(9).n(64).k(40).za(200).extreme_bias(true).fill(Fill::kExtremeMix).out(out).requant(true)
            .per_channel(true).shifts(lo, hi).zero_point(zp).seed(seed++).TestAll();
      }
    }
  }
}

TEST_CASE("gemm: row chunks, the deepest panel and deeper K (avx2 A panels)", "[gemm]") {
  // The avx2 kernels widen A into a 48 KiB panel of 4-row tiles: K = 768 gives 32-row chunks,
  // K = 6144 the largest panel (one tile per chunk), K = 6145 the in-place fallback.
  uint64_t seed = 850;
  GemmTester().m(70).n(40).k(768).za(200).out(GemmOut::kU8).requant(true).per_channel(true).n_range(5, 37)
      .seed(seed++).TestAll();
  GemmTester().m(67).n(33).k(768).lda(771).ldc(35).za(9).out(GemmOut::kS32).requant(true).accumulate(true).shifts(-2, 2)
      .seed(seed++).TestAll();
  for (size_t k : {6144, 6145}) {
    GemmTester().m(9).n(24).k(k).za(131).seed(seed++).TestAll();
    GemmTester().m(5).n(17).k(k).za(255).fill(Fill::kExtremeMix).out(GemmOut::kU8).requant(true).per_channel(true)
        .seed(seed++).TestAll();
    GemmTester().input(GemmInput::kS16).m(6).n(9).k(k).fill(Fill::kExtremeMix).seed(seed++).TestAll();  // wraps
    GemmTester().input(GemmInput::kS16).m(9).n(16).k(k).lda(k + 3).seed(seed++).TestAll();
  }
}

TEST_CASE("gemm s16s8: shapes, extremes (wrapping int32), outputs and ranges", "[gemm]") {
  uint64_t seed = 800;
  for (size_t m : {1, 3, 4, 5, 8}) {
    for (size_t n : {1, 8, 15, 16, 17, 63, 64, 65}) {
      for (size_t k : {1, 2, 3, 5, 64, 197}) {
        GemmTester().input(GemmInput::kS16).m(m).n(n).k(k).seed(seed++).TestAll();
      }
    }
  }
  for (Fill fill : {Fill::kMaxPositive, Fill::kMaxNegative, Fill::kMinTimesMin, Fill::kExtremeMix}) {
    for (size_t k : {1, 3, 768, 1536}) {  // K = 1536 at the extremes leaves int32: Eq. 10 wraps
      GemmTester().input(GemmInput::kS16).m(5).n(33).k(k).fill(fill).seed(seed++).TestAll();
    }
  }
  for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
    GemmTester().input(GemmInput::kS16).m(7).n(45).k(768).lda(773).ldc(47).out(out).requant(true).per_channel(true)
        .seed(seed++).TestAll();
  }
  GemmTester().input(GemmInput::kS16).m(5).n(45).k(96).out(GemmOut::kS32).requant(true).accumulate(true).shifts(-2, 2)
      .seed(seed++).TestAll();
  GemmTester().input(GemmInput::kS16).m(5).n(90).k(96).n_range(13, 71).seed(seed++).TestAll();
  // Whole 64-column groups with an output stage and m >= 4 (the avx512vnni asm tiles), odd K (a
  // partial last k-pair), every output mode, edge rows after the tiles (m = 9, 14).
  for (GemmInput input : {GemmInput::kS16, GemmInput::kU8}) {
    for (size_t k : {1, 3, 197, 768}) {
      for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
        GemmTester().input(input).m(9).n(128).k(k).out(out).requant(true).per_channel(true).shifts(1, 12)
            .zero_point(out == GemmOut::kU8 ? 100 : -7).seed(seed++).TestAll();
      }
      GemmTester().input(input).m(14).n(192).k(k).fill(Fill::kExtremeMix).out(GemmOut::kS32).requant(true)
          .per_channel(true).accumulate(true).shifts(-2, 3).seed(seed++).TestAll();
    }
  }
}

TEST_CASE("gemm u8u8 (Eq. 9): shapes, attention shapes, zero-points, extremes, strides", "[gemm]") {
  uint64_t seed = 900;
  for (size_t m : {1, 2, 3, 4, 5, 9}) {
    for (size_t n : {1, 7, 8, 9, 16, 17, 63, 64, 65}) {
      for (size_t k : {1, 2, 3, 4, 5, 8, 63, 64, 65}) {
        GemmTester().m(m).n(n).k(k).za(static_cast<int32_t>(seed * 7 % 256)).zb(static_cast<int32_t>(seed * 13 % 256))
            .seed(seed).TestU8U8All();
        ++seed;
      }
    }
  }
  // Per-head attention: q@kᵀ (197 × 197 × 64) and attn@v (197 × 64 × 197, v transposed), strided.
  GemmTester().m(197).n(197).k(64).lda(192).ldb(576).ldc(197).za(120).zb(131).seed(seed++).TestU8U8All();
  GemmTester().m(197).n(64).k(197).lda(197).ldb(211).ldc(192).za(0).zb(128).seed(seed++).TestU8U8All();
  for (int32_t za : {0, 128, 255}) {
    for (int32_t zb : {0, 128, 255}) {
      for (Fill fill : {Fill::kRandom, Fill::kMaxPositive, Fill::kMaxNegative, Fill::kExtremeMix}) {
        GemmTester().m(6).n(21).k(197).za(za).zb(zb).fill(fill).seed(seed++).TestU8U8All();
      }
    }
  }
  // Depths around the 16-element packing step (the avx2 tail loads end at k), and many rows (row chunks).
  for (size_t k : {15, 16, 17, 31, 33, 47, 49}) {
    GemmTester().m(9).n(17).k(k).lda(k + 1).za(77).zb(201).seed(seed++).TestU8U8All();
  }
  GemmTester().m(203).n(20).k(197).za(255).zb(0).fill(Fill::kExtremeMix).seed(seed++).TestU8U8All();
  GemmTester().m(6).n(13).k(2065).za(3).zb(250).seed(seed++).TestU8U8All();  // second K chunk of 17
  // K beyond the kernels' per-chunk depth (chunked accumulation into C).
  GemmTester().m(5).n(37).k(2500).lda(2503).ldb(2501).ldc(41).za(255).zb(0).fill(Fill::kExtremeMix).seed(seed++).TestU8U8All();
  GemmTester().m(3).n(2100).k(17).za(1).zb(2).seed(seed++).TestU8U8All();  // many columns: column chunks
  GemmTester().m(3).n(5).k(0).za(9).zb(4).seed(seed++).TestU8U8All();      // empty sum
}

// The avx512vnni whole-B path (K % 4 == 0 and B' within one 32 KiB pack: 2-row tiles of up to
// 13 column blocks, row sums per 16 rows, C rows prefetched): every row count of a 16-row group
// and past it, column counts around the block and 13-block chunk edges, K up to the pack's limit.
TEST_CASE("gemm u8u8: the whole-B path's row, column and depth edges, both forms", "[gemm]") {
  uint64_t seed = 7100;
  for (size_t m : {1, 2, 3, 13, 16, 17, 33}) {
    for (size_t n : {1, 5, 16, 17, 197, 200, 209}) {
      for (size_t k : {4, 64, 128}) {
        for (bool addend : {false, true}) {
          GemmTester().m(m).n(n).k(k).lda(k + 3).ldb(k + 9).ldc(n + 2).za(static_cast<int32_t>(seed * 7 % 256))
              .zb(static_cast<int32_t>(seed * 13 % 256)).addend(addend).seed(seed).TestU8U8All();
          ++seed;
        }
      }
    }
  }
  for (int32_t za : {0, 128, 255}) {
    for (int32_t zb : {0, 128, 255}) {
      GemmTester().m(13).n(197).k(64).lda(576).ldb(576).ldc(197).za(za).zb(zb).fill(Fill::kExtremeMix).seed(seed++).TestU8U8All();
    }
  }
  // B within int8 of z_b (ViT's k rows): packed as B − z_b with no row terms, up to both bounds;
  // one value past either bound takes the row-term path.
  for (int32_t zb : {1, 118, 127, 129, 145, 254}) {
    const int lo = std::max(0, zb - 128), hi = std::min(255, zb + 127);
    for (bool addend : {false, true}) {
      GemmTester().m(17).n(197).k(64).lda(576).ldb(576).ldc(197).za(120).zb(zb).b_range(lo, hi).addend(addend).seed(seed++).TestU8U8All();
      if (lo > 0) GemmTester().m(5).n(33).k(64).za(7).zb(zb).b_range(lo - 1, hi).addend(addend).seed(seed++).TestU8U8All();
      if (hi < 255) GemmTester().m(5).n(33).k(64).za(7).zb(zb).b_range(lo, hi + 1).addend(addend).seed(seed++).TestU8U8All();
    }
  }
  GemmTester().m(3).n(20).k(8).za(255).zb(128).fill(Fill::kExtremeMix).seed(seed++).TestU8U8All();  // z_b = 128: always exact
  // K = 128, N = 256: exactly one 32 KiB pack; N = 257 no longer fits (chunked path), nor K = 130.
  GemmTester().m(5).n(256).k(128).za(3).zb(250).seed(seed++).TestU8U8All();
  GemmTester().m(5).n(257).k(128).za(3).zb(250).seed(seed++).TestU8U8All();
  GemmTester().m(7).n(40).k(130).lda(131).za(255).zb(0).addend(true).seed(seed++).TestU8U8All();
  // More than 13 blocks: column chunks of even size (30 blocks → 10 + 10 + 10), K = 32 (Swin's head_dim).
  GemmTester().m(9).n(470).k(32).lda(96).ldb(96).za(77).zb(201).addend(true).seed(seed++).TestU8U8All();
}

TEST_CASE("gemm u8u8 + addend (matmul_u8u8_nt_add): shapes, Swin windows, deep K, strides, wrapping", "[gemm]") {
  uint64_t seed = 5100;
  for (size_t m : {1, 3, 4, 5, 9}) {
    for (size_t n : {1, 15, 16, 17, 49, 64, 65}) {
      for (size_t k : {1, 4, 5, 32, 63}) {
        GemmTester().m(m).n(n).k(k).za(static_cast<int32_t>(seed * 7 % 256)).zb(static_cast<int32_t>(seed * 13 % 256))
            .addend(true).seed(seed).TestU8U8All();
        ++seed;
      }
    }
  }
  // Swin-T window q@kᵀ (49 × 49 × 32 of a 96-wide q/k), strided C; K >= 128 (the fused-row tiles),
  // K beyond one chunk (later chunks continue from C), many columns (column chunks), K = 0.
  GemmTester().m(49).n(49).k(32).lda(96).ldb(96).ldc(53).za(120).zb(131).addend(true).seed(seed++).TestU8U8All();
  GemmTester().m(13).n(40).k(160).lda(163).za(255).zb(0).fill(Fill::kExtremeMix).addend(true).seed(seed++).TestU8U8All();
  GemmTester().m(5).n(37).k(2500).lda(2503).ldb(2501).ldc(41).za(3).zb(250).addend(true).seed(seed++).TestU8U8All();
  GemmTester().m(3).n(2100).k(17).za(1).zb(2).addend(true).seed(seed++).TestU8U8All();
  GemmTester().m(3).n(5).k(0).za(9).zb(4).addend(true).seed(seed++).TestU8U8All();
  // D overlapping C is refused on every backend.
  intvit::test::for_each_gemm_backend([](GemmIsa isa) {
    std::vector<uint8_t> a(4 * 8, 1);
    std::vector<int32_t> c(4 * 4);
    CHECK_THROWS_AS(matmul_u8u8_nt_add(isa, 4, 4, 8, a.data(), 8, 0, a.data(), 8, 0, c.data() + 2, 4, c.data(), 4), intvit::Error);
    CHECK_THROWS_AS(matmul_u8u8_nt_add(isa, 4, 4, 8, a.data(), 8, 0, a.data(), 8, 0, nullptr, 4, c.data(), 4), intvit::Error);
  });
}

TEST_CASE("gemm requantize (Eq. 11): ties, extremes, all output types", "[gemm]") {
  uint64_t seed = 1000;
  for (GemmOut out : {GemmOut::kU8, GemmOut::kS16, GemmOut::kS32}) {
    for (bool per_channel : {false, true}) {
      for (auto [lo, hi] : {std::pair<int, int>{0, 0}, {1, 1}, {0, 31}, {-31, 0}, {-3, 3}, {28, 31}}) {
        GemmTester().m(7).n(53).lda(59).ldc(61).out(out).requant(true).per_channel(per_channel).shifts(lo, hi)
            .zero_point(out == GemmOut::kU8 ? 128 : -3).seed(seed++).TestRequantizeAll();
      }
    }
  }
  GemmTester().m(9).n(33).lda(33).ldc(35).out(GemmOut::kS32).requant(true).per_channel(true).shifts(-5, 5).accumulate(true)
      .seed(seed++).TestRequantizeAll();
  GemmTester().m(4).n(16).out(GemmOut::kU8).requant(true).clamp(3, 9).zero_point(5).shifts(2, 9).seed(seed++).TestRequantizeAll();
}

// QUANTIZATION.md §3.5: every backend's output stage against the scalar Eq. 7 on a grid of
// accumulators × (multiplier, shift) columns: the int32 extremes, ±1, ±2, powers of two ± 1 (ties of
// Eq. 5 and 6 at many shifts), every shift in [−31, 31] and multipliers 0, 1, 2^30, 2^30 + 1,
// 2^31 − 1 and random ones; int32 out unclamped (the residual shortcut), clamped and accumulating.
TEST_CASE("gemm requantize: Eq. 7 grid (int32 extremes, every shift, edge multipliers)", "[gemm]") {
  std::vector<int32_t> xs = {0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1, 12345, -12345};
  for (int j = 1; j < 31; j += 3) {
    for (int64_t d : {-1, 0, 1}) {
      xs.push_back(static_cast<int32_t>((int64_t{1} << j) + d));
      xs.push_back(static_cast<int32_t>(-(int64_t{1} << j) - d));
    }
  }
  std::mt19937 rng(4242);
  std::vector<int32_t> mults = {0, 1, 1 << 30, (1 << 30) + 1, INT32_MAX};
  for (int i = 0; i < 3; ++i) mults.push_back((1 << 30) + static_cast<int32_t>(rng() % (1u << 30)));
  std::vector<int32_t> col_mult, col_shift;
  for (int32_t mult : mults) {
    for (int sh = -31; sh <= 31; ++sh) col_mult.push_back(mult), col_shift.push_back(sh);
  }
  const size_t m = xs.size(), n = col_mult.size();
  std::vector<int32_t> acc(m * n), resid(m * n);
  for (size_t i = 0; i < m; ++i) {
    for (size_t c = 0; c < n; ++c) acc[i * n + c] = xs[i], resid[i * n + c] = xs[(i * 7 + c) % m];
  }
  struct Mode { const char* name; int32_t qmin, qmax; bool accumulate; };
  for (const Mode& mode : {Mode{"unclamped", INT32_MIN, INT32_MAX, false}, Mode{"clamped", -1000000, INT32_MAX - 5, false},
                           Mode{"accumulate", INT32_MIN, INT32_MAX, true}}) {
    std::vector<int32_t> expected = mode.accumulate ? resid : std::vector<int32_t>(m * n);
    for (size_t i = 0; i < m; ++i) {
      for (size_t c = 0; c < n; ++c) {
        const int64_t q = std::clamp<int64_t>(intvit::fp::multiply_by_quantized_multiplier(xs[i], col_mult[c], col_shift[c]), mode.qmin, mode.qmax);
        int32_t& e = expected[i * n + c];
        e = static_cast<int32_t>(mode.accumulate ? std::clamp<int64_t>(e + q, INT32_MIN, INT32_MAX) : q);
      }
    }
    const intvit::RequantParams rq{col_mult.data(), col_shift.data(), true, 0, mode.qmin, mode.qmax};
    for (GemmIsa isa : intvit::kAllGemmIsas) {
      if (!intvit::gemm_isa_supported(isa)) continue;
      std::vector<int32_t> out = mode.accumulate ? resid : std::vector<int32_t>(m * n, 7);
      intvit::requantize(isa, m, n, acc.data(), n, rq, intvit::GemmOutput{out.data(), n, GemmOut::kS32, nullptr, mode.accumulate});
      size_t bad = 0;
      for (size_t i = 0; i < m * n; ++i) {
        if (out[i] != expected[i] && bad++ < 5) {
          UNSCOPED_INFO(intvit::gemm_isa_name(isa) << " " << mode.name << ": x " << xs[i / n] << " M0 " << col_mult[i % n] << " shift "
                                                   << col_shift[i % n] << " got " << out[i] << " want " << expected[i]);
        }
      }
      CHECK(bad == 0);
    }
  }
}

// QUANTIZATION.md §3.5: the uint8 [0, 255] row store (zero-point added in int16, vpackuswb clamp)
// at the edges of its zero-point range and just outside it (the other narrow path), accumulators
// near ±2^31 and right shifts 1 (|MBQM| up to 2^30) to 12.
TEST_CASE("gemm u8s8: u8 [0, 255] outputs at the int16 zero-point limits", "[gemm]") {
  uint64_t seed = 910;
  for (int32_t zp : {-32512, -32513, 32767, 32768, 0, 255, -300}) {
    for (auto [lo, hi] : {std::pair<int, int>{1, 1}, {1, 12}}) {
      GemmTester().m(9).n(64).k(40).za(200).extreme_bias(true).fill(Fill::kExtremeMix).out(GemmOut::kU8).requant(true)
          .per_channel(true).shifts(lo, hi).zero_point(zp).seed(seed++).TestAll();
      GemmTester().m(8).n(128).k(197).za(3).out(GemmOut::kU8).requant(true).shifts(lo, hi).zero_point(zp).seed(seed++).TestAll();
    }
  }
}

TEST_CASE("gemm: seeded random shapes and parameters", "[gemm]") {
  const uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  WARN("gemm random shapes: seed " << seed);
  std::mt19937_64 rng(seed);
  const auto pick = [&](size_t lo, size_t hi) { return lo + static_cast<size_t>(rng() % (hi - lo + 1)); };
  for (int i = 0; i < 60; ++i) {
    const size_t m = pick(1, 70), n = pick(1, 200), k = pick(1, 400);
    const GemmOut out = static_cast<GemmOut>(pick(0, 2));
    const bool requant = out != GemmOut::kS32 || pick(0, 1);
    const size_t b = pick(0, n - 1), e = pick(b + 1, n);
    GemmTester t;
    t.m(m).n(n).k(k).lda(k + pick(0, 9)).ldc(n + pick(0, 9)).za(static_cast<int32_t>(pick(0, 255))).out(out)
        .requant(requant).per_channel(pick(0, 1)).accumulate(out == GemmOut::kS32 && pick(0, 1))
        .fill(static_cast<Fill>(pick(0, 4))).seed(rng());
    if (pick(0, 1)) t.n_range(b, e);
    if (pick(0, 2) == 0) t.shifts(-8, 8);
    t.TestAll();
    t.input(GemmInput::kS16).za(0).TestAll();
    GemmTester().m(m).n(n).k(k).lda(k + pick(0, 5)).ldb(k + pick(0, 5)).ldc(n + pick(0, 5))
        .za(static_cast<int32_t>(pick(0, 255))).zb(static_cast<int32_t>(pick(0, 255))).fill(static_cast<Fill>(pick(0, 4)))
        .seed(rng()).TestU8U8All();
  }
}

TEST_CASE("gemm: acc_bound is the exact accumulator range, left shifts up to it skip saturation (QUANTIZATION.md §3.5)", "[gemm]") {
  // A row that sets every a_k to the input's extreme of w[c, k]'s sign reaches channel c's largest
  // accumulator, the opposite row its smallest: acc_bound must be the largest |·| of those (tight)
  // and bound every other accumulator (sound).
  const size_t n = 37, k = 96;
  std::mt19937 rng(23);
  std::vector<int8_t> w(n * k);
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  std::vector<int32_t> bias(n);
  for (auto& b : bias) b = static_cast<int32_t>(rng() % 2000001) - 1000000;
  for (const GemmInput input : {GemmInput::kU8, GemmInput::kS16}) {
    const bool u8 = input == GemmInput::kU8;
    const int32_t zp = u8 ? 93 : 0, a_max = u8 ? 255 : 32767, a_min = u8 ? 0 : -32768;
    std::vector<int16_t> a16(2 * n * k);
    for (size_t c = 0; c < n; ++c) {
      for (size_t q = 0; q < k; ++q) {
        a16[2 * c * k + q] = static_cast<int16_t>(w[c * k + q] > 0 ? a_max : a_min);
        a16[(2 * c + 1) * k + q] = static_cast<int16_t>(w[c * k + q] > 0 ? a_min : a_max);
      }
    }
    std::vector<uint8_t> a8(a16.begin(), a16.end());
    intvit::test::for_each_gemm_backend([&](GemmIsa isa) {
      INFO("backend " << intvit::gemm_isa_name(isa) << (u8 ? " u8" : " s16"));
      const auto packed = intvit::PackedWeights::pack(isa, input, w.data(), n, k, bias.data(), zp);
      std::vector<int32_t> acc(2 * n * n);
      intvit::linear(packed, 2 * n, u8 ? static_cast<const void*>(a8.data()) : a16.data(), k, {acc.data(), n, GemmOut::kS32, nullptr});
      uint64_t reached = 0, largest = 0;
      for (size_t r = 0; r < 2 * n; ++r) {
        for (size_t c = 0; c < n; ++c) {
          const auto mag = static_cast<uint64_t>(std::abs(int64_t{acc[r * n + c]}));
          largest = std::max(largest, mag);
          if (r / 2 == c) reached = std::max(reached, mag);
        }
      }
      CHECK(packed.acc_bound() == reached);
      CHECK(largest <= packed.acc_bound());

      // Residual outputs with left shifts right at the exactness limit (bound·2^L ≤ INT32_MAX <
      // bound·2^(L+1): some x·2^L within a factor 2 of INT32_MAX) and one past it (saturating):
      // both the reference's bits.
      const int fit = std::countl_zero(packed.acc_bound()) - 33;  // largest L with bound·2^L < 2^31
      for (const int left : {fit, fit + 1}) {
        std::vector<int32_t> mult(n), shift(n);
        for (size_t c = 0; c < n; ++c) mult[c] = (1 << 30) + static_cast<int32_t>(rng() % (1u << 30)), shift[c] = c % 3 ? -left : 2;
        const intvit::RequantParams q{mult.data(), shift.data(), true, 0, INT32_MIN, INT32_MAX};
        const auto ref = intvit::PackedWeights::pack(GemmIsa::kRef, input, w.data(), n, k, bias.data(), zp);
        std::vector<int32_t> got(2 * n * n, 12345), want(2 * n * n, 12345);
        const void* a = u8 ? static_cast<const void*>(a8.data()) : a16.data();
        intvit::linear(packed, 2 * n, a, k, {got.data(), n, GemmOut::kS32, &q, true});
        intvit::linear(ref, 2 * n, a, k, {want.data(), n, GemmOut::kS32, &q, true});
        INFO("left shift " << left);
        CHECK(got == want);
      }
    });
  }
}

TEST_CASE("gemm: requant extremes given with the arrays give the reference's bits on any column range", "[gemm]") {
  // Columns 0..63 shift right only (a narrow plan when scanned alone), the rest include left shifts:
  // ranges inside the first part get the whole arrays' (less specialised) plan from the extremes.
  const size_t m = 9, n = 150, k = 70;
  std::mt19937 rng(31);
  std::vector<int8_t> w(n * k);
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  std::vector<int32_t> bias(n), mult(n), shift(n);
  for (size_t c = 0; c < n; ++c) {
    bias[c] = static_cast<int32_t>(rng() % 20001) - 10000;
    mult[c] = (1 << 30) + static_cast<int32_t>(rng() % (1u << 30));
    shift[c] = c < 64 ? 1 + static_cast<int32_t>(rng() % 12) : static_cast<int32_t>(rng() % 9) - 3;
  }
  std::vector<uint8_t> a(m * k);
  for (auto& v : a) v = static_cast<uint8_t>(rng());
  const intvit::RequantExtremes e = intvit::requant_extremes(mult.data(), shift.data(), n);
  CHECK(e.min_shift == *std::min_element(shift.begin(), shift.end()));
  CHECK(e.max_shift == *std::max_element(shift.begin(), shift.end()));
  CHECK(e.min_multiplier == *std::min_element(mult.begin(), mult.end()));
  const auto ref = intvit::PackedWeights::pack(GemmIsa::kRef, GemmInput::kU8, w.data(), n, k, bias.data(), 7);
  intvit::test::for_each_gemm_backend([&](GemmIsa isa) {
    const auto packed = intvit::PackedWeights::pack(isa, GemmInput::kU8, w.data(), n, k, bias.data(), 7);
    for (const GemmOut type : {GemmOut::kU8, GemmOut::kS32}) {
      const bool s32 = type == GemmOut::kS32;
      intvit::RequantParams q{mult.data(), shift.data(), true, s32 ? 0 : 77, s32 ? INT32_MIN : 0, s32 ? INT32_MAX : 255};
      for (auto [b, end] : {std::pair<size_t, size_t>{0, 64}, {0, 150}, {16, 48}, {64, 150}, {60, 70}}) {
        INFO("backend " << intvit::gemm_isa_name(isa) << (s32 ? " s32 accumulate" : " u8") << " columns " << b << ".." << end);
        std::vector<int32_t> got(m * n, 5), want(m * n, 5);
        q.extremes = &e;
        intvit::linear(packed, m, a.data(), k, {got.data(), n, type, &q, s32}, b, end);
        q.extremes = nullptr;
        intvit::linear(ref, m, a.data(), k, {want.data(), n, type, &q, s32}, b, end);
        CHECK(got == want);
      }
    }
  });
}

TEST_CASE("gemm: concurrent calls on shared weights (rows and columns split across threads)", "[gemm]") {
  // The executor shares one PackedWeights between threads; the oneDNN backend keeps per-thread state.
  const size_t m = 61, n = 150, k = 96;
  std::mt19937 rng(17);
  std::vector<int8_t> w(n * k);
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  std::vector<uint8_t> a(m * k);
  for (auto& v : a) v = static_cast<uint8_t>(rng());
  std::vector<int32_t> mult(n, (1 << 30) + 4321), shift(n, 9);
  const intvit::RequantParams q{mult.data(), shift.data(), true, 100, 0, 255};
  intvit::test::for_each_gemm_backend([&](GemmIsa isa) {
    const auto packed = intvit::PackedWeights::pack(isa, GemmInput::kU8, w.data(), n, k, nullptr, 77);
    std::vector<uint8_t> whole(m * n), split(m * n);
    intvit::linear(packed, m, a.data(), k, {whole.data(), n, GemmOut::kU8, &q});
    for (int round = 0; round < 3; ++round) {
      std::fill(split.begin(), split.end(), 0);
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          const size_t r0 = t % 2 ? 29 : 0, r1 = t % 2 ? m : 29, c0 = t / 2 ? 70 : 0, c1 = t / 2 ? n : 70;
          intvit::linear(packed, r1 - r0, a.data() + r0 * k, k, {split.data() + r0 * n, n, GemmOut::kU8, &q}, c0, c1);
        });
      }
      for (auto& th : threads) th.join();
      INFO("backend " << intvit::gemm_isa_name(isa) << " round " << round);
      CHECK(split == whole);
    }
  });
}

TEST_CASE("gemm: argument validation", "[gemm]") {
  using intvit::Error;
  using intvit::ErrorCode;
  const auto code_of = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return static_cast<int>(e.code());
    }
    return 0;
  };
  const int kInvalid = static_cast<int>(ErrorCode::kInvalidArgument);
  std::vector<int8_t> w(8 * 4, 1);
  std::vector<uint8_t> a(2 * 4, 1);
  std::vector<int32_t> c(2 * 8, 0);
  int32_t mult = 1 << 30, shift = 1;
  intvit::RequantParams q{&mult, &shift, false, 0, 0, 255};
  for (GemmIsa isa : intvit::kAllGemmIsas) {
    if (!intvit::gemm_isa_supported(isa)) {
      CHECK(code_of([&] { intvit::PackedWeights::pack(isa, GemmInput::kU8, w.data(), 8, 4, nullptr, 0); }) ==
            static_cast<int>(ErrorCode::kUnsupported));
      continue;
    }
    CHECK(code_of([&] { intvit::PackedWeights::pack(isa, GemmInput::kU8, w.data(), 0, 4, nullptr, 0); }) == kInvalid);
    CHECK(code_of([&] { intvit::PackedWeights::pack(isa, GemmInput::kU8, w.data(), 8, 4, nullptr, 256); }) == kInvalid);
    CHECK(code_of([&] { intvit::PackedWeights::pack(isa, GemmInput::kS16, w.data(), 8, 4, nullptr, 3); }) == kInvalid);
    const auto pw = intvit::PackedWeights::pack(isa, GemmInput::kU8, w.data(), 8, 4, nullptr, 0);
    CHECK(pw.isa() == isa);
    CHECK(pw.input() == GemmInput::kU8);
    const auto linear = [&](intvit::GemmOutput o, size_t lda = 4, size_t b = 0, size_t e = 8) {
      return code_of([&] { intvit::linear(pw, 2, a.data(), lda, o, b, e); });
    };
    CHECK(linear({c.data(), 8, GemmOut::kS32, nullptr}) == 0);
    CHECK(linear({c.data(), 8, GemmOut::kU8, nullptr}) == kInvalid);             // raw needs s32
    CHECK(linear({c.data(), 8, GemmOut::kU8, &q, true}) == kInvalid);            // accumulate needs s32
    CHECK(linear({c.data(), 7, GemmOut::kS32, nullptr}) == kInvalid);            // ld < n
    CHECK(linear({c.data(), 8, GemmOut::kS32, nullptr}, 3) == kInvalid);         // lda < k
    CHECK(linear({c.data(), 8, GemmOut::kS32, nullptr}, 4, 5, 9) == kInvalid);   // n_end > n
    CHECK(linear({c.data(), 8, GemmOut::kS32, nullptr}, 4, 6, 5) == kInvalid);   // begin > end
    intvit::RequantParams bad = q;
    bad.qmax = 256;
    CHECK(linear({c.data(), 8, GemmOut::kU8, &bad}) == kInvalid);
    int32_t negative_mult = -1, big_shift = 32;
    bad = q;
    bad.multiplier = &negative_mult;
    CHECK(linear({c.data(), 8, GemmOut::kU8, &bad}) == kInvalid);
    bad = q;
    bad.shift = &big_shift;
    CHECK(linear({c.data(), 8, GemmOut::kU8, &bad}) == kInvalid);
    // Per channel: one bad entry among good ones, checked only inside the called column range.
    std::vector<int32_t> mults(8, 1 << 30), shifts(8, 1);
    intvit::RequantParams per_channel{mults.data(), shifts.data(), true, 0, 0, 255};
    CHECK(linear({c.data(), 8, GemmOut::kU8, &per_channel}) == 0);
    mults[5] = -7;
    CHECK(linear({c.data(), 8, GemmOut::kU8, &per_channel}) == kInvalid);
    CHECK(linear({c.data(), 8, GemmOut::kU8, &per_channel}, 4, 0, 5) == 0);
    mults[5] = 1 << 30;
    shifts[6] = -32;
    CHECK(linear({c.data(), 8, GemmOut::kU8, &per_channel}) == kInvalid);
    shifts[6] = 1;
    shifts[2] = 32;
    CHECK(linear({c.data(), 8, GemmOut::kU8, &per_channel}) == kInvalid);
    CHECK(linear({c.data(), 8, GemmOut::kU8, &per_channel}, 4, 3, 8) == 0);
    CHECK(code_of([&] {
            intvit::matmul_u8u8_nt(isa, 2, 2, 40000, a.data(), 40000, 0, a.data(), 40000, 0, c.data(), 2);
          }) == kInvalid);
    CHECK(code_of([&] { intvit::matmul_u8u8_nt(isa, 2, 2, 4, a.data(), 4, 256, a.data(), 4, 0, c.data(), 2); }) == kInvalid);
  }
  // Moved-from weights are empty and rejected.
  auto p1 = intvit::PackedWeights::pack(GemmIsa::kRef, GemmInput::kU8, w.data(), 8, 4, nullptr, 0);
  intvit::PackedWeights p2 = std::move(p1);
  CHECK(p1.empty());
  CHECK_FALSE(p2.empty());
  CHECK(code_of([&] { intvit::linear(p1, 2, a.data(), 4, {c.data(), 8, GemmOut::kS32, nullptr}); }) == kInvalid);
}
