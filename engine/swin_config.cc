#include "engine/swin_config.h"

#include <cstdint>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/config_json.h"
#include "kernels/error.h"

namespace intvit {
namespace {

constexpr ConfigReader kReader("Swin");

void require(bool ok, const std::string& what) { kReader.require(ok, what); }

// The timm model names whose geometry a config without model_args implies.
void apply_architecture_defaults(SwinConfig& c) {
  const std::string& a = c.architecture;
  if (a.rfind("swin_small_patch4_window7_224", 0) == 0) {
    c.depths = {2, 2, 18, 2};
  } else if (a.rfind("swin_base_patch4_window7_224", 0) == 0) {
    c.embed_dim = 128;
    c.depths = {2, 2, 18, 2};
    c.num_heads = {4, 8, 16, 32};
  }  // swin_tiny_patch4_window7_224 is SwinConfig's default
}

}  // namespace

int SwinConfig::mlp_hidden(int stage) const { return static_cast<int>(stage_dim(stage) * mlp_ratio); }

int SwinConfig::stage_window(int stage) const {
  const int res = stage_resolution(stage);
  return res <= window_size ? res : window_size;
}

int SwinConfig::block_shift(int stage, int block) const {
  if (block % 2 == 0 || stage_resolution(stage) <= window_size) return 0;
  return window_size / 2;
}

void SwinConfig::validate() const {
  require(in_channels == 3, "only 3 input channels (RGB) are supported");
  require(image_size > 0 && image_size <= 4096, "image_size must be in [1, 4096]");
  require(patch_size > 0 && patch_size <= image_size, "patch_size must be in [1, image_size]");
  require(image_size % patch_size == 0, "image_size must be a multiple of patch_size");
  require(image_size / patch_size <= 256, "the patch grid must be at most 256x256");
  require(!depths.empty() && depths.size() <= 8, "depths must list 1 to 8 stages");
  require(num_heads.size() == depths.size(), "depths and num_heads must have the same length");
  require(embed_dim > 0 && (static_cast<int64_t>(embed_dim) << (depths.size() - 1)) <= 16384,
          "embed_dim must be > 0 and the last stage's dim at most 16384");
  require(window_size > 0 && window_size <= 64, "window_size must be in [1, 64]");
  require(mlp_ratio > 0 && mlp_ratio <= 16, "mlp_ratio must be in (0, 16]");
  require(num_classes > 0 && num_classes <= 100000, "num_classes must be in [1, 100000]");
  require(layer_norm_eps > 0 && layer_norm_eps < 1, "layer_norm_eps must be in (0, 1)");
  require(crop_pct >= kMinCropPct && crop_pct <= 1, "crop_pct must be in [0.25, 1]");
  require(interpolation == "bicubic" || interpolation == "bilinear", "interpolation must be bicubic or bilinear");
  for (int c = 0; c < 3; ++c) require(std[c] > 0, "std must be > 0");
  int res = image_size / patch_size;
  for (int s = 0; s < num_stages(); ++s) {
    const std::string stage = "stage " + std::to_string(s) + ": ";
    if (s > 0) {
      require(res % 2 == 0, stage + "patch merging needs an even resolution, got " + std::to_string(res));
      res /= 2;
    }
    require(depths[s] > 0 && depths[s] <= 64, stage + "depth must be in [1, 64]");
    require(num_heads[s] > 0 && stage_dim(s) % num_heads[s] == 0,
            stage + "dim " + std::to_string(stage_dim(s)) + " is not a multiple of num_heads " +
                std::to_string(num_heads[s]));
    require(mlp_hidden(s) > 0, stage + "mlp hidden size must be > 0");
    const int ws = stage_window(s);
    require(res % ws == 0, stage + "window " + std::to_string(ws) + " does not divide the resolution " +
                               std::to_string(res) + "x" + std::to_string(res));
  }
}

bool is_swin_config(const nlohmann::json& j) {
  if (!j.is_object()) return false;
  if (j.contains("architecture") && j["architecture"].is_string() &&
      j["architecture"].get<std::string>().rfind("swin", 0) == 0) {
    return true;
  }
  return j.contains("model_args") && j["model_args"].is_object() && j["model_args"].contains("depths") &&
         j["model_args"]["depths"].is_array();
}

bool config_file_is_swin(const std::filesystem::path& config_json) {
  std::ifstream in(config_json);
  if (!in) return false;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && is_swin_config(j);
}

SwinConfig parse_swin_config(const nlohmann::json& j) {
  SwinConfig c;
  try {
    require(j.is_object(), "not a JSON object");
    kReader.read(j, "architecture", c.architecture);
    apply_architecture_defaults(c);
    kReader.read(j, "num_classes", c.num_classes);
    const nlohmann::json& args = j.contains("model_args") ? j["model_args"] : j;
    kReader.read(args, "img_size", c.image_size);
    kReader.read(args, "patch_size", c.patch_size);
    kReader.read(args, "in_chans", c.in_channels);
    kReader.read(args, "embed_dim", c.embed_dim);
    kReader.read(args, "depths", c.depths);
    kReader.read(args, "num_heads", c.num_heads);
    kReader.read(args, "window_size", c.window_size);
    kReader.read(args, "mlp_ratio", c.mlp_ratio);
    kReader.read(args, "num_classes", c.num_classes);
    kReader.read_pretrained_cfg(j, c);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInvalidArgument, std::string("invalid Swin config: ") + e.what());
  }
  c.validate();
  return c;
}

nlohmann::json swin_config_to_json(const SwinConfig& c) {
  return {
      {"architecture", c.architecture},
      {"num_classes", c.num_classes},
      {"num_features", c.num_features()},
      {"model_args",
       {{"img_size", c.image_size}, {"patch_size", c.patch_size}, {"in_chans", c.in_channels}, {"embed_dim", c.embed_dim},
        {"depths", c.depths}, {"num_heads", c.num_heads}, {"window_size", c.window_size}, {"mlp_ratio", c.mlp_ratio},
        {"num_classes", c.num_classes}}},
      {"pretrained_cfg", pretrained_cfg_json(c)},
  };
}

ViTConfig swin_model_view(const SwinConfig& c) {
  ViTConfig v;
  v.architecture = c.architecture;
  v.image_size = c.image_size;
  v.patch_size = c.patch_size;
  v.in_channels = c.in_channels;
  v.embed_dim = c.embed_dim;
  v.depth = 0;
  for (int d : c.depths) v.depth += d;
  v.num_heads = c.num_heads.empty() ? 1 : c.num_heads[0];
  v.mlp_ratio = c.mlp_ratio;
  v.num_classes = c.num_classes;
  v.class_token = false;
  v.layer_norm_eps = c.layer_norm_eps;
  v.gelu = c.gelu;
  v.mean = c.mean;
  v.std = c.std;
  v.interpolation = c.interpolation;
  v.crop_pct = c.crop_pct;
  return v;
}

SwinConfig load_swin_config(const std::filesystem::path& path) {
  const nlohmann::json j = read_config_json(path);
  try {
    return parse_swin_config(j);
  } catch (...) {
    rethrow_as_bad_config_file(path);
  }
}

}  // namespace intvit
