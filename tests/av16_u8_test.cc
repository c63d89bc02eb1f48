// av16_u8 (kernels/softmax/av16-u8.h, QUANTIZATION.md Eq. 23c: attn@v from token-major v with the
// requantization in the tile) against its reference, bit for bit, over the edges of the tiles
// (rows 1..13, columns 1..70 and 64, k 1..200 incl. 197, k blocks past 256; rows split in chunks of 12),
// probabilities uniform and softmax-like (sparse high bytes), zero-points at the
// int16 fold limits and per-tensor multipliers with right and left shifts; the reference against
// what it replaces (av16 on vᵀ, then requantize()); the backend's choice; bad arguments. Kernels only
// (tests/avx512_emu runs it too); the executor's fused run is av16_u8_executor_test.cc.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "kernels/error.h"
#include "kernels/softmax/av16-amx.h"
#include "nonlinear_tester.h"

using namespace intvit;
using test::nonlinear_seed;
using test::uniform_int;

namespace {

struct Case {
  size_t m, n, k;
  int32_t zv;
  Av16Requant rq;
};

// How the probabilities are drawn: uniform in [0, 32767] (every high byte non-zero, now and then every
// p = 32767: the largest pair sums), or like softmax rows, mostly below 256 with high bytes in a few
// places per row (none, one, the first or last k, a few, every 4th k), which the byte-split kernel
// (av16-split-avx512vnni.h) skips or takes quad by quad.
enum class Probs { kUniform, kSparseHigh };

// Random operands for `c` with strides past the row lengths; p <= 32767 (the precondition).
struct Operands {
  size_t ld_p, ld_v, ld_out;
  std::vector<uint16_t> probs;
  std::vector<uint8_t> v;
  Operands(const Case& c, std::mt19937_64& rng, Probs kind = Probs::kUniform) : ld_p(c.k + 3), ld_v(c.n + 5), ld_out(c.n + 7) {
    probs.assign(c.m * ld_p + 1, 0xBEEF);  // padding > 32767: must never be read
    const bool flat = rng() % 4 == 0;
    for (size_t i = 0; i < c.m; ++i) {
      uint16_t* row = probs.data() + i * ld_p;
      for (size_t kk = 0; kk < c.k; ++kk) {
        const uint64_t draw = rng();
        row[kk] = static_cast<uint16_t>(kind == Probs::kSparseHigh ? draw % 256 : flat ? 32767 : draw % 32768);
      }
      if (kind == Probs::kUniform || c.k == 0) continue;
      const auto high = [&](size_t kk) { row[kk] = static_cast<uint16_t>(row[kk] | (1 + rng() % 127) << 8); };
      switch (rng() % 6) {
        case 0: break;                     // no high byte: the whole row skipped
        case 1: high(rng() % c.k); break;  // one
        case 2: high(0); break;
        case 3: high(c.k - 1); break;      // in the last (maybe partial) quad
        case 4: for (int h = 0; h < 6; ++h) high(rng() % c.k); break;
        default: for (size_t kk = rng() % 4; kk < c.k; kk += 4) high(kk); break;  // every quad
      }
    }
    v.resize(std::max<size_t>(c.k, 1) * ld_v);
    for (auto& x : v) x = static_cast<uint8_t>(rng());
  }
};

// The reference, then every SIMD variant on the same operands: identical bytes, padding untouched.
template <typename Variants>
void require_variants_equal_ref(const Variants& variants, const Case& c, std::mt19937_64& rng, Probs kind = Probs::kUniform) {
  const Operands o(c, rng, kind);
  std::vector<uint8_t> ref(c.m * o.ld_out, 0xA5), simd(ref.size());
  av16_u8_ref(c.m, c.n, c.k, o.probs.data(), o.ld_p, o.v.data(), o.ld_v, c.zv, c.rq, ref.data(), o.ld_out);
  for (const auto& variant : variants) {
    INFO(variant.name << ": m " << c.m << " n " << c.n << " k " << c.k << " z_v " << c.zv << " M " << c.rq.multiplier << " shift "
                      << c.rq.shift << " z_out " << c.rq.zero_point);
    std::fill(simd.begin(), simd.end(), uint8_t{0xA5});
    variant.fn(c.m, c.n, c.k, o.probs.data(), o.ld_p, o.v.data(), o.ld_v, c.zv, c.rq, simd.data(), o.ld_out);
    REQUIRE(simd == ref);
  }
}

// Requantizations that land mostly inside [0, 255] for accumulators of the size k gives (right
// shifts), and ones that saturate (left shift, shift 0).
Av16Requant requant_for(size_t k, int kind, std::mt19937_64& rng) {
  const auto m = static_cast<int32_t>(uniform_int(rng, int64_t{1} << 30, (int64_t{1} << 31) - 1));
  const auto z = static_cast<int32_t>(uniform_int(rng, 0, 255));
  int bits = 1;
  while ((size_t{1} << bits) < std::max<size_t>(k, 1)) ++bits;
  switch (kind) {
    case 0: return {m, 16 + bits, z};  // |acc| up to 2^(23 + log2 k) -> a few hundred steps
    case 1: return {m, 1, 0};          // shift 1, zero-point at the bottom
    case 2: return {m, 0, 255};        // no shift, zero-point at the top
    default: return {m, -static_cast<int32_t>(uniform_int(rng, 1, 3)), z};  // left shifts: mostly saturated
  }
}

}  // namespace

TEST_CASE("av16_u8: SIMD variants equal the reference on tile edges, fold limits and shifts", "[av16_u8][av16]") {
  const auto variants = test::av16_u8_variants();
  const uint64_t seed = nonlinear_seed(0xa7168);
  INFO("seed " << seed << " (set INTVIT_TEST_SEED to change)");
  std::mt19937_64 rng(seed);
  // v's zero-point: inside the fold range (v - z fits int16), at both of its limits and just past
  // them (the tile then starts from -z·Σp), and far outside (sums wrap mod 2^32).
  const int32_t fold_zps[] = {0, 255, -32512, -32513, 32767, 32768, 1 << 20};
  int kind = 0;
  auto random_zv = [&] { return static_cast<int32_t>(rng() % 3 == 0 ? fold_zps[rng() % std::size(fold_zps)] : rng() % 256); };
  SECTION("rows 1..13 × k around the pairs, 32-k packing and 197") {
    for (size_t m = 1; m <= 13; ++m) {
      for (size_t k : {1, 2, 3, 31, 32, 33, 197, 200}) require_variants_equal_ref(variants, {m, 64, k, random_zv(), requant_for(k, kind++ % 4, rng)}, rng);
    }
  }
  SECTION("columns 1..70") {
    for (size_t n = 1; n <= 70; ++n) {
      for (size_t m : {1, 7}) require_variants_equal_ref(variants, {m, n, 197, random_zv(), requant_for(197, kind++ % 4, rng)}, rng);
      require_variants_equal_ref(variants, {6, n, 5, random_zv(), requant_for(5, kind++ % 4, rng)}, rng);
    }
  }
  SECTION("k 1..200") {
    for (size_t k = 1; k <= 200; ++k) require_variants_equal_ref(variants, {7, 64, k, random_zv(), requant_for(k, kind++ % 4, rng)}, rng);
  }
  SECTION("every fold-limit zero-point × every shift kind") {
    for (int32_t zv : fold_zps) {
      for (int rk = 0; rk < 4; ++rk) require_variants_equal_ref(variants, {13, 64, 197, zv, requant_for(197, rk, rng)}, rng);
    }
  }
  SECTION("k past one packed block (256): rows in chunks through int32 sums") {
    for (size_t k : {255, 256, 257, 513}) {
      for (size_t m : {5, 50}) require_variants_equal_ref(variants, {m, 70, k, random_zv(), requant_for(k, kind++ % 4, rng)}, rng);
    }
  }
  SECTION("softmax-like rows: high bytes in a few quads per row, none, or every quad") {
    for (size_t k : {1, 3, 4, 5, 63, 64, 65, 197, 252, 253, 256}) {
      for (size_t m : {1, 6, 11, 12, 13, 25, 197}) {
        require_variants_equal_ref(variants, {m, 64, k, random_zv(), requant_for(k, kind++ % 4, rng)}, rng, Probs::kSparseHigh);
      }
    }
    for (size_t n : {1, 17, 64, 65, 130}) {
      require_variants_equal_ref(variants, {13, n, 197, random_zv(), requant_for(197, 0, rng)}, rng, Probs::kSparseHigh);
    }
  }
  SECTION("shift extremes 31 and -31, multiplier 0") {
    for (const Av16Requant rq : {Av16Requant{1 << 30, 31, 7}, Av16Requant{(1 << 30) + 12345, -31, 9}, Av16Requant{0, 5, 200}}) {
      require_variants_equal_ref(variants, {9, 33, 197, random_zv(), rq}, rng);
    }
  }
}

TEST_CASE("av16_u8_ref: av16 on vᵀ, then requantize() (what the executor ran before)", "[av16_u8][av16]") {
  std::mt19937_64 rng(nonlinear_seed(0xa7169));
  for (size_t k : {1, 64, 197, 300}) {
    for (int kind = 0; kind < 4; ++kind) {
      const Case c{11, 64, k, static_cast<int32_t>(rng() % 256), requant_for(k, kind, rng)};
      const Operands o(c, rng);
      std::vector<uint8_t> v_t(c.n * c.k);
      for (size_t kk = 0; kk < c.k; ++kk) {
        for (size_t j = 0; j < c.n; ++j) v_t[j * c.k + kk] = o.v[kk * o.ld_v + j];
      }
      std::vector<int32_t> acc(c.m * c.n);
      av16_ref(c.m, c.n, c.k, o.probs.data(), o.ld_p, v_t.data(), c.k, c.zv, acc.data(), c.n);
      std::vector<uint8_t> want(c.m * c.n), got(c.m * c.n);
      const RequantParams rp{&c.rq.multiplier, &c.rq.shift, false, c.rq.zero_point, 0, 255};
      requantize(GemmIsa::kRef, c.m, c.n, acc.data(), c.n, rp, GemmOutput{want.data(), c.n, GemmOut::kU8, &rp});
      av16_u8_ref(c.m, c.n, c.k, o.probs.data(), o.ld_p, o.v.data(), o.ld_v, c.zv, c.rq, got.data(), c.n);
      INFO("k " << k << " shift " << c.rq.shift);
      REQUIRE(got == want);
      // The executor's old path on each backend's own kernels: the same bytes as its fused kernel.
      for (GemmIsa isa : kAllGemmIsas) {
        if (!gemm_isa_supported(isa)) continue;
        const KernelSet ks = kernel_set(isa);
        if (ks.av16_u8 == nullptr) continue;
        std::vector<int32_t> acc_isa(c.m * c.n);
        std::vector<uint8_t> old(c.m * c.n), fused(c.m * c.n);
        ks.av16(c.m, c.n, c.k, o.probs.data(), o.ld_p, v_t.data(), c.k, c.zv, acc_isa.data(), c.n);
        requantize(ks.gemm, c.m, c.n, acc_isa.data(), c.n, rp, GemmOutput{old.data(), c.n, GemmOut::kU8, &rp});
        ks.av16_u8(c.m, c.n, c.k, o.probs.data(), o.ld_p, o.v.data(), o.ld_v, c.zv, c.rq, fused.data(), c.n);
        INFO("backend " << gemm_isa_name(isa));
        REQUIRE(fused == old);
        REQUIRE(fused == want);
      }
    }
  }
}

TEST_CASE("av16_u8: the backend's build, on tiles for the tile backends", "[av16_u8][backend]") {
  const CpuFeatures& cpu = cpu_features();
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) continue;
    INFO("backend " << gemm_isa_name(isa));
    const KernelSet k = kernel_set(isa);
    if (isa == GemmIsa::kAmx || isa == GemmIsa::kAmxEmu) {
      CHECK(k.av16_u8 == (isa == GemmIsa::kAmx ? &av16_u8__amx : &av16_u8__amxemu));  // av16 runs on tiles there
      continue;
    }
    switch (k.nonlinear) {
      case NonlinearIsa::kRef: CHECK(k.av16_u8 == &av16_u8_ref); break;
      case NonlinearIsa::kAvx2: CHECK(k.av16_u8 == (k.av16 == &av16__avxvnni ? &av16_u8__avxvnni : &av16_u8__avx2)); break;
      default: CHECK(k.av16_u8 == (cpu.avx512vnni ? &av16_u8__avx512vnni : &av16_u8__avx512)); break;
    }
  }
}

TEST_CASE("av16_u8: bad arguments throw kInvalidArgument in every variant", "[av16_u8]") {
  std::vector<Av16U8Fn> fns{av16_u8_ref};
  for (const auto& v : test::av16_u8_variants()) fns.push_back(v.fn);
  const std::vector<uint16_t> p(64, 100);
  const std::vector<uint8_t> v(64 * 64, 7);
  std::vector<uint8_t> out(64 * 64);
  const Av16Requant bad[] = {{-1, 5, 0}, {1 << 30, 32, 0}, {1 << 30, -32, 0}, {1 << 30, 5, 256}, {1 << 30, 5, -1}};
  for (Av16U8Fn fn : fns) {
    for (const Av16Requant& rq : bad) {
      INFO("M " << rq.multiplier << " shift " << rq.shift << " z " << rq.zero_point);
      try {
        fn(1, 16, 4, p.data(), 4, v.data(), 16, 0, rq, out.data(), 16);
        FAIL("no error");
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::kInvalidArgument);
      }
    }
    const Av16Requant ok{1 << 30, 5, 3};
    CHECK_THROWS_AS(fn(1, 16, 4, p.data(), 4, v.data(), 16, 0, ok, out.data(), 15), Error);   // ld_out < n
    CHECK_THROWS_AS(fn(1, 16, 4, p.data(), 3, v.data(), 16, 0, ok, out.data(), 16), Error);   // ld_p < k
    CHECK_THROWS_AS(fn(1, 16, 4, p.data(), 4, v.data(), 15, 0, ok, out.data(), 16), Error);   // ld_v < n
    CHECK_THROWS_AS(fn(1, 16, 4, p.data(), 4, nullptr, 16, 0, ok, out.data(), 16), Error);
    CHECK_NOTHROW(fn(0, 16, 4, nullptr, 4, nullptr, 16, 0, ok, nullptr, 16));  // nothing to do
  }
}
