// Swin Transformer geometry and preprocessing policy, read from a timm-style config.json.
// In the core layer (beside vit_config.h) so the integer graph builder can use it too.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/vit_config.h"

namespace intvit {

// timm's SwinTransformer (>= 0.9): patch embed (conv P×P + LayerNorm) to a grid of embed_dim
// channels; stage i (i >= 1 starts with a 2×2 patch merging) has depths[i] blocks of dim
// embed_dim·2^i and num_heads[i] heads over window_size² windows; odd blocks shift by
// window_size/2. When a stage's resolution is <= window_size, timm uses one window of the whole
// resolution and no shift (stage_window / block_shift do the same).
struct SwinConfig {
  std::string architecture = "swin_tiny_patch4_window7_224";
  int image_size = 224;
  int patch_size = 4;
  int in_channels = 3;
  int embed_dim = 96;
  std::vector<int> depths = {2, 2, 6, 2};
  std::vector<int> num_heads = {3, 6, 12, 24};
  int window_size = 7;
  double mlp_ratio = 4.0;
  int num_classes = 1000;
  double layer_norm_eps = 1e-5;  // nn.LayerNorm's default, which timm's Swin uses
  GeluKind gelu = GeluKind::kErf;
  // Preprocessing (timm pretrained_cfg); swin_tiny_patch4_window7_224's defaults.
  std::array<double, 3> mean = {0.485, 0.456, 0.406};
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  std::string interpolation = "bicubic";
  double crop_pct = 0.9;

  int num_stages() const { return static_cast<int>(depths.size()); }
  int stage_dim(int stage) const { return embed_dim << stage; }
  int stage_resolution(int stage) const { return (image_size / patch_size) >> stage; }  // grid side
  int stage_window(int stage) const;              // clamped to the resolution like timm
  int block_shift(int stage, int block) const;    // 0 for even blocks and clamped stages
  int head_dim(int stage) const { return stage_dim(stage) / num_heads[stage]; }
  int num_features() const { return stage_dim(num_stages() - 1); }
  // Out of line: float arithmetic stays in this (offline) object.
  int mlp_hidden(int stage) const;

  // Throws intvit::Error(kInvalidArgument) naming the problem: sizes out of bounds, a window that
  // does not divide a stage's resolution, an odd resolution before patch merging, heads that do not
  // divide a stage's dim, depths/num_heads of different lengths.
  void validate() const;
};

// True if the config names a Swin ("swin..." architecture or a model_args.depths array).
bool is_swin_config(const nlohmann::json& j);
// True if the file at config_json parses and is_swin_config; missing or unparsable: false (left to the loaders' errors).
bool config_file_is_swin(const std::filesystem::path& config_json);
SwinConfig parse_swin_config(const nlohmann::json& j);
SwinConfig load_swin_config(const std::filesystem::path& config_json);
// timm-style, read back by parse_swin_config (the integer model file stores it).
nlohmann::json swin_config_to_json(const SwinConfig& c);
// The ViTConfig a loaded Swin model shows through engine/model.h's Model::config(): input size,
// classes and preprocessing (what the CLI, the datasets and the C API read); embed_dim = the first
// stage's width, depth = all blocks, num_heads = the first stage's.
ViTConfig swin_model_view(const SwinConfig& c);

}  // namespace intvit
