// The JSON library behind the integer model loader (weights/graph_json.h). Exempt from the
// no-float check (CMakeLists.txt INTVIT_OFFLINE): nlohmann's number parsing and the description
// scales' finiteness checks are float code; nothing here feeds a kernel parameter.
#include "weights/graph_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "kernels/error.h"

namespace intvit {
namespace {

using nlohmann::json;

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorCode::kCorruptFile, "invalid integer model: " + what);
}

// Runs f, turning the JSON library's exceptions (missing key, wrong type) into kCorruptFile.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const json::exception& e) {
    corrupt(std::string("intvit.graph: ") + e.what());
  } catch (const Error& e) {
    // A bad config or mode name inside a model file is a corrupt model.
    if (e.code() == ErrorCode::kInvalidArgument) corrupt(e.what());
    throw;
  }
}

}  // namespace

GraphJson GraphJson::parse(const std::string& text) {
  auto doc = std::make_shared<json>(json::parse(text, nullptr, false));
  if (!doc->is_object()) corrupt("intvit.graph is not a JSON object");
  const json* node = doc.get();
  return GraphJson(std::shared_ptr<const void>(doc, node), node);
}

#define NODE (*static_cast<const json*>(node_))

bool GraphJson::is_array() const { return NODE.is_array(); }
size_t GraphJson::size() const { return NODE.size(); }
bool GraphJson::contains(const std::string& key) const { return NODE.is_object() && NODE.contains(key); }

GraphJson GraphJson::at(const std::string& key) const {
  return guarded([&] { return GraphJson(doc_, &NODE.at(key)); });
}

GraphJson GraphJson::at(size_t index) const {
  return guarded([&] { return GraphJson(doc_, &NODE.at(index)); });
}

// JSON integers are read as int64 and range-checked: get<int32_t>() would silently wrap 2^32 to 0.
int64_t GraphJson::integer(const std::string& key, int64_t lo, int64_t hi, const std::string& where) const {
  return guarded([&] {
    const json& v = NODE.at(key);
    if (!v.is_number_integer()) corrupt(where + "." + key + " must be an integer");
    // An unsigned JSON integer above INT64_MAX would read back as a negative int64 (2^64-1 -> -1).
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
      corrupt(where + "." + key + " = " + std::to_string(v.get<uint64_t>()) + " is out of range");
    }
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) corrupt(where + "." + key + " = " + std::to_string(x) + " is out of range");
    return x;
  });
}

std::string GraphJson::string(const std::string& key) const {
  return guarded([&] { return NODE.at(key).get<std::string>(); });
}

bool GraphJson::boolean(const std::string& key) const {
  return guarded([&] { return NODE.at(key).get<bool>(); });
}

bool GraphJson::boolean_or(const std::string& key, bool fallback) const {
  return guarded([&] { return NODE.value(key, fallback); });
}

double GraphJson::scale(const std::string& key, const std::string& where) const {
  return guarded([&] {
    const double s = NODE.at(key).get<double>();
    if (!(s > 0) || !std::isfinite(s)) corrupt(where + ": " + key + " must be finite and > 0");
    return s;
  });
}

std::vector<std::string> GraphJson::strings(const std::string& key) const {
  return guarded([&] { return NODE.at(key).get<std::vector<std::string>>(); });
}

ViTConfig GraphJson::config(const std::string& key) const {
  return guarded([&] { return parse_vit_config(NODE.at(key)); });
}

SwinConfig GraphJson::swin_config(const std::string& key) const {
  return guarded([&] { return parse_swin_config(NODE.at(key)); });
}

#undef NODE

}  // namespace intvit
