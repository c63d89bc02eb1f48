// The amx kernels' cost without their tile instructions (amx_driver_cost-amx.cc): best seconds
// per call over repeated calls for about `seconds`. Needs AVX-512 F/BW/VL/DQ (not AMX): the
// caller checks gemm_isa_supported(GemmIsa::kAvx512Vnni). Outputs are written but meaningless.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/gemm/gemm.h"
#include "kernels/softmax/av16-u8.h"

namespace intvit::bench {

// w: packed for GemmIsa::kAmxEmu (the amx layout). Columns [0, w.n()).
double amx_driver_seconds_linear(const PackedWeights& w, size_t m, const void* a, size_t lda, const GemmOutput& out, double seconds);
double amx_driver_seconds_u8u8(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za, const uint8_t* b, size_t ldb,
                               int32_t zb, int32_t* c, size_t ldc, double seconds);
double amx_driver_seconds_av16(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                               int32_t v_zero_point, int32_t* out, size_t ld_out, double seconds);
// av16_u8 (Eq. 23c): v token-major, the accumulators requantized by the AVX-512 output stage.
double amx_driver_seconds_av16_u8(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                                  int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out, double seconds);

}  // namespace intvit::bench
