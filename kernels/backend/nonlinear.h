// The variants of intvit's integer nonlinear operators (kernels/QUANTIZATION.md §4-7): softmax,
// GELU and LayerNorm.
//
// Each family has a scalar reference (`*_ref`, the specification and test oracle), an AVX2 variant
// (`*__avx2`, AVX2 + FMA + BMI2 file flags) and an AVX-512 variant (`*__avx512`, F/BW/VL/DQ), both
// bit-identical to the reference. Which one runs is the session's backend's choice
// (kernels/backend/backend.h: KernelSet). Parameters are built offline by the `make_*_params`
// functions (kernels/<family>/<family>-params.cc, the only place float is used).
#pragma once

#include "kernels/backend/cpu.h"
#include "kernels/gelu/gelu.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

// The variants of every nonlinear family, in order of preference (higher is faster). The last three
// are builds of single kernels that need one more extension, which a backend of the base width runs
// where the CPU has it (backend.cc): kAvxVnni / kAvx512Vnni (av16 by vpdpwssd), kAvx512Vbmi (GELU's
// byte tables by vpermi2b).
enum class NonlinearIsa { kRef, kAvx2, kAvx512, kAvxVnni, kAvx512Vnni, kAvx512Vbmi };
inline constexpr NonlinearIsa kAllNonlinearIsas[] = {NonlinearIsa::kRef, NonlinearIsa::kAvx2, NonlinearIsa::kAvx512};

inline const char* nonlinear_isa_name(NonlinearIsa isa) {
  switch (isa) {
    case NonlinearIsa::kRef: return "ref";
    case NonlinearIsa::kAvx2: return "avx2";
    case NonlinearIsa::kAvx512: return "avx512";
    case NonlinearIsa::kAvxVnni: return "avxvnni";
    case NonlinearIsa::kAvx512Vnni: return "avx512vnni";
    case NonlinearIsa::kAvx512Vbmi: return "avx512vbmi";
  }
  return "?";
}

inline bool nonlinear_isa_supported(NonlinearIsa isa) {
  switch (isa) {
    case NonlinearIsa::kRef: return true;
    case NonlinearIsa::kAvx2: return cpu_features().avx2;
    case NonlinearIsa::kAvx512: return cpu_features().avx512;
    case NonlinearIsa::kAvxVnni: return cpu_features().avxvnni;
    case NonlinearIsa::kAvx512Vnni: return cpu_features().avx512vnni;
    case NonlinearIsa::kAvx512Vbmi: return cpu_features().avx512vbmi;
  }
  return false;
}

}  // namespace intvit
