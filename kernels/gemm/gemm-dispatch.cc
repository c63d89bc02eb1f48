// Backend names, what each needs of the CPU (kernels/backend/cpu.h), argument validation and the
// per-ISA kernel tables. The session's choice of backend: kernels/backend/backend.h.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/backend/cpu.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit {
namespace {

const CpuFeatures& cpu() { return cpu_features(); }

gemm::LinearFn linear_kernel(GemmIsa kernel_isa, GemmInput input) {
  const bool u8 = input == GemmInput::kU8;
  switch (kernel_isa) {
    case GemmIsa::kRef: return u8 ? gemm::qu8s8_gemm_ref : gemm::qs16s8_gemm_ref;
    case GemmIsa::kAvx2: return u8 ? gemm::qu8s8_gemm_4x16c2__avx2 : gemm::qs16s8_gemm_4x16c2__avx2;
    case GemmIsa::kAvxVnni: return u8 ? gemm::qu8s8_gemm_4x16c4__avxvnni : gemm::qs16s8_gemm_4x16c2__avxvnni;
    case GemmIsa::kAvx512Vnni:
      return u8 ? gemm::qu8s8_gemm_4x64c4__avx512vnni : gemm::qs16s8_gemm_4x64c2__avx512vnni;
    case GemmIsa::kOneDnn:
#if INTVIT_WITH_ONEDNN
      if (u8) return gemm::qu8s8_gemm__onednn;
#endif
      break;
    case GemmIsa::kAmx: return u8 ? gemm::qu8s8_gemm_32x32c4__amx : gemm::qs16s8_gemm_16x32c4__amx;
    case GemmIsa::kAmxEmu: return u8 ? gemm::qu8s8_gemm_32x32c4__amxemu : gemm::qs16s8_gemm_16x32c4__amxemu;
  }
  throw Error(ErrorCode::kInternal, "gemm: no linear kernel for this backend");
}

// The native backend standing in for kOneDnn where oneDNN has no such operation.
GemmIsa native(GemmIsa isa) { return isa == GemmIsa::kOneDnn ? best_native_gemm_isa() : isa; }

void require_supported(GemmIsa isa) {
  if (!gemm_isa_supported(isa)) {
    throw Error(ErrorCode::kUnsupported, std::string("gemm: backend ") + gemm_isa_name(isa) +
                                             " is not supported here (" + gemm_isa_missing_feature(isa) + ")");
  }
}

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::kInvalidArgument, "gemm: " + what); }

}  // namespace

const char* gemm_isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kRef: return "ref";
    case GemmIsa::kAvx2: return "avx2";
    case GemmIsa::kAvxVnni: return "avxvnni";
    case GemmIsa::kAvx512Vnni: return "avx512vnni";
    case GemmIsa::kOneDnn: return "onednn";
    case GemmIsa::kAmx: return "amx";
    case GemmIsa::kAmxEmu: return "amx-emu";
  }
  return "?";
}

GemmIsa parse_gemm_isa(std::string_view name) {
  for (GemmIsa isa : kAllGemmIsas) {
    if (name == gemm_isa_name(isa)) return isa;
  }
  invalid("unknown backend '" + std::string(name) + "' (expected ref|avx2|avxvnni|avx512vnni|onednn|amx|amx-emu)");
}

const char* gemm_isa_missing_feature(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kRef: return "";
    case GemmIsa::kAvx2: return cpu().avx2 ? "" : "CPU lacks AVX2+FMA+BMI2";
    case GemmIsa::kAvxVnni: return cpu().avxvnni ? "" : "CPU lacks AVX-VNNI";
    case GemmIsa::kAvx512Vnni: return cpu().avx512vnni ? "" : "CPU lacks AVX512-F/BW/VL/DQ/VNNI";
    case GemmIsa::kOneDnn:
#if INTVIT_WITH_ONEDNN
      // Without VNNI, oneDNN's u8s8 kernels multiply with vpmaddubsw, whose int16 pair sums
      // saturate (255*127*2 > 32767): its results would not be bit-identical to the reference.
      return cpu().native_vnni ? "" : "CPU lacks VNNI (oneDNN's AVX2 int8 path saturates)";
#else
      return "built without oneDNN (INTVIT_WITH_ONEDNN=OFF)";
#endif
    case GemmIsa::kAmx:  // the tile kernels' output stage is the AVX-512 one
      return !cpu().avx512 ? "CPU lacks AVX512-F/BW/VL/DQ" : amx_unavailable_reason();
    case GemmIsa::kAmxEmu: return "";  // portable emulation
  }
  return "unknown backend";
}

bool gemm_isa_supported(GemmIsa isa) { return *gemm_isa_missing_feature(isa) == '\0'; }

GemmIsa best_native_gemm_isa() {
  if (gemm_isa_supported(GemmIsa::kAmx)) return GemmIsa::kAmx;
  if (cpu().avx512vnni) return GemmIsa::kAvx512Vnni;
  if (cpu().avxvnni) return GemmIsa::kAvxVnni;
  if (cpu().avx2) return GemmIsa::kAvx2;
  return GemmIsa::kRef;
}

RequantExtremes requant_extremes(const int32_t* multiplier, const int32_t* shift, size_t n) {
  // Reductions without branches (they vectorise), checked by the caller.
  int32_t min_multiplier = std::numeric_limits<int32_t>::max(), min_shift = 31, max_shift = -31;
  for (size_t c = 0; c < n; ++c) {
    min_multiplier = std::min(min_multiplier, multiplier[c]);
    min_shift = std::min(min_shift, shift[c]);
    max_shift = std::max(max_shift, shift[c]);
  }
  return {min_multiplier, min_shift, max_shift};
}

namespace gemm {

namespace {
std::atomic<StageForm> forced_stage_form{StageForm::kCpuDefault};
}  // namespace

bool avx512_stage_abs_sign() {
  switch (forced_stage_form.load(std::memory_order_relaxed)) {
    case StageForm::kMaxSub: return false;
    case StageForm::kAbsSign: return true;
    default: return cpu().intel;
  }
}

void set_avx512_stage_form_for_testing(StageForm form) { forced_stage_form.store(form, std::memory_order_relaxed); }

OutputPlan make_output_plan(const GemmOutput& out, size_t n_begin, size_t n_end) {
  OutputPlan p;
  p.data = out.data;
  p.ld = out.ld;
  p.type = out.type;
  p.accumulate = out.accumulate;
  p.raw = out.requant == nullptr;
  if (out.data == nullptr) invalid("output data is null");
  if (out.ld < n_end) invalid("output ld " + std::to_string(out.ld) + " < n_end " + std::to_string(n_end));
  if (p.raw && out.type != GemmOut::kS32) invalid("raw int32 accumulators need GemmOut::kS32 (requant is null)");
  if (out.accumulate && out.type != GemmOut::kS32) invalid("accumulate is only defined for GemmOut::kS32");
  if (out.byte_table != nullptr && (p.raw || out.type != GemmOut::kU8)) {
    invalid("byte_table needs a requantized GemmOut::kU8 output (Eq. 11c)");
  }
  p.table = out.byte_table;
  if (p.raw) return p;

  const RequantParams& r = *out.requant;
  int64_t type_min = std::numeric_limits<int32_t>::min(), type_max = std::numeric_limits<int32_t>::max();
  if (out.type == GemmOut::kU8) type_min = 0, type_max = 255;
  if (out.type == GemmOut::kS16) type_min = -32768, type_max = 32767;
  if (r.qmin > r.qmax || r.qmin < type_min || r.qmax > type_max) {
    invalid("clamp bounds [" + std::to_string(r.qmin) + ", " + std::to_string(r.qmax) + "] not inside the output type");
  }
  if (r.multiplier == nullptr || r.shift == nullptr) invalid("requant multiplier/shift arrays are null");
  const size_t c_begin = r.per_channel ? n_begin : 0, c_end = r.per_channel ? n_end : 1;
  const RequantExtremes e = r.per_channel && r.extremes != nullptr ? *r.extremes
                                                                   : requant_extremes(r.multiplier + c_begin, r.shift + c_begin, c_end - c_begin);
  const int32_t min_multiplier = e.min_multiplier, min_shift = e.min_shift, max_shift = e.max_shift;
  if (min_multiplier < 0) invalid("requant multiplier must be in [0, 2^31) (Eq. 7)");
  if (min_shift < -31 || max_shift > 31) invalid("requant shift must be in [-31, 31] (Eq. 7)");
  p.any_left_shift = min_shift < 0;
  p.max_left_shift = min_shift < 0 ? -min_shift : 0;
  p.narrow = out.type != GemmOut::kS32 && min_shift >= 1 && r.zero_point > -(1 << 30) && r.zero_point < (1 << 30);
  p.unclamped = out.type == GemmOut::kS32 && r.zero_point == 0 && r.qmin == std::numeric_limits<int32_t>::min() &&
                r.qmax == std::numeric_limits<int32_t>::max();
  p.byte_clamp = p.narrow && out.type == GemmOut::kU8 && r.qmin == 0 && r.qmax == 255 && r.zero_point >= -32512 &&
                 r.zero_point <= 32767;
  p.per_channel = r.per_channel;
  p.multiplier = r.multiplier;
  p.shift = r.shift;
  p.zero_point = r.zero_point;
  p.qmin = r.qmin;
  p.qmax = r.qmax;
  const auto to_s32 = [](int64_t v) {
    return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  };
  p.lo = to_s32(int64_t{r.qmin} - r.zero_point);
  p.hi = to_s32(int64_t{r.qmax} - r.zero_point);
  return p;
}

OutputStageFn output_stage_for(GemmIsa isa) {
  switch (native(isa)) {
    case GemmIsa::kAmx:
    case GemmIsa::kAvx512Vnni: return output_stage__avx512;
    case GemmIsa::kAvx2:
    case GemmIsa::kAvxVnni: return output_stage__avx2;
    case GemmIsa::kAmxEmu: return output_stage_for(best_native_gemm_isa());
    default: return output_stage_ref;
  }
}

AmxBlockStageFn amx_block_stage_for(GemmIsa isa, const OutputPlan& out, bool split) {
  const bool avx512 = output_stage_for(isa) == output_stage__avx512;
  if (out.table != nullptr) {
    if (!avx512 || split || !cpu().avx512vbmi) throw Error(ErrorCode::kInternal, "gemm: amx kernel given a byte table it cannot apply");
    return amx_block_stage__avx512vbmi(out);
  }
  return avx512 ? amx_block_stage__avx512(out, split) : nullptr;
}

}  // namespace gemm

void linear(const PackedWeights& w, size_t m, const void* a, size_t lda, const GemmOutput& out) {
  linear(w, m, a, lda, out, 0, w.n());
}

void linear(const PackedWeights& w, size_t m, const void* a, size_t lda, const GemmOutput& out, size_t n_begin,
            size_t n_end) {
  if (w.empty()) invalid("linear on empty PackedWeights");
  if (n_begin > n_end || n_end > w.n()) {
    invalid("column range [" + std::to_string(n_begin) + ", " + std::to_string(n_end) + ") outside n = " + std::to_string(w.n()));
  }
  if (m == 0 || n_begin == n_end) return;
  if (a == nullptr) invalid("A is null");
  if (lda < w.k()) invalid("lda " + std::to_string(lda) + " < k " + std::to_string(w.k()));
  gemm::OutputPlan plan = gemm::make_output_plan(out, n_begin, n_end);
  // Eq. 7's left shift cannot saturate when every accumulator these weights can produce stays in
  // int32 after it (the real ViT-Ti's fc2 and head: bounds ~2^22, shifts 1..4).
  plan.left_shift_exact = plan.any_left_shift && w.acc_bound() <= (uint64_t{INT32_MAX} >> plan.max_left_shift);
  if (plan.table == nullptr || w.kernel_isa() == GemmIsa::kRef) {  // the reference stores through the table
    linear_kernel(w.kernel_isa(), w.input())(w, m, a, lda, plan, n_begin, n_end);
  } else if (linear_fuses_byte_table(w)) {
    if (w.kernel_isa() == GemmIsa::kAvx512Vnni) {
      gemm::qu8s8_gemm_4x64c4__avx512vnnivbmi(w, m, a, lda, plan, n_begin, n_end);
    } else {  // amx, amx-emu: their block stage applies it (amx_block_stage_for)
      linear_kernel(w.kernel_isa(), w.input())(w, m, a, lda, plan, n_begin, n_end);
    }
  } else {  // Eq. 11c as its own pass over what the kernel stored
    gemm::OutputPlan without_table = plan;
    without_table.table = nullptr;
    linear_kernel(w.kernel_isa(), w.input())(w, m, a, lda, without_table, n_begin, n_end);
    gemm::apply_byte_table_ref(plan, m, n_begin, n_end);
  }
}

bool linear_fuses_byte_table(const PackedWeights& w) {
  const GemmIsa isa = w.kernel_isa();
  if (isa == GemmIsa::kRef) return true;
  if (w.input() != GemmInput::kU8 || !cpu().avx512vbmi) return false;
  return isa == GemmIsa::kAvx512Vnni || ((isa == GemmIsa::kAmx || isa == GemmIsa::kAmxEmu) && gemm::output_stage_for(isa) == gemm::output_stage__avx512);
}

namespace {

// matmul_u8u8_nt's argument checks (m, n > 0), shared with matmul_u8u8_nt_add.
void check_u8u8(size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za, const uint8_t* b, size_t ldb, int32_t zb,
                const int32_t* c, size_t ldc) {
  if (k > 33000) invalid("matmul_u8u8_nt: k > 33000 breaks the int32 bound of Eq. 9");
  if (za < 0 || za > 255 || zb < 0 || zb > 255) invalid("matmul_u8u8_nt: zero-points must be in [0, 255]");
  if (c == nullptr || ldc < n) invalid("matmul_u8u8_nt: C is null or ldc < n");
  if (k > 0 && (a == nullptr || b == nullptr || lda < k || ldb < k)) invalid("matmul_u8u8_nt: A/B null or lda/ldb < k");
}

}  // namespace

void matmul_u8u8_nt(GemmIsa isa, size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                    const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  require_supported(isa);
  if (m == 0 || n == 0) return;
  check_u8u8(n, k, a, lda, za, b, ldb, zb, c, ldc);
  gemm::MatmulU8U8Fn fn = gemm::qu8u8_gemm_nt_ref;
  switch (k == 0 ? GemmIsa::kRef : native(isa)) {  // k == 0: all zeros, nothing to vectorise
    case GemmIsa::kAvx512Vnni: fn = gemm::qu8u8_gemm_nt_4x64c4__avx512vnni; break;
    case GemmIsa::kAmx: fn = gemm::qu8u8_gemm_nt_32x32c4__amx; break;
    case GemmIsa::kAmxEmu: fn = gemm::qu8u8_gemm_nt_32x32c4__amxemu; break;
    case GemmIsa::kAvxVnni: fn = gemm::qu8u8_gemm_nt_4x16c4__avxvnni; break;
    case GemmIsa::kAvx2: fn = gemm::qu8u8_gemm_nt_4x16c2__avx2; break;
    default: break;
  }
  fn(m, n, k, a, lda, za, b, ldb, zb, c, ldc);
}

void matmul_u8u8_nt_add(GemmIsa isa, size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                        const uint8_t* b, size_t ldb, int32_t zb, const int32_t* d, size_t ldd, int32_t* c, size_t ldc) {
  require_supported(isa);
  if (m == 0 || n == 0) return;
  if (d == nullptr || ldd < n) invalid("matmul_u8u8_nt_add: D is null or ldd < n");
  if (c != nullptr) {  // byte ranges [first, last) of D's and C's rows must not meet
    const auto d0 = reinterpret_cast<uintptr_t>(d), d1 = reinterpret_cast<uintptr_t>(d + (m - 1) * ldd + n);
    const auto c0 = reinterpret_cast<uintptr_t>(c), c1 = reinterpret_cast<uintptr_t>(c + (m - 1) * ldc + n);
    if (d0 < c1 && c0 < d1) invalid("matmul_u8u8_nt_add: D overlaps C");
  }
  if (k > 0 && native(isa) == GemmIsa::kAvx512Vnni) {
    check_u8u8(n, k, a, lda, za, b, ldb, zb, c, ldc);
    gemm::qu8u8_gemm_nt_add_4x64c4__avx512vnni(m, n, k, a, lda, za, b, ldb, zb, d, ldd, c, ldc);
    return;
  }
  matmul_u8u8_nt(isa, m, n, k, a, lda, za, b, ldb, zb, c, ldc);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      c[i * ldc + j] = static_cast<int32_t>(static_cast<uint32_t>(c[i * ldc + j]) + static_cast<uint32_t>(d[i * ldd + j]));
    }
  }
}

void requantize(GemmIsa isa, size_t m, size_t n, const int32_t* acc, size_t ld_acc, const RequantParams& params,
                const GemmOutput& out) {
  require_supported(isa);
  if (m == 0 || n == 0) return;
  if (acc == nullptr || ld_acc < n) invalid("requantize: acc is null or ld_acc < n");
  GemmOutput with_params = out;
  with_params.requant = &params;
  const gemm::OutputPlan plan = gemm::make_output_plan(with_params, 0, n);
  gemm::OutputPlan without_table = plan;  // the SIMD stages leave Eq. 11c to a pass of its own
  without_table.table = nullptr;
  gemm::output_stage_for(isa)(without_table, 0, m, 0, n, acc, ld_acc, nullptr);
  if (plan.table != nullptr) gemm::apply_byte_table_ref(plan, m, 0, n);
}

}  // namespace intvit
