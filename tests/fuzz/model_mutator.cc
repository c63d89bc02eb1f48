#include "model_mutator.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

namespace intvit::fuzz {
namespace {

using nlohmann::json;

template <typename T>
const T& pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

// Every primitive value (number, string, bool, null) in `j`, depth-limited so that a deeply nested
// fuzzed graph cannot exhaust the stack here.
void collect_leaves(json& j, std::vector<json*>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_object() || j.is_array()) {
    for (json& child : j) collect_leaves(child, out, depth + 1);
  } else {
    out.push_back(&j);
  }
}

// Containers with at least one member, for deleting a member.
void collect_objects(json& j, std::vector<json*>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_object() && !j.empty()) out.push_back(&j);
  if (j.is_object() || j.is_array())
    for (json& child : j) collect_objects(child, out, depth + 1);
}

json interesting_integer(std::mt19937& rng, const json& old) {
  static const std::vector<int64_t> ints = {0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 127, 128, 255, 256,
                                            -128, -255, -256, 32767, 32768, -32767, -32768, 65535, 65536,
                                            (1 << 30) - 1, 1 << 30, INT32_MAX, INT64_C(2147483648), INT32_MIN,
                                            INT64_C(4294967296), INT64_C(4294967304), INT64_C(1) << 53, INT64_MIN};
  const int64_t x = old.is_number_integer() && std::fabs(old.get<double>()) < 1e15 ? old.get<int64_t>() : 1;
  switch (rng() % 5) {
    case 0:
    case 1: return pick(rng, ints);
    case 2: return x + static_cast<int>(rng() % 5) - 2;
    case 3: return -x;
    default: return static_cast<int64_t>(rng() % 600) - 100;
  }
}

json interesting_real(std::mt19937& rng, const json& old) {
  static const std::vector<double> reals = {0.0, -0.0, 5e-324, 1e-300, 1e-30, 1e-9, 1e-5, 0.001, 0.5, 1.0, 2.0,
                                            3.0, 1e5, 1e9, 1e20, 1e300, -1.0, -1e-9, 2.5, 0.875, 1.25};
  const double x = old.is_number() ? old.get<double>() : 1.0;
  switch (rng() % 5) {
    case 0: return pick(rng, reals);
    case 1: return x * std::ldexp(1.0, static_cast<int>(rng() % 41) - 20);  // rescale by 2^[-20, 20]
    case 2: return x * (1.0 + (static_cast<double>(rng() % 201) - 100) * 1e-4);
    case 3: return -x;
    default: return interesting_integer(rng, old);
  }
}

json interesting_number(std::mt19937& rng, const json& old) {
  return old.is_number_float() || rng() % 2 ? interesting_real(rng, old) : interesting_integer(rng, old);
}

// Mostly a value of the same JSON type (so the file stays plausible), sometimes another type.
json interesting_leaf(std::mt19937& rng, const json& old) {
  static const std::vector<std::string> words = {"u8", "s16", "s32", "iexp", "shiftmax", "log2", "lut", "igelu",
                                                 "shiftgelu", "bicubic", "bilinear", "", "gelu (tanh)", "x"};
  if (rng() % 8 != 0) {
    if (old.is_string()) return pick(rng, words);
    if (old.is_boolean()) return !old.get<bool>();
    if (old.is_number()) return interesting_number(rng, old);
  }
  switch (rng() % 4) {
    case 0: return pick(rng, words);
    case 1: return rng() % 2 == 0;
    case 2: return nullptr;
    default: return interesting_real(rng, old);
  }
}

template <typename T>
void poke(std::string& data, size_t offset, T value) {
  std::memcpy(data.data() + offset, &value, sizeof(T));
}

// Sets one element of one tensor to a boundary value for its dtype.
bool mutate_tensor(json& header, std::string& data, std::mt19937& rng) {
  std::vector<std::string> names;
  for (auto& [name, entry] : header.items())
    if (name != "__metadata__" && entry.is_object()) names.push_back(name);
  if (names.empty()) return false;
  const json& e = header[pick(rng, names)];
  if (!e.contains("dtype") || !e["dtype"].is_string() || !e.contains("data_offsets") || !e["data_offsets"].is_array() ||
      e["data_offsets"].size() != 2 || !e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
    return false;
  const uint64_t begin = e["data_offsets"][0].get<uint64_t>(), end = e["data_offsets"][1].get<uint64_t>();
  const std::string dtype = e["dtype"].get<std::string>();
  const size_t width = dtype == "I8" || dtype == "U8" ? 1 : dtype == "I64" ? 8 : dtype == "I16" || dtype == "F16" || dtype == "BF16" ? 2 : 4;
  if (end <= begin || end > data.size() || (end - begin) < width) return false;
  const size_t count = (end - begin) / width;
  const size_t at = begin + (rng() % count) * width;
  if (dtype == "I8") {
    static const std::vector<int8_t> v = {-128, -127, -1, 0, 1, 126, 127};
    poke<int8_t>(data, at, pick(rng, v));
  } else if (dtype == "I32") {
    static const std::vector<int32_t> v = {0, 1, -1, 31, 32, -31, -32, 63, -64, 1 << 29, (1 << 30) - 1, 1 << 30,
                                           (1 << 30) + 1, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 20, -(1 << 20)};
    poke<int32_t>(data, at, rng() % 4 == 0 ? static_cast<int32_t>(rng()) : pick(rng, v));
  } else if (dtype == "I16") {  // GELU tables: the type and output-code edges
    static const std::vector<int16_t> v = {-32768, -32767, -1, 0, 1, 255, 256, 32767};
    poke<int16_t>(data, at, pick(rng, v));
  } else if (dtype == "I64") {  // LayerNorm H_c: the ±2^62 limit and int64 edges
    static const std::vector<int64_t> v = {0, -1, int64_t{1} << 62, (int64_t{1} << 62) + 1, -(int64_t{1} << 62),
                                           -(int64_t{1} << 62) - 1, INT64_MAX, INT64_MIN};
    poke<int64_t>(data, at, pick(rng, v));
  } else if (dtype == "U8") {  // LayerNorm h_c: 40 is the largest valid shift
    static const std::vector<uint8_t> v = {0, 1, 40, 41, 63, 64, 255};
    poke<uint8_t>(data, at, pick(rng, v));
  } else if (dtype == "F32") {
    static const std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 1e-38f, 1e-45f, 3e38f, -3e38f, 1e10f, 1e-10f,
                                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                         std::numeric_limits<float>::quiet_NaN()};
    poke<float>(data, at, pick(rng, v));
  } else {
    data[at] = static_cast<char>(rng());
  }
  return true;
}

// Header-level edits the container checks must catch: shape, dtype or offsets of one tensor.
bool mutate_tensor_entry(json& header, std::mt19937& rng) {
  std::vector<std::string> names;
  for (auto& [name, entry] : header.items())
    if (name != "__metadata__" && entry.is_object()) names.push_back(name);
  if (names.empty()) return false;
  json& e = header[pick(rng, names)];
  switch (rng() % 4) {
    case 0:
      if (e.contains("shape") && e["shape"].is_array() && e["shape"].size() == 2) e["shape"] = {e["shape"][1], e["shape"][0]};
      else e["shape"] = json::array({rng() % 4});
      break;
    case 1: e["dtype"] = pick<std::string>(rng, {"I8", "U8", "I16", "I32", "I64", "F16", "BF16", "F32", "F64"}); break;
    case 2: header.erase(pick(rng, names)); break;
    default:
      if (e.contains("data_offsets") && e["data_offsets"].is_array() && e["data_offsets"].size() == 2 &&
          e["data_offsets"][1].is_number_unsigned())
        e["data_offsets"][1] = e["data_offsets"][1].get<uint64_t>() + static_cast<uint64_t>(rng() % 9);
      break;
  }
  return true;
}

}  // namespace

std::optional<std::string> mutate_model_file(const uint8_t* bytes, size_t size, std::mt19937& rng) {
  if (size < 8) return std::nullopt;
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes, 8);
  if (header_len > size - 8) return std::nullopt;
  const char* text = reinterpret_cast<const char*>(bytes) + 8;
  json header = json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return std::nullopt;
  std::string data(text + header_len, reinterpret_cast<const char*>(bytes) + size);

  const unsigned action = rng() % 10;
  json* meta = header.contains("__metadata__") && header["__metadata__"].is_object() ? &header["__metadata__"] : nullptr;
  const bool has_graph = meta && meta->contains("intvit.graph") && (*meta)["intvit.graph"].is_string();
  if (action < 6 && has_graph) {
    json graph = json::parse((*meta)["intvit.graph"].get<std::string>(), nullptr, false);
    if (graph.is_discarded()) return std::nullopt;
    if (action < 5) {
      std::vector<json*> leaves;
      collect_leaves(graph, leaves);
      if (leaves.empty()) return std::nullopt;
      // Several small changes at once now and then, so that pairs of fields can disagree.
      for (unsigned n = rng() % 8 == 0 ? 1 + rng() % 3 : 1; n > 0; --n) {
        json* leaf = pick(rng, leaves);
        *leaf = interesting_leaf(rng, *leaf);
      }
    } else {
      std::vector<json*> objects;
      collect_objects(graph, objects);
      if (objects.empty()) return std::nullopt;
      json& obj = *pick(rng, objects);
      auto it = obj.begin();
      std::advance(it, rng() % obj.size());
      obj.erase(it);
    }
    (*meta)["intvit.graph"] = graph.dump();
  } else if (action < 9) {
    if (!mutate_tensor(header, data, rng)) return std::nullopt;
  } else {
    if (!mutate_tensor_entry(header, rng)) return std::nullopt;
  }
  const std::string new_header = header.dump();
  const uint64_t n = new_header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + new_header + data;
}

}  // namespace intvit::fuzz
