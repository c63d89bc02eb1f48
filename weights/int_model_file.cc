#include "weights/int_model_file.h"

#include <algorithm>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/error.h"
#include "weights/nonlinear_params.h"
#include "models/safetensors.h"
#include "models/safetensors_writer.h"

namespace intvit {
namespace {

using nlohmann::json;

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorCode::kCorruptFile, "invalid integer model: " + what);
}

void check(bool ok, const std::string& what) {
  if (!ok) corrupt(what);
}

const char* gemm_out_name(GemmOut t) { return t == GemmOut::kU8 ? "u8" : t == GemmOut::kS16 ? "s16" : "s32"; }
GemmOut parse_gemm_out(const std::string& s) {
  if (s == "u8") return GemmOut::kU8;
  if (s == "s16") return GemmOut::kS16;
  if (s == "s32") return GemmOut::kS32;
  corrupt("unknown output type '" + s + "'");
}

// JSON integers are read as int64 and range-checked: get<int32_t>() would silently wrap 2^32 to 0.
int32_t get_int(const json& j, const char* key, int64_t lo, int64_t hi, const std::string& where) {
  const json& v = j.at(key);
  check(v.is_number_integer(), where + "." + key + " must be an integer");
  // An unsigned JSON integer above INT64_MAX would read back as a negative int64 (2^64-1 -> -1).
  check(!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t{INT64_MAX},
        where + "." + key + " = " + std::to_string(v.get<uint64_t>()) + " is out of range");
  const int64_t x = v.get<int64_t>();
  check(x >= lo && x <= hi, where + "." + key + " = " + std::to_string(x) + " is out of range");
  return static_cast<int32_t>(x);
}

constexpr int64_t kI32Min = -2147483648LL, kI32Max = 2147483647LL;

json act_to_json(const ActQuant& a) { return {{"scale", a.scale}, {"zero_point", a.zero_point}, {"bits", a.bits}}; }
ActQuant act_from_json(const json& j, const std::string& where) {
  ActQuant a;
  a.scale = j.at("scale").get<double>();
  a.zero_point = get_int(j, "zero_point", 0, 255, where);
  a.bits = get_int(j, "bits", 8, 16, where);
  check(a.scale > 0 && std::isfinite(a.scale), where + ": scale must be finite and > 0");
  check(a.bits == 8 || a.bits == 16, where + ": bits must be 8 or 16");
  check(a.bits == 8 ? (a.zero_point >= 0 && a.zero_point <= 255) : a.zero_point == 0,
        where + ": zero-point out of range");
  return a;
}

// ---- writing ----

struct Writer {
  SafeTensorsWriter st;
  void linear(const std::string& p, const QLinear& l, json& desc) {
    st.add<int8_t>(p + ".weight", {l.out, l.in}, l.weight);
    st.add<int32_t>(p + ".bias", {l.out}, l.bias);
    st.add<int32_t>(p + ".multiplier", {l.out}, l.multiplier);
    st.add<int32_t>(p + ".shift", {l.out}, l.shift);
    desc[p] = {{"in", l.in}, {"out", l.out}, {"input", act_to_json(l.input)}, {"out_type", gemm_out_name(l.out_type)},
               {"out_zero_point", l.out_zero_point}, {"out_min", l.out_min}, {"out_max", l.out_max},
               {"accumulate", l.accumulate}};
  }
  void norm(const std::string& p, const QLayerNorm& n, json& desc) {
    st.add<float>(p + ".gamma", {static_cast<int64_t>(n.gamma.size())}, n.gamma);
    st.add<float>(p + ".beta", {static_cast<int64_t>(n.beta.size())}, n.beta);
    desc[p] = {{"out", act_to_json(n.out)}};
  }
};

// ---- reading ----

struct Reader {
  const SafeTensorsFile& file;
  const json& desc;

  template <typename T>
  std::vector<T> tensor(const std::string& name, std::vector<int64_t> shape) {
    const TensorView& t = file.get(name);
    check(t.shape == shape, "tensor '" + name + "' has shape " + t.shape_string());
    return t.copy_as<T>();
  }

  QLinear linear(const std::string& p, int in, int out) {
    check(desc.contains(p), "no description for " + p);
    const json& j = desc.at(p);
    QLinear l;
    l.in = get_int(j, "in", 1, kI32Max, p);
    l.out = get_int(j, "out", 1, kI32Max, p);
    check(l.in == in && l.out == out, p + ": shape does not match the config");
    l.input = act_from_json(j.at("input"), p + ".input");
    l.out_type = parse_gemm_out(j.at("out_type").get<std::string>());
    l.out_zero_point = get_int(j, "out_zero_point", kI32Min, kI32Max, p);
    l.out_min = get_int(j, "out_min", kI32Min, kI32Max, p);
    l.out_max = get_int(j, "out_max", kI32Min, kI32Max, p);
    l.accumulate = j.at("accumulate").get<bool>();
    check(l.out_min <= l.out_max, p + ": out_min > out_max");
    if (l.out_type == GemmOut::kU8) check(l.out_min >= 0 && l.out_max <= 255 && l.out_zero_point >= 0 && l.out_zero_point <= 255, p + ": u8 output bounds");
    if (l.out_type == GemmOut::kS16) check(l.out_min >= -32768 && l.out_max <= 32767 && l.out_zero_point == 0, p + ": s16 output bounds");
    check(!l.accumulate || l.out_type == GemmOut::kS32, p + ": accumulate needs s32 output");
    l.weight = tensor<int8_t>(p + ".weight", {out, in});
    l.bias = tensor<int32_t>(p + ".bias", {out});
    l.multiplier = tensor<int32_t>(p + ".multiplier", {out});
    l.shift = tensor<int32_t>(p + ".shift", {out});
    // The message is built only on failure: this runs once per weight (86 M on ViT-B).
    if (std::find(l.weight.begin(), l.weight.end(), int8_t{-128}) != l.weight.end()) {
      corrupt(p + ": weight -128 is outside the symmetric int8 range");
    }
    for (int n = 0; n < out; ++n) {
      check(l.multiplier[n] == 0 || l.multiplier[n] >= (1 << 30), p + ": multiplier outside [2^30, 2^31)");
      check(l.shift[n] >= -31 && l.shift[n] <= 31, p + ": shift outside [-31, 31]");
    }
    return l;
  }

  QLayerNorm norm(const std::string& p, int dim) {
    check(desc.contains(p), "no description for " + p);
    QLayerNorm n;
    n.gamma = tensor<float>(p + ".gamma", {dim});
    n.beta = tensor<float>(p + ".beta", {dim});
    n.out = act_from_json(desc.at(p).at("out"), p + ".out");
    return n;
  }
};

IntViT parse(const SafeTensorsFile& file) {
  const auto& meta = file.metadata();
  auto it = meta.find("intvit.format");
  if (it == meta.end() || it->second != "int-vit") {
    throw Error(ErrorCode::kCorruptFile, file.source() + " is not an intvit integer model (no intvit.format)");
  }
  auto ver = meta.find("intvit.version");
  check(ver != meta.end(), "missing intvit.version");
  if (ver->second != std::to_string(kIntModelFormatVersion)) {
    throw Error(ErrorCode::kUnsupported, "integer model format version " + ver->second + " is not supported (this build reads " +
                                             std::to_string(kIntModelFormatVersion) + ")");
  }
  auto graph_it = meta.find("intvit.graph");
  check(graph_it != meta.end(), "missing intvit.graph");
  const json g = json::parse(graph_it->second, nullptr, false);
  check(g.is_object(), "intvit.graph is not a JSON object");
  try {
    IntViT m;
    m.config = parse_vit_config(g.at("config"));
    check(!m.config.distillation_token, "distillation heads are not supported by this version");
    m.softmax_mode = parse_softmax_mode(g.at("softmax").get<std::string>());
    m.gelu_mode = parse_gelu_mode(g.at("gelu").get<std::string>());
    m.attn_bits = get_int(g, "attn_bits", 4, 16, "graph");
    check(m.attn_bits == 8 || (m.attn_bits == 4 && m.softmax_mode == SoftmaxMode::kLog2) ||
              (m.attn_bits == 16 && m.softmax_mode != SoftmaxMode::kLog2),
          "attn_bits");
    // Absent in files written before Eq. 24 existed: those models ran without it.
    m.log2_renormalize = g.value("log2_renormalize", false);
    check(!m.log2_renormalize || m.softmax_mode == SoftmaxMode::kLog2, "log2_renormalize needs softmax log2");
    m.residual_scale = g.at("residual_scale").get<double>();
    m.logit_scale = g.at("logit_scale").get<double>();
    check(m.residual_scale > 0 && m.logit_scale > 0, "scales must be > 0");
    if (g.contains("labels")) m.labels = g.at("labels").get<std::vector<std::string>>();
    const json& desc = g.at("tensors");
    Reader r{file, desc};
    const ViTConfig& c = m.config;
    const int d = c.embed_dim, hidden = c.mlp_hidden(), p = c.patch_size;
    m.patch_embed = r.linear("patch_embed", 3 * p * p, d);
    m.embed_init = r.tensor<int32_t>("embed_init", {c.num_tokens(), d});
    const json& blocks = g.at("blocks");
    check(blocks.is_array() && static_cast<int>(blocks.size()) == c.depth, "blocks must have depth entries");
    for (int i = 0; i < c.depth; ++i) {
      const std::string n = "blocks." + std::to_string(i);
      const json& bj = blocks[i];
      QBlock b;
      b.norm1 = r.norm(n + ".norm1", d);
      b.q = r.linear(n + ".q", d, d);
      b.k = r.linear(n + ".k", d, d);
      b.v = r.linear(n + ".v", d, d);
      b.q_out = act_from_json(bj.at("q_out"), n + ".q_out");
      b.k_out = act_from_json(bj.at("k_out"), n + ".k_out");
      b.v_out = act_from_json(bj.at("v_out"), n + ".v_out");
      check(b.q_out.bits == 8 && b.k_out.bits == 8 && b.v_out.bits == 8, n + ": q/k/v outputs must be 8-bit");
      check(b.q.out_zero_point == b.q_out.zero_point && b.k.out_zero_point == b.k_out.zero_point &&
                b.v.out_zero_point == b.v_out.zero_point, n + ": q/k/v zero-points disagree");
      b.scores_scale = bj.at("scores_scale").get<double>();
      check(b.scores_scale > 0, n + ": scores_scale must be > 0");
      b.probs = act_from_json(bj.at("probs"), n + ".probs");
      check((b.probs.bits == 16) == (m.attn_bits == 16) && b.probs.zero_point == 0, n + ": probs disagree with attn_bits");
      b.attn_out = act_from_json(bj.at("attn_out"), n + ".attn_out");
      b.attn_out_multiplier = get_int(bj, "attn_out_multiplier", 1 << 30, kI32Max, n);
      b.attn_out_shift = get_int(bj, "attn_out_shift", -31, 31, n);
      check(b.attn_out_multiplier >= (1 << 30) && b.attn_out_shift >= -31 && b.attn_out_shift <= 31, n + ": attn_out multiplier");
      b.proj = r.linear(n + ".proj", d, d);
      b.norm2 = r.norm(n + ".norm2", d);
      b.fc1 = r.linear(n + ".fc1", d, hidden);
      b.gelu_in = act_from_json(bj.at("gelu_in"), n + ".gelu_in");
      b.gelu_out = act_from_json(bj.at("gelu_out"), n + ".gelu_out");
      check(b.gelu_in.bits == b.gelu_out.bits, n + ": GELU input and output must have the same width");
      b.fc2 = r.linear(n + ".fc2", hidden, d);
      // The chain must be type-consistent: each layer reads what the previous one writes.
      check(b.q.input.bits == 8 && b.q.out_type == GemmOut::kU8 && b.k.out_type == GemmOut::kU8 && b.v.out_type == GemmOut::kU8, n + ": q/k/v must be u8");
      check(b.proj.accumulate && b.fc2.accumulate, n + ": proj/fc2 must accumulate into the residual");
      check(b.fc1.out_type == b.gelu_in.gemm_out() && b.fc2.input.bits == b.gelu_out.bits, n + ": MLP widths inconsistent");
      m.blocks.push_back(std::move(b));
    }
    m.norm = r.norm("norm", d);
    m.head = r.linear("head", d, c.num_classes);
    check(m.patch_embed.accumulate && m.head.out_type == GemmOut::kS32 && !m.head.accumulate,
          "patch_embed must accumulate; head must write s32 logits without accumulating");
    build_nonlinear_params(m);
    if (m.labels.empty()) m.labels = load_labels({}, c.num_classes);
    m.labels.resize(c.num_classes);
    return m;
  } catch (const json::exception& e) {
    corrupt(std::string("intvit.graph: ") + e.what());
  } catch (const Error& e) {
    // A bad config, mode name or tensor dtype inside a model file is a corrupt model.
    if (e.code() == ErrorCode::kInvalidArgument) corrupt(e.what());
    throw;
  }
}

}  // namespace

void save_int_model(const IntViT& m, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  Writer w;
  json desc = json::object();
  w.linear("patch_embed", m.patch_embed, desc);
  w.st.add<int32_t>("embed_init", {m.config.num_tokens(), m.config.embed_dim}, m.embed_init);
  json blocks = json::array();
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const QBlock& b = m.blocks[i];
    const std::string n = "blocks." + std::to_string(i);
    w.norm(n + ".norm1", b.norm1, desc);
    w.linear(n + ".q", b.q, desc);
    w.linear(n + ".k", b.k, desc);
    w.linear(n + ".v", b.v, desc);
    w.linear(n + ".proj", b.proj, desc);
    w.norm(n + ".norm2", b.norm2, desc);
    w.linear(n + ".fc1", b.fc1, desc);
    w.linear(n + ".fc2", b.fc2, desc);
    blocks.push_back({{"q_out", act_to_json(b.q_out)}, {"k_out", act_to_json(b.k_out)}, {"v_out", act_to_json(b.v_out)},
                      {"scores_scale", b.scores_scale}, {"probs", act_to_json(b.probs)}, {"attn_out", act_to_json(b.attn_out)},
                      {"attn_out_multiplier", b.attn_out_multiplier}, {"attn_out_shift", b.attn_out_shift},
                      {"gelu_in", act_to_json(b.gelu_in)}, {"gelu_out", act_to_json(b.gelu_out)}});
  }
  w.norm("norm", m.norm, desc);
  w.linear("head", m.head, desc);
  const json graph = {{"config", vit_config_to_json(m.config)},
                      {"softmax", softmax_mode_name(m.softmax_mode)},
                      {"gelu", gelu_mode_name(m.gelu_mode)},
                      {"attn_bits", m.attn_bits},
                      {"log2_renormalize", m.log2_renormalize},
                      {"residual_scale", m.residual_scale},
                      {"logit_scale", m.logit_scale},
                      {"labels", m.labels},
                      {"blocks", blocks},
                      {"tensors", desc}};
  w.st.set_metadata("intvit.format", "int-vit");
  w.st.set_metadata("intvit.version", std::to_string(kIntModelFormatVersion));
  w.st.set_metadata("intvit.graph", graph.dump());
  w.st.write(dir / kIntModelFileName);
  std::ofstream labels(dir / "labels.txt");
  for (const std::string& l : m.labels) labels << l << "\n";
  std::ofstream cfg(dir / "config.json");
  cfg << vit_config_to_json(m.config).dump(2) << "\n";
  if (!labels || !cfg) throw Error(ErrorCode::kIo, "cannot write labels/config into " + dir.string());
}

IntViT load_int_model(const std::filesystem::path& path) {
  const std::filesystem::path file = std::filesystem::is_directory(path) ? path / kIntModelFileName : path;
  return parse(SafeTensorsFile::open(file));
}

IntViT load_int_model_from_buffer(const void* data, size_t size) {
  return parse(SafeTensorsFile::from_buffer(data, size));
}

}  // namespace intvit
