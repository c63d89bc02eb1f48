// The per-layer quantization steps shared by the ViT quantizer (weights/quantizer.cc, where they
// are defined) and the Swin quantizer (weights/swin_quantizer.cc). Offline, float allowed.
#pragma once

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

}  // namespace intvit::quantize_layers
