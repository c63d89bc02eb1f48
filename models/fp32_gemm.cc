#include "models/fp32_gemm.h"

#include <string>

#include "kernels/error.h"

#ifdef INTVIT_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.h>

#include <cstdlib>
#include <mutex>

// Debian's oneDNN runs on OpenMP (libgomp, a dependency of libdnnl, so it is loaded whenever this
// code runs). Weak: resolved at run time without linking OpenMP ourselves.
extern "C" void omp_set_num_threads(int) __attribute__((weak));
#endif

namespace intvit {

void sgemm(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
           bool b_transposed, float* c, size_t ldc) {
#ifdef INTVIT_WITH_ONEDNN
  // The reference forward runs one image per call and callers parallelise over images; an OpenMP
  // team per sgemm on top of that oversubscribes the cores (measured 10x slower on 2 busy cores).
  // OMP_NUM_THREADS, when set, still wins.
  static std::once_flag once;
  std::call_once(once, [] {
    if (!std::getenv("OMP_NUM_THREADS") && omp_set_num_threads) omp_set_num_threads(1);
  });
  // oneDNN's sgemm is row-major and picks its own ISA at run time.
  const dnnl_status_t st = dnnl_sgemm('N', b_transposed ? 'T' : 'N', static_cast<dnnl_dim_t>(m),
                                      static_cast<dnnl_dim_t>(n), static_cast<dnnl_dim_t>(k), 1.0f, a,
                                      static_cast<dnnl_dim_t>(lda), b, static_cast<dnnl_dim_t>(ldb), 0.0f,
                                      c, static_cast<dnnl_dim_t>(ldc));
  if (st != dnnl_success) throw Error(ErrorCode::kInternal, "dnnl_sgemm failed: " + std::to_string(st));
#else
  for (size_t i = 0; i < m; ++i) {
    float* crow = c + i * ldc;
    for (size_t j = 0; j < n; ++j) crow[j] = 0.0f;
    for (size_t p = 0; p < k; ++p) {
      const float av = a[i * lda + p];
      if (b_transposed) {
        for (size_t j = 0; j < n; ++j) crow[j] += av * b[j * ldb + p];
      } else {
        const float* brow = b + p * ldb;
        for (size_t j = 0; j < n; ++j) crow[j] += av * brow[j];
      }
    }
  }
#endif
}

}  // namespace intvit
