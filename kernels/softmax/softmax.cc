// Dispatching softmax / av_log2 / softmax_rows16 / av16 entry points: the variant nonlinear_isa() picks
// (kernels/nonlinear.h: the best the CPU has; INTVIT_ISA=ref forces the reference).
#include "kernels/nonlinear.h"

namespace intvit {

void softmax_rows(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                  uint8_t* out, size_t ld_out) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: return softmax_rows__avx512(p, rows, len, in, ld_in, out, ld_out);
    case NonlinearIsa::kAvx2: return softmax_rows__avx2(p, rows, len, in, ld_in, out, ld_out);
    case NonlinearIsa::kRef: break;
  }
  softmax_rows_ref(p, rows, len, in, ld_in, out, ld_out);
}

void av_log2(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes, size_t ld_codes,
             const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: return av_log2__avx512(p, m, n, k, codes, ld_codes, v_t, ld_v, v_zero_point, acc, ld_acc);
    case NonlinearIsa::kAvx2: return av_log2__avx2(p, m, n, k, codes, ld_codes, v_t, ld_v, v_zero_point, acc, ld_acc);
    case NonlinearIsa::kRef: break;
  }
  av_log2_ref(p, m, n, k, codes, ld_codes, v_t, ld_v, v_zero_point, acc, ld_acc);
}

void softmax_rows16(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                    uint16_t* out, size_t ld_out) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: return softmax_rows16__avx512(p, rows, len, in, ld_in, out, ld_out);
    case NonlinearIsa::kAvx2: return softmax_rows16__avx2(p, rows, len, in, ld_in, out, ld_out);
    case NonlinearIsa::kRef: break;
  }
  softmax_rows16_ref(p, rows, len, in, ld_in, out, ld_out);
}

void av16(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
          int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  switch (nonlinear_isa()) {
    case NonlinearIsa::kAvx512: return av16__avx512(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
    case NonlinearIsa::kAvx2: return av16__avx2(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
    case NonlinearIsa::kRef: break;
  }
  av16_ref(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, acc, ld_acc);
}

}  // namespace intvit
