// The FP32 reference Swin Transformer forward (timm semantics and tensor names): the parity oracle
// for the integer Swin and the source of its calibration statistics. Plain and readable on purpose.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "engine/swin_config.h"
#include "models/fp32_layers.h"

namespace intvit {

class SafeTensorsFile;

struct SwinBlockF32 {
  LayerNormF32 norm1;
  LinearF32 qkv, proj;
  std::vector<float> relative_position_bias_table;  // [(2ws−1)²][heads], ws = the stage's clamped window
  LayerNormF32 norm2;
  LinearF32 fc1, fc2;
};

struct SwinStageF32 {
  // Patch merging at the start of stages 1.. (absent in stage 0): LayerNorm(4·C_in), Linear without
  // bias 4·C_in -> C, over the 2×2 gather x0,x1,x2,x3 = (0,0),(1,0),(0,1),(1,1) as (row, col) offsets.
  LayerNormF32 merge_norm;
  LinearF32 merge_reduction;
  std::vector<SwinBlockF32> blocks;
};

struct SwinWeightsF32 {
  SwinConfig config;
  LinearF32 patch_embed;   // weight [C][3·P·P] in PyTorch's (c, ky, kx) order
  LayerNormF32 patch_norm;
  std::vector<SwinStageF32> stages;
  LayerNormF32 norm;
  LinearF32 head;
};

// Reads timm tensor names. The patch merging into stage s is `layers.<s>.downsample.*` (timm >= 0.9)
// or `layers.<s−1>.downsample.*` (timm < 0.9 and the original Microsoft checkpoints); the head
// is `head.fc.*` (timm >= 0.9) or `head.*`. relative_position_index / attn_mask buffers are computed,
// not read; a relative_position_index in the file must equal the computed one. Throws
// intvit::Error naming the missing or mis-shaped tensor.
SwinWeightsF32 load_swin_weights_f32(const SafeTensorsFile& file, const SwinConfig& config);
// A model folder (config.json + model.safetensors) or a .safetensors file with config.json beside it.
SwinWeightsF32 load_swin_f32(const std::filesystem::path& model_path);

// pixels: uint8 RGB HWC of config.image_size²; normalisation by mean/std happens inside.
// Observer names (tokens row-major over the grid unless noted; "<b>" = "layers.<s>.blocks.<j>"):
// "patch_embed.proj.out" (the convolution, before the LayerNorm), "patch_embed.out" (after it), "layers.<s>.downsample.norm.in" / ".norm.out" /
// ".reduction.out", "<b>.norm1.in", "<b>.norm1.out", window-major ([windows·ws²] rows):
// "<b>.attn.q" (already scaled by head_dim^-0.5), ".attn.k", ".attn.v", ".attn.qk" ([windows·heads·ws²]
// rows of ws², q·kᵀ only), ".attn.logits" (+ relative position bias + shift mask), ".attn.probs",
// ".attn.out", ".attn.proj.out"; grid order again: "<b>.norm2.in", ".norm2.out", ".mlp.fc1.out",
// ".mlp.gelu.out", ".mlp.fc2.out", after a stage's last block "<b>.out" (the stream after its
// last add); "norm.in", "norm.out", "pool.out", "logits".
std::vector<float> swin_forward_f32(const SwinWeightsF32& model, const uint8_t* pixels,
                                    const ActivationObserver& observer = {});

}  // namespace intvit
