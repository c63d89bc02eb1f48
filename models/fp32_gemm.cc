#include "models/fp32_gemm.h"

#include <memory>
#include <string>

#include "kernels/backend/backend.h"
#include "kernels/backend/cpu.h"
#include "kernels/error.h"
#include "models/fp32-gemm-kernels.h"

namespace intvit {

const char* fp32_gemm_isa_name(Fp32GemmIsa isa) {
  switch (isa) {
    case Fp32GemmIsa::kRef: return "ref";
    case Fp32GemmIsa::kAvx2: return "avx2";
    case Fp32GemmIsa::kAvx512: return "avx512";
  }
  return "?";
}

bool fp32_gemm_isa_supported(Fp32GemmIsa isa) {
  switch (isa) {
    case Fp32GemmIsa::kRef: return true;
    case Fp32GemmIsa::kAvx2: return cpu_features().avx2;
    case Fp32GemmIsa::kAvx512: return cpu_features().avx512;
  }
  return false;
}

Fp32GemmFn fp32_gemm_kernel(Fp32GemmIsa isa) {
  if (!fp32_gemm_isa_supported(isa)) {
    throw Error(ErrorCode::kUnsupported,
                std::string("fp32 gemm: the ") + fp32_gemm_isa_name(isa) + " kernel is not supported by this CPU");
  }
  switch (isa) {
    case Fp32GemmIsa::kRef: return fp32_gemm_ref;
    case Fp32GemmIsa::kAvx2: return fp32_gemm__avx2;
    case Fp32GemmIsa::kAvx512: return fp32_gemm__avx512;
  }
  throw Error(ErrorCode::kInternal, "fp32_gemm_kernel: unknown variant");
}

Fp32GemmIsa best_fp32_gemm_isa() {
  // Every variant writes the same bits; the width follows $INTVIT_ISA's backend like the resampler.
  switch (nonlinear_isa_of(resolve_backend(""))) {
    case NonlinearIsa::kRef: return Fp32GemmIsa::kRef;
    case NonlinearIsa::kAvx2:
    case NonlinearIsa::kAvxVnni: return Fp32GemmIsa::kAvx2;
    case NonlinearIsa::kAvx512:
    case NonlinearIsa::kAvx512Vnni:
    case NonlinearIsa::kAvx512Vbmi: return Fp32GemmIsa::kAvx512;
  }
  return Fp32GemmIsa::kRef;
}

namespace {

// B as the kernels' panels, in a buffer each thread keeps (callers run images on several threads).
const float* pack_panels(size_t n, size_t k, const float* b, size_t ldb, bool b_transposed) {
  struct AlignedFree {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  thread_local std::unique_ptr<float[], AlignedFree> buffer;
  thread_local size_t capacity = 0;
  const size_t panels = (n + kFp32Panel - 1) / kFp32Panel, size = panels * k * kFp32Panel;
  if (size > capacity) {
    buffer.reset(static_cast<float*>(::operator new[](size * sizeof(float), std::align_val_t{64})));
    capacity = size;
  }
  float* out = buffer.get();
  for (size_t q = 0; q < panels; ++q) {
    for (size_t p = 0; p < k; ++p) {
      float* row = out + (q * k + p) * kFp32Panel;
      for (size_t c = 0; c < kFp32Panel; ++c) {
        const size_t j = q * kFp32Panel + c;
        row[c] = j >= n ? 0.0f : b_transposed ? b[j * ldb + p] : b[p * ldb + j];
      }
    }
  }
  return out;
}

}  // namespace

void sgemm_with(Fp32GemmIsa isa, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                size_t ldb, bool b_transposed, float* c, size_t ldc) {
  const Fp32GemmFn kernel = fp32_gemm_kernel(isa);
  if (m == 0 || n == 0) return;
  kernel(m, n, k, a, lda, pack_panels(n, k, b, ldb, b_transposed), c, ldc);
}

void sgemm(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
           bool b_transposed, float* c, size_t ldc) {
  static const Fp32GemmIsa isa = best_fp32_gemm_isa();
  sgemm_with(isa, m, n, k, a, lda, b, ldb, b_transposed, c, ldc);
}

}  // namespace intvit
