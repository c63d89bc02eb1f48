// Shared helpers for the nonlinear-operator tests (softmax, GELU, LayerNorm):
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

#include "coverage.h"
#include "kernels/backend/backend.h"

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

// The kernels a default session on this CPU runs (its best backend).
inline const KernelSet& best_kernels() {
  static const KernelSet k = kernel_set(best_native_gemm_isa());
  return k;
}

// One SIMD variant of a kernel family (same signature as its `_ref`).
template <typename Fn>
struct Variant {
  NonlinearIsa isa;
  const char* name;  // the function's name, for failure messages
  Fn* fn;
};

// The variants of `all` this CPU can run; each one it cannot is reported with WARN (skipped, not
// passed silently) and recorded for the coverage summary (coverage.h), as is each one it runs.
template <typename Fn>
std::vector<Variant<Fn>> runnable_variants(std::initializer_list<Variant<Fn>> all) {
  std::vector<Variant<Fn>> out;
  for (const Variant<Fn>& v : all) {
    if (nonlinear_isa_supported(v.isa)) {
      out.push_back(v);
      record_variant_ran(v.name);
    } else {
      WARN("SKIPPED: " << v.name << " (CPU lacks " << nonlinear_isa_name(v.isa)
                       << "); its SIMD-vs-reference check did not run");
      record_variant_unsupported(v.name, std::string("CPU lacks ") + nonlinear_isa_name(v.isa));
    }
  }
  return out;
}

// Every SIMD variant of every nonlinear family: fn(name, isa). The lists below and this one are
// written from the same X-macro, so a variant cannot be tested without being listed.
#define INTVIT_NONLINEAR_VARIANTS(X) X(av_log2, av_log2) X(layernorm, layernorm_rows)

#define INTVIT_VARIANT_LIST(family, fn)                                                                          \
  inline auto family##_variants() {                                                                             \
    return runnable_variants<decltype(fn##_ref)>(                                                               \
        {{NonlinearIsa::kAvx2, #fn "__avx2", fn##__avx2}, {NonlinearIsa::kAvx512, #fn "__avx512", fn##__avx512}}); \
  }
INTVIT_NONLINEAR_VARIANTS(INTVIT_VARIANT_LIST)
#undef INTVIT_VARIANT_LIST

// av16 also has VNNI builds (vpdpwssd); GELU and softmax (8- and 16-bit) VBMI ones (byte tables
// by vpermi2b).
#define INTVIT_SOFTMAX_VARIANTS(X) \
  X(kAvx2, softmax_rows__avx2) X(kAvx512, softmax_rows__avx512) X(kAvx512Vbmi, softmax_rows__avx512vbmi)
#define INTVIT_SOFTMAX16_VARIANTS(X) \
  X(kAvx2, softmax_rows16__avx2) X(kAvx512, softmax_rows16__avx512) X(kAvx512Vbmi, softmax_rows16__avx512vbmi)
#define INTVIT_AV16_VARIANTS(X) \
  X(kAvx2, av16__avx2) X(kAvxVnni, av16__avxvnni) X(kAvx512, av16__avx512) X(kAvx512Vnni, av16__avx512vnni)
// av16 fused with v's transpose and the requantization (kernels/softmax/av16-u8.h).
#define INTVIT_AV16_U8_VARIANTS(X) \
  X(kAvx2, av16_u8__avx2) X(kAvxVnni, av16_u8__avxvnni) X(kAvx512, av16_u8__avx512) X(kAvx512Vnni, av16_u8__avx512vnni)
#define INTVIT_GELU_VARIANTS(X) \
  X(kAvx2, gelu__avx2) X(kAvx512, gelu__avx512) X(kAvx512Vbmi, gelu__avx512vbmi)
#define INTVIT_VARIANT_ENTRY(isa, f) {NonlinearIsa::isa, #f, f},
inline auto av16_variants() { return runnable_variants<decltype(av16_ref)>({INTVIT_AV16_VARIANTS(INTVIT_VARIANT_ENTRY)}); }
inline auto av16_u8_variants() { return runnable_variants<decltype(av16_u8_ref)>({INTVIT_AV16_U8_VARIANTS(INTVIT_VARIANT_ENTRY)}); }
inline auto gelu_variants() { return runnable_variants<decltype(gelu_ref)>({INTVIT_GELU_VARIANTS(INTVIT_VARIANT_ENTRY)}); }
inline auto softmax_variants() {
  return runnable_variants<decltype(softmax_rows_ref)>({INTVIT_SOFTMAX_VARIANTS(INTVIT_VARIANT_ENTRY)});
}
inline auto softmax16_variants() {
  return runnable_variants<decltype(softmax_rows16_ref)>({INTVIT_SOFTMAX16_VARIANTS(INTVIT_VARIANT_ENTRY)});
}
#undef INTVIT_VARIANT_ENTRY

template <typename Fn>
void for_each_nonlinear_variant(Fn&& fn) {
#define INTVIT_VARIANT_NAMES(family, f)    \
  fn(#f "__avx2", NonlinearIsa::kAvx2); \
  fn(#f "__avx512", NonlinearIsa::kAvx512);
  INTVIT_NONLINEAR_VARIANTS(INTVIT_VARIANT_NAMES)
#undef INTVIT_VARIANT_NAMES
#define INTVIT_VARIANT_NAME(isa, f) fn(#f, NonlinearIsa::isa);
  INTVIT_SOFTMAX_VARIANTS(INTVIT_VARIANT_NAME)
  INTVIT_SOFTMAX16_VARIANTS(INTVIT_VARIANT_NAME)
  INTVIT_AV16_VARIANTS(INTVIT_VARIANT_NAME)
  INTVIT_AV16_U8_VARIANTS(INTVIT_VARIANT_NAME)
  INTVIT_GELU_VARIANTS(INTVIT_VARIANT_NAME)
#undef INTVIT_VARIANT_NAME
}

}  // namespace intvit::test
