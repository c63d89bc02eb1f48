// The per-layer quantization steps shared by the ViT quantizer (weights/quantizer.cc, where they
// are defined) and the Swin quantizer (weights/swin_quantizer.cc). Offline, float allowed.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

#include "engine/int_vit.h"
#include "models/fp32_layers.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

namespace intvit::quantize_layers {

inline constexpr double kResidualMax = double(1 << 22);  // |residual| target in integer units (LayerNorm proof: < 2^23)
inline constexpr double kLogitMax = double(1 << 20);
inline constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
inline constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// (Eq. 2, 3) uint8 asymmetric; a zero-point outside [0, 255] is clamped and counted.
ActQuant uint8_quant(const TensorRange& r, QuantizeReport& report);
// int16 symmetric, limited to `limit` so a following K-deep product cannot overflow (Eq. 10).
ActQuant int16_quant(const TensorRange& r, double limit);
double int16_limit_for_k(int k);
// Weights int8 symmetric per output channel (Eq. 4); bias (b may be nullptr) int32 at s_in·s_w[n] (Eq. 8).
QLinear quantize_linear(const float* w, const float* b, int out, int in, const ActQuant& input);
// Output requantization: per channel s_in·s_w[n]·extra / s_out.
void set_output(QLinear& l, double out_scale, double extra, GemmOut type, int32_t zp, int32_t lo, int32_t hi, bool accumulate);
void set_output(QLinear& l, const ActQuant& out, double extra = 1.0);
void set_residual_output(QLinear& l, double residual_scale);
QLayerNorm describe_layernorm(const LayerNormF32& n, const ActQuant& out);
// The patch convolution (weight [out][3·P·P] in (c, ky, kx) order) as a linear over raw uint8 pixels in (ky, kx, c)
// order, with the pixel normalisation x = p/(255·std_c) − mean_c/std_c folded into its weights and bias.
// The block's q, k, v projections from one fused qkv Linear ([3·d][d]) reading ln1, q scaled by `q_extra`
// (1/√head_dim), and the q@kᵀ accumulator scale.
void quantize_qkv(QBlock& b, const LinearF32& qkv, int d, const ActQuant& ln1, const ActQuant& q, const ActQuant& k,
                  const ActQuant& v, double q_extra);
// The attention's output side: the probabilities' format (attn_bits), attn@v requantized to uint8 (or the log2
// codes' fixed scale), and proj onto the residual stream. b.softmax must be set.
void quantize_attention_output(QBlock& b, const ActQuant& v, const TensorRange& attn_out, const LinearF32& proj, int d,
                               double residual_scale, const QuantizeOptions& opt, QuantizeReport& report);
// The MLP: fc1 into GELU and fc2 onto the residual stream; a wide block keeps GELU's input and output in 16 bits.
void quantize_mlp(QBlock& b, const LinearF32& fc1, const LinearF32& fc2, const ActQuant& ln2, const TensorRange& fc1_out,
                  const TensorRange& gelu_out, int d, int hidden, bool wide, double residual_scale, QuantizeReport& report);
QLinear quantize_patch_embed(const LinearF32& conv, int out, int patch, const std::array<double, 3>& mean,
                             const std::array<double, 3>& std);

}  // namespace intvit::quantize_layers
