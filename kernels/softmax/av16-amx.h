// attn@v with 16-bit probabilities (av16, QUANTIZATION.md §4.10) on AMX tiles: the same ABI and
// bits as av16_ref (kernels/softmax/softmax.h), through the shared amx micro-kernel
// (kernels/gemm/amx-attention.h). __amx runs the real tile instructions (the caller checks
// gemm_isa_supported(GemmIsa::kAmx)); __amxemu the portable emulation (any host, slow).
// The session's KernelSet (kernels/backend/backend.cc) runs them for the amx / amx-emu backends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/gemm/gemm.h"
#include "kernels/softmax/av16-u8.h"

namespace intvit {

void av16__amx(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
               int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av16__amxemu(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                  int32_t v_zero_point, int32_t* acc, size_t ld_acc);

// av16_u8 (Eq. 23c, kernels/softmax/av16-u8.h) on the same tiles: the ABI and bits of av16_u8_ref,
// v token-major packed straight into the tiles, the requantization on each row tile's results.
void av16_u8__amx(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                  int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);
void av16_u8__amxemu(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                     int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);

}  // namespace intvit
