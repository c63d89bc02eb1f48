// av16_for_gemm_backend (av16-amx.h): the tile variants for amx sessions, the nonlinear dispatch
// for every other backend.
#include "kernels/softmax/av16-amx.h"
#include "kernels/softmax/softmax.h"

namespace intvit {

Av16Fn av16_for_gemm_backend(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAmx: return av16__amx;
    case GemmIsa::kAmxEmu: return av16__amxemu;
    default: return av16;
  }
}

}  // namespace intvit
