// attn@v with 16-bit probabilities (av16, QUANTIZATION.md §4.10) on AMX tiles: the same ABI and
// bits as av16_ref (kernels/softmax/softmax.h), through the shared amx micro-kernel
// (kernels/gemm/amx-drivers.h). __amx runs the real tile instructions (the caller checks
// gemm_isa_supported(GemmIsa::kAmx)); __amxemu the portable emulation (any host, slow).
// av16() (the nonlinear dispatch) does not pick these: a session's GEMM backend decides whether
// its attn@v runs on tiles, through av16_for_gemm_backend.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/gemm/gemm.h"

namespace intvit {

void av16__amx(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
               int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av16__amxemu(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                  int32_t v_zero_point, int32_t* acc, size_t ld_acc);

// The av16 a session with GEMM backend `isa` runs: av16__amx / av16__amxemu for amx / amx-emu
// (same bits as every other variant), else the nonlinear dispatch av16().
using Av16Fn = void (*)(size_t, size_t, size_t, const uint16_t*, size_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
Av16Fn av16_for_gemm_backend(GemmIsa isa);

}  // namespace intvit
