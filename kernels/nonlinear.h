// intvit's integer nonlinear operators (kernels/QUANTIZATION.md §4-7): softmax, GELU, LayerNorm
// and the residual add, plus the run-time ISA choice their dispatching entry points share.
//
// Each family has a scalar reference (`*_ref`, the specification and test oracle), an AVX-512
// variant (`*__avx512`, bit-identical) and a dispatching entry point. Parameters are built offline
// by the `make_*_params` functions (kernels/<family>/<family>-params.cc, the only place float is used).
#pragma once

#include <cstdlib>
#include <string_view>

#include "kernels/add/add.h"
#include "kernels/gelu/gelu.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

// AVX-512 F/BW/VL/DQ: what the *-avx512.cc files are compiled for.
inline bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// Whether a GEMM backend name (ref|avx2|avxvnni|avx512vnni|onednn, "" = best) should run the
// nonlinear kernels' AVX-512 variants: not for ref or the AVX2-class backends (a run that asks for
// them stands for a CPU without AVX-512), otherwise whenever this CPU has AVX-512.
inline bool nonlinear_avx512_for_backend(std::string_view backend) {
  if (backend == "ref" || backend == "avx2" || backend == "avxvnni") return false;
  return cpu_has_avx512();
}

// What the dispatching entry points (softmax_rows, av_log2, gelu, layernorm_rows, residual_add)
// use: nonlinear_avx512_for_backend($INTVIT_ISA), read once at the first call.
inline bool nonlinear_use_avx512() {
  static const bool use = [] {
    const char* isa = std::getenv("INTVIT_ISA");
    return nonlinear_avx512_for_backend(isa != nullptr ? std::string_view(isa) : std::string_view());
  }();
  return use;
}

}  // namespace intvit
