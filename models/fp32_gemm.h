// FP32 matrix product for the reference forward and calibration (offline only, never on the
// integer path). Row-major: C[M][N] = A[M][K] · op(B). Same bits on every CPU and variant
// (fp32-gemm-kernels.h: one FMA chain per output in k order), so calibration is reproducible.
#pragma once

#include <cstddef>

#include "models/fp32-gemm-kernels.h"

namespace intvit {

// b_transposed: B is [N][K] (PyTorch Linear weight layout); otherwise B is [K][N].
void sgemm(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
           bool b_transposed, float* c, size_t ldc);

// The same with a chosen variant (tests; Error(kUnsupported) where the CPU cannot run it).
void sgemm_with(Fp32GemmIsa isa, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                size_t ldb, bool b_transposed, float* c, size_t ldc);

}  // namespace intvit
