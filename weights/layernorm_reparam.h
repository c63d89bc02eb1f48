// LayerNorm output reparameterization (offline, after RepQ-ViT, Li et al. 2023): a LayerNorm
// output quantized per tensor in uint8 wastes most of its 256 levels, because its channels span
// very different ranges (the affine γ, β). Rescaling and shifting each channel inside the
// LayerNorm so that every channel spans the same range, and undoing that in the weights and bias
// of the linear layer that reads it, leaves the FP32 function unchanged (up to float rounding)
// while the per-tensor uint8 quantization then fits every channel:
//   y'_c = (y_c − a_c) / r_c            γ'_c = γ_c / r_c,  β'_c = (β_c − a_c) / r_c
//   W y + b = W' y' + b'                W'_{n,c} = W_{n,c} · r_c,  b'_n = b_n + Σ_c W_{n,c} · a_c
// with r_c = range_c / mean range and a_c chosen so that channel c maps onto the mean range.
#pragma once

#include "models/vit_fp32.h"
#include "weights/calibration.h"

namespace intvit {

// Uses the per-channel ranges of every block's norm1.out and norm2.out (calibration stats of the
// same model); the consumers are the block's qkv and fc1. Calibrate the result again before
// quantizing it.
ViTWeightsF32 reparameterize_layernorms(const ViTWeightsF32& model, const CalibrationStats& stats);

}  // namespace intvit
