// Capturing, writing and reading golden traces (engine/trace.h). Offline: runs one forward with an
// observer and copies every tensor it sees.
#include "engine/trace.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/trace_tensors.h"
#include "engine/vit_graph.h"
#include "kernels/error.h"
#include "models/safetensors.h"
#include "models/safetensors_writer.h"
#include "models/vit_fp32.h"

namespace intvit {
namespace {

using namespace trace_detail;

// The name of the op that writes each tensor of `g` ("input" for the model input).
std::map<std::string, const Node*, std::less<>> writers(const Graph& g) {
  std::map<std::string, const Node*, std::less<>> w;
  for (const Node& n : g.nodes) {
    for (int id : n.outputs) w[g.tensors[static_cast<size_t>(id)].name] = &n;
  }
  return w;
}

}  // namespace

size_t TraceTensor::numel() const { return bytes.size() / dtype_size(storage); }

int64_t TraceTensor::value(size_t i) const {
  switch (storage) {
    case DType::kU8: return static_cast<uint8_t>(bytes[i]);
    case DType::kI16: {
      int16_t v;
      std::memcpy(&v, &bytes[i * 2], 2);
      return v;
    }
    case DType::kI32: {
      int32_t v;
      std::memcpy(&v, &bytes[i * 4], 4);
      return v;
    }
    default: throw Error(ErrorCode::kInvalidArgument, "trace tensor '" + name + "' is not an integer tensor");
  }
}

float TraceTensor::value_f32(size_t i) const {
  if (storage != DType::kF32) throw Error(ErrorCode::kInvalidArgument, "trace tensor '" + name + "' is not an F32 tensor");
  float v;
  std::memcpy(&v, &bytes[i * 4], 4);
  return v;
}

const TraceTensor* Trace::find(const std::string& name) const {
  for (const TraceTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Trace trace_int(const IntViT& model, const KernelSet& kernels, const uint8_t* pixels) {
  IntWorkspace ws(model);
  const auto writer = writers(ws.graph());
  Trace trace;
  trace.precision = "int";
  Collector out(trace);
  const int64_t heads = model.config.num_heads;
  const IntActivationObserver observe = [&](std::string_view name, const IntActivation& a) {
    if (!a.tensor) throw Error(ErrorCode::kInternal, "trace: observer got no tensor description");
    const ElemType dt = a.tensor->dtype;
    const auto rows = static_cast<int64_t>(a.rows), cols = static_cast<int64_t>(a.cols);
    TraceTensor* t = out.find(name);
    if (!t || a.head < 0) {
      const auto w = writer.find(name);
      const Node* n = w == writer.end() ? nullptr : w->second;
      t = &out.add(name, a.head < 0 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{heads, rows, cols}, storage_of(dt));
      t->op = n ? op_name(n->op) : "input";
      t->dtype = elem_type_name(dt);
      t->scale = a.scale;
      t->zero_point = a.zero_point;
      t->bits = n && n->op == OpType::kSoftmax ? model.attn_bits : static_cast<int>(8 * elem_bytes(dt));  // 4: log2 codes in u8
    }
    if (a.head >= heads || (a.head >= 0 && (t->shape.size() != 3 || t->shape[1] != rows || t->shape[2] != cols))) {
      throw Error(ErrorCode::kInternal, "trace: tile of '" + std::string(name) + "' does not fit its tensor");
    }
    const size_t slot = a.head < 0 ? 0 : static_cast<size_t>(a.head) * a.rows * a.cols * dtype_size(t->storage);
    copy_rows(a, dt, t->bytes.data() + slot);
  };
  std::vector<int32_t> logits(static_cast<size_t>(model.config.num_classes));
  int_vit_forward_traced(model, kernels, pixels, ws, logits.data(), observe);
  return trace;
}

Trace trace_fp32(const ViTWeightsF32& model, const uint8_t* pixels) {
  const ViTConfig& c = model.config;
  const Graph g = build_vit_graph(c, GraphPrecision::kFp32);
  const auto writer = writers(g);
  Trace trace;
  trace.precision = "fp32";
  Collector out(trace);
  const auto side = static_cast<int64_t>(c.image_size);
  TraceTensor& image = out.add("image", {side, side * 3}, DType::kU8);
  image.op = "input";
  image.dtype = "u8";
  std::memcpy(image.bytes.data(), pixels, image.bytes.size());
  const auto heads = static_cast<int64_t>(c.num_heads);
  const ActivationObserver observe = [&](std::string_view name, const float* data, size_t rows, size_t cols) {
    const bool per_head = name.ends_with(".attn.logits") || name.ends_with(".attn.probs");
    const auto r = static_cast<int64_t>(rows), k = static_cast<int64_t>(cols);
    TraceTensor& t = out.add(name, per_head ? std::vector<int64_t>{heads, r / heads, k} : std::vector<int64_t>{r, k}, DType::kF32);
    const auto w = writer.find(name);
    t.op = w == writer.end() ? "observed" : op_name(w->second->op);
    t.dtype = "f32";
    t.bits = 32;
    std::memcpy(t.bytes.data(), data, t.bytes.size());
  };
  vit_forward_f32(model, pixels, observe);
  return trace;
}

namespace {

SafeTensorsWriter trace_writer(const Trace& trace) {
  SafeTensorsWriter w;
  nlohmann::json order = nlohmann::json::array();
  for (const TraceTensor& t : trace.tensors) {
    w.add(t.name, t.storage, t.shape, t.bytes);
    order.push_back({{"name", t.name}, {"op", t.op}, {"dtype", t.dtype}, {"scale", t.scale}, {"zero_point", t.zero_point}, {"bits", t.bits}});
  }
  w.set_metadata("format", kTraceFormat);
  w.set_metadata("format_version", std::to_string(kTraceFormatVersion));
  w.set_metadata("precision", trace.precision);
  w.set_metadata("image", trace.image);
  w.set_metadata("model", trace.model);
  w.set_metadata("model_fnv1a64", trace.model_fnv1a64);
  w.set_metadata("backend", trace.backend);
  w.set_metadata("tensors", order.dump());
  return w;
}

}  // namespace

std::vector<std::byte> serialize_trace(const Trace& trace) { return trace_writer(trace).serialize(); }

void write_trace(const Trace& trace, const std::filesystem::path& path) {
  const std::filesystem::path dir = path.parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    throw Error(ErrorCode::kIo, "cannot write trace " + path.string() + ": folder " + dir.string() + " does not exist");
  }
  trace_writer(trace).write(path);
}

Trace read_trace(const std::filesystem::path& path) {
  const SafeTensorsFile file = SafeTensorsFile::open(path);
  const std::string where = path.string();
  auto corrupt = [&](const std::string& why) { return Error(ErrorCode::kCorruptFile, where + ": " + why); };
  const auto& meta = file.metadata();
  auto field = [&](const char* key) {
    const auto it = meta.find(key);
    if (it == meta.end()) throw corrupt(std::string("trace metadata has no '") + key + "'");
    return it->second;
  };
  const auto format = meta.find("format");
  if (format == meta.end() || format->second != kTraceFormat) {
    throw corrupt(std::string("not an intvit trace (its safetensors metadata has no \"format\": \"") + kTraceFormat + "\")");
  }
  if (field("format_version") != std::to_string(kTraceFormatVersion)) {
    throw Error(ErrorCode::kUnsupported, where + ": trace format version " + field("format_version") + ", this intvit reads version " +
                                             std::to_string(kTraceFormatVersion));
  }
  Trace trace;
  trace.precision = field("precision");
  if (trace.precision != "int" && trace.precision != "fp32") throw corrupt("precision '" + trace.precision + "' is neither int nor fp32");
  trace.image = field("image");
  trace.model = field("model");
  trace.model_fnv1a64 = field("model_fnv1a64");
  trace.backend = field("backend");
  nlohmann::json order;
  try {
    order = nlohmann::json::parse(field("tensors"));
    if (!order.is_array()) throw corrupt("metadata 'tensors' is not a JSON array");
    for (const nlohmann::json& e : order) {
      TraceTensor t;
      t.name = e.at("name").get<std::string>();
      t.op = e.at("op").get<std::string>();
      t.dtype = e.at("dtype").get<std::string>();
      t.scale = e.at("scale").get<double>();
      t.zero_point = e.at("zero_point").get<int32_t>();
      t.bits = e.at("bits").get<int>();
      if (trace.find(t.name)) throw corrupt("tensor '" + t.name + "' is listed twice in the metadata");
      const TensorView* v = file.find(t.name);
      if (!v) throw corrupt("tensor '" + t.name + "' is listed in the metadata but missing");
      const DType want = t.dtype == "u8" ? DType::kU8 : t.dtype == "s16" ? DType::kI16 : t.dtype == "f32" ? DType::kF32 : DType::kI32;
      if ((t.dtype != "u8" && t.dtype != "u16" && t.dtype != "s16" && t.dtype != "s32" && t.dtype != "f32") || v->dtype != want) {
        throw corrupt("tensor '" + t.name + "' has dtype " + t.dtype + " stored as " + dtype_name(v->dtype));
      }
      if (v->shape.size() != 2 && v->shape.size() != 3) throw corrupt("tensor '" + t.name + "' has shape " + v->shape_string());
      t.storage = v->dtype;
      t.shape = v->shape;
      t.bytes.assign(v->data, v->data + v->nbytes);
      trace.tensors.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(std::string("metadata 'tensors' is malformed: ") + e.what());
  }
  if (trace.tensors.size() != file.tensors().size()) throw corrupt("the file holds tensors its metadata does not list");
  return trace;
}

std::string fnv1a64_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, "cannot read " + path.string());
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  std::vector<char> buf(1 << 16);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    for (std::streamsize i = 0; i < f.gcount(); ++i) {
      h ^= static_cast<uint8_t>(buf[static_cast<size_t>(i)]);
      h *= 0x100000001b3ull;  // FNV 64 prime
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace intvit
