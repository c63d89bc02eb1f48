#include "engine/config_json.h"

#include <cstddef>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "kernels/error.h"

namespace intvit {
namespace {

constexpr size_t kMaxListItems = 64;

bool present(const nlohmann::json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && !obj[key].is_null();
}

template <typename T>
void read_value(const nlohmann::json& obj, const char* key, T& out) {
  if (present(obj, key)) out = obj[key].get<T>();
}

int checked_int(const ConfigReader& r, const nlohmann::json& v, const std::string& what) {
  r.require(v.is_number_integer(), what + " must be an integer");
  if (v.is_number_unsigned()) {
    r.require(v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max()), what + " is out of range");
    return static_cast<int>(v.get<uint64_t>());
  }
  const int64_t x = v.get<int64_t>();
  r.require(x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max(), what + " is out of range");
  return static_cast<int>(x);
}

// v's integers (none if v is null); `otherwise` if v is not an array of at most max_items.
std::vector<int> int_list(const ConfigReader& r, const nlohmann::json& v, const char* key, size_t max_items,
                          const std::string& otherwise) {
  std::vector<int> out;
  if (v.is_null()) return out;
  r.require(v.is_array() && v.size() <= max_items, otherwise);
  for (const auto& x : v) out.push_back(checked_int(r, x, key));
  return out;
}

template <typename Config>
void read_pretrained(const ConfigReader& r, const nlohmann::json& config, size_t max_sizes,
                     const std::string& not_a_list, Config& c) {
  if (!config.contains("pretrained_cfg")) return;
  const nlohmann::json& p = config["pretrained_cfg"];
  if (p.contains("input_size")) {
    const std::vector<int> size = int_list(r, p["input_size"], "input_size", max_sizes, not_a_list);
    r.require(size.size() == 3, "input_size must be [C, H, W]");
    r.require(size[1] == size[2], "only square inputs are supported");
    c.in_channels = size[0];
    c.image_size = size[1];
  }
  r.read(p, "interpolation", c.interpolation);
  r.read(p, "crop_pct", c.crop_pct);
  read_value(p, "mean", c.mean);
  read_value(p, "std", c.std);
  r.read(p, "num_classes", c.num_classes);
  r.read(p, "layer_norm_eps", c.layer_norm_eps);
  std::string act;
  r.read(p, "act_layer", act);
  if (act.find("tanh") != std::string::npos) c.gelu = GeluKind::kTanh;
}

template <typename Config>
nlohmann::json pretrained_json(const Config& c) {
  return {{"input_size", {c.in_channels, c.image_size, c.image_size}}, {"interpolation", c.interpolation},
          {"crop_pct", c.crop_pct}, {"mean", c.mean}, {"std", c.std}, {"num_classes", c.num_classes},
          {"layer_norm_eps", c.layer_norm_eps},
          {"act_layer", c.gelu == GeluKind::kErf ? "gelu (erf)" : "gelu (tanh)"}};
}

}  // namespace

void ConfigReader::require(bool ok, const std::string& what) const {
  if (!ok) throw Error(ErrorCode::kInvalidArgument, std::string("invalid ") + family_ + " config: " + what);
}

void ConfigReader::read(const nlohmann::json& obj, const char* key, int& out) const {
  if (present(obj, key)) out = checked_int(*this, obj[key], key);
}
void ConfigReader::read(const nlohmann::json& obj, const char* key, bool& out) const { read_value(obj, key, out); }
void ConfigReader::read(const nlohmann::json& obj, const char* key, double& out) const { read_value(obj, key, out); }
void ConfigReader::read(const nlohmann::json& obj, const char* key, std::string& out) const {
  read_value(obj, key, out);
}
void ConfigReader::read(const nlohmann::json& obj, const char* key, std::vector<int>& out) const {
  if (present(obj, key)) {
    out = int_list(*this, obj[key], key, kMaxListItems, std::string(key) + " must be an array of integers");
  }
}

// The families differ only in how they refuse an input_size that is no array: the ViT (at any
// length) as not [C, H, W], the Swin as any of its integer lists (read(): at most 64).
void ConfigReader::read_pretrained_cfg(const nlohmann::json& config, ViTConfig& c) const {
  read_pretrained(*this, config, std::numeric_limits<size_t>::max(), "input_size must be [C, H, W]", c);
}
void ConfigReader::read_pretrained_cfg(const nlohmann::json& config, SwinConfig& c) const {
  read_pretrained(*this, config, kMaxListItems, "input_size must be an array of integers", c);
}

nlohmann::json pretrained_cfg_json(const ViTConfig& c) { return pretrained_json(c); }
nlohmann::json pretrained_cfg_json(const SwinConfig& c) { return pretrained_json(c); }

}  // namespace intvit
