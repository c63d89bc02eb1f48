// Internal ABI of the GEMM kernel family (kernels/gemm/). Not for callers: use gemm.h.
//
// File and function names state the contract (XNNPACK style): datatype of A × datatype of W, op,
// register tile MRxNRcKR, ISA — e.g. qu8s8_gemm_4x64c4__avx512vnni in
// qu8s8-gemm-4x64c4-avx512vnni.cc. Each ISA has one output stage (requantize-<isa>.cc) that every
// kernel of that ISA calls, so Eq. 11 is written once per ISA and the tests hold it to the
// reference bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/gemm/gemm.h"

namespace intvit::gemm {

// Everything the output stage needs, validated and derived once per call (gemm-dispatch.cc).
// Eq. 11 is evaluated as clamp(MBQM(acc), lo, hi) + zero_point with lo = qmin − zp and
// hi = qmax − zp (clamped to int32), which equals clamp(zp + MBQM(acc), qmin, qmax) exactly
// and never overflows.
struct OutputPlan {
  void* data = nullptr;
  size_t ld = 0;
  GemmOut type = GemmOut::kS32;
  bool accumulate = false;
  bool raw = true;              // no requantization: store int32 accumulators
  bool per_channel = false;
  bool any_left_shift = false;  // some shift < 0 among the columns of this call
  int max_left_shift = 0;       // the largest −shift among them (0: none)
  // Every left-shifted accumulator x of this call has |x|·2^left ≤ INT32_MAX (linear(): the weights'
  // acc_bound), so Eq. 7's saturating left shift never saturates and is a plain shift (§3.5).
  bool left_shift_exact = false;
  // u8/s16 output, every shift >= 1 and |zero_point| < 2^30: then |MBQM| <= 2^30 and MBQM + zp
  // fits int32, which lets SIMD stages clamp after a saturating pack to int16.
  bool narrow = false;
  // int32 output with qmin = INT32_MIN, qmax = INT32_MAX and zero_point 0 (the residual stream):
  // Eq. 11's clamp and zero-point add are the identity (MBQM fits int32).
  bool unclamped = false;
  // narrow u8 output with [qmin, qmax] = [0, 255] and zero_point in [-32512, 32767]: SIMD row
  // stores may add the zero-point in int16 after a saturating pack and clamp by vpackuswb.
  bool byte_clamp = false;
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  int32_t zero_point = 0;
  int32_t qmin = 0, qmax = 0;  // Eq. 11 as given (the reference uses these)
  int32_t lo = 0, hi = 0;      // qmin − zp and qmax − zp, clamped to int32 (SIMD stages use these)
  // GemmOutput::byte_table (u8 outputs only): the stored code q becomes table[q] (Eq. 11c). Kernels
  // that do not apply it get a plan without it and gemm-dispatch.cc runs apply_byte_table_ref after.
  const uint8_t* table = nullptr;
};

// Validates `out` for columns [n_begin, n_end) and builds the plan; throws Error.
OutputPlan make_output_plan(const GemmOutput& out, size_t n_begin, size_t n_end);

// The form of Eq. 7 in the AVX-512 VNNI linears' tile stage (requant-avx512.h, Stage::kAbsSign): the
// Intel form (vpabsd, signs as masks: fewer uops) on Intel CPUs, the max/sub/xor form elsewhere (on
// AMD Zen 5 vpabsd and vpmov*2m take vpdpbusd's issue slots). The same bits either way; the tests run
// both on every host through set_avx512_stage_form_for_testing (process-wide, not for concurrent use).
enum class StageForm { kCpuDefault, kMaxSub, kAbsSign };
bool avx512_stage_abs_sign();
void set_avx512_stage_form_for_testing(StageForm form);

// ---- Linear family: C[:, n_begin:n_end] = A · Wᵀ + bias (Eq. 8 / Eq. 10), then the output stage.
using LinearFn = void (*)(const PackedWeights& w, size_t m, const void* a, size_t lda,
                          const OutputPlan& out, size_t n_begin, size_t n_end);
void qu8s8_gemm_ref(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qs16s8_gemm_ref(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qu8s8_gemm_4x16c2__avx2(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qs16s8_gemm_4x16c2__avx2(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qu8s8_gemm_4x16c4__avxvnni(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qs16s8_gemm_4x16c2__avxvnni(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qu8s8_gemm_4x64c4__avx512vnni(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qs16s8_gemm_4x64c2__avx512vnni(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qu8s8_gemm_32x32c4__amx(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qs16s8_gemm_16x32c4__amx(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qu8s8_gemm_32x32c4__amxemu(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qs16s8_gemm_16x32c4__amxemu(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
void qu8s8_gemm__onednn(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);
// The avx512vnni kernel with the byte table (Eq. 11c) applied by vpermi2b in its output stage
// (needs AVX512-VBMI too; same packed layout as qu8s8_gemm_4x64c4__avx512vnni).
void qu8s8_gemm_4x64c4__avx512vnnivbmi(const PackedWeights&, size_t, const void*, size_t, const OutputPlan&, size_t, size_t);

// ---- u8 × u8 family (Eq. 9), raw int32 out.
using MatmulU8U8Fn = void (*)(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                              const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc);
void qu8u8_gemm_nt_ref(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
void qu8u8_gemm_nt_4x16c2__avx2(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
void qu8u8_gemm_nt_4x16c4__avxvnni(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
void qu8u8_gemm_nt_4x64c4__avx512vnni(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
void qu8u8_gemm_nt_32x32c4__amx(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
void qu8u8_gemm_nt_32x32c4__amxemu(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t, int32_t*, size_t);
// matmul_u8u8_nt_add's fused variant (the other backends add D after their Eq. 9 product).
void qu8u8_gemm_nt_add_4x64c4__avx512vnni(size_t, size_t, size_t, const uint8_t*, size_t, int32_t, const uint8_t*, size_t, int32_t,
                                          const int32_t*, size_t, int32_t*, size_t);

// ---- Output stage (Eq. 11 + store): for rows [0, rows) and columns [n_begin, n_end),
// value = acc[i * ld_acc + (n − n_begin)] + (col_bias ? col_bias[n] : 0)  (int32, modulo 2^32),
// written to out element (row0 + i, n).
using OutputStageFn = void (*)(const OutputPlan& out, size_t row0, size_t rows, size_t n_begin,
                               size_t n_end, const int32_t* acc, size_t ld_acc, const int32_t* col_bias);
void output_stage_ref(const OutputPlan&, size_t, size_t, size_t, size_t, const int32_t*, size_t, const int32_t*);
void output_stage__avx2(const OutputPlan&, size_t, size_t, size_t, size_t, const int32_t*, size_t, const int32_t*);
void output_stage__avx512(const OutputPlan&, size_t, size_t, size_t, size_t, const int32_t*, size_t, const int32_t*);

// The reference output stage for one value (Eq. 11 literally, via kernels/fixedpoint.h).
int32_t requantize_value_ref(const OutputPlan& out, size_t n, int32_t acc);
void store_value_ref(const OutputPlan& out, size_t row, size_t n, int32_t acc);
// Eq. 11c alone, in place: out element (row, n) = table[element] for rows [0, rows), columns
// [n_begin, n_end) (the separate pass for kernels that do not apply out.table themselves).
void apply_byte_table_ref(const OutputPlan& out, size_t rows, size_t n_begin, size_t n_end);

// The output stage of a native ISA (kOneDnn, kAmxEmu → that of best_native_gemm_isa(); kAmx → AVX-512).
OutputStageFn output_stage_for(GemmIsa);

// The amx linear layers' output stage on one block of tile results (amx-drivers.h): rows [0, rows)
// of columns [g_begin, g_end) inside the 32 columns from n0, value = hi[i·32 + n − n0] (for s16
// inputs, split: 256·hi + lo[i·32 + n − n0], Eq. 12) (+ bias[n] where bias is not null: the amx drivers
// start the C tiles from the bias and pass null), modulo 2^32, written to out element (row0 + i, n).
// Resolved once per call for the plan (no per-block dispatch).
constexpr size_t kAmxBlockLd = 32;
using AmxBlockStageFn = void (*)(const OutputPlan& out, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end,
                                 const int32_t* hi, const int32_t* lo, const int32_t* bias);
AmxBlockStageFn amx_block_stage__avx512(const OutputPlan&, bool split);
// u8 plans with a byte table (Eq. 11c), applied in registers (AVX-512 VBMI; not split).
AmxBlockStageFn amx_block_stage__avx512vbmi(const OutputPlan&);
// kAmx: the AVX-512 one; kAmxEmu: the same where the host has AVX-512, else nullptr (the drivers
// then use output_stage_for(kAmxEmu) on an int32 buffer). A plan with a byte table gets the VBMI
// one: linear() passes tables to the amx kernels only where linear_fuses_byte_table says so.
AmxBlockStageFn amx_block_stage_for(GemmIsa, const OutputPlan&, bool split);

// ---- oneDNN backend state (gemm-onednn.cc), owned by PackedWeights through these two calls.
#if INTVIT_WITH_ONEDNN
void* onednn_prepare_weights(const int8_t* plain, size_t n, size_t k);
void onednn_destroy_weights(void* state);
#endif

}  // namespace intvit::gemm
