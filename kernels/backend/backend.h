// The dispatcher: one backend per session, and the variant of every kernel family it runs.
//
// A backend is named by its GEMM backend (GemmIsa: ref|avx2|avxvnni|avx512vnni|onednn). Resolving
// it gives a KernelSet — the GEMM backend (linear layers incl. the patch embedding, q@kᵀ, attn@v,
// requantize) and one function pointer per nonlinear entry point (softmax, GELU, LayerNorm) —
// which the session hands to the executor. Nothing is global: two sessions with different
// backends run side by side. INTVIT_ISA is read here and nowhere else.
//
// A new backend (e.g. an AMX GEMM whose nonlinear kernels are AVX-512): one GemmIsa value, its
// GEMM table entries (kernels/gemm/gemm-dispatch.cc) and one line in nonlinear_isa_of (backend.cc).
#pragma once

#include <string_view>

#include "kernels/backend/nonlinear.h"
#include "kernels/gemm/gemm.h"
#include "kernels/softmax/av16-u8.h"

namespace intvit {

using SoftmaxRowsFn = decltype(&softmax_rows_ref);
using SoftmaxRows16Fn = decltype(&softmax_rows16_ref);
using AvLog2Fn = decltype(&av_log2_ref);
using Av16Fn = decltype(&av16_ref);
using Av16U8Fn = decltype(&av16_u8_ref);
using GeluFn = decltype(&gelu_ref);
using LayerNormRowsFn = decltype(&layernorm_rows_ref);

struct KernelSet {
  GemmIsa gemm = GemmIsa::kRef;                 // every GEMM; weights must be packed for it
  NonlinearIsa nonlinear = NonlinearIsa::kRef;  // the variant of the entry points below
  SoftmaxRowsFn softmax_rows = softmax_rows_ref;
  SoftmaxRows16Fn softmax_rows16 = softmax_rows16_ref;
  AvLog2Fn av_log2 = av_log2_ref;
  Av16Fn av16 = av16_ref;
  GeluFn gelu = gelu_ref;
  LayerNormRowsFn layernorm_rows = layernorm_rows_ref;
  // av16 fused with v's transpose and the requantization (Eq. 23c), built like av16 (the tile
  // backends: on tiles, v packed token-major). nullptr would make the executor run the separate
  // vᵀ, av16 and requantize nodes.
  Av16U8Fn av16_u8 = av16_u8_ref;
};

// The nonlinear variant a backend runs: ref → ref, the AVX2-class GEMMs → AVX2, AVX-512 GEMMs →
// AVX-512, oneDNN → that of best_native_gemm_isa().
NonlinearIsa nonlinear_isa_of(GemmIsa backend);

// The kernels of `backend`. Throws Error(kUnsupported) if this CPU or build lacks it.
KernelSet kernel_set(GemmIsa backend);

// The backend for a name: "" = $INTVIT_ISA if set and non-empty, else best_native_gemm_isa().
// Throws Error(kInvalidArgument) for an unknown name (naming INTVIT_ISA when it came from there)
// and Error(kUnsupported) for a backend this CPU or build lacks.
GemmIsa resolve_backend(std::string_view name);

}  // namespace intvit
