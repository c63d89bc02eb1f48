// intvit's integer nonlinear operators (kernels/QUANTIZATION.md §4-7): softmax, GELU, LayerNorm
// and the residual add, plus the run-time ISA choice their dispatching entry points share.
//
// Each family has a scalar reference (`*_ref`, the specification and test oracle), an AVX2 variant
// (`*__avx2`, AVX2 + FMA + BMI2 file flags) and an AVX-512 variant (`*__avx512`, F/BW/VL/DQ), both
// bit-identical to the reference, and a dispatching entry point. Parameters are built offline by
// the `make_*_params` functions (kernels/<family>/<family>-params.cc, the only place float is used).
#pragma once

#include <cstdlib>
#include <string_view>

#include "kernels/add/add.h"
#include "kernels/gelu/gelu.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

// The variants of every nonlinear family, in order of preference (higher is faster).
enum class NonlinearIsa { kRef, kAvx2, kAvx512 };
inline constexpr NonlinearIsa kAllNonlinearIsas[] = {NonlinearIsa::kRef, NonlinearIsa::kAvx2, NonlinearIsa::kAvx512};

inline const char* nonlinear_isa_name(NonlinearIsa isa) {
  switch (isa) {
    case NonlinearIsa::kRef: return "ref";
    case NonlinearIsa::kAvx2: return "avx2";
    case NonlinearIsa::kAvx512: return "avx512";
  }
  return "?";
}

// AVX2 + FMA + BMI2 with OS-enabled YMM state: what the *-avx2.cc files are compiled for.
inline bool cpu_has_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
}

// AVX-512 F/BW/VL/DQ: what the *-avx512.cc files are compiled for.
inline bool cpu_has_avx512() {
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

inline bool nonlinear_isa_supported(NonlinearIsa isa) {
  switch (isa) {
    case NonlinearIsa::kRef: return true;
    case NonlinearIsa::kAvx2: return cpu_has_avx2();
    case NonlinearIsa::kAvx512: return cpu_has_avx512();
  }
  return false;
}

// The nonlinear variant for a GEMM backend name (ref|avx2|avxvnni|avx512vnni|onednn|amx|amx-emu,
// "" = best): ref forces the reference; the AVX2-class backends (avx2, avxvnni) stand for a CPU
// without AVX-512 and get AVX2; anything else (amx and amx-emu included) gets the best this CPU
// has — AVX-512 on every AMX CPU. Never an ISA the CPU lacks.
inline NonlinearIsa nonlinear_isa_for_backend(std::string_view backend) {
  if (backend == "ref") return NonlinearIsa::kRef;
  const bool avx2_class = backend == "avx2" || backend == "avxvnni";
  if (!avx2_class && cpu_has_avx512()) return NonlinearIsa::kAvx512;
  if (cpu_has_avx2()) return NonlinearIsa::kAvx2;
  return NonlinearIsa::kRef;
}

// Kept for callers of the two-way choice: whether that backend runs the AVX-512 variants.
inline bool nonlinear_avx512_for_backend(std::string_view backend) {
  return nonlinear_isa_for_backend(backend) == NonlinearIsa::kAvx512;
}

// What the dispatching entry points (softmax_rows, av_log2, gelu, layernorm_rows, residual_add)
// use: nonlinear_isa_for_backend($INTVIT_ISA), read once at the first call.
inline NonlinearIsa nonlinear_isa() {
  static const NonlinearIsa isa = [] {
    const char* env = std::getenv("INTVIT_ISA");
    return nonlinear_isa_for_backend(env != nullptr ? std::string_view(env) : std::string_view());
  }();
  return isa;
}

inline bool nonlinear_use_avx512() { return nonlinear_isa() == NonlinearIsa::kAvx512; }

}  // namespace intvit
