// Shared helpers for the nonlinear-operator tests (softmax, GELU, LayerNorm, residual add):
// seeds that are printed on failure and overridable, and a visible skip without AVX-512.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

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

}  // namespace intvit::test

// Skips (visibly, not silently) a test that needs AVX-512 on a CPU without it.
#define INTVIT_REQUIRE_AVX512()                                                         \
  do {                                                                                  \
    if (!intvit::cpu_has_avx512()) {                                                    \
      WARN("SKIPPED: CPU lacks AVX-512 F/BW/VL/DQ; the SIMD-vs-reference check did not run"); \
      return;                                                                           \
    }                                                                                   \
  } while (0)
