// Shared helpers for the nonlinear-operator tests (softmax, GELU, LayerNorm, residual add):
// seeds that are printed on failure and overridable, and the list of SIMD variants to hold to the
// reference: every variant this CPU runs (an AVX-512 machine tests AVX2 and AVX-512), with a
// visible skip for each one it cannot.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "kernels/nonlinear.h"

namespace intvit::test {

// The seed for one random test: INTVIT_TEST_SEED if set (to explore), else the test's fixed
// default (reproducible CI). Tests INFO() it, so any failure prints it.
inline uint64_t nonlinear_seed(uint64_t fixed_default) {
  if (const char* env = std::getenv("INTVIT_TEST_SEED"); env && *env) return std::strtoull(env, nullptr, 0);
  return fixed_default;
}

// Uniform integer in [lo, hi] (inclusive) with 64-bit range.
inline int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// One SIMD variant of a kernel family (same signature as its `_ref`).
template <typename Fn>
struct Variant {
  NonlinearIsa isa;
  const char* name;  // the function's name, for failure messages
  Fn* fn;
};

// The variants of `all` this CPU can run; each one it cannot is reported with WARN (skipped, not
// passed silently).
template <typename Fn>
std::vector<Variant<Fn>> runnable_variants(std::initializer_list<Variant<Fn>> all) {
  std::vector<Variant<Fn>> out;
  for (const Variant<Fn>& v : all) {
    if (nonlinear_isa_supported(v.isa)) {
      out.push_back(v);
    } else {
      WARN("SKIPPED: " << v.name << " (CPU lacks " << nonlinear_isa_name(v.isa)
                       << "); its SIMD-vs-reference check did not run");
    }
  }
  return out;
}

inline auto softmax_variants() {
  return runnable_variants<decltype(softmax_rows_ref)>({{NonlinearIsa::kAvx2, "softmax_rows__avx2", softmax_rows__avx2},
                                                        {NonlinearIsa::kAvx512, "softmax_rows__avx512", softmax_rows__avx512}});
}
inline auto av_log2_variants() {
  return runnable_variants<decltype(av_log2_ref)>({{NonlinearIsa::kAvx2, "av_log2__avx2", av_log2__avx2},
                                                   {NonlinearIsa::kAvx512, "av_log2__avx512", av_log2__avx512}});
}
inline auto softmax16_variants() {
  return runnable_variants<decltype(softmax_rows16_ref)>(
      {{NonlinearIsa::kAvx2, "softmax_rows16__avx2", softmax_rows16__avx2},
       {NonlinearIsa::kAvx512, "softmax_rows16__avx512", softmax_rows16__avx512}});
}
// av16 also has the builds av16__avx2 / av16__avx512 pick between: the VNNI ones need AVX-VNNI /
// AVX512-VNNI too.
inline auto av16_variants() {
  auto out = runnable_variants<decltype(av16_ref)>({{NonlinearIsa::kAvx2, "av16__avx2", av16__avx2},
                                                    {NonlinearIsa::kAvx2, "av16_madd__avx2", av16_madd__avx2},
                                                    {NonlinearIsa::kAvx512, "av16__avx512", av16__avx512},
                                                    {NonlinearIsa::kAvx512, "av16_madd__avx512", av16_madd__avx512}});
  if (cpu_has_avx2() && __builtin_cpu_supports("avxvnni")) {
    out.push_back({NonlinearIsa::kAvx2, "av16__avxvnni", av16__avxvnni});
  } else {
    WARN("SKIPPED: av16__avxvnni (CPU lacks AVX-VNNI); its SIMD-vs-reference check did not run");
  }
  if (cpu_has_avx512() && __builtin_cpu_supports("avx512vnni")) {
    out.push_back({NonlinearIsa::kAvx512, "av16__avx512vnni", av16__avx512vnni});
  } else {
    WARN("SKIPPED: av16__avx512vnni (CPU lacks AVX512-VNNI); its SIMD-vs-reference check did not run");
  }
  return out;
}
inline auto layernorm_variants() {
  return runnable_variants<decltype(layernorm_rows_ref)>(
      {{NonlinearIsa::kAvx2, "layernorm_rows__avx2", layernorm_rows__avx2},
       {NonlinearIsa::kAvx512, "layernorm_rows__avx512", layernorm_rows__avx512}});
}
inline auto gelu_variants() {
  return runnable_variants<decltype(gelu_ref)>({{NonlinearIsa::kAvx2, "gelu__avx2", gelu__avx2},
                                                {NonlinearIsa::kAvx512, "gelu__avx512", gelu__avx512}});
}
inline auto residual_add_variants() {
  return runnable_variants<decltype(residual_add_ref)>({{NonlinearIsa::kAvx2, "residual_add__avx2", residual_add__avx2},
                                                        {NonlinearIsa::kAvx512, "residual_add__avx512", residual_add__avx512}});
}

}  // namespace intvit::test
