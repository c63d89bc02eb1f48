// Loading the integer model file (weights/FORMAT.md): container, description, linears and the
// type chain; the nonlinear kernels' stored parameters in nonlinear_params_reader.cc. Integer
// only — the loader derives nothing in floating point (tests/no_float scans this object); the
// JSON library sits behind weights/graph_json.h.
#include "weights/int_model_reader.h"

#include <algorithm>
#include <string>

#include "weights/graph_json.h"
#include "weights/int_model_file.h"
#include "weights/nonlinear_params_reader.h"

namespace intvit {
namespace {

constexpr int64_t kI32Min = INT32_MIN, kI32Max = INT32_MAX;

GemmOut parse_gemm_out(const std::string& s) {
  if (s == "u8") return GemmOut::kU8;
  if (s == "s16") return GemmOut::kS16;
  if (s == "s32") return GemmOut::kS32;
  corrupt_model("unknown output type '" + s + "'");
}

}  // namespace

ActQuant read_act(const GraphJson& j, const std::string& where) {
  ActQuant a;
  a.scale = j.scale("scale", where);  // a description: no kernel parameter is derived from it
  a.zero_point = static_cast<int32_t>(j.integer("zero_point", 0, 255, where));
  a.bits = static_cast<int>(j.integer("bits", 8, 16, where));
  check_model(a.bits == 8 || a.bits == 16, where + ": bits must be 8 or 16");
  check_model(a.bits == 8 || a.zero_point == 0, where + ": zero-point out of range");
  return a;
}

void check_reads(const QLinear& l, const ActQuant& producer, const std::string& what) {
  check_model(l.input.bits == producer.bits && l.input.zero_point == producer.zero_point,
              what + " must read its producer's output (" + std::to_string(producer.bits) + "-bit, zero-point " +
                  std::to_string(producer.zero_point) + "), the file gives " + std::to_string(l.input.bits) + "-bit, zero-point " +
                  std::to_string(l.input.zero_point));
}

QLinear ModelReader::linear(const std::string& p, int in, int out) {
  check_model(desc.contains(p), "no description for " + p);
  const GraphJson j = desc.at(p);
  QLinear l;
  l.in = static_cast<int>(j.integer("in", 1, kI32Max, p));
  l.out = static_cast<int>(j.integer("out", 1, kI32Max, p));
  check_model(l.in == in && l.out == out, p + ": shape does not match the config");
  l.input = read_act(j.at("input"), p + ".input");
  l.out_type = parse_gemm_out(j.string("out_type"));
  l.out_zero_point = static_cast<int32_t>(j.integer("out_zero_point", kI32Min, kI32Max, p));
  l.out_min = static_cast<int32_t>(j.integer("out_min", kI32Min, kI32Max, p));
  l.out_max = static_cast<int32_t>(j.integer("out_max", kI32Min, kI32Max, p));
  l.accumulate = j.boolean("accumulate");
  check_model(l.out_min <= l.out_max, p + ": out_min > out_max");
  if (l.out_type == GemmOut::kU8) {
    check_model(l.out_min >= 0 && l.out_max <= 255 && l.out_zero_point >= 0 && l.out_zero_point <= 255, p + ": u8 output bounds");
  }
  if (l.out_type == GemmOut::kS16) {
    check_model(l.out_min >= -32768 && l.out_max <= 32767 && l.out_zero_point == 0, p + ": s16 output bounds");
  }
  check_model(!l.accumulate || l.out_type == GemmOut::kS32, p + ": accumulate needs s32 output");
  l.weight = read_model_tensor<int8_t>(file, p + ".weight", {out, in});
  l.bias = read_model_tensor<int32_t>(file, p + ".bias", {out});
  l.multiplier = read_model_tensor<int32_t>(file, p + ".multiplier", {out});
  l.shift = read_model_tensor<int32_t>(file, p + ".shift", {out});
  // The message is built only on failure: this runs once per weight (86 M on ViT-B).
  if (std::find(l.weight.begin(), l.weight.end(), int8_t{-128}) != l.weight.end()) {
    corrupt_model(p + ": weight -128 is outside the symmetric int8 range");
  }
  for (int n = 0; n < out; ++n) {
    check_model(l.multiplier[n] == 0 || l.multiplier[n] >= (1 << 30), p + ": multiplier outside [2^30, 2^31)");
    check_model(l.shift[n] >= -31 && l.shift[n] <= 31, p + ": shift outside [-31, 31]");
  }
  return l;
}

// Version 2: the stored integer kernel parameters. Version 1 (upgrade only): gamma/beta, from
// which weights/int_model_upgrade.cc builds them offline.
QLayerNorm ModelReader::norm(const std::string& p, int dim) {
  check_model(desc.contains(p), "no description for " + p);
  const GraphJson j = desc.at(p);
  QLayerNorm n;
  n.out = read_act(j.at("out"), p + ".out");
  if (v1) {
    n.gamma = read_model_tensor<float>(file, p + ".gamma", {dim});
    n.beta = read_model_tensor<float>(file, p + ".beta", {dim});
  } else {
    n.params = read_layernorm_params(file, j, p, static_cast<size_t>(dim), n.out);
  }
  return n;
}

QBlock ModelReader::block(const GraphJson& bj, const std::string& n, int d, int hidden, SoftmaxMode softmax, int attn_bits,
                          bool renormalize, GeluMode gelu) {
  QBlock b;
  b.norm1 = norm(n + ".norm1", d);
  b.q = linear(n + ".q", d, d);
  b.k = linear(n + ".k", d, d);
  b.v = linear(n + ".v", d, d);
  b.q_out = read_act(bj.at("q_out"), n + ".q_out");
  b.k_out = read_act(bj.at("k_out"), n + ".k_out");
  b.v_out = read_act(bj.at("v_out"), n + ".v_out");
  check_model(b.q_out.bits == 8 && b.k_out.bits == 8 && b.v_out.bits == 8, n + ": q/k/v outputs must be 8-bit");
  check_model(b.q.out_zero_point == b.q_out.zero_point && b.k.out_zero_point == b.k_out.zero_point &&
                  b.v.out_zero_point == b.v_out.zero_point, n + ": q/k/v zero-points disagree");
  b.scores_scale = bj.scale("scores_scale", n);
  b.probs = read_act(bj.at("probs"), n + ".probs");
  check_model((b.probs.bits == 16) == (attn_bits == 16) && b.probs.zero_point == 0, n + ": probs disagree with attn_bits");
  b.attn_out = read_act(bj.at("attn_out"), n + ".attn_out");
  check_model(b.attn_out.bits == 8, n + ".attn_out must be 8-bit (attn@v requantizes to uint8)");
  b.attn_out_multiplier = static_cast<int32_t>(bj.integer("attn_out_multiplier", 1 << 30, kI32Max, n));
  b.attn_out_shift = static_cast<int32_t>(bj.integer("attn_out_shift", -31, 31, n));
  b.proj = linear(n + ".proj", d, d);
  b.norm2 = norm(n + ".norm2", d);
  b.fc1 = linear(n + ".fc1", d, hidden);
  b.gelu_in = read_act(bj.at("gelu_in"), n + ".gelu_in");
  b.gelu_out = read_act(bj.at("gelu_out"), n + ".gelu_out");
  check_model(b.gelu_in.bits == b.gelu_out.bits, n + ": GELU input and output must have the same width");
  b.fc2 = linear(n + ".fc2", hidden, d);
  // The chain must be type-consistent: each layer reads what the previous one writes.
  check_model(b.q.input.bits == 8 && b.q.out_type == GemmOut::kU8 && b.k.out_type == GemmOut::kU8 && b.v.out_type == GemmOut::kU8,
              n + ": q/k/v must be u8");
  check_reads(b.q, b.norm1.out, n + ".q");
  check_reads(b.k, b.norm1.out, n + ".k");
  check_reads(b.v, b.norm1.out, n + ".v");
  check_reads(b.proj, b.attn_out, n + ".proj");
  check_reads(b.fc1, b.norm2.out, n + ".fc1");
  check_reads(b.fc2, b.gelu_out, n + ".fc2");
  check_model(b.proj.accumulate && b.fc2.accumulate, n + ": proj/fc2 must accumulate into the residual");
  check_model(b.fc1.out_type == b.gelu_in.gemm_out() && b.fc1.out_zero_point == b.gelu_in.zero_point,
              n + ": fc1 must write what the GELU reads (gelu_in's width and zero-point)");
  if (!v1) {
    b.softmax = read_softmax_params(file, bj, n, softmax, attn_bits, renormalize);
    b.gelu = read_gelu_params(file, bj, n, gelu, b.gelu_in, b.gelu_out);
  }
  return b;
}

// Checks the metadata; returns whether the file is version 1 (only if allow_v1).
bool check_int_model_header(const SafeTensorsFile& file, bool allow_v1) {
  const auto& meta = file.metadata();
  auto it = meta.find("intvit.format");
  if (it == meta.end() || it->second != "int-vit") {
    throw Error(ErrorCode::kCorruptFile, file.source() + " is not an intvit integer model (no intvit.format)");
  }
  auto ver = meta.find("intvit.version");
  check_model(ver != meta.end(), "missing intvit.version");
  if (ver->second == "1") {
    if (allow_v1) return true;
    throw Error(ErrorCode::kUnsupported,
                "integer model format version 1 is no longer read (it rebuilt its softmax/GELU/LayerNorm tables "
                "in floating point at load): rewrite it as version " + std::to_string(kIntModelFormatVersion) +
                    " with `intvit upgrade OLD_DIR -o NEW_DIR`, or re-run `intvit quantize`");
  }
  if (ver->second != std::to_string(kIntModelFormatVersion)) {
    throw Error(ErrorCode::kUnsupported, "integer model format version " + ver->second + " is not supported (this build reads " +
                                             std::to_string(kIntModelFormatVersion) + ")");
  }
  return false;
}

GraphJson read_int_model_graph(const SafeTensorsFile& file) {
  const auto& meta = file.metadata();
  auto graph_it = meta.find("intvit.graph");
  check_model(graph_it != meta.end(), "missing intvit.graph");
  return GraphJson::parse(graph_it->second);
}

bool is_int_swin_model(const SafeTensorsFile& file) {
  check_int_model_header(file, /*allow_v1=*/true);
  const GraphJson g = read_int_model_graph(file);
  if (!g.contains("architecture")) return false;  // files written before Swin: ViT
  const std::string arch = g.string("architecture");
  check_model(arch == "vit" || arch == "swin", "unknown architecture '" + arch + "' (vit|swin)");
  return arch == "swin";
}

void read_attention_modes(const GraphJson& g, SoftmaxMode& softmax, GeluMode& gelu, int& attn_bits, bool& log2_renormalize) {
  softmax = parse_softmax_mode(g.string("softmax"));
  gelu = parse_gelu_mode(g.string("gelu"));
  attn_bits = static_cast<int>(g.integer("attn_bits", 4, 16, "graph"));
  check_model(attn_bits == 8 || (attn_bits == 4 && softmax == SoftmaxMode::kLog2) ||
                  (attn_bits == 16 && softmax != SoftmaxMode::kLog2),
              "attn_bits");
  // Absent in files written before Eq. 24 existed: those models ran without it.
  log2_renormalize = g.boolean_or("log2_renormalize", false);
  check_model(!log2_renormalize || softmax == SoftmaxMode::kLog2, "log2_renormalize needs softmax log2");
}

namespace {

IntViT parse(const SafeTensorsFile& file, bool allow_v1, bool* was_v1) {
  const bool v1 = check_int_model_header(file, allow_v1);
  if (was_v1) *was_v1 = v1;
  if (is_int_swin_model(file)) {
    throw Error(ErrorCode::kUnsupported, file.source() + " is an integer Swin model; this reads integer ViT / DeiT models only");
  }
  const GraphJson g = read_int_model_graph(file);
  IntViT m;
  m.config = g.config("config");
  read_attention_modes(g, m.softmax_mode, m.gelu_mode, m.attn_bits, m.log2_renormalize);
  m.residual_scale = g.scale("residual_scale", "graph");
  m.logit_scale = g.scale("logit_scale", "graph");
  if (g.contains("labels")) m.labels = g.strings("labels");
  const GraphJson desc = g.at("tensors");
  ModelReader r{file, desc, v1};
  const ViTConfig& c = m.config;
  const int d = c.embed_dim, hidden = c.mlp_hidden(), p = c.patch_size;
  m.patch_embed = r.linear("patch_embed", 3 * p * p, d);
  m.embed_init = read_model_tensor<int32_t>(file, "embed_init", {c.num_tokens(), d});
  const GraphJson blocks = g.at("blocks");
  check_model(blocks.is_array() && blocks.size() == static_cast<size_t>(c.depth), "blocks must have depth entries");
  for (int i = 0; i < c.depth; ++i) {
    const std::string n = "blocks." + std::to_string(i);
    const GraphJson bj = blocks.at(static_cast<size_t>(i));
    m.blocks.push_back(r.block(bj, n, d, hidden, m.softmax_mode, m.attn_bits, m.log2_renormalize, m.gelu_mode));
  }
  m.norm = r.norm("norm", d);
  m.head = r.linear("head", d, c.num_classes);
  check_model(m.patch_embed.accumulate && m.head.out_type == GemmOut::kS32 && !m.head.accumulate,
              "patch_embed must accumulate; head must write s32 logits without accumulating");
  check_model(m.patch_embed.input.bits == 8 && m.patch_embed.input.zero_point == 0,
              "patch_embed must read the raw pixels (8-bit, zero-point 0)");
  check_reads(m.head, m.norm.out, "head");
  if (c.distillation_token) {  // DeiT-distilled: head_dist on token 1, averaged with head (Eq. 41)
    m.head_dist = r.linear("head_dist", d, c.num_classes);
    check_reads(m.head_dist, m.norm.out, "head_dist");
    check_model(m.head_dist.out_type == GemmOut::kS32 && !m.head_dist.accumulate,
                "head_dist must write s32 logits without accumulating");
  } else {
    check_model(!desc.contains("head_dist") && file.find("head_dist.weight") == nullptr,
                "head_dist is stored but the config has no distillation token");
  }
  m.labels = complete_labels(std::move(m.labels), c.num_classes);
  return m;
}

}  // namespace

IntViT read_int_model(const SafeTensorsFile& file, bool allow_v1, bool* was_v1) {
  try {
    return parse(file, allow_v1, was_v1);
  } catch (const Error& e) {
    // A bad mode name or tensor dtype inside a model file is a corrupt model.
    if (e.code() == ErrorCode::kInvalidArgument) corrupt_model(e.what());
    throw;
  }
}

IntViT load_int_model(const std::filesystem::path& path) {
  const std::filesystem::path file = std::filesystem::is_directory(path) ? path / kIntModelFileName : path;
  return read_int_model(SafeTensorsFile::open(file));
}

IntViT load_int_model_from_buffer(const void* data, size_t size) {
  return read_int_model(SafeTensorsFile::from_buffer(data, size));
}

}  // namespace intvit
