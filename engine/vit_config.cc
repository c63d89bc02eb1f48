#include "engine/vit_config.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/error.h"

namespace intvit {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCode::kInvalidArgument, "invalid ViT config: " + what);
}

// get<int>() on a real (1e10) or an integer beyond int is undefined behaviour or a silent wrap.
int checked_int(const nlohmann::json& v, const std::string& what) {
  require(v.is_number_integer(), what + " must be an integer");
  if (v.is_number_unsigned()) {
    require(v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max()), what + " is out of range");
  } else {
    const int64_t x = v.get<int64_t>();
    require(x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max(), what + " is out of range");
  }
  return static_cast<int>(v.get<int64_t>());
}

template <typename T>
void read_if(const nlohmann::json& obj, const char* key, T& out) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return;
  if constexpr (std::is_same_v<T, int>) {
    out = checked_int(obj[key], key);
  } else {
    out = obj[key].get<T>();
  }
}

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
    read_if(j, "architecture", c.architecture);
    read_if(j, "num_classes", c.num_classes);
    const nlohmann::json& args = j.contains("model_args") ? j["model_args"] : j;
    read_if(args, "img_size", c.image_size);
    read_if(args, "patch_size", c.patch_size);
    read_if(args, "in_chans", c.in_channels);
    read_if(args, "embed_dim", c.embed_dim);
    read_if(args, "depth", c.depth);
    read_if(args, "num_heads", c.num_heads);
    read_if(args, "mlp_ratio", c.mlp_ratio);
    read_if(args, "class_token", c.class_token);
    read_if(args, "num_classes", c.num_classes);
    read_if(args, "distilled", c.distillation_token);
    if (c.architecture.find("distilled") != std::string::npos) c.distillation_token = true;
    if (j.contains("pretrained_cfg")) {
      const nlohmann::json& p = j["pretrained_cfg"];
      if (p.contains("input_size")) {
        require(p["input_size"].is_array(), "input_size must be [C, H, W]");
        std::vector<int> size;
        for (const auto& v : p["input_size"]) size.push_back(checked_int(v, "input_size"));
        require(size.size() == 3, "input_size must be [C, H, W]");
        require(size[1] == size[2], "only square inputs are supported");
        c.in_channels = size[0];
        c.image_size = size[1];
      }
      read_if(p, "interpolation", c.interpolation);
      read_if(p, "crop_pct", c.crop_pct);
      read_if(p, "mean", c.mean);
      read_if(p, "std", c.std);
      read_if(p, "num_classes", c.num_classes);
      read_if(p, "layer_norm_eps", c.layer_norm_eps);
      std::string act;
      read_if(p, "act_layer", act);
      if (act.find("tanh") != std::string::npos) c.gelu = GeluKind::kTanh;
    }
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
      {"pretrained_cfg",
       {{"input_size", {c.in_channels, c.image_size, c.image_size}}, {"interpolation", c.interpolation},
        {"crop_pct", c.crop_pct}, {"mean", c.mean}, {"std", c.std}, {"num_classes", c.num_classes},
        {"layer_norm_eps", c.layer_norm_eps},
        {"act_layer", c.gelu == GeluKind::kErf ? "gelu (erf)" : "gelu (tanh)"}}},
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
