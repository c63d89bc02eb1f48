// The FP32 matrix product of the reference forward and calibration (offline, never on the integer
// path) as kernels with one ABI: a scalar reference (`*_ref`, the specification) and SIMD variants
// (`*__avx2`, `*__avx512`) that write the same bits for every input.
//
// One output is one fused multiply-add chain in k order, from +0:
//   c = +0;  for p = 0 .. k-1:  c = fma(a[i][p], b[p][j], c)
// FMA rounds once, so the chain's result does not depend on the vector width that computes many
// chains side by side: every host writes the same FP32 activations, hence calibrates the same
// integer model file (oneDNN's sgemm, used before, sums in an order of its ISA's choosing).
#pragma once

#include <cstddef>

namespace intvit {

// B packed as panels of kFp32Panel columns: panel q holds columns [q·kFp32Panel, (q+1)·kFp32Panel)
// as k rows of kFp32Panel floats (columns past n are zero).
inline constexpr size_t kFp32Panel = 32;

// C[m][n] (row stride ldc) = A[m][k] (row stride lda) · B, B packed as above.
using Fp32GemmFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels,
                            float* c, size_t ldc);

void fp32_gemm_ref(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels, float* c,
                   size_t ldc);
void fp32_gemm__avx2(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels, float* c,
                     size_t ldc);
void fp32_gemm__avx512(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b_panels, float* c,
                       size_t ldc);

enum class Fp32GemmIsa { kRef, kAvx2, kAvx512 };
inline constexpr Fp32GemmIsa kAllFp32GemmIsas[] = {Fp32GemmIsa::kRef, Fp32GemmIsa::kAvx2, Fp32GemmIsa::kAvx512};
const char* fp32_gemm_isa_name(Fp32GemmIsa isa);
bool fp32_gemm_isa_supported(Fp32GemmIsa isa);
Fp32GemmFn fp32_gemm_kernel(Fp32GemmIsa isa);  // Error(kUnsupported) if this CPU cannot run it
Fp32GemmIsa best_fp32_gemm_isa();

}  // namespace intvit
