// Writing the integer model file, format version 2 (weights/FORMAT.md): every kernel parameter as
// an integer, including the LayerNorm / softmax / GELU tables and multipliers the quantizer built.
// Offline (the description scales are written as JSON numbers).
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/error.h"
#include "models/safetensors_writer.h"
#include "weights/int_model_file.h"
#include "weights/int_model_writer.h"

namespace intvit {
namespace {

using nlohmann::json;

const char* gemm_out_name(GemmOut t) { return t == GemmOut::kU8 ? "u8" : t == GemmOut::kS16 ? "s16" : "s32"; }

json softmax_json(SafeTensorsWriter& st, const std::string& block, const SoftmaxParams& s) {
  if (s.mode == SoftmaxMode::kLut) {
    st.add<int32_t>(block + ".softmax_exp_table", {256}, std::span<const int32_t>(s.exp_table, 256));
  }
  return {{"in_multiplier", s.in_multiplier}, {"in_shift", s.in_shift}, {"poly_b", s.poly_b},
          {"poly_c", s.poly_c}, {"max_code", s.max_code}};
}

json gelu_json(SafeTensorsWriter& st, const std::string& block, const GeluParams& g) {
  if (g.mode == GeluMode::kLut) st.add<int16_t>(block + ".gelu_table", {static_cast<int64_t>(g.table.size())}, g.table);
  return {{"pre_multiplier", g.pre_multiplier}, {"pre_shift", g.pre_shift}, {"erf_clip", g.erf_clip},
          {"out_multiplier", g.out_multiplier}, {"out_shift", g.out_shift}};
}

}  // namespace

json act_to_json(const ActQuant& a) { return {{"scale", a.scale}, {"zero_point", a.zero_point}, {"bits", a.bits}}; }

void ModelWriter::linear(const std::string& p, const QLinear& l) {
  st.add<int8_t>(p + ".weight", {l.out, l.in}, l.weight);
  st.add<int32_t>(p + ".bias", {l.out}, l.bias);
  st.add<int32_t>(p + ".multiplier", {l.out}, l.multiplier);
  st.add<int32_t>(p + ".shift", {l.out}, l.shift);
  desc[p] = {{"in", l.in}, {"out", l.out}, {"input", act_to_json(l.input)}, {"out_type", gemm_out_name(l.out_type)},
             {"out_zero_point", l.out_zero_point}, {"out_min", l.out_min}, {"out_max", l.out_max},
             {"accumulate", l.accumulate}};
}

// QUANTIZATION.md Eq. 34-39 parameters; the rest of LayerNormParams follows from `out`.
void ModelWriter::norm(const std::string& p, const QLayerNorm& n) {
  const LayerNormParams& lp = n.params;
  if (lp.uint8_input || lp.channels != lp.gamma_multiplier.size()) {
    throw Error(ErrorCode::kInvalidArgument, p + ": only built int32-input LayerNorms can be saved");
  }
  const auto c = static_cast<int64_t>(lp.channels);
  st.add<int32_t>(p + ".gamma_multiplier", {c}, lp.gamma_multiplier);
  st.add<uint8_t>(p + ".out_shift", {c}, lp.out_shift);
  st.add<int64_t>(p + ".beta_bias", {c}, lp.beta_bias);
  desc[p] = {{"out", act_to_json(n.out)},
             {"eps_mantissa", lp.eps_mantissa},
             {"eps_exponent", lp.eps_exponent},
             {"max_pre_shift", lp.max_pre_shift}};
}

json ModelWriter::block(const std::string& n, const QBlock& b) {
  norm(n + ".norm1", b.norm1);
  linear(n + ".q", b.q);
  linear(n + ".k", b.k);
  linear(n + ".v", b.v);
  linear(n + ".proj", b.proj);
  norm(n + ".norm2", b.norm2);
  linear(n + ".fc1", b.fc1);
  linear(n + ".fc2", b.fc2);
  return {{"q_out", act_to_json(b.q_out)}, {"k_out", act_to_json(b.k_out)}, {"v_out", act_to_json(b.v_out)},
          {"scores_scale", b.scores_scale}, {"probs", act_to_json(b.probs)}, {"attn_out", act_to_json(b.attn_out)},
          {"attn_out_multiplier", b.attn_out_multiplier}, {"attn_out_shift", b.attn_out_shift},
          {"gelu_in", act_to_json(b.gelu_in)}, {"gelu_out", act_to_json(b.gelu_out)},
          {"softmax_params", softmax_json(st, n, b.softmax)}, {"gelu_params", gelu_json(st, n, b.gelu)}};
}

void ModelWriter::save(const json& graph, const std::vector<std::string>& labels, const json& config, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  st.set_metadata("intvit.format", "int-vit");
  st.set_metadata("intvit.version", std::to_string(kIntModelFormatVersion));
  st.set_metadata("intvit.graph", graph.dump());
  st.write(dir / kIntModelFileName);
  std::ofstream label_file(dir / "labels.txt");
  for (const std::string& l : labels) label_file << l << "\n";
  std::ofstream cfg(dir / "config.json");
  cfg << config.dump(2) << "\n";
  if (!label_file || !cfg) throw Error(ErrorCode::kIo, "cannot write labels/config into " + dir.string());
}

void save_int_model(const IntViT& m, const std::filesystem::path& dir) {
  ModelWriter w;
  w.linear("patch_embed", m.patch_embed);
  w.st.add<int32_t>("embed_init", {m.config.num_tokens(), m.config.embed_dim}, m.embed_init);
  json blocks = json::array();
  for (size_t i = 0; i < m.blocks.size(); ++i) blocks.push_back(w.block("blocks." + std::to_string(i), m.blocks[i]));
  w.norm("norm", m.norm);
  w.linear("head", m.head);
  if (m.config.distillation_token) w.linear("head_dist", m.head_dist);
  const json graph = {{"config", vit_config_to_json(m.config)},
                      {"softmax", softmax_mode_name(m.softmax_mode)},
                      {"gelu", gelu_mode_name(m.gelu_mode)},
                      {"attn_bits", m.attn_bits},
                      {"log2_renormalize", m.log2_renormalize},
                      {"residual_scale", m.residual_scale},
                      {"logit_scale", m.logit_scale},
                      {"labels", m.labels},
                      {"blocks", blocks},
                      {"tensors", w.desc}};
  w.save(graph, m.labels, vit_config_to_json(m.config), dir);
}

}  // namespace intvit
