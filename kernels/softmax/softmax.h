// Integer softmax over rows of q@k^T accumulators (kernels/QUANTIZATION.md §4, Eq. 13-23).
//
// Input: rows of `len` int32 accumulators with real value s_in·acc (1 <= len <= 4096).
// Output: kIexp / kShiftmax / kLut: uint8 probability p with scale 2^-8 (real p/256, p <= 255,
// so a certain token reads 255/256); kLog2: a code c in [0, 2^out_bits - 1] meaning weight 2^-c,
// the max code meaning weight 0 (FQ-ViT log-int-softmax), consumed by av_log2.
// 16-bit output (softmax_rows16, kIexp / kShiftmax / kLut only, §4.10): uint16 p16 with scale 2^-15
// (real p16/32768, p16 <= 32767), the same e as the 8-bit path, consumed by av16.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace intvit {

enum class SoftmaxMode { kIexp, kShiftmax, kLog2, kLut };

// "iexp" | "shiftmax" | "log2" | "lut"; throws intvit::Error(kInvalidArgument) otherwise.
SoftmaxMode parse_softmax_mode(std::string_view name);
const char* softmax_mode_name(SoftmaxMode mode);

// Fixed formats of §4 (shared by the reference and the SIMD kernels).
namespace softmax_detail {
// Every mode produces e in [0, 2^18) so that Σe over 4096 entries stays below 2^30 (Eq. 21-22).
inline constexpr int kIexpFracBits = 14;     // Eq. 14: u in units of ln2·2^-14
inline constexpr int kIexpClampN = 30;       // Eq. 14: I-BERT's n, u >= -30·ln2
inline constexpr int kIexpNarrowShift = 13;  // Eq. 17: e(0) = round(C / 2^13) = 190,429 < 2^18
inline constexpr int kShiftFracBits = 17;    // Eq. 18-19: Q17; e(0) = 2^17
inline constexpr int kShiftPreClamp = 1 << 21;                // Eq. 18: |v| clamp (no overflow)
inline constexpr int kShiftClampN = kShiftFracBits + 1;        // Eq. 18: t >= -18 (log2), e = 0 there
inline constexpr int kLutExpBits = 17;       // Eq. 20: table entries round(2^17·exp(-i·s_8)), T[255] = 0
inline constexpr int kProbShift = 23;        // Eq. 21: F = round(2^31/Σ), p = (e·F + 2^22) >> 23
// Eq. 21b (16-bit output): F16 = round(2^47/Σ) in (2^17, 2^30] (Σ in [2^17, 2^30): e(0) >= 2^17 is
// in every row), p16 = min((e·F16 + 2^31) >> 32, 32767). e·F16 < 2^48: exact in 64-bit lanes.
inline constexpr int kProb16RecipBits = 47;
inline constexpr int kProb16Shift = 32;
inline constexpr int32_t kProb16Max = 32767;  // the clamp: a certain token reads 32767/32768
}  // namespace softmax_detail

// Everything the kernels read; built offline by make_softmax_params. POD, no float.
struct SoftmaxParams {
  SoftmaxMode mode = SoftmaxMode::kIexp;
  int32_t out_bits = 8;
  int32_t max_code = 255;         // kLog2: 2^out_bits - 1 (weight 0); otherwise the clamp: 255,
                                  // or 32767 for out_bits = 16 (the kernels use their constant)
  int32_t in_multiplier = 0;      // Eq. 14/18/20: (x - max) -> the mode's internal scale (Q31)
  int32_t in_shift = 0;           //   and its right shift (Eq. 7)
  int32_t poly_b = 0;             // kIexp/kLog2 polynomial constants B, C (Eq. 16)
  int32_t poly_c = 0;
  int32_t exp_table[256] = {};    // kLut: round(2^17·exp(-i·s_8)), last entry 0 (Eq. 20)
  int32_t renormalize = 0;        // kLog2, executor: attn@v rows divided by their weight sum (Eq. 24)
};
static_assert(std::is_trivially_copyable_v<SoftmaxParams> && std::is_standard_layout_v<SoftmaxParams>);

namespace softmax_detail {
// Throws intvit::Error(kInvalidArgument) unless p.mode is kIexp, kShiftmax or kLut (the modes with
// a 16-bit output). Defined in softmax-params.cc (ISA-neutral, so no std::string code is compiled
// with AVX flags); every softmax_rows16* entry point calls it once per call, never per row.
void check_softmax16_params(const SoftmaxParams& p);

// Calls kernel.template operator()<kMode>() for `mode`: the one mode switch every entry point
// (8/16-bit output; ref, AVX2, AVX-512) shares, so row loops are instantiated per mode.
template <typename Kernel>
void for_softmax_mode(SoftmaxMode mode, Kernel&& kernel) {
  switch (mode) {
    case SoftmaxMode::kIexp: return kernel.template operator()<SoftmaxMode::kIexp>();
    case SoftmaxMode::kShiftmax: return kernel.template operator()<SoftmaxMode::kShiftmax>();
    case SoftmaxMode::kLog2: return kernel.template operator()<SoftmaxMode::kLog2>();
    case SoftmaxMode::kLut: return kernel.template operator()<SoftmaxMode::kLut>();
  }
}
}  // namespace softmax_detail

// Offline (float allowed). input_scale: s_in of the accumulators (> 0). out_bits: 8 or 16 for
// kIexp / kShiftmax / kLut (16: for softmax_rows16; every field but out_bits and max_code is the
// same as for 8), 1..8 for kLog2 (4 in FQ-ViT).
SoftmaxParams make_softmax_params(SoftmaxMode mode, double input_scale, int out_bits);

// rows × len (len == 0: nothing), row strides in elements. Every entry point computes the same
// bits (Eq. 13-22).
void softmax_rows_ref(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                      uint8_t* out, size_t ld_out);
void softmax_rows__avx2(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                        uint8_t* out, size_t ld_out);
void softmax_rows__avx512(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in,
                          size_t ld_in, uint8_t* out, size_t ld_out);
// AVX-512 + VBMI (softmax-avx512vbmi.cc): the lut mode with its table in registers (vpermi2b) and
// a one-rounding index (§4.11); every other mode runs __avx512. The KernelSet takes it where the
// CPU has VBMI.
void softmax_rows__avx512vbmi(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                              uint8_t* out, size_t ld_out);

// attn@v for kLog2 codes (Eq. 23): acc[i][j] = Σ_k w(code[i][k])·(v_t[j][k] - v_zero_point)
// with w(c) = 2^(kAvLog2Shift - c), w(max_code) = 0; real value acc·2^-kAvLog2Shift·s_v.
// v is given transposed ([n][k], row stride ld_v). Summation is mod 2^32 (like Eq. 10), so every
// order gives the same bits; codes produced by softmax_rows (Σ 2^-c <= 1.5) never wrap.
inline constexpr int kAvLog2Shift = 22;
void av_log2_ref(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes, size_t ld_codes,
                 const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av_log2__avx2(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes, size_t ld_codes,
                   const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av_log2__avx512(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes,
                     size_t ld_codes, const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc,
                     size_t ld_acc);

// Divides each row of av_log2's result by that row's quantized weight sum (Eq. 24):
//   acc[i][j] <- round(acc[i][j] · 2^kAvLog2Shift / W_i),  W_i = Σ_k w(code[i][k])
// so a row's effective weights sum to exactly 1 again (log2 codes alone sum to 0.75..1.5); real
// value and scale unchanged (acc·2^-kAvLog2Shift·s_v). Rows with W_i = 0 are left as they are.
// Rows of k < 2^32 (int64 arithmetic).
void av_log2_renormalize(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes,
                         size_t ld_codes, int32_t* acc, size_t ld_acc);

// 16-bit softmax (QUANTIZATION.md §4.10, Eq. 21b) for kIexp / kShiftmax / kLut: the same e_j (Eq.
// 13-20) and Σ as softmax_rows, normalised to scale 2^-15:
//   p16_j = min((e_j·F16 + 2^31) >> 32, 32767),  F16 = round(2^47 / Σ)
// i.e. round(32768·e_j/Σ) (F16 has >= 17 significant bits, so it differs only within 2^-15 of a
// tie). Real value p16/32768; each row sums to 32768 within len/2 + 1. The out_bits / max_code
// fields are not read (params built for 8 or 16 bits give the same result); kLog2 params throw
// intvit::Error(kInvalidArgument). rows × len (len == 0: nothing), row strides in elements.
void softmax_rows16_ref(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                        uint16_t* out, size_t ld_out);
void softmax_rows16__avx2(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                          uint16_t* out, size_t ld_out);
void softmax_rows16__avx512(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                            uint16_t* out, size_t ld_out);
void softmax_rows16__avx512vbmi(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                                uint16_t* out, size_t ld_out);

// attn@v with 16-bit probabilities (Eq. 23b): acc[i][j] = Σ_kk p[i][kk]·(v_t[j][kk] - v_zero_point)
// (mod 2^32, like Eq. 10: every order gives the same bits), real value acc·2^-15·s_v. v is given
// transposed ([n][k], row stride ld_v). Precondition p <= 32767 (what softmax_rows16 writes; the
// SIMD kernels read p as int16). Rows of softmax_rows16 have Σ_kk p <= 32768 + len/2, so with
// v_zero_point in [0, 255] |acc| < 2^24 for len <= 4096: exact, nothing wraps.
void av16_ref(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
              int32_t v_zero_point, int32_t* acc, size_t ld_acc);
// Four SIMD builds of one outer-product kernel: __avx2 (vpmaddwd + vpaddd), __avxvnni (VEX
// vpdpwssd), __avx512 (vpmaddwd, AVX512-BW), __avx512vnni (vpdpwssd); the KernelSet takes the VNNI
// build where the CPU has it, AVX-VNNI only for the avxvnni backend (kernels/backend/backend.cc).
void av16__avx2(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av16__avxvnni(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                   int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av16__avx512(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t,
                  size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc);
void av16__avx512vnni(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t,
                      size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc);

}  // namespace intvit
