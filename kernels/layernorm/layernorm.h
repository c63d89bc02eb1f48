// Integer LayerNorm over rows of `channels` values (kernels/QUANTIZATION.md §6, Eq. 33-39).
//
// Input: the int32 residual stream (scale s_in, zero-point 0), or the FQ-ViT PTF form: uint8 with
// a zero-point and per-channel power-of-two factors alpha_c in {0..3} (channel c real =
// s_in·2^alpha_c·(q - z)). Output: uint8 (s_out, z_out) or int16 (s_out, zero-point 0).
// 1 <= channels <= 4096.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace intvit {

namespace layernorm_detail {
inline constexpr int kMaxChannels = 4096;
inline constexpr int kNormBits = 23;     // Eq. 34: rows are shifted so that max |x'| < 2^23
inline constexpr int kTBits = 30;        // Eq. 38: t = (x' - μ)/sqrt(V') in Q30
inline constexpr int kMaxOutShift = 40;  // Eq. 39: h_c <= 40 keeps the γ rounding below 2^-11 step
}  // namespace layernorm_detail

// Built offline by make_layernorm_params; the kernels only read it. No float.
struct LayerNormParams {
  size_t channels = 0;
  bool uint8_input = false;      // the PTF form (alpha given)
  int32_t in_zero_point = 0;     // uint8 input only
  int32_t out_bits = 8;
  int32_t out_zero_point = 0, out_min = 0, out_max = 255;
  int32_t eps_mantissa = 0;      // Eq. 36: ε / s_in² = eps_mantissa · 2^eps_exponent
  int32_t eps_exponent = 0;
  int32_t max_pre_shift = 0;     // Eq. 34: s_max, keeps C·ε' <= 2^60
  std::vector<uint8_t> alpha;    // PTF shift per channel (uint8 input), else empty
  std::vector<int32_t> gamma_multiplier;  // Eq. 39: G_c (signed, |G_c| < 2^31)
  std::vector<uint8_t> out_shift;         //         h_c in [0, 40]
  std::vector<int64_t> beta_bias;         //         H_c = round(β_c/s_out · 2^h_c)
};

// Offline (float allowed). alpha == nullptr: int32 input (in_zero_point must be 0); otherwise uint8
// input with factors alpha[c] in {0..3}. out_bits 8 (uint8, out_zero_point in [0,255]) or 16
// (int16, out_zero_point 0).
LayerNormParams make_layernorm_params(const float* gamma, const float* beta, size_t channels, double eps,
                                      double in_scale, const uint8_t* alpha, int32_t in_zero_point,
                                      double out_scale, int32_t out_zero_point, int out_bits);

// rows × channels; `in` is int32_t* or uint8_t* (PTF), `out` uint8_t* or int16_t*; strides in elements.
// The _ref, __avx2 and __avx512 variants compute the same bits; the session's
// KernelSet picks one (kernels/backend/backend.h).
void layernorm_rows_ref(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                        size_t ld_out);
void layernorm_rows__avx2(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                          size_t ld_out);
void layernorm_rows__avx512(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                            size_t ld_out);

}  // namespace intvit
