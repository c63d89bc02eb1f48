// Post-training quantization of a Swin Transformer: FP32 Swin + calibration ranges (calibrate()
// through swin_forward_f32's observer names) -> IntSwin (offline, float allowed). The same layer
// steps as the ViT quantizer (weights/quantize_layers.h); QUANTIZATION.md §9 has the Swin-only ones.
#pragma once

#include "engine/int_swin.h"
#include "models/swin_fp32.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

namespace intvit {

// Uses options.softmax, attn_bits, log2_renormalize, gelu, and the 16-bit MLP blocks as in ViT:
// wide_blocks lists blocks by their index over all stages (stage 0's first), or, empty with
// auto_wide, choose_swin_wide_blocks picks them. Throws Error(kInvalidArgument) for rejected option
// combinations (check_quantize_options), a wide block out of range, and for a q@kᵀ scale so small
// that the shift mask (Eq. 43) would not zero a probability.
IntSwin quantize_swin(const SwinWeightsF32& model, const CalibrationStats& stats, const QuantizeOptions& options,
                      QuantizeReport* report = nullptr);

// Throws Error(kInvalidArgument) for a wide-block index outside the model's blocks (counted over all
// stages), as check_wide_blocks for a ViT: callers check before calibrating.
void check_swin_wide_blocks(const std::vector<int>& wide_blocks, const SwinConfig& c);

// The ViT's range-ratio rule (choose_wide_blocks) over all Swin blocks: those whose GELU-input
// |max| exceeds ratio × the median block's.
std::vector<int> choose_swin_wide_blocks(const CalibrationStats& stats, const SwinConfig& c, double ratio);

}  // namespace intvit
