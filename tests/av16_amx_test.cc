// av16 on AMX tiles (kernels/softmax/av16-amx.h) against av16_ref, bit for bit: the emulated tiles
// on every host, the real ones where the CPU and OS allow AMX (else a visible WARN).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/backend/cpu.h"
#include "kernels/error.h"
#include "kernels/gemm/gemm.h"
#include "kernels/softmax/av16-amx.h"
#include "kernels/softmax/av16-u8.h"
#include "kernels/softmax/softmax.h"

namespace {

using Av16Fn = void (*)(size_t, size_t, size_t, const uint16_t*, size_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);

TEST_CASE("av16 amx: tile variants equal av16_ref (any uint16 p, any z_v, tile edges)", "[softmax16][av16][amx]") {
  std::vector<std::pair<const char*, Av16Fn>> variants{{"av16__amxemu", intvit::av16__amxemu}};
  if (intvit::gemm_isa_supported(intvit::GemmIsa::kAmx)) {
    variants.emplace_back("av16__amx", intvit::av16__amx);
  } else {
    WARN("av16__amx not run: " << intvit::gemm_isa_missing_feature(intvit::GemmIsa::kAmx));
  }
  std::mt19937_64 rng(0xa716a);
  // k 2113: per-step split/packing; k 1100: vᵀ in groups of 32 columns; n 300: two groups of columns;
  // m 33 after 16 and 32: a 1-row tile after full ones (the split panel is zeroed once per call).
  const size_t shapes[][3] = {{1, 1, 1},   {3, 5, 7},     {16, 16, 64}, {17, 33, 65}, {197, 64, 197}, {15, 31, 63},
                              {33, 65, 129}, {5, 64, 2113}, {2, 3, 0},   {5, 64, 1100}, {3, 300, 5},   {33, 17, 2},
                              {18, 1, 131}};
  for (const auto& s : shapes) {
    const size_t m = s[0], n = s[1], k = s[2];
    for (int kind = 0; kind < 3; ++kind) {
      const size_t ld_p = k + 3, ld_v = k + 1, ld_acc = n + 2;
      std::vector<uint16_t> probs(m * ld_p + 1, 0xBEEF);
      std::vector<uint8_t> v(n * ld_v + 1);
      for (size_t i = 0; i < m; ++i) {
        for (size_t q = 0; q < k; ++q) {
          probs[i * ld_p + q] = kind == 0 ? static_cast<uint16_t>(rng() % 32768) : kind == 1 ? 32767 : static_cast<uint16_t>(rng());
        }
      }
      for (auto& x : v) x = kind == 1 ? 255 : static_cast<uint8_t>(rng());
      for (int32_t zv : {0, 128, 255, static_cast<int32_t>(rng() % 200001) - 100000}) {
        INFO("m " << m << " n " << n << " k " << k << " kind " << kind << " z_v " << zv);
        std::vector<int32_t> want(m * ld_acc, -7), got(m * ld_acc, -7);
        intvit::av16_ref(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, want.data(), ld_acc);
        for (const auto& [name, fn] : variants) {
          INFO(name);
          std::fill(got.begin(), got.end(), -7);
          fn(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, got.data(), ld_acc);
          REQUIRE(got == want);  // includes the untouched padding between rows
        }
      }
    }
  }
}

// av16_u8 on tiles (v token-major packed straight into them, the requantization on each row
// tile's results) against av16_u8_ref: tile edges, column groups, K past the panel, z_v and the
// requantization's extremes (left and right shifts, zero multiplier, output zero-points 0 and 255).
TEST_CASE("av16_u8 amx: tile variants equal av16_u8_ref (v token-major, Eq. 23c)", "[softmax16][av16][av16_u8][amx]") {
  using Av16U8Fn = decltype(&intvit::av16_u8_ref);
  std::vector<std::pair<const char*, Av16U8Fn>> variants{{"av16_u8__amxemu", intvit::av16_u8__amxemu}};
  if (intvit::gemm_isa_supported(intvit::GemmIsa::kAmx)) {
    variants.emplace_back("av16_u8__amx", intvit::av16_u8__amx);
  } else {
    WARN("av16_u8__amx not run: " << intvit::gemm_isa_missing_feature(intvit::GemmIsa::kAmx));
  }
  std::mt19937_64 rng(0xa716b);
  const intvit::Av16Requant requants[] = {{1518500250, 22, 128}, {1073741824, 16, 0}, {2147483647, 30, 255},
                                         {1518500250, -2, 3},   {0, 5, 77},          {1900000000, 12, 200}};
  const size_t shapes[][3] = {{1, 1, 1},    {3, 5, 7},     {16, 16, 64}, {17, 33, 65}, {197, 64, 197}, {15, 31, 63},
                              {5, 64, 1100}, {4, 40, 2113}, {2, 3, 0},   {3, 300, 5},  {33, 17, 2}};
  size_t which = 0;
  for (const auto& s : shapes) {
    const size_t m = s[0], n = s[1], k = s[2];
    const size_t ld_p = k + 3, ld_v = n + 5, ld_out = n + 2;
    std::vector<uint16_t> probs(m * ld_p + 1, 0xBEEF);
    std::vector<uint8_t> v(k * ld_v + 1);
    for (size_t i = 0; i < m; ++i) {
      for (size_t q = 0; q < k; ++q) probs[i * ld_p + q] = static_cast<uint16_t>(rng() % 32768);
    }
    for (auto& x : v) x = static_cast<uint8_t>(rng());
    for (int32_t zv : {0, 128, 255}) {
      const intvit::Av16Requant& rq = requants[which++ % std::size(requants)];
      INFO("m " << m << " n " << n << " k " << k << " z_v " << zv << " M " << rq.multiplier << " shift " << rq.shift << " z_out "
                << rq.zero_point);
      std::vector<uint8_t> want(m * ld_out, 0xA5), got(m * ld_out, 0xA5);
      intvit::av16_u8_ref(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, rq, want.data(), ld_out);
      for (const auto& [name, fn] : variants) {
        INFO(name);
        std::fill(got.begin(), got.end(), 0xA5);
        fn(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, rq, got.data(), ld_out);
        REQUIRE(got == want);  // includes the untouched padding between rows
      }
    }
  }
  // The block path (amx-attention.h: tiles in 32 × 32 blocks, −z_v·Σp subtracted from the low
  // plane, the amx linears' block stage; amx-emu takes it where the host has AVX-512): rows 1..40
  // and 197 (row tiles of 16, a last partial one), n around 16/32/64 (partial column tiles and
  // pairs, groups of blocks), K around the 64-value steps, z_v 0 and 255, probabilities whose high
  // byte is 0 or 255 (any uint16: the tiles wrap like av16_u8_ref), ViT-Ti's block 0 requantization.
  // z_v far outside [0, 255] (Eq. 23d holds for every int32 z_v: the row init −z_v·Σp wraps modulo
  // 2^32 like the reference), with a requantization that keeps acc's top bits visible in the byte
  // (MBQM = acc / 2^25, |·| ≤ 64 around z_out 128), so a wrong start value cannot hide in the clamp.
  if (!intvit::cpu_features().avx512) WARN("av16_u8__amxemu runs its int32 fallback here (no AVX-512 block stage)");
  const intvit::Av16Requant vit_ti{1163280654, 14, 118};
  const intvit::Av16Requant top_bits{1 << 30, 24, 128};  // MBQM(acc) = acc / 2^25 rounded
  for (size_t m : {1, 2, 15, 16, 17, 31, 32, 33, 40, 197}) {
    for (size_t n : {1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96}) {
      for (size_t k : {1, 16, 31, 32, 33, 63, 64, 65, 197}) {
        if (m == 197 && (k < 197 || n % 16 != 0)) continue;  // keep the sweep short: the big rows on a few shapes
        const size_t ld_p = k + 1, ld_v = n + 3, ld_out = n + 1;
        const int kind = static_cast<int>((m + n + k) % 3);
        std::vector<uint16_t> probs(m * ld_p + 1, 0xBEEF);
        std::vector<uint8_t> v(k * ld_v + 1);
        for (size_t i = 0; i < m; ++i) {
          for (size_t q = 0; q < k; ++q) {
            const uint16_t low = static_cast<uint16_t>(rng() & 255);
            probs[i * ld_p + q] = kind == 0 ? low : kind == 1 ? static_cast<uint16_t>(0xFF00 | low) : static_cast<uint16_t>(rng() % 32768);
          }
        }
        for (auto& x : v) x = static_cast<uint8_t>(rng());
        for (int32_t zv : {0, 255, -100003, 70001, INT32_MIN, INT32_MAX}) {
          const bool wide_zv = zv < 0 || zv > 255;
          const intvit::Av16Requant rq = wide_zv     ? top_bits
                                         : kind == 2 ? vit_ti
                                                     : requants[(m + n + k + static_cast<size_t>(zv)) % std::size(requants)];
          INFO("block path: m " << m << " n " << n << " k " << k << " kind " << kind << " z_v " << zv << " M " << rq.multiplier << " shift "
                                << rq.shift << " z_out " << rq.zero_point);
          std::vector<uint8_t> want(m * ld_out, 0xA5), got(m * ld_out, 0xA5);
          intvit::av16_u8_ref(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, rq, want.data(), ld_out);
          for (const auto& [name, fn] : variants) {
            INFO(name);
            std::fill(got.begin(), got.end(), 0xA5);
            fn(m, n, k, probs.data(), ld_p, v.data(), ld_v, zv, rq, got.data(), ld_out);
            REQUIRE(got == want);  // includes the untouched padding between rows
          }
        }
      }
    }
  }
  // Bad arguments: the shared check, before any tile work.
  uint8_t out[4];
  const uint16_t p[4] = {};
  const uint8_t vv[4] = {};
  CHECK_THROWS_AS(intvit::av16_u8__amxemu(1, 2, 2, p, 2, vv, 2, 0, intvit::Av16Requant{-1, 0, 0}, out, 2), intvit::Error);
  CHECK_THROWS_AS(intvit::av16_u8__amxemu(1, 2, 2, p, 2, vv, 2, 0, intvit::Av16Requant{1 << 30, 0, 0}, out, 1), intvit::Error);
}

}  // namespace
