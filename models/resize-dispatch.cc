// Which variant of the resampler's passes runs (resize-kernels.h).
#include <string>

#include "kernels/backend/backend.h"
#include "kernels/backend/cpu.h"
#include "kernels/error.h"
#include "models/resize-kernels.h"

namespace intvit {

const char* resize_isa_name(ResizeIsa isa) {
  switch (isa) {
    case ResizeIsa::kRef: return "ref";
    case ResizeIsa::kAvx2: return "avx2";
    case ResizeIsa::kAvx512: return "avx512";
  }
  return "?";
}

bool resize_isa_supported(ResizeIsa isa) {
  switch (isa) {
    case ResizeIsa::kRef: return true;
    case ResizeIsa::kAvx2: return cpu_features().avx2;
    case ResizeIsa::kAvx512: return cpu_features().avx512;
  }
  return false;
}

ResizeKernels resize_kernels(ResizeIsa isa) {
  if (!resize_isa_supported(isa)) {
    throw Error(ErrorCode::kUnsupported, std::string("resize: the ") + resize_isa_name(isa) +
                                             " passes are not supported by this CPU");
  }
  switch (isa) {
    case ResizeIsa::kRef: return {resample_horizontal_rgb8_ref, resample_vertical_u8_ref};
    case ResizeIsa::kAvx2: return {resample_horizontal_rgb8__avx2, resample_vertical_u8__avx2};
    case ResizeIsa::kAvx512: return {resample_horizontal_rgb8__avx512, resample_vertical_u8__avx512};
  }
  throw Error(ErrorCode::kInternal, "resize_kernels: unknown variant");
}

ResizeIsa default_resize_isa() {
  // resolve_backend("") is $INTVIT_ISA's backend, else the best this CPU has.
  switch (nonlinear_isa_of(resolve_backend(""))) {
    case NonlinearIsa::kRef: return ResizeIsa::kRef;
    case NonlinearIsa::kAvx2:
    case NonlinearIsa::kAvxVnni: return ResizeIsa::kAvx2;
    case NonlinearIsa::kAvx512:
    case NonlinearIsa::kAvx512Vnni:
    case NonlinearIsa::kAvx512Vbmi: return ResizeIsa::kAvx512;
  }
  return ResizeIsa::kRef;
}

}  // namespace intvit
