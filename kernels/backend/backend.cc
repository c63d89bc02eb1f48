#include "kernels/backend/backend.h"

#include <cstdlib>
#include <string>

#include "kernels/error.h"
#include "kernels/softmax/av16-amx.h"

namespace intvit {
namespace {

void require_supported(GemmIsa backend) {
  if (!gemm_isa_supported(backend)) {
    throw Error(ErrorCode::kUnsupported, std::string("backend ") + gemm_isa_name(backend) + " is not supported here (" +
                                             gemm_isa_missing_feature(backend) + ")");
  }
}

}  // namespace

NonlinearIsa nonlinear_isa_of(GemmIsa backend) {
  switch (backend) {
    case GemmIsa::kRef: return NonlinearIsa::kRef;
    case GemmIsa::kAvx2:
    case GemmIsa::kAvxVnni: return NonlinearIsa::kAvx2;
    case GemmIsa::kAvx512Vnni:
    case GemmIsa::kAmx: return NonlinearIsa::kAvx512;  // the tile kernels need AVX-512 too
    case GemmIsa::kAmxEmu: return nonlinear_isa_of(best_native_gemm_isa());  // portable: the best this CPU has
    case GemmIsa::kOneDnn: return nonlinear_isa_of(best_native_gemm_isa());  // oneDNN runs linear layers only
  }
  throw Error(ErrorCode::kInternal, "nonlinear_isa_of: unknown backend");
}

namespace {

// The native backend whose ISA the nonlinear kernels follow: oneDNN and the tile emulation run the
// kernels of the best backend this CPU has.
GemmIsa native_of(GemmIsa backend) {
  return backend == GemmIsa::kOneDnn || backend == GemmIsa::kAmxEmu ? best_native_gemm_isa() : backend;
}

KernelSet nonlinear_kernels(GemmIsa backend, NonlinearIsa n) {
  switch (n) {
    case NonlinearIsa::kRef:
      return {backend, n, softmax_rows_ref, softmax_rows16_ref, av_log2_ref, av16_ref, gelu_ref, layernorm_rows_ref, av16_u8_ref};
    case NonlinearIsa::kAvx2:
    case NonlinearIsa::kAvxVnni: {
      // Only the avxvnni backend takes vpdpwssd: a forced avx2 backend runs what an AVX2-only CPU
      // (e.g. Zen 3) runs, on every kernel, even where this CPU has AVX-VNNI.
      const bool vnni = native_of(backend) == GemmIsa::kAvxVnni;
      return {backend, NonlinearIsa::kAvx2, softmax_rows__avx2, softmax_rows16__avx2, av_log2__avx2, vnni ? av16__avxvnni : av16__avx2,
              gelu__avx2, layernorm_rows__avx2, vnni ? av16_u8__avxvnni : av16_u8__avx2};
    }
    case NonlinearIsa::kAvx512:
    case NonlinearIsa::kAvx512Vnni:
    case NonlinearIsa::kAvx512Vbmi: {
      const bool vnni = cpu_features().avx512vnni;
      const Av16Fn av16 = vnni ? av16__avx512vnni : av16__avx512;
      const bool vbmi = cpu_features().avx512vbmi;
      const GeluFn gelu = vbmi ? gelu__avx512vbmi : gelu__avx512;
      const SoftmaxRowsFn softmax = vbmi ? softmax_rows__avx512vbmi : softmax_rows__avx512;
      const SoftmaxRows16Fn softmax16 = vbmi ? softmax_rows16__avx512vbmi : softmax_rows16__avx512;
      return {backend, NonlinearIsa::kAvx512, softmax, softmax16, av_log2__avx512, av16, gelu, layernorm_rows__avx512,
              vnni ? av16_u8__avx512vnni : av16_u8__avx512};
    }
  }
  throw Error(ErrorCode::kInternal, "kernel_set: unknown nonlinear variant");
}

}  // namespace

KernelSet kernel_set(GemmIsa backend) {
  require_supported(backend);
  KernelSet k = nonlinear_kernels(backend, nonlinear_isa_of(backend));
  // attn@v with 16-bit probabilities is a GEMM: the tile backends run it on (emulated) tiles, and
  // so its fusion with v's transpose and the requantization (Eq. 23c).
  if (backend == GemmIsa::kAmx) {
    k.av16 = av16__amx;
    k.av16_u8 = av16_u8__amx;
  }
  if (backend == GemmIsa::kAmxEmu) {
    k.av16 = av16__amxemu;
    k.av16_u8 = av16_u8__amxemu;
  }
  return k;
}

GemmIsa resolve_backend(std::string_view name) {
  const char* env = name.empty() ? std::getenv("INTVIT_ISA") : nullptr;
  const std::string_view chosen = env != nullptr ? std::string_view(env) : name;
  if (chosen.empty()) return best_native_gemm_isa();
  GemmIsa isa = GemmIsa::kRef;
  try {
    isa = parse_gemm_isa(chosen);
  } catch (const Error& e) {
    if (env == nullptr) throw;
    throw Error(e.code(), std::string("INTVIT_ISA: ") + e.what());
  }
  require_supported(isa);
  return isa;
}

}  // namespace intvit
