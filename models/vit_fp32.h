// The FP32 reference ViT/DeiT forward: the accuracy oracle and the source of calibration
// statistics. Plain and readable on purpose; speed comes from the FP32 product only (fp32_gemm.h:
// the same bits on every CPU, so every host calibrates the same integer model).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

#include "engine/vit_config.h"
#include "models/fp32_layers.h"

namespace intvit {

class SafeTensorsFile;

struct BlockF32 {
  LayerNormF32 norm1;
  LinearF32 qkv, proj;
  LayerNormF32 norm2;
  LinearF32 fc1, fc2;
};

struct ViTWeightsF32 {
  ViTConfig config;
  LinearF32 patch_embed;          // weight [D][C·P·P] in PyTorch's (c, ky, kx) order
  std::vector<float> cls_token;   // [D] (empty without class token)
  std::vector<float> dist_token;  // [D] (DeiT-distilled only)
  std::vector<float> pos_embed;   // [T][D]
  std::vector<BlockF32> blocks;
  LayerNormF32 norm;
  LinearF32 head, head_dist;      // head_dist only for DeiT-distilled
};

// Reads timm tensor names; throws intvit::Error naming the missing / mis-shaped tensor.
ViTWeightsF32 load_vit_weights_f32(const SafeTensorsFile& file, const ViTConfig& config);
// A model folder (config.json + model.safetensors) or a .safetensors file with config.json beside it.
ViTWeightsF32 load_vit_f32(const std::filesystem::path& model_path);

// The observer (models/fp32_layers.h) sees every intermediate tensor the integer engine quantizes.
// Names: "embed", "blocks.<i>.norm1.in", "blocks.<i>.norm1.out", "blocks.<i>.attn.q" (already scaled
// by head_dim^-0.5), ".attn.k", ".attn.v", ".attn.logits" ([heads·T][T]), ".attn.probs",
// ".attn.out", ".attn.proj.out", ".norm2.in", ".norm2.out", ".mlp.fc1.out", ".mlp.gelu.out",
// ".mlp.fc2.out", "norm.in", "norm.out", "logits".

// pixels: uint8 RGB HWC of config.image_size²; normalisation by mean/std happens inside.
std::vector<float> vit_forward_f32(const ViTWeightsF32& model, const uint8_t* pixels,
                                   const ActivationObserver& observer = {});

}  // namespace intvit
