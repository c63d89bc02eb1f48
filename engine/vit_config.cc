#include "engine/vit_config.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/config_json.h"
#include "kernels/error.h"

namespace intvit {
namespace {

constexpr ConfigReader kReader("ViT");

void require(bool ok, const std::string& what) { kReader.require(ok, what); }

}  // namespace

// timm's Block: int(dim * mlp_ratio), the double product truncated (a checkpoint's fc1 has that many
// rows, even where the product falls just below an integer).
int ViTConfig::mlp_hidden() const { return static_cast<int>(embed_dim * mlp_ratio); }

void ViTConfig::validate() const {
  require(image_size > 0 && image_size <= 4096, "image_size must be in [1, 4096]");
  require(patch_size > 0 && patch_size <= image_size, "patch_size must be in [1, image_size]");
  require(image_size % patch_size == 0, "image_size must be a multiple of patch_size");
  require(class_token, "only class-token pooling (global_pool \"token\") is supported");
  require(in_channels == 3, "only 3 input channels (RGB) are supported");
  require(embed_dim > 0 && embed_dim <= 8192, "embed_dim must be in [1, 8192]");
  require(depth > 0 && depth <= 256, "depth must be in [1, 256]");
  require(num_heads > 0 && embed_dim % num_heads == 0, "embed_dim must be a multiple of num_heads");
  require(mlp_ratio > 0 && mlp_ratio <= 16, "mlp_ratio must be in (0, 16]");
  require(mlp_hidden() > 0, "embed_dim * mlp_ratio must be at least 1 (the MLP width)");
  require(num_classes > 0 && num_classes <= 100000, "num_classes must be in [1, 100000]");
  require(num_tokens() <= 16384, "too many tokens");
  require(layer_norm_eps > 0 && layer_norm_eps < 1, "layer_norm_eps must be in (0, 1)");
  require(crop_pct >= kMinCropPct && crop_pct <= 1, "crop_pct must be in [0.25, 1]");
  require(interpolation == "bicubic" || interpolation == "bilinear", "interpolation must be bicubic or bilinear");
  for (int c = 0; c < 3; ++c) require(std[c] > 0, "std must be > 0");
}

ViTConfig parse_vit_config(const nlohmann::json& j) {
  ViTConfig c;
  try {
    kReader.read(j, "architecture", c.architecture);
    kReader.read(j, "num_classes", c.num_classes);
    const nlohmann::json& args = j.contains("model_args") ? j["model_args"] : j;
    kReader.read(args, "img_size", c.image_size);
    kReader.read(args, "patch_size", c.patch_size);
    kReader.read(args, "in_chans", c.in_channels);
    kReader.read(args, "embed_dim", c.embed_dim);
    kReader.read(args, "depth", c.depth);
    kReader.read(args, "num_heads", c.num_heads);
    kReader.read(args, "mlp_ratio", c.mlp_ratio);
    kReader.read(args, "class_token", c.class_token);
    kReader.read(args, "num_classes", c.num_classes);
    kReader.read(args, "distilled", c.distillation_token);
    if (c.architecture.find("distilled") != std::string::npos) c.distillation_token = true;
    kReader.read_pretrained_cfg(j, c);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInvalidArgument, std::string("invalid ViT config: ") + e.what());
  }
  c.validate();
  return c;
}

nlohmann::json read_config_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::kIo, "cannot open config " + path.string());
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error(ErrorCode::kCorruptFile, "config " + path.string() + " is not a JSON object");
  return j;
}

void rethrow_as_bad_config_file(const std::filesystem::path& path) {
  try {
    throw;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;
    throw Error(ErrorCode::kCorruptFile, path.string() + ": " + e.what());
  }
}

ViTConfig load_vit_config(const std::filesystem::path& path) {
  const nlohmann::json j = read_config_json(path);
  try {
    return parse_vit_config(j);
  } catch (...) {
    rethrow_as_bad_config_file(path);
  }
}

nlohmann::json vit_config_to_json(const ViTConfig& c) {
  return {
      {"architecture", c.architecture},
      {"num_classes", c.num_classes},
      {"num_features", c.embed_dim},
      {"model_args",
       {{"img_size", c.image_size}, {"patch_size", c.patch_size}, {"embed_dim", c.embed_dim},
        {"depth", c.depth}, {"num_heads", c.num_heads}, {"mlp_ratio", c.mlp_ratio},
        {"class_token", c.class_token}, {"distilled", c.distillation_token}}},
      {"pretrained_cfg", pretrained_cfg_json(c)},
  };
}

std::vector<std::string> load_labels(const std::filesystem::path& model_dir, int num_classes) {
  std::vector<std::string> labels;
  for (const char* name : {"labels.txt", "imagenet_classes.txt"}) {
    std::ifstream in(model_dir / name);
    if (!in) continue;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      labels.push_back(line);
    }
    break;
  }
  return complete_labels(std::move(labels), num_classes);
}

std::vector<std::string> complete_labels(std::vector<std::string> labels, int num_classes) {
  labels.resize(static_cast<size_t>(num_classes));
  for (int i = 0; i < num_classes; ++i) {
    if (labels[static_cast<size_t>(i)].empty()) labels[static_cast<size_t>(i)] = "class_" + std::to_string(i);
  }
  return labels;
}

}  // namespace intvit
