// ViT / DeiT geometry and preprocessing policy, read from a timm-style config.json.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace intvit {

enum class GeluKind { kErf, kTanh };

// Smallest accepted crop_pct: the resize before the crop is at most 4x the input size. A tiny
// (or denormal) crop_pct would make floor(input_size / crop_pct) huge or inf, and a model that
// loads must be able to preprocess an image.
inline constexpr double kMinCropPct = 0.25;

struct ViTConfig {
  std::string architecture = "vit";
  int image_size = 224;
  int patch_size = 16;
  int in_channels = 3;
  int embed_dim = 192;
  int depth = 12;
  int num_heads = 3;
  double mlp_ratio = 4.0;
  int num_classes = 1000;
  bool class_token = true;
  bool distillation_token = false;  // DeiT-distilled: dist_token + head_dist, logits averaged
  double layer_norm_eps = 1e-6;
  GeluKind gelu = GeluKind::kErf;
  // Preprocessing (timm pretrained_cfg).
  std::array<double, 3> mean = {0.485, 0.456, 0.406};
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  std::string interpolation = "bicubic";  // "bicubic" | "bilinear"
  double crop_pct = 0.875;  // in [kMinCropPct, 1]

  int grid() const { return image_size / patch_size; }
  int num_patches() const { return grid() * grid(); }
  int num_prefix_tokens() const { return (class_token ? 1 : 0) + (distillation_token ? 1 : 0); }
  int num_tokens() const { return num_patches() + num_prefix_tokens(); }
  int head_dim() const { return embed_dim / num_heads; }
  // Out of line: float arithmetic stays in this (offline) object, not in the integer executor.
  int mlp_hidden() const;

  // Throws intvit::Error(kInvalidArgument) on inconsistent or absurd geometry (bounded sizes so a
  // corrupt config can never request a huge allocation).
  void validate() const;
};

ViTConfig parse_vit_config(const nlohmann::json& j);
ViTConfig load_vit_config(const std::filesystem::path& config_json);

// For the load_*_config functions: a config.json file's object (kIo if it cannot be opened,
// kCorruptFile if it is not a JSON object), and the current exception rethrown with a value a
// parser refused (kInvalidArgument) as kCorruptFile naming the file: the file is bad, not an argument.
nlohmann::json read_config_json(const std::filesystem::path& config_json);
[[noreturn]] void rethrow_as_bad_config_file(const std::filesystem::path& config_json);
nlohmann::json vit_config_to_json(const ViTConfig&);

// Class labels beside a model: labels.txt or imagenet_classes.txt (one per line). Missing file ->
// "class_<i>" names.
std::vector<std::string> load_labels(const std::filesystem::path& model_dir, int num_classes);

// `labels` cut or extended to num_classes, every empty or missing name as "class_<i>".
std::vector<std::string> complete_labels(std::vector<std::string> labels, int num_classes);

}  // namespace intvit
