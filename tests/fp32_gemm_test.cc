// The FP32 product of the reference forward (models/fp32-gemm-kernels.h): every SIMD variant this
// CPU runs writes the reference's bits (one FMA chain per output in k order), so calibration writes
// the same model file on every host; and the reference is the product it claims to be.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "coverage.h"
#include "kernels/error.h"
#include "models/fp32_gemm.h"
#include "nonlinear_tester.h"  // nonlinear_seed

namespace intvit {
namespace {

std::vector<Fp32GemmIsa> runnable_simd_variants() {
  std::vector<Fp32GemmIsa> out;
  for (Fp32GemmIsa isa : kAllFp32GemmIsas) {
    if (isa == Fp32GemmIsa::kRef) continue;
    const std::string name = std::string("fp32_gemm__") + fp32_gemm_isa_name(isa);
    if (fp32_gemm_isa_supported(isa)) {
      test::record_variant_ran(name);
      out.push_back(isa);
    } else {
      test::record_variant_unsupported(name, std::string("CPU lacks ") + fp32_gemm_isa_name(isa));
      WARN("SKIPPED: " << name << " (CPU lacks it); not held to the reference");
    }
  }
  return out;
}

// Values of every magnitude the forward sees, with exact zeros and sign changes, so the chains'
// intermediate roundings differ from any other summation order.
std::vector<float> random_matrix(std::mt19937_64& rng, size_t count) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) {
    const int style = static_cast<int>(rng() % 8);
    x = style == 0 ? 0.0f : unit(rng) * std::ldexp(1.0f, static_cast<int>(rng() % 24) - 12);
  }
  return v;
}

struct Shape {
  size_t m, n, k;
};

TEST_CASE("fp32 gemm: every variant writes the reference's bits", "[fp32_gemm]") {
  const std::vector<Fp32GemmIsa> variants = runnable_simd_variants();
  const uint64_t seed = test::nonlinear_seed(0xF32F32);
  std::mt19937_64 rng(seed);
  std::vector<Shape> shapes = {{1, 1, 1},    {1, 1, 0},    {3, 5, 0},     {197, 576, 192}, {197, 192, 768},
                               {197, 197, 64}, {197, 64, 197}, {49, 49, 32}, {1, 1000, 192}};
  for (size_t m : {1, 5, 6, 7, 8, 9, 13, 17}) {
    for (size_t n : {1, 15, 16, 17, 31, 32, 33, 47, 64, 65}) shapes.push_back({m, n, 1 + rng() % 70});
  }
  for (const Shape& s : shapes) {
    for (bool b_transposed : {false, true}) {
      // Strides past the widths: the kernels read and write only inside each row's width.
      const size_t lda = s.k + rng() % 3, ldb = (b_transposed ? s.k : s.n) + rng() % 3, ldc = s.n + rng() % 3;
      const std::vector<float> a = random_matrix(rng, s.m * lda + 1);
      const std::vector<float> b = random_matrix(rng, (b_transposed ? s.n : s.k) * ldb + 1);
      std::vector<float> want(s.m * ldc + 1, -7.0f);
      sgemm_with(Fp32GemmIsa::kRef, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, b_transposed, want.data(), ldc);
      for (Fp32GemmIsa isa : variants) {
        INFO("seed " << seed << " " << fp32_gemm_isa_name(isa) << " m " << s.m << " n " << s.n << " k " << s.k
                     << (b_transposed ? " B^T" : " B"));
        std::vector<float> got(want.size(), -7.0f);
        sgemm_with(isa, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, b_transposed, got.data(), ldc);
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("fp32 gemm: the reference is one FMA chain per output in k order", "[fp32_gemm]") {
  std::mt19937_64 rng(test::nonlinear_seed(0xF32F32));
  const size_t m = 7, n = 37, k = 300;
  const std::vector<float> a = random_matrix(rng, m * k), b = random_matrix(rng, k * n);
  std::vector<float> c(m * n);
  sgemm_with(Fp32GemmIsa::kRef, m, n, k, a.data(), k, b.data(), n, false, c.data(), n);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float chain = 0.0f;
      double exact = 0;
      for (size_t p = 0; p < k; ++p) {
        chain = std::fma(a[i * k + p], b[p * n + j], chain);
        exact += static_cast<double>(a[i * k + p]) * b[p * n + j];
      }
      REQUIRE(std::memcmp(&chain, &c[i * n + j], sizeof(float)) == 0);
      worst = std::max(worst, std::abs(exact - c[i * n + j]));
      scale = std::max(scale, std::abs(exact));
    }
  }
  CHECK(worst <= 1e-4 * scale);  // k roundings of float: a product, not just a deterministic number
}

TEST_CASE("fp32 gemm: the default picks a variant this CPU runs, and the others say why not", "[fp32_gemm]") {
  CHECK(fp32_gemm_isa_supported(best_fp32_gemm_isa()));
  for (Fp32GemmIsa isa : kAllFp32GemmIsas) {
    if (fp32_gemm_isa_supported(isa)) {
      CHECK(fp32_gemm_kernel(isa) != nullptr);
    } else {
      CHECK_THROWS_AS(fp32_gemm_kernel(isa), Error);
    }
  }
}

}  // namespace
}  // namespace intvit
