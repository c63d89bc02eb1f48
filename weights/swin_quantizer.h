// Post-training quantization of a Swin Transformer: FP32 Swin + calibration ranges (calibrate()
// through swin_forward_f32's observer names) -> IntSwin (offline, float allowed). The same layer
// steps as the ViT quantizer (weights/quantize_layers.h); QUANTIZATION.md §9 has the Swin-only ones.
#pragma once

#include "engine/int_swin.h"
#include "models/swin_fp32.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

namespace intvit {

// Uses options.softmax, attn_bits, log2_renormalize and gelu; the MLPs run 8-bit (wide_blocks and
// auto_wide are ignored; report->notes says so when they were asked for). Throws
// Error(kInvalidArgument) for rejected option combinations (check_quantize_options) and for a
// q@kᵀ scale so small that the shift mask (Eq. 43) would not zero a probability.
IntSwin quantize_swin(const SwinWeightsF32& model, const CalibrationStats& stats, const QuantizeOptions& options,
                      QuantizeReport* report = nullptr);

}  // namespace intvit
