// What the ViT and the Swin config parsers (vit_config.cc, swin_config.cc) read alike from a
// timm-style config.json: values checked the same way, and the pretrained_cfg block, which both
// also write alike. Offline code: it parses floats (CMakeLists.txt, offline_files).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/swin_config.h"
#include "engine/vit_config.h"

namespace intvit {

// The reads of one model family ("ViT", "Swin"), whose refusals throw
// Error(kInvalidArgument, "invalid <family> config: <what>"). read() leaves `out` as it is where
// obj is not an object or has no `key` or a null one, and refuses a real (1e10) or an integer
// beyond int as an int: get<int>() would be undefined behaviour or a silent wrap.
class ConfigReader {
 public:
  explicit constexpr ConfigReader(const char* family) : family_(family) {}

  void require(bool ok, const std::string& what) const;
  void read(const nlohmann::json& obj, const char* key, int& out) const;
  void read(const nlohmann::json& obj, const char* key, bool& out) const;
  void read(const nlohmann::json& obj, const char* key, double& out) const;
  void read(const nlohmann::json& obj, const char* key, std::string& out) const;
  // At most 64 integers, else "<key> must be an array of integers".
  void read(const nlohmann::json& obj, const char* key, std::vector<int>& out) const;

  // config["pretrained_cfg"], if any: input_size [C, H, W] (square) as in_channels and image_size,
  // interpolation, crop_pct, mean, std, num_classes, layer_norm_eps, and act_layer (a name with
  // "tanh" is GeluKind::kTanh).
  void read_pretrained_cfg(const nlohmann::json& config, ViTConfig& c) const;
  void read_pretrained_cfg(const nlohmann::json& config, SwinConfig& c) const;

 private:
  const char* family_;
};

// The pretrained_cfg block that read_pretrained_cfg reads back.
nlohmann::json pretrained_cfg_json(const ViTConfig& c);
nlohmann::json pretrained_cfg_json(const SwinConfig& c);

}  // namespace intvit
