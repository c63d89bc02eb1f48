// av16 on AMX tiles (kernels/softmax/av16-amx.h) against av16_ref, bit for bit: the emulated tiles
// on every host, the real ones where the CPU and OS allow AMX (else a visible WARN).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/gemm/gemm.h"
#include "kernels/softmax/av16-amx.h"
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

}  // namespace
